"""Refuse to read a schema that the server shows only in part.

A missing *read* privilege raises no error: the server just shows less.
Without SELECT on the schema its tables have no columns; without SHOW VIEW a
view's text is empty; without TRIGGER or EVENT its triggers and events are not
listed; without SELECT on ``mysql.proc`` (MariaDB, MySQL 5.7; MySQL 8.0.20+:
SHOW_ROUTINE) its routines are not listed, or listed without their bodies.
myshift would then plan against a schema that is not there (a wrong plan with
exit 0, drift that is not there, "drifted" on apply).  ``check`` raises a
``PrivilegeError`` instead, naming the privilege, the object and the GRANT.

Two sources, read in one round trip beside what introspection already has:

* Signs in the rows read: a base table without columns (a table has at least
  one; confirmed with ``SELECT 1 FROM t LIMIT 0`` whose refusal is the proof,
  so an unreadable table for another reason is left to the self-check), a
  view without its text, a routine without its body.
* What the server says about the current account's rights (``_GRANTS``):
  information_schema's USER_/SCHEMA_/TABLE_PRIVILEGES for ``CURRENT_USER()``
  and PUBLIC.  They do not show a role's privileges (MariaDB 10.11: not even
  with the role enabled), so when a role is active each "missing" is confirmed
  by a probe that fails without the privilege (``SHOW EVENTS FROM db``: 1044;
  ``SELECT ... FROM mysql.proc LIMIT 0``: 1142); TRIGGER has no such probe and
  is then trusted.

Routines: without SELECT on ``mysql.proc`` a user still sees every routine of a
schema on which it holds CREATE ROUTINE, ALTER ROUTINE or EXECUTE (their bodies
only if it is their definer), and nothing otherwise.  So with such a grant the
bodies are the sign (a sandbox or workspace whose routines the user created
needs no ``mysql.proc``), without one the privilege itself is required.

The MySQL branches (SHOW_ROUTINE, roles shown as 'NONE') are written from the
MySQL 8.0 manual and not run against a MySQL server here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from myshift.db import privileges
from myshift.engine import ddl
from myshift.engine.introspect.rows import _TABLE_TYPES, CompactRows, IntrospectionRows
from myshift.errors import PrivilegeError

if TYPE_CHECKING:
    from myshift.db.connect import Conn
    from myshift.model.flavor import Flavor

# CURRENT_USER() (u@h) as information_schema's GRANTEE spells it ('u'@'h').
_ME = (
    "CONCAT('''', SUBSTRING(CURRENT_USER(), 1, CHAR_LENGTH(CURRENT_USER()) - "
    "CHAR_LENGTH(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)) - 1), '''@''', "
    "SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')"
)
_WHO = f"GRANTEE IN ({_ME}, 'PUBLIC')"
_READ = "('SELECT', 'SHOW VIEW', 'TRIGGER', 'EVENT', 'CREATE ROUTINE', 'ALTER ROUTINE', 'EXECUTE')"

# One query: (kind, name, privilege) rows.  'me': the account and its active
# role; 'g': global; 's': on the schema (a GRANT's schema is a LIKE pattern);
# 'm': on the `mysql` schema; 't': on a table of the schema, or mysql.proc.
_GRANTS = f"""
    SELECT 'me' AS k, CURRENT_USER() AS n, {{role}} AS p
    UNION ALL SELECT 'g', '', PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES
      WHERE {_WHO} AND PRIVILEGE_TYPE IN {_READ[:-1]}, 'SHOW_ROUTINE')
    UNION ALL SELECT 's', '', PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES
      WHERE {_WHO} AND %s LIKE TABLE_SCHEMA AND PRIVILEGE_TYPE IN {_READ}
    UNION ALL SELECT 'm', '', PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES
      WHERE {_WHO} AND 'mysql' LIKE TABLE_SCHEMA AND PRIVILEGE_TYPE = 'SELECT'
    UNION ALL SELECT 't', CONCAT(TABLE_SCHEMA, '.', TABLE_NAME), PRIVILEGE_TYPE
      FROM information_schema.TABLE_PRIVILEGES
      WHERE {_WHO} AND ((TABLE_SCHEMA = %s AND PRIVILEGE_TYPE = 'TRIGGER')
        OR (TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'proc' AND PRIVILEGE_TYPE = 'SELECT'))"""

# Probes, for an account with an active role: each fails without the privilege.
_PROBE_EVENTS = "SHOW EVENTS FROM {db}"
_PROBE_PROC = "SELECT 1 FROM mysql.proc LIMIT 0"
_PROBE_TABLE = "SELECT 1 FROM {db}.{table} LIMIT 0"


@dataclass
class _Rights:
    """What information_schema says the account may do (roles excluded)."""

    who: str = "''@''"
    role: bool = False  # a role is active: its privileges are not in the rows below
    on_global: set[str] = field(default_factory=set)
    on_schema: set[str] = field(default_factory=set)
    on_mysql: set[str] = field(default_factory=set)
    on_tables: dict[str, set[str]] = field(default_factory=dict)  # "db.t" -> privileges

    def has(self, priv: str) -> bool:
        return priv in self.on_global or priv in self.on_schema


def _role_expr(flavor: Flavor) -> str:
    if flavor.is_mariadb:
        return "CURRENT_ROLE()"  # NULL when none
    return "CURRENT_ROLE()" if flavor.min(8) else "NULL"  # MySQL: 'NONE' when none


def _rights(conn: Conn, schema: str) -> _Rights:
    r = _Rights()
    for kind, name, priv in conn.query(
        _GRANTS.format(role=_role_expr(conn.flavor)), (schema, schema)
    ):
        if kind == "me":
            r.who = privileges.account_of(str(name))
            r.role = priv is not None and str(priv) not in ("", "NONE")
        elif kind == "g":
            r.on_global.add(str(priv))
        elif kind == "s":
            r.on_schema.add(str(priv))
        elif kind == "m":
            r.on_mysql.add(str(priv))
        else:
            r.on_tables.setdefault(str(name), set()).add(str(priv))
    return r


def _refused(conn: Conn, sql: str) -> bool:
    """Whether the server refuses ``sql`` for lack of a privilege."""
    from myshift.db.connect import DriverError

    try:
        conn.query(sql)
    except DriverError as exc:
        return bool(exc.args) and exc.args[0] in privileges.PRIVILEGE_CODES
    return False


def check(conn: Conn, schema: str, rows: IntrospectionRows) -> None:
    """Raise ``PrivilegeError`` if the account cannot see all of ``schema`` (see module doc)."""
    rights = _rights(conn, schema)
    for find in (
        _columns_hidden,
        _views_hidden,
        _triggers_hidden,
        _events_hidden,
        _routines_hidden,
    ):
        err = find(conn, schema, rows, rights)
        if err is not None:
            raise err


def _schema_label(schema: str) -> str:
    return privileges.schema_label(schema)


def _columns_hidden(
    conn: Conn, schema: str, rows: IntrospectionRows, rights: _Rights
) -> PrivilegeError | None:
    """SELECT: a base table read without a single column (borrowed ones were not read)."""
    borrowed = set(rows.borrowed)
    tables = [
        str(t["name"])
        for t in rows.tables
        if t.get("type") in _TABLE_TYPES and t["name"] not in borrowed
    ]
    if not tables:
        return None
    cols = rows.columns
    if isinstance(cols, CompactRows):
        i = cols.names.index("table_name")
        seen = {t[i] for t in cols.tuples}
    else:
        seen = {c["table_name"] for c in cols}
    bare = [t for t in tables if t not in seen]
    if not bare:
        return None
    probe = _PROBE_TABLE.format(db=ddl.quote(schema), table=ddl.quote(bare[0]))
    if not _refused(conn, probe):
        return None  # unreadable for another reason: the self-check reports it
    more = f" (and {len(bare) - 1} more)" if len(bare) > 1 else ""
    return privileges.hidden(
        rights.who,
        "SELECT",
        privileges.grant_on_schema(schema),
        f"the columns of its table `{bare[0]}`{more} are hidden",
        _schema_label(schema),
    )


def _views_hidden(
    conn: Conn, schema: str, rows: IntrospectionRows, rights: _Rights
) -> PrivilegeError | None:
    """SHOW VIEW and SELECT: a view's text is empty without both (unless the account defined it)."""
    bare = sorted(str(v["name"]) for v in rows.views if not (v.get("definition") or "").strip())
    if not bare:
        return None
    more = f" (and {len(bare) - 1} more)" if len(bare) > 1 else ""
    lacking = [p for p in ("SELECT", "SHOW VIEW") if not rights.has(p)]
    return privileges.hidden(
        rights.who,
        ", ".join(lacking if lacking and not rights.role else ["SELECT", "SHOW VIEW"]),
        privileges.grant_on_schema(schema),
        f"the text of its view `{bare[0]}`{more} is hidden",
        _schema_label(schema),
    )


def _triggers_hidden(
    conn: Conn, schema: str, rows: IntrospectionRows, rights: _Rights
) -> PrivilegeError | None:
    """TRIGGER: a table's triggers are listed only with TRIGGER on it."""
    if rights.has("TRIGGER") or rights.role:
        return None
    tables = sorted(str(t["name"]) for t in rows.tables if t.get("type") in _TABLE_TYPES)
    bare = [t for t in tables if "TRIGGER" not in rights.on_tables.get(f"{schema}.{t}", ())]
    if not bare:
        return None  # no table, no trigger (or TRIGGER on every table)
    return privileges.hidden(
        rights.who,
        "TRIGGER",
        privileges.grant_on_schema(schema),
        f"the triggers of its tables (`{bare[0]}`...) are not listed",
        _schema_label(schema),
    )


def _events_hidden(
    conn: Conn, schema: str, rows: IntrospectionRows, rights: _Rights
) -> PrivilegeError | None:
    """EVENT: the schema's events are listed only with EVENT on it."""
    if rights.has("EVENT"):
        return None
    if rights.role and not _refused(conn, _PROBE_EVENTS.format(db=ddl.quote(schema))):
        return None
    return privileges.hidden(
        rights.who,
        "EVENT",
        privileges.grant_on_schema(schema),
        "its events are not listed",
        _schema_label(schema),
    )


def _routines_hidden(
    conn: Conn, schema: str, rows: IntrospectionRows, rights: _Rights
) -> PrivilegeError | None:
    """Routine bodies need ``mysql.proc`` (SHOW_ROUTINE) unless the account defined them."""
    flavor = conn.flavor
    if flavor.is_mariadb or not flavor.min(8):
        priv, on, label = "SELECT", "`mysql`.`proc`", "`mysql`.`proc`"
        full = (
            "SELECT" in rights.on_global
            or "SELECT" in rights.on_mysql
            or "SELECT" in rights.on_tables.get("mysql.proc", ())
        )
        probe = _PROBE_PROC
    else:
        # MySQL 8.0.20+: SHOW_ROUTINE; before it, only a global SELECT shows every body.
        priv = "SHOW_ROUTINE" if flavor.min(8, 0, 20) else "SELECT"
        on, label = "*.*", "*.* (a global privilege)"
        full = "SELECT" in rights.on_global or "SHOW_ROUTINE" in rights.on_global
        probe = ""
    if full:
        return None
    bodiless = sorted(
        f"{r['kind'].lower()} `{r['name']}`" for r in rows.routines if r.get("body") is None
    )
    listed = any(rights.has(p) for p in ("CREATE ROUTINE", "ALTER ROUTINE", "EXECUTE"))
    if not bodiless and listed:
        return None  # every routine is listed, and the account defined them all
    if not bodiless and rights.role and not (probe and _refused(conn, probe)):
        return None  # a role may grant it: refuse only on the server's word
    what = (
        f"the body of {bodiless[0]} is hidden"
        if bodiless
        else f"the routines of {_schema_label(schema)} are not listed"
    )
    return privileges.hidden(rights.who, priv, on, what, label)


def global_privileges(conn: Conn) -> set[str] | None:
    """The account's global privileges as information_schema lists them (and PUBLIC's).

    ``None`` when a role is active: a role's privileges are not listed, so
    what is missing cannot be told from these rows (the caller then probes).
    """
    role = conn.scalar(f"SELECT {_role_expr(conn.flavor)}")
    if role is not None and str(role) not in ("", "NONE"):
        return None
    rows = conn.query(f"SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE {_WHO}")
    return {str(r[0]) for r in rows}
