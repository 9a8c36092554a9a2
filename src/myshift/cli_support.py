"""The CLI's plumbing: mysql-client flags, resolving what was typed, errors to exit codes.

Everything the commands in ``myshift.cli`` share besides calling their
workflow: the connection flags, turning a reference into an ``Endpoint``
(config.endpoint.resolve_endpoint), reading myshift.toml once per command and the
values the workflows get from it, the parsing of a few option values, and
``handle_errors`` (one clean message and exit code, never a traceback).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from myshift.errors import MyshiftError, UsageError
from myshift.exitcodes import ExitCode

F = TypeVar("F", bound=Callable[..., Any])


def echo_err(msg: str) -> None:
    click.echo(msg, err=True)


def handle_errors(fn: F) -> F:
    """Turn MyshiftError into one clean message and its exit code (never a traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MyshiftError as exc:
            from myshift.db.connect import explain_error

            shown = explain_error(exc)  # a missing privilege, however it was wrapped
            echo_err(f"myshift: {shown}")
            sys.exit(int(shown.exit_code))
        except KeyboardInterrupt:
            echo_err("myshift: interrupted by user.")
            sys.exit(int(ExitCode.INTERRUPTED))
        except Exception as exc:
            from myshift.db.connect import translate_driver_error

            err = translate_driver_error(exc)
            if err is None:
                raise
            echo_err(f"myshift: {err}")
            sys.exit(int(err.exit_code))

    return wrapper  # type: ignore[return-value]


def statement_display() -> Any:
    """Where apply and rollback show each statement and its progress: stderr."""
    from myshift.workflows.statementprogress import statement_display as make

    return make(sys.stderr)


def connection_options(fn: F) -> F:
    """mysql-client style flags for the target endpoint."""
    opts = [
        click.option("-h", "--host", default=None, help="Target host."),
        click.option("-P", "--port", type=int, default=None, help="Target port."),
        click.option("-u", "--user", default=None, help="Target user."),
        click.option("-S", "--socket", default=None, help="Target unix socket."),
        click.option(
            "-p",
            "--password",
            "password_prompt",
            is_flag=True,
            default=False,
            help="Prompt for the password (never give it on the command line).",
        ),
        click.option("--defaults-file", default=None, help="A my.cnf to read [client] from."),
        click.option(
            "--ssl-mode", default=None, help="DISABLED|REQUIRED|VERIFY_CA|VERIFY_IDENTITY"
        ),
        click.option("--ssl-ca", default=None),
        click.option("--ssl-cert", default=None),
        click.option("--ssl-key", default=None),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def _spec(ref: str | None, kw: dict[str, Any]) -> Any:
    from myshift.config.endpoint import EndpointSpec

    return EndpointSpec(
        ref=ref,
        host=kw.get("host"),
        port=kw.get("port"),
        user=kw.get("user"),
        socket=kw.get("socket"),
        password_prompt=bool(kw.get("password_prompt")),
        defaults_file=kw.get("defaults_file"),
        ssl_mode=kw.get("ssl_mode"),
        ssl_ca=kw.get("ssl_ca"),
        ssl_cert=kw.get("ssl_cert"),
        ssl_key=kw.get("ssl_key"),
    )


def _prompt(text: str) -> str:
    # Like the mysql client, read the password from the terminal, never from
    # stdin: stdin may be the desired SQL (`myshift plan -p db < dump.sql`).
    import getpass

    return getpass.getpass(text)


def resolve_target(ref: str | None, kw: dict[str, Any]) -> Any:
    from myshift.config.endpoint import resolve_endpoint

    return resolve_endpoint(_spec(ref, kw), prompt=_prompt)


def resolve_source(value: str | None) -> Any:
    """A desired source: URL or environment name -> Endpoint; a path or '-' stays a string."""
    from myshift.config.endpoint import EndpointSpec, looks_like_url, resolve_endpoint
    from myshift.config.settings import load_settings

    if value is None:
        if sys.stdin.isatty():
            raise UsageError(
                "No desired schema was given and stdin is a terminal.",
                "Give --desired/--from (a file, directory, URL or environment) or pipe SQL in.",
            )
        return "-"
    if looks_like_url(value) or value in load_settings().environments:
        return resolve_endpoint(EndpointSpec(ref=value), prompt=_prompt)
    return value


def load_config() -> Any:
    """myshift.toml, read once per command; workflows get the values, never the file."""
    from myshift.config.settings import load_settings

    return load_settings()


def plan_key_for(settings: Any, target: Any) -> Any:
    """The team key that signs (and must have signed) plan files for ``target``."""
    from myshift.workflows.plancheck import plan_key

    return plan_key(settings, target.env_name)


def rename_hints(rename: tuple[str, ...]) -> Any:
    from myshift.engine.load import parse_rename_option

    return parse_rename_option(list(rename)) if rename else None


def online_policy(mode: str | None, settings: Any) -> Any:
    """``--online`` with the ``[online]`` settings of myshift.toml (workflows.online)."""
    from myshift.workflows.online import OnlinePolicy

    return OnlinePolicy(mode=mode or "auto", settings=settings.online)


def algorithm_policy(value: str | None) -> Any:
    from myshift.engine.risk import Algorithm

    return Algorithm(value.upper()) if value else None


class Group(click.Group):
    """A group whose command-line mistakes exit 3 (ExitCode.USAGE), not click's 2.

    Exit 2 means "changes pending" for ``plan --check`` and ``drift``: a CI job
    must not read a mistyped option as drift.  Subcommands are parsed inside
    the parent group's ``invoke``, so catching there covers every level.
    """

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            exc.exit_code = int(ExitCode.USAGE)  # type: ignore[misc]  # a ClassVar in click
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            exc.exit_code = int(ExitCode.USAGE)  # type: ignore[misc]  # a ClassVar in click
            raise
