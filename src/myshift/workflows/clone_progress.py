"""Progress of a clone: the counts the copiers report (by rows, per batch), its display
(a bar on a terminal, plain lines otherwise), and stopping the copiers (Ctrl-C)."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from myshift.db.connect import Conn, DriverError, Endpoint, connect
from myshift.errors import MyshiftError


@dataclass(frozen=True)
class Progress:
    """How far a clone's row copy is.  ``rows_total`` is an estimate (the catalogue's row
    counts, corrected as tables finish); ``eta_seconds`` is None until it is worth saying."""

    tables_done: int
    tables_total: int
    rows: int
    bytes: int
    eta_seconds: float | None
    table: str = ""
    rows_total: int = 0


ProgressFn = Callable[[Progress], None]

# No ETA before this many seconds of copying and this fraction of the rows: the first
# batches (connections, snapshots, the biggest table's first range) say nothing of the rate.
ETA_AFTER_SECONDS = 3.0
ETA_AFTER_FRACTION = 0.01


class Tracker:
    """Thread-safe progress accounting; calls the user's callback under a lock.

    Copiers report every batch they insert (``add``), so the counts move with the
    rows, not per table.  The total starts as the catalogue's estimates (``est_rows``:
    table -> rows expected) and is corrected as copies overtake them and as tables
    finish.  The ETA is the rows left at the rows-per-second rate so far, from
    ``eta_after`` seconds and ``ETA_AFTER_FRACTION`` of the rows on.  The callback
    runs at most every ``every`` seconds, and whenever a table finishes.
    """

    def __init__(
        self,
        est_rows: Mapping[str, int],
        fn: ProgressFn | None,
        *,
        every: float = 0.2,
        eta_after: float = ETA_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.est = {name: max(0, int(n)) for name, n in est_rows.items()}
        self.total = len(self.est)
        self.copied = dict.fromkeys(self.est, 0)
        self.finished: set[str] = set()
        self.rows_total = sum(self.est.values())
        self.done = 0
        self.rows = 0
        self.bytes = 0
        self.fn = fn
        self.every = every
        self.eta_after = eta_after
        self.clock = clock
        self.start = clock()
        self.lock = threading.Lock()
        self._last: float | None = None
        # Set on Ctrl-C (stop_copiers): every copier stops at its next batch.
        self.stop = threading.Event()

    def _share(self, table: str) -> int:
        """What ``table`` adds to the total: its rows once finished, else the larger of
        the estimate and what is copied so far."""
        got = self.copied.get(table, 0)
        return got if table in self.finished else max(self.est.get(table, 0), got)

    def add(self, rows: int, nbytes: int, table: str, finished: bool = False) -> None:
        if self.stop.is_set():
            raise CopyStopped()  # the clone was interrupted: this copier stops here
        with self.lock:
            before = self._share(table)
            self.copied[table] = self.copied.get(table, 0) + rows
            if finished and table not in self.finished:
                self.finished.add(table)
                self.done += 1
            self.rows_total += self._share(table) - before
            self.rows += rows
            self.bytes += nbytes
            now = self.clock()
            if self.fn is None:
                return
            if not finished and self._last is not None and now - self._last < self.every:
                return
            self._last = now
            self.fn(
                Progress(
                    self.done, self.total, self.rows, self.bytes, self.eta(now), table,
                    self.rows_total,
                )
            )  # fmt: skip

    def eta(self, now: float) -> float | None:
        """Seconds left at the rate so far; None while too early to tell, or past the
        estimate (the total is being corrected)."""
        elapsed = now - self.start
        left = self.rows_total - self.rows
        if elapsed < self.eta_after or left <= 0 or self.rows <= 0:
            return None
        if self.rows < ETA_AFTER_FRACTION * self.rows_total:
            return None
        return left / (self.rows / elapsed)


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GB"


def human_seconds(s: float) -> str:
    s = round(s)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class CloneProgress:
    """The clone's progress on ``stream`` (stderr): rows copied of the estimated total.

    On an interactive terminal, one bar (rich) filled by rows, redrawn when the
    tracker reports (at most every 0.2 s), with no refresh thread of rich's own.
    Otherwise (a pipe, a log, ``TERM=dumb``) plain lines: the first after
    ``first`` seconds, then one every ``every`` seconds.  rich decides what is
    interactive; ``NO_COLOR`` is honoured.
    """

    def __init__(
        self,
        stream: IO[str] | None = None,
        width: int = 24,
        *,
        first: float = 2.0,
        every: float = 10.0,
    ) -> None:
        from rich.console import Console

        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.console = Console(file=self.stream)
        self.live = self.console.is_interactive
        self._bar: Any = None
        self._task: Any = None
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._next_line = self._t0 + first
        self._every = every

    def render(self, p: Progress) -> str:
        total = max(p.rows_total, p.rows)
        pct = f" ({100 * p.rows / total:.0f}%)" if total else ""
        eta = f"  ETA {human_seconds(p.eta_seconds)}" if p.eta_seconds is not None else ""
        return (
            f"{p.rows:,} of ~{total:,} rows{pct}  {p.tables_done}/{p.tables_total} tables  "
            f"{human_bytes(p.bytes)}{eta}"
        )

    def __call__(self, p: Progress) -> None:
        if not self.live:
            self._line(p)
            return
        from rich.progress import BarColumn, TextColumn
        from rich.progress import Progress as Bar

        with self._lock:
            if self._bar is None:
                self._bar = Bar(
                    BarColumn(bar_width=self.width),
                    TextColumn("{task.description}"),
                    console=self.console,
                    auto_refresh=False,
                    redirect_stdout=False,
                    redirect_stderr=False,
                )
                self._bar.start()
                self._task = self._bar.add_task("", total=None)
            total = max(p.rows_total, p.rows)
            self._bar.update(
                self._task,
                completed=p.rows,
                total=total if total > 0 else None,
                description=self.render(p),
            )
            self._bar.refresh()

    def _line(self, p: Progress) -> None:
        with self._lock:
            now = time.monotonic()
            if now < self._next_line:
                return
            self._next_line = now + self._every
            self.stream.write(f"Copying rows: {self.render(p)} ({now - self._t0:.0f}s)\n")
            self.stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                with contextlib.suppress(Exception):
                    self._bar.stop()
            self._bar = None


class CopyStopped(Exception):
    """A copier stopped because the clone was interrupted."""


def stop_copiers(
    stop: threading.Event, src: Endpoint, dst: Endpoint, pairs: Sequence[tuple[Conn, Conn]]
) -> None:
    """Stop every copier: at its next batch (``stop``), and its running queries killed on
    both servers (a streamed read on production would otherwise be read to its end)."""
    from myshift.db.sessions import kill_query

    stop.set()
    for ep, ids in ((src, [sc.thread_id() for sc, _ in pairs]),
                    (dst, [dc.thread_id() for _, dc in pairs])):  # fmt: skip
        try:
            with connect(ep, schema="", lock_wait_timeout=None, connect_timeout=2) as side:
                for tid in ids:
                    kill_query(side, tid)
        except (DriverError, MyshiftError):
            pass  # the copiers still stop at their next batch
