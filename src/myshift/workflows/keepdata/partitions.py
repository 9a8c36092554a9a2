"""Keeping a dropped partition's rows: swap them out before ``DROP PARTITION``.

``ALTER TABLE t EXCHANGE PARTITION p WITH TABLE h`` swaps the rows of ``p``
with those of a plain table ``h`` of the same structure, moving files and
metadata only (no row is copied).  Keep-data creates ``h`` empty in the
holding schema (``CREATE TABLE ... LIKE t`` + ``REMOVE PARTITIONING``),
swaps, then lets ``DROP PARTITION`` drop the now-empty partition.  A rollback
re-creates the partition (the reverse DDL) and swaps the rows back.

Why under ``LOCK TABLES t WRITE, h WRITE``: between the swap and the drop
(or the re-create and the swap back) the application could write a row into
the partition's range, and the next statement would delete it (or carry it
off into the holding schema).  Under the lock nobody else writes; the lock
lasts two metadata-only statements (plus, on the way back, the server's check
that each kept row fits the partition, which MariaDB 10.11 always makes).
The lock is taken with the DDL session's short ``lock_wait_timeout``, so a
long transaction on the table makes it fail fast, before anything changed;
while it is held, ``innodb_lock_wait_timeout`` is no longer than that either
(``session.short_row_lock_wait``).

One partition per lock: with two held tables locked (``LOCK TABLES t WRITE,
h1 WRITE, h2 WRITE``, or even ``h2 READ``) MariaDB 10.11.19's EXCHANGE waits on
its own session's lock until innodb_lock_wait_timeout and fails with 1205.
A keep-data plan therefore has one ``DROP PARTITION`` per kept partition
(``keeppolicy.one_drop_per_kept_partition``), and ``keep_partitions`` refuses a
statement that names more before it locks anything (it would hold the table
locked until lock_wait_timeout, then fail).

Verified statement by statement on MariaDB 10.11.19 (tests/test_partition_keepdata.py).
MySQL's side rests on its manual (``sql.MANUAL_EXCHANGE``): same statements, plus
WITHOUT VALIDATION; EXCHANGE and DROP PARTITION under LOCK TABLES and a held
table in another schema have not been run on a MySQL server here.

The held table is made so that EXCHANGE finds the same row format on both
sides, whatever ``innodb_default_row_format`` says today (``rowformat``),
and rebuilt to match the re-created partition on the way back.

Nothing is lost silently: if the server refuses the swap (a partition-level
MAX_ROWS, a DATA DIRECTORY..., see ``sql.MANUAL_EXCHANGE``), every swap
already made is swapped back under the same lock, the empty held tables are
dropped and the apply stops with the reason; ``DROP PARTITION`` never ran.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from myshift.db.connect import DriverError
from myshift.db.connect import quote_ident as q
from myshift.db.privileges import PRIVILEGE_CODES
from myshift.engine.introspect.heldcatalog import partition_names, table_columns, table_exists
from myshift.errors import UnsafeError, UsageError, VerificationFailed
from myshift.workflows.keepdata.catalog import (
    ensure_holding,
    forget,
    held_name_for,
    insert_catalog,
    update_counts,
)
from myshift.workflows.keepdata.records import ColumnInfo, HeldPartition
from myshift.workflows.keepdata.rowformat import held_row_formats, match_row_format
from myshift.workflows.keepdata.session import short_row_lock_wait
from myshift.workflows.keepdata.sql import (
    checksum_sql,
    exchange_sql,
    hold_partition_table_sql,
    lock_tables_sql,
    qualified,
)

if TYPE_CHECKING:
    from myshift.db.connect import Conn

Sum = tuple[int, int]  # (row count, checksum)


def _sum(conn: Conn, schema: str, table: str, cols: Sequence[ColumnInfo], part: str = "") -> Sum:
    """Row count and checksum of a table (or one partition of it).  No alias: under
    LOCK TABLES an alias would have to be locked too."""
    src = qualified(schema, table) + (f" PARTITION ({q(part)})" if part else "")
    row = conn.query(checksum_sql(qualified(schema, table), cols, src))[0]
    return int(row[0]), int(row[1])


def keep_partitions(
    conn: Conn,
    schema: str,
    table: str,
    partitions: Sequence[str],
    apply_id: str | int,
    holding: str,
    drop: Callable[[], int | None],
) -> list[HeldPartition]:
    """Swap the rows of ``partitions`` (one: see the module doc) into a held table,
    then run ``drop`` (the ``DROP PARTITION``), under one ``LOCK TABLES``; record
    and checksum them.

    On any failure before ``drop`` completed, the rows are swapped back and
    the held tables and their catalog rows removed: the table is as it was.
    An empty partition leaves no held table (nor a trash entry).
    """
    if len(partitions) > 1:
        raise UsageError(
            f"One statement drops {len(partitions)} kept partitions of `{schema}`.`{table}` "
            f"({', '.join(partitions)}); keep-data swaps them out one per statement, and "
            "nothing was run.",
            "Make the plan again: it drops each kept partition in its own statement.",
        )
    have = {p.lower() for p in partition_names(conn, schema, table)}
    missing = [p for p in partitions if p.lower() not in have]
    if missing:
        raise UsageError(
            f"Table `{schema}`.`{table}` has no partition {', '.join(missing)} to keep.",
            "Check the plan against the live schema.",
        )
    formats = held_row_formats(conn, schema, table, partitions)
    ensure_holding(conn, holding)
    columns = tuple(ColumnInfo.of(c) for c in table_columns(conn, schema, table))
    helds: list[HeldPartition] = []
    try:
        for part in partitions:
            name = held_name_for(conn, holding, apply_id, schema, table, f"__{part}")
            for stmt in hold_partition_table_sql(schema, table, holding, name, formats[part]):
                conn.execute(stmt)
            held = HeldPartition(str(apply_id), schema, table, holding, name, part, columns, 0, 0)
            # Recorded before any row moves: whatever happens next, it can be found.
            insert_catalog(conn, held)
            helds.append(held)
            # The counts are written once the rows moved: a missing UPDATE privilege
            # must stop us now, not after the DROP.
            update_counts(conn, held)
        _swap_out_and_drop(conn, schema, table, helds, drop)
    except BaseException:
        _discard_empty(conn, helds)
        raise
    _discard_empty(conn, helds)  # an empty partition leaves nothing to keep
    done = []
    for held in helds:
        if not table_exists(conn, holding, held.held_name):
            continue
        rows, checksum = _sum(conn, holding, held.held_name, columns)
        held = replace(held, row_count=rows, checksum=checksum)
        update_counts(conn, held)
        done.append(held)
    return done


def _discard_empty(conn: Conn, helds: Sequence[HeldPartition]) -> None:
    """Drop the held tables (and catalog rows) that hold no row: after a failure,
    those never swapped into (a held table holding rows, whatever went wrong after
    the swap, stays, recorded); after success, those of empty partitions."""
    for h in helds:
        with contextlib.suppress(Exception):
            held = qualified(h.holding, h.held_name)
            if conn.scalar(f"SELECT COUNT(*) FROM (SELECT 1 FROM {held} LIMIT 1) AS x") == 0:
                # Catalog row first: one left behind would point at a missing table.
                forget(conn, h.holding, h.held_name)
                conn.execute(f"DROP TABLE IF EXISTS {held}")


class _KeptAnyway(UnsafeError):
    """The swap back after a failure failed too: rows sit in the holding schema."""


def _swap_out_and_drop(
    conn: Conn,
    schema: str,
    table: str,
    helds: Sequence[HeldPartition],
    drop: Callable[[], int | None],
) -> None:
    with short_row_lock_wait(conn):
        conn.execute(lock_tables_sql((schema, table), *((h.holding, h.held_name) for h in helds)))
        swapped: list[HeldPartition] = []
        try:
            try:
                for h in helds:
                    _exchange(conn, h, schema)
                    swapped.append(h)
                drop()
            except BaseException:
                _swap_back(conn, schema, swapped)
                raise
        finally:
            conn.execute("UNLOCK TABLES")


def _exchange(conn: Conn, h: HeldPartition, schema: str) -> None:
    try:
        conn.execute(exchange_sql(schema, h.table, h.partition, h.holding, h.held_name))
    except DriverError as exc:
        if exc.args and exc.args[0] in PRIVILEGE_CODES:
            raise  # said as the missing privilege and its GRANT (db.privileges)
        err = exc.args[1] if len(exc.args) > 1 else exc
        raise UnsafeError(
            f"Cannot keep the rows of partition {h.partition} of `{schema}`.`{h.table}`: the "
            f"server refused to swap them into `{h.holding}`.`{h.held_name}` ({err}); nothing "
            "was dropped.",
            "Make the partition swappable (see the MySQL manual, Exchanging Partitions with "
            "Tables), or back its rows up yourself and plan without --keep-data.",
        ) from None


def _swap_back(conn: Conn, schema: str, swapped: Sequence[HeldPartition]) -> None:
    """Undo the swaps (still under the lock, so the partitions are still empty)."""
    for h in reversed(swapped):
        back = exchange_sql(schema, h.table, h.partition, h.holding, h.held_name)
        try:
            conn.execute(back)
        except DriverError as exc:
            raise _KeptAnyway(
                f"The rows of partition {h.partition} of `{schema}`.`{h.table}` were swapped "
                f"into `{h.holding}`.`{h.held_name}` and could not be swapped back ({exc}).",
                "They are recorded in the trash: roll the apply back, or swap them back by "
                f"hand with `{back}`.",
            ) from None


# --------------------------------------------------------------------------- restore


@dataclass(frozen=True)
class PartitionRestored:
    """What ``restore_partition`` did."""

    held: HeldPartition
    rows_restored: int  # kept rows swapped back in
    rows_since: int  # rows written since into the re-created partition, kept beside them
    # "Dynamic -> Compact": the held table was rebuilt in the partition's row format first.
    row_format_change: str = ""


def restore_partition(
    conn: Conn, held: HeldPartition, schema: str | None = None
) -> PartitionRestored:
    """Swap kept rows back into their re-created (by the reverse DDL) partition.

    Rows the application wrote into the partition's range since the apply
    (which the re-created partition now holds) are first copied into the held
    table under the same lock, so the swap brings both in.  Pre-flight: the
    held table's count and checksum equal those recorded when it was kept, so
    every row fits the partition (it came from there); on MySQL the swap then
    skips the row-by-row validation (WITHOUT VALIDATION), which MariaDB 10.11
    always makes.  A changed held table is swapped with validation.
    """
    dest = schema or held.schema
    if not table_exists(conn, held.holding, held.held_name):
        raise UsageError(
            f"The kept rows of partition {held.partition} of `{held.schema}`.`{held.table}` "
            f"(`{held.holding}`.`{held.held_name}`) no longer exist (purged?), so they cannot "
            "be restored.",
            "Restore from a backup instead.",
        )
    if held.partition.lower() not in {p.lower() for p in partition_names(conn, dest, held.table)}:
        raise UsageError(
            f"Table `{dest}`.`{held.table}` has no partition {held.partition} to bring its kept "
            "rows back into.",
            "Re-create the partition first (the rollback plan does).",
        )
    # A rollback re-creates the partition under today's innodb_default_row_format.
    rebuilt = match_row_format(conn, held, dest)
    cols = [ColumnInfo.of(c) for c in table_columns(conn, held.holding, held.held_name)]
    stored = ", ".join(q(c.name) for c in table_columns(conn, dest, held.table) if not c.generated)
    kept = _sum(conn, held.holding, held.held_name, cols)
    untouched = kept == (held.row_count, held.checksum)
    with short_row_lock_wait(conn):
        conn.execute(lock_tables_sql((dest, held.table), (held.holding, held.held_name)))
        try:
            since, left = _swap_back_in(conn, held, dest, cols, stored, untouched)
        finally:
            conn.execute("UNLOCK TABLES")
    if left != since:
        raise VerificationFailed(
            f"After swapping the kept rows back into partition {held.partition} of "
            f"`{dest}`.`{held.table}`, `{held.holding}`.`{held.held_name}` holds {left[0]} row(s) "
            f"where {since[0]} (the rows written since) were expected; it was kept.",
            "Compare it with the partition before dropping it by hand.",
        )
    conn.execute(f"DROP TABLE {qualified(held.holding, held.held_name)}")
    forget(conn, held.holding, held.held_name)
    return PartitionRestored(held, kept[0], since[0], rebuilt)


def _swap_back_in(
    conn: Conn,
    held: HeldPartition,
    dest: str,
    cols: Sequence[ColumnInfo],
    stored: str,
    untouched: bool,
) -> tuple[Sum, Sum]:
    """Under the lock: rows written since (``stored``: the columns to copy) join the
    kept ones, which swap back in.  Returns (rows written since, what the held table
    holds after the swap)."""
    since = _sum(conn, dest, held.table, cols, held.partition)
    if since[0]:
        part = f"{qualified(dest, held.table)} PARTITION ({q(held.partition)})"
        conn.execute(
            f"INSERT INTO {qualified(held.holding, held.held_name)} ({stored}) "
            f"SELECT {stored} FROM {part}"
        )
    conn.execute(
        exchange_sql(
            dest,
            held.table,
            held.partition,
            held.holding,
            held.held_name,
            skip_validation=untouched and conn.flavor.is_mysql,
        )
    )
    return since, _sum(conn, held.holding, held.held_name, cols)
