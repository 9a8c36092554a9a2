"""How a watch is shown: a compact live table on a terminal (rich), plain lines when piped.

Plain lines, one per sample, start with the sample's UTC time (to the
millisecond) and its phase, then the main figures; a regression is a line of
its own, followed by the rollback command ready to paste.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

from myshift.config.watchsettings import FIGURES
from myshift.workflows.watch.sampler import Sample
from myshift.workflows.watch.watcher import Flag, Watcher, fmt

# The figures of a plain line (all of them are in the live table and in history).
_LINE = (
    ("threads_running", "threads"),
    ("queries_per_s", "q/s"),
    ("errors_per_s", "err/s"),
    ("scans_per_s", "scans/s"),
    ("scan_rows_per_query", "scan-rows/q"),
    ("lock_waits_per_s", "lock-waits/s"),
    ("deadlocks_per_s", "deadlocks/s"),
    ("no_index_per_s", "no-index/s"),
    ("stmt_errors_per_s", "stmt-err/s"),
    ("replica_lag_s", "lag"),
)


def flag_lines(flags: list[Flag]) -> list[str]:
    """The regressions of one sample, then the rollback command (once) ready to paste."""
    out = [f.text() for f in flags]
    hint = next((f.rollback for f in flags if f.rollback), "")
    if hint:
        out.append(f"  to roll back: {hint}")
    return out


def sample_line(phase: str, sample: Sample) -> str:
    at = datetime.fromtimestamp(sample.wall, UTC).strftime("%H:%M:%S.%f")[:-3]
    parts = [f"{label} {fmt(sample.values.get(name))}" for name, label in _LINE]
    return f"{at} {phase:<9} " + " · ".join(parts)


class PlainView:
    """A line per sample (``every``: or only flags and nothing else when False)."""

    def __init__(self, write: Callable[[str], None], *, every: bool = True) -> None:
        self.write = write
        self.every = every

    def __enter__(self) -> PlainView:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __call__(self, phase: str, sample: Sample, flags: list[Flag]) -> None:
        if self.every:
            self.write(sample_line(phase, sample))
        for line in flag_lines(flags):
            self.write(line)


class LiveView:
    """A rich table, redrawn in place at each sample; regressions printed above it."""

    def __init__(self, watcher: Watcher, stream: IO[str], title: str) -> None:
        from rich.console import Console
        from rich.live import Live

        self.watcher = watcher
        self.title = title
        self.console = Console(file=stream)
        self.live = Live(self._table(), console=self.console, auto_refresh=False, transient=False)

    def __enter__(self) -> LiveView:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.live.update(self._table(), refresh=True)
        self.live.__exit__(*exc)

    def __call__(self, phase: str, sample: Sample, flags: list[Flag]) -> None:
        for line in flag_lines(flags):
            self.console.print(
                line, style="bold red" if line.startswith("REG") else "", markup=False
            )
        self.live.update(self._table(), refresh=True)

    def _table(self) -> Any:
        from rich.table import Table

        last = self.watcher.latest()
        phase, sample = last if last else (self.watcher.phase, None)
        when = datetime.fromtimestamp(sample.wall, UTC).strftime("%H:%M:%S") if sample else "-"
        table = Table(
            title=f"{self.title} · {phase} · {when} UTC · {len(self.watcher.flags)} flag(s)",
            title_justify="left",
            expand=False,
        )
        for col in ("figure", "baseline", "now", ""):
            table.add_column(col, justify="left" if col == "figure" else "right")
        flagged = {f.figure for f in self.watcher.flags}
        for fig in FIGURES:
            now = sample.values.get(fig.name) if sample else None
            base = self.watcher.baseline.get(fig.name)
            if now is None and base is None:
                continue
            mark = "[bold red]REGRESSION[/]" if fig.name in flagged else ""
            table.add_row(fig.label, fmt(base, fig.unit), fmt(now, fig.unit), mark)
        return table


__all__ = ["LiveView", "PlainView", "flag_lines", "sample_line"]
