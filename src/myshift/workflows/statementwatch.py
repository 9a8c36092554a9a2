"""Watch the statement the DDL session runs: show its progress, stop it on Ctrl-C.

One side connection and one thread per run of statements (``StatementWatch``,
used by ``workflows.runner.run_statements``):

* about every 0.5 s the thread reads the DDL session's progress from the
  server (``db.sessions.progress_row``) and hands it to the display
  (``workflows.statementprogress``), unless the statement reports its own
  progress (``on_progress``: an online schema change tool);
* **Ctrl-C** (or SIGTERM, SIGHUP: ``myshift.interrupts``) while a statement runs
  does not raise in the main thread, which is blocked reading the server's
  answer (an exception there would leave the driver mid-packet and the server
  still running the statement).  The handler
  only wakes the thread, which sends ``KILL QUERY <ddl session>`` on the side
  connection (again every 0.5 s: a keep-data step may have moved on to its
  next query).  The server stops the statement and rolls it back; the DDL
  session gets error 1317 and the runner records ``interrupted by user`` (or
  ``by SIGTERM``).  If
  the server has not answered ``budget`` seconds after the signal (a big
  transaction rolling back), the DDL socket is shut down so myshift still
  stops in time, and the message says the statement may still be rolling back.
  A second Ctrl-C, or one between statements, raises KeyboardInterrupt at once.

Work that is not a query of the DDL session (an online schema change tool's
process) registers ``on_interrupt(stop)``: the thread calls it on Ctrl-C.

The thread blocks the stop signals for itself, so the kernel delivers them to
the main thread, whose blocking read is what must be interrupted.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType, TracebackType

from myshift import interrupts
from myshift.db import sessions
from myshift.db.connect import Conn, DriverError
from myshift.errors import Interrupted
from myshift.workflows.statementprogress import (
    SilentDisplay,
    StatementDisplay,
    StatementProgress,
    parse_row,
)

# What happened to the statement in flight when the user stopped the run.
ROLLED_BACK = "rolled back"  # the server stopped it and undid it
COMPLETED = "completed"  # it had finished before the stop reached it
UNKNOWN = "unknown"  # the server did not confirm within the budget


class StatementInterrupted(Interrupted):
    """A stop (Ctrl-C, SIGTERM, SIGHUP) during (or right after) statement ``seq`` of
    ``total``; ``outcome`` says what the server did with it.  ``description`` is the
    statement's clause (``PlannedStatement.description``), as the runner's other
    errors name it: the SQL cut at a length ended mid-name.  ``fix`` is the next
    step, set by whoever knows the apply."""

    def __init__(
        self, seq: int, total: int, subject: str, description: str, outcome: str, thread_id: int
    ) -> None:
        self.seq, self.total, self.subject = seq, total, subject
        self.description = description
        self.outcome = outcome
        self.thread_id = thread_id
        self._by = interrupts.by()
        super().__init__(self._describe(), None)

    @property
    def applied(self) -> int:
        """How many statements are known to have completed (1..applied)."""
        return self.seq if self.outcome == COMPLETED else self.seq - 1

    def _describe(self) -> str:
        what = f"statement {self.seq} of {self.total} on {self.subject!r}"
        what += f" ({self.description})" if self.description else ""
        done = self.applied
        ran = f"statements 1..{done} were applied" if done else "no statement was applied"
        by = self._by
        if self.outcome == ROLLED_BACK:
            said = (
                f"Interrupted {by} during {what}: the server stopped it and rolled "
                f"it back, so {self.subject} is as it was before that statement; {ran}."
            )
        elif self.outcome == COMPLETED:
            said = f"Interrupted {by}: {what} had completed; {ran} and nothing after it ran."
        else:
            said = (
                f"Interrupted {by} during {what}: KILL QUERY was sent but the server "
                f"had not confirmed when myshift stopped; it may still be rolling the statement "
                f"back (connection id {self.thread_id} in SHOW PROCESSLIST); {ran}."
            )
        return said

    @property
    def history_note(self) -> str:
        return f"interrupted {self._by}: statement {self.seq} {self.outcome}"


@dataclass
class _Current:
    seq: int
    total: int
    subject: str
    description: str
    external: bool = False  # reports its own progress (on_progress)
    # Called once on Ctrl-C besides the KILL (e.g. stop an external tool's process).
    stoppers: list[Callable[[], None]] = field(default_factory=list)
    stopped: bool = False


class StatementWatch:
    """Progress and Ctrl-C for the statements of one DDL session (see the module doc).

    ``with StatementWatch(conn, display) as watch:`` around the run, and
    ``with watch.statement(seq, total, subject, sql, description):`` around each
    statement.
    """

    def __init__(
        self,
        conn: Conn,
        display: StatementDisplay | None = None,
        *,
        budget: float = 1.5,
        poll: float = 0.5,
    ) -> None:
        self.conn = conn
        self.display: StatementDisplay = display if display is not None else SilentDisplay()
        self.budget = budget
        self.poll = poll
        self.thread_id = conn.thread_id()
        self._mariadb = conn.flavor.is_mariadb
        self._current: _Current | None = None
        self._stop_at: float | None = None
        self._abandoned = False
        self._last: _Current | None = None  # the statement a stop came after
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._routing: contextlib.ExitStack | None = None

    # ------------------------------------------------------------------ lifetime

    def __enter__(self) -> StatementWatch:
        self._routing = contextlib.ExitStack()
        self._routing.enter_context(interrupts.routed(self._on_signal))
        self._thread = threading.Thread(target=self._watch, name="myshift-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._routing is not None:
            self._routing.close()
            self._routing = None
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        self.display.close()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if not interrupts.note(signum):
            return  # the same stop told twice (timeout(1)): one stop
        if self._stop_at is not None or self._current is None:
            interrupts.raise_for(signum)  # a second one, or nothing in flight: stop now
        self._stop_at = time.monotonic()
        self._wake.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop_at is not None

    def check(self) -> None:
        """Raise if a Ctrl-C came while the previous statement completed (between statements
        nothing is in flight: the run stops before the next one)."""
        last = self._last
        if self._stop_at is not None and last is not None:
            raise StatementInterrupted(
                last.seq, last.total, last.subject, last.description, COMPLETED, self.thread_id
            )

    # ------------------------------------------------------------------ a statement

    @contextlib.contextmanager
    def statement(
        self, seq: int, total: int, subject: str, sql: str, description: str
    ) -> Iterator[None]:
        """Show the statement (its SQL), watch it while the body runs it, and turn an
        error caused by Ctrl-C into ``StatementInterrupted`` (naming its clause)."""
        cur = _Current(seq, total, subject, description)
        self.display.started(seq, total, subject, sql)
        t0 = time.monotonic()
        self._current = cur
        self._wake.set()
        try:
            yield
        except BaseException as exc:
            self._current = None
            dt = time.monotonic() - t0
            if self._stop_at is None or isinstance(exc, StatementInterrupted):
                self.display.finished(dt, "failed")
                raise
            outcome = UNKNOWN if self._abandoned or _lost(exc) else ROLLED_BACK
            self.display.finished(dt, f"stopped ({outcome})")
            raise StatementInterrupted(
                seq, total, subject, description, outcome, self.thread_id
            ) from None
        self._current = None
        self._last = cur
        self.display.finished(time.monotonic() - t0)

    def on_interrupt(self, stop: Callable[[], None]) -> None:
        """Also call ``stop`` (from the watch thread) if Ctrl-C comes during the running
        statement: for work that is not a query of the DDL session (an external tool)."""
        cur = self._current
        if cur is not None:
            cur.stoppers.append(stop)

    def on_progress(self, percent: float, detail: str = "") -> None:
        """An external report for the running statement (replaces polling the server)."""
        cur = self._current
        if cur is None:
            return
        cur.external = True
        self.display.update(StatementProgress(percent, detail))

    # ------------------------------------------------------------------ the thread

    def _watch(self) -> None:
        interrupts.block_in_this_thread()
        side: Conn | None = None
        polling = not isinstance(self.display, SilentDisplay)  # nobody to show it to
        next_kill = 0.0
        try:
            while not self._closed:
                self._wake.wait(0.1 if self._stop_at is not None else self.poll)
                self._wake.clear()
                cur = self._current
                if cur is None or self._closed:
                    continue
                if side is None:
                    side = self._side()
                if self._stop_at is not None:
                    if not cur.stopped:
                        cur.stopped = True
                        for stop in cur.stoppers:
                            with contextlib.suppress(Exception):
                                stop()
                    if not cur.stoppers:  # an external tool stops itself and cleans up
                        next_kill = self._stop(side, next_kill)  # on the DDL session
                    continue
                with contextlib.suppress(OSError):  # a terminal that hung up (EIO)
                    self.display.tick()
                if cur.external or side is None or not polling:
                    continue
                try:
                    row = sessions.progress_row(side, self.thread_id)
                    p = parse_row(row, mariadb=self._mariadb)
                except DriverError:
                    polling = False  # the side session is gone: no progress, Ctrl-C still works
                    continue
                if p is not None and self._current is cur:
                    with contextlib.suppress(OSError):  # the thread must live to stop it
                        self.display.update(p)
        finally:
            if side is not None:
                side.close()

    def _side(self) -> Conn | None:
        try:
            return self.conn.sibling(lock_wait_timeout=None, connect_timeout=2)
        except Exception:  # the server refuses one more session: no progress shown
            return None

    def _stop(self, side: Conn | None, next_kill: float) -> float:
        """Kill the running statement (again every 0.5 s); give up waiting after the budget."""
        now = time.monotonic()
        if now >= next_kill:
            next_kill = now + 0.5
            try:
                if side is None:
                    raise OSError("no side session")
                sessions.kill_query(side, self.thread_id)
            except (DriverError, OSError):
                with (
                    contextlib.suppress(Exception),
                    self.conn.sibling(lock_wait_timeout=None, connect_timeout=1) as c,
                ):
                    sessions.kill_query(c, self.thread_id)
        assert self._stop_at is not None
        if now - self._stop_at >= self.budget and not self._abandoned and self._current:
            self._abandoned = True
            self.conn.abort()
        return next_kill


def _lost(exc: BaseException) -> bool:
    """The session went away (or was shut down here): the statement's end is not known."""
    from myshift.db.connect import DriverInterfaceError

    if isinstance(exc, DriverInterfaceError):
        return True
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, DriverError) and exc.args and exc.args[0] in (2006, 2013, 2055):
        return True
    return cause is not None and cause is not exc and _lost(cause)


__all__ = [
    "COMPLETED",
    "ROLLED_BACK",
    "UNKNOWN",
    "StatementInterrupted",
    "StatementWatch",
]
