"""The diff engine: type classification, risk tables, ordering rules on hand-built
models (no server), and live convergence on the throwaway MariaDB.

Convergence is the real contract (Skeema's verify): load X and Y into two fresh
schemas, diff X->Y, run the statements on X, re-introspect: X must now equal Y
and a second diff must be empty. The reverse plan must bring X back.
"""

from __future__ import annotations

import uuid

import pytest

from conftest import endpoint_of
from myshift.db.connect import Conn, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.changes import (
    AddCheck,
    AddColumn,
    AddForeignKey,
    AddIndex,
    AlterEvent,
    AlterTable,
    AlterView,
    Change,
    ChangeOptions,
    ChangePartitioning,
    CreateEvent,
    CreateRoutine,
    CreateTable,
    CreateTrigger,
    CreateView,
    DropCheck,
    DropColumn,
    DropEvent,
    DropForeignKey,
    DropIndex,
    DropRoutine,
    DropTable,
    DropTrigger,
    DropView,
    ModifyColumn,
    Position,
    RecreateColumn,
    RemovePartitioning,
    RenameColumn,
    RenameIndex,
    RenameTable,
    TableOptions,
    cast_refused,
)
from myshift.engine.diff import DiffOptions, UnsupportedTableWarning, diff_schemas, reverse_changes
from myshift.engine.introspect import introspect
from myshift.engine.risk import (
    Algorithm,
    Lock,
    Op,
    Risk,
    TypeChange,
    classify_type_change,
    online_ddl,
)
from myshift.engine.split import RenameHints
from myshift.errors import UnsupportedError
from myshift.model import (
    MARIADB_10_11,
    MYSQL_8_0,
    Check,
    Column,
    Event,
    Flavor,
    ForeignKey,
    Index,
    IndexKind,
    IndexPart,
    Partition,
    Partitioning,
    Routine,
    Schema,
    Table,
    Trigger,
    Vendor,
    View,
)

# ---------------------------------------------------------------- type changes

TYPE_CASES = [
    ("int(11)", "int(11)", TypeChange.SAME),
    ("int(11)", "bigint(20)", TypeChange.WIDENING),
    ("bigint(20)", "int(11)", TypeChange.NARROWING),
    ("int(10) unsigned", "int(11)", TypeChange.NARROWING),
    ("int(11)", "int(10) unsigned", TypeChange.NARROWING),
    ("int(10) unsigned", "bigint(20)", TypeChange.WIDENING),
    ("tinyint(4)", "smallint(6)", TypeChange.WIDENING),
    ("int(11)", "int(10)", TypeChange.METADATA),
    ("varchar(10)", "varchar(20)", TypeChange.METADATA),
    ("varchar(60)", "varchar(70)", TypeChange.WIDENING),  # utf8mb4: 240 -> 280 bytes
    ("varchar(20)", "varchar(10)", TypeChange.NARROWING),
    ("char(10)", "char(5)", TypeChange.NARROWING),
    ("char(10)", "varchar(10)", TypeChange.WIDENING),
    ("decimal(10,2)", "decimal(12,2)", TypeChange.WIDENING),
    ("decimal(12,2)", "decimal(8,2)", TypeChange.NARROWING),
    ("decimal(10,4)", "decimal(10,2)", TypeChange.NARROWING),
    ("decimal(10,2)", "decimal(10,4)", TypeChange.NARROWING),  # integer digits 8 -> 6
    ("text", "mediumtext", TypeChange.WIDENING),
    ("mediumtext", "text", TypeChange.NARROWING),
    ("varchar(255)", "text", TypeChange.WIDENING),
    ("text", "varchar(255)", TypeChange.NARROWING),
    ("blob", "tinyblob", TypeChange.NARROWING),
    ("enum('a','b')", "enum('a','b','c')", TypeChange.METADATA),
    ("enum('a','b')", "enum('b','a')", TypeChange.WIDENING),
    ("enum('a','b','c')", "enum('a','b')", TypeChange.NARROWING),
    ("set('x','y')", "set('x','y','z')", TypeChange.METADATA),
    ("datetime(6)", "datetime", TypeChange.NARROWING),
    ("datetime", "datetime(3)", TypeChange.WIDENING),
    ("datetime", "timestamp", TypeChange.CONVERSION),
    ("double", "float", TypeChange.NARROWING),
    ("varchar(10)", "int(11)", TypeChange.CONVERSION),
    ("bit(8)", "bit(4)", TypeChange.NARROWING),
]


@pytest.mark.parametrize(("old", "new", "expected"), TYPE_CASES)
def test_classify_type_change(old: str, new: str, expected: TypeChange) -> None:
    kind, why = classify_type_change(old, new, "utf8mb4")
    assert kind is expected, why
    assert (why == "") == (expected is TypeChange.SAME)


def test_varchar_length_byte_class_depends_on_charset() -> None:
    assert classify_type_change("varchar(100)", "varchar(200)", "latin1")[0] is TypeChange.METADATA
    assert classify_type_change("varchar(200)", "varchar(300)", "latin1")[0] is TypeChange.WIDENING


ONLINE_CASES = [
    (MARIADB_10_11, Op.ADD_COLUMN, Algorithm.INSTANT, Lock.NONE),
    (MARIADB_10_11, Op.DROP_COLUMN, Algorithm.INSTANT, Lock.NONE),
    (MARIADB_10_11, Op.REORDER_COLUMN, Algorithm.INSTANT, Lock.NONE),
    (MYSQL_8_0, Op.REORDER_COLUMN, Algorithm.INPLACE, Lock.NONE),
    (MYSQL_8_0, Op.DROP_COLUMN, Algorithm.INSTANT, Lock.NONE),
    (Flavor(Vendor.MYSQL, (8, 0, 20)), Op.DROP_COLUMN, Algorithm.INPLACE, Lock.NONE),
    (MYSQL_8_0, Op.CHANGE_TYPE, Algorithm.COPY, Lock.SHARED),
    (MARIADB_10_11, Op.CHANGE_TYPE, Algorithm.COPY, Lock.SHARED),
    (MARIADB_10_11, Op.EXTEND_VARCHAR, Algorithm.INSTANT, Lock.NONE),
    (MYSQL_8_0, Op.EXTEND_VARCHAR, Algorithm.INPLACE, Lock.NONE),
    (MYSQL_8_0, Op.ADD_INDEX, Algorithm.INPLACE, Lock.NONE),
    (MYSQL_8_0, Op.ADD_FULLTEXT, Algorithm.INPLACE, Lock.SHARED),
    (MARIADB_10_11, Op.ADD_FOREIGN_KEY, Algorithm.COPY, Lock.SHARED),
]


@pytest.mark.parametrize(("flavor", "op", "algo", "lock"), ONLINE_CASES)
def test_online_ddl_table(flavor: Flavor, op: Op, algo: Algorithm, lock: Lock) -> None:
    assert online_ddl(flavor, op) == (algo, lock)


# ------------------------------------------------------------ hand-built models

ID = Column("id", "int(11)", nullable=False, auto_increment=True)
PK = Index("PRIMARY", IndexKind.PRIMARY, (IndexPart("id"),))


def col(name: str, type_: str = "int(11)", **kw: object) -> Column:
    """A column as introspection reports it (nullable columns default to NULL)."""
    if kw.get("nullable", True):
        kw.setdefault("default", "NULL")
    return Column(name, type_, **kw)  # type: ignore[arg-type]


def table(name: str, *cols: Column, **kw: object) -> Table:
    return Table(name, (ID, *cols), indexes=kw.pop("indexes", (PK,)), **kw)  # type: ignore[arg-type]


def schema(*tables: Table, **kw: object) -> Schema:
    return Schema("s", tables=tables, **kw)  # type: ignore[arg-type]


def kinds(changes: list[Change]) -> list[str]:
    return [type(c).__name__ for c in changes]


def only_alter(changes: list[Change]) -> AlterTable:
    assert len(changes) == 1 and isinstance(changes[0], AlterTable), changes
    return changes[0]


def test_identical_schemas_have_no_diff() -> None:
    s = schema(table("a", col("x")))
    assert diff_schemas(s, s) == []


def test_auto_increment_counter_is_not_a_change() -> None:
    a = table("a", col("x"))
    b = Table(a.name, a.columns, a.indexes, auto_increment=500)
    assert diff_schemas(schema(a), schema(b)) == []


def test_add_column_gets_explicit_position() -> None:
    cur = schema(table("a", col("x"), col("z")))
    des = schema(table("a", col("x"), col("y"), col("z")))
    alter = only_alter(diff_schemas(cur, des))
    assert alter.clauses == (AddColumn(col("y"), Position("x")),)
    assert (
        alter.render(MARIADB_10_11)
        == "ALTER TABLE `a` ADD COLUMN `y` int(11) DEFAULT NULL AFTER `x`"
    )


def test_drop_column_is_destructive_and_reverse_puts_it_back() -> None:
    cur = schema(table("a", col("x"), col("y")))
    des = schema(table("a", col("y")))
    alter = only_alter(diff_schemas(cur, des))
    assert alter.clauses == (DropColumn(col("x"), Position("id")),)
    assert alter.assess(MARIADB_10_11).risk is Risk.DESTRUCTIVE
    back = alter.reverse()
    assert isinstance(back, AlterTable)
    assert back.clauses == (AddColumn(col("x"), Position("id")),)


def test_minimal_reorder_moves_one_column() -> None:
    cur = schema(table("a", col("x"), col("y"), col("z")))
    des = schema(table("a", col("z"), col("x"), col("y")))
    alter = only_alter(diff_schemas(cur, des))
    # id must become... id is not first any more in desired? It is: table() puts id first.
    assert alter.clauses == (ModifyColumn(col("z"), col("z"), Position("id"), Position("y")),)
    assert alter.render(MYSQL_8_0).endswith("MODIFY COLUMN `z` int(11) DEFAULT NULL AFTER `id`")
    assert alter.assess(MYSQL_8_0).algorithm is Algorithm.INPLACE
    assert alter.assess(MARIADB_10_11).algorithm is Algorithm.INSTANT


def test_narrowing_modify_is_destructive_copy() -> None:
    cur = schema(table("a", col("x", "bigint(20)")))
    des = schema(table("a", col("x", "int(11)")))
    a = only_alter(diff_schemas(cur, des)).assess(MARIADB_10_11)
    assert (a.risk, a.algorithm, a.lock) == (Risk.DESTRUCTIVE, Algorithm.COPY, Lock.SHARED)
    assert "narrows" in a.reason


def test_not_null_is_data_dependent() -> None:
    cur = schema(table("a", col("x")))
    des = schema(table("a", col("x", nullable=False)))
    assert only_alter(diff_schemas(cur, des)).assess(MYSQL_8_0).risk is Risk.DATA_DEPENDENT


def test_rename_hints_turn_drop_add_into_renames() -> None:
    cur = schema(table("old", col("a"), col("b")))
    des = schema(table("new", col("a2"), col("b")))
    hints = RenameHints({"new": "old"}, {("new", "a2"): "a"})
    changes = diff_schemas(cur, des, hints=hints)
    assert kinds(changes) == ["RenameTable", "AlterTable"]
    assert changes[0] == RenameTable("old", "new")
    alter = changes[1]
    assert isinstance(alter, AlterTable)
    assert alter.clauses == (RenameColumn(col("a"), col("a2"), None, Position("id")),)
    assert alter.render(MYSQL_8_0) == "ALTER TABLE `new` RENAME COLUMN `a` TO `a2`"
    # Without hints: drop + create.
    assert kinds(diff_schemas(cur, des)) == ["DropTable", "CreateTable"]


def test_index_changes_and_rename() -> None:
    ix_x = Index("ix_x", IndexKind.INDEX, (IndexPart("x"),))
    cur = schema(table("a", col("x"), indexes=(PK, ix_x)))
    renamed = Index("ix_x2", IndexKind.INDEX, (IndexPart("x"),))
    alter = only_alter(diff_schemas(cur, schema(table("a", col("x"), indexes=(PK, renamed)))))
    assert alter.clauses == (RenameIndex(ix_x, renamed),)
    uniq = Index("ix_x", IndexKind.UNIQUE, (IndexPart("x"),))
    alter = only_alter(diff_schemas(cur, schema(table("a", col("x"), indexes=(PK, uniq)))))
    assert alter.clauses == (DropIndex(ix_x), AddIndex(uniq))
    assert alter.assess(MARIADB_10_11).risk is Risk.DATA_DEPENDENT


def test_primary_key_change_with_auto_increment_is_one_alter() -> None:
    cur = schema(Table("a", (col("id", nullable=False), col("x"))))
    des = schema(table("a", col("x")))
    alter = only_alter(diff_schemas(cur, des))
    assert [type(c).__name__ for c in alter.clauses] == ["ModifyColumn", "AddIndex"]
    assert alter.render(MARIADB_10_11) == (
        "ALTER TABLE `a` MODIFY COLUMN `id` int(11) NOT NULL AUTO_INCREMENT, ADD PRIMARY KEY (`id`)"
    )


FK = ForeignKey("fk_p", ("pid",), "p", ("id",))
FK_IX = Index("fk_p", IndexKind.INDEX, (IndexPart("pid"),))


def test_new_tables_created_parent_first_and_cycles_deferred() -> None:
    child = table("c", col("pid"), indexes=(PK, FK_IX), foreign_keys=(FK,))
    parent = table("p")
    changes = diff_schemas(schema(), schema(child, parent))
    assert [c.subject for c in changes] == ["p", "c"]
    # A cycle: p -> c -> p. One FK is added afterwards by ALTER.
    back = ForeignKey("fk_c", ("cid",), "c", ("id",))
    parent2 = table(
        "p",
        col("cid"),
        indexes=(PK, Index("fk_c", IndexKind.INDEX, (IndexPart("cid"),))),
        foreign_keys=(back,),
    )
    changes = diff_schemas(schema(), schema(child, parent2))
    assert kinds(changes) == ["CreateTable", "CreateTable", "AlterTable"]
    last = changes[2]
    assert isinstance(last, AlterTable) and isinstance(last.clauses[0], AddForeignKey)


def test_dropped_tables_children_first() -> None:
    child = table("c", col("pid"), indexes=(PK, FK_IX), foreign_keys=(FK,))
    changes = diff_schemas(schema(table("p"), child), schema())
    assert [c.subject for c in changes] == ["c", "p"]
    assert all(isinstance(c, DropTable) for c in changes)


def test_fk_over_modified_column_is_dropped_first_and_readded_last() -> None:
    parent = table("p")
    cur = schema(parent, table("c", col("pid"), indexes=(PK, FK_IX), foreign_keys=(FK,)))
    des = schema(
        parent,
        table("c", col("pid", "bigint(20)"), col("n"), indexes=(PK, FK_IX), foreign_keys=(FK,)),
    )
    changes = diff_schemas(cur, des)
    assert kinds(changes) == ["AlterTable", "AlterTable", "AlterTable"]
    first, mid, last = changes
    assert isinstance(first, AlterTable) and first.clauses == (DropForeignKey(FK),)
    assert isinstance(mid, AlterTable) and isinstance(mid.clauses[0], ModifyColumn)
    assert isinstance(last, AlterTable) and last.clauses == (AddForeignKey(FK, unchecked=True),)


def test_index_change_under_fk_keeps_the_fk_when_a_new_index_serves_it() -> None:
    """Issue 11: one ALTER (DROP INDEX + ADD INDEX, INPLACE/NONE), the FK untouched."""
    parent = table("p")
    cur = schema(parent, table("c", col("pid"), indexes=(PK, FK_IX), foreign_keys=(FK,)))
    other = Index("ix_pid_id", IndexKind.INDEX, (IndexPart("pid"), IndexPart("id")))
    des = schema(parent, table("c", col("pid"), indexes=(PK, other), foreign_keys=(FK,)))
    changes = diff_schemas(cur, des)
    rendered = [c.render(MARIADB_10_11) for c in changes]
    assert rendered == ["ALTER TABLE `c` DROP INDEX `fk_p`, ADD KEY `ix_pid_id` (`pid`,`id`)"]
    a = changes[0].assess(MARIADB_10_11)
    assert (a.algorithm.value, a.lock.value) == ("INPLACE", "NONE")


def test_dropping_the_only_index_an_fk_needs_drops_and_readds_the_fk() -> None:
    parent = table("p")
    cur = schema(parent, table("c", col("pid"), indexes=(PK, FK_IX), foreign_keys=(FK,)))
    # (id, pid) does not lead with pid: it cannot serve the key.
    other = Index("ix_id_pid", IndexKind.INDEX, (IndexPart("id"), IndexPart("pid")))
    des = schema(parent, table("c", col("pid"), indexes=(PK, other), foreign_keys=(FK,)))
    changes = diff_schemas(cur, des)
    rendered = [c.render(MARIADB_10_11) for c in changes]
    assert rendered[0] == "ALTER TABLE `c` DROP FOREIGN KEY `fk_p`"
    assert rendered[-1].startswith("ALTER TABLE `c` ADD CONSTRAINT `fk_p` FOREIGN KEY")


def test_views_in_dependency_order() -> None:
    v1 = View("v1", "select `a`.`id` AS `id` from `a`")
    v2 = View("v2", "select `v1`.`id` AS `id` from `v1`")
    a = table("a")
    changes = diff_schemas(schema(a), schema(a, views=(v2, v1)))
    assert [c.subject for c in changes] == ["v1", "v2"]
    changes = diff_schemas(schema(a, views=(v1, v2)), schema(a))
    assert kinds(changes) == ["DropView", "DropView"]
    assert [c.subject for c in changes] == ["v2", "v1"]
    v1b = View("v1", "select `a`.`id` + 1 AS `id` from `a`")
    changes = diff_schemas(schema(a, views=(v1, v2)), schema(a, views=(v1b, v2)))
    assert changes == [AlterView(v1, v1b)]
    assert changes[0].render(MARIADB_10_11).startswith("CREATE OR REPLACE ALGORITHM=UNDEFINED")


def test_routines_triggers_events_ordering() -> None:
    a = table("a", col("x"))
    r1 = Routine("f", "FUNCTION", "", "RETURN 1", returns="int(11)")
    r2 = Routine("f", "FUNCTION", "", "RETURN 2", returns="int(11)")
    t1 = Trigger("t1", "a", "BEFORE", "INSERT", "SET NEW.x = 1")
    t1b = Trigger("t1", "a", "BEFORE", "INSERT", "SET NEW.x = 2")
    e1 = Event("e", "EVERY 1 HOUR", "DELETE FROM a")
    e2 = Event("e", "EVERY 2 HOUR", "DELETE FROM a")
    cur = Schema("s", tables=(a,), routines=(r1,), triggers=(t1,), events=(e1,))
    des = Schema("s", tables=(a, table("b")), routines=(r2,), triggers=(t1b,), events=(e2,))
    changes = diff_schemas(cur, des)
    # A body change is no gap: drop + create adjacent where the create goes
    # (MySQL), one CREATE OR REPLACE on MariaDB (tests/test_replace_objects.py).
    assert kinds(changes) == [
        "CreateTable",
        "DropRoutine",
        "CreateRoutine",
        "DropTrigger",
        "CreateTrigger",
        "AlterEvent",
    ]
    # The event stays: ALTER EVENT on MySQL, CREATE OR REPLACE EVENT on MariaDB.
    assert changes[-1].render(MYSQL_8_0) == (
        "ALTER EVENT `e` ON SCHEDULE EVERY 2 HOUR ON COMPLETION NOT PRESERVE ENABLE"
        " COMMENT '' DO DELETE FROM a"
    )
    assert changes[-1].render(MARIADB_10_11) == (
        "CREATE OR REPLACE EVENT `e` ON SCHEDULE EVERY 2 HOUR ON COMPLETION NOT PRESERVE"
        " ENABLE DO DELETE FROM a"
    )
    # definer / sql_mode never produce a change.
    r1_other = Routine("f", "FUNCTION", "", "RETURN 1", returns="int(11)", definer="x@y")
    assert diff_schemas(Schema("s", routines=(r1,)), Schema("s", routines=(r1_other,))) == []


def test_trigger_order_rebuilds_the_group() -> None:
    a = table("a", col("x"))
    t1 = Trigger("t1", "a", "BEFORE", "INSERT", "SET NEW.x = 1", order=1)
    t2 = Trigger("t2", "a", "BEFORE", "INSERT", "SET NEW.x = 2", order=2)
    t2first = Trigger("t2", "a", "BEFORE", "INSERT", "SET NEW.x = 2", order=1)
    t1second = Trigger("t1", "a", "BEFORE", "INSERT", "SET NEW.x = 1", order=2)
    changes = diff_schemas(
        Schema("s", tables=(a,), triggers=(t1, t2)),
        Schema("s", tables=(a,), triggers=(t2first, t1second)),
    )
    assert kinds(changes) == ["DropTrigger", "DropTrigger", "CreateTrigger", "CreateTrigger"]
    assert [c.subject for c in changes] == ["a"] * 4
    creates = [c for c in changes if isinstance(c, CreateTrigger)]
    assert [c.trigger.name for c in creates] == ["t2", "t1"]
    drops = [c for c in changes if isinstance(c, DropTrigger)]
    assert [c.trigger.name for c in drops] == ["t2", "t1"]  # reverse re-creates t1 first
    # Appending a trigger at the end touches nothing else.
    changes = diff_schemas(
        Schema("s", tables=(a,), triggers=(t1,)), Schema("s", tables=(a,), triggers=(t1, t2))
    )
    assert changes == [CreateTrigger(t2)]


def test_unsupported_tables_refuse_or_warn() -> None:
    bad = Table("weird", (col("x"),), unsupported="line 3 differs")
    cur, des = schema(bad), schema(table("weird", col("y")))
    with pytest.raises(UnsupportedError, match="weird"):
        diff_schemas(cur, des)
    with pytest.warns(UnsupportedTableWarning, match="line 3 differs"):
        assert diff_schemas(cur, des, options=DiffOptions(skip_unsupported=True)) == []


def test_partitioning_changes() -> None:
    p = Partitioning("HASH", "`id`", (Partition("p0"), Partition("p1")))
    cur, des = schema(table("a")), schema(table("a", partitioning=p))
    alter = only_alter(diff_schemas(cur, des))
    assert alter.clauses == (ChangePartitioning(None, p),)
    assert alter.render(MARIADB_10_11) == "ALTER TABLE `a` PARTITION BY HASH (`id`)\nPARTITIONS 2"
    alter = only_alter(diff_schemas(des, cur))
    assert alter.clauses == (RemovePartitioning(p),)
    assert alter.reverse() == AlterTable("a", (ChangePartitioning(None, p),))


def test_check_constraints() -> None:
    c1 = Check("CONSTRAINT_1", "`x` > 0")
    c2 = Check("CONSTRAINT_1", "`x` > 1")
    cur, des = (
        schema(table("a", col("x"), checks=(c1,))),
        schema(table("a", col("x"), checks=(c2,))),
    )
    alter = only_alter(diff_schemas(cur, des))
    assert alter.clauses == (DropCheck(c1), AddCheck(c2))
    assert alter.render(MARIADB_10_11) == (
        "ALTER TABLE `a` DROP CONSTRAINT `CONSTRAINT_1`,"
        " ADD CONSTRAINT `CONSTRAINT_1` CHECK (`x` > 1)"
    )
    assert alter.render(MYSQL_8_0).startswith("ALTER TABLE `a` DROP CHECK `CONSTRAINT_1`")
    assert alter.assess(MARIADB_10_11).risk is Risk.DATA_DEPENDENT


def test_table_options_and_render_options() -> None:
    from myshift.engine.changes import RenderOptions

    cur = schema(table("a", col("x")))
    des = schema(
        Table("a", (ID, col("x")), (PK,), comment="hi", row_format="DYNAMIC", engine="InnoDB")
    )
    alter = only_alter(diff_schemas(cur, des))
    assert isinstance(alter.clauses[0], ChangeOptions)
    opts = RenderOptions(algorithm="INPLACE", lock="NONE")
    assert alter.render(MARIADB_10_11, opts) == (
        "ALTER TABLE `a` ROW_FORMAT=DYNAMIC COMMENT='hi', ALGORITHM=INPLACE, LOCK=NONE"
    )
    assert DropTable(table("a")).render(MYSQL_8_0, RenderOptions(if_exists=True)) == (
        "DROP TABLE IF EXISTS `a`"
    )


def test_every_change_reverses_to_itself() -> None:
    t = table("a", col("x"))
    v = View("v", "select 1 AS `1`")
    r = Routine("f", "FUNCTION", "", "RETURN 1", returns="int(11)")
    tr = Trigger("t", "a", "BEFORE", "INSERT", "SET NEW.x = 1")
    e = Event("e", "EVERY 1 HOUR", "DO 1")
    samples: list[Change] = [
        CreateTable(t),
        DropTable(t),
        RenameTable("a", "b"),
        CreateView(v),
        DropView(v),
        AlterView(v, View("v", "select 2 AS `2`")),
        CreateRoutine(r),
        DropRoutine(r),
        CreateTrigger(tr),
        DropTrigger(tr),
        CreateEvent(e),
        DropEvent(e),
        AlterEvent(e, Event("e", "EVERY 2 HOUR", "DO 1")),
        AlterTable(
            "a",
            (
                AddColumn(col("y"), Position("x")),
                DropColumn(col("z"), None),
                ModifyColumn(col("x"), col("x", "bigint(20)"), Position(None), Position("id")),
                RenameColumn(col("q"), col("r")),
                AddIndex(PK),
                DropIndex(PK),
                AddForeignKey(FK),
                DropForeignKey(FK),
                ChangeOptions(TableOptions.of(t), TableOptions.of(Table("a", (), comment="c"))),
            ),
        ),
    ]
    for change in samples:
        assert change.reverse().reverse() == change, change
        for flavor in (MARIADB_10_11, MYSQL_8_0):
            assert change.render(flavor)
            assert change.assess(flavor).reason
        assert change.describe()


# ---------------------------------------------------------------- live convergence


def _load(server: LocalServer, admin: Conn, sql: str) -> Conn:
    name = f"d_{uuid.uuid4().hex[:10]}"
    admin.execute(f"CREATE DATABASE {quote_ident(name)} DEFAULT CHARACTER SET utf8mb4")
    c = connect(endpoint_of(server, name))
    for stmt in sql.split(";\n"):
        if stmt.strip():
            c.execute(stmt)
    return c


def converge(
    server: LocalServer,
    admin: Conn,
    sql_current: str,
    sql_desired: str,
    hints: RenameHints | None = None,
) -> list[Change]:
    """Load both, apply diff(current -> desired) to current, check it converged,
    then apply the reverse plan and check we are back where we started."""
    cur_c = _load(server, admin, sql_current)
    des_c = _load(server, admin, sql_desired)
    cur_name, des_name = cur_c.endpoint.schema, des_c.endpoint.schema
    try:
        before = introspect(cur_c, cur_name)
        desired = introspect(des_c, des_name)
        changes = diff_schemas(before, desired, hints=hints)
        assert changes, "test schemas should differ"
        for change in changes:
            cur_c.execute(change.render(cur_c.flavor))
        after = introspect(cur_c, cur_name)
        assert after.same_objects(desired), [c.render(cur_c.flavor) for c in changes]
        assert diff_schemas(after, desired) == []
        for change in reverse_changes(changes):
            cur_c.execute(change.render(cur_c.flavor))
        restored = introspect(cur_c, cur_name)
        assert diff_schemas(restored, before) == [], "reverse plan did not restore"
        return changes
    finally:
        for c, name in ((cur_c, cur_name), (des_c, des_name)):
            c.close()
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")


BASE = """
CREATE TABLE p (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(50) NOT NULL,
  UNIQUE KEY uq_name (name));
CREATE TABLE c (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, pid int NOT NULL,
  note text, status enum('new','done') NOT NULL DEFAULT 'new',
  created timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id));
CREATE VIEW v_c AS SELECT id, pid FROM c
"""


def test_converge_columns_indexes_reorder(server: LocalServer, admin: Conn) -> None:
    desired = """
CREATE TABLE p (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(80) NOT NULL,
  extra int DEFAULT 3, KEY ix_name (name));
CREATE TABLE c (id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  status enum('new','doing','done') NOT NULL DEFAULT 'new', pid int NOT NULL,
  created timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id) ON DELETE CASCADE);
CREATE VIEW v_c AS SELECT id, pid, status FROM c;
CREATE VIEW v_v AS SELECT id FROM v_c
"""
    converge(server, admin, BASE, desired)


def test_converge_fk_column_type_change_and_new_tables(server: LocalServer, admin: Conn) -> None:
    desired = """
CREATE TABLE p (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, name varchar(50) NOT NULL,
  UNIQUE KEY uq_name (name));
CREATE TABLE c (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, pid bigint NOT NULL,
  note text, status enum('new','done') NOT NULL DEFAULT 'new',
  created timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id));
CREATE TABLE x (id int PRIMARY KEY, yid int, KEY (yid));
CREATE TABLE y (id int PRIMARY KEY, xid int, FOREIGN KEY (xid) REFERENCES x (id));
ALTER TABLE x ADD CONSTRAINT fk_xy FOREIGN KEY (yid) REFERENCES y (id);
CREATE VIEW v_c AS SELECT id, pid FROM c
"""
    converge(server, admin, BASE, desired)


def test_converge_pk_checks_charset_partitions(server: LocalServer, admin: Conn) -> None:
    current = """
CREATE TABLE t (id int NOT NULL, a int CHECK (a > 0), b varchar(10),
  CONSTRAINT chk_b CHECK (b <> ''))
  DEFAULT CHARSET=latin1;
CREATE TABLE h (id int NOT NULL PRIMARY KEY, v int)
"""
    desired = """
CREATE TABLE t (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, a int CHECK (a > 1),
  b varchar(10) CHARACTER SET utf8mb4, CHECK (a <> 5), CONSTRAINT chk_b CHECK (b <> 'x'))
  DEFAULT CHARSET=utf8mb4 COMMENT='tee';
CREATE TABLE h (id int NOT NULL PRIMARY KEY, v int, w int, KEY (w))
  PARTITION BY HASH (id) PARTITIONS 3
"""
    converge(server, admin, current, desired)


def test_converge_routines_triggers_events(server: LocalServer, admin: Conn) -> None:
    current = """
CREATE TABLE a (id int PRIMARY KEY, x int);
CREATE FUNCTION f() RETURNS int DETERMINISTIC RETURN 1;
CREATE TRIGGER t1 BEFORE INSERT ON a FOR EACH ROW SET NEW.x = 1;
CREATE TRIGGER t2 BEFORE INSERT ON a FOR EACH ROW SET NEW.x = NEW.x + 1;
CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO DELETE FROM a WHERE x < 0
"""
    desired = """
CREATE TABLE a (id int PRIMARY KEY, x int);
CREATE FUNCTION f() RETURNS int DETERMINISTIC RETURN 2;
CREATE TRIGGER t2 BEFORE INSERT ON a FOR EACH ROW SET NEW.x = NEW.x + 1;
CREATE TRIGGER t1 BEFORE INSERT ON a FOR EACH ROW FOLLOWS t2 SET NEW.x = 1;
CREATE EVENT e ON SCHEDULE EVERY 2 HOUR DISABLE COMMENT 'c' DO DELETE FROM a WHERE x < 0
"""
    converge(server, admin, current, desired)


def test_converge_renames_enum_reorder_narrowing(server: LocalServer, admin: Conn) -> None:
    current = """
CREATE TABLE p (id int NOT NULL PRIMARY KEY, name varchar(50) NOT NULL, KEY ix_name (name));
CREATE TABLE c (id int NOT NULL PRIMARY KEY, pid int, a int CHECK (a > 0),
  s enum('x','y','z') DEFAULT 'x', gone int, old_name int DEFAULT 7,
  CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id))
"""
    desired = """
CREATE TABLE parent (id int NOT NULL PRIMARY KEY, name varchar(40) NOT NULL,
  KEY ix_name2 (name));
CREATE TABLE c (id int NOT NULL PRIMARY KEY, new_name int DEFAULT 7, pid int, a int,
  s enum('z','y','x') DEFAULT 'x', q int,
  CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES parent (id))
"""
    hints = RenameHints({"parent": "p"}, {("c", "new_name"): "old_name"})
    changes = converge(server, admin, current, desired, hints)
    assert isinstance(changes[0], RenameTable)
    rendered = " ".join(c.render(MARIADB_10_11) for c in changes)
    assert "RENAME INDEX `ix_name` TO `ix_name2`" in rendered
    assert "`old_name` " in rendered and "DROP COLUMN `old_name`" not in rendered


def test_converge_fk_supporting_index_and_drops(server: LocalServer, admin: Conn) -> None:
    current = """
CREATE TABLE p (id int NOT NULL PRIMARY KEY, k int, UNIQUE KEY (k));
CREATE TABLE c (id int NOT NULL PRIMARY KEY, pid int, k int,
  CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id));
CREATE TABLE d1 (id int PRIMARY KEY, d2 int, KEY (d2));
CREATE TABLE d2 (id int PRIMARY KEY, d1 int, FOREIGN KEY (d1) REFERENCES d1 (id));
ALTER TABLE d1 ADD FOREIGN KEY (d2) REFERENCES d2 (id);
CREATE TABLE becomes_view (id int);
CREATE VIEW becomes_table AS SELECT 1 AS id
"""
    desired = """
CREATE TABLE p (id int NOT NULL PRIMARY KEY, k int, UNIQUE KEY (k));
CREATE TABLE c (id int NOT NULL PRIMARY KEY, pid int, k int, KEY ix_pid_k (pid, k),
  CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id),
  CONSTRAINT fk_k FOREIGN KEY (k) REFERENCES p (k));
CREATE TABLE becomes_table (id int);
CREATE VIEW becomes_view AS SELECT 1 AS id
"""
    converge(server, admin, current, desired)


def test_converge_unnamed_fk_repointed_keeps_its_index_name(
    server: LocalServer, admin: Conn
) -> None:
    # MariaDB names the implicit index of an unnamed FK after the column and
    # renames it to the constraint's name when the FK is re-added over it
    # (sqldef ModifyUnnamedForeignKey); the plan must keep the name.
    current = """
CREATE TABLE users (id bigint NOT NULL PRIMARY KEY);
CREATE TABLE admins (id bigint NOT NULL PRIMARY KEY);
CREATE TABLE posts (id bigint NOT NULL PRIMARY KEY, author_id bigint,
  FOREIGN KEY (author_id) REFERENCES users (id))
"""
    changes = converge(
        server, admin, current, current.replace("REFERENCES users", "REFERENCES admins")
    )
    assert any("DROP INDEX `author_id`" in c.render(MARIADB_10_11) for c in changes)


def test_converge_generated_column_kind_changes(server: LocalServer, admin: Conn) -> None:
    # MariaDB refuses MODIFY between VIRTUAL/STORED/ordinary (error 1907): the
    # diff re-creates the column, and rebuilds the index that contains it.
    current = """
CREATE TABLE g (id int NOT NULL PRIMARY KEY, a int,
  v int AS (a * 2) VIRTUAL, s int AS (a + 1) STORED, o int, w int AS (a - 1) VIRTUAL,
  KEY ix_v (v, id))
"""
    desired = """
CREATE TABLE g (id int NOT NULL PRIMARY KEY, a int,
  v int AS (a * 2) STORED, s int AS (a + 1) VIRTUAL, o int AS (a * 3) VIRTUAL, w int,
  KEY ix_v (v, id))
"""
    changes = converge(server, admin, current, desired)
    assert [type(c) for c in changes] == [AlterTable]
    alter = changes[0]
    assert isinstance(alter, AlterTable)
    assert sum(isinstance(c, RecreateColumn) for c in alter.clauses) == 4
    assert alter.assess(MARIADB_10_11).risk is Risk.DESTRUCTIVE  # o and w lose their values


def test_same_objects_and_fingerprint_ignore_index_order() -> None:
    # A table that got ix_b by ALTER lists it after ix_a; a fresh CREATE may list
    # it first. The diff cannot (cheaply) reorder, so equality must not care.
    from myshift.model.serialize import fingerprint

    cols = (Column("id", "int(11)", nullable=False), Column("a", "int(11)"), Column("b", "int(11)"))
    pk = Index("PRIMARY", IndexKind.PRIMARY, (IndexPart("id"),))
    ix_a = Index("ix_a", IndexKind.INDEX, (IndexPart("a"),))
    ix_b = Index("ix_b", IndexKind.INDEX, (IndexPart("b"),))
    one = Schema("s", tables=(Table("t", cols, (pk, ix_a, ix_b)),))
    two = Schema("s", tables=(Table("t", cols, (pk, ix_b, ix_a)),))
    assert one != two and one.same_objects(two) and not one.same_objects_strict(two)
    assert fingerprint(one) == fingerprint(two)
    assert diff_schemas(one, two) == []
    three = Schema("s", tables=(Table("t", cols, (pk, ix_a)),))
    assert not one.same_objects(three) and fingerprint(one) != fingerprint(three)


@pytest.mark.parametrize(
    ("old", "new", "refused"),
    [
        ("int(11)", "uuid", True),
        ("uuid", "inet6", True),
        ("inet4", "bigint(20) unsigned", True),
        ("datetime", "inet6", True),
        ("uuid", "char(36)", False),
        ("varchar(40)", "inet6", False),
        ("binary(16)", "uuid", False),
        ("int(11)", "bigint(20)", False),
    ],
)
def test_cast_refused(old: str, new: str, refused: bool) -> None:
    assert cast_refused(old, new) is refused


def test_converge_uuid_and_inet_type_changes(server: LocalServer, admin: Conn) -> None:
    # MariaDB refuses MODIFY between UUID/INET* and non-string types (error 4078):
    # such a column is re-created (destructive); string <-> UUID stays a MODIFY.
    current = "CREATE TABLE u (id int NOT NULL PRIMARY KEY, a int, b varchar(40), c uuid)"
    desired = "CREATE TABLE u (id int NOT NULL PRIMARY KEY, a uuid, b inet6, c inet6)"
    changes = converge(server, admin, current, desired)
    alter = changes[0]
    assert isinstance(alter, AlterTable)
    kinds = {type(c).__name__: c for c in alter.clauses}
    assert [type(c).__name__ for c in alter.clauses] == [
        "RecreateColumn",
        "ModifyColumn",
        "RecreateColumn",
    ]
    assert kinds["RecreateColumn"].assess(MARIADB_10_11).risk is Risk.DESTRUCTIVE


def test_names_in_definition_matches_quoted_names_only() -> None:
    from myshift.engine.diff import names_in_definition

    definition = "select `a``b`.`id` AS `id` from `a``b` join `orders` `o`"
    assert names_in_definition(definition, {"a`b", "orders", "order", "id2"}) == {
        "a`b",
        "orders",
    }
