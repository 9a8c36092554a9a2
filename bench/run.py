"""`make bench`: myshift against its peers, side by side in one run.

Benchmarks are named functions in ``BENCHMARKS`` (select with ``--only``):

* ``schema`` — schema diff.  Two throwaway servers (prod, dev) get a
  synthetic schema of N tables (``bench/gen.py``) and its ~10 % drifted
  twin; then ``myshift plan`` DB→DB and file→DB, Alembic's
  ``compare_metadata`` and Debian's ``mysql-schema-diff`` are each run
  ``--repeat`` times, interleaved, and reported as medians with peak RSS.
* ``clone`` — data clone speed, from ``bench/clone_bench.py`` (reported as
  unavailable when that file is missing).
* ``live`` — a release applied under application load (``bench/live.py``):
  myshift apply, plain ALTER statements and pt-online-schema-change side by
  side (wall, max stall, p99, errors, rows that missed the trigger).  Only
  with ``--only live``: it is not part of the default run.
* ``partition`` — partition maintenance under the same load
  (``bench/partition_live.py``): add next month, split MAXVALUE, drop the
  oldest, each by myshift apply, by mysqldef's statement and by a
  pt-online-schema-change re-partition.  Only with ``--only partition``.

To add one, write ``bench_xxx(opts: Options) -> BenchResult`` and register it
in ``BENCHMARKS``; its rows and targets print and land in the JSON like these.

Results go to stdout and to ``bench/results/bench-<timestamp>.json`` (and
``latest.json``).  Exit status 1 when a target fails, 0 otherwise (targets
that could not be measured are reported as n/a).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import gen  # noqa: E402
import peers  # noqa: E402
from load_benches import bench_live, bench_partition  # noqa: E402
from results_model import BenchResult, Options, Row, Target  # noqa: E402

from myshift.db.connect import Endpoint, connect, quote_ident  # noqa: E402
from myshift.db.server import LocalServer  # noqa: E402

RESULTS_DIR = BENCH_DIR / "results"
TOOLS = ("myshift", "alembic", "mysql-schema-diff")
DB_TO_DB = "DB→DB"
FILE_TO_DB = "file→DB"
# Diagnostic row: the same DB→DB plan without the verification pass, to show its cost.
DB_TO_DB_NOVERIFY = "DB→DB no-verify"
# The seed's own invocation: no --allow-drop, drops held back (issue 12).
DB_TO_DB_DEFAULT = "DB→DB default"
# A second dev schema whose drift also dropped tables other tables still
# reference (dropped with foreign_key_checks=0): every plan of it must exit 0.
REFDROP = "ref-drop"
REFDROP_SCENARIOS = (f"DB→DB {REFDROP}", f"DB→DB {REFDROP} default", f"file→DB {REFDROP}")


# --------------------------------------------------------------------------- loading


def _endpoint(srv: LocalServer, schema: str = "") -> Endpoint:
    return Endpoint(host=srv.host, port=srv.port, user="root", password="", schema=schema)


def load_schema(ep: Endpoint, phases: dict[str, list[str]], workers: int) -> float:
    """Create ``ep.schema`` afresh and load the statements; returns seconds.

    Tables go in parallel batches with foreign_key_checks=0 (order then does
    not matter); views follow in file order (a view over a view needs its base
    first), then routines and triggers.
    """
    t0 = time.perf_counter()
    with connect(ep.with_schema("")) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(ep.schema)}")
        admin.execute(
            f"CREATE DATABASE {quote_ident(ep.schema)} DEFAULT CHARACTER SET utf8mb4"
            " COLLATE utf8mb4_general_ci"
        )
    tables = phases["tables"]
    batch = 25
    chunks = [tables[i : i + batch] for i in range(0, len(tables), batch)]

    def run_chunks(part: list[list[str]]) -> None:
        with connect(ep, multi=True, read_timeout=600) as c:
            c.execute("SET SESSION foreign_key_checks = 0")
            for chunk in part:
                for _ in c.multi_query(";\n".join(chunk)):
                    pass

    parts = [chunks[i::workers] for i in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run_chunks, parts))
    with connect(ep) as c:
        for stmt in phases["views"] + phases["routines"] + phases["triggers"]:
            c.execute(stmt)
    return time.perf_counter() - t0


def count_objects(ep: Endpoint) -> dict[str, int]:
    with connect(ep) as c:
        return {
            "tables": int(
                c.scalar(
                    "SELECT COUNT(*) FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE'",
                    (ep.schema,),
                )
            ),
            "views": int(
                c.scalar(
                    "SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s",
                    (ep.schema,),
                )
            ),
            "routines": int(
                c.scalar(
                    "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s",
                    (ep.schema,),
                )
            ),
            "triggers": int(
                c.scalar(
                    "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s",
                    (ep.schema,),
                )
            ),
        }


# --------------------------------------------------------------------------- schema bench


def _count_sql_changes(text: str) -> int:
    """Statements in a plan's SQL (one run with checks off counts once, see engine.dangling)."""
    n = 0
    for line in text.splitlines():
        head = line.lstrip().upper()
        if head.startswith("SET STATEMENT ") and " FOR " in head:
            head = head.split(" FOR ", 1)[1]
        n += head.startswith(("ALTER ", "CREATE ", "DROP "))
    return n


@dataclass
class _Job:
    row: Row
    cmd: list[str]
    parse: Callable[[str], tuple[int | None, dict[str, float | int]]]
    budget: float
    spent: float = 0.0


def _sql_parse(out: str) -> tuple[int | None, dict[str, float | int]]:
    return _count_sql_changes(out), {}


def _alembic_parse(out: str) -> tuple[int | None, dict[str, float | int]]:
    last = out.strip().splitlines()[-1] if out.strip() else "{}"
    data: dict[str, float | int] = json.loads(last)
    return int(data.get("diffs", 0)), data


def bench_schema(opts: Options) -> BenchResult:
    result = BenchResult()
    available: dict[str, tuple[bool, str]] = {}
    if "myshift" in opts.tools:
        available["myshift"] = peers.myshift_plan_available()
    if "alembic" in opts.tools:
        available["alembic"] = peers.alembic_available()
    if "mysql-schema-diff" in opts.tools:
        available["mysql-schema-diff"] = peers.mysql_schema_diff_available()
    for tool, (ok, why) in available.items():
        if not ok:
            print(f"  {tool}: {why}", flush=True)

    print("starting two throwaway servers (prod, dev) ...", flush=True)
    with LocalServer.start(server_id=1) as prod, LocalServer.start(server_id=2) as dev:
        with connect(_endpoint(prod)) as c:
            result.meta["server_version"] = str(c.scalar("SELECT @@version"))
        for n in opts.sizes:
            _schema_size(opts, n, prod, dev, available, result)
    _schema_targets(result)
    return result


def _schema_size(
    opts: Options,
    n: int,
    prod: LocalServer,
    dev: LocalServer,
    available: dict[str, tuple[bool, str]],
    result: BenchResult,
) -> None:
    schema = f"app_{n}"
    timeout = opts.timeout or max(60.0, n * 0.018)  # 60 s at 1k, 180 s at 10k
    t0 = time.perf_counter()
    refdrop_schema = f"{schema}_{REFDROP.replace('-', '')}"
    current = gen.generate(n, opts.seed)
    desired, summary = gen.drift(current, opts.seed + 1)
    refdrop, refdrop_summary = gen.drift_dropping_referenced(current, opts.seed + 1)
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    desired_file = opts.results_dir / f"schema-{n}-desired.sql"
    refdrop_file = opts.results_dir / f"schema-{n}-desired-{REFDROP}.sql"
    (opts.results_dir / f"schema-{n}-current.sql").write_text(gen.render(current))
    desired_file.write_text(gen.render(desired))
    refdrop_file.write_text(gen.render(refdrop))
    t_gen = time.perf_counter() - t0
    print(f"\n[{n} tables] generated in {t_gen:.1f} s; drift: {summary}", flush=True)
    print(f"[{n} tables] {REFDROP} drift: {refdrop_summary}", flush=True)
    prod_ep, dev_ep = _endpoint(prod, schema), _endpoint(dev, schema)
    refdrop_ep = _endpoint(dev, refdrop_schema)
    with ThreadPoolExecutor(2) as pool:
        f1 = pool.submit(load_schema, prod_ep, gen.statements(current), opts.workers)
        f2 = pool.submit(load_schema, dev_ep, gen.statements(desired), opts.workers)
        t_prod, t_dev = f1.result(), f2.result()
    t_refdrop = load_schema(refdrop_ep, gen.statements(refdrop), opts.workers)
    counts = {
        "prod": count_objects(prod_ep),
        "dev": count_objects(dev_ep),
        REFDROP: count_objects(refdrop_ep),
    }
    print(f"[{n} tables] loaded prod in {t_prod:.1f} s, dev in {t_dev:.1f} s: {counts}", flush=True)
    result.meta[f"schema_{n}"] = {
        "drift": asdict(summary),
        "objects": counts,
        "load_s": {"prod": round(t_prod, 2), "dev": round(t_dev, 2), REFDROP: round(t_refdrop, 2)},
        "files": {"desired": str(desired_file), REFDROP: str(refdrop_file)},
        REFDROP: asdict(refdrop_summary),
    }

    prod_url, dev_url, refdrop_url = prod.url(schema), dev.url(schema), dev.url(refdrop_schema)
    jobs: list[_Job] = []

    def add(
        row: Row, cmd: list[str], parse: Callable[[str], tuple[int | None, dict[str, float | int]]]
    ) -> None:
        ok, why = available.get(row.tool, (False, "not selected"))
        if not ok:
            row.status, row.note = "unavailable", why
            result.rows.append(row)
            return
        row.timeout_s = timeout
        result.rows.append(row)
        # A slow tool gets at least one run, then stops once it used its budget
        # (60 s at 1,000 tables, 120 s at 10,000), so the default run fits in 20 min.
        jobs.append(_Job(row, cmd, parse, budget=max(60.0, timeout * 2 / 3)))

    if "myshift" in opts.tools:
        add(Row("myshift", DB_TO_DB, n), peers.myshift_plan_cmd(prod_url, dev_url), _sql_parse)
        add(
            Row("myshift", FILE_TO_DB, n),
            peers.myshift_plan_cmd(prod_url, str(desired_file)),
            _sql_parse,
        )
        add(
            Row("myshift", DB_TO_DB_NOVERIFY, n),
            peers.myshift_plan_cmd(prod_url, dev_url, "--no-verify"),
            _sql_parse,
        )
        add(
            Row("myshift", DB_TO_DB_DEFAULT, n),
            peers.myshift_plan_cmd(prod_url, dev_url, allow_drop=False),
            _sql_parse,
        )
        db_ref, db_ref_default, file_ref = REFDROP_SCENARIOS
        add(Row("myshift", db_ref, n), peers.myshift_plan_cmd(prod_url, refdrop_url), _sql_parse)
        add(
            Row("myshift", db_ref_default, n),
            peers.myshift_plan_cmd(prod_url, refdrop_url, allow_drop=False),
            _sql_parse,
        )
        add(
            Row("myshift", file_ref, n),
            peers.myshift_plan_cmd(prod_url, str(refdrop_file)),
            _sql_parse,
        )
    if "alembic" in opts.tools:
        add(Row("alembic", DB_TO_DB, n), peers.alembic_cmd(prod_url, dev_url), _alembic_parse)
    if "mysql-schema-diff" in opts.tools:
        add(
            Row("mysql-schema-diff", DB_TO_DB, n),
            peers.mysql_schema_diff_cmd(prod.port, dev.port, schema),
            _sql_parse,
        )

    # Interleave the tools within each repeat so that machine noise hits all alike.
    for rep in range(opts.repeat):
        for job in jobs:
            row = job.row
            if row.status == "timeout" or (rep > 0 and job.spent >= job.budget):
                continue
            m = peers.measure(job.cmd, timeout)
            job.spent += m.seconds
            outcome = "ok"
            if m.timed_out:
                row.status = outcome = "timeout"
                row.note = f"killed after {timeout:.0f} s"
            elif m.returncode != 0:
                # One failed run does not disqualify a tool (the machine is
                # shared and servers hiccup); a tool with no good run is an error.
                outcome = f"error: exit {m.returncode}: {m.stderr_error[:200]}"
                row.failures.append(outcome)
                row.status = "ok" if row.runs else "error"
                row.note = f"{len(row.failures)} failed run(s), last {outcome}"
            else:
                row.runs.append(m.seconds)
                row.status = "ok"
                row.changes, detail = job.parse(m.stdout)
                for k, v in detail.items():
                    row.detail.setdefault(k, v)
            if m.peak_rss_mb is not None:
                row.peak_rss_mb = max(row.peak_rss_mb or 0.0, m.peak_rss_mb)
            print(
                f"  [{n}] run {rep + 1}/{opts.repeat} {row.tool:<24} {row.scenario:<16}"
                f" {m.seconds:8.2f} s  rss {m.peak_rss_mb or 0:7.1f} MB  {outcome}",
                flush=True,
            )
    # Drop now: the next size must not share the servers' caches with this one.
    with ThreadPoolExecutor(3) as pool:
        eps = [_endpoint(prod), _endpoint(dev), _endpoint(dev)]
        list(pool.map(_drop_schema, eps, [schema, schema, refdrop_schema]))


def _drop_schema(ep: Endpoint, schema: str) -> None:
    with connect(ep, read_timeout=600) as c:
        c.execute(f"DROP DATABASE IF EXISTS {quote_ident(schema)}")


def _find(rows: list[Row], tool: str, scenario: str, n: int) -> Row | None:
    return next((r for r in rows if r.tool == tool and r.scenario == scenario and r.n == n), None)


def _schema_targets(result: BenchResult) -> None:
    rows, t = result.rows, result.targets

    def ok_median(r: Row | None) -> float | None:
        return r.median if r is not None and r.status == "ok" else None

    def check(name: str, value: float | None, passed: Callable[[float], bool], fmt: str) -> None:
        if value is None:
            t.append(Target(name, None, "not measured"))
        else:
            t.append(Target(name, passed(value), fmt.format(value)))

    db1 = ok_median(_find(rows, "myshift", DB_TO_DB, 1000))
    check("DB→DB, 1,000 tables: median ≤ 1 s", db1, lambda v: v <= 1.0, "{:.2f} s")
    for peer in ("alembic", "mysql-schema-diff"):
        pr = _find(rows, peer, DB_TO_DB, 1000)
        name = f"DB→DB, 1,000 tables: ≥ 5× faster than {peer}"
        if db1 is None or pr is None or pr.status not in ("ok", "timeout"):
            t.append(Target(name, None, "not measured"))
            continue
        if pr.status == "timeout":
            assert pr.timeout_s is not None
            ratio = pr.timeout_s / db1
            t.append(Target(name, ratio >= 5, f"> {ratio:.1f}×"))
        else:
            assert pr.median is not None
            ratio = pr.median / db1
            t.append(Target(name, ratio >= 5, f"{ratio:.1f}×"))
    r10 = _find(rows, "myshift", DB_TO_DB, 10000)
    check("DB→DB, 10,000 tables: median ≤ 10 s", ok_median(r10), lambda v: v <= 10.0, "{:.2f} s")
    rss = r10.peak_rss_mb if r10 is not None and r10.status == "ok" else None
    check("DB→DB, 10,000 tables: peak RSS ≤ 300 MB", rss, lambda v: v <= 300.0, "{:.0f} MB")
    f1 = ok_median(_find(rows, "myshift", FILE_TO_DB, 1000))
    check("file→DB, 1,000 tables: median ≤ 3 s", f1, lambda v: v <= 3.0, "{:.2f} s")
    # Every workload exits 0: a plan that fails (exit 7 "myshift bug" included)
    # fails the bench, whatever the timings say.
    for n in sorted({r.n for r in rows if r.tool == "myshift"}):
        mine = [r for r in rows if r.tool == "myshift" and r.n == n and r.status != "unavailable"]
        bad = [
            f"{r.scenario}: {r.note or r.status}" for r in mine if r.status != "ok" or r.failures
        ]
        name = f"myshift, {n:,} tables: every workload exits 0 ({len(mine)} workloads)"
        if not mine:
            t.append(Target(name, None, "not measured"))
        else:
            t.append(Target(name, not bad, "; ".join(bad)[:300] or "all exit 0"))


# --------------------------------------------------------------------------- clone hook


def bench_clone(opts: Options) -> BenchResult:
    """Data clone speed: delegates to ``bench/clone_bench.py`` (owned by the clone work).

    Its ``bench_clone(args) -> dict`` is adapted to rows and a target here so
    that the report and the JSON look like every other benchmark.
    """
    try:
        import clone_bench
    except ImportError as exc:
        note = f"clone benchmark not available ({exc})"
        return BenchResult(rows=[Row("myshift", "clone", 0, status="unavailable", note=note)])
    return clone_result(clone_bench.bench_clone(SimpleNamespace(repeat=opts.repeat)))


def clone_result(raw: dict[str, Any]) -> BenchResult:
    """``clone_bench.bench_clone``'s dict as rows and a target."""
    res = BenchResult(meta={k: v for k, v in raw.items() if k != "tools"})
    n = int(raw.get("rows", 0))
    for tool, entry in raw.get("tools", {}).items():
        res.rows.append(
            Row(
                tool,
                "clone",
                n,
                status=str(entry.get("status", "ok")),
                runs=[float(x) for x in entry.get("runs", [])],
                note=str(entry.get("note", "")),
            )
        )
    target = raw.get("target")
    if isinstance(target, dict):
        med = next((r.median for r in res.rows if r.tool.startswith("myshift")), None)
        detail = "not measured" if med is None else f"{med:.2f} s"
        res.targets.append(Target(str(target.get("name")), target.get("passed"), detail))
    return res


BENCHMARKS: dict[str, Callable[[Options], BenchResult]] = {
    "schema": bench_schema,
    "clone": bench_clone,
    "live": bench_live,
    "partition": bench_partition,
}


# --------------------------------------------------------------------------- report


def _baseline(rows: list[Row], r: Row) -> Row | None:
    """The myshift row a row is compared with: DB→DB for schema diffs, else same scenario."""
    if r.scenario in (DB_TO_DB, FILE_TO_DB, DB_TO_DB_NOVERIFY):
        return _find(rows, "myshift", DB_TO_DB, r.n)
    return next(
        (
            b
            for b in rows
            if b.tool.startswith("myshift") and b.scenario == r.scenario and b.n == r.n
        ),
        None,
    )


def print_report(name: str, res: BenchResult) -> None:
    print(f"\n== {name} ==")
    hdr = (
        f"{'tool':<24} {'scenario':<16} {'N':>6} {'median s':>10} {'vs myshift':>10}"
        f" {'peak RSS MB':>12} {'runs':>4} {'changes':>7}  note"
    )
    print(hdr)
    print("-" * len(hdr))
    for r in res.rows:
        base = _baseline(res.rows, r)
        ratio = "-"
        if base is not None and base.median and base.status == "ok":
            if r.status == "ok" and r.median is not None:
                ratio = f"{r.median / base.median:.1f}×"
            elif r.status == "timeout" and r.timeout_s:
                ratio = f"> {r.timeout_s / base.median:.1f}×"
        rss = "-" if r.peak_rss_mb is None else f"{r.peak_rss_mb:.0f}"
        changes = "-" if r.changes is None else str(r.changes)
        print(
            f"{r.tool:<24} {r.scenario:<16} {r.n:>6} {r.seconds_text():>10} {ratio:>10} {rss:>12}"
            f" {len(r.runs):>4} {changes:>7}  {r.note}"
        )
    if res.targets:
        print("\ntargets:")
        for tg in res.targets:
            mark = "n/a " if tg.passed is None else ("PASS" if tg.passed else "FAIL")
            print(f"  [{mark}] {tg.name}: {tg.detail}")


def _git_commit() -> str:
    res = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=BENCH_DIR,
    )
    return res.stdout.strip()


def parse_args(argv: list[str]) -> Options:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--only", choices=sorted(BENCHMARKS), action="append", help="benchmark(s) to run"
    )
    ap.add_argument(
        "--tables", default="1000,10000", help="comma-separated sizes (default 1000,10000)"
    )
    ap.add_argument("--quick", action="store_true", help="1,000 tables only")
    ap.add_argument("--repeat", type=int, default=5, help="runs per tool, median reported")
    ap.add_argument("--tools", default=",".join(TOOLS), help=f"subset of {','.join(TOOLS)}")
    ap.add_argument(
        "--timeout", type=float, default=None, help="seconds per run (default scales with N)"
    )
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--workers", type=int, default=3, help="parallel loading connections per server"
    )
    ap.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    ap.add_argument(
        "--rows",
        "--live-rows",
        dest="rows",
        type=int,
        default=1_000_000,
        help="orders rows for --only live and --only partition (default 1,000,000)",
    )
    a = ap.parse_args(argv)
    sizes = [1000] if a.quick else [int(x) for x in a.tables.split(",") if x.strip()]
    tools = [x.strip() for x in a.tools.split(",") if x.strip()]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        ap.error(f"unknown tool(s) {sorted(unknown)}; choose from {', '.join(TOOLS)}")
    only: list[str] = a.only or ["schema", "clone"]
    return Options(
        sizes, a.repeat, tools, a.timeout, a.seed, a.results_dir, a.workers, only, a.rows
    )


def main(argv: list[str]) -> int:
    opts = parse_args(argv)
    started = time.time()
    meta: dict[str, object] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "commit": _git_commit(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
        "options": {k: str(v) for k, v in asdict(opts).items()},
    }
    print(
        f"myshift bench — load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    results: dict[str, BenchResult] = {}
    for name in opts.only:
        results[name] = BENCHMARKS[name](opts)
    meta["seconds"] = round(time.time() - started, 1)
    for name, res in results.items():
        print_report(name, res)
    print(f"\ntotal {meta['seconds']} s")
    out = {
        "meta": meta,
        "benchmarks": {
            name: {
                "rows": [{**asdict(r), "median_s": r.median} for r in res.rows],
                "targets": [asdict(t) for t in res.targets],
                "meta": res.meta,
            }
            for name, res in results.items()
        },
    }
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started))
    path = opts.results_dir / f"bench-{stamp}.json"
    text = json.dumps(out, indent=2, default=str, ensure_ascii=False)
    path.write_text(text)
    (opts.results_dir / "latest.json").write_text(text)
    print(f"results: {path}")
    failed = [t for res in results.values() for t in res.targets if t.passed is False]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
