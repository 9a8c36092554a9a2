"""The ``drift`` command: does the target still match the desired schema?

An unverified plan with every statement included: pending statements are
the drift (the CLI exits 2 with them), none means the target matches.
"""

from __future__ import annotations

from dataclasses import replace

from myshift.db.connect import Endpoint
from myshift.engine.split import Statement
from myshift.workflows.plan import PlanCommandOptions, plan
from myshift.workflows.planmodel import PlanOptions
from myshift.workflows.report import CommandResult


def drift(
    target: Endpoint, source: str | Endpoint | list[Statement], opts: PlanOptions
) -> CommandResult:
    """The difference as SQL (``pending``), or the sentence that the target matches.

    ``opts`` says where desired SQL loads and whether an empty one is accepted;
    drift always includes the destructive statements and skips verification.
    """
    result = plan(
        target,
        source,
        PlanCommandOptions(plan=replace(opts, allow_drop=True, verify=False), fmt="sql"),
    )
    if result.pending:
        return replace(result, text=f"-- {target} differs from the desired schema:\n" + result.text)
    return replace(result, text=f"{target} matches the desired schema.\n")


__all__ = ["drift"]
