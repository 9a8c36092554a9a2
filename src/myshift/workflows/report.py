"""What commands report: ``CommandResult``, and the plan's human and SQL text.

The human format groups statements by table with their risk; it is still
valid SQL (everything but the statements is a comment), so it can be
reviewed and saved as migration.sql either way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import PlannedStatement, held_lines


@dataclass(frozen=True)
class CommandResult:
    """What a command prints and the exit code it ends with."""

    text: str
    pending: bool = False
    notice: str = ""
    apply_id: int | None = None


_COLORS = {"safe": "\x1b[32m", "data-dependent": "\x1b[33m", "destructive": "\x1b[31m"}
_RESET = "\x1b[0m"
_DIM = "\x1b[2m"


def _paint(text: str, color: str | None, on: bool) -> str:
    return f"{color}{text}{_RESET}" if on and color else text


def summary_line(statements: list[PlannedStatement]) -> str:
    counts = Counter(s.risk.value for s in statements)
    skipped = sum(1 for s in statements if s.skipped)
    parts = [f"{n} {risk}" for risk, n in sorted(counts.items())]
    text = f"{len(statements)} statement(s): " + ", ".join(parts)
    if skipped:
        text += f"; {skipped} held back (needs --allow-drop)"
    return text


def format_human(pf: PlanFile, *, color: bool = False, desired: str | None = None) -> str:
    """The plan for a reader; ``desired`` names the schema wanted (the --desired source)."""
    if not pf.statements:
        return f"-- {pf.target}: nothing to do, the schema already matches.\n"
    lines = [
        f"-- myshift plan for {pf.target} ({pf.flavor}): the database to change (--to)",
        f"--   into {desired or 'the desired schema'}: the schema you want (--desired)",
        f"-- {summary_line(pf.statements)}",
    ]
    for w in pf.warnings:
        lines.append(f"-- warning: {w}")
    current_subject = None
    for st in pf.runnable:
        if st.subject != current_subject:
            current_subject = st.subject
            lines.append("")
            lines.append(_paint(f"-- {st.subject}", _DIM, color))
        tag = _paint(f"[{st.risk.value}]", _COLORS.get(st.risk.value), color)
        lines.append(
            f"-- {tag} {st.description} · {st.algorithm.value}, lock {st.lock.value}"
            + (f" — {st.reason}" if st.reason else "")
        )
        for pre in st.preflight:
            if not pre.runnable:
                state = "not checked"
            elif pre.violations is None:
                state = "not run"
            elif pre.violations == 0:
                state = "ok"
            else:
                state = _paint(f"{pre.violations} row(s) would fail", _COLORS["destructive"], color)
            lines.append(f"--   pre-flight: {pre.description}: {state}")
        if st.path_reason:
            lines.append(f"--   path: {_path_name(st.path)} — {st.path_reason}")
        if st.recheck:
            lines.append("--   pre-flight runs again right before and right after it")
        lines += [f"{sql};" for sql in st.with_session()]
    lines += held_lines(pf.statements)
    return "\n".join(lines) + "\n"


_PATH_NAMES = {
    "server": "plain ALTER",
    "pt-osc": "pt-online-schema-change",
    "refused": "REFUSED at apply",
}


def _path_name(path: str) -> str:
    return _PATH_NAMES.get(path, path)


def format_sql(pf: PlanFile) -> str:
    out = []
    for st in pf.runnable:
        if st.path != "server":
            out.append(f"-- path: {_path_name(st.path)} — {st.path_reason}")
        out += [f"{sql};" for sql in st.with_session()]
    held = held_lines(pf.statements)
    out += held[1:] if not out else held
    return "\n".join(out) + ("\n" if out else "")
