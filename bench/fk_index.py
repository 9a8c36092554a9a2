"""Issue 11: an index change under a foreign key, old plan vs new, under a writer.

    .venv/bin/python bench/fk_index.py [--rows 300000]

On a throwaway MariaDB: ``orders`` (N rows, FK to ``customers``) has its
FK's index widened from (customer_id) to (customer_id, created), once as
the plan used to be (drop the FK, change the index, re-add the FK with
foreign_key_checks=1: a table copy under LOCK=SHARED) and once as myshift
plans it now (one ALTER, the FK kept), run through myshift's own runner.
Then the FK is dropped and added again: checked (the old way) and as
myshift adds it now (foreign_key_checks=0 between two orphan pre-flights).
One writer inserts into ``orders`` throughout; the longest single insert
is the application's max stall.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from myshift.db.connect import Conn, Endpoint, connect
from myshift.db.server import LocalServer
from myshift.engine.diff import DiffOptions, diff_schemas
from myshift.engine.introspect import introspect
from myshift.model import Schema
from myshift.workflows.planmodel import PlannedStatement, PlanOptions, file_statements, planned
from myshift.workflows.runner import ApplyOptions, run_statements

CUSTOMERS = "CREATE TABLE customers (id int PRIMARY KEY, name varchar(20))"
ORDERS = (
    "CREATE TABLE orders (id int PRIMARY KEY AUTO_INCREMENT, customer_id int NOT NULL, "
    "created int NOT NULL, note varchar(40), KEY ix_customer ({cols}), "
    "CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id))"
)
NARROW, WIDE = "customer_id", "customer_id, created"
OLD_PLAN = (  # what main planned for NARROW -> WIDE (tests/test_fk_online.py shows the new one)
    "ALTER TABLE `orders` DROP FOREIGN KEY `fk_customer`",
    "ALTER TABLE `orders` DROP INDEX `ix_customer`, "
    "ADD KEY `ix_customer` (`customer_id`,`created`)",
    "ALTER TABLE `orders` ADD CONSTRAINT `fk_customer` FOREIGN KEY (`customer_id`) "
    "REFERENCES `customers` (`id`)",
)
FK_ADD = (
    "ALTER TABLE `orders` ADD CONSTRAINT `fk_customer` FOREIGN KEY (`customer_id`) "
    "REFERENCES `customers` (`id`)"
)


@dataclass
class Result:
    name: str
    wall: float
    max_stall: float
    p99: float
    inserts: int
    errors: int


def _writer(ep: Endpoint, stop: threading.Event, lat: list[float], errors: list[str]) -> None:
    with connect(ep) as c:
        n = 0
        while not stop.is_set():
            n += 1
            t0 = time.perf_counter()
            try:
                c.execute(
                    "INSERT INTO orders (customer_id, created, note) VALUES (%s, %s, 'live')",
                    (n % 1000 + 1, n),
                )
            except Exception as exc:  # counted and reported
                errors.append(str(exc))
            lat.append(time.perf_counter() - t0)
            time.sleep(0.001)


def _measure(name: str, ep: Endpoint, run: Callable[[], object]) -> Result:
    stop = threading.Event()
    lat: list[float] = []
    errors: list[str] = []
    thread = threading.Thread(target=_writer, args=(ep, stop, lat, errors))
    thread.start()
    time.sleep(0.3)
    t0 = time.perf_counter()
    run()
    wall = time.perf_counter() - t0
    time.sleep(0.3)
    stop.set()
    thread.join()
    lat.sort()
    p99 = lat[int(len(lat) * 0.99) - 1] if lat else 0.0
    return Result(name, wall, max(lat, default=0.0), p99, len(lat), len(errors))


def _setup(conn: Conn, rows: int, cols: str) -> None:
    conn.execute("DROP TABLE IF EXISTS orders")
    conn.execute("DROP TABLE IF EXISTS customers")
    conn.execute(CUSTOMERS)
    conn.execute("INSERT INTO customers SELECT seq, CONCAT('c', seq) FROM seq_1_to_1000")
    conn.execute(ORDERS.format(cols=cols))
    conn.execute(
        "INSERT INTO orders (customer_id, created, note) "
        f"SELECT seq % 1000 + 1, seq, REPEAT('x', 30) FROM seq_1_to_{rows}"
    )


def _derived(conn: Conn, schema: str, desired: Schema) -> list[PlannedStatement]:
    current = introspect(conn, schema)
    changes = diff_schemas(current, desired, options=DiffOptions(or_replace=True))
    return file_statements(planned(changes, conn.flavor, PlanOptions()), changes, current, False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=300_000)
    args = ap.parse_args()
    results: list[Result] = []
    with LocalServer.start() as srv:
        ep = Endpoint(host=srv.host, port=srv.port, user="root", password="", schema="b")
        with connect(Endpoint(host=srv.host, port=srv.port, user="root", password="")) as a:
            a.execute("CREATE DATABASE b")
        with connect(ep) as conn:
            _setup(conn, 10, WIDE)
            wide = introspect(conn, "b")
            opts = ApplyOptions(record_history=False, audit_path=None, lock_wait_timeout=30)

            def old() -> None:
                for sql in OLD_PLAN:
                    conn.execute(sql)

            _setup(conn, args.rows, NARROW)
            results.append(_measure("index widen, old plan (FK drop/re-add)", ep, old))
            _setup(conn, args.rows, NARROW)
            new = _derived(conn, "b", wide)
            print("new plan:", *(s.sql for s in new), sep="\n  ")
            results.append(
                _measure(
                    "index widen, new plan (one ALTER)", ep, lambda: run_statements(ep, new, opts)
                )
            )
            conn.execute("ALTER TABLE orders DROP FOREIGN KEY fk_customer")
            results.append(
                _measure("FK add, foreign_key_checks=1", ep, lambda: conn.execute(FK_ADD))
            )
            conn.execute("ALTER TABLE orders DROP FOREIGN KEY fk_customer")
            add = _derived(conn, "b", wide)
            print("new FK add:", *(x for s in add for x in s.with_session()), sep="\n  ")
            results.append(
                _measure(
                    "FK add, checks=0 + pre-flights", ep, lambda: run_statements(ep, add, opts)
                )
            )
    print(f"\n{args.rows:,} rows in orders; one writer inserting (1 ms pause between inserts)")
    print(f"{'':42} {'wall s':>7} {'max stall s':>12} {'p99 ms':>7} {'inserts':>8} {'errors':>6}")
    for r in results:
        print(
            f"{r.name:42} {r.wall:7.2f} {r.max_stall:12.3f} {r.p99 * 1000:7.1f} "
            f"{r.inserts:8d} {r.errors:6d}"
        )


if __name__ == "__main__":
    main()
