"""Copy a schema — structure and (some or all) rows — from one server to another.

Used by the rehearsal sandboxes.  The order is explicit because each step
depends on the one before:

1. tables, from the source's own ``SHOW CREATE TABLE`` (``foreign_key_checks=0``
   so tables can be created in any order);
2. routines (views may call functions), then views (retried until their
   dependencies exist);
3. rows (see below);
4. triggers — only now, so they do not fire on the copied rows;
5. events — last, so none runs while rows are still being copied.

DEFINER clauses are dropped (the sandbox user becomes the definer): the
original definer usually does not exist on the sandbox.  View bodies name
their schema (``SHOW CREATE VIEW`` always qualifies), so when the copy has a
different schema name, `` `src`.`` is rewritten to `` `dst`.`` in view text.

Rows
----
Each worker has its own connection pair.  The *source server* escapes the
values: every row is read as one ready-made SQL tuple built with ``QUOTE()``
(``HEX`` for binary types), through an unbuffered cursor with
``use_unicode`` off, so Python only joins bytes into multi-row INSERTs of up
to a few MB.  This keeps the per-value Python cost (the bottleneck of a pure
Python copier) near zero.  InnoDB table scans come in primary-key order, so
the inserts append to the clustered index.

Consistency: each worker opens ``START TRANSACTION WITH CONSISTENT SNAPSHOT``
before it reads a table.  Across several connections these are *different*
snapshots, a few milliseconds apart: a child row written to production
between two of them can arrive without its parent.  ``foreign_key_checks=0``
lets such rows in; for a rehearsal copy that is the right trade-off (no lock
on production).  ``lock_for_snapshot=True`` instead takes ``FLUSH TABLES WITH
READ LOCK`` for the instant needed to open every worker's snapshot (as
mydumper does) — one true snapshot, at the price of a brief global write
stall on production and the RELOAD privilege; without the privilege it falls
back and says so in ``CloneStats.notes``.

Structure (steps 1, 2, 4, 5) is in ``clone_structure``, progress reporting
in ``clone_progress``; what the copy knows of each table comes from the
model (``engine.introspect``) plus the catalogue's size estimates
(``introspect.catalog``), and the driver's streaming calls from ``db.stream``.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

from myshift.db.connect import Conn, DriverError, Endpoint, connect, quote_ident
from myshift.db.stream import execute_bytes, rows_as_bytes, stream_rows
from myshift.engine.ddl import base_type
from myshift.engine.diff import toposort
from myshift.engine.introspect import catalog, introspect
from myshift.model.schema import Column, ForeignKey, Table
from myshift.workflows.clone_progress import (
    CloneProgress,
    Progress,
    ProgressFn,
    Tracker,
    stop_copiers,
)
from myshift.workflows.clone_sample import delete_orphans, sample_where
from myshift.workflows.clone_structure import CloneError, copy_structure, create_later
from myshift.workflows.datamode import DataMode

# Types whose values travel as hex literals (X'...'), byte for byte.
_BINARY_TYPES = frozenset({
    "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "geometry", "point",
    "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
    "geometrycollection", "geomcollection",
})  # fmt: skip


@dataclass
class CloneStats:
    tables: int = 0
    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0
    views: int = 0
    routines: int = 0
    triggers: int = 0
    events: int = 0
    orphans_deleted: int = 0
    consistent: bool = False
    notes: list[str] = field(default_factory=list)
    rows_per_table: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Table:
    """A base table to copy rows of: the model's table and the catalogue's estimates."""

    model: Table
    est_rows: int
    est_bytes: int

    @property
    def name(self) -> str:
        return self.model.name

    @cached_property
    def columns(self) -> tuple[Column, ...]:
        """The columns that hold data (generated ones are computed by the copy)."""
        return tuple(c for c in self.model.columns if c.generated is None)

    @cached_property
    def pk(self) -> tuple[str, ...]:
        pk = self.model.primary_key
        return tuple(p.column for p in pk.parts if p.column) if pk is not None else ()

    @cached_property
    def links(self) -> tuple[ForeignKey, ...]:
        """The foreign keys to tables of the same schema."""
        return tuple(fk for fk in self.model.foreign_keys if fk.ref_schema is None)


# A foreign key and the table it is on.
_Link = tuple[str, ForeignKey]


def _introspect(conn: Conn, schema: str) -> tuple[list[_Table], list[_Link]]:
    """The schema's base tables (by name) and their foreign keys within the schema.

    From the model (``introspect``) and the catalogue's size estimates.
    """
    sizes = catalog.table_sizes(conn, schema)
    model = introspect(conn, schema)
    tables = [
        _Table(t, size.rows, size.data_bytes)
        for t in sorted(model.tables, key=lambda t: t.name)
        for size in (sizes.get(t.name),)
        if size is not None and size.type == "BASE TABLE"
    ]
    return tables, [(t.name, fk) for t in tables for fk in t.links]


def _fk_order(tables: Sequence[_Table]) -> list[_Table]:
    """Parents before children; self-references ignored, cycles broken in name order."""
    by_name = {t.name: t for t in tables}
    order, _ = toposort(sorted(by_name), {t.name: {fk.ref_table for fk in t.links} for t in tables})
    return [by_name[n] for n in order]


def _value_expr(col: Column) -> str:
    q = quote_ident(col.name)
    data_type = base_type(col.type)
    if data_type in _BINARY_TYPES:
        return f"IF({q} IS NULL, 'NULL', CONCAT('X''', HEX({q}), ''''))"
    if data_type == "bit":
        return f"IF({q} IS NULL, 'NULL', CAST({q} AS UNSIGNED))"
    if data_type == "float":
        # QUOTE(float) prints ~6 significant digits; as a double it prints the exact value.
        return f"QUOTE({q} + 0e0)"
    return f"QUOTE({q})"


def _row_select(schema: str, t: _Table) -> str:
    parts = ", ',', ".join(_value_expr(c) for c in t.columns)
    return f"SELECT CONCAT('(', {parts}, ')') FROM {quote_ident(schema)}.{quote_ident(t.name)}"


def _open_pair(src_ep: Endpoint, dst_ep: Endpoint, max_group: int = 1 << 20) -> tuple[Conn, Conn]:
    # The source is production: its reads take metadata locks too, and one
    # queued behind someone's ALTER must give up in seconds, not wait a year.
    src = connect(src_ep)
    rows_as_bytes(src)  # rows arrive as ready SQL bytes: no decode/encode per row
    src.execute("SET SESSION time_zone = '+00:00', SESSION group_concat_max_len = %s", (max_group,))
    dst = connect(dst_ep, lock_wait_timeout=None)
    dst.execute(
        "SET SESSION time_zone = '+00:00', SESSION foreign_key_checks = 0, "
        "SESSION unique_checks = 0, "
        "SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'"
    )
    return src, dst


def _insert_head(schema: str, t: _Table) -> bytes:
    cols = ", ".join(quote_ident(c.name) for c in t.columns)
    return f"INSERT INTO {quote_ident(schema)}.{quote_ident(t.name)} ({cols}) VALUES ".encode()


@dataclass(frozen=True)
class _Job:
    """What every copier of one clone shares."""

    src: Endpoint
    dst: Endpoint
    batch_bytes: int  # the INSERTs' target size
    max_group: int  # group_concat_max_len on the source: the largest grouped batch
    tracker: Tracker  # also stops the copiers on Ctrl-C (at their next batch)


def _copy_rows(job: _Job, sc: Conn, dc: Conn, t: _Table, where: str, limit: int | None) -> int:
    """Stream the rows of ``t`` (those ``where`` keeps, up to ``limit``) into multi-row INSERTs."""
    if not t.columns:
        return 0
    sql = _row_select(job.src.schema, t) + where
    if limit is not None:
        order = ", ".join(quote_ident(c) for c in t.pk)
        sql += (f" ORDER BY {order}" if order else "") + f" LIMIT {int(limit)}"
    head = _insert_head(job.dst.schema, t)
    total = 0
    buf: list[bytes] = []
    size = 0
    pending_rows = 0
    with contextlib.closing(stream_rows(sc, sql)) as batches:
        for rows in batches:
            for (r,) in rows:
                buf.append(r)
                size += len(r) + 1
            pending_rows += len(rows)
            if size >= job.batch_bytes:
                stmt = head + b",".join(buf)
                execute_bytes(dc, stmt)
                job.tracker.add(pending_rows, len(stmt), t.name)
                total += pending_rows
                buf, size, pending_rows = [], 0, 0
    if buf:
        stmt = head + b",".join(buf)
        execute_bytes(dc, stmt)
        job.tracker.add(pending_rows, len(stmt), t.name)
        total += pending_rows
    return total


_INT_TYPES = frozenset({"tinyint", "smallint", "mediumint", "int", "bigint"})


Range = tuple[int | None, int | None]  # [lo, hi) on the leading PK column; None = open end


def _int_pk(t: _Table) -> str | None:
    """The leading primary-key column when it is an integer (ranges on it are disjoint)."""
    if not t.pk:
        return None
    first = t.pk[0]
    dtype = next((base_type(c.type) for c in t.columns if c.name == first), "")
    return first if dtype in _INT_TYPES else None


def _chunks(conn: Conn, schema: str, t: _Table, chunk_rows: int) -> list[Range] | None:
    """Split a table into primary-key ranges, so several workers can share a big table.

    ``None``: no integer leading PK, the table is streamed row by row.  The
    first and last ranges are open, so rows outside the MIN/MAX seen here
    (written before the workers' snapshots) are still copied.
    """
    col = _int_pk(t)
    if col is None:
        return None
    if t.est_rows <= chunk_rows:
        return [(None, None)]
    q = quote_ident(col)
    lo, hi = conn.query(
        f"SELECT MIN({q}), MAX({q}) FROM {quote_ident(schema)}.{quote_ident(t.name)}"
    )[0]
    if lo is None or hi is None:
        return [(None, None)]
    n = min(64, -(-t.est_rows // chunk_rows))
    step = max(1, (int(hi) - int(lo) + 1) // n)
    bounds = [int(lo) + i * step for i in range(1, n) if int(lo) + i * step <= int(hi)]
    edges: list[int | None] = [None, *bounds, None]
    return list(itertools.pairwise(edges))


def _copy_grouped(job: _Job, sc: Conn, dc: Conn, t: _Table, rng: Range) -> int:
    """Copy one PK range, the source server building each ~``batch_bytes`` VALUES list.

    ``GROUP_CONCAT`` over a key range returns a whole multi-row VALUES list
    as one value: Python handles one packet per batch instead of one per row
    (measured 3x faster than row streaming, with near-zero client CPU).  The
    key width of a batch adapts to the bytes it produced; an empty range jumps
    to the next existing key; a batch longer than ``group_concat_max_len``
    (truncated) is retried narrower, and a single key that still does not fit
    is streamed row by row.
    """
    col = _int_pk(t)
    assert col is not None
    q = quote_ident(col)
    tbl = f"{quote_ident(job.src.schema)}.{quote_ident(t.name)}"
    lo, hi = rng
    if lo is None or hi is None:
        mn, mx = sc.query(f"SELECT MIN({q}), MAX({q}) FROM {tbl}")[0]
        if mn is None:
            return 0
        lo = int(mn) if lo is None else lo
        hi = int(mx) + 1 if hi is None else hi
    parts = ", ',', ".join(_value_expr(c) for c in t.columns)
    sel = (
        f"SELECT COUNT(*), GROUP_CONCAT(CONCAT('(', {parts}, ')')) FROM {tbl}"
        f" WHERE {q} >= %s AND {q} < %s"
    )
    head = _insert_head(job.dst.schema, t)
    density = t.est_rows / max(1, hi - lo) if t.est_rows else 0.0
    width = max(1, int(2000 / density)) if density > 0 else 1000
    total = 0
    while lo < hi:
        end = min(hi, lo + width)
        n, body = sc.query(sel, (lo, end))[0]
        n = int(n)
        if n == 0:
            nxt = sc.scalar(f"SELECT MIN({q}) FROM {tbl} WHERE {q} >= %s AND {q} < %s", (end, hi))
            if nxt is None:
                break
            lo = int(nxt)
            continue
        data = bytes(body)
        if len(data) >= job.max_group - 1:  # truncated by group_concat_max_len
            if width > 1:
                width = max(1, width // 4)
                continue
            total += _copy_rows(job, sc, dc, t, f" WHERE {q} = {lo}", None)
            lo += 1
            continue
        stmt = head + data
        execute_bytes(dc, stmt)
        job.tracker.add(n, len(stmt), t.name)
        total += n
        lo = end
        width = max(1, min(width * 4, int(width * job.batch_bytes / max(1, len(data)))))
    return total


def _begin_snapshot(src: Conn) -> None:
    src.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")


def _try_global_lock(src_ep: Endpoint) -> Conn | None:
    lock = connect(src_ep)
    try:
        lock.execute("FLUSH TABLES WITH READ LOCK")
        return lock
    except DriverError:
        lock.close()
        return None


def clone_schema_data(
    src: Endpoint,
    dst: Endpoint,
    *,
    mode: DataMode,
    tables_sql: Iterable[str] | None = None,
    workers: int = 4,
    progress: ProgressFn | None = None,
    lock_for_snapshot: bool = False,
    batch_bytes: int = 1024 * 1024,
    chunk_rows: int = 100_000,
    on_snapshot: Callable[[Conn], None] | None = None,
    progress_every: float = 0.2,
) -> CloneStats:
    """Copy ``src.schema`` into the existing (empty) ``dst.schema``.

    ``tables_sql`` optionally limits the *rows* copied to those tables (the
    structure is always complete).  ``on_snapshot(conn)`` runs inside the copy's
    snapshot once every copier's is open (under the lock, if any): what it reads,
    e.g. the binlog position, matches the rows.  ``progress`` gets the rows
    copied (per batch, at most every ``progress_every`` s) of the estimated total.
    """
    started = time.monotonic()
    stats = CloneStats()
    with connect(src, schema="") as s, connect(dst, schema="") as d:
        d.execute(f"CREATE DATABASE IF NOT EXISTS {quote_ident(dst.schema)}")
        structure = copy_structure(s, d, src.schema, dst.schema)
        stats.tables, stats.routines, stats.views = (
            structure.tables,
            structure.routines,
            structure.views,
        )
        tables, fks = _introspect(s, src.schema)
        max_packet = min(
            int(d.scalar("SELECT @@max_allowed_packet")),
            int(s.scalar("SELECT @@max_allowed_packet")),
        )
        only = set(tables_sql) if tables_sql is not None else None
        todo = [t for t in tables if only is None or t.name in only]
        units = _units(s, src.schema, todo, chunk_rows) if mode.kind == "full" else []
    batch_bytes = max(64 * 1024, min(batch_bytes, max_packet // 2))
    # A grouped batch may grow past batch_bytes before the width adapts: allow 8x,
    # within what both servers accept in one packet.
    max_group = max(batch_bytes, min(8 * batch_bytes, max_packet - 65536))
    tracker = Tracker(_expected_rows(mode, todo), progress, every=progress_every)
    job = _Job(src, dst, batch_bytes, max_group, tracker)

    if mode.kind == "sample":
        _copy_sample(job, todo, fks, mode.rows, stats, on_snapshot)
    elif mode.kind == "full" and todo:
        _copy_full(job, units, workers, lock_for_snapshot, stats, on_snapshot)
    else:
        stats.consistent = True
        if on_snapshot is not None:
            with connect(src) as sc:
                _begin_snapshot(sc)
                on_snapshot(sc)
                sc.execute("COMMIT")

    # Triggers and events only now: neither may act on the rows being copied.
    stats.triggers, stats.events = create_later(dst, structure)
    stats.rows = job.tracker.rows
    stats.bytes = job.tracker.bytes
    stats.seconds = time.monotonic() - started
    return stats


def _expected_rows(mode: DataMode, todo: Sequence[_Table]) -> dict[str, int]:
    """Rows the copy expects per table, from the catalogue's estimates (the progress total)."""
    if mode.kind == "full":
        return {t.name: t.est_rows for t in todo}
    if mode.kind == "sample":
        return {t.name: min(t.est_rows, mode.rows) for t in todo}
    return {}


# One piece of work for a worker: a table, or one PK range of it (None: stream it whole).
_Unit = tuple[_Table, Range | None]


def _units(conn: Conn, schema: str, todo: Sequence[_Table], chunk_rows: int) -> list[_Unit]:
    """Biggest tables first, so one huge table does not start last; big ones in PK ranges.

    (So that several workers share a big table.)
    """
    units: list[_Unit] = []
    for t in sorted(todo, key=lambda t: -t.est_bytes):
        ranges = _chunks(conn, schema, t, chunk_rows)
        units += [(t, r) for r in ranges] if ranges is not None else [(t, None)]
    return units


def _copy_sample(
    job: _Job,
    todo: Sequence[_Table],
    fks: Sequence[_Link],
    rows: int,
    stats: CloneStats,
    on_snapshot: Callable[[Conn], None] | None,
) -> None:
    """Up to ``rows`` rows per table, parents first, in one snapshot (see ``DataMode``)."""
    stats.consistent = True
    sc, dc = _open_pair(job.src, job.dst)
    try:
        _begin_snapshot(sc)
        if on_snapshot is not None:
            on_snapshot(sc)
        for t in _fk_order(todo):
            where = sample_where(dc, job.dst.schema, t)
            stats.rows_per_table[t.name] = _copy_rows(job, sc, dc, t, where, rows)
            job.tracker.add(0, 0, t.name, finished=True)
        sc.execute("COMMIT")
        stats.orphans_deleted = delete_orphans(dc, job.dst.schema, fks)
        for name in list(stats.rows_per_table):
            stats.rows_per_table[name] = int(
                dc.scalar(f"SELECT COUNT(*) FROM {quote_ident(job.dst.schema)}.{quote_ident(name)}")
            )
    finally:
        sc.close()
        dc.close()


def _copy_full(
    job: _Job,
    units: list[_Unit],
    workers: int,
    lock_for_snapshot: bool,
    stats: CloneStats,
    on_snapshot: Callable[[Conn], None] | None,
) -> None:
    """Every row, ``workers`` connection pairs sharing the units (see the module's docstring)."""
    nworkers = max(1, min(workers, len(units)))
    pairs = [_open_pair(job.src, job.dst, job.max_group) for _ in range(nworkers)]
    lock = _try_global_lock(job.src) if lock_for_snapshot else None
    try:
        for sc, _ in pairs:
            _begin_snapshot(sc)
        if on_snapshot is not None:
            on_snapshot(pairs[0][0])
    except BaseException:
        for sc, dc in pairs:  # no snapshot left open on the source
            sc.close()
            dc.close()
        raise
    finally:
        if lock is not None:
            lock.execute("UNLOCK TABLES")
            lock.close()
    stats.consistent = lock is not None or nworkers == 1
    if lock_for_snapshot and lock is None:
        stats.notes.append(
            "FLUSH TABLES WITH READ LOCK was refused (RELOAD privilege?): each copy "
            "connection used its own snapshot, so rows written during the copy may "
            "leave children without parents."
        )
    try:
        for name, n in _run_units(job, pairs, units).items():
            stats.rows_per_table[name] = n
    finally:
        for sc, dc in pairs:
            sc.close()
            dc.close()


def _run_units(job: _Job, pairs: list[tuple[Conn, Conn]], units: list[_Unit]) -> dict[str, int]:
    """Each pair, in a thread of its own, takes the next unit until none is left; rows per table."""
    queue = list(units)
    left = {t.name: 0 for t, _ in units}
    for t, _ in units:
        left[t.name] += 1
    qlock = threading.Lock()

    def work(pair: tuple[Conn, Conn]) -> dict[str, int]:
        sc, dc = pair
        counts: dict[str, int] = {}
        while True:
            with qlock:
                if not queue or job.tracker.stop.is_set():
                    break
                t, rng = queue.pop(0)
            if rng is None:
                n = _copy_rows(job, sc, dc, t, "", None)
            else:
                n = _copy_grouped(job, sc, dc, t, rng)
            counts[t.name] = counts.get(t.name, 0) + n
            with qlock:
                left[t.name] -= 1
                finished = left[t.name] == 0
            job.tracker.add(0, 0, t.name, finished=finished)
        sc.execute("COMMIT")
        return counts

    total: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=len(pairs)) as ex:
        futures = [ex.submit(work, pair) for pair in pairs]
        try:
            for f in futures:
                for name, n in f.result().items():
                    total[name] = total.get(name, 0) + n
        except BaseException:
            # Ctrl-C (or a failed copier): the others stop now, not after the whole queue.
            stop_copiers(job.tracker.stop, job.src, job.dst, pairs)
            raise
    return total


__all__ = [
    "CloneError",
    "CloneProgress",
    "CloneStats",
    "DataMode",
    "Progress",
    "ProgressFn",
    "clone_schema_data",
]
