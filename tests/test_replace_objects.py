"""A trigger / routine / view / event whose definition changes is replaced with no gap.

MariaDB: one ``CREATE OR REPLACE`` where the create goes, no DROP earlier in
the plan. MySQL (no CREATE OR REPLACE for triggers and routines): the DROP
immediately followed by the CREATE. Only a trigger reading a column the plan
drops or renames is dropped before an ALTER: right before that table's ALTER.

Goldens: tests/golden/plan_replace_<flavor>.sql (regenerate with
MYSHIFT_UPDATE_GOLDEN=1, review the diff).
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest

from conftest import endpoint_of
from myshift.db.connect import Conn, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.changes import (
    AlterTable,
    Change,
    CreateRoutine,
    CreateTrigger,
    DropRoutine,
    DropTrigger,
    ReplaceRoutine,
    ReplaceTrigger,
)
from myshift.engine.diff import DiffOptions, diff_schemas, reverse_changes
from myshift.engine.introspect import introspect
from myshift.model import (
    MARIADB_10_11,
    MYSQL_8_0,
    Column,
    Event,
    Flavor,
    Routine,
    Schema,
    Table,
    Trigger,
    View,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MYSHIFT_UPDATE_GOLDEN") == "1"


def _t(name: str, *cols: str) -> Table:
    return Table(name, tuple(Column(c, "int(11)") for c in ("id", *cols)))


def _schemas() -> tuple[Schema, Schema]:
    """Two ALTERs of other tables around a trigger, procedure, function, view, event change."""
    proc = Routine("p", "PROCEDURE", "", "BEGIN SELECT 1; END")
    func = Routine("f", "FUNCTION", "", "RETURN 1", returns="int(11)", deterministic=True)
    trig = Trigger("a_bi", "a", "BEFORE", "INSERT", "SET NEW.x = 1")
    view = View("v", "select `a`.`id` AS `id` from `a`")
    event = Event("e", "EVERY 1 HOUR", "DELETE FROM a WHERE x < 0")
    cur = Schema(
        "s",
        tables=(_t("a", "x"), _t("b"), _t("c")),
        views=(view,),
        routines=(proc, func),
        triggers=(trig,),
        events=(event,),
    )
    des = Schema(
        "s",
        tables=(_t("a", "x"), _t("b", "y"), _t("c", "z")),
        views=(View("v", "select `a`.`id` AS `id`,`a`.`x` AS `x` from `a`"),),
        routines=(
            Routine("p", "PROCEDURE", "", "BEGIN SELECT 2; END"),
            Routine("f", "FUNCTION", "", "RETURN 2", returns="int(11)", deterministic=True),
        ),
        triggers=(Trigger("a_bi", "a", "BEFORE", "INSERT", "SET NEW.x = 2"),),
        events=(Event("e", "EVERY 2 HOUR", "DELETE FROM a WHERE x < 0"),),
    )
    return cur, des


def _plan(flavor: Flavor) -> list[Change]:
    cur, des = _schemas()
    return diff_schemas(cur, des, options=DiffOptions(or_replace=flavor.is_mariadb))


def _text(changes: list[Change], flavor: Flavor) -> str:
    """The statements as the runner sends them: session statements included."""
    out = []
    for c in changes:
        before, after = c.session(flavor)
        out += [f"{sql};\n" for sql in (*before, c.render(flavor), *after)]
    return "".join(out)


@pytest.mark.parametrize("flavor", [MARIADB_10_11, MYSQL_8_0], ids=["mariadb", "mysql"])
def test_golden_plan_replace(flavor: Flavor) -> None:
    changes = _plan(flavor)
    text = f"-- {flavor}: plan\n{_text(changes, flavor)}"
    text += f"-- {flavor}: reverse plan\n{_text(reverse_changes(changes), flavor)}"
    path = GOLDEN / f"plan_replace_{'mariadb' if flavor.is_mariadb else 'mysql'}.sql"
    if UPDATE:
        path.write_text(text)
    assert text == path.read_text()


def _names(c: Change) -> str:
    for attr in ("routine", "trigger", "after"):
        if hasattr(c, attr):
            return str(getattr(c, attr).name)
    return c.subject


@pytest.mark.parametrize("reverse", [False, True])
def test_no_gap_mariadb_adjacent_mysql(reverse: bool) -> None:
    for flavor in (MARIADB_10_11, MYSQL_8_0):
        changes = _plan(flavor)
        if reverse:
            changes = reverse_changes(changes)
        alters = [i for i, c in enumerate(changes) if isinstance(c, AlterTable)]
        first_alter, last_alter = min(alters), max(alters)
        drops = [i for i, c in enumerate(changes) if isinstance(c, (DropRoutine, DropTrigger))]
        if flavor.is_mariadb:
            assert drops == []
            kinds = {type(c) for c in changes}
            assert {ReplaceRoutine, ReplaceTrigger} <= kinds
        else:
            assert len(drops) == 3  # p, f, a_bi
            for i in drops:
                # Where the create goes: after the ALTERs (before them, reversed).
                assert (i < first_alter) if reverse else (i > last_alter)
                nxt = changes[i + 1]
                assert isinstance(nxt, (CreateRoutine, CreateTrigger))
                assert _names(nxt) == _names(changes[i])
        assert all(c.render(flavor) for c in changes)


def test_trigger_reading_dropped_column_dropped_right_before_its_alter() -> None:
    cur = Schema(
        "s",
        tables=(_t("b"), _t("a", "x", "y")),
        triggers=(Trigger("a_bi", "a", "BEFORE", "INSERT", "SET NEW.x = NEW.y"),),
    )
    des = Schema(
        "s",
        tables=(_t("b", "q"), _t("a", "x")),
        triggers=(Trigger("a_bi", "a", "BEFORE", "INSERT", "SET NEW.x = 1"),),
    )
    for flavor in (MARIADB_10_11, MYSQL_8_0):
        changes = diff_schemas(cur, des, options=DiffOptions(or_replace=flavor.is_mariadb))
        assert [(type(c).__name__, c.subject) for c in changes] == [
            ("AlterTable", "b"),
            ("DropTrigger", "a"),
            ("AlterTable", "a"),
            ("CreateTrigger", "a"),
        ]
        back = reverse_changes(changes)
        assert [type(c).__name__ for c in back] == [
            "DropTrigger",
            "AlterTable",
            "CreateTrigger",
            "AlterTable",
        ]


# ---------------------------------------------------------------- on the real server

CURRENT = """
CREATE TABLE a (id int PRIMARY KEY, x int, tag varchar(10));
CREATE TABLE b (id int PRIMARY KEY);
CREATE TABLE c (id int PRIMARY KEY);
CREATE TRIGGER a_bi BEFORE INSERT ON a FOR EACH ROW SET NEW.tag = 'old';
CREATE TRIGGER a_bi2 BEFORE INSERT ON a FOR EACH ROW SET NEW.x = 1;
CREATE PROCEDURE p() BEGIN SELECT 1; END;
CREATE FUNCTION f() RETURNS int DETERMINISTIC RETURN 1;
CREATE VIEW v AS SELECT id FROM a;
CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO DELETE FROM a WHERE x < 0
"""

DESIRED = """
CREATE TABLE a (id int PRIMARY KEY, x int, tag varchar(10));
CREATE TABLE b (id int PRIMARY KEY, y int);
CREATE TABLE c (id int PRIMARY KEY, z int);
CREATE TRIGGER a_bi BEFORE INSERT ON a FOR EACH ROW SET NEW.tag = 'new';
CREATE TRIGGER a_bi2 BEFORE INSERT ON a FOR EACH ROW SET NEW.x = 2;
CREATE PROCEDURE p() BEGIN SELECT 2; END;
CREATE FUNCTION f() RETURNS int DETERMINISTIC RETURN 2;
CREATE VIEW v AS SELECT id, x FROM a;
CREATE EVENT e ON SCHEDULE EVERY 2 HOUR DO DELETE FROM a WHERE x < 0
"""


def _load(server: LocalServer, admin: Conn, sql: str) -> Conn:
    name = f"r_{uuid.uuid4().hex[:10]}"
    admin.execute(f"CREATE DATABASE {quote_ident(name)} DEFAULT CHARACTER SET utf8mb4")
    c = connect(endpoint_of(server, name))
    for stmt in sql.split(";\n"):
        if stmt.strip():
            c.execute(stmt)
    return c


def test_body_changes_run_with_no_gap_on_mariadb(server: LocalServer, admin: Conn) -> None:
    """Between the two ALTERs and after each statement, the trigger fires and p is callable."""
    cur_c = _load(server, admin, CURRENT)
    des_c = _load(server, admin, DESIRED)
    cur_name, des_name = cur_c.endpoint.schema, des_c.endpoint.schema
    try:
        assert cur_c.flavor.is_mariadb
        before = introspect(cur_c, cur_name)
        desired = introspect(des_c, des_name)
        opts = DiffOptions(or_replace=True)
        changes = diff_schemas(before, desired, options=opts)
        sql = [c.render(cur_c.flavor) for c in changes]
        assert not any(
            s.startswith(("DROP TRIGGER", "DROP PROCEDURE", "DROP FUNCTION")) for s in sql
        )
        assert sum(s.startswith("ALTER TABLE") for s in sql) == 2
        # The user's own text (issue 12): a_bi as written, pinned before a_bi2.
        # (A desired database states its definers: DEFINER= is kept, engine.definers.)
        assert any(
            s.startswith("CREATE OR REPLACE DEFINER=")
            and " TRIGGER a_bi BEFORE INSERT ON a FOR EACH ROW PRECEDES `a_bi2` " in s
            for s in sql
        ), "\n".join(sql)
        assert any(re.match(r"CREATE OR REPLACE DEFINER=\S+ PROCEDURE `p`", s) for s in sql)
        for n, s in enumerate(sql):
            cur_c.execute(s)
            # Never a moment without the trigger or the procedure.
            cur_c.execute("CALL p()")
            cur_c.execute(f"INSERT INTO a (id) VALUES ({n + 1})")
            tag = cur_c.query("SELECT tag FROM a WHERE id = %s", (n + 1,))[0][0]
            assert tag in ("old", "new"), s
        after = introspect(cur_c, cur_name)
        assert diff_schemas(after, desired, options=opts) == []
        # ACTION_ORDER kept: a_bi still fires before a_bi2.
        assert [t.name for t in sorted(after.triggers, key=lambda t: t.order)] == ["a_bi", "a_bi2"]
        for change in reverse_changes(changes):
            cur_c.execute(change.render(cur_c.flavor))
        assert diff_schemas(introspect(cur_c, cur_name), before, options=opts) == []
    finally:
        for c, name in ((cur_c, cur_name), (des_c, des_name)):
            c.close()
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
