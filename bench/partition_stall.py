"""Cost of changing only a partitioned table's partition list: full re-partition vs
the targeted statement (ADD / REORGANIZE / DROP PARTITION, ADD PARTITION PARTITIONS).

A throwaway server gets ``events`` (RANGE on ``month``, 12 monthly partitions and a
MAXVALUE catch-all, or HASH with 4 partitions) with ``--rows`` rows; one writer
inserts a row at a time (autocommit) while each statement runs on a fresh copy of
the table.  Prints wall time, the writer's max latency, the rows the server
reports affected, and whether InnoDB's table ids of the untouched partitions
changed (a copy makes new ones).

    .venv/bin/python bench/partition_stall.py --rows 200000
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass

from myshift.db.connect import Conn, Endpoint, connect
from myshift.db.server import LocalServer

MONTHS = [202501 + i for i in range(12)]
RANGE_PARTS = ", ".join(f"PARTITION p{m} VALUES LESS THAN ({m + 1})" for m in MONTHS)
RANGE = f"PARTITION BY RANGE (month) ({RANGE_PARTS}, PARTITION pmax VALUES LESS THAN MAXVALUE)"
NEXT = "PARTITION p202601 VALUES LESS THAN (202602)"
RANGE_ADDED = RANGE.replace(", PARTITION pmax", f", {NEXT}, PARTITION pmax")
RANGE_NOMAX = f"PARTITION BY RANGE (month) ({RANGE_PARTS})"
RANGE_DROPPED = RANGE.replace("PARTITION p202501 VALUES LESS THAN (202502), ", "")
HASH4 = "PARTITION BY HASH (id) PARTITIONS 4"

CASES: dict[str, tuple[str, str]] = {
    # name: (table's partitioning, the ALTER TABLE events ... to time)
    "re-partition (add p202601)": (RANGE_NOMAX, RANGE_NOMAX[:-1] + f", {NEXT})"),
    "ADD PARTITION p202601": (RANGE_NOMAX, f"ADD PARTITION ({NEXT})"),
    "re-partition (split pmax)": (RANGE, RANGE_ADDED),
    "REORGANIZE PARTITION pmax": (
        RANGE,
        f"REORGANIZE PARTITION pmax INTO ({NEXT}, PARTITION pmax VALUES LESS THAN MAXVALUE)",
    ),
    "re-partition (drop p202501)": (RANGE, RANGE_DROPPED),
    "DROP PARTITION p202501": (RANGE, "DROP PARTITION p202501"),
    "re-partition (HASH 4 -> 6)": (HASH4, HASH4.replace("4", "6")),
    "HASH ADD PARTITION PARTITIONS 2": (HASH4, "ADD PARTITION PARTITIONS 2"),
}


def load(ep: Endpoint, rows: int, partitioning: str) -> None:
    with connect(ep) as c:
        c.execute("DROP TABLE IF EXISTS events")
        c.execute(
            "CREATE TABLE events (id int NOT NULL AUTO_INCREMENT, month int NOT NULL, "
            "payload varchar(64), PRIMARY KEY (id, month)) " + partitioning
        )
        c.execute(
            f"INSERT INTO events (month, payload) SELECT {MONTHS[0]} + seq % 12, md5(seq) "
            f"FROM seq_1_to_{rows}"
        )


def table_ids(c: Conn) -> dict[str, int]:
    rows = c.query(
        "SELECT NAME, TABLE_ID FROM information_schema.INNODB_SYS_TABLES "
        "WHERE NAME LIKE 'bench/events#P#%'"
    )
    return {str(r[0]).split("#")[-1]: int(r[1]) for r in rows}


@dataclass
class Result:
    wall: float
    max_stall: float
    writes: int
    affected: int
    kept_ids: int
    of_ids: int


def measure(ep: Endpoint, alter: str) -> Result:
    stop = threading.Event()
    lat: list[float] = []

    def writer() -> None:
        with connect(ep, lock_wait_timeout=120) as w:
            n = 0
            while not stop.is_set():
                n += 1
                t0 = time.perf_counter()
                w.execute("INSERT INTO events (month, payload) VALUES (%s, 'w')", (MONTHS[5],))
                lat.append(time.perf_counter() - t0)
                time.sleep(0.005)

    with connect(ep, lock_wait_timeout=120) as c:
        before = table_ids(c)
        t = threading.Thread(target=writer)
        t.start()
        time.sleep(0.5)
        t0 = time.perf_counter()
        cur = c.raw.cursor()
        affected = cur.execute(f"ALTER TABLE events {alter}")
        wall = time.perf_counter() - t0
        time.sleep(0.5)
        stop.set()
        t.join()
        after = table_ids(c)
    kept = sum(1 for k, v in before.items() if after.get(k) == v)
    return Result(wall, max(lat), len(lat), int(affected), kept, len(before))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--only", default="", help="Run the cases whose name contains this.")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    srv = LocalServer.start()
    try:
        root = Endpoint(host=srv.host, port=srv.port, user="root", password="", schema="")
        with connect(root) as c:
            c.execute("CREATE DATABASE bench")
            version = c.scalar("SELECT VERSION()")
        ep = root.with_schema("bench")
        print(f"{args.rows:,} rows, {version}, one writer inserting every 5 ms")
        print(f"{'':30} {'wall':>7} {'max stall':>10} {'writes':>7} {'affected':>9} ids kept")
        todo = [(n, c) for n, c in CASES.items() if args.only in n] * args.repeat
        for name, (partitioning, alter) in todo:
            load(ep, args.rows, partitioning)
            r = measure(ep, alter)
            print(
                f"{name:30} {r.wall:6.2f}s {r.max_stall * 1000:8.0f}ms {r.writes:7d} "
                f"{r.affected:9d} {r.kept_ids}/{r.of_ids}"
            )
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
