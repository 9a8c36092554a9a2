"""``myshift runbook``: the runbook of a plan file, or for when its apply goes wrong."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click

from myshift.cli_support import (
    TARGET_FORMS,
    connection_options,
    echo_err,
    emergency_facts,
    handle_errors,
    load_config,
    resolve_target,
)

# ----------------------------------------------------------------------------- runbook


@click.command()
@click.option("--plan", "plan_path", required=True, help="The plan file to write a runbook for.")
@click.option(
    "--target",
    "--to",
    "target",
    default=None,
    help="The database the plan changes (for its history and commands): " + TARGET_FORMS,
)
@click.option("-o", "--output", default=None, help="File to write (default stdout).")
@click.option(
    "--lang",
    type=click.Choice(["en", "es"]),
    default=None,
    help="Language of the runbook (default: lang in myshift.toml, else en).",
)
@click.option(
    "--emergency", is_flag=True, help="The runbook for when the apply goes wrong (stuck, undo)."
)
@connection_options
@handle_errors
def runbook(
    plan_path: str, target: str | None, output: str | None, lang: str | None, **kw: Any
) -> None:
    """Write a Markdown runbook for a plan file: changes, risks, rollback, checks."""
    from myshift.workflows import runbook as runbook_mod

    emergency = kw.pop("emergency")  # --emergency: when the apply goes wrong
    tgt = resolve_target(target, kw) if target or kw.get("host") or kw.get("socket") else None
    opts = runbook_mod.RunbookOptions(output=output, lang=lang or load_config().lang)
    opts = replace(opts, emergency=emergency_facts(tgt) if emergency else None)
    if tgt is not None:  # the history its recent applies come from
        opts = replace(opts, history_schema=load_config().history_schema)
    text = runbook_mod.runbook(plan_path, tgt, opts)
    if output:
        echo_err(f"Runbook written to {output}.")
    else:
        click.echo(text, nl=False)
