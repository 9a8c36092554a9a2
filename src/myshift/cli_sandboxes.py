"""Command line: ``myshift sandboxes list|delete|sweep`` and the AWS context of ``rehearse``.

Registered on the main group in ``myshift.cli``; each command reads
myshift.toml's ``[aws]`` and calls one function of ``workflows.sandboxes``.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from myshift.cli_support import Group, config_option, echo_err, handle_errors, load_config, reach
from myshift.errors import UsageError


def cloud_context(target: Any) -> Any:
    """What ``rehearse --sandbox rds-…`` needs (workflows.sandbox_aws.cloud_context)."""
    from myshift.workflows.sandbox_aws import cloud_context as context_of

    return context_of(target, reach(), say=echo_err)


def _rds(region: str | None) -> Any:
    from myshift.workflows.sandboxes import open_rds

    return open_rds(load_config().aws, region)


region_option = click.option(
    "--region", default=None, help="AWS region (default: [aws] region, else AWS_REGION)."
)


@click.group(cls=Group)
def sandboxes() -> None:
    """Sandboxes rehearse made on AWS (rds-replica, aurora-clone, rds-snapshot)."""


@sandboxes.command("list")
@region_option
@config_option
@handle_errors
def sandboxes_list(region: str | None) -> None:
    """List them by their myshift:rehearsal tag: id, kind, plan, expiry, expired?"""
    from myshift.workflows.sandboxes import sandboxes_list as list_them

    click.echo(list_them(_rds(region)), nl=False)


@sandboxes.command("delete")
@click.argument("ident", metavar="ID")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@region_option
@config_option
@handle_errors
def sandboxes_delete(ident: str, yes: bool, region: str | None) -> None:
    """Delete one (no final snapshot); refuses anything without the myshift:rehearsal tag."""
    from myshift.workflows.sandboxes import delete_sandbox

    rds = _rds(region)
    ask = not yes and sys.stdin.isatty()
    if ask and not click.confirm(f"Delete {ident} (no final snapshot)?", default=False, err=True):
        raise UsageError("Nothing was deleted.", "Answer y, or pass --yes.")
    click.echo(delete_sandbox(rds, ident, say=echo_err), nl=False)


@sandboxes.command("sweep")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@region_option
@config_option
@handle_errors
def sandboxes_sweep(dry_run: bool, region: str | None) -> None:
    """Delete the expired ones, leave the rest (untagged, unexpired): safe for cron."""
    from myshift.workflows.sandboxes import sweep

    click.echo(sweep(_rds(region), dry_run=dry_run, say=echo_err), nl=False)
