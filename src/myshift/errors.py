"""User-facing errors.

Every error a user can cause (bad SQL, wrong password, drifted target...) is a
``MyshiftError``: one sentence saying what is wrong plus one saying how to fix
it.  The CLI prints ``str(error)`` and exits with ``error.exit_code``; it never
shows a traceback for these.
"""

from __future__ import annotations

from myshift.exitcodes import ExitCode


class MyshiftError(Exception):
    """Base class: a message for the user, a hint for the fix, an exit code."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message} {self.fix}"
        return self.message


class UsageError(MyshiftError):
    exit_code = ExitCode.USAGE


class ConnectionFailed(MyshiftError):
    exit_code = ExitCode.CONNECTION


class PrivilegeError(ConnectionFailed):
    """The server refused a statement for lack of a privilege (see ``db.privileges``).

    ``privilege`` names it ("ALTER", "PROCESS", "SUPER or SET USER"); ``grant``
    is the GRANT statement that fixes it, when one does.
    """

    def __init__(self, message: str, fix: str, *, privilege: str = "", grant: str = "") -> None:
        super().__init__(message, fix)
        self.privilege = privilege
        self.grant = grant


class SQLLoadError(MyshiftError):
    """A desired-state statement failed; carries file:line."""

    exit_code = ExitCode.BAD_SQL

    def __init__(self, path: str, line: int, server_message: str, statement: str = "") -> None:
        self.path = path
        self.line = line
        self.server_message = server_message
        self.statement = statement
        super().__init__(
            f"{path}:{line}: {server_message}",
            "Fix the statement in the desired SQL and run again; nothing was applied.",
        )


class UnsupportedError(MyshiftError):
    exit_code = ExitCode.UNSUPPORTED


class VerificationFailed(MyshiftError):
    exit_code = ExitCode.VERIFY_FAILED


class DriftError(MyshiftError):
    exit_code = ExitCode.DRIFT


class UnsafeError(MyshiftError):
    exit_code = ExitCode.UNSAFE


class LockTimeout(MyshiftError):
    exit_code = ExitCode.LOCKED


class ApplyFailed(MyshiftError):
    exit_code = ExitCode.APPLY_FAILED


class Interrupted(MyshiftError):
    """Ctrl-C, SIGTERM or SIGHUP (``myshift.interrupts``): what ran, what the server did
    with the statement in flight, and the next step (not a failure of the plan:
    rehearsals do not count it).  The process exits 128 + the signal that came."""

    exit_code = ExitCode.INTERRUPTED


class ServerMissing(MyshiftError):
    exit_code = ExitCode.ENVIRONMENT


class Aborted(MyshiftError):
    """Not done: the confirmation was needed (no terminal) or declined."""

    exit_code = ExitCode.ABORTED


class RehearsalRequired(MyshiftError):
    """A protected target's history records no passed rehearsal of the plan."""

    exit_code = ExitCode.REHEARSAL_FAILED
