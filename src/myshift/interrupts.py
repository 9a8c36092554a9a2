"""SIGINT, SIGTERM and SIGHUP stop myshift the same way: the Ctrl-C way.

Ctrl-C raises ``KeyboardInterrupt`` in the main thread, and every clean-up
path of myshift is written for it: a running DDL is killed by the statement
watch (``workflows.statementwatch``), pt-online-schema-change is stopped and
its leftovers removed, an ``access = "allowlist"`` rule is closed in
``finally``, a sandbox is deleted.  Python's default for SIGTERM (systemd,
cron and CI time limits, ``timeout(1)``, ``kill``) and SIGHUP (the terminal
went away) is to die at once, skipping all of that.

``installed()`` (around each CLI command) makes SIGTERM and SIGHUP raise
``Stopped``, a ``KeyboardInterrupt``, so they take the very same paths, and
remembers which signal came first: ``exit_code()`` is 128 + that signal (130,
143, 129, the shell's convention) and ``by()`` names it in messages.  Code
that handles Ctrl-C itself (the statement watch) takes all three through
``routed(handler)``; a second signal during clean-up behaves as a second
Ctrl-C does, except one that comes within ``REPEAT_WINDOW`` of the last:
that is the same stop told twice (``timeout(1)`` signals myshift and then
its process group; a closing terminal's SIGHUP comes from the kernel and
again from the shell), not an operator insisting.  A signal that was ignored
when myshift started (``nohup`` ignores SIGHUP, a script's ``cmd &`` ignores
SIGINT) stays ignored.

This module never decides what to clean up; it only makes every stop signal
look like Ctrl-C to the code that does.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import termios  # here, not in the handler: no import while a signal is handled
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, NoReturn

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

Handler = Callable[[int, FrameType | None], Any]


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP: a KeyboardInterrupt, so it is cleaned up after as Ctrl-C is."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# Seconds within which a stop signal repeats the last one instead of insisting.
# timeout(1)'s two sends are microseconds apart, a shell's resent SIGHUP a few
# milliseconds; an operator's second Ctrl-C comes later than this.  (Measured:
# a Python program in the foreground of `bash -i` on a pty whose master was
# closed got SIGHUP twice, 192 us apart, as two handler calls in 1 of 3 runs.)
REPEAT_WINDOW = 0.25

_first: int | None = None  # the stop signal that came first in this command
_last_at: float | None = None  # when the last signal acted upon came


def note(signum: int) -> bool:
    """Remember a stop signal (the first one names the stop); False when it only
    repeats the last one (``REPEAT_WINDOW``) and must be ignored.  On SIGHUP, stop
    writing to a terminal that is gone, so clean-up does not fail on its output."""
    global _first, _last_at
    if signum == signal.SIGHUP:
        _quiet_lost_terminal()
    now = time.monotonic()
    if _last_at is not None and now - _last_at < REPEAT_WINDOW:
        return False
    _last_at = now
    if _first is None:
        _first = signum
    return True


def raise_for(signum: int) -> NoReturn:
    """What a stop signal raises where nothing handles it specially."""
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Stopped(signum)


def _default(signum: int, frame: FrameType | None) -> None:
    if note(signum):
        raise_for(signum)


def received() -> int:
    """The stop signal that stopped this command (SIGINT when none was seen: a
    KeyboardInterrupt raised some other way)."""
    return _first if _first is not None else int(signal.SIGINT)


def exit_code() -> int:
    """128 + the signal, as a shell reports a process that signal ended."""
    return 128 + received()


def by() -> str:
    """Who stopped the command, for "Interrupted ..." messages."""
    sig = received()
    if sig == signal.SIGTERM:
        return "by SIGTERM"
    if sig == signal.SIGHUP:
        return "by SIGHUP (the terminal went away)"
    return "by user"


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Around one CLI command: every stop signal raises as Ctrl-C does (module doc).

    Only in the main thread (signal handlers can be set nowhere else); the
    handlers in place before are put back afterwards (in-process runs: tests).
    """
    global _first, _last_at
    _first = _last_at = None
    old: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            now = signal.getsignal(sig)
            default = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
            if now is default:
                old[sig] = signal.signal(sig, _default)
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def routed(handler: Handler) -> Iterator[None]:
    """Send each stop signal that stops myshift (not one that is ignored) to
    ``handler`` while the block runs; ``handler`` returns at once unless
    ``note(signum)``, and calls ``raise_for(signum)`` to stop at once."""
    old: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            now = signal.getsignal(sig)
            if now is _default or (sig == signal.SIGINT and now is signal.default_int_handler):
                old[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, was in old.items():
            signal.signal(sig, was)


def block_in_this_thread() -> None:
    """For a helper thread: leave the stop signals to the main thread, whose blocking
    read is what they must interrupt."""
    with contextlib.suppress(AttributeError, ValueError, OSError):
        signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS))


def _quiet_lost_terminal() -> None:
    """Point stdout and stderr at /dev/null if their terminal hung up (writes there
    fail with EIO); a SIGHUP sent with ``kill`` to a live terminal changes nothing."""
    for fd in (1, 2):
        try:
            termios.tcgetattr(fd)
        except termios.error as exc:
            if exc.args and exc.args[0] == errno.EIO:
                with contextlib.suppress(OSError):
                    null = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(null, fd)
                    os.close(null)
        except (OSError, ValueError):
            continue


__all__ = [
    "STOP_SIGNALS",
    "Stopped",
    "block_in_this_thread",
    "by",
    "exit_code",
    "installed",
    "note",
    "raise_for",
    "received",
    "routed",
]
