"""Column backup: before ``DROP COLUMN`` or a lossy ``MODIFY``, a verified copy.

The row key and the affected columns are copied into a backup table in the
holding schema and *verified* (row count and a checksum on both sides, in one
transaction) before anything destructive is allowed to run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from myshift.engine.introspect.heldcatalog import table_columns, unique_key_parts
from myshift.engine.keeppolicy import DEFAULT_HOLDING, choose_row_key, columns_to_back_up
from myshift.errors import UnsafeError, UsageError, VerificationFailed
from myshift.workflows.keepdata.catalog import ensure_holding, held_name_for, insert_catalog
from myshift.workflows.keepdata.records import ColumnInfo, HeldColumns
from myshift.workflows.keepdata.session import session_sql_mode, transaction
from myshift.workflows.keepdata.sql import backup_columns_sql, checksum_sql, qualified

if TYPE_CHECKING:
    from myshift.db.connect import Conn


def row_key(conn: Conn, schema: str, table: str) -> tuple[str, ...] | None:
    """The PRIMARY KEY columns, else those of a UNIQUE key whose columns are all NOT NULL."""
    return choose_row_key(unique_key_parts(conn, schema, table))


def backup_columns(
    conn: Conn,
    schema: str,
    table: str,
    columns: Sequence[str],
    apply_id: str | int,
    holding: str = DEFAULT_HOLDING,
) -> HeldColumns:
    """Copy the row key and ``columns`` of ``schema.table`` to the holding schema, verified.

    The copy and both checksums run in one transaction whose locking reads keep
    the rows still, so the source and the copy are compared at the same point.
    On any mismatch the copy is dropped and ``VerificationFailed`` is raised:
    the caller must not run the destructive statement.
    """
    rows = table_columns(conn, schema, table)
    all_cols = {r.name.lower(): ColumnInfo.of(r) for r in rows}
    if not all_cols:
        raise UsageError(
            f"Table `{schema}`.`{table}` does not exist, so its columns cannot be backed up.",
            "Check the plan against the live schema.",
        )
    missing = [c for c in columns if c.lower() not in all_cols]
    if missing:
        raise UsageError(
            f"Table `{schema}`.`{table}` has no column {', '.join(f'`{c}`' for c in missing)}.",
            "Check the plan against the live schema.",
        )
    key_names = row_key(conn, schema, table)
    if key_names is None:
        raise UnsafeError(
            f"Table `{schema}`.`{table}` has no PRIMARY KEY or NOT NULL UNIQUE key, so the values "
            f"of {', '.join(f'`{c}`' for c in columns)} cannot be kept and matched back to rows.",
            "Add a primary key first, or re-run without keeping data for this change.",
        )
    key = [all_cols[k.lower()] for k in key_names]
    kept = [ColumnInfo.of(r) for r in columns_to_back_up(columns, rows, key_names)]
    ensure_holding(conn, holding)
    held_name = held_name_for(conn, holding, apply_id, schema, table, "__cols")
    held = HeldColumns(
        apply_id=str(apply_id),
        schema=schema,
        table=table,
        holding=holding,
        held_name=held_name,
        key=tuple(key),
        columns=tuple(kept),
        row_count=0,
        checksum=0,
    )
    return _copy_verified(conn, held)


def _copy_verified(conn: Conn, held: HeldColumns) -> HeldColumns:
    """Create and fill the backup table, compare it with the source, record it.

    Returns ``held`` with the row count and checksum measured.  On any failure
    the backup table is dropped (the catalog row, written in the same
    transaction, is rolled back with the copy).
    """
    schema, table, holding, held_name = held.schema, held.table, held.holding, held.held_name
    create, insert = backup_columns_sql(schema, table, holding, held_name, held.key, held.columns)
    conn.execute(create)
    everything = [*held.key, *held.columns]
    try:
        with session_sql_mode(conn, "NO_ENGINE_SUBSTITUTION"), transaction(conn):
            conn.execute(insert)
            src = conn.query(
                checksum_sql("s", everything, f"{qualified(schema, table)} AS s", lock=True)
            )[0]
            dst = conn.query(
                checksum_sql("b", everything, f"{qualified(holding, held_name)} AS b")
            )[0]
            if (int(src[0]), int(src[1])) != (int(dst[0]), int(dst[1])):
                raise VerificationFailed(
                    f"The backup of `{schema}`.`{table}` "
                    f"({', '.join(c.name for c in held.columns)}) "
                    f"does not match the table: {src[0]} rows/checksum {src[1]} vs "
                    f"{dst[0]} rows/checksum {dst[1]}.",
                    "Nothing destructive was run; investigate and run again.",
                )
            held = replace(held, row_count=int(src[0]), checksum=int(src[1]))
            # Same transaction: the catalog row exists iff the verified copy does.
            insert_catalog(conn, held)
    except BaseException:
        conn.execute(f"DROP TABLE IF EXISTS {qualified(holding, held_name)}")
        raise
    return held
