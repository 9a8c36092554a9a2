"""Restore: rename soft-dropped tables back, write kept column values back.

A rollback re-adds dropped columns with their original definitions (the
reverse DDL), then ``restore_columns`` writes the kept values back by key and
verifies them against the backup in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from myshift.db.connect import quote_ident as q
from myshift.engine.introspect.heldcatalog import table_columns, table_exists
from myshift.engine.keeppolicy import untouched_on_update
from myshift.errors import UnsafeError, UsageError, VerificationFailed
from myshift.workflows.keepdata.catalog import forget, mark_restored
from myshift.workflows.keepdata.records import (
    ColumnInfo,
    ColumnsRestored,
    HeldColumns,
    HeldForeignKey,
    HeldTable,
)
from myshift.workflows.keepdata.session import create_trigger, session_sql_mode, transaction
from myshift.workflows.keepdata.sql import checksum_sql, join_on, qualified, restore_columns_sql

if TYPE_CHECKING:
    from myshift.db.connect import Conn


def restore_table(conn: Conn, held: HeldTable, schema: str | None = None) -> None:
    """Rename a soft-dropped table back and re-add its foreign keys and triggers."""
    restore_tables(conn, [held], schema)


def restore_tables(conn: Conn, helds: Sequence[HeldTable], schema: str | None = None) -> None:
    """Restore several soft-dropped tables: all renames first, then foreign keys.

    Renaming every table back before re-adding any foreign key means tables
    that reference each other can be restored in any order.  Everything is
    checked first (name free, held table present, no orphan rows for the
    foreign keys) so a refusal changes nothing.
    """
    if not helds:
        return
    target = {h.held_name: schema or h.schema for h in helds}
    for h in helds:
        _check_restorable(conn, h, helds, target)
    renames = ", ".join(
        f"{qualified(h.holding, h.held_name)} TO {qualified(target[h.held_name], h.table)}"
        for h in helds
    )
    conn.execute(f"RENAME TABLE {renames}")  # one atomic statement for the whole batch
    for h in helds:
        dest = target[h.held_name]
        fks = [
            HeldForeignKey(
                fk.name,
                fk.columns,
                dest if fk.ref_schema == h.schema else fk.ref_schema,
                fk.ref_table,
                fk.ref_columns,
                fk.on_update,
                fk.on_delete,
            )
            for fk in h.foreign_keys
        ]
        if fks:
            conn.execute(
                f"ALTER TABLE {qualified(dest, h.table)} "
                + ", ".join(fk.add_clause() for fk in fks)
            )
        for trig in h.triggers:
            create_trigger(conn, dest, trig)
        forget(conn, h.holding, h.held_name)


def _check_restorable(
    conn: Conn, h: HeldTable, helds: Sequence[HeldTable], target: dict[str, str]
) -> None:
    """Refuse restoring ``h`` (one of ``helds``, going to ``target``) when it cannot be."""
    # Where each table referenced by a foreign key lives *right now*: still
    # held (restored in this batch) or already back in its schema.
    now_at: dict[tuple[str, str], tuple[str, str]] = {
        (target[o.held_name], o.table): (o.holding, o.held_name) for o in helds
    }
    dest = target[h.held_name]
    if not table_exists(conn, h.holding, h.held_name):
        raise UsageError(
            f"The held copy of `{h.schema}`.`{h.table}` (`{h.holding}`.`{h.held_name}`) "
            "no longer exists (purged?), so it cannot be restored.",
            "Restore from a backup instead.",
        )
    if table_exists(conn, dest, h.table):
        raise UnsafeError(
            f"Table `{dest}`.`{h.table}` exists again, so the soft-dropped table cannot be "
            "renamed back over it.",
            "Rename or drop the new table, then run the rollback again.",
        )
    for fk in h.foreign_keys:
        ref_schema = dest if fk.ref_schema == h.schema else fk.ref_schema
        ref_sch, ref_tab = now_at.get((ref_schema, fk.ref_table), (ref_schema, fk.ref_table))
        if not table_exists(conn, ref_sch, ref_tab):
            raise UnsafeError(
                f"Table `{dest}`.`{h.table}` has foreign key `{fk.name}` to "
                f"`{ref_schema}`.`{fk.ref_table}`, which does not exist.",
                "Restore that table first (or in the same rollback).",
            )
        orphans = _orphan_count(conn, h.holding, h.held_name, fk, ref_sch, ref_tab)
        if orphans:
            raise UnsafeError(
                f"Table `{dest}`.`{h.table}`: {orphans} rows no longer match foreign key "
                f"`{fk.name}` to `{ref_schema}`.`{fk.ref_table}` (parent rows were deleted "
                "since the apply).",
                f"Fix the rows in `{h.holding}`.`{h.held_name}` or re-create the parent "
                "rows, then run the rollback again.",
            )


def _orphan_count(
    conn: Conn, holding: str, held_name: str, fk: HeldForeignKey, ref_sch: str, ref_tab: str
) -> int:
    on = " AND ".join(
        f"p.{q(rc)} = c.{q(cc)}" for cc, rc in zip(fk.columns, fk.ref_columns, strict=True)
    )
    not_null = " AND ".join(f"c.{q(cc)} IS NOT NULL" for cc in fk.columns)
    return int(
        conn.scalar(
            f"SELECT COUNT(*) FROM {qualified(holding, held_name)} AS c "
            f"LEFT JOIN {qualified(ref_sch, ref_tab)} AS p ON {on} "
            f"WHERE {not_null} AND p.{q(fk.ref_columns[0])} IS NULL"
        )
    )


def restore_columns(conn: Conn, held: HeldColumns, schema: str | None = None) -> ColumnsRestored:
    """Write kept column values back, after the reverse DDL re-added the columns.

    Rows inserted after the apply are not in the backup and keep the column
    default; rows deleted since are counted in ``rows_missing``.  The written
    values are verified against the backup (same transaction) — a mismatch,
    e.g. a column re-added with a narrower type, rolls the update back and
    raises ``VerificationFailed``.  Triggers on the table fire for the UPDATE.
    """
    dest = schema or held.schema
    if not table_exists(conn, held.holding, held.held_name):
        raise UsageError(
            f"The backup of `{held.schema}`.`{held.table}` (`{held.holding}`.`{held.held_name}`) "
            "no longer exists (purged?), so its values cannot be restored.",
            "Restore from a backup instead.",
        )
    live = {r.name.lower(): r for r in table_columns(conn, dest, held.table)}
    missing = [c for c in (*held.key_columns, *held.column_names) if c.lower() not in live]
    if missing:
        raise UsageError(
            f"Table `{dest}`.`{held.table}` has no column "
            f"{', '.join(f'`{c}`' for c in missing)} to restore values into.",
            "Re-add the columns with their original definitions first (the reverse plan does).",
        )
    keep_unchanged = untouched_on_update(live.values(), held.column_names)
    # Same shape as the checksum recorded at backup time: key, then columns.
    target_cols = [*held.key, *(ColumnInfo.of(live[c.lower()]) for c in held.column_names)]
    backup_cols = [*held.key, *held.columns]
    join = (
        f"{qualified(dest, held.table)} AS t JOIN {qualified(held.holding, held.held_name)} "
        f"AS b ON {join_on(held.key_columns, 't', 'b')}"
    )
    with session_sql_mode(conn, "NO_ENGINE_SUBSTITUTION"), transaction(conn):
        if held.columns:
            conn.execute(restore_columns_sql(held, dest, keep_unchanged))
        mine = conn.query(checksum_sql("t", target_cols, join, lock=True))[0]
        kept = conn.query(checksum_sql("b", backup_cols, join))[0]
        rows = int(kept[0])
        if (int(mine[0]), int(mine[1])) != (rows, int(kept[1])):
            raise VerificationFailed(
                f"Restoring {', '.join(f'`{c}`' for c in held.column_names)} of "
                f"`{dest}`.`{held.table}` did not reproduce the kept values "
                f"(checksum {mine[1]} vs {kept[1]} over {rows} rows); the update was rolled back.",
                "Check that the columns were re-added with their original types, then run again.",
            )
        if rows == held.row_count and int(kept[1]) != held.checksum:
            raise VerificationFailed(
                f"The backup `{held.holding}`.`{held.held_name}` no longer matches the checksum "
                "recorded when it was taken; the update was rolled back.",
                "Inspect the backup table before restoring by hand.",
            )
        mark_restored(conn, held.holding, held.held_name)
    return ColumnsRestored(held, rows_restored=rows, rows_missing=held.row_count - rows)
