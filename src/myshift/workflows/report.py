"""What commands report: ``CommandResult``, and the plan's human and SQL text.

The human format groups statements by table with their risk, in colour on a
terminal; the SQL format (the default when piped) puts the same risk,
pre-flight and path notes as comments above each statement, so nothing is lost
in a file. Both are valid SQL (everything but the statements is a comment), and
comment lines are wrapped to the given width (statements stay whole).
"""

from __future__ import annotations

import textwrap
from collections import Counter
from dataclasses import dataclass

from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import PlannedStatement, Preflight, held_lines


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

# Comment lines are wrapped to this many columns when the output is not a terminal.
DEFAULT_WIDTH = 80


def _paint(text: str, color: str | None, on: bool) -> str:
    return f"{color}{text}{_RESET}" if on and color else text


def wrap_comment(text: str, width: int, indent: str = "-- ", more: str = "") -> list[str]:
    """``text`` as SQL comment lines no wider than ``width`` (continuations indented).

    Words longer than a line are broken: a comment never runs past the width.
    """
    rest = indent + (more or "   ")
    return textwrap.wrap(
        text,
        width=max(width, len(rest) + 20),
        initial_indent=indent,
        subsequent_indent=rest,
        break_on_hyphens=False,
    ) or [indent.rstrip()]


def _paint_once(lines: list[str], text: str, color: str | None, on: bool) -> list[str]:
    """Colour the first whole occurrence of ``text`` (wrapping first keeps widths exact)."""
    if not on or not color:
        return lines
    for i, line in enumerate(lines):
        if text in line:
            lines[i] = line.replace(text, _paint(text, color, on), 1)
            break
    return lines


def summary_line(statements: list[PlannedStatement]) -> str:
    counts = Counter(s.risk.value for s in statements)
    skipped = sum(1 for s in statements if s.skipped)
    parts = [f"{n} {risk}" for risk, n in sorted(counts.items())]
    text = f"{len(statements)} statement(s): " + ", ".join(parts)
    if skipped:
        text += f"; {skipped} held back (needs --allow-drop)"
    return text


def _header(pf: PlanFile, desired: str | None, width: int) -> list[str]:
    """Both sides named, each on its own line(s), then the counts and warnings."""
    return [
        *wrap_comment(f"myshift plan: database to change (--to): {pf.target} ({pf.flavor})", width),
        *wrap_comment(
            f"into the schema you want (--desired): {desired or 'the desired schema'}", width
        ),
        *wrap_comment(summary_line(pf.statements), width),
        *[line for w in pf.warnings for line in wrap_comment(f"warning: {w}", width)],
    ]


def _preflight_state(pre: Preflight) -> str:
    if not pre.runnable:
        return "not checked"
    if pre.violations is None:
        return "not run"
    if pre.violations == 0:
        return "ok"
    return f"{pre.violations} row(s) would fail"


def _statement_notes(st: PlannedStatement, width: int, color: bool) -> list[str]:
    """The comment lines above one statement: risk, what changes, how, why, pre-flights."""
    tag = f"[{st.risk.value}]"
    head = f"{tag} {st.description} · {st.algorithm.value}, lock {st.lock.value}"
    lines = _paint_once(
        wrap_comment(head + (f" — {st.reason}" if st.reason else ""), width),
        tag,
        _COLORS.get(st.risk.value),
        color,
    )
    for pre in st.preflight:
        state = _preflight_state(pre)
        pl = wrap_comment(f"pre-flight: {pre.description}: {state}", width, "--   ")
        if pre.violations:
            pl = _paint_once(pl, state, _COLORS["destructive"], color)
        lines += pl
    if st.path != "server" or st.path_reason:
        why = f" — {st.path_reason}" if st.path_reason else ""
        lines += wrap_comment(f"path: {_path_name(st.path)}{why}", width, "--   ")
    if st.recheck:
        lines += wrap_comment(
            "pre-flight runs again right before and right after it", width, "--   "
        )
    return lines


def format_human(
    pf: PlanFile,
    *,
    color: bool = False,
    desired: str | None = None,
    width: int = DEFAULT_WIDTH,
) -> str:
    """The plan for a reader; ``desired`` names the schema wanted (the --desired source)."""
    if not pf.statements:
        return (
            "\n".join(
                wrap_comment(f"{pf.target}: nothing to do, the schema already matches.", width)
            )
            + "\n"
        )
    lines = _header(pf, desired, width)
    current_subject = None
    for st in pf.runnable:
        if st.subject != current_subject:
            current_subject = st.subject
            lines.append("")
            lines.append(_paint(f"-- {st.subject}", _DIM, color))
        lines += _statement_notes(st, width, color)
        lines += [f"{sql};" for sql in st.with_session()]
    lines += held_lines(pf.statements, width)
    return "\n".join(lines) + "\n"


_PATH_NAMES = {
    "server": "plain ALTER",
    "pt-osc": "pt-online-schema-change",
    "refused": "REFUSED at apply",
}


def _path_name(path: str) -> str:
    return _PATH_NAMES.get(path, path)


def format_sql(
    pf: PlanFile, *, desired: str | None = None, width: int = DEFAULT_WIDTH, notes: bool = True
) -> str:
    """The plan as a script: every statement with its risk, pre-flights and path as
    ``--`` comments above it, so a piped plan loses none of them.

    ``notes=False`` gives the bare statements (and the path of those not run by the
    server), for callers that add their own explanation.
    """
    out: list[str] = []
    if notes and pf.runnable:
        out += _header(pf, desired, width)
    for st in pf.runnable:
        if notes:
            out += _statement_notes(st, width, False)
        elif st.path != "server":
            out.append(f"-- path: {_path_name(st.path)} — {st.path_reason}")
        out += [f"{sql};" for sql in st.with_session()]
    held = held_lines(pf.statements, width)
    out += held[1:] if not out else held
    return "\n".join(out) + ("\n" if out else "")
