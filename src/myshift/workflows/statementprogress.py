"""What a running statement shows: ``[n/m] table: statement…``, then its progress.

Two pieces, both small:

* **parsing** the server's own progress report of one connection (pure, so
  both flavors are unit-tested without a MySQL server): MariaDB puts ALTER
  progress in ``information_schema.PROCESSLIST`` (``STAGE`` of ``MAX_STAGE``,
  ``PROGRESS`` = percent of the current stage); MySQL in
  ``performance_schema.events_stages_current`` (``WORK_COMPLETED`` of
  ``WORK_ESTIMATED``).  The SQL is in ``db.sessions``.
* **displays**: one updating line on an interactive terminal (rich), plain
  lines otherwise (a start line, at most one progress line every few seconds,
  a done line with the time).  rich's console decides what a terminal is and
  honours ``NO_COLOR`` and ``TERM=dumb`` (dumb: plain lines).

A display takes reports from anyone: the poller of ``workflows.statementwatch``
(the server's view, every ~0.5 s) or an external tool that reports
``on_progress(percent, detail)`` itself (an online schema change tool), which
then replaces the polling for that statement (``StatementWatch.on_progress``).
"""

from __future__ import annotations

import re
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO, Any, Protocol


@dataclass(frozen=True)
class StatementProgress:
    """How far a statement is: ``percent`` (None: the server gives no figure yet) and a word
    on what it does (``copy to tmp table, stage 1 of 2``)."""

    percent: float | None
    detail: str = ""


def parse_mariadb(row: dict[str, Any] | None) -> StatementProgress | None:
    """A ``SQL_PROGRESS_MARIADB`` row -> progress; None when the connection runs nothing.

    MariaDB reports ``PROGRESS`` per stage (measured on 10.11: a COPY ALTER
    goes 0->96 % in stage 1 of 2, "copy to tmp table", then 0 % in stage 2,
    "Enabling keys"), so the percentage shown is the current stage's, and the
    stage is named with it.  Statements without progress reporting have
    ``MAX_STAGE`` 0: only their state is shown.
    """
    if row is None or row.get("COMMAND") in ("Sleep", "Killed"):
        return None
    state = str(row.get("STATE") or "").strip()
    stage, stages = int(row.get("STAGE") or 0), int(row.get("MAX_STAGE") or 0)
    if stages <= 0:
        return StatementProgress(None, state)
    percent = max(0.0, min(100.0, float(row.get("PROGRESS") or 0)))
    where = f"stage {stage} of {stages}" if stages > 1 else ""
    detail = ", ".join(p for p in (state, where) if p)
    return StatementProgress(percent, detail)


_MYSQL_STAGE = re.compile(r"^stage/(?:innodb|sql)/")


def parse_mysql(row: dict[str, Any] | None) -> StatementProgress | None:
    """A ``SQL_PROGRESS_MYSQL`` row -> progress; None when no stage is current.

    ``WORK_ESTIMATED`` is NULL for stages without progress instrumentation
    (only InnoDB's ``alter table (...)`` stages have it) and may grow while
    the ALTER runs; the percentage never passes 100.
    """
    if row is None or not row.get("EVENT_NAME"):
        return None
    name = _MYSQL_STAGE.sub("", str(row["EVENT_NAME"]))
    done, estimated = row.get("WORK_COMPLETED"), row.get("WORK_ESTIMATED")
    if done is None or not estimated:
        return StatementProgress(None, name)
    return StatementProgress(min(100.0, 100.0 * float(done) / float(estimated)), name)


def parse_row(row: dict[str, Any] | None, *, mariadb: bool) -> StatementProgress | None:
    return parse_mariadb(row) if mariadb else parse_mysql(row)


# --------------------------------------------------------------------------- displays


class StatementDisplay(Protocol):
    """Where the statements' start, progress and end are shown (any thread may report)."""

    def started(self, seq: int, total: int, subject: str, sql: str) -> None: ...

    def update(self, progress: StatementProgress) -> None: ...

    def tick(self) -> None:
        """Redraw (the elapsed time), about twice a second while a statement runs."""

    def finished(self, seconds: float, note: str = "done") -> None: ...

    def close(self) -> None: ...


def one_line(sql: str, width: int) -> str:
    """``sql`` on one line, cut to ``width`` characters with an ellipsis."""
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[: max(0, width - 1)].rstrip() + "…"


def _describe(p: StatementProgress) -> str:
    pct = f"{p.percent:.0f}%" if p.percent is not None else ""
    return ", ".join(x for x in (pct, p.detail) if x)


class PlainDisplay:
    """Plain lines, for logs and pipes: start, a progress line at most every ``every``
    seconds (the first after ``first`` seconds), done with the time."""

    def __init__(
        self, stream: IO[str], *, width: int = 100, first: float = 2.0, every: float = 5.0
    ) -> None:
        self.stream = stream
        self.width = width
        self.first = first
        self.every = every
        self._lock = threading.Lock()
        self._head = ""
        self._t0 = 0.0
        self._next = 0.0

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def started(self, seq: int, total: int, subject: str, sql: str) -> None:
        with self._lock:
            self._head = f"[{seq}/{total}] {subject}"
            self._t0 = time.monotonic()
            self._next = self._t0 + self.first
            room = self.width - len(self._head) - 2
            self._write(f"{self._head}: {one_line(sql, max(20, room))}")

    def update(self, progress: StatementProgress) -> None:
        with self._lock:
            now = time.monotonic()
            if not self._head or now < self._next or not _describe(progress):
                return
            self._next = now + self.every
            self._write(f"{self._head}: {_describe(progress)} ({now - self._t0:.1f}s)")

    def tick(self) -> None:
        pass

    def finished(self, seconds: float, note: str = "done") -> None:
        with self._lock:
            if self._head:
                self._write(f"{self._head}: {note} in {seconds:.2f}s")
            self._head = ""

    def close(self) -> None:
        pass


class LiveDisplay:
    """One updating line on an interactive terminal (rich.progress), redrawn by the
    caller's ``tick`` -- no refresh thread of rich's own, so Ctrl-C always reaches
    the main thread (see workflows.statementwatch)."""

    def __init__(self, console: Any) -> None:
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            # Messages written to stderr meanwhile (keep-data notes) print above the line.
            redirect_stderr=True,
        )
        self._lock = threading.Lock()
        self._task: Any = None
        self._head = ""

    def started(self, seq: int, total: int, subject: str, sql: str) -> None:
        with self._lock:
            self._head = f"[{seq}/{total}] {subject}"
            room = self.console.width - len(self._head) - 2
            self.console.print(
                f"{self._head}: {one_line(sql, max(20, room))}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            self.progress.start()
            self._task = self.progress.add_task(self._head, total=None, detail="")
            self.progress.refresh()

    def update(self, progress: StatementProgress) -> None:
        with self._lock:
            if self._task is None:
                return
            if progress.percent is None:
                self.progress.update(self._task, total=None, detail=progress.detail)
            else:
                self.progress.update(
                    self._task, total=100, completed=progress.percent, detail=progress.detail
                )
            self.progress.refresh()

    def tick(self) -> None:
        with self._lock:
            if self._task is not None:
                self.progress.refresh()

    def finished(self, seconds: float, note: str = "done") -> None:
        with self._lock:
            if self._task is not None:
                self.progress.remove_task(self._task)
                self._task = None
                self.progress.stop()
            if self._head:
                self.console.print(
                    f"{self._head}: {note} in {seconds:.2f}s", markup=False, highlight=False
                )
            self._head = ""

    def close(self) -> None:
        with self._lock:
            self.progress.stop()


class SilentDisplay:
    """No output (library use, tests); a statement is still interruptible."""

    def started(self, seq: int, total: int, subject: str, sql: str) -> None:
        pass

    def update(self, progress: StatementProgress) -> None:
        pass

    def tick(self) -> None:
        pass

    def finished(self, seconds: float, note: str = "done") -> None:
        pass

    def close(self) -> None:
        pass


def statement_display(stream: IO[str] | None = None) -> StatementDisplay:
    """The display for ``stream`` (default stderr): live on an interactive terminal,
    plain lines otherwise (a pipe, a log, ``TERM=dumb``)."""
    from rich.console import Console

    out = stream if stream is not None else sys.stderr
    console = Console(file=out)
    if console.is_interactive:
        return LiveDisplay(console)
    return PlainDisplay(out, width=max(60, console.width))


__all__ = [
    "LiveDisplay",
    "PlainDisplay",
    "SilentDisplay",
    "StatementDisplay",
    "StatementProgress",
    "one_line",
    "parse_mariadb",
    "parse_mysql",
    "parse_row",
    "statement_display",
]
