"""What commands report: ``CommandResult``, and the plan's human and SQL text.

The human format groups statements by table with their risk, in colour on a
terminal (rich's escape codes, see ``Palette``); the SQL format (the default
when piped) puts the same risk, pre-flight and path notes as comments above
each statement, so nothing is lost in a file. Both are valid SQL (everything
but the statements is a comment), and comment lines are wrapped to the given
width (statements stay whole).
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


# rich styles of the risks, of a pre-flight that would fail, and of the table headings.
_STYLES = {
    "safe": "green",
    "data-dependent": "yellow",
    "destructive": "red",
    "failing": "red",
    "subject": "dim",
}

# Comment lines are wrapped to this many columns when the output is not a terminal.
DEFAULT_WIDTH = 80


class Palette:
    """How each style is written on this output, as rich writes it.

    ``on``: the caller found the output to be a colour terminal
    (``cli_support.output_style``).  Only then does rich's console get
    ``force_terminal``, and it still honours ``NO_COLOR`` and ``TERM=dumb``
    itself.  Each style's escape codes are rendered once; painting is then
    concatenation, so the text between them stays exactly as written (rich
    never re-reads a statement's tabs or control characters).  Off, the text
    is returned unchanged.
    """

    def __init__(self, on: bool) -> None:
        self.codes: dict[str, tuple[str, str]] = {}
        if not on:
            return
        import io

        from rich.console import Console

        console = Console(file=io.StringIO(), force_terminal=True, soft_wrap=True, width=200)
        for name, style in _STYLES.items():
            with console.capture() as cap:
                console.print("X", style=style, end="", markup=False, highlight=False, emoji=False)
            before, _, after = cap.get().partition("X")
            if before:
                self.codes[name] = (before, after)

    def paint(self, text: str, name: str) -> str:
        codes = self.codes.get(name)
        return f"{codes[0]}{text}{codes[1]}" if codes else text


_PLAIN = Palette(False)


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


def _paint_once(lines: list[str], text: str, style: str, palette: Palette) -> list[str]:
    """Colour the first whole occurrence of ``text`` (wrapping first keeps widths exact)."""
    if style not in palette.codes:
        return lines
    for i, line in enumerate(lines):
        if text in line:
            lines[i] = line.replace(text, palette.paint(text, style), 1)
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


def _preflight_state(pre: Preflight, kept: bool = False) -> str:
    if not pre.runnable:
        return "not checked"
    if pre.violations is None:
        return "not run"
    if pre.deletes and kept:
        return f"{pre.violations:,} row(s), moved to the holding schema (keep-data)"
    if pre.deletes:
        return f"{pre.violations:,} row(s), deleted by this statement"
    if pre.violations == 0:
        return "ok"
    return f"{pre.violations} row(s) would fail"


def _statement_notes(st: PlannedStatement, width: int, palette: Palette) -> list[str]:
    """The comment lines above one statement: risk, what changes, how, why, pre-flights."""
    tag = f"[{st.risk.value}]"
    head = f"{tag} {st.description} · {st.algorithm.value}, lock {st.lock.value}"
    lines = _paint_once(
        wrap_comment(head + (f" — {st.reason}" if st.reason else ""), width),
        tag,
        st.risk.value,
        palette,
    )
    for pre in st.preflight:
        state = _preflight_state(pre, kept=bool(st.keep_partitions))
        pl = wrap_comment(f"pre-flight: {pre.description}: {state}", width, "--   ")
        if pre.fails:
            pl = _paint_once(pl, state, "failing", palette)
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
    palette = Palette(color)
    lines = _header(pf, desired, width)
    current_subject = None
    for st in pf.runnable:
        if st.subject != current_subject:
            current_subject = st.subject
            lines.append("")
            lines.append(palette.paint(f"-- {st.subject}", "subject"))
        lines += _statement_notes(st, width, palette)
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
            out += _statement_notes(st, width, _PLAIN)
        elif st.path != "server":
            out.append(f"-- path: {_path_name(st.path)} — {st.path_reason}")
        out += [f"{sql};" for sql in st.with_session()]
    held = held_lines(pf.statements, width)
    out += held[1:] if not out else held
    return "\n".join(out) + ("\n" if out else "")
