"""Say what a long step is doing, so a command is never silent for long.

The one printer of "what I am doing now" lines (plan, apply, rollback, the
sandboxes).  ``Phases.start("Reading the target schema...")`` marks the start
of a phase.  On a terminal the line is shown at once; otherwise (a pipe, a CI
log) it is shown only when the phase is still running after ``delay``
seconds, so quick commands stay quiet in scripts and slow ones still say what
they wait on.  Starting the next phase, or ``done()``, ends the current one.

With a ``stamp`` every line begins with the time since the Phases was made
(the sandboxes: "[ 1:05] Creating read replica ..."); ``step(text)`` wraps a
phase and adds "done in 1m05s" when it took a second or more, and ``note``
says a stamped line that is no phase.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

DELAY = 2.0  # seconds a phase may run silently when not on a terminal

# The prefix of a stamped line, from the seconds since the start.
Stamp = Callable[[float], str]


def minutes(elapsed: float) -> str:
    """``[ m:ss]``: the AWS sandboxes' stamp (their steps take minutes)."""
    s = int(elapsed)
    return f"[{s // 60:2d}:{s % 60:02d}]"


def duration(seconds: float) -> str:
    """``12s`` or ``1m05s``."""
    s = int(seconds)
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{seconds:.0f}s"


class Phases:
    def __init__(
        self,
        say: Callable[[str], None],
        *,
        immediate: bool,
        delay: float | None = None,
        stamp: Stamp | None = None,
    ) -> None:
        self._say = say
        self._immediate = immediate
        self._delay = DELAY if delay is None else delay
        self._stamp = stamp
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def note(self, text: str) -> None:
        """Say ``text`` now (stamped, if this Phases stamps): an event, not a phase."""
        if self._stamp is not None:
            text = f"{self._stamp(time.monotonic() - self._t0)} {text}"
        self._say(text)

    def start(self, text: str) -> None:
        """A new phase begins (the previous one, if any, has ended)."""
        self.done()
        if self._immediate:
            self.note(text)
            return
        timer = threading.Timer(self._delay, self._late, args=(text,))
        timer.daemon = True
        with self._lock:
            self._timer = timer
        timer.start()

    def _late(self, text: str) -> None:
        # Under the lock: a phase that ended meanwhile (done() cancelled or
        # replaced this timer) is not announced after the fact.
        with self._lock:
            if self._timer is threading.current_thread():
                self.note(text)

    def done(self) -> None:
        """The current phase has ended: its line is no longer due."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    @contextmanager
    def step(self, text: str) -> Iterator[None]:
        """``text...`` as a phase for the ``with`` body; then "done in Xs" if it took 1 s
        or more (not when the body raised: the error says what happened)."""
        self.start(f"{text}...")
        t = time.monotonic()
        yield
        self.done()
        took = time.monotonic() - t
        if took >= 1:
            self.note(f"  done in {duration(took)}")

    def __enter__(self) -> Phases:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.done()


def start(phases: Phases | None, text: str) -> None:
    """``phases.start(text)`` when there is someone to tell."""
    if phases is not None:
        phases.start(text)


__all__ = ["DELAY", "Phases", "Stamp", "duration", "minutes", "start"]
