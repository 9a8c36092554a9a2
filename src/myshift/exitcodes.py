"""Process exit codes, in one place (documented in the README)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # unexpected failure (a bug: please report it)
    CHANGES_PENDING = 2  # plan --check / drift: the target differs from desired
    USAGE = 3  # bad command line, unknown environment, bad config file
    CONNECTION = 4  # unreachable host, wrong password, TLS failure, missing privilege
    BAD_SQL = 5  # the desired SQL does not load (file:line given)
    UNSUPPORTED = 6  # an object myshift cannot diff safely
    VERIFY_FAILED = 7  # the generated plan did not converge in the workspace
    DRIFT = 8  # the target no longer matches the plan's `from` / identity differs
    UNSAFE = 9  # refused: destructive or policy-violating statement without the flag
    LOCKED = 10  # another apply holds the lock, or a metadata lock could not be had
    APPLY_FAILED = 11  # a statement failed on the server during apply
    ENVIRONMENT = 12  # a needed local program (mariadbd...) is missing
    ABORTED = 13  # the user declined the confirmation
    REHEARSAL_FAILED = 14  # rehearsal failed, or a protected apply has no passed rehearsal
    REGRESSION = 15  # `watch` flagged a regression against its baseline
    # Stopped by a signal, cleaned up the same way (myshift.interrupts); 128 + the
    # signal, as the shell reports it.  Errors carry INTERRUPTED; the exit code is
    # that of the signal that came.
    HANGUP = 129  # SIGHUP: the terminal went away
    INTERRUPTED = 130  # Ctrl-C: the running statement was killed (the shell's 128 + SIGINT)
    TERMINATED = 143  # SIGTERM: systemd, a CI or cron time limit, timeout(1), kill
