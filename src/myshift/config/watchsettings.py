"""``[watch]`` in myshift.toml: how often the watch samples, how long, and what is a regression.

The figures the watch computes (workflows.watch) are named here with the
limits that flag them, so the parser can refuse a mistyped key:

* ``<figure>_ratio``: flagged when the figure reaches ``ratio`` x its baseline
  (the median of the samples before the apply) ...
* ``<figure>_delta``: ... and is at least ``delta`` above it (a ratio alone
  flags 0.1 -> 0.3 per second);
* ``<figure>_max``: flagged whenever above this, whatever the baseline.

A limit of 0 switches that test off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from myshift.errors import UsageError


@dataclass(frozen=True)
class Limit:
    """When one figure is a regression: ratio AND delta over the baseline, or over max."""

    ratio: float = 0.0
    delta: float = 0.0
    max: float = 0.0


@dataclass(frozen=True)
class Figure:
    """One figure the watch shows: its name, label and unit, and its default limit."""

    name: str
    label: str
    unit: str
    limit: Limit = field(default_factory=Limit)
    help: str = ""


# The figures, in display order.  Rates are per second over one sampling interval.
FIGURES: tuple[Figure, ...] = (
    Figure("threads_running", "threads running", "", Limit(3, 10), "Threads_running"),
    Figure("queries_per_s", "queries/s", "/s", Limit(), "Questions per second"),
    Figure("writes_per_s", "writes/s", "/s", Limit(), "Com_insert+update+delete+replace /s"),
    Figure(
        "errors_per_s",
        "errors/s",
        "/s",
        Limit(3, 2),
        "statements ended in error /s, server-wide (performance_schema SUM_ERRORS)",
    ),
    Figure("aborted_per_s", "aborted/s", "/s", Limit(3, 1), "Aborted_clients+connects /s"),
    Figure("rollbacks_per_s", "rollbacks/s", "/s", Limit(3, 5), "Handler_rollback /s"),
    Figure("scans_per_s", "full scans/s", "/s", Limit(3, 5), "Select_scan+Select_full_join /s"),
    Figure(
        "scan_rows_per_query",
        "scan rows/query",
        "",
        Limit(5, 100),
        "Handler_read_rnd_next per query",
    ),
    Figure("lock_waits_per_s", "row lock waits/s", "/s", Limit(3, 1), "Innodb_row_lock_waits /s"),
    Figure("lock_ms_per_s", "row lock ms/s", "", Limit(3, 200), "Innodb_row_lock_time (ms) /s"),
    Figure("deadlocks_per_s", "deadlocks/s", "/s", Limit(2, 0.1), "InnoDB deadlocks /s"),
    Figure("slow_per_s", "slow queries/s", "/s", Limit(3, 1), "Slow_queries /s"),
    Figure("replica_lag_s", "replica lag", "s", Limit(0, 0, 30), "worst replica lag (seconds)"),
    Figure(
        "stmt_errors_per_s",
        "stmt errors/s",
        "/s",
        Limit(3, 0.5),
        "statement errors /s on the changed tables (performance_schema digests)",
    ),
    Figure(
        "stmt_warnings_per_s",
        "stmt warnings/s",
        "/s",
        Limit(3, 5),
        "statement warnings /s on the changed tables (performance_schema digests)",
    ),
    Figure(
        "no_index_per_s",
        "no-index stmts/s",
        "/s",
        Limit(3, 2),
        "statements using no index /s on the changed tables (SUM_NO_INDEX_USED)",
    ),
    Figure(
        "rows_examined_per_stmt",
        "rows examined/stmt",
        "",
        Limit(5, 100),
        "rows examined per statement on the changed tables",
    ),
)
FIGURE_NAMES = tuple(f.name for f in FIGURES)
# Per-work ratios: no value for an interval with no work to divide by (a quiet
# baseline), which is not 0.  Every other figure reads 0 when nothing happened (a
# rate of a counter that did not move, no digest rows), so no value for it means it
# could not be read (performance_schema off or unreadable, no baseline sample).
PER_WORK = frozenset({"scan_rows_per_query", "rows_examined_per_stmt"})

ON_APPLY = ("protected", "always", "never")


@dataclass(frozen=True)
class WatchSettings:
    """``[watch]``: sampling, the windows around an apply, and the limits."""

    interval: float = 5.0  # seconds between samples
    baseline: float = 10.0  # seconds sampled before the first statement
    after: float = 120.0  # seconds watched after the last statement (0: none)
    # Whether `apply` watches without --watch: on protected targets, always, never.
    on_apply: str = "protected"
    limits: dict[str, Limit] = field(default_factory=lambda: {f.name: f.limit for f in FIGURES})


_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def parse_seconds(value: object, what: str) -> float:
    """``5``, ``2.5``, ``"5s"``, ``"2m"``, ``"1m30s"``, ``"500ms"`` as seconds (>= 0)."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif text and re.fullmatch(r"\d+(?:\.\d+)?", text):
        seconds = float(text)
    elif text and re.fullmatch(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h))+", text):
        seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))
    else:
        raise UsageError(
            f"{what} must be a duration, not {value!r}.",
            "Write seconds or a number and a unit, e.g. 5s, 2m, 1m30s or 500ms.",
        )
    if seconds < 0:
        raise UsageError(f"{what} must not be negative, not {value!r}.", "Give 0 or more.")
    return seconds


def with_flags(
    st: WatchSettings, *, interval: str | None = None, baseline: str | None = None
) -> WatchSettings:
    """``st`` with ``--interval`` and ``--baseline`` (durations as typed) over it."""
    iv = None if interval is None else parse_seconds(interval, "--interval")
    if iv is not None and iv < 0.2:
        raise UsageError("--interval must be at least 0.2 seconds.", "Give e.g. 1s or 5s.")
    bl = None if baseline is None else parse_seconds(baseline, "--baseline")
    return replace(
        st,
        interval=iv if iv is not None else st.interval,
        baseline=bl if bl is not None else st.baseline,
    )


def _limit_keys() -> dict[str, tuple[str, str]]:
    return {
        f"{name}_{part}": (name, part)
        for name in FIGURE_NAMES
        for part in ("ratio", "delta", "max")
    }


def parse_watch(path: Path, body: object) -> WatchSettings:
    """The ``[watch]`` table, strictly: unknown keys and wrong types are refused."""
    if not isinstance(body, dict):
        raise UsageError(f"{path}: `watch` must be a table.", "Write it as [watch].")
    limit_keys = _limit_keys()
    known = ("interval", "baseline", "after", "on_apply")
    unknown = sorted(set(body) - set(known) - set(limit_keys))
    if unknown:
        raise UsageError(
            f"{path}: [watch] has unknown key(s) {', '.join(unknown)}.",
            f"Known keys are {', '.join(known)} and <figure>_ratio, _delta or _max for the "
            f"figures {', '.join(FIGURE_NAMES)}.",
        )
    values: dict[str, Any] = {}
    for key in ("interval", "baseline", "after"):
        if key in body:
            values[key] = parse_seconds(body[key], f"{path}: `watch.{key}`")
    if values.get("interval", 1.0) < 0.2:
        raise UsageError(
            f"{path}: `watch.interval` must be at least 0.2 seconds.", "Fix it in myshift.toml."
        )
    if "on_apply" in body:
        if body["on_apply"] not in ON_APPLY:
            raise UsageError(
                f"{path}: `watch.on_apply` must be one of {', '.join(ON_APPLY)}, "
                f"not {body['on_apply']!r}.",
                "Fix the value in myshift.toml.",
            )
        values["on_apply"] = body["on_apply"]
    limits = {f.name: f.limit for f in FIGURES}
    for key, (name, part) in limit_keys.items():
        if key not in body:
            continue
        value = body[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise UsageError(
                f"{path}: `watch.{key}` must be a number of 0 or more, not {value!r}.",
                "Fix the value in myshift.toml (0 switches that test off).",
            )
        old = limits[name]
        limits[name] = Limit(
            ratio=float(value) if part == "ratio" else old.ratio,
            delta=float(value) if part == "delta" else old.delta,
            max=float(value) if part == "max" else old.max,
        )
    return WatchSettings(limits=limits, **values)


__all__ = [
    "FIGURES",
    "FIGURE_NAMES",
    "ON_APPLY",
    "PER_WORK",
    "Figure",
    "Limit",
    "WatchSettings",
    "parse_seconds",
    "parse_watch",
    "with_flags",
]
