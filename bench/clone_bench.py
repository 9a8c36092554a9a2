"""Clone benchmark: myshift's data copy vs `mariadb-dump | mariadb` vs mydumper/myloader.

Two throwaway servers; the source gets a 1,000,000-row data set in 5 tables of
mixed types (generated server-side from MariaDB's SEQUENCE engine, so setup
takes seconds).  Each tool copies the schema into a fresh schema on the
second server; every run is checked by row count, and the median of
``--repeat`` runs is reported.  Target: myshift at least as fast as the dump
pipeline.

    .venv/bin/python bench/clone_bench.py [--rows 1000000] [--repeat 3]

``bench_clone(args) -> dict`` is the hook for bench/run.py (``--only clone``);
``args`` needs no attribute, ``rows``/``repeat``/``workers`` are read if present.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from myshift.db.connect import Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.workflows.clone import DataMode, clone_schema_data

SRC = "bench_src"

# Row shares of the 5 tables (sum 1.0).
SHARES = {"customers": 0.1, "products": 0.02, "orders": 0.3, "order_items": 0.5, "events": 0.08}

DDL = [
    "CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(120) NOT NULL, name VARCHAR(80),"
    " created_at DATETIME NOT NULL, balance DECIMAL(12,2), vip TINYINT(1) NOT NULL DEFAULT 0,"
    " KEY (email))",
    "CREATE TABLE products (id INT PRIMARY KEY, sku CHAR(12) NOT NULL, title VARCHAR(200),"
    " price DECIMAL(10,2) NOT NULL, weight FLOAT, descr TEXT, UNIQUE KEY (sku))",
    "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id INT NOT NULL, status"
    " ENUM('new','paid','shipped','cancelled') NOT NULL, total DECIMAL(12,2),"
    " placed_at TIMESTAMP NULL, note VARCHAR(255), KEY (customer_id),"
    " FOREIGN KEY (customer_id) REFERENCES customers (id))",
    "CREATE TABLE order_items (order_id BIGINT NOT NULL, line SMALLINT NOT NULL,"
    " product_id INT NOT NULL, qty INT NOT NULL, unit_price DECIMAL(10,2), PRIMARY KEY"
    " (order_id, line), KEY (product_id))",
    "CREATE TABLE events (id BIGINT PRIMARY KEY AUTO_INCREMENT, kind VARCHAR(30), payload JSON,"
    " digest BINARY(16), score DOUBLE, at DATETIME(3))",
]


def _counts(total: int) -> dict[str, int]:
    return {t: max(1, int(total * s)) for t, s in SHARES.items()}


def generate(ep: Endpoint, total: int) -> dict[str, int]:
    n = _counts(total)
    with connect(ep, schema="", read_timeout=None) as c:
        c.execute(f"DROP DATABASE IF EXISTS {quote_ident(SRC)}")
        c.execute(f"CREATE DATABASE {quote_ident(SRC)}")
        c.execute(f"USE {quote_ident(SRC)}")
        for ddl in DDL:
            c.execute(ddl)
        c.execute(
            f"INSERT INTO customers SELECT seq, CONCAT('user', seq, '@example.com'),"
            f" CONCAT('Name ', seq), '2020-01-01' + INTERVAL seq MINUTE, (seq % 10000) / 7,"
            f" seq % 2 FROM seq_1_to_{n['customers']}"
        )
        c.execute(
            f"INSERT INTO products SELECT seq, LPAD(seq, 12, '0'), CONCAT('Product ''', seq),"
            f" 1 + seq % 500, seq / 3, REPEAT('lorem ipsum ', 1 + seq % 20)"
            f" FROM seq_1_to_{n['products']}"
        )
        c.execute(
            f"INSERT INTO orders SELECT seq, 1 + seq % {n['customers']}, 1 + seq % 4, seq % 997,"
            f" '2021-01-01' + INTERVAL seq SECOND, IF(seq % 5 = 0, NULL, 'leave at the door')"
            f" FROM seq_1_to_{n['orders']}"
        )
        per = max(1, n["order_items"] // n["orders"])
        c.execute(
            f"INSERT INTO order_items SELECT 1 + (seq - 1) DIV {per}, 1 + (seq - 1) % {per},"
            f" 1 + seq % {n['products']}, 1 + seq % 5, 1 + seq % 100"
            f" FROM seq_1_to_{n['order_items']}"
        )
        c.execute(
            f"INSERT INTO events (kind, payload, digest, score, at) SELECT ELT(1 + seq % 3,"
            f" 'click', 'view', 'buy'), JSON_OBJECT('n', seq, 's', 'x\"y'), UNHEX(MD5(seq)),"
            f" seq / 11, '2022-01-01' + INTERVAL seq * 10 MICROSECOND"
            f" FROM seq_1_to_{n['events']}"
        )
        return {t: int(c.scalar(f"SELECT COUNT(*) FROM {t}")) for t in SHARES}


def _fresh(ep: Endpoint, name: str) -> Endpoint:
    with connect(ep, schema="") as c:
        c.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
        c.execute(f"CREATE DATABASE {quote_ident(name)}")
    return ep.with_schema(name)


def _rows(ep: Endpoint) -> int:
    with connect(ep) as c:
        return sum(int(c.scalar(f"SELECT COUNT(*) FROM {t}")) for t in SHARES)


def run_myshift(src: Endpoint, dst: Endpoint, workers: int) -> None:
    clone_schema_data(src, dst, mode=DataMode.parse("full"), workers=workers)


def run_dump_pipeline(src: Endpoint, dst: Endpoint, workers: int) -> None:
    dump = subprocess.Popen(
        [
            "mariadb-dump",
            "-h",
            src.host,
            "-P",
            str(src.port),
            "-u",
            src.user,
            "--single-transaction",
            "--routines",
            "--triggers",
            "--events",
            src.schema,
        ],
        stdout=subprocess.PIPE,
    )
    load = subprocess.run(
        ["mariadb", "-h", dst.host, "-P", str(dst.port), "-u", dst.user, dst.schema],
        stdin=dump.stdout,
        check=False,
    )
    assert dump.stdout is not None
    dump.stdout.close()
    if dump.wait() != 0 or load.returncode != 0:
        raise RuntimeError("mariadb-dump | mariadb failed")


def run_mydumper(src: Endpoint, dst: Endpoint, workers: int) -> None:
    out = Path(tempfile.mkdtemp(prefix="clone-bench-"))
    try:
        subprocess.run(
            [
                "mydumper",
                "-h",
                src.host,
                "-P",
                str(src.port),
                "-u",
                src.user,
                "-B",
                src.schema,
                "-t",
                str(workers),
                "-o",
                str(out),
                "--triggers",
                "--routines",
                "--events",
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                "myloader",
                "-h",
                dst.host,
                "-P",
                str(dst.port),
                "-u",
                dst.user,
                "-B",
                dst.schema,
                "-t",
                str(workers),
                "-d",
                str(out),
                "-o",
            ],
            check=True,
            capture_output=True,
        )
    finally:
        shutil.rmtree(out, ignore_errors=True)


def bench_clone(args: Any = None) -> dict[str, Any]:
    total = int(getattr(args, "rows", 1_000_000) or 1_000_000)
    repeat = int(getattr(args, "repeat", 3) or 3)
    workers = int(getattr(args, "workers", 4) or 4)
    tools: dict[str, tuple[Callable[[Endpoint, Endpoint, int], None], str | None]] = {
        "myshift clone": (run_myshift, None),
        "mariadb-dump | mariadb": (run_dump_pipeline, "mariadb-dump"),
        "mydumper/myloader": (run_mydumper, "mydumper"),
    }
    result: dict[str, Any] = {"rows": total, "repeat": repeat, "tools": {}}
    a = LocalServer.start()
    b = LocalServer.start(server_id=2)
    try:
        src = Endpoint(host=a.host, port=a.port, user="root", password="", schema=SRC)
        t0 = time.monotonic()
        counts = generate(src, total)
        result["generate_seconds"] = round(time.monotonic() - t0, 2)
        expected = sum(counts.values())
        result["row_counts"] = counts
        for tool, (_fn, binary) in tools.items():
            entry: dict[str, Any] = {"runs": [], "status": "ok", "note": ""}
            result["tools"][tool] = entry
            if binary and not shutil.which(binary):
                entry.update(
                    status="unavailable",
                    note=f"{binary} not installed (apt-get install"
                    f" {'mydumper' if binary == 'mydumper' else 'mariadb-client'})",
                )
        # Warm the source's buffer pool, then interleave the tools run by run so a
        # change in machine load hits all of them alike.
        with connect(src) as c:
            c.execute("CHECKSUM TABLE " + ", ".join(SHARES))
        for i in range(repeat):
            for tool, (fn, _binary) in tools.items():
                entry = result["tools"][tool]
                if entry["status"] != "ok":
                    continue
                dst = _fresh(
                    Endpoint(host=b.host, port=b.port, user="root", password=""), f"bench_dst_{i}"
                )
                t = time.monotonic()
                try:
                    fn(src, dst, workers)
                except (subprocess.CalledProcessError, RuntimeError) as exc:
                    entry.update(status="error", note=str(exc)[:200])
                    continue
                entry["runs"].append(round(time.monotonic() - t, 3))
                got = _rows(dst)
                if got != expected:
                    entry.update(status="error", note=f"copied {got} rows, expected {expected}")
        for entry in result["tools"].values():
            if entry["runs"]:
                entry["median"] = statistics.median(entry["runs"])
        mine = result["tools"]["myshift clone"].get("median")
        dump = result["tools"]["mariadb-dump | mariadb"].get("median")
        result["target"] = {
            "name": "myshift clone ≤ mariadb-dump | mariadb",
            "passed": None if mine is None or dump is None else mine <= dump,
        }
    finally:
        a.stop()
        b.stop()
    return result


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=4)
    res = bench_clone(ap.parse_args(argv))
    print(
        f"clone bench: {res['rows']:,} rows in 5 tables (generated in"
        f" {res['generate_seconds']} s), median of {res['repeat']}"
    )
    for tool, e in res["tools"].items():
        med = f"{e['median']:.2f} s" if "median" in e else "-"
        runs = ", ".join(f"{r:.2f}" for r in e["runs"])
        print(f"  {tool:<24} {med:>9}  [{runs}] {e['status']} {e['note']}")
    tg = res["target"]
    mark = "n/a" if tg["passed"] is None else ("PASS" if tg["passed"] else "FAIL")
    print(f"target [{mark}] {tg['name']}")
    return 0 if tg["passed"] is not False else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
