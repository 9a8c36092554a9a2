"""Soft drop: move a table into the holding schema instead of dropping it.

``RENAME TABLE`` is metadata-only: no data is copied, and restoring is another
rename.  Two server quirks (checked on MariaDB 10.11 and MySQL 8):

* ``RENAME TABLE`` across schemas keeps the table's own foreign keys, which then
  still reference the original schema by name — so the held table would block
  deletes in production.  Worse, InnoDB foreign key names are unique per
  schema, so two held tables with the same constraint name collide with a
  misleading "Table ... already exists".  Outgoing foreign keys are therefore
  dropped *before* the move and recorded; restore re-adds them.
* ``RENAME TABLE`` to another schema fails with "Trigger in wrong schema" when
  the table has triggers: they are recorded (``SHOW CREATE TRIGGER``, the
  server's own text, with its sql_mode and charset) and dropped before the move,
  and re-created on restore.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from myshift.db.connect import quote_ident as q
from myshift.engine.introspect.heldcatalog import (
    outgoing_foreign_keys,
    referencing_keys,
    table_columns,
    table_triggers,
    table_type,
)
from myshift.engine.keeppolicy import DEFAULT_HOLDING, foreign_references
from myshift.errors import ApplyFailed, UnsafeError, UsageError
from myshift.workflows.keepdata.catalog import (
    ensure_holding,
    held_name_for,
    held_table_origins,
    insert_catalog,
)
from myshift.workflows.keepdata.records import ColumnInfo, HeldForeignKey, HeldTable, HeldTrigger
from myshift.workflows.keepdata.session import create_trigger
from myshift.workflows.keepdata.sql import qualified, soft_drop_table_sql

if TYPE_CHECKING:
    from myshift.db.connect import Conn


def soft_drop_table(
    conn: Conn,
    schema: str,
    table: str,
    apply_id: str | int,
    holding: str = DEFAULT_HOLDING,
    *,
    co_dropped: Collection[str] = (),
) -> HeldTable:
    """Move ``schema.table`` into the holding schema instead of dropping it.

    ``co_dropped`` names the other tables of ``schema`` dropped by the same
    apply: foreign keys from them do not block the drop.  Any other table
    referencing this one does: ``UnsafeError`` lists them.
    """
    _check_droppable(conn, schema, table, co_dropped)
    ensure_holding(conn, holding)
    columns = tuple(ColumnInfo.of(c) for c in table_columns(conn, schema, table))
    fks = _outgoing_fks(conn, schema, table, holding)
    triggers = [
        HeldTrigger(t.name, t.create, t.sql_mode, t.charset_client, t.collation_connection)
        for t in table_triggers(conn, schema, table)
    ]
    row_count = int(conn.scalar(f"SELECT COUNT(*) FROM {qualified(schema, table)}"))
    held_name = held_name_for(conn, holding, apply_id, schema, table)
    stmts = soft_drop_table_sql(schema, table, holding, held_name, fks, triggers)
    done: list[str] = []
    try:
        for stmt in stmts:
            conn.execute(stmt)
            done.append(stmt)
    except Exception as exc:
        _undo_partial_soft_drop(conn, schema, table, fks, triggers, done)
        raise ApplyFailed(
            f"Could not move table `{schema}`.`{table}` to `{holding}`.`{held_name}`: {exc}.",
            "Nothing was dropped; fix the cause and run again.",
        ) from exc
    held = HeldTable(
        apply_id=str(apply_id),
        schema=schema,
        table=table,
        holding=holding,
        held_name=held_name,
        columns=columns,
        row_count=row_count,
        foreign_keys=tuple(fks),
        triggers=tuple(triggers),
    )
    insert_catalog(conn, held)
    return held


def _check_droppable(conn: Conn, schema: str, table: str, co_dropped: Collection[str]) -> None:
    """Refuse (changing nothing) a missing table, a view, or a referenced table."""
    kind = table_type(conn, schema, table)
    if kind is None:
        raise UsageError(
            f"Table `{schema}`.`{table}` does not exist, so it cannot be soft-dropped.",
            "Check the plan against the live schema.",
        )
    if kind != "BASE TABLE":
        raise UsageError(
            f"`{schema}`.`{table}` is a {kind.lower()}, not a base table, so it cannot "
            "be soft-dropped.",
            "Drop it normally; its definition is in the pre-apply snapshot.",
        )
    referencing = foreign_references(
        referencing_keys(conn, schema, table), schema, table, co_dropped
    )
    if referencing:
        raise UnsafeError(
            f"Table `{schema}`.`{table}` is referenced by foreign keys from "
            f"{', '.join(referencing)}, so it cannot be dropped with its data kept.",
            "Drop those foreign keys (or those tables) in the same change, then run again.",
        )


def _outgoing_fks(conn: Conn, schema: str, table: str, holding: str) -> list[HeldForeignKey]:
    """The table's foreign keys as they must be re-added on restore."""
    refs = outgoing_foreign_keys(conn, schema, table)
    # A co-dropped parent already moved to the holding schema is referenced by
    # its held name: record where it will be restored to instead.
    held_origin: dict[str, tuple[str, str]] = {}
    if any(r.ref_schema == holding for r in refs):
        held_origin = held_table_origins(conn, holding)
    fks = []
    for r in refs:
        ref_schema, ref_table = r.ref_schema, r.ref_table
        if ref_schema == holding and ref_table in held_origin:
            ref_schema, ref_table = held_origin[ref_table]
        fks.append(
            HeldForeignKey(
                name=r.name,
                columns=r.columns,
                ref_schema=ref_schema,
                ref_table=ref_table,
                ref_columns=r.ref_columns,
                on_update=r.on_update,
                on_delete=r.on_delete,
            )
        )
    return fks


def _undo_partial_soft_drop(
    conn: Conn,
    schema: str,
    table: str,
    fks: Sequence[HeldForeignKey],
    triggers: Sequence[HeldTrigger],
    done: Sequence[str],
) -> None:
    """Best effort: put back what a failed soft drop removed before the rename.

    Failures here are swallowed on purpose: the caller raises the original error.
    """
    if fks and any(s.startswith("ALTER TABLE") for s in done):
        with contextlib.suppress(Exception):
            conn.execute(
                f"ALTER TABLE {qualified(schema, table)} "
                + ", ".join(fk.add_clause() for fk in fks)
            )
    for trig in triggers:
        if any(s.startswith("DROP TRIGGER") and q(trig.name) in s for s in done):
            with contextlib.suppress(Exception):
                create_trigger(conn, schema, trig)
