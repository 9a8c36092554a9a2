"""Progress of a clone: the counts a copier reports, and a one-line bar for a terminal."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO


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

    def add(self, rows: int, nbytes: int, table: str, finished: bool = False) -> None:
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
    """A one-line progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, stream: IO[str] | None = None, width: int = 24) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._drawn = False

    def render(self, p: Progress) -> str:
        frac = p.tables_done / p.tables_total if p.tables_total else 1.0
        filled = int(frac * self.width)
        eta = f"  ETA {p.eta_seconds:.0f}s" if p.eta_seconds is not None else ""
        return (
            f"[{'#' * filled}{' ' * (self.width - filled)}] {p.tables_done}/{p.tables_total} "
            f"tables  {p.rows:,} rows  {human_bytes(p.bytes)}{eta}"
        )

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        self.stream.write("\r\x1b[2K" + self.render(p))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            with contextlib.suppress(Exception):
                self.stream.write("\n")
                self.stream.flush()
        self._drawn = False
