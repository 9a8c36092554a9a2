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
from typing import Any, NamedTuple, TypeVar

import click

from myshift import interrupts
from myshift.errors import MyshiftError, UsageError
from myshift.exitcodes import ExitCode

F = TypeVar("F", bound=Callable[..., Any])


def echo_err(msg: str) -> None:
    click.echo(msg, err=True)


def handle_errors(fn: F) -> F:
    """Turn MyshiftError into one clean message and its exit code (never a traceback).

    A stop (Ctrl-C, SIGTERM, SIGHUP: ``myshift.interrupts``) exits 128 + its signal.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MyshiftError as exc:
            from myshift.db.connect import explain_error

            shown = explain_error(exc)  # a missing privilege, however it was wrapped
            echo_err(f"myshift: {shown}")
            stopped = shown.exit_code == ExitCode.INTERRUPTED
            sys.exit(interrupts.exit_code() if stopped else int(shown.exit_code))
        except KeyboardInterrupt:
            echo_err(f"myshift: interrupted {interrupts.by()}.")
            sys.exit(interrupts.exit_code())
        except Exception as exc:
            from myshift.db.connect import translate_driver_error

            err = translate_driver_error(exc)
            if err is None:
                raise
            echo_err(f"myshift: {err}")
            sys.exit(int(err.exit_code))

    return wrapper  # type: ignore[return-value]


def on_close(close: Callable[[], None]) -> None:
    """Run ``close`` when the command ends, on every path (success, error, a stop signal).

    click runs it after ``handle_errors`` has chosen the exit code; a second stop
    signal during it (Ctrl-C again) would become click's "Aborted!", exit 1 (a
    bug's code): it exits 128 + the first signal instead, as the command would have.
    """

    def run() -> None:
        try:
            close()
        except KeyboardInterrupt:
            echo_err(f"myshift: interrupted {interrupts.by()}; clean-up was stopped.")
            sys.exit(interrupts.exit_code())

    click.get_current_context().find_root().call_on_close(run)


def statement_display() -> Any:
    """Where apply and rollback show each statement and its progress: stderr."""
    from myshift.workflows.statementprogress import statement_display as make

    return make(sys.stderr)


# Help texts shared by the commands: which side is which.
TARGET_FORMS = "an environment of myshift.toml or mysql://user@host:port/schema."
TO_HELP = "The database to change (the current side): " + TARGET_FORMS
DESIRED_HELP = (
    "The schema you want: a .sql file, a directory of them, '-' (stdin), "
    "a mysql:// URL or an environment. (--from is an alias of --desired.)"
)
ALGORITHM_HELP = (
    "Require this ALTER algorithm (instant, inplace or copy); a statement that "
    "cannot run with it is refused before anything runs, and the others are sent "
    "with ALGORITHM= so the server refuses a wrong prediction (default: the "
    "server's choice)."
)
WORKSPACES = (
    "temp (a temporary schema on the target's own server, the default), local (a "
    "throwaway local server) or a mysql:// URL of a scratch server."
)
WORKSPACE_HELP = "Where the desired SQL is loaded to be read: " + WORKSPACES
RENAME_HELP = (
    "Rename hint, repeatable: table.old_column=new_column or old_table=new_table "
    "(otherwise a rename is a drop plus an add)."
)


online_option = click.option(
    "--online",
    type=click.Choice(["auto", "always", "never"]),
    default=None,
    help="Blocking ALTERs on big tables through pt-online-schema-change (default auto).",
)
algorithm_option = click.option(
    "--algorithm",
    type=click.Choice(["instant", "inplace", "copy"]),
    default=None,
    help=ALGORITHM_HELP,
)
lock_wait_option = click.option(
    "--lock-wait-timeout",
    type=click.IntRange(min=1),
    default=None,
    help="Seconds a DDL statement waits for its metadata lock before giving up "
    "(default: lock_wait_timeout in myshift.toml, else 5).",
)


class OutputStyle(NamedTuple):
    color: bool
    width: int


def output_style() -> OutputStyle:
    """Whether stdout gets colour, and the width comment lines wrap to.

    rich decides as it does for its own output: colour only on a terminal, never
    with NO_COLOR set or TERM=dumb; the terminal's width there, 80 when piped.
    """
    from rich.console import Console

    console = Console(file=sys.stdout)
    if not console.is_terminal:
        return OutputStyle(False, 80)
    color = not console.no_color and not console.is_dumb_terminal and bool(console.color_system)
    return OutputStyle(color, console.width)


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["human", "sql", "json"]),
    default=None,
    help="Output: human (grouped by table, coloured), sql (a script with each risk and "
    "pre-flight as -- comments) or json (the plan file). Default: human on a terminal, "
    "sql when piped.",
)


def _set_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        choose_config(value)
    elif ctx.parent is None:
        # The group: a new invocation (in-process runs too) starts with no choice
        # and no cached file; a command's own --config may still set one after.
        choose_config(None)


config_option = click.option(
    "--config",
    "config_path",
    default=None,
    expose_value=False,
    is_eager=True,
    callback=_set_config,
    metavar="PATH",
    help="The myshift.toml to use (default: $MYSHIFT_CONFIG, else the first myshift.toml "
    "in this directory or its parents).",
)


def connection_options(fn: F) -> F:
    """mysql-client style flags for the target endpoint, and ``--config``."""
    return _connection_options(fn, "the database to change")


def source_connection_options(fn: F) -> F:
    """The same flags for a command that only reads a database (``dump``)."""
    return _connection_options(fn, "the database to dump")


def _connection_options(fn: F, role: str) -> F:
    opts = [
        click.option("-h", "--host", default=None, help=f"Host of {role}."),
        click.option("-P", "--port", type=int, default=None, help="Its port."),
        click.option("-u", "--user", default=None, help="Its user."),
        click.option("-S", "--socket", default=None, help="Its unix socket."),
        click.option(
            "-p",
            "--password",
            "password_prompt",
            is_flag=True,
            default=False,
            help="Prompt for the password. -p takes no value: to pass one without a prompt "
            "set MYSQL_PWD, password_env in myshift.toml, or password in ~/.my.cnf.",
        ),
        click.option("--defaults-file", default=None, help="A my.cnf to read [client] from."),
        click.option(
            "--ssl-mode",
            default=None,
            help="TLS to the server: DISABLED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY.",
        ),
        click.option(
            "--ssl-ca", default=None, help="CA certificate file (PEM) that signed the server's."
        ),
        click.option(
            "--ssl-cert", default=None, help="Client certificate file (PEM), with --ssl-key."
        ),
        click.option("--ssl-key", default=None, help="Client private key file (PEM)."),
        config_option,
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def _spec(ref: str | None, kw: dict[str, Any], role: str, option: str) -> Any:
    from myshift.config.endpoint import EndpointSpec

    return EndpointSpec(
        role=role,
        option=option,
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


def resolve_target(
    ref: str | None,
    kw: dict[str, Any],
    *,
    role: str = "the database to change",
    option: str = "--to",
) -> Any:
    """The endpoint ``ref`` and the connection flags name; ``role`` and ``option`` say,
    when none was named, which database was missing and how to give it."""
    from myshift.config.endpoint import resolve_endpoint

    spec = _spec(ref, kw, role, option)
    ep = resolve_endpoint(spec, prompt=_prompt, settings=load_config())
    return reach().endpoint(ep)


def reach() -> Any:
    """This command's ways in (workflows.reach): opened on demand, closed when it ends.

    One per click context; closed by the context's ``call_on_close``, which click
    runs on every exit (success, error, Ctrl-C).
    """
    from myshift.workflows.reach import Reach

    ctx = click.get_current_context()
    root = ctx.find_root()
    found = root.meta.get("myshift.reach")
    if found is None:
        found = Reach(load_config(), say=echo_err)
        root.meta["myshift.reach"] = found
        on_close(found.close)
    return found


def resolve_source(value: str | None) -> Any:
    """A desired source: URL or environment name -> Endpoint; a path or '-' stays a string."""
    from myshift.config.endpoint import EndpointSpec, looks_like_url, resolve_endpoint

    if value is None:
        if sys.stdin.isatty():
            raise UsageError(
                "No desired schema was given and stdin is a terminal.",
                "Give --desired/--from (a file, directory, URL or environment) or pipe SQL in.",
            )
        return "-"
    settings = load_config()
    if looks_like_url(value) or value in settings.environments:
        ep = resolve_endpoint(EndpointSpec(ref=value), prompt=_prompt, settings=settings)
        return reach().endpoint(ep)
    return value


_config_choice: str | None = None
_settings: Any = None


def choose_config(path: str | None) -> None:
    """``--config PATH`` (on the group or a command): the file ``load_config`` reads."""
    global _config_choice, _settings
    _config_choice = path
    _settings = None


def load_config() -> Any:
    """myshift.toml, found and read once per command; workflows get the values, never the file.

    The file is ``--config``, ``$MYSHIFT_CONFIG``, or the first myshift.toml in
    the working directory or its parents; which one is said on stderr.
    """
    global _settings
    if _settings is None:
        from myshift.config.settings import load_settings

        _settings = load_settings(explicit=_config_choice)
        if _settings.path is not None:
            echo_err(f"myshift: config {_settings.path}")
    return _settings


def plan_key_for(settings: Any, target: Any) -> Any:
    """The team key that signs (and must have signed) plan files for ``target``."""
    from myshift.workflows.plancheck import plan_key

    return plan_key(settings, target.env_name)


def notify_for(settings: Any, target: Any) -> Any:
    """The command's ``notify`` (workflows.notify): the target environment's channels,
    waited for when the command ends, on every path (success, error, Ctrl-C)."""
    from myshift.workflows.notify import close_notify, notifier_for

    notify = notifier_for(settings, target, say=echo_err)
    on_close(lambda: close_notify(notify))
    return notify


def emergency_facts(target: Any) -> Any:
    """``runbook --emergency``: what myshift.toml says of the target's environment."""
    from myshift.workflows.emergency import environment_facts

    return environment_facts(load_config(), target)


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
            raise _usage(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _usage(exc) from None


_argv: list[str] = []


def remember_argv(args: list[str]) -> None:
    """The command line as typed, for messages about it (``_usage``)."""
    _argv[:] = args


def _usage(exc: click.UsageError) -> click.UsageError:
    """Exit 3, and explain ``-p secret db`` (mysqldef's habit) instead of "extra argument"."""
    exc.exit_code = int(ExitCode.USAGE)  # type: ignore[misc]  # a ClassVar in click
    if "unexpected extra argument" in exc.message:
        value = _value_after_p(_argv)
        if value is not None:
            exc = click.UsageError(
                f"-p takes no value, so {value!r} after it was read as a schema name. "
                "Give -p alone to be prompted for the password, or set MYSQL_PWD, "
                "password_env in myshift.toml, or password in ~/.my.cnf.",
                ctx=exc.ctx,
            )
            exc.exit_code = int(ExitCode.USAGE)  # type: ignore[misc]
    return exc


def _value_after_p(args: list[str]) -> str | None:
    for i, arg in enumerate(args[:-1]):
        if arg in ("-p", "--password") and not args[i + 1].startswith("-"):
            return args[i + 1]
    return None
