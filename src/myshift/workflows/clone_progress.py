"""Progress of a clone: the counts a copier reports, a one-line bar for a terminal,
and stopping the copiers (Ctrl-C)."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from myshift.db.connect import Conn, DriverError, Endpoint, connect
from myshift.errors import MyshiftError


@dataclass(frozen=True)
class Progress:
    tables_done: int
    tables_total: int
    rows: int
    bytes: int
    eta_seconds: float | None
    table: str = ""


ProgressFn = Callable[[Progress], None]


class Tracker:
    """Thread-safe progress accounting; calls the user's callback under a lock."""

    def __init__(self, tables: int, est_bytes: int, fn: ProgressFn | None) -> None:
        self.total = tables
        self.est_bytes = max(1, est_bytes)
        self.done = 0
        self.rows = 0
        self.bytes = 0
        self.fn = fn
        self.start = time.monotonic()
        self.lock = threading.Lock()
        self._last = 0.0
        # Set on Ctrl-C (stop_copiers): every copier stops at its next batch.
        self.stop = threading.Event()

    def add(self, rows: int, nbytes: int, table: str, finished: bool = False) -> None:
        if self.stop.is_set():
            raise CopyStopped()  # the clone was interrupted: this copier stops here
        with self.lock:
            self.rows += rows
            self.bytes += nbytes
            self.done += finished
            now = time.monotonic()
            if self.fn is None or (not finished and now - self._last < 0.2):
                return
            self._last = now
            elapsed = now - self.start
            frac = max(self.done / max(1, self.total), min(0.99, self.bytes / self.est_bytes))
            eta = elapsed * (1 - frac) / frac if frac > 0 else None
            self.fn(Progress(self.done, self.total, self.rows, self.bytes, eta, table))


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GB"


class TerminalProgress:
    """A one-line progress bar (rich) on an interactive terminal; silent otherwise.

    Redrawn when the tracker reports (at most every 0.2 s), with no refresh
    thread of rich's own.  rich decides what is interactive: not a pipe or a
    file, not ``TERM=dumb``; ``NO_COLOR`` is honoured.
    """

    def __init__(self, stream: IO[str] | None = None, width: int = 24) -> None:
        from rich.console import Console

        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.console = Console(file=self.stream)
        self.enabled = self.console.is_interactive
        self._bar: Any = None
        self._task: Any = None
        self._lock = threading.Lock()

    def render(self, p: Progress) -> str:
        eta = f"  ETA {p.eta_seconds:.0f}s" if p.eta_seconds is not None else ""
        return (
            f"{p.tables_done}/{p.tables_total} tables  {p.rows:,} rows  "
            f"{human_bytes(p.bytes)}{eta}"
        )

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
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
                self._task = self._bar.add_task("", total=max(1, p.tables_total))
            self._bar.update(
                self._task,
                completed=p.tables_done,
                total=max(1, p.tables_total),
                description=self.render(p),
            )
            self._bar.refresh()

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
