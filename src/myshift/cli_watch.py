"""Command line: ``watch`` (the target's health against a baseline), ``report`` (the
HTML page of one apply), and the watch flags of ``apply``.

Registered on the main group in ``myshift.cli``; like every command, each
collects options, resolves the target and calls one workflow.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from myshift.cli_support import (
    TARGET_FORMS,
    connection_options,
    echo_err,
    handle_errors,
    load_config,
    reach,
    resolve_target,
)
from myshift.errors import UsageError
from myshift.exitcodes import ExitCode


def _seconds(value: str | None, what: str) -> float | None:
    if value is None:
        return None
    from myshift.config.watchsettings import parse_seconds

    return parse_seconds(value, what)


# ----------------------------------------------------------------------------- apply's flags


def apply_watch_options(fn: Any) -> Any:
    """``apply``'s watch flags (they arrive in its ``**kw``; see ``apply_watch``)."""
    opts = [
        click.option(
            "--watch/--no-watch",
            "watch_flag",
            default=None,
            help="Watch the target's health before, during and after the apply "
            "(default: on_apply in [watch] of myshift.toml, else protected targets only).",
        ),
        click.option(
            "--watch-after",
            default=None,
            metavar="DURATION",
            help="How long to watch after the last statement, e.g. 2m (0: not at all).",
        ),
        click.option(
            "--watch-interval", default=None, metavar="DURATION", help="Seconds between samples."
        ),
        click.option(
            "--metrics-port",
            type=click.IntRange(0, 65535),
            default=None,
            help="Serve the watch's figures for Prometheus on 127.0.0.1:PORT/metrics.",
        ),
    ]
    for o in reversed(opts):
        fn = o(fn)
    return fn


def apply_watch(target: Any, settings: Any, kw: dict[str, Any], notify: Any = None) -> Any:
    """The WatchOptions of an apply from its flags (workflows.watch.options); None: no watch.

    ``notify`` (the apply's, workflows.notify) is told of every regression flagged.
    """
    from myshift.workflows.watch.options import apply_watch as watch_of_apply

    return watch_of_apply(
        target,
        settings,
        reach(),
        watch=kw.pop("watch_flag", None),
        after=kw.pop("watch_after", None),
        interval=kw.pop("watch_interval", None),
        metrics_port=kw.pop("metrics_port", None),
        live=sys.stderr.isatty(),
        notify=notify,
    )


# ----------------------------------------------------------------------------- watch


@click.command()
@click.argument("ref", required=False)
@click.option(
    "--target", "--to", "target", default=None, help="The database to watch: " + TARGET_FORMS
)
@click.option("--for", "duration", default="10m", show_default=True, help="How long to watch.")
@click.option(
    "--interval", default=None, help="Seconds between samples (default [watch] interval, 5s)."
)
@click.option("--baseline", default=None, help="The first part of the watch taken as the baseline.")
@click.option(
    "--table", "tables", multiple=True, help="Judge the digests of this table (repeatable)."
)
@click.option(
    "--apply",
    "apply_id",
    type=int,
    default=None,
    help="The apply watched: its rollback, its history.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve the figures for Prometheus on 127.0.0.1:PORT/metrics while watching.",
)
@connection_options
@handle_errors
def watch(
    ref: str | None,
    target: str | None,
    duration: str,
    interval: str | None,
    baseline: str | None,
    tables: tuple[str, ...],
    apply_id: int | None,
    metrics_port: int | None,
    **kw: Any,
) -> None:
    """Watch the target's health against a baseline; flag regressions with the rollback
    command (exit 15 when one was flagged)."""
    from myshift.cli_support import notify_for
    from myshift.config.watchsettings import with_flags
    from myshift.workflows.watch import WatchOptions, alerts_to
    from myshift.workflows.watch import watch as watch_command
    from myshift.workflows.watch.options import replica_endpoints

    tgt = resolve_target(target or ref, kw)
    settings = load_config()
    opts = WatchOptions(
        settings=with_flags(settings.watch, interval=interval, baseline=baseline),
        duration=_seconds(duration, "--for") or 0.0,
        metrics_port=metrics_port,
        tables=tables,
        replicas=replica_endpoints(tgt, reach()),
        history_schema=settings.history_schema,
        audit_log=str(settings.audit_log),
        apply_id=apply_id,
        live=sys.stdout.isatty(),
        on_alert=alerts_to(notify_for(settings, tgt)),
    )
    outcome = watch_command(tgt, opts, write=click.echo, stream=sys.stdout)
    click.echo(outcome.text, nl=False)
    if outcome.flagged:
        sys.exit(int(ExitCode.REGRESSION))


# ----------------------------------------------------------------------------- report


@click.command()
@click.option(
    "--target", "--to", "target", default=None, help="The database applied to: " + TARGET_FORMS
)
@click.option("--apply", "apply_id", type=int, default=None, help="The apply (history id).")
@click.option(
    "--plan", "plan_path", default=None, help="The plan file (its latest apply if no --apply)."
)
@click.option(
    "-o", "--output", default="report.html", show_default=True, help="The HTML file to write."
)
@connection_options
@handle_errors
def report(
    target: str | None, apply_id: int | None, plan_path: str | None, output: str, **kw: Any
) -> None:
    """Write one self-contained HTML page about an apply: plan, risks, rehearsal, timeline,
    watch charts and rollback runbook."""
    from myshift.workflows.htmlreport import ReportOptions
    from myshift.workflows.htmlreport import report as report_command

    if apply_id is None and plan_path is None:
        raise UsageError("Say which apply to report on.", "Give --apply ID or --plan plan.json.")
    tgt = resolve_target(target, kw)
    settings = load_config()
    opts = ReportOptions(
        apply_id=apply_id,
        plan_path=plan_path,
        output=output,
        history_schema=settings.history_schema,
        lang=settings.lang,
    )
    echo_err(report_command(tgt, opts))


__all__ = ["apply_watch", "apply_watch_options", "report", "watch"]
