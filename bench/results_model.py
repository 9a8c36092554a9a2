"""What every benchmark of ``bench/run.py`` returns: rows, targets, meta; and its options."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Options:
    sizes: list[int]
    repeat: int
    tools: list[str]
    timeout: float | None  # per run; None = scaled with N
    seed: int
    results_dir: Path
    workers: int
    only: list[str]
    rows: int = 1_000_000  # table rows of the load benchmarks (live, partition)


@dataclass
class Row:
    """One tool in one scenario at one size."""

    tool: str
    scenario: str
    n: int
    status: str = "ok"  # ok | timeout | error | unavailable
    runs: list[float] = field(default_factory=list)
    peak_rss_mb: float | None = None
    timeout_s: float | None = None
    changes: int | None = None  # how many differences the tool reported (sanity)
    note: str = ""
    failures: list[str] = field(default_factory=list)
    detail: dict[str, float | int] = field(default_factory=dict)

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None

    def seconds_text(self) -> str:
        if self.status == "timeout":
            return f"> {self.timeout_s:.0f} s"
        m = self.median
        return "-" if m is None else f"{m:.2f}"


@dataclass
class Target:
    name: str
    passed: bool | None  # None: not measured in this run
    detail: str


@dataclass
class BenchResult:
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    meta: dict[str, object] = field(default_factory=dict)
