"""Partition maintenance under load: add next month, split MAXVALUE, drop the oldest.

``orders`` (``--rows``, default 1,000,000) is RANGE-partitioned by month on
``TO_DAYS(created_at)``, the rows spread evenly over the 12 months that end
with the current one; beside it ``customers``, the ``BEFORE INSERT`` trigger
``orders_tag`` and the procedure ``customer_total`` of ``bench/live.py``, whose
bounded load (``live.Load``: 2 writers inserting at ``NOW()`` and updating, a
reader, a procedure caller, 4 ms apart, on 127.0.0.1) runs during every change.
A partitioned InnoDB table takes no foreign key, so ``orders`` has none.

The changes (``cases()``), each from a freshly built schema:

* ``add next month`` — 12 monthly partitions, no catch-all; the desired file
  appends next month's.
* ``split MAXVALUE`` — 11 months and ``pmax``, which has collected the current
  month's rows (1/12 of the table, and every insert of the load); the desired
  file splits the current month off it.
* ``drop oldest`` — the 12 months; the desired file lacks the oldest
  (``--allow-drop``; mysqldef needs ``--enable-drop``).
* ``hash 4 -> 6`` (only when asked for: ``--only hash``) — ``orders``
  partitioned ``BY HASH (id) PARTITIONS 4``; the desired file says 6.

The ways (``WAYS``), under the same load:

* ``myshift`` — ``myshift apply --target URL --desired FILE --yes`` (plus
  ``--allow-drop`` for the drop), default flags otherwise.
* ``mysqldef`` — the statements mysqldef v3.11.20 emits for the same desired
  file, run on one connection.  Its generator (``schema/generator.go``,
  ``generatePartitionDDLs``) matches partitions by name only: an
  ``ADD PARTITION`` for each new name, a ``DROP PARTITION`` for each missing
  one, never a REORGANIZE or a re-partition (the corpus cases
  ``PartitionByRangeAddPartition`` / ``PartitionByRangeDropPartition``).  For
  the split that is an ``ADD PARTITION`` of a range below MAXVALUE, which
  the server refuses (errno 1481, MAXVALUE can only be used in last
  partition definition).
* ``pt-osc`` — ``pt-online-schema-change --alter "PARTITION BY RANGE ..."``:
  the full re-partition, done online (a copy of the table under triggers).
* ``re-partition`` — the same ``PARTITION BY`` as one plain ``ALTER TABLE``
  (what myshift planned before the targeted statements: the whole table is
  copied, writes blocked meanwhile).  A reference row, not a peer.

After each way ``myshift plan --check --allow-drop`` says whether anything
is left to do (re-plan empty), and the partitions' InnoDB table ids before and
after say how many partitions were kept rather than rebuilt.

    .venv/bin/python bench/partition_live.py --rows 200000 -v
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import live
from live import LiveResult

from myshift.db.connect import Endpoint, connect, quote_ident
from myshift.db.server import LocalServer

WAYS = ("myshift", "mysqldef", "pt-osc", "re-partition")
ORDERS = (
    "CREATE TABLE orders (\n"
    "  id BIGINT NOT NULL AUTO_INCREMENT,\n"
    "  customer_id INT NOT NULL,\n"
    "  qty INT NOT NULL,\n"
    "  amount DECIMAL(12,2) NOT NULL,\n"
    "  created_at DATETIME NOT NULL,\n"
    "  tag VARCHAR(8) NULL,\n"
    "  PRIMARY KEY (id, created_at),\n"
    "  KEY ix_orders_customer (customer_id)\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4\n"
)


def _month(d: date, delta: int) -> date:
    """The first day of the month ``delta`` months from ``d``'s."""
    n = d.year * 12 + d.month - 1 + delta
    return date(n // 12, n % 12 + 1, 1)


def _to_days(d: date) -> int:
    """The server's ``TO_DAYS(d)``."""
    return d.toordinal() + 365


@dataclass(frozen=True)
class Month:
    first: date

    @property
    def name(self) -> str:
        return f"p{self.first:%Y%m}"

    @property
    def bound(self) -> int:
        return _to_days(_month(self.first, 1))

    def definition(self) -> str:
        return f"PARTITION {self.name} VALUES LESS THAN ({self.bound})"


def partitioning(months: list[Month], maxvalue: bool = False) -> str:
    parts = [m.definition() for m in months]
    parts += ["PARTITION pmax VALUES LESS THAN MAXVALUE"] * maxvalue
    return "PARTITION BY RANGE (TO_DAYS(created_at))\n(" + ",\n ".join(parts) + ")"


@dataclass(frozen=True)
class Case:
    """One partition change: the table before, the desired partitioning, each way's SQL."""

    name: str
    before: str
    after: str
    mysqldef: list[str]
    myshift_flags: tuple[str, ...] = ()


def cases(today: date) -> list[Case]:
    base = [Month(_month(today, d)) for d in range(-11, 1)]  # the 12 months up to this one
    nxt, cur, old = Month(_month(today, 1)), base[-1], base[0]
    return [
        Case(
            "add next month",
            partitioning(base),
            partitioning([*base, nxt]),
            [f"ALTER TABLE orders ADD PARTITION ({nxt.definition()})"],
        ),
        Case(
            "split MAXVALUE",
            partitioning(base[:-1], maxvalue=True),
            partitioning(base, maxvalue=True),
            [f"ALTER TABLE orders ADD PARTITION ({cur.definition()})"],
        ),
        Case(
            "drop oldest",
            partitioning(base),
            partitioning(base[1:]),
            [f"ALTER TABLE orders DROP PARTITION {old.name}"],
            ("--allow-drop",),
        ),
        # mysqldef matches listed partitions by name; PARTITIONS n lists none.
        Case("hash 4 -> 6", "PARTITION BY HASH (id) PARTITIONS 4", HASH6, []),
    ]


HASH6 = "PARTITION BY HASH (id) PARTITIONS 6"
DEFAULT_CASES = ("add next month", "split MAXVALUE", "drop oldest")


def schema_statements(parts: str) -> list[str]:
    """customers, the partitioned orders, the trigger and the procedure of ``live.OLD``."""
    customers, *_, trigger, procedure = live.schema_statements(live.OLD)
    return [customers, ORDERS + parts, trigger, procedure]


def desired_sql(parts: str) -> str:
    *tables, trig, proc = schema_statements(parts)
    return ";\n\n".join(tables) + ";\n\nDELIMITER ;;\n" + trig + ";;\n" + proc + ";;\nDELIMITER ;\n"


def build(ep: Endpoint, rows: int, parts: str, today: date) -> None:
    """``ep.schema`` afresh, ``rows`` orders spread evenly over the 12 months up to ``today``'s."""
    customers = max(10, rows // live.CUSTOMERS_PER_ORDER)
    first = _month(today, -11)
    with connect(ep, schema="", read_timeout=None) as c:
        c.execute(f"DROP DATABASE IF EXISTS {quote_ident(ep.schema)}")
        c.execute(f"CREATE DATABASE {quote_ident(ep.schema)} DEFAULT CHARACTER SET utf8mb4")
        c.execute(f"USE {quote_ident(ep.schema)}")
        for stmt in schema_statements(parts):
            c.execute(stmt)
        c.execute(
            "INSERT INTO customers SELECT seq, CONCAT('customer ', seq), "
            f"'2024-01-01' + INTERVAL seq MINUTE FROM seq_1_to_{customers}"
        )
        c.execute(
            "INSERT INTO orders (id, customer_id, qty, amount, created_at, tag) "
            f"SELECT seq, 1 + seq % {customers}, 1 + seq % 9, (seq % 10000) / 100, "
            f"'{first}' + INTERVAL seq % 12 MONTH + INTERVAL (seq DIV 12) % 2332800 SECOND, "
            f"'seed' FROM seq_1_to_{rows}"
        )
        c.execute("ANALYZE TABLE customers, orders")


def _partition_ids(ep: Endpoint) -> dict[str, int]:
    with connect(ep) as c:
        rows = c.query(
            "SELECT NAME, TABLE_ID FROM information_schema.INNODB_SYS_TABLES WHERE NAME LIKE %s",
            (f"{ep.schema}/orders#P#%",),
        )
    return {str(n).split("#")[-1]: int(i) for n, i in rows}


def _row_count(ep: Endpoint) -> int:
    with connect(ep) as c:
        return int(c.scalar("SELECT COUNT(*) FROM orders"))


@dataclass
class PartitionResult:
    """One way of one change: the live measures, plus what the partitions became."""

    case: str
    live: LiveResult
    kept: int = 0  # partitions whose InnoDB table id survived (not rebuilt)
    of: int = 0
    rows_after: int = 0


def _change(
    case: Case, way: str, ep: Endpoint, desired: Path, timeout: float
) -> Callable[[], tuple[int, str]]:
    if way == "myshift":
        return lambda: live.myshift_apply(ep, desired, timeout, extra=case.myshift_flags)
    if way == "mysqldef":
        return lambda: live.plain_alters(ep, case.mysqldef)
    if way == "pt-osc":
        return lambda: live.pt_osc_alter(ep, "orders", case.after, timeout)
    if way == "re-partition":
        return lambda: live.plain_alters(ep, [f"ALTER TABLE orders {case.after}"])
    raise ValueError(way)


def run_way(
    ep: Endpoint, case: Case, way: str, rows: int, today: date, timeout: float = 1800
) -> PartitionResult:
    """Build ``case.before`` afresh in ``ep.schema``, then make the change one way, under load."""
    if way == "pt-osc" and shutil.which("pt-online-schema-change") is None:
        res = LiveResult(way, rows, status="unavailable", note="percona-toolkit missing")
        return PartitionResult(case.name, res)
    build(ep, rows, case.before, today)
    before = _partition_ids(ep)
    with tempfile.TemporaryDirectory() as tmp:
        desired = Path(tmp) / "desired.sql"
        desired.write_text(desired_sql(case.after))
        res = live.run_under_load(ep, way, _change(case, way, ep, desired, timeout), rows)
        if way == "mysqldef" and not case.mysqldef:
            res.note = "mysqldef emits no statement"
        res.replan_empty, out = live.myshift_replan_empty(
            ep, desired, timeout, extra=("--allow-drop",)
        )
        if not res.replan_empty:
            res.output += "\n--- re-plan ---\n" + out
    after = _partition_ids(ep)
    kept = sum(1 for k, v in before.items() if after.get(k) == v)
    return PartitionResult(case.name, res, kept, len(before), _row_count(ep))


def run_all(
    rows: int, ways: list[str], only: str = "", timeout: float = 1800
) -> list[PartitionResult]:
    """A throwaway server; each change (``DEFAULT_CASES``, or those whose name
    contains ``only``) each way, one after another."""
    today = date.today()
    todo = [c for c in cases(today) if (only in c.name if only else c.name in DEFAULT_CASES)]
    srv = LocalServer.start()
    try:
        out = []
        for case in todo:
            for way in ways:
                ep = Endpoint(srv.host, srv.port, "root", "", schema="partition_bench")
                t0 = time.perf_counter()
                r = run_way(ep, case, way, rows, today, timeout)
                print(
                    f"partition: {case.name}, {way} at {rows:,} rows done in "
                    f"{time.perf_counter() - t0:.0f} s (exit {r.live.exit_code})",
                    flush=True,
                )
                out.append(r)
        return out
    finally:
        srv.stop()


def print_side_by_side(results: list[PartitionResult]) -> None:
    hdr = (
        f"{'change':<15} {'way':<12} {'rows':>9} {'status':<7} {'wall s':>7} {'max stall s':>11} "
        f"{'p99 ms':>8} {'writes':>7} {'re-plan empty':>13} {'kept':>5} {'rows after':>10}  errors"
    )
    print(hdr)
    print("-" * len(hdr))
    for p in results:
        r = p.live
        print(
            f"{p.case:<15} {r.method:<12} {r.rows:>9,} {r.status:<7} {r.wall_s:>7.2f} "
            f"{r.max_stall_s:>11.2f} {r.p99_ms:>8.1f} {r.writes:>7} "
            f"{yes_no(r.replan_empty):>13} {f'{p.kept}/{p.of}':>5} {p.rows_after:>10,}  "
            f"{r.errors_text()}" + (f"  [{r.note}]" if r.note else "")
        )


def yes_no(v: bool | None) -> str:
    return "-" if v is None else ("yes" if v else "no")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--ways", default=",".join(WAYS))
    ap.add_argument("--only", default="", help="the changes whose name contains this")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each tool's output")
    a = ap.parse_args(argv)
    ways = [w.strip() for w in a.ways.split(",") if w.strip()]
    results = run_all(a.rows, ways, a.only)
    print_side_by_side(results)
    if a.verbose:
        for p in results:
            print(f"\n--- {p.case}: {p.live.method} ---\n{p.live.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
