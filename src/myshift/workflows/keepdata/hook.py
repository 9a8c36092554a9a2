"""Keep-data inside an apply: the per-statement runner, and the plan-time refusals."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING

from myshift.engine.introspect.heldcatalog import referencing_keys
from myshift.engine.keeppolicy import DEFAULT_HOLDING, blocking_references
from myshift.errors import UnsafeError, UsageError
from myshift.workflows.keepdata.backup import backup_columns, row_key
from myshift.workflows.keepdata.catalog import held_for_apply
from myshift.workflows.keepdata.partitions import keep_partitions, restore_partition
from myshift.workflows.keepdata.records import HeldColumns, HeldPartition, HeldTable
from myshift.workflows.keepdata.restore import restore_columns, restore_tables
from myshift.workflows.keepdata.rowformat import RowFormatUnknown, held_row_formats
from myshift.workflows.keepdata.softdrop import soft_drop_table

if TYPE_CHECKING:
    from myshift.db.connect import Conn
    from myshift.model import Schema
    from myshift.workflows.planmodel import PlannedStatement
    from myshift.workflows.runner import StatementHook


# --------------------------------------------------------------------------- planning


def refuse_referenced_soft_drops(
    conn: Conn, schema: str, dropped: Collection[str], desired: Schema
) -> None:
    """At plan time: refuse keeping a dropped table that something will still reference.

    Which references block is ``keeppolicy.blocking_references`` (typically a
    table in another schema): they would make the soft drop fail halfway
    through an apply, so the plan is refused now, with the referencing tables
    named.
    """
    problems: list[str] = []
    for table in dropped:
        refs = referencing_keys(conn, schema, table)
        blocking = blocking_references(refs, schema, table, dropped, desired)
        if blocking:
            problems.append(f"`{schema}`.`{table}` is referenced by {', '.join(blocking)}")
    if problems:
        raise UnsafeError(
            "Cannot keep the data of dropped tables: "
            + "; ".join(problems)
            + " (a soft drop moves the table away, which would break those foreign keys).",
            "Drop those foreign keys (or those tables) first, or plan without --keep-data.",
        )


def refuse_keyless_backups(conn: Conn, schema: str, tables: Collection[str]) -> None:
    """At plan time: column values can only be kept for tables with a row key."""
    keyless = [t for t in tables if row_key(conn, schema, t) is None]
    if keyless:
        raise UnsafeError(
            f"Cannot keep the dropped or narrowed column values of "
            f"{', '.join(f'`{schema}`.`{t}`' for t in keyless)}: no PRIMARY KEY or NOT NULL "
            "UNIQUE key to match them back to their rows on rollback.",
            "Add a primary key first (in an earlier apply), or plan without --keep-data.",
        )


def refuse_unknown_row_formats(
    conn: Conn, schema: str, kept: Sequence[tuple[str, Sequence[str]]], *, planning: bool
) -> None:
    """Before anything runs: each kept partition's held table can have its row format.

    Read, and matched (``keepdata.rowformat``); refused otherwise, since the
    swap would fail once the plan's earlier statements ran.  ``planning``: a
    plan made without PROCESS (plan's grants lack it) is not refused for
    that; apply reads again right before it starts.
    """
    for table, parts in kept:
        try:
            held_row_formats(conn, schema, table, parts)
        except RowFormatUnknown as exc:
            if not (planning and exc.privilege):
                raise


# --------------------------------------------------------------------------- apply hook


def apply_hook(
    statements: Sequence[PlannedStatement],
    schema: str,
    apply_id: str | int,
    *,
    holding: str = DEFAULT_HOLDING,
    undoes_apply_id: int | None = None,
    say: Callable[[str], None] = lambda s: None,
    progress: Callable[[float, str], None] | None = None,
) -> StatementHook:
    """The per-statement runner for ``run_statements`` that keeps and restores data.

    ``statements`` are the runnable plan statements, in the order run
    (``seq`` is 1-based into them).  A kept ``DROP TABLE`` becomes a soft drop;
    a statement with ``keep_columns`` first takes a verified backup (and does
    not run if that fails); a ``DROP PARTITION`` with ``keep_partitions`` runs
    after their rows are swapped out (keepdata.partitions); a rollback restore
    step renames held tables back, swaps kept partition rows back and writes
    kept column values back by key.  ``progress(percent, detail)``
    hears about every chunk of a long column backup.
    """
    co_dropped = [s.subject for s in statements if s.keep_table]

    def hook(conn: Conn, seq: int, st: PlannedStatement) -> int | None:
        fs = statements[seq - 1]
        if fs.keep_table:
            held = soft_drop_table(
                conn, schema, fs.subject, apply_id, holding, co_dropped=co_dropped
            )
            say(f"kept table {fs.subject} ({held.row_count} rows) as {holding}.{held.held_name}")
            return held.row_count
        if fs.restore_held:
            return _restore_step(conn, fs, schema, holding, undoes_apply_id, say)
        if fs.keep_partitions:
            parts = keep_partitions(
                conn,
                schema,
                fs.subject,
                fs.keep_partitions,
                apply_id,
                holding,
                lambda: conn.execute(st.sql),
            )
            for hp in parts:
                say(
                    f"kept partition {hp.partition} of {fs.subject} ({hp.row_count} rows) as "
                    f"{holding}.{hp.held_name}"
                )
            return sum(hp.row_count for hp in parts)
        if fs.keep_columns:
            held_cols = backup_columns(
                conn, schema, fs.subject, fs.keep_columns, apply_id, holding, progress
            )
            say(
                f"kept {', '.join(held_cols.column_names) or 'no stored'} column(s) of "
                f"{fs.subject} ({held_cols.row_count} rows, verified) as "
                f"{holding}.{held_cols.held_name}"
            )
        return conn.execute(st.sql)

    return hook


def _restore_step(
    conn: Conn,
    fs: PlannedStatement,
    schema: str,
    holding: str,
    undoes_apply_id: int | None,
    say: Callable[[str], None],
) -> int:
    if undoes_apply_id is None:
        raise UsageError(
            f"The plan restores held data ({', '.join(fs.restore_held)}) but does not say which "
            "apply it undoes.",
            "Make the plan with `myshift rollback --plan-only`.",
        )
    by_name = {h.held_name: h for h in held_for_apply(conn, undoes_apply_id, holding=holding)}
    missing = [n for n in fs.restore_held if n not in by_name]
    if missing:
        raise UsageError(
            f"Held data {', '.join(f'`{holding}`.`{n}`' for n in missing)} of apply "
            f"#{undoes_apply_id} is no longer in the trash (restored or purged).",
            "Make a new rollback plan.",
        )
    wanted = [by_name[n] for n in fs.restore_held]
    tables = [h for h in wanted if isinstance(h, HeldTable)]
    restore_tables(conn, tables, schema)
    rows = sum(h.row_count for h in tables)
    for h in tables:
        say(f"restored table {h.table} ({h.row_count} rows) from {holding}.{h.held_name}")
    for hp in wanted:
        if isinstance(hp, HeldPartition):
            back = restore_partition(conn, hp, schema)
            rows += back.rows_restored
            say(
                f"restored {back.rows_restored} rows of partition {hp.partition} of {hp.table}"
                + (f", beside {back.rows_since} written since" if back.rows_since else "")
                + (
                    f" (the held table rebuilt {back.row_format_change} to match it first)"
                    if back.row_format_change
                    else ""
                )
            )
    for hc in wanted:
        if isinstance(hc, HeldColumns):
            done = restore_columns(conn, hc, schema)
            rows += done.rows_restored
            say(
                f"restored {', '.join(hc.column_names)} of {hc.table}: {done.rows_restored} rows"
                + (f", {done.rows_missing} deleted since" if done.rows_missing else "")
            )
    return rows
