"""The holding schema as a trash can: list what is kept, purge what is old.

Ages are measured by the server (``NOW()`` against the catalog's
``created_at``), so a client with a skewed clock purges nothing early.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from myshift.db.connect import quote_ident as q
from myshift.engine.introspect import catalog
from myshift.engine.introspect.heldcatalog import table_columns
from myshift.errors import Aborted, UsageError
from myshift.workflows.keepdata import CATALOG, DEFAULT_HOLDING

if TYPE_CHECKING:
    from myshift.db.connect import Conn, Endpoint

_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_AGE_PART = re.compile(r"(\d+)\s*([wdhms])")
_AGE_FULL = re.compile(r"(?:\d+\s*[wdhms]\s*)+")


@dataclass(frozen=True)
class TrashEntry:
    """One held object: a soft-dropped table, a column backup or a dropped partition's rows."""

    apply_id: str
    kind: str  # 'table' | 'columns' | 'partition'
    original_schema: str
    original_table: str
    held_name: str
    rows: int
    size_bytes: int | None  # None: the held table is gone (catalog row only)
    created_at: datetime
    age: timedelta
    restored: bool = False
    partition: str | None = None  # kind 'partition': which partition of the table

    @property
    def original(self) -> str:
        where = f"{self.original_schema}.{self.original_table}"
        return where + (f" partition {self.partition}" if self.partition else "")


def parse_age(text: str) -> timedelta:
    """``"7d"``, ``"12h"``, ``"30m"`` (also ``w``, ``s`` and sums like ``"1d12h"``)."""
    cleaned = text.strip().lower()
    if not cleaned or not _AGE_FULL.fullmatch(cleaned):
        raise UsageError(
            f"{text!r} is not an age.",
            "Write a number and a unit, e.g. 7d, 12h or 30m (units: w, d, h, m, s).",
        )
    seconds = sum(int(n) * _UNITS[u] for n, u in _AGE_PART.findall(cleaned))
    return timedelta(seconds=seconds)


def list_trash(conn: Conn, holding: str = DEFAULT_HOLDING) -> list[TrashEntry]:
    """Everything in the holding schema's catalog, oldest first."""
    sizes = catalog.table_sizes(conn, holding)
    if CATALOG not in sizes:
        return []
    # A catalog made before partitions were kept has no partition_name yet.
    has_part = any(c.name == "partition_name" for c in table_columns(conn, holding, CATALOG))
    rows = conn.query(
        "SELECT h.apply_id, h.kind, h.original_schema, h.original_table, h.held_name, "
        "h.row_count, h.created_at, TIMESTAMPDIFF(SECOND, h.created_at, NOW(6)), "
        f"h.restored_at IS NOT NULL, {'h.partition_name' if has_part else 'NULL'} "
        f"FROM {q(holding)}.{q(CATALOG)} AS h ORDER BY h.created_at, h.id"
    )
    return [
        TrashEntry(
            apply_id=str(r[0]),
            kind=str(r[1]),
            original_schema=str(r[2]),
            original_table=str(r[3]),
            held_name=str(r[4]),
            rows=int(r[5]),
            size_bytes=size.data_bytes + size.index_bytes if size is not None else None,
            created_at=r[6],
            age=timedelta(seconds=max(0, int(r[7]))),
            restored=bool(r[8]),
            partition=None if r[9] is None else str(r[9]),
        )
        for r in rows
        for size in (sizes.get(str(r[4])),)
    ]


def purge_trash_sql(holding: str, entries: list[TrashEntry]) -> list[str]:
    """The statements a purge runs (the dry-run twin)."""
    stmts: list[str] = []
    for e in entries:
        stmts.append(f"DROP TABLE IF EXISTS {q(holding)}.{q(e.held_name)}")
    return stmts


def purge_trash(
    conn: Conn,
    holding: str = DEFAULT_HOLDING,
    older_than: timedelta = timedelta(days=7),
    *,
    dry_run: bool,
) -> list[TrashEntry]:
    """Drop held tables older than ``older_than``; return what was (or would be) purged.

    Only tables listed in the catalog are touched, never anything else that
    may sit in the holding schema.  The CLI asks for confirmation first.
    """
    if older_than < timedelta(0):
        raise UsageError("The purge age cannot be negative.", "Use e.g. 7d.")
    doomed = [e for e in list_trash(conn, holding) if e.age >= older_than]
    if dry_run:
        return doomed
    for entry, stmt in zip(doomed, purge_trash_sql(holding, doomed), strict=True):
        conn.execute(stmt)
        conn.execute(
            f"DELETE FROM {q(holding)}.{q(CATALOG)} WHERE held_name = %s", (entry.held_name,)
        )
    return doomed


def _human_size(n: int | None) -> str:
    if n is None:
        return "gone"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover


def _human_age(age: timedelta) -> str:
    secs = int(age.total_seconds())
    days, rest = divmod(secs, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def format_trash(entries: list[TrashEntry]) -> str:
    """A plain table for ``myshift trash list`` / the purge confirmation."""
    if not entries:
        return "The trash is empty."
    header = ("APPLY", "KIND", "ORIGINAL", "HELD AS", "ROWS", "SIZE", "AGE")
    rows = [
        (
            e.apply_id,
            e.kind + (" (restored)" if e.restored else ""),
            e.original,
            e.held_name,
            f"{e.rows:,}",
            _human_size(e.size_bytes),
            _human_age(e.age),
        )
        for e in entries
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
        for r in (header, *rows)
    ]
    total = sum(e.size_bytes or 0 for e in entries)
    lines.append(f"{len(entries)} held object(s), {_human_size(total)}.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- commands


def trash_list(target: Endpoint, holding: str | None = None) -> str:
    """``myshift trash list``: what the holding schema keeps on the target's server."""
    from myshift.db.connect import connected

    holding = holding or DEFAULT_HOLDING
    with connected(target, schema="") as conn:
        return format_trash(list_trash(conn, holding)) + "\n"


def trash_purge(
    target: Endpoint,
    older_than: str,
    *,
    holding: str | None = None,
    yes: bool = False,
    confirm: Callable[[str], bool] = lambda s: False,
    say: Callable[[str], None] = lambda s: None,
    interactive: bool = False,
) -> str:
    """``myshift trash purge --older-than 7d``: drop held objects, after confirmation.

    Purged tables can no longer be restored by ``myshift rollback``: the list
    is shown and confirmed first (or ``--yes``).
    """
    from myshift.db.connect import connected

    holding = holding or DEFAULT_HOLDING
    age = parse_age(older_than)
    with connected(target, schema="") as conn:
        doomed = purge_trash(conn, holding, age, dry_run=True)
        if not doomed:
            return f"Nothing in {holding} is older than {older_than}.\n"
        if not yes:
            if not interactive:
                raise Aborted(
                    f"Purging {len(doomed)} held object(s) from {holding} needs confirmation.",
                    "Review `myshift trash list` and re-run with --yes.",
                )
            say(format_trash(doomed))
            if not confirm(
                f"Drop these {len(doomed)} held object(s)? Rollbacks of their applies will no "
                "longer bring the data back"
            ):
                raise Aborted(
                    "Nothing was purged: the confirmation was declined.",
                    "The holding schema is unchanged.",
                )
        # Re-selected under the same rule: only what is (still) old enough goes.
        done = purge_trash(conn, holding, age, dry_run=False)
    return f"Purged {len(done)} held object(s) from {holding}.\n"
