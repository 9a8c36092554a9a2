"""A Markdown runbook per plan: what changes, how risky, how to undo it, what to check.

Written for the person on call: every command in it can be pasted as is.
The rollback section says, step by step, what ``myshift rollback`` brings
back — and, just as plainly, what it cannot (data dropped without keep-data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from myshift.db.connect import Endpoint, connected
from myshift.engine.risk import Risk
from myshift.workflows.history import ApplyRecord, History
from myshift.workflows.history import operator as history_operator
from myshift.workflows.history.records import DEFAULT_SCHEMA
from myshift.workflows.keepdata import DEFAULT_HOLDING
from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import PlannedStatement
from myshift.workflows.report import summary_line


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _kept(st: PlannedStatement, holding: str) -> str:
    if st.restore_held:
        return "restores held data"
    if st.keep_table:
        return f"yes: table moved to `{holding}`"
    if st.keep_columns:
        return f"yes: {', '.join(st.keep_columns)} backed up (verified)"
    if st.risk is Risk.DESTRUCTIVE:
        return "**no**"
    return "—"


def _restores(st: PlannedStatement) -> str:
    if st.keep_table:
        return f"table `{st.subject}` comes back with every row it had (renamed back)."
    undo = f"`{st.subject}`: reversed by DDL ({st.description.split(' — keep-data')[0]})"
    if st.keep_columns:
        cols = ", ".join(f"`{c}`" for c in st.keep_columns)
        return (
            f"{undo}; {cols} come back with their original definitions and values "
            "(by primary key); rows inserted after the apply get the column default."
        )
    if st.risk is Risk.DESTRUCTIVE:
        return (
            f"{undo}; **not restored**: the data this statement destroys does not come back "
            "(re-plan with --keep-data to keep it)."
        )
    return f"{undo}."


def format_runbook(
    pf: PlanFile,
    target: str,
    *,
    plan_path: str | None = None,
    operator: str | None = None,
    recent: Sequence[ApplyRecord] = (),
    holding: str = DEFAULT_HOLDING,
) -> str:
    """The runbook text for one plan file (pure: no server needed)."""
    plan_ref = plan_path or "plan.json"
    lines = [
        f"# Runbook: `{pf.schema}` on {target}",
        "",
        f"- Plan: `{plan_ref}` ({pf.plan_hash[:19]}…), made {pf.created_at} by myshift "
        f"{pf.tool_version} for {pf.flavor}",
        f"- Kind: {pf.kind}"
        + (f" (undoes apply #{pf.undoes_apply_id})" if pf.undoes_apply_id else ""),
        f"- Operator (history will record): {operator or history_operator()}",
        f"- {summary_line(pf.statements) if pf.statements else 'nothing to do'}",
    ]
    if recent:
        lines += ["", "Recent applies of this schema in history:", ""]
        lines += ["| # | kind | when (UTC) | operator | outcome |", "|---|---|---|---|---|"]
        for r in recent:
            lines.append(
                f"| {r.id} | {r.kind} | {r.started_at:%Y-%m-%d %H:%M} | "
                f"{_cell(r.operator_user)}@{_cell(r.operator_host)} | {r.outcome} |"
            )
    for w in pf.warnings:
        lines.append(f"- Warning: {_cell(w)}")
    lines += _changes(pf, holding)
    lines += _before(pf, target, plan_ref)
    lines += _rollback(pf, target)
    lines += _after(pf, target)
    return "\n".join(lines) + "\n"


def _changes(pf: PlanFile, holding: str) -> list[str]:
    lines = ["", "## What will change", ""]
    if not pf.statements:
        lines.append("Nothing: the target already matches.")
    else:
        lines += [
            "| # | object | change | risk | algorithm / lock | kept for rollback |",
            "|---|---|---|---|---|---|",
        ]
        for i, st in enumerate(pf.statements, start=1):
            risk = st.risk.value + (" (skipped)" if st.skipped else "")
            lines.append(
                f"| {i} | `{_cell(st.subject)}` | {_cell(st.description)} | **{risk}** "
                f"{_cell(st.reason)} | {st.algorithm.value} / {st.lock.value} | "
                f"{_kept(st, holding)} |"
            )

    return lines


def _before(pf: PlanFile, target: str, plan_ref: str) -> list[str]:
    runnable = pf.runnable
    lines = ["", "## Before you start", ""]
    checks = [(st, p) for st in runnable for p in st.preflight]
    if checks:
        lines.append("Pre-flight checks (apply re-runs them; each must count 0 rows):")
        lines.append("")
        for st, p in checks:
            if not p.runnable:
                lines.append(f"- `{st.subject}`: {p.description} — not checked")
                continue
            now = "not run" if p.violations is None else f"{p.violations} row(s) now"
            lines.append(f"- `{st.subject}`: {p.description} — {now}")
            lines.append(f"  ```sql\n  {p.sql};\n  ```")
    else:
        lines.append("- No data-dependent statement: no pre-flight check needed.")
    if pf.kind != "rollback":
        lines.append(f"- Rehearse: `myshift rehearse --plan {plan_ref} --to {target}`")
    lines.append(f"- Apply: `myshift apply --plan {plan_ref} --to {target}`")

    return lines


def _rollback(pf: PlanFile, target: str) -> list[str]:
    runnable = pf.runnable
    lines = ["", "## Rollback", ""]
    if pf.kind == "rollback":
        lines.append(
            f"This plan *is* a rollback of apply #{pf.undoes_apply_id}. To undo it in turn: "
            f"`myshift rollback <its history id> --to {target}`."
        )
    else:
        lines += [
            f"Command: `myshift rollback --to {target}` (the latest apply), or "
            f"`myshift rollback <ID> --to {target}` with the history id `apply` prints.",
            f"To review first: `myshift rollback <ID> --to {target} --plan-only -o back.json`, "
            f"then `myshift apply --plan back.json --to {target}`.",
            "",
            "What it restores:",
            "",
        ]
        for i, st in enumerate(runnable, start=1):
            lines.append(f"{i}. {_restores(st)}")
        if not runnable:
            lines.append("Nothing will run, so nothing to roll back.")
        lines.append("")
        lines.append(
            "It is refused if a later apply changed the same objects (roll that one back first)."
        )

    return lines


def _after(pf: PlanFile, target: str) -> list[str]:
    runnable = pf.runnable
    lines = ["", "## Checks after", ""]
    lines.append(f"- The history entry: `myshift history --to {target}` (outcome `ok`).")
    lines.append(
        f"- No drift: `myshift drift --to {target} --from <desired>` exits 0 "
        "(apply also re-introspects and compares)."
    )
    touched = sorted({st.subject for st in runnable if not st.keep_table})
    for name in touched[:20]:
        lines.append(f"- `{name}` answers: `SELECT COUNT(*) FROM {pf.schema}.{name};`")
    if any(st.keep_table or st.keep_columns for st in runnable):
        lines.append(
            f"- What is held for rollback: `myshift trash list --to {target}`; purge later with "
            f"`myshift trash purge --older-than 7d --to {target}`."
        )
    return lines


def format_runbook_for(
    pf: PlanFile,
    target: Endpoint,
    *,
    plan_path: str | None = None,
    history_schema: str = DEFAULT_SCHEMA,
) -> str:
    """The runbook, with the recent applies history names (best effort)."""
    recent: list[ApplyRecord] = []
    try:
        with connected(replace(target, schema="")) as conn:
            recent = History(conn, schema=history_schema, audit_path=None).list_applies(
                pf.schema, limit=5
            )
    except Exception:  # a runbook without history is still a runbook
        recent = []
    return format_runbook(pf, str(target), plan_path=plan_path, recent=recent)


def write_runbook(
    pf: PlanFile,
    target: Endpoint,
    path: str | Path,
    *,
    plan_path: str | None = None,
    history_schema: str = DEFAULT_SCHEMA,
) -> str:
    text = format_runbook_for(pf, target, plan_path=plan_path, history_schema=history_schema)
    Path(path).write_text(text, encoding="utf-8")
    return text


@dataclass(frozen=True)
class RunbookOptions:
    """Everything ``myshift runbook`` takes besides the plan file and the target."""

    output: str | None = None  # write the runbook here (else it is returned to print)
    history_schema: str = DEFAULT_SCHEMA  # resolved by the CLI (myshift.toml)


def runbook(plan_path: str, target: Endpoint | None, opts: RunbookOptions) -> str:
    """``myshift runbook --plan plan.json``: with a target, history's recent applies too."""
    pf = PlanFile.read(plan_path)
    output = opts.output
    if target is not None and output:
        return write_runbook(
            pf, target, output, plan_path=plan_path, history_schema=opts.history_schema
        )
    if target is not None:
        return format_runbook_for(
            pf, target, plan_path=plan_path, history_schema=opts.history_schema
        )
    text = format_runbook(pf, pf.target, plan_path=plan_path)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    return text
