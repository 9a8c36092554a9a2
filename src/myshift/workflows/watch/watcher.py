"""The watch itself: samples in phases, a baseline, and regressions flagged against it.

Phases: ``baseline`` (before anything changes; the median of its samples is
the reference), then ``during`` (an apply's statements) and ``after`` (the
window after the last one), or ``watching`` for ``myshift watch`` on its own.
A figure is flagged on the first sample that crosses its limit
(config.watchsettings: ratio and delta over the baseline, or an absolute
max); it is flagged again only after it came back under.  A figure the
baseline has no value for is judged only against its max: a per-query ratio
with no queries then (config.watchsettings.PER_WORK), or a figure the baseline
could not read, which the summary names (``unjudged``) so that an "ok" does
not hide it.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from myshift.config.watchsettings import FIGURE_NAMES, FIGURES, PER_WORK, Limit, WatchSettings
from myshift.db.connect import Conn, DriverError
from myshift.errors import MyshiftError
from myshift.workflows.watch.sampler import Sample, Sampler, Snapshot, figures

_LABELS = {f.name: f.label for f in FIGURES}
_UNITS = {f.name: f.unit for f in FIGURES}
# Samples kept in history per watch (older ones are thinned out beyond this).
MAX_SAMPLES = 600


def fmt(value: float | None, unit: str = "") -> str:
    """A figure for people: 3 significant digits, '-' when unknown."""
    if value is None:
        return "-"
    if value == 0:
        text = "0"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}".removesuffix(".0")
    else:
        text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text + (f" {unit}" if unit and unit != "/s" else "")


@dataclass(frozen=True)
class Flag:
    """A regression: which figure, its value against the baseline, when, and what to run."""

    figure: str
    value: float | None
    baseline: float | None
    why: str
    wall: float
    phase: str
    detail: str = ""
    rollback: str = ""

    def text(self) -> str:
        label = _LABELS.get(self.figure, self.figure)
        at = datetime.fromtimestamp(self.wall, UTC).strftime("%H:%M:%S")
        line = (
            f"REGRESSION at {at} UTC ({self.phase}): {label} {fmt(self.value)} "
            f"(baseline {fmt(self.baseline)}; {self.why})"
        )
        if self.detail:
            line += f"; {self.detail}"
        return line

    def to_json(self) -> dict[str, Any]:
        return {
            "figure": self.figure,
            "value": self.value,
            "baseline": self.baseline,
            "why": self.why,
            "at": self.wall,
            "phase": self.phase,
            "detail": self.detail,
        }


def breach(value: float | None, base: float | None, limit: Limit) -> str:
    """Why ``value`` is a regression against ``base`` under ``limit``; '' when it is not."""
    if value is None:
        return ""
    if limit.max and value > limit.max:
        return f"above the limit {fmt(limit.max)}"
    if not (limit.ratio or limit.delta) or base is None:
        # No baseline value is no baseline of 0: the figure could not be read then
        # (a per-query ratio over a baseline with no queries, performance_schema
        # off); against nothing, only the absolute max can judge it.
        return ""
    b = base
    if value <= b:
        return ""
    if limit.ratio and value < b * limit.ratio:
        return ""
    if limit.delta and value - b < limit.delta:
        return ""
    if b > 0:
        return f"{value / b:.1f}x the baseline"
    return f"up from {fmt(b)}"


# Server-wide figures myshift's own work inflates while it applies (its catalogue
# reads, a copying ALTER; a probe that fails on purpose): judged then only when the
# sampler took all of that work out (Sample.own_complete).
_OWN_READS = frozenset({"scans_per_s", "scan_rows_per_query", "errors_per_s"})


@dataclass
class Watcher:
    """Samples ``sampler`` every ``settings.interval`` seconds and judges each sample."""

    sampler: Sampler
    settings: WatchSettings
    rollback_hint: Callable[[], str] = lambda: ""
    on_sample: Callable[[str, Sample, list[Flag]], None] | None = None
    phase: str = "baseline"
    samples: list[tuple[str, Sample]] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    baseline: dict[str, float | None] = field(default_factory=dict)
    phases: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    cut_short: bool = False
    apply_id: int | None = None
    _last: Snapshot | None = None
    _active: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _baseline_replicas: dict[str, float | str | None] = field(default_factory=dict)

    @property
    def conn(self) -> Conn:
        return self.sampler.conn

    def start(self) -> None:
        """The first snapshot (a rate needs two) and the first phase's start."""
        self._last = self.sampler.snapshot()
        self.phases[self.phase] = [self._last.wall, self._last.wall]

    def set_phase(self, phase: str) -> None:
        with self._lock:
            if self.phase == "baseline" and phase != "baseline":
                self._compute_baseline()
            now = time.time()
            if self.phase in self.phases:
                self.phases[self.phase][1] = now
            self.phase = phase
            self.phases[phase] = [now, now]

    def _compute_baseline(self) -> None:
        base = [s for p, s in self.samples if p == "baseline"]
        for name in FIGURE_NAMES:
            values = [v for s in base if (v := s.values.get(name)) is not None]
            self.baseline[name] = float(statistics.median(values)) if values else None
        if base:
            self._baseline_replicas = dict(base[-1].replicas)

    def step(self) -> tuple[Sample, list[Flag]] | None:
        """Take one sample; the flags it raises.  None when the server did not answer."""
        try:
            snap = self.sampler.snapshot()
        except (DriverError, MyshiftError) as exc:
            self.errors.append(f"{datetime.now(UTC):%H:%M:%S} {str(exc)[:200]}")
            return None
        with self._lock:
            last, self._last = self._last, snap
            if last is None:
                return None
            sample = figures(last, snap)
            self.samples.append((self.phase, sample))
            if self.phase in self.phases:
                self.phases[self.phase][1] = snap.wall
            new = [] if self.phase == "baseline" else self._judge(sample)
        if self.on_sample is not None:
            self.on_sample(self.phase, sample, new)
        return sample, new

    def _judge(self, sample: Sample) -> list[Flag]:
        new: list[Flag] = []
        for name in self._judged(sample):
            value = sample.values.get(name)
            base = self.baseline.get(name)
            why = breach(value, base, self.settings.limits[name])
            if name == "replica_lag_s" and not why:
                why = self._replica_trouble(sample)
            if not why:
                self._active.discard(name)
                continue
            if name in self._active:
                continue
            self._active.add(name)
            detail = ""
            if name in ("stmt_errors_per_s", "no_index_per_s", "rows_examined_per_stmt"):
                detail = (
                    f"worst statement: {sample.worst_digest[:200]}" if sample.worst_digest else ""
                )
            new.append(
                Flag(name, value, base, why, sample.wall, self.phase, detail, self.rollback_hint())
            )
        self.flags.extend(new)
        return new

    def _judged(self, sample: Sample) -> tuple[str, ...]:
        """The figures this sample is judged on.

        While the apply runs, myshift's own reads (the catalogue, the drift
        check, verification, a copying ALTER) are full scans in the server-wide
        counters.  The sampler takes its own sessions' work out of the scan
        figures (performance_schema.status_by_thread, db.own); where that is
        not complete for an interval (performance_schema off, a session of
        myshift's closed in it, pt-online-schema-change running) the scan and
        error figures are shown but not judged then (the digest figures, filtered to
        the changed tables, still are).  A sample under half an interval (the
        apply's last, short one) is too short to be a rate at all.
        """
        if self.phase != "during":
            return FIGURE_NAMES
        if sample.seconds < self.settings.interval / 2:
            return ()
        if sample.own_complete:
            return FIGURE_NAMES
        return tuple(n for n in FIGURE_NAMES if n not in _OWN_READS)

    def _replica_trouble(self, sample: Sample) -> str:
        for name, state in sample.replicas.items():
            if isinstance(state, str) and self._baseline_replicas.get(name) != state:
                return f"replica {name}: {state}"
        return ""

    def run_for(self, seconds: float, stop: threading.Event | None = None) -> None:
        """Sample every interval for ``seconds`` (or until ``stop`` is set)."""
        interval = self.settings.interval
        end = time.monotonic() + seconds
        next_at = time.monotonic() + interval
        while True:
            now = time.monotonic()
            if now >= end or (stop is not None and stop.is_set()):
                return
            wait = min(next_at, end) - now
            if stop is not None:
                if stop.wait(max(0.0, wait)):
                    return
            else:
                time.sleep(max(0.0, wait))
            if time.monotonic() >= next_at:
                self.step()
                next_at += interval
                if next_at < time.monotonic():  # a slow sample: do not catch up in a burst
                    next_at = time.monotonic() + interval

    def unjudged(self) -> list[str]:
        """The figures read while judging that the baseline could not read (labels).

        A per-query ratio without queries in the baseline has no value by absence;
        any other figure reads 0 when nothing happened, so its missing baseline
        means it was unreadable then (no baseline sample, performance_schema
        unreadable): only its max judged it, and the summary says so."""
        with self._lock:
            judged = [s for p, s in self.samples if p not in ("baseline", "end")]
            return [
                _LABELS[n]
                for n in FIGURE_NAMES
                if n not in PER_WORK
                and self.baseline.get(n) is None
                and self.phase != "baseline"
                and any(s.values.get(n) is not None for s in judged)
            ]

    def verdict(self) -> str:
        return "regression" if self.flags else "ok"

    def result(self) -> dict[str, Any]:
        """What history records: settings, phases, baseline, flags and the samples."""
        with self._lock:
            samples = list(self.samples)
            while len(samples) > MAX_SAMPLES:
                samples = samples[::2]
            return {
                "verdict": self.verdict(),
                "interval": self.settings.interval,
                "figures": list(FIGURE_NAMES),
                "units": [_UNITS[n] for n in FIGURE_NAMES],
                "labels": [_LABELS[n] for n in FIGURE_NAMES],
                "phases": {k: [round(a, 3), round(b, 3)] for k, (a, b) in self.phases.items()},
                "baseline": {k: _round(v) for k, v in self.baseline.items()},
                "flags": [f.to_json() for f in self.flags],
                "samples": [
                    {
                        "t": round(s.wall, 3),
                        "p": p,
                        "v": [_round(s.values.get(n)) for n in FIGURE_NAMES],
                    }
                    for p, s in samples
                ],
                "performance_schema": self.sampler.has_digests,
                # Samples whose scan figures had all of myshift's own work taken out.
                "own_subtracted": sum(1 for _, s in samples if s.own_complete),
                "tables": list(self.sampler.tables),
                "replicas": sorted(self.sampler.replica_endpoints),
                "errors": self.errors[-20:],
                "cut_short": self.cut_short,
            }

    def latest(self) -> tuple[str, Sample] | None:
        with self._lock:
            return self.samples[-1] if self.samples else None


def _round(v: float | None) -> float | None:
    return None if v is None else round(float(v), 4)


__all__ = ["MAX_SAMPLES", "Flag", "Watcher", "breach", "fmt"]
