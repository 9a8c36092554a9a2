"""The benchmarks that run under application load (``live.Load``) as report rows:
``live`` (``bench/live.py``) and ``partition`` (``bench/partition_live.py``)."""

from __future__ import annotations

import live
import partition_live
from results_model import BenchResult, Options, Row, Target


def bench_live(opts: Options) -> BenchResult:
    """Issue 11's acceptance scenario, three ways, on the same load (``bench/live.py``)."""
    results = live.run_all(opts.rows, list(live.METHODS))
    print()
    live.print_side_by_side(results)
    res = BenchResult(meta={"rows": opts.rows})
    res.rows += [_live_row(r, "live apply", f"untagged {r.untagged}") for r in results]
    mine = next((r for r in results if r.method == "myshift"), None)
    if mine is not None:
        res.targets += live_targets(mine)
    return res


def _live_row(r: live.LiveResult, scenario: str, more: str) -> Row:
    """One way measured under ``live.Load`` as a report row (wall time as its run)."""
    status = {"ok": "ok", "unavailable": "unavailable"}.get(r.status, "error")
    return Row(
        r.method,
        scenario,
        r.rows,
        status=status,
        runs=[r.wall_s] if r.status != "unavailable" else [],
        note=(
            f"max stall {r.max_stall_s:.2f} s, p99 {r.p99_ms:.1f} ms, "
            f"errors {r.errors_text()}, {more}" + (f", {r.note}" if r.note else "")
        ),
        detail={
            "max_stall_s": round(r.max_stall_s, 3),
            "p99_ms": round(r.p99_ms, 2),
            "writes": r.writes,
            "deadlocks": r.deadlocks,
            "errors": sum(r.errors.values()),
            "untagged": r.untagged,
            "replan_empty": -1 if r.replan_empty is None else int(r.replan_empty),
        },
    )


def live_targets(r: live.LiveResult) -> list[Target]:
    """Issue 11's acceptance on the myshift row."""
    other = sum(n for k, n in r.errors.items() if k != "deadlock")
    dl_ok = r.deadlocks <= 0.005 * max(1, r.writes)
    return [
        Target("live: myshift apply exits 0", r.exit_code == 0, f"exit {r.exit_code}"),
        Target("live: re-plan empty", r.replan_empty, str(r.replan_empty)),
        Target(
            "live: no app error but deadlocks (<= 0.5 % of writes)",
            other == 0 and dl_ok,
            f"{r.errors_text()} in {r.writes} writes",
        ),
        Target(
            "live: every row written during the apply tagged",
            r.untagged == 0,
            f"{r.untagged} untagged of {r.inserts_during}",
        ),
        Target("live: max stall <= 2 s", r.max_stall_s <= 2.0, f"{r.max_stall_s:.2f} s"),
    ]


def bench_partition(opts: Options) -> BenchResult:
    """Partition maintenance under load, three ways (``bench/partition_live.py``)."""
    results = partition_live.run_all(opts.rows, list(partition_live.WAYS))
    print()
    partition_live.print_side_by_side(results)
    res = BenchResult(meta={"rows": opts.rows})
    for p in results:
        more = (
            f"re-plan empty {partition_live.yes_no(p.live.replan_empty)}, "
            f"partitions kept {p.kept}/{p.of}, rows after {p.rows_after}"
        )
        res.rows.append(_live_row(p.live, p.case, more))
        res.rows[-1].detail.update(kept=p.kept, of=p.of, rows_after=p.rows_after)
        if p.live.method == "myshift":
            res.targets += [
                Target(f"partition: {p.case}: {t.name.removeprefix('live: ')}", t.passed, t.detail)
                for t in live_targets(p.live)
                if "tagged" not in t.name
            ]
    return res
