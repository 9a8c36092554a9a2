"""engine.keeppolicy: what keep-data keeps and how it names it (no server needed)."""

from __future__ import annotations

from myshift.engine.introspect.heldcatalog import ColumnRow, Referencing, UniqueKeyPart
from myshift.engine.keeppolicy import (
    MAX_IDENT,
    blocking_references,
    choose_row_key,
    columns_to_back_up,
    foreign_references,
    held_name,
    lossy_column_change,
    untouched_on_update,
)
from myshift.model.schema import Column, ForeignKey, Schema, Table


def _col(name: str, *, generated: bool = False, extra: str = "") -> ColumnRow:
    return ColumnRow(name, "int(11)", "int", None, None, True, extra, generated)


def test_lossy_changes_are_narrowing_conversion_charset_and_not_null() -> None:
    assert lossy_column_change(Column("a", "decimal(12,2)"), Column("a", "decimal(8,2)"))
    assert not lossy_column_change(Column("a", "int(11)"), Column("a", "bigint(20)"))
    latin = Column("t", "varchar(10)", charset="utf8mb4")
    assert lossy_column_change(latin, Column("t", "varchar(10)", charset="latin1"))
    assert not lossy_column_change(
        Column("t", "varchar(10)", charset="latin1"), Column("t", "varchar(10)", charset="utf8mb4")
    )
    assert lossy_column_change(Column("n", "int(11)"), Column("n", "int(11)", nullable=False))


def test_held_names_fit_and_avoid_taken_names() -> None:
    assert held_name(set(), 42, "shop", "orders") == "a42__orders"
    assert held_name(set(), "x-1", "shop", "orders", "__cols") == "ax_1__orders__cols"
    other = held_name({"a42__orders"}, 42, "shop", "orders")
    assert other is not None and other != "a42__orders" and other.startswith("a42__orders_")
    long = held_name(set(), 7, "shop", "t" * 64)
    assert long is not None and len(long) == MAX_IDENT
    # Deterministic: same origin, same name; a different schema hashes differently.
    assert long == held_name(set(), 7, "shop", "t" * 64)
    assert long != held_name(set(), 7, "other", "t" * 64)


def test_row_key_prefers_primary_and_skips_nullable_or_prefix_keys() -> None:
    parts = [
        UniqueKeyPart("PRIMARY", "id", True),
        UniqueKeyPart("PRIMARY", "region", True),
        UniqueKeyPart("email", "email", True),
    ]
    assert choose_row_key(parts) == ("id", "region")
    parts = [
        UniqueKeyPart("code", "code", False),  # nullable or a prefix
        UniqueKeyPart("email", "email", True),
    ]
    assert choose_row_key(parts) == ("email",)
    assert choose_row_key([UniqueKeyPart("code", "code", False)]) is None
    assert choose_row_key([]) is None


def test_backup_holds_each_asked_column_once_without_key_or_generated() -> None:
    cols = [_col("id"), _col("a"), _col("g", generated=True), _col("b")]
    kept = columns_to_back_up(["B", "g", "id", "a", "b"], cols, ["ID"])
    assert [c.name for c in kept] == ["b", "a"]


def test_restore_leaves_on_update_columns_alone_except_those_restored() -> None:
    cols = [
        _col("id"),
        _col("seen", extra="on update current_timestamp()"),
        _col("changed", extra="DEFAULT_GENERATED on update CURRENT_TIMESTAMP"),
        _col("virt", generated=True, extra="VIRTUAL GENERATED on update x"),
    ]
    assert untouched_on_update(cols, ["SEEN"]) == ["changed"]


def test_run_time_references_ignore_self_and_co_dropped_tables() -> None:
    refs = [
        Referencing("shop", "orders", "self_fk"),
        Referencing("shop", "Items", "items_fk"),
        Referencing("shop", "notes", "notes_fk"),
        Referencing("other", "items", "x_fk"),
    ]
    assert foreign_references(refs, "shop", "Orders", ["items"]) == [
        "`shop`.`notes` (notes_fk)",
        "`other`.`items` (x_fk)",
    ]


def test_plan_time_references_block_unless_dropped_or_losing_the_key() -> None:
    fk = ForeignKey("fk", ("order_id",), "orders", ("id",))
    desired = Schema(
        "shop",
        tables=(
            Table("lines", (Column("order_id", "int(11)"),), foreign_keys=(fk,)),
            Table("notes", (Column("order_id", "int(11)"),)),  # loses its key
        ),
    )
    refs = [
        Referencing("shop", "lines", "fk"),
        Referencing("shop", "notes", "notes_fk"),
        Referencing("shop", "items", "items_fk"),  # dropped by the same plan
        Referencing("elsewhere", "lines", "far_fk"),
    ]
    blocking = blocking_references(refs, "shop", "orders", ["orders", "items"], desired)
    assert blocking == ["`shop`.`lines` (fk)", "`elsewhere`.`lines` (far_fk)"]
