"""Golden SQL: the exact text every change class renders, per flavor, with its assessment.

One file per change class under tests/golden/, holding the MariaDB 10.11 and
MySQL 8.0 renderings. When a rendering changes on purpose, regenerate with

    MYSHIFT_UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/test_render_golden.py

and review the diff of tests/golden/ like any other code change.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

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
    Clause,
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
    RenderOptions,
    ReplaceRoutine,
    ReplaceTrigger,
    TableOptions,
    partition_clause,
)
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
    Table,
    Trigger,
    View,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MYSHIFT_UPDATE_GOLDEN") == "1"

ID = Column("id", "int(11)", nullable=False, auto_increment=True)
NAME = Column(
    "name",
    "varchar(64)",
    nullable=False,
    charset="utf8mb4",
    collation="utf8mb4_general_ci",
)
PK = Index("PRIMARY", IndexKind.PRIMARY, (IndexPart("id"),))
FK = ForeignKey("fk_parent", ("parent_id",), "parent", ("id",), on_delete="CASCADE")
T = Table(
    "orders",
    (ID, NAME, Column("parent_id", "int(11)", default="NULL")),
    (PK, Index("fk_parent", IndexKind.INDEX, (IndexPart("parent_id"),))),
    foreign_keys=(FK,),
)
HASH4 = Partitioning("HASH", "`id`", tuple(Partition(f"p{i}") for i in range(4)))
HASH6 = Partitioning("HASH", "`id`", tuple(Partition(f"p{i}") for i in range(6)))
RANGE = Partitioning(
    "RANGE",
    "`id`",
    (Partition("p0", "1000"), Partition("pmax", "MAXVALUE")),
)
RANGE_P0 = Partitioning("RANGE", "`id`", (Partition("p0", "1000"),))
RANGE_ADDED = Partitioning(
    "RANGE", "`id`", (Partition("p0", "1000"), Partition("p1", "2000", comment="it's new"))
)
RANGE_SPLIT = Partitioning(
    "RANGE",
    "`id`",
    (Partition("p0", "1000"), Partition("p1", "2000"), Partition("pmax", "MAXVALUE")),
)


def _targeted(before: Partitioning, after: Partitioning) -> Clause:
    clause = partition_clause(before, after)
    assert clause is not None
    return clause


VIEW = View("v_orders", "select `orders`.`id` AS `id` from `orders`")
ROUTINE = Routine(
    "total",
    "FUNCTION",
    "`x` int",
    "RETURN x * 2",
    returns="int(11)",
    deterministic=True,
)
TRIGGER = Trigger("orders_bi", "orders", "BEFORE", "INSERT", "SET NEW.name = TRIM(NEW.name)")
EVENT = Event("purge", "EVERY 1 DAY", "DELETE FROM orders WHERE id < 0", comment="nightly")


def alter(*clauses: object) -> AlterTable:
    """Without before/after states, so reverse() reverses clause by clause."""
    return AlterTable("orders", tuple(clauses))  # type: ignore[arg-type]


CASES: dict[str, Change] = {
    "create_table": CreateTable(T),
    "drop_table": DropTable(T),
    "rename_table": RenameTable("orders", "purchases"),
    "add_column": alter(
        AddColumn(
            Column(
                "note", "text", default="NULL", charset="utf8mb4", collation="utf8mb4_general_ci"
            ),
            Position("name"),
        )
    ),
    "add_column_first": alter(AddColumn(Column("seq", "bigint(20)", nullable=False), Position())),
    "drop_column": alter(DropColumn(NAME, Position("id"))),
    "recreate_column_virtual_to_stored": alter(
        RecreateColumn(
            Column("total", "int(11)", generated="`id` * 2"),
            Column("total", "int(11)", generated="`id` * 2", stored=True),
            Position("id"),
        )
    ),
    "recreate_column_ordinary_to_generated": alter(
        RecreateColumn(
            Column("total", "int(11)", default="NULL"),
            Column("total", "int(11)", generated="`id` * 2"),
            Position("id"),
        )
    ),
    "modify_column_widen": alter(
        ModifyColumn(
            Column("parent_id", "int(11)", default="NULL"),
            Column("parent_id", "bigint(20)", default="NULL"),
        )
    ),
    "modify_column_narrow": alter(
        ModifyColumn(
            NAME,
            Column(
                "name",
                "varchar(16)",
                nullable=False,
                charset="utf8mb4",
                collation="utf8mb4_general_ci",
            ),
        )
    ),
    "modify_column_not_null": alter(
        ModifyColumn(
            Column("parent_id", "int(11)", default="NULL"),
            Column("parent_id", "int(11)", nullable=False),
        )
    ),
    "reorder_column": alter(ModifyColumn(NAME, NAME, Position(), Position("id"))),
    "rename_column": alter(
        RenameColumn(
            NAME,
            Column(
                "title",
                "varchar(64)",
                nullable=False,
                charset="utf8mb4",
                collation="utf8mb4_general_ci",
            ),
        )
    ),
    "change_column": alter(
        RenameColumn(
            NAME,
            Column(
                "title",
                "varchar(128)",
                nullable=False,
                charset="utf8mb4",
                collation="utf8mb4_general_ci",
            ),
            Position("parent_id"),
        )
    ),
    "add_index": alter(
        AddIndex(Index("ix_name", IndexKind.INDEX, (IndexPart("name", length=10),)))
    ),
    "add_unique": alter(AddIndex(Index("uq_name", IndexKind.UNIQUE, (IndexPart("name"),)))),
    "add_fulltext": alter(AddIndex(Index("ft_name", IndexKind.FULLTEXT, (IndexPart("name"),)))),
    "add_primary": alter(AddIndex(PK)),
    "drop_primary": alter(DropIndex(PK)),
    "drop_index": alter(DropIndex(Index("ix_name", IndexKind.INDEX, (IndexPart("name"),)))),
    "rename_index": alter(
        RenameIndex(
            Index("ix_a", IndexKind.INDEX, (IndexPart("name"),)),
            Index("ix_b", IndexKind.INDEX, (IndexPart("name"),)),
        )
    ),
    "add_foreign_key": alter(AddForeignKey(FK)),
    "add_foreign_key_unchecked": alter(AddForeignKey(FK, unchecked=True)),
    "drop_foreign_key": alter(DropForeignKey(FK)),
    "add_check": alter(AddCheck(Check("chk_name", "`name` <> ''"))),
    "drop_check": alter(DropCheck(Check("chk_name", "`name` <> ''"))),
    "change_options": alter(
        ChangeOptions(
            TableOptions.of(T),
            TableOptions(
                "InnoDB",
                "utf8mb4",
                "utf8mb4_unicode_ci",
                "COMPRESSED",
                "orders 'v2'",
                (("STATS_PERSISTENT", "0"),),
            ),
        )
    ),
    "convert_charset": alter(
        ChangeOptions(
            TableOptions("InnoDB", "latin1", "latin1_swedish_ci", None, "", ()),
            TableOptions.of(T),
            convert=True,
        )
    ),
    "change_partitioning": alter(ChangePartitioning(None, HASH4)),
    "change_partitioning_range": alter(ChangePartitioning(HASH4, RANGE)),
    "remove_partitioning": alter(RemovePartitioning(HASH4)),
    "add_partitions": alter(_targeted(RANGE_P0, RANGE_ADDED)),
    "drop_partitions": alter(_targeted(RANGE_ADDED, RANGE_P0)),
    "reorganize_partitions": alter(_targeted(RANGE, RANGE_SPLIT)),
    "resize_hash_partitions": alter(_targeted(HASH4, HASH6)),
    "multi_clause_alter": alter(
        DropIndex(Index("ix_name", IndexKind.INDEX, (IndexPart("name"),))),
        AddColumn(Column("qty", "int(11)", nullable=False, default="0"), Position("name")),
        AddIndex(Index("ix_qty", IndexKind.INDEX, (IndexPart("qty"),))),
        ChangePartitioning(None, HASH4),
    ),
    "create_view": CreateView(VIEW),
    "alter_view": AlterView(
        VIEW, View("v_orders", "select `orders`.`name` AS `name` from `orders`")
    ),
    "drop_view": DropView(VIEW),
    "create_routine": CreateRoutine(ROUTINE),
    "drop_routine": DropRoutine(ROUTINE),
    "create_trigger": CreateTrigger(TRIGGER),
    "drop_trigger": DropTrigger(TRIGGER),
    "swap_trigger_drop": DropTrigger(TRIGGER, swap=True),
    "swap_trigger_create": CreateTrigger(replace(TRIGGER, body="SET NEW.name = 'x'"), swap=True),
    "replace_routine": ReplaceRoutine(ROUTINE, replace(ROUTINE, body="RETURN 2")),
    "replace_trigger": ReplaceTrigger(
        TRIGGER, replace(TRIGGER, body="SET NEW.name = UPPER(TRIM(NEW.name))")
    ),
    "create_event": CreateEvent(EVENT),
    "alter_event": AlterEvent(EVENT, Event("purge", "EVERY 1 HOUR", EVENT.body, status="DISABLED")),
    "drop_event": DropEvent(EVENT),
}

OPTIONS = RenderOptions(algorithm="INPLACE", lock="NONE", if_exists=True)


def with_session(change: Change, flavor: Flavor) -> list[str]:
    """The change's statement with the session statements the runner puts around it."""
    before, after = change.session(flavor)
    return [f"{sql};" for sql in (*before, change.render(flavor), *after)]


def golden_text(change: Change) -> str:
    out: list[str] = []
    for flavor in (MARIADB_10_11, MYSQL_8_0):
        if getattr(change, "mariadb_only", False) and not flavor.is_mariadb:
            out.append(f"-- {flavor}: never emitted; the diff emits DROP + CREATE adjacent")
            continue
        a = change.assess(flavor)
        out.append(f"-- {flavor}: {a.risk} {a.algorithm} LOCK={a.lock}: {a.reason}")
        out += with_session(change, flavor)
        out.append(f"-- reverse: {change.reverse().describe()}")
        out += with_session(change.reverse(), flavor)
    if not getattr(change, "mariadb_only", False):
        out.append("-- with RenderOptions(algorithm=INPLACE, lock=NONE, if_exists=True), mysql:")
        out.append(change.render(MYSQL_8_0, OPTIONS) + ";")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    path = GOLDEN / f"{name}.sql"
    text = golden_text(CASES[name])
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"missing {path}; run with MYSHIFT_UPDATE_GOLDEN=1"
    assert text == path.read_text()


def test_every_change_class_has_a_golden() -> None:
    import importlib
    import pkgutil

    import myshift.engine.changes as mod

    prefix = mod.__name__ + "."
    modules = [importlib.import_module(m.name) for m in pkgutil.iter_modules(mod.__path__, prefix)]
    classes = {
        obj
        for m in modules
        for obj in vars(m).values()
        if isinstance(obj, type)
        and obj.__module__ == m.__name__
        and issubclass(obj, (mod.Change, mod.Clause))
        and obj not in (mod.Change, mod.Clause)
    }
    assert {AddColumn, AddIndex, AlterTable, CreateView} <= classes  # every module was walked
    covered: set[type[mod.Change | mod.Clause]] = {type(c) for c in CASES.values()}
    covered |= {type(cl) for c in CASES.values() if isinstance(c, AlterTable) for cl in c.clauses}
    assert classes - covered == set()
