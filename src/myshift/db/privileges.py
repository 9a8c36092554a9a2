"""A privilege the server refused, as one sentence naming it and the GRANT that fixes it.

Wherever a missing privilege surfaces -- at connect time, while loading desired
SQL into a workspace, while verifying a plan, during apply, writing history --
the server's error is turned here into a ``PrivilegeError``: who lacks which
privilege on which object, and the ``GRANT`` statement an administrator can
paste.  ``explain`` finds such an error anywhere in an exception's chain, so a
workflow that wrapped it into its own error (a load error, a verification
failure, a failed apply) is still reported as the missing privilege it is,
never as bad SQL or a myshift bug.

The server's message is the only source (it names the privilege and the
object); a note ``account: 'u'@'h'`` attached by ``note_account`` supplies
the account as ``CURRENT_USER()`` spells it, since some messages give the
client's host rather than the account's host pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from myshift.errors import ApplyFailed, ConnectionFailed, MyshiftError, PrivilegeError

# Error codes that mean "you may not": the privilege family of server errors.
ER_DBACCESS_DENIED = 1044
ER_ACCESS_DENIED = 1045
ER_TABLEACCESS_DENIED = 1142
ER_COLUMNACCESS_DENIED = 1143
ER_PASSWORD_NOT_ALLOWED = 1211
ER_SPECIFIC_ACCESS_DENIED = 1227
ER_OPTION_PREVENTS_STATEMENT = 1290
ER_PROCACCESS_DENIED = 1370
ER_CANT_CREATE_USER_WITH_GRANT = 1410
ER_BINLOG_CREATE_ROUTINE_NEED_SUPER = 1419
ER_ACCESS_DENIED_NO_PASSWORD = 1698
ER_KILL_DENIED = 1095
PRIVILEGE_CODES = frozenset(
    {
        ER_DBACCESS_DENIED,
        ER_TABLEACCESS_DENIED,
        ER_COLUMNACCESS_DENIED,
        ER_PASSWORD_NOT_ALLOWED,
        ER_SPECIFIC_ACCESS_DENIED,
        ER_OPTION_PREVENTS_STATEMENT,
        ER_PROCACCESS_DENIED,
        ER_CANT_CREATE_USER_WITH_GRANT,
        ER_BINLOG_CREATE_ROUTINE_NEED_SUPER,
        ER_KILL_DENIED,
    }
)
LOGIN_CODES = frozenset({ER_ACCESS_DENIED, ER_ACCESS_DENIED_NO_PASSWORD})

WORKSPACE_PREFIX = "_myshift_ws_"  # engine.workspace.WS_PREFIX (db/ must not import engine/)
SEE_README = "The README's 'Privileges' lists what each myshift command needs."

_ACCOUNT = r"'(?P<user>[^']*)'@'(?P<host>[^']*)'"
_NAME = r"[`'](?P<obj>.+?)[`']"
_TABLE_DENIED = re.compile(
    rf"^(?P<priv>[A-Za-z ]+?) command denied to user {_ACCOUNT} "
    rf"for (?:column '(?P<col>[^']*)' in )?table {_NAME}$"
)
_ROUTINE_DENIED = re.compile(
    rf"^(?P<priv>[A-Za-z ]+?) command denied to user {_ACCOUNT} for routine {_NAME}$"
)
_DB_DENIED = re.compile(rf"^Access denied for user {_ACCOUNT} to database '(?P<db>[^']*)'$")
_NEED_PRIVS = re.compile(r"you need \(at least one of\) the (?P<privs>.+?) privilege")
_ACCOUNT_NOTE = re.compile(r"^account: (?P<account>'[^']*'@'[^']*')$")
_STATEMENT_NOTE = re.compile(r"^statement: (?P<sql>.*)$", re.DOTALL)


@dataclass(frozen=True)
class _Denied:
    code: int
    message: str
    account: str | None  # "'u'@'h'" as CURRENT_USER() spells it, when noted
    statement: str | None


# user name -> its account as CURRENT_USER() spells it ('u'@'%'), learnt per process.
_ACCOUNTS: dict[str, str] = {}


def remember_account(current_user: str) -> None:
    """Record ``CURRENT_USER()`` (``u@h``): a 1142 names the client's host, not the account's."""
    user, _, host = current_user.rpartition("@")
    if user:
        _ACCOUNTS[user] = _quote_account(user, host)


def _account(user: str, host: str) -> str:
    return _ACCOUNTS.get(user) or _quote_account(user, host)


def _quote_account(user: str, host: str) -> str:
    return f"'{user}'@'{host}'"


def _grant_schema(db: str) -> str:
    """The ``ON`` target for a schema, with ``_``/``%`` escaped (they are wildcards in GRANT)."""
    if db.startswith(WORKSPACE_PREFIX):
        return "`\\_myshift\\_ws\\_%`.*"
    escaped = db.replace("`", "``").replace("_", "\\_").replace("%", "\\%")
    return f"`{escaped}`.*"


def _split_object(obj: str, default_schema: str) -> tuple[str, str]:
    """``db`.`t`` (MariaDB), ``db.t`` (routines) or ``t`` (MySQL) -> (schema, name)."""
    if "`.`" in obj:
        db, _, name = obj.partition("`.`")
        return db, name
    if "." in obj:
        db, _, name = obj.partition(".")
        return db, name
    return default_schema, obj


def _schema_label(db: str) -> str:
    if db.startswith(WORKSPACE_PREFIX):
        return "the temporary workspace schemas `_myshift_ws_*` (where desired SQL is loaded)"
    return f"schema `{db}`"


def _workspace_hint(db: str) -> str:
    if db.startswith(WORKSPACE_PREFIX):
        return " Or use --workspace local (a throwaway local server) for plan and drift."
    return ""


def from_driver_error(
    exc: BaseException, user: str = "", schema: str = ""
) -> PrivilegeError | None:
    """A ``PrivilegeError`` for a driver error of the privilege family, else None.

    ``user``/``schema``: the endpoint's, used when the message does not name them.
    """
    args: tuple[object, ...] = tuple(getattr(exc, "args", ()))
    code = args[0] if args and isinstance(args[0], int) else 0
    if code not in PRIVILEGE_CODES:
        return None
    message = str(args[1]) if len(args) > 1 else str(exc)
    account: str | None = None
    statement: str | None = None
    for note in getattr(exc, "__notes__", ()):
        if m := _ACCOUNT_NOTE.match(note):
            account = m["account"]
        elif m := _STATEMENT_NOTE.match(note):
            statement = m["sql"]
    return _describe(_Denied(code, message.rstrip("."), account, statement), user, schema)


def _describe(d: _Denied, user: str, schema: str) -> PrivilegeError:
    # Without a better source, the common pattern '%' (the GRANT fails harmlessly if wrong).
    fallback = d.account or _ACCOUNTS.get(user) or _quote_account(user or "<user>", "%")
    if d.code in (ER_TABLEACCESS_DENIED, ER_COLUMNACCESS_DENIED) and (
        m := _TABLE_DENIED.match(d.message)
    ):
        return _on_object(m["priv"], m["obj"], m["col"], d, m["user"], m["host"], schema)
    if d.code == ER_PROCACCESS_DENIED and (m := _ROUTINE_DENIED.match(d.message)):
        db, name = _split_object(m["obj"], schema)
        who = d.account or _account(m["user"], m["host"])
        priv = m["priv"].upper()
        grant = f"GRANT {priv} ON {_grant_schema(db)} TO {who};"
        return PrivilegeError(
            f"User {who} lacks the {priv} privilege on routine `{db}`.`{name}`.",
            f"Grant it: {grant} {SEE_README}",
            privilege=priv,
            grant=grant,
        )
    if d.code == ER_DBACCESS_DENIED and (m := _DB_DENIED.match(d.message)):
        return _on_schema(m["db"], d, d.account or _account(m["user"], m["host"]))
    if d.code == ER_SPECIFIC_ACCESS_DENIED and (m := _NEED_PRIVS.search(d.message)):
        return _global(m["privs"], d, fallback)
    if d.code == ER_BINLOG_CREATE_ROUTINE_NEED_SUPER:
        return PrivilegeError(
            "Creating a stored function or trigger on a server with binary logging on needs "
            f"the SUPER privilege (which {fallback} lacks) or log_bin_trust_function_creators = 1.",
            "Have an administrator run SET GLOBAL log_bin_trust_function_creators = 1 (and set "
            "it in the server's configuration; on Amazon RDS or Aurora, which allow neither "
            "SUPER nor SET GLOBAL, set log_bin_trust_function_creators = 1 in the instance's "
            "DB parameter group, which applies without a reboot), or use --workspace local "
            "for plan and drift. " + SEE_README,
            privilege="SUPER",
        )
    if d.code == ER_OPTION_PREVENTS_STATEMENT:
        return PrivilegeError(
            f"The server refused the statement: {d.message}.",
            "Run against a writable primary, or have an administrator lift the option "
            "(a read-only server accepts writes only from users with READ_ONLY ADMIN or SUPER).",
            privilege="READ_ONLY ADMIN",
        )
    return PrivilegeError(
        f"User {fallback} lacks a privilege: {d.message}.",
        f"Grant the privilege the server names. {SEE_README}",
    )


def _on_object(
    priv: str, obj: str, col: str | None, d: _Denied, user: str, host: str, schema: str
) -> PrivilegeError:
    """1142/1143: ``PRIV command denied ... for table `db`.`t```."""
    db, name = _split_object(obj, schema)
    who = d.account or _account(user, host)
    priv = priv.upper()
    if priv == "ANY":
        # A view's SELECT needs some privilege on every column it reads.
        priv = "SELECT"
        what = f"the SELECT privilege (needed to read it, e.g. from a view) on `{name}`"
    else:
        what = f"the {priv} privilege on `{name}`"
    if col:
        what += f" (column `{col}`)"
    where = _schema_label(db) if db else ""
    grant = f"GRANT {priv} ON {_grant_schema(db)} TO {who};" if db else ""
    fix = f"Grant it: {grant}" if grant else f"Grant {priv} on that schema to {who}."
    return PrivilegeError(
        f"User {who} lacks {what}" + (f" in {where}." if where else "."),
        f"{fix}{_workspace_hint(db)} {SEE_README}",
        privilege=priv,
        grant=grant,
    )


# What a 1044 ("access denied to database") was about, from the statement's words.
_SCHEMA_VERBS = (
    (re.compile(r"^\s*CREATE\s+(?:DATABASE|SCHEMA)\b", re.I), "CREATE"),
    (re.compile(r"^\s*DROP\s+(?:DATABASE|SCHEMA)\b", re.I), "DROP"),
    (re.compile(r"^\s*CREATE\b.*?\b(?:FUNCTION|PROCEDURE)\b", re.I | re.S), "CREATE ROUTINE"),
    (re.compile(r"^\s*CREATE\b.*?\bEVENT\b", re.I | re.S), "EVENT"),
)
# The README's grant on the workspace schemas (plan, drift, rollback's verification).
WORKSPACE_PRIVILEGES = (
    "SELECT, CREATE, DROP, ALTER, REFERENCES, CREATE VIEW, TRIGGER, CREATE ROUTINE, "
    "ALTER ROUTINE, EVENT"
)


def _on_schema(db: str, d: _Denied, who: str) -> PrivilegeError:
    """1044: ``Access denied for user ... to database 'db'`` (the server names no privilege)."""
    priv = next((p for rx, p in _SCHEMA_VERBS if rx.match(d.statement or "")), "")
    if priv:
        what = f"the {priv} privilege on {_schema_label(db)}"
    elif db.startswith(WORKSPACE_PREFIX):
        # Loading desired SQL: a routine (CREATE ROUTINE) or an event (EVENT) was refused.
        priv = WORKSPACE_PRIVILEGES
        what = f"a privilege on {_schema_label(db)} (CREATE ROUTINE or EVENT, by the statement)"
    elif d.statement is None:
        priv = "SELECT"
        what = f"any privilege on {_schema_label(db)}"
    else:
        priv = "the privilege the statement needs"
        what = f"a privilege on {_schema_label(db)} for `{d.statement[:60]}`"
    grant = f"GRANT {priv} ON {_grant_schema(db)} TO {who};"
    return PrivilegeError(
        f"User {who} lacks {what}.",
        f"Grant it: {grant}{_workspace_hint(db)} {SEE_README}",
        privilege=priv,
        grant=grant,
    )


def _global(privs: str, d: _Denied, who: str) -> PrivilegeError:
    """1227: ``you need (at least one of) the PROCESS privilege(s)``: a global privilege."""
    # MariaDB lists them with commas, MySQL 8 with " or " ("the SUPER or SET_USER_ID").
    names = [p.strip().upper() for p in re.split(r",| or ", privs) if p.strip()]
    first = names[0] if names else privs.upper()
    needed = (
        f"the {first} privilege" if len(names) <= 1 else f"one of the {', '.join(names)} privileges"
    )
    why, other = "", ""
    if {"SET USER", "SET_USER_ID", "SUPER"} & set(names) and "DEFINER=" in (d.statement or ""):
        why = " (the statement creates an object with a DEFINER= naming another account)"
        other = (
            ' Or, to create objects as the applying user instead, set definer = "current"'
            ' (or "ignore") in myshift.toml (the way on Amazon RDS or Aurora, where SUPER'
            " cannot be granted)."
        )
        # The narrowest privilege that allows it: SET USER (MariaDB 10.5.2+),
        # SET_USER_ID (MySQL 8.0; SYSTEM_USER too for a system account's name).
        first = next((n for n in names if n in ("SET USER", "SET_USER_ID")), first)
    elif "SET USER" in names or "SET_USER_ID" in names:
        why = " (a DEFINER= clause naming another account needs it; dropping the clause avoids it)"
    grant = f"GRANT {first} ON *.* TO {who};"
    return PrivilegeError(
        f"User {who} lacks {needed}, a global privilege{why}.",
        f"Grant it: {grant}{other} {SEE_README}",
        privilege=" or ".join(names) or first,
        grant=grant,
    )


def account_of(current_user: str) -> str:
    """``CURRENT_USER()`` (``u@h``) as a GRANT spells the account: ``'u'@'h'``."""
    user, _, host = current_user.rpartition("@")
    return _quote_account(user, host)


def grant_on_schema(db: str) -> str:
    """The ``ON`` target of a GRANT for schema ``db`` (wildcards escaped)."""
    return _grant_schema(db)


def schema_label(db: str) -> str:
    """How a message names schema ``db`` (the workspaces as one family)."""
    return _schema_label(db)


def hidden(who: str, privilege: str, on: str, what: str, label: str = "") -> PrivilegeError:
    """A read privilege whose absence makes the server show less, not fail.

    ``who``: ``'u'@'h'``; ``on``: the GRANT's ``ON`` target; ``what``: what is
    hidden without it ("the text of view `v`"); ``label``: how to name ``on``
    (by default: the schema, or ``on`` itself).
    """
    grant = f"GRANT {privilege} ON {on} TO {who};"
    where = label or on
    noun = "privileges" if "," in privilege else "privilege"
    return PrivilegeError(
        f"User {who} lacks the {privilege} {noun} on {where}, so {what} "
        "(myshift would see less than there is, and plan or report wrong changes).",
        f"Grant it: {grant} {SEE_README}",
        privilege=privilege,
        grant=grant,
    )


def explain(exc: MyshiftError, user: str = "", schema: str = "") -> MyshiftError:
    """``exc``, or the missing privilege found in its chain of causes.

    A workflow that met a privilege error may have wrapped it (``raise X from
    None`` keeps it as ``__context__``).  The privilege is what the user must
    fix: it replaces the wrapper's message, except for a failed apply, whose
    fix says which statements already ran -- that is kept after the GRANT.  A
    ``ConnectionFailed`` (a ``PrivilegeError``, or a workflow's own message
    naming the grant, as for the workspace or the history schema) is kept.
    """
    if isinstance(exc, ConnectionFailed):  # already says what to grant (or to fix)
        return exc
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        found = from_driver_error(cur, user, schema)
        if found is not None:
            if not isinstance(exc, ApplyFailed):
                return found
            # An apply that stopped half-way must still say which statements ran.
            return ApplyFailed(exc.message, f"{found.message} {found.fix} {exc.fix or ''}".strip())
        cur = cur.__cause__ or cur.__context__
    return exc


# Leading block comments, e.g. the ``/* myshift apply 3, statement 7/8 */`` tag apply puts
# on every statement: the statement's words come after them.
_LEADING_COMMENTS = re.compile(r"\s*(?:/\*(?!M?!).*?\*/\s*)+", re.S)


def note_statement(exc: BaseException, sql: str) -> None:
    """Attach the statement to a driver error (a 1044 does not say what was attempted)."""
    if getattr(exc, "args", ()) and exc.args[0] in PRIVILEGE_CODES:
        m = _LEADING_COMMENTS.match(sql)
        exc.add_note(f"statement: {sql[m.end() if m else 0 :][:300]}")


def note_account(exc: BaseException, account: str) -> None:
    """Attach ``CURRENT_USER()`` (as ``'u'@'h'``) to a privilege error."""
    exc.add_note(f"account: {account}")


__all__ = [
    "LOGIN_CODES",
    "PRIVILEGE_CODES",
    "PrivilegeError",
    "account_of",
    "explain",
    "from_driver_error",
    "grant_on_schema",
    "hidden",
    "note_account",
    "note_statement",
    "schema_label",
]
