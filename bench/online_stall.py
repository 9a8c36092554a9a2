"""Max write stall of a table-copying ALTER: plain ALTER vs myshift's online path.

A throwaway server gets ``orders`` (FK to ``customers``, one trigger) with
``--rows`` rows; one writer inserts a row at a time (autocommit) while the
type change ``amount int -> bigint`` (COPY, LOCK=SHARED on MariaDB) runs,
first as a plain ALTER, then (on a fresh copy of the table) through
``myshift apply`` with the default ``--online auto`` (pt-online-schema-change
above 100k rows).  Prints wall time, writes done, and the writer's max and
p99 latency for each.  Bounded: one writer, the ALTER's duration plus 1 s.

    .venv/bin/python bench/online_stall.py --rows 250000
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from myshift.config.settings import OnlineSettings
from myshift.db.connect import Endpoint, connect
from myshift.db.server import LocalServer
from myshift.workflows.apply import ApplyCommandOptions, apply
from myshift.workflows.online import OnlinePolicy
from myshift.workflows.planmodel import PlanOptions

SCHEMA = """
CREATE TABLE customers (id int PRIMARY KEY, name varchar(40));
CREATE TABLE orders (
  id int AUTO_INCREMENT PRIMARY KEY,
  customer_id int NOT NULL,
  amount int NOT NULL,
  note varchar(64) DEFAULT NULL,
  tag varchar(10) DEFAULT NULL,
  KEY customer_id (customer_id),
  CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
);
CREATE TRIGGER orders_tag BEFORE INSERT ON orders FOR EACH ROW SET NEW.tag = 'trig';
"""


def load(ep: Endpoint, rows: int) -> None:
    with connect(ep.with_schema("")) as c:
        c.execute(f"DROP DATABASE IF EXISTS `{ep.schema}`")
        c.execute(f"CREATE DATABASE `{ep.schema}`")
    with connect(ep) as c:
        for stmt in SCHEMA.split(";\n"):
            if stmt.strip():
                c.execute(stmt)
        c.execute("INSERT INTO customers SELECT seq, concat('c', seq) FROM seq_1_to_1000")
        c.execute(
            "INSERT INTO orders (customer_id, amount, note) "
            f"SELECT 1 + seq % 1000, seq, md5(seq) FROM seq_1_to_{rows}"
        )
        c.execute("ANALYZE TABLE orders")


@dataclass
class Result:
    wall: float
    latencies: list[float]
    errors: list[str]
    slow: list[tuple[float, float]]  # (seconds after the change started, latency)

    def row(self, name: str) -> str:
        lat = sorted(self.latencies)
        p99 = lat[int(len(lat) * 0.99) - 1]
        return (
            f"{name:30} {self.wall:6.2f}s {lat[-1] * 1000:8.0f}ms {p99 * 1000:6.1f}ms "
            f"{len(lat):7d} {len(self.errors):6d}"
        )


def measure(ep: Endpoint, change: Callable[[], None]) -> Result:
    """Run ``change`` while one writer inserts; the writer's latencies and the wall time."""
    stop = threading.Event()
    result = Result(0.0, [], [], [])
    start = [time.perf_counter() + 1.0]

    def writer() -> None:
        with connect(ep, lock_wait_timeout=120) as w:
            n = 0
            while not stop.is_set():
                n += 1
                t0 = time.perf_counter()
                try:
                    w.execute(
                        "INSERT INTO orders (customer_id, amount) VALUES (%s, %s)",
                        (1 + n % 1000, n),
                    )
                except Exception as exc:  # a bench records errors, it does not stop
                    result.errors.append(str(exc)[:80])
                dt = time.perf_counter() - t0
                result.latencies.append(dt)
                if dt > 0.1:
                    result.slow.append((round(t0 - start[0], 2), round(dt, 3)))
                time.sleep(0.005)

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(1.0)
    start[0] = time.perf_counter()
    change()
    result.wall = time.perf_counter() - start[0]
    time.sleep(1.0)
    stop.set()
    t.join()
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=250_000)
    ap.add_argument("--chunk-time", type=float, default=OnlineSettings().chunk_time)
    ap.add_argument("--verbose", action="store_true", help="Errors and stalls over 100 ms.")
    args = ap.parse_args()
    srv = LocalServer.start()
    try:
        ep = Endpoint(host=srv.host, port=srv.port, user="root", password="", schema="shop")
        desired = Path(tempfile.mkdtemp()) / "desired.sql"
        desired.write_text(SCHEMA.replace("amount int NOT NULL", "amount bigint NOT NULL"))
        results = {}

        load(ep, args.rows)

        def plain() -> None:
            with connect(ep, lock_wait_timeout=120) as c:
                c.execute("ALTER TABLE orders MODIFY COLUMN amount bigint(20) NOT NULL")

        results["plain ALTER"] = measure(ep, plain)

        load(ep, args.rows)

        t_0 = [0.0]

        def online() -> None:
            t_0[0] = time.perf_counter()
            settings = OnlineSettings(chunk_time=args.chunk_time)
            plan = PlanOptions(online=OnlinePolicy(settings=settings))
            opts = ApplyCommandOptions(plan=plan, yes=True, audit_log=None)
            apply(
                ep,
                str(desired),
                opts,
                say=lambda s: (
                    print(f"{time.perf_counter() - t_0[0]:.2f} {s}") if args.verbose else None
                ),
            )

        results["myshift apply (online auto)"] = measure(ep, online)
        print(f"{args.rows:,} rows, amount int -> bigint (COPY, LOCK=SHARED), one writer")
        print(f"{'':30} {'wall':>7} {'max stall':>10} {'p99':>8} {'writes':>7} {'errors':>6}")
        for name, r in results.items():
            print(r.row(name))
            if args.verbose:
                print("   ", r.errors[:3], r.slow)
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
