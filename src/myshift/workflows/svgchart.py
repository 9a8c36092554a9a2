"""Inline SVG for the HTML report: a line chart per watch figure, and a statement timeline.

Pure functions, text in and text out: no external resource, no script; every
label is escaped.  Charts shade the watch's phases (baseline, during, after),
draw the baseline as a dashed line and mark each regression with a red dot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PHASE_COLORS = {
    "baseline": "#e8eef5",
    "during": "#fdf0d5",
    "after": "#e3f2e6",
    "watching": "#eef0f3",
}


def _num(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.0f}"
    return f"{v:.2g}"


@dataclass(frozen=True)
class Series:
    """One figure over time: ``points`` are (epoch seconds, value or None)."""

    name: str
    title: str
    unit: str
    points: Sequence[tuple[float, float | None]]
    baseline: float | None = None
    flags: Sequence[float] = ()  # epoch seconds of the regressions


def line_chart(
    s: Series,
    phases: dict[str, tuple[float, float]],
    *,
    width: int = 540,
    height: int = 170,
) -> str:
    """An SVG line chart of ``s`` with the phases shaded behind it."""
    left, right, top, bottom = 56, 12, 26, 24
    pw, ph = width - left - right, height - top - bottom
    times = [t for t, _ in s.points] + [t for a, b in phases.values() for t in (a, b)]
    t0, t1 = (min(times), max(times)) if times else (0.0, 1.0)
    span = max(t1 - t0, 1e-6)
    values = [v for _, v in s.points if v is not None]
    top_v = (max([*values, s.baseline or 0.0]) or 1.0) * 1.15

    def x(t: float) -> float:
        return left + (t - t0) / span * pw

    def y(v: float) -> float:
        return top + ph - (v / top_v) * ph

    out = [
        f'<svg class="chart" data-figure="{escape(s.name)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(s.title)}">',
        f'<text x="{left}" y="16" class="title">{escape(s.title)}'
        + (f" ({escape(s.unit)})" if s.unit and s.unit != "/s" else "")
        + "</text>",
    ]
    for phase, (a, b) in phases.items():
        color = PHASE_COLORS.get(phase, "#f3f3f3")
        out.append(
            f'<rect class="phase phase-{escape(phase)}" x="{x(a):.1f}" y="{top}" '
            f'width="{max(x(b) - x(a), 0.5):.1f}" height="{ph}" fill="{color}"/>'
        )
    out.append(
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#888"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#888"/>'
        f'<text x="{left - 6}" y="{top + ph}" class="axis" text-anchor="end">0</text>'
        f'<text x="{left - 6}" y="{top + 9}" class="axis" text-anchor="end">'
        f"{escape(_num(top_v / 1.15))}</text>"
        f'<text x="{left}" y="{height - 6}" class="axis">0 s</text>'
        f'<text x="{left + pw}" y="{height - 6}" class="axis" text-anchor="end">'
        f"{span:.0f} s</text>"
    )
    if s.baseline is not None:
        yb = y(s.baseline)
        out.append(
            f'<line class="baseline" x1="{left}" y1="{yb:.1f}" x2="{left + pw}" y2="{yb:.1f}" '
            'stroke="#555" stroke-dasharray="4 3"/>'
        )
    for run in _runs(s.points):
        pts = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in run)
        if len(run) == 1:
            t, v = run[0]
            out.append(
                f'<circle class="point" cx="{x(t):.1f}" cy="{y(v):.1f}" r="2" fill="#1f5fa8"/>'
            )
        else:
            out.append(
                f'<polyline class="series" points="{pts}" fill="none" stroke="#1f5fa8" '
                'stroke-width="1.8"/>'
            )
    for t in s.flags:
        v = _value_at(s.points, t)
        out.append(
            f'<circle class="flag" cx="{x(t):.1f}" cy="{y(v):.1f}" r="5" fill="#c62828">'
            "<title>regression flagged</title></circle>"
        )
    out.append("</svg>")
    return "".join(out)


def _runs(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """The points split where a value is missing (a sample the server did not answer)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for t, v in points:
        if v is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((t, v))
    return [r for r in runs if r]


def _value_at(points: Sequence[tuple[float, float | None]], t: float) -> float:
    best = min(points, key=lambda p: abs(p[0] - t), default=(t, 0.0))
    return best[1] or 0.0


@dataclass(frozen=True)
class Bar:
    """One statement on the timeline: seconds from the apply's start, and its outcome."""

    label: str
    start: float
    end: float
    outcome: str


_OUTCOME_COLORS = {"ok": "#2e7d32", "failed": "#c62828", "running": "#f9a825"}


def timeline(bars: Sequence[Bar], *, width: int = 1080) -> str:
    """A Gantt-like SVG: one row per statement."""
    left, right, row = 230, 20, 22
    height = 30 + row * max(len(bars), 1)
    total = max([b.end for b in bars] + [1e-3])
    pw = width - left - right
    out = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="timeline">'
    ]
    for i, b in enumerate(bars):
        yy = 8 + i * row
        x0 = left + b.start / total * pw
        w = max((b.end - b.start) / total * pw, 2.0)
        color = _OUTCOME_COLORS.get(b.outcome, "#777")
        out.append(
            f'<text x="{left - 8}" y="{yy + 14}" class="axis" text-anchor="end">'
            f"{escape(b.label[:34])}</text>"
            f'<rect class="bar bar-{escape(b.outcome)}" x="{x0:.1f}" y="{yy + 3}" width="{w:.1f}" '
            f'height="{row - 8}" fill="{color}"><title>{escape(b.label)}: '
            f"{b.end - b.start:.3f} s ({escape(b.outcome)})</title></rect>"
        )
    out.append(
        f'<text x="{left}" y="{height - 4}" class="axis">0 s</text>'
        f'<text x="{left + pw}" y="{height - 4}" class="axis" text-anchor="end">'
        f"{total:.2f} s</text></svg>"
    )
    return "".join(out)


__all__ = ["PHASE_COLORS", "Bar", "Series", "line_chart", "timeline"]
