"""Command line: parse options, call one workflow, turn errors into messages and exit codes.

No logic lives here (sqlite-utils style): every command collects options,
resolves endpoints and configuration (``myshift.cli_support``), calls one
function in ``myshift.workflows`` (the module named after the command) and
prints.
Connection flags follow the mysql client: ``-h`` is the host (help is
``--help`` only), ``-P`` port, ``-u`` user, ``-S`` socket, ``-p`` alone prompts.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any, NoReturn

import click

from myshift import __version__, interrupts
from myshift.cli_access import access
from myshift.cli_runbook import runbook
from myshift.cli_sandboxes import cloud_context, sandboxes
from myshift.cli_support import (
    DESIRED_HELP,
    RENAME_HELP,
    TARGET_FORMS,
    TO_HELP,
    WORKSPACE_HELP,
    WORKSPACES,
    Group,
    algorithm_option,
    algorithm_policy,
    config_option,
    connection_options,
    echo_err,
    format_option,
    handle_errors,
    load_config,
    lock_wait_option,
    notify_for,
    online_option,
    online_policy,
    output_style,
    plan_key_for,
    remember_argv,
    rename_hints,
    resolve_source,
    resolve_target,
    source_connection_options,
    statement_display,
)
from myshift.cli_trash import demo, trash
from myshift.cli_watch import apply_watch, apply_watch_options, report, watch
from myshift.errors import MyshiftError, UsageError
from myshift.exitcodes import ExitCode


@click.group(cls=Group, context_settings={"help_option_names": ["--help"]})
@click.version_option(__version__, prog_name="myshift")
@config_option
def cli() -> None:
    """Safe, rehearsed schema migrations for MySQL and MariaDB."""


# ----------------------------------------------------------------------------- plan


@cli.command()
@click.argument("ref", required=False)
@click.option("--target", "--to", "target", default=None, help=TO_HELP)
@click.option("--desired", "--from", "desired", default=None, help=DESIRED_HELP)
@click.option(
    "--allow-drop",
    "--enable-drop",
    "allow_drop",
    is_flag=True,
    help="Include destructive statements (--enable-drop: mysqldef's spelling).",
)
@click.option("--allow-empty", is_flag=True, help="Accept desired SQL that defines no object.")
@click.option("--check", is_flag=True, help="Exit 2 when changes are pending.")
@click.option("--dry-run", is_flag=True, help="Accepted for mysqldef users: plan never changes.")
@click.option("-o", "--output", default=None, help="Write a plan file (JSON) for `apply --plan`.")
@format_option
@click.option("--workspace", default=None, help=WORKSPACE_HELP)
@click.option("--rename", multiple=True, help=RENAME_HELP)
@click.option("--no-verify", is_flag=True, help="Skip verification in the workspace.")
@click.option("--keep-data", is_flag=True, help="Plan to keep dropped data for rollback.")
@click.option("--runbook", "runbook", default=None, help="Also write a Markdown runbook here.")
@online_option
@connection_options
@handle_errors
def plan(
    ref: str | None,
    target: str | None,
    desired: str | None,
    allow_drop: bool,
    allow_empty: bool,
    check: bool,
    output: str | None,
    fmt: str | None,
    workspace: str | None,
    rename: tuple[str, ...],
    no_verify: bool,
    keep_data: bool,
    runbook: str | None,
    online: str | None,
    dry_run: bool,
    **kw: Any,
) -> None:
    """Show the DDL that turns the database to change (--to) into the schema you want
    (--desired): a dry run."""
    from myshift.workflows.phases import Phases
    from myshift.workflows.plan import PlanCommandOptions, PlanOptions
    from myshift.workflows.plan import plan as plan_command

    tgt = resolve_target(target or ref, kw)
    src = resolve_source(desired)
    settings = load_config()
    opts = PlanCommandOptions(
        plan=PlanOptions(
            allow_drop=allow_drop,
            hints=rename_hints(rename),
            verify=not no_verify,
            workspace=workspace or "temp",
            keep_data=keep_data,
            allow_empty=allow_empty,
            online=online_policy(online, settings),
            definer=settings.definer,
        ),
        output=output,
        fmt=fmt or ("human" if sys.stdout.isatty() else "sql"),
        color=output_style().color,
        width=output_style().width,
        runbook=runbook,
        runbook_lang=settings.lang,
        plan_key=plan_key_for(settings, tgt) if output else None,
        history_schema=settings.history_schema,
        phases=Phases(echo_err, immediate=sys.stderr.isatty()),
        notify=notify_for(settings, tgt) if output else None,
    )
    result = plan_command(tgt, src, opts)
    click.echo(result.text, nl=False)
    if result.notice:
        echo_err(result.notice)
    if check and result.pending:
        sys.exit(int(ExitCode.CHANGES_PENDING))


# ----------------------------------------------------------------------------- apply


@cli.command()
@click.argument("ref", required=False)
@click.option("--target", "--to", "target", default=None, help=TO_HELP)
@click.option("--desired", "--from", "desired", default=None, help=DESIRED_HELP)
@click.option("--plan", "plan_path", default=None, help="Apply exactly this reviewed plan file.")
@click.option(
    "--allow-drop",
    "--enable-drop",
    "allow_drop",
    is_flag=True,
    help="Run destructive statements too (--enable-drop: mysqldef's spelling).",
)
@click.option(
    "--dry-run", is_flag=True, help="Only show the plan, as `myshift plan` does (mysqldef's flag)."
)
@click.option("--allow-empty", is_flag=True, help="Accept desired SQL that defines no object.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@algorithm_option
@lock_wait_option
@click.option("--workspace", default=None, help=WORKSPACE_HELP)
@click.option("--rename", multiple=True, help=RENAME_HELP)
@click.option("--skip-rehearsal", is_flag=True, help="Apply to a protected env without one.")
@click.option("--keep-data/--no-keep-data", default=None, help="Keep dropped data for rollback.")
@online_option
@apply_watch_options
@connection_options
@handle_errors
def apply(
    ref: str | None,
    target: str | None,
    desired: str | None,
    plan_path: str | None,
    allow_drop: bool,
    allow_empty: bool,
    yes: bool,
    algorithm: str | None,
    lock_wait_timeout: int | None,
    workspace: str | None,
    rename: tuple[str, ...],
    skip_rehearsal: bool,
    keep_data: bool | None,
    online: str | None,
    dry_run: bool,
    **kw: Any,
) -> None:
    """Change the database (--to) into the schema you want (--desired), or apply a
    reviewed plan file (--plan)."""
    from myshift.workflows.apply import ApplyCommandOptions
    from myshift.workflows.apply import apply as apply_command
    from myshift.workflows.planmodel import PlanOptions

    if dry_run:  # mysqldef's `--dry-run` is `myshift plan`
        if plan_path:
            raise UsageError(
                "--dry-run shows a plan; --plan already names one.",
                "Read the plan file, or run `myshift plan` without --plan.",
            )
        click.get_current_context().invoke(
            plan,
            ref=ref,
            target=target,
            desired=desired,
            allow_drop=allow_drop,
            allow_empty=allow_empty,
            workspace=workspace,
            rename=rename,
            online=online,
            **kw,
        )
        return

    tgt = resolve_target(target or ref, kw)
    src = None if plan_path else resolve_source(desired)
    settings = load_config()
    notify = notify_for(settings, tgt)
    opts = ApplyCommandOptions(
        plan=PlanOptions(
            allow_drop=allow_drop,
            hints=None if plan_path else rename_hints(rename),
            workspace=workspace or "temp",
            allow_empty=allow_empty,
            online=online_policy(online, settings),
            definer=settings.definer,
        ),
        plan_path=plan_path,
        yes=yes,
        algorithm=algorithm_policy(algorithm),
        lock_wait_timeout=lock_wait_timeout or settings.lock_wait_timeout,
        skip_rehearsal=skip_rehearsal,
        keep_data=keep_data,
        interactive=sys.stdin.isatty(),
        plan_key=plan_key_for(settings, tgt) if plan_path else None,
        history_schema=settings.history_schema,
        audit_log=str(settings.audit_log),
        watch=apply_watch(tgt, settings, kw, notify),
        notify=notify,
    )
    result = apply_command(
        tgt,
        src,
        opts,
        confirm=lambda text: click.confirm(text, default=False, err=True),
        say=echo_err,
        display=statement_display(),
    )
    click.echo(result.text, nl=False)


# ----------------------------------------------------------------------------- rehearse


@cli.command()
@click.argument("ref", required=False)
@click.option("--plan", "plan_path", required=True, help="The plan file to rehearse.")
@click.option(
    "--target",
    "--to",
    "target",
    default=None,
    help="Production, the database to change: " + TARGET_FORMS,
)
@click.option(
    "--sandbox",
    default="local",
    show_default=True,
    help="local, local-replica, server:URL, replica:URL, or made on AWS and removed "
    "after: rds-replica:INSTANCE_ID, aurora-clone:CLUSTER_ID, rds-snapshot:SNAPSHOT_ID.",
)
@click.option("--data", default=None, help="none, sample:N or full (default sample:10000).")
@click.option("--check", "check_path", default=None, help="checks.sql: queries that must pass.")
@click.option("--run", "run_cmd", default=None, help="A command run against the sandbox.")
@click.option("--keep", is_flag=True, help="Keep the sandbox afterwards (to inspect it).")
@algorithm_option
@lock_wait_option
@click.option("--workers", type=int, default=4, show_default=True, help="Copy connections.")
@click.option("--report-md", default=None, help="Also write the report as Markdown.")
@click.option("--report-json", default=None, help="Also write the report as JSON.")
@online_option
@connection_options
@handle_errors
def rehearse(
    ref: str | None,
    plan_path: str,
    target: str | None,
    sandbox: str,
    data: str | None,
    check_path: str | None,
    run_cmd: str | None,
    keep: bool,
    algorithm: str | None,
    lock_wait_timeout: int | None,
    workers: int,
    report_md: str | None,
    report_json: str | None,
    online: str | None,
    **kw: Any,
) -> None:
    """Run a plan on a copy of production: clone, apply, verify, validate, time, record."""
    from myshift.workflows import rehearse as rehearse_mod
    from myshift.workflows.sandbox_kinds import make_sandbox

    tgt = resolve_target(target or ref, kw)
    settings = load_config()
    opts = rehearse_mod.RehearseOptions(
        sandbox=sandbox,
        data=data,
        check=check_path,
        run=run_cmd,
        keep=keep,
        algorithm=algorithm_policy(algorithm),
        lock_wait_timeout=lock_wait_timeout or settings.lock_wait_timeout,
        workers=workers,
        report_md=report_md,
        report_json=report_json,
        plan_key=plan_key_for(settings, tgt),
        history_schema=settings.history_schema,
        audit_log=str(settings.audit_log),
        secret_env=settings.secret_variables(),
        online=online_policy(online, settings),
        notify=notify_for(settings, tgt),
    )
    sb = make_sandbox(sandbox, keep=keep, cloud=cloud_context(tgt))
    report = rehearse_mod.rehearse(plan_path, tgt, opts, say=echo_err, sandbox=sb)
    click.echo(report.to_text(), nl=False)
    if not report.passed:
        sys.exit(int(ExitCode.REHEARSAL_FAILED))


# ----------------------------------------------------------------------------- dump / drift


@cli.command()
@click.argument("ref", required=False)
@click.option(
    "--from", "source", default=None, help="The database to dump: an environment or a URL."
)
@click.option("-o", "--output", default=None, help="File to write (default stdout).")
@click.option("--dir", "directory", default=None, help="One file per object in this directory.")
@source_connection_options
@handle_errors
def dump(
    ref: str | None, source: str | None, output: str | None, directory: str | None, **kw: Any
) -> None:
    """Dump the schema (no data, with routines, events, triggers) as SQL."""
    from myshift.workflows import dump as dump_mod

    ep = resolve_target(source or ref, kw, role="the database to dump", option="--from")
    text = dump_mod.dump(ep, output=output, directory=directory, say=echo_err)
    if text is not None:
        click.echo(text, nl=False)


@cli.command()
@click.argument("ref", required=False)
@click.option(
    "--target",
    "--to",
    "target",
    default=None,
    help="The database to change (the current side), here only compared: " + TARGET_FORMS,
)
@click.option("--desired", "--from", "desired", default=None, help=DESIRED_HELP)
@click.option("--workspace", default=None, help=WORKSPACE_HELP)
@click.option("--allow-empty", is_flag=True, help="Accept desired SQL that defines no object.")
@connection_options
@handle_errors
def drift(
    ref: str | None,
    target: str | None,
    desired: str | None,
    workspace: str | None,
    allow_empty: bool,
    **kw: Any,
) -> None:
    """Exit 0 when the target matches the desired schema, 2 (with the difference) otherwise."""
    from myshift.workflows.drift import drift as drift_command
    from myshift.workflows.planmodel import PlanOptions

    tgt = resolve_target(target or ref, kw)
    opts = PlanOptions(
        workspace=workspace or "temp", allow_empty=allow_empty, definer=load_config().definer
    )
    result = drift_command(tgt, resolve_source(desired), opts)
    click.echo(result.text, nl=False)
    if result.pending:
        sys.exit(int(ExitCode.CHANGES_PENDING))


# ----------------------------------------------------------------------------- history


@cli.command()
@click.argument("apply_id", type=int, required=False)
@click.option(
    "--target",
    "--to",
    "target",
    default=None,
    help="The database whose applies to list: " + TARGET_FORMS,
)
@click.option("--all", "all_schemas", is_flag=True, help="Applies to every schema.")
@click.option("--limit", type=int, default=50, show_default=True, help="How many applies.")
@connection_options
@handle_errors
def history(
    apply_id: int | None,
    target: str | None,
    all_schemas: bool,
    limit: int,
    **kw: Any,
) -> None:
    """List applies to the target, or show one."""
    from myshift.workflows.history.command import HistoryOptions
    from myshift.workflows.history.command import history as history_command

    tgt = resolve_target(target, kw)
    opts = HistoryOptions(
        all_schemas=all_schemas, limit=limit, history_schema=load_config().history_schema
    )
    # The formatters return lines without the final newline.
    click.echo(history_command(tgt, apply_id, opts))


# ----------------------------------------------------------------------------- rollback


@cli.command()
@click.argument("apply_id", type=int, required=False)
@click.option("--target", "--to", "target", default=None, help=TO_HELP)
@click.option("--plan-only", is_flag=True, help="Show (and with -o write) the plan; run nothing.")
@click.option("-o", "--output", default=None, help="Write the rollback plan file (JSON).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--keep-data/--no-keep-data", default=None, help="Keep what the rollback drops.")
@format_option
@lock_wait_option
@click.option("--workspace", default=None, help="Where the reverse plan is verified: " + WORKSPACES)
@click.option("--no-verify", is_flag=True, help="Skip verification in the workspace.")
@online_option
@click.option(
    "--take-back-outside-changes",
    is_flag=True,
    help="Also undo changes made by hand to the apply's objects since it ran.",
)
@connection_options
@handle_errors
def rollback(
    apply_id: int | None,
    target: str | None,
    plan_only: bool,
    output: str | None,
    yes: bool,
    keep_data: bool | None,
    fmt: str | None,
    lock_wait_timeout: int | None,
    workspace: str | None,
    no_verify: bool,
    online: str | None,
    take_back_outside_changes: bool,
    **kw: Any,
) -> None:
    """Undo an apply (default: the latest), bringing kept data back."""
    from myshift.workflows import rollback as rollback_mod

    tgt = resolve_target(target, kw)
    settings = load_config()
    opts = rollback_mod.RollbackOptions(
        plan_only=plan_only,
        output=output,
        yes=yes,
        keep_data=keep_data,
        fmt=fmt or ("human" if sys.stdout.isatty() else "sql"),
        color=output_style().color,
        width=output_style().width,
        lock_wait_timeout=lock_wait_timeout or settings.lock_wait_timeout,
        verify=not no_verify,
        workspace=workspace or "temp",
        interactive=sys.stdin.isatty(),
        take_back_outside_changes=take_back_outside_changes,
        plan_key=plan_key_for(settings, tgt) if output else None,
        history_schema=settings.history_schema,
        audit_log=str(settings.audit_log),
        online=online_policy(online, settings),
        notify=notify_for(settings, tgt),
    )
    result = rollback_mod.rollback(
        tgt,
        apply_id,
        opts,
        confirm=lambda text: click.confirm(text, default=False, err=True),
        say=echo_err,
        display=statement_display(),
    )
    click.echo(result.text, nl=False)
    if result.notice:
        echo_err(result.notice)


cli.add_command(runbook)
cli.add_command(trash)
cli.add_command(demo)
cli.add_command(access)
cli.add_command(sandboxes)
cli.add_command(watch)
cli.add_command(report)


def main(argv: list[str] | None = None) -> None:
    from myshift.config.passwords import reject_inline_password, warn_url_password

    args = list(sys.argv[1:] if argv is None else argv)
    remember_argv(args)
    warn_url_password(args, echo_err)
    try:
        reject_inline_password(args)
    except MyshiftError as exc:
        echo_err(f"myshift: {exc}")
        sys.exit(int(exc.exit_code))
    with interrupts.installed():  # SIGTERM and SIGHUP clean up as Ctrl-C does
        cli.main(args=args, prog_name="myshift")


def run() -> NoReturn:
    """The console command: ``main()``, then leave without tearing Python down.

    A plan of a big schema holds a few hundred thousand model objects; the
    interpreter's shutdown freed them one by one and garbage-collected them
    (~50 ms of a 1,000-table plan) for memory the OS reclaims anyway.  Every
    file, connection and server is closed by its own ``with`` before main
    returns; what is left is flushed here, and the threads are waited for,
    as a normal exit would.
    """
    code = 0
    try:
        main()
    except SystemExit as exc:
        if isinstance(exc.code, int):
            code = exc.code
        elif exc.code is not None:
            echo_err(str(exc.code))
            code = 1
    logging.shutdown()
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (myshift plan | head): nothing to do
            code = code or 1
    os._exit(code)


__all__ = ["cli", "main", "run"]
