"""A schema the server shows only in part is refused, not read (engine/introspect/visibility).

The CLI-level cases (each read grant revoked for plan, drift, apply, history)
are in test_privileges.py; these call ``introspect`` directly, for the cases a
README user does not meet: roles, table-level grants, a sandbox-like account
that defined its own routines and views, a view whose table is gone.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace

import pytest

from conftest import endpoint_of
from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.introspect import introspect
from myshift.errors import PrivilegeError

SQL = """
CREATE TABLE t (id INT PRIMARY KEY);
CREATE VIEW v AS SELECT id FROM t;
CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW SET NEW.id = NEW.id;
CREATE PROCEDURE p() SELECT 1;
CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1;
"""
PASSWORD = "pw-" + secrets.token_hex(6)


@pytest.fixture
def schema(fresh_schema: Endpoint) -> str:
    with connect(fresh_schema, multi=True) as c:
        for _ in c.multi_query(SQL):
            pass
    return fresh_schema.schema


@pytest.fixture
def admin(server: LocalServer) -> Iterator[Conn]:
    with connect(endpoint_of(server)) as c:
        yield c


def _user(admin: Conn, *grants: str) -> str:
    name = f"v_{secrets.token_hex(3)}"
    admin.execute(f"CREATE USER '{name}'@'%%' IDENTIFIED BY %s", (PASSWORD,))
    for g in grants:
        admin.execute(f"GRANT {g} TO '{name}'@'%'")
    return name


def _read(server: LocalServer, user: str, schema: str) -> None:
    ep = replace(endpoint_of(server, schema), user=user, password=PASSWORD)
    with connect(ep) as c:
        introspect(c, schema)


def _refused(server: LocalServer, user: str, schema: str) -> str:
    with pytest.raises(PrivilegeError) as info:
        _read(server, user, schema)
    return str(info.value)


def test_everything_granted_reads(server: LocalServer, admin: Conn, schema: str) -> None:
    q = quote_ident(schema)
    user = _user(admin, f"SELECT, SHOW VIEW, TRIGGER, EVENT ON {q}.*", "SELECT ON mysql.proc")
    _read(server, user, schema)


def test_through_a_default_role_reads(server: LocalServer, admin: Conn, schema: str) -> None:
    """information_schema shows no role's privileges: the probes must not refuse these."""
    q = quote_ident(schema)
    role = f"r_{secrets.token_hex(3)}"
    admin.execute(f"CREATE ROLE {role}")
    admin.execute(f"GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON {q}.* TO {role}")
    admin.execute(f"GRANT SELECT ON mysql.proc TO {role}")
    user = _user(admin, role)
    admin.execute(f"SET DEFAULT ROLE {role} FOR '{user}'@'%'")
    _read(server, user, schema)


def test_a_role_without_event_is_still_refused(
    server: LocalServer, admin: Conn, schema: str
) -> None:
    q = quote_ident(schema)
    role = f"r_{secrets.token_hex(3)}"
    admin.execute(f"CREATE ROLE {role}")
    admin.execute(f"GRANT SELECT, SHOW VIEW, TRIGGER ON {q}.* TO {role}")
    admin.execute(f"GRANT SELECT ON mysql.proc TO {role}")
    user = _user(admin, role)
    admin.execute(f"SET DEFAULT ROLE {role} FOR '{user}'@'%'")
    err = _refused(server, user, schema)
    assert "lacks the EVENT privilege" in err and f"TO '{user}'@'%';" in err


def test_trigger_granted_per_table_reads(server: LocalServer, admin: Conn, schema: str) -> None:
    q = quote_ident(schema)
    user = _user(
        admin, f"SELECT, SHOW VIEW, EVENT ON {q}.*", f"TRIGGER ON {q}.t", "SELECT ON mysql.proc"
    )
    _read(server, user, schema)


def test_routine_bodies_without_mysql_proc(server: LocalServer, admin: Conn, schema: str) -> None:
    """Schema-level ALTER ROUTINE lists every routine, but shows only the account's own bodies."""
    q = quote_ident(schema)
    user = _user(admin, f"SELECT, SHOW VIEW, TRIGGER, EVENT, ALTER ROUTINE ON {q}.*")
    err = _refused(server, user, schema)
    assert "the body of procedure `p` is hidden" in err
    assert "GRANT SELECT ON `mysql`.`proc` TO" in err


def test_own_routines_and_views_need_no_mysql_proc(server: LocalServer, admin: Conn) -> None:
    """A sandbox account: it defined everything in its schema, so it sees everything."""
    schema = f"box_{secrets.token_hex(3)}"
    admin.execute(f"CREATE DATABASE {quote_ident(schema)}")
    try:
        q = quote_ident(schema)
        user = _user(
            admin,
            f"SELECT, CREATE, CREATE VIEW, TRIGGER, EVENT, CREATE ROUTINE, ALTER ROUTINE ON {q}.*",
        )
        ep = replace(endpoint_of(server, schema), user=user, password=PASSWORD)
        with connect(ep, multi=True) as c:
            for _ in c.multi_query(SQL):
                pass
        _read(server, user, schema)
    finally:
        admin.execute(f"DROP DATABASE {quote_ident(schema)}")


def test_a_view_whose_table_is_gone_is_not_a_privilege(
    server: LocalServer, admin: Conn, schema: str
) -> None:
    """An invalid view has no columns but keeps its text: no privilege is blamed."""
    q = quote_ident(schema)
    admin.execute(f"CREATE TABLE {q}.gone (id INT)")
    admin.execute(f"CREATE VIEW {q}.broken AS SELECT id FROM {q}.gone")
    admin.execute(f"DROP TABLE {q}.gone")
    user = _user(admin, f"SELECT, SHOW VIEW, TRIGGER, EVENT ON {q}.*", "SELECT ON mysql.proc")
    _read(server, user, schema)


@pytest.mark.parametrize(
    ("revoked", "says"),
    [
        ("SELECT", "the columns of its table `t` are hidden"),
        ("SHOW VIEW", "the text of its view `v` is hidden"),
        ("TRIGGER", "the triggers of its tables"),
        ("EVENT", "its events are not listed"),
    ],
)
def test_each_missing_read_grant_says_what_it_hides(
    server: LocalServer, admin: Conn, schema: str, revoked: str, says: str
) -> None:
    q = quote_ident(schema)
    privs = [p for p in ("SELECT", "SHOW VIEW", "TRIGGER", "EVENT") if p != revoked]
    user = _user(admin, f"{', '.join(privs)} ON {q}.*", "SELECT ON mysql.proc")
    err = _refused(server, user, schema)
    assert says in err, err
    grant_on = q.replace("_", "\\_")
    assert f"GRANT {revoked} ON {grant_on}.* TO '{user}'@'%';" in err, err
