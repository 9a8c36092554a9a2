"""Say what a long step is doing, so a command is never silent for long.

``Phases.start("Reading the target schema...")`` marks the start of a phase.
On a terminal the line is shown at once; otherwise (a pipe, a CI log) it is
shown only when the phase is still running after ``delay`` seconds, so quick
commands stay quiet in scripts and slow ones still say what they wait on.
Starting the next phase, or ``done()``, ends the current one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

DELAY = 2.0  # seconds a phase may run silently when not on a terminal


class Phases:
    def __init__(
        self, say: Callable[[str], None], *, immediate: bool, delay: float | None = None
    ) -> None:
        self._say = say
        self._immediate = immediate
        self._delay = DELAY if delay is None else delay
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def start(self, text: str) -> None:
        """A new phase begins (the previous one, if any, has ended)."""
        self.done()
        if self._immediate:
            self._say(text)
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
                self._say(text)

    def done(self) -> None:
        """The current phase has ended: its line is no longer due."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

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
