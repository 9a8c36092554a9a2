"""Command line: the trash (keep-data's holding schema) and the demo.

Registered on the main group in ``myshift.cli``; like every command, each
collects options, resolves the target and calls one workflow.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from myshift.cli_support import (
    TARGET_FORMS,
    Group,
    connection_options,
    echo_err,
    handle_errors,
    resolve_target,
)

# ----------------------------------------------------------------------------- trash


@click.group(cls=Group)
def trash() -> None:
    """The holding schema where keep-data puts dropped tables and column backups."""


@trash.command("list")
@click.option("--target", "--to", "target", default=None, help="The server: " + TARGET_FORMS)
@click.option("--holding", default=None, help="Holding schema (default _myshift_trash).")
@connection_options
@handle_errors
def trash_list(target: str | None, holding: str | None, **kw: Any) -> None:
    """List held tables and column backups, with their apply, size and age."""
    from myshift.workflows import trash as trash_mod

    tgt = resolve_target(target, kw)
    click.echo(trash_mod.trash_list(tgt, holding), nl=False)


@trash.command("purge")
@click.option("--target", "--to", "target", default=None, help="The server: " + TARGET_FORMS)
@click.option("--older-than", required=True, help="Age, e.g. 7d, 12h, 30m.")
@click.option("--holding", default=None, help="Holding schema (default _myshift_trash).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@connection_options
@handle_errors
def trash_purge(
    target: str | None, older_than: str, holding: str | None, yes: bool, **kw: Any
) -> None:
    """Drop held objects older than --older-than (their rollbacks lose the data)."""
    from myshift.workflows import trash as trash_mod

    tgt = resolve_target(target, kw)
    text = trash_mod.trash_purge(
        tgt,
        older_than,
        holding=holding,
        yes=yes,
        confirm=lambda t: click.confirm(t, default=False, err=True),
        say=echo_err,
        interactive=sys.stdin.isatty(),
    )
    click.echo(text, nl=False)


# ----------------------------------------------------------------------------- demo


@click.command()
@click.option("--keep", is_flag=True, help="Leave the demo servers running.")
@handle_errors
def demo(keep: bool) -> None:
    """Run dump -> plan -> rehearse -> apply -> rollback on two throwaway local servers."""
    from myshift.workflows import demo as demo_mod

    demo_mod.run(say=click.echo, keep=keep)


__all__ = ["demo", "trash"]
