"""A Markdown runbook per plan: what changes, how risky, how to undo it, what to check.

Written for the person on call: every command in it can be pasted as is.
The rollback section says, step by step, what ``myshift rollback`` brings
back — and, just as plainly, what it cannot (data dropped without keep-data).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from myshift.db.connect import Endpoint, connected
from myshift.engine.risk import Risk
from myshift.errors import UsageError
from myshift.workflows.history import ApplyRecord, History
from myshift.workflows.history import operator as history_operator
from myshift.workflows.history.records import DEFAULT_SCHEMA
from myshift.workflows.keepdata import DEFAULT_HOLDING
from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import PlannedStatement
from myshift.workflows.runbook_text import LANGS, TEXTS

if TYPE_CHECKING:
    from myshift.workflows.emergency import EmergencyFacts


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _kept(t: dict[str, str], st: PlannedStatement, holding: str) -> str:
    if st.restore_held:
        return t["kept_restore"]
    if st.keep_table:
        return t["kept_table"].format(holding=holding)
    if st.keep_columns:
        return t["kept_cols"].format(cols=", ".join(st.keep_columns))
    if st.keep_partitions:
        return t["kept_parts"].format(parts=", ".join(st.keep_partitions), holding=holding)
    if st.risk is Risk.DESTRUCTIVE:
        return t["kept_no"]
    return "—"


def _restores(t: dict[str, str], st: PlannedStatement) -> str:
    if st.keep_table:
        return t["r_table"].format(subject=st.subject)
    what = st.description.split(" — keep-data")[0]
    undo = t["r_undo"].format(subject=st.subject, what=what)
    if st.keep_columns:
        cols = ", ".join(f"`{c}`" for c in st.keep_columns)
        return t["r_cols"].format(undo=undo, cols=cols)
    if st.keep_partitions:
        return t["r_parts"].format(undo=undo, parts=", ".join(st.keep_partitions))
    if st.risk is Risk.DESTRUCTIVE:
        return t["r_lost"].format(undo=undo)
    return f"{undo}."


def _summary(t: dict[str, str], statements: Sequence[PlannedStatement]) -> str:
    """report.summary_line, in the runbook's language (risk classes stay as they are)."""
    counts = Counter(s.risk.value for s in statements)
    parts = ", ".join(f"{n} {risk}" for risk, n in sorted(counts.items()))
    text = t["summary"].format(n=len(statements), parts=parts)
    skipped = sum(1 for s in statements if s.skipped)
    return text + (t["summary_skipped"].format(n=skipped) if skipped else "")


def texts(lang: str) -> dict[str, str]:
    """The runbook's words in ``lang`` (one of LANGS)."""
    try:
        return TEXTS[lang]
    except KeyError:
        raise UsageError(
            f"No runbook template for language {lang!r}.",
            f"Use one of: {', '.join(LANGS)} (--lang, or lang in myshift.toml).",
        ) from None


def format_runbook(
    pf: PlanFile,
    target: str,
    *,
    plan_path: str | None = None,
    operator: str | None = None,
    recent: Sequence[ApplyRecord] = (),
    holding: str = DEFAULT_HOLDING,
    lang: str = "en",
) -> str:
    """The runbook text for one plan file (pure: no server needed), in ``lang``."""
    t = texts(lang)
    plan_ref = plan_path or "plan.json"
    undoes = t["undoes"].format(id=pf.undoes_apply_id) if pf.undoes_apply_id else ""
    lines = [
        t["title"].format(schema=pf.schema, target=target),
        "",
        t["plan"].format(
            plan=plan_ref,
            hash=pf.plan_hash[:19],
            created=pf.created_at,
            version=pf.tool_version,
            flavor=pf.flavor,
        ),
        t["kind"].format(kind=pf.kind) + undoes,
        t["operator"].format(operator=operator or history_operator()),
        f"- {_summary(t, pf.statements) if pf.statements else t['nothing_to_do']}",
    ]
    if recent:
        lines += ["", t["recent"], ""]
        lines += [t["recent_head"], "|---|---|---|---|---|"]
        for r in recent:
            lines.append(
                f"| {r.id} | {r.kind} | {r.started_at:%Y-%m-%d %H:%M} | "
                f"{_cell(r.operator_user)}@{_cell(r.operator_host)} | {r.outcome} |"
            )
    for w in pf.warnings:
        lines.append(t["warning"].format(text=_cell(w)))
    lines += _changes(t, pf, holding)
    lines += _before(t, pf, target, plan_ref)
    lines += _rollback(t, pf, target)
    lines += _after(t, pf, target)
    return "\n".join(lines) + "\n"


def _changes(t: dict[str, str], pf: PlanFile, holding: str) -> list[str]:
    lines = ["", t["changes"], ""]
    if not pf.statements:
        lines.append(t["changes_none"])
    else:
        lines += [t["changes_head"], "|---|---|---|---|---|---|"]
        for i, st in enumerate(pf.statements, start=1):
            risk = st.risk.value + (t["skipped"] if st.skipped else "")
            lines.append(
                f"| {i} | `{_cell(st.subject)}` | {_cell(st.description)} | **{risk}** "
                f"{_cell(st.reason)} | {st.algorithm.value} / {st.lock.value} | "
                f"{_kept(t, st, holding)} |"
            )

    return lines


def _before(t: dict[str, str], pf: PlanFile, target: str, plan_ref: str) -> list[str]:
    runnable = pf.runnable
    lines = ["", t["before"], ""]
    checks = [(st, p) for st in runnable for p in st.preflight]
    if checks:
        lines.append(t["preflight"])
        lines.append("")
        for st, p in checks:
            if not p.runnable:
                lines.append(f"- `{st.subject}`: {p.description} — {t['preflight_not_checked']}")
                continue
            now = (
                t["preflight_not_run"]
                if p.violations is None
                else t["preflight_rows"].format(n=p.violations)
            )
            lines.append(f"- `{st.subject}`: {p.description} — {now}")
            lines.append(f"  ```sql\n  {p.sql};\n  ```")
    else:
        lines.append(t["preflight_none"])
    if pf.kind != "rollback":
        lines.append(t["rehearse"].format(plan=plan_ref, target=target))
    lines.append(t["apply"].format(plan=plan_ref, target=target))

    return lines


def _rollback(t: dict[str, str], pf: PlanFile, target: str) -> list[str]:
    runnable = pf.runnable
    lines = ["", t["rollback"], ""]
    if pf.kind == "rollback":
        lines.append(t["rollback_of"].format(id=pf.undoes_apply_id, target=target))
    else:
        lines += [
            t["rollback_cmd"].format(target=target),
            t["rollback_review"].format(target=target),
            "",
            t["restores"],
            "",
        ]
        for i, st in enumerate(runnable, start=1):
            lines.append(f"{i}. {_restores(t, st)}")
        if not runnable:
            lines.append(t["restores_none"])
        lines.append("")
        lines.append(t["refused_later"])

    return lines


def _object_kind(pf: PlanFile, name: str) -> str | None:
    """None for a table or view (or a name the desired schema no longer has), else the
    SHOW CREATE kind of the routine, trigger or event called ``name``."""
    d = pf.desired
    if name in d.table_map or name in d.view_map:
        return None
    for r in d.routines:
        if r.name == name:
            return r.kind.upper()
    if any(tr.name == name for tr in d.triggers):
        return "TRIGGER"
    if any(e.name == name for e in d.events):
        return "EVENT"
    return None


def _after(t: dict[str, str], pf: PlanFile, target: str) -> list[str]:
    runnable = pf.runnable
    lines = ["", t["after"], ""]
    lines.append(t["after_history"].format(target=target))
    lines.append(t["after_drift"].format(target=target))
    touched = sorted({st.subject for st in runnable if not st.keep_table})
    for name in touched[:20]:
        kind = _object_kind(pf, name)
        if kind is None:  # a table or view: rows to count
            lines.append(t["after_count"].format(name=name, schema=pf.schema))
        else:  # a routine, trigger or event: nothing to count, its text to read
            lines.append(t["after_show"].format(name=name, schema=pf.schema, kind=kind))
    if any(st.keeps for st in runnable):
        lines.append(t["after_trash"].format(target=target))
    return lines


def format_runbook_for(
    pf: PlanFile,
    target: Endpoint,
    *,
    plan_path: str | None = None,
    history_schema: str = DEFAULT_SCHEMA,
    lang: str = "en",
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
    return format_runbook(pf, str(target), plan_path=plan_path, recent=recent, lang=lang)


def write_runbook(
    pf: PlanFile,
    target: Endpoint,
    path: str | Path,
    *,
    plan_path: str | None = None,
    history_schema: str = DEFAULT_SCHEMA,
    lang: str = "en",
) -> str:
    text = format_runbook_for(
        pf, target, plan_path=plan_path, history_schema=history_schema, lang=lang
    )
    Path(path).write_text(text, encoding="utf-8")
    return text


@dataclass(frozen=True)
class RunbookOptions:
    """Everything ``myshift runbook`` takes besides the plan file and the target."""

    output: str | None = None  # write the runbook here (else it is returned to print)
    history_schema: str = DEFAULT_SCHEMA  # resolved by the CLI (myshift.toml)
    lang: str = "en"  # --lang, else `lang` in myshift.toml
    # --emergency: the runbook for when the apply goes wrong (workflows.emergency),
    # with what myshift.toml says of the environment.
    emergency: EmergencyFacts | None = None


def runbook(plan_path: str, target: Endpoint | None, opts: RunbookOptions) -> str:
    """``myshift runbook --plan plan.json``: with a target, history's recent applies too."""
    texts(opts.lang)  # an unknown language is refused before the plan file is read
    pf = PlanFile.read(plan_path)
    output = opts.output
    if opts.emergency is not None:
        text = _emergency(pf, plan_path, target, opts.emergency, opts)
        if output:
            Path(output).write_text(text, encoding="utf-8")
        return text
    hist = opts.history_schema
    if target is not None and output:
        return write_runbook(
            pf, target, output, plan_path=plan_path, history_schema=hist, lang=opts.lang
        )
    if target is not None:
        return format_runbook_for(
            pf, target, plan_path=plan_path, history_schema=hist, lang=opts.lang
        )
    text = format_runbook(pf, pf.target, plan_path=plan_path, lang=opts.lang)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    return text


def _emergency(
    pf: PlanFile,
    plan_path: str,
    target: Endpoint | None,
    facts: EmergencyFacts,
    opts: RunbookOptions,
) -> str:
    from myshift.workflows.emergency import emergency_for, format_emergency

    if target is None:  # named as the plan names its target
        facts = replace(facts, target=facts.target or pf.target, server=facts.server or pf.target)
        return format_emergency(pf, facts, plan_path=plan_path, lang=opts.lang)
    return emergency_for(
        pf, target, facts, plan_path=plan_path, history_schema=opts.history_schema, lang=opts.lang
    )
