"""Live apply under load (issue 11): one routine release, three ways, the same load.

The scenario: ``customers`` and ``orders`` (``orders.customer_id`` -> ``customers``
FK, served by ``ix_orders_customer``), a ``BEFORE INSERT`` trigger on ``orders``
that tags every new row (``tag = 'v1'``) and a procedure ``customer_total``.
The release (``DESIRED_DDL``) changes a column type (``qty INT -> BIGINT``: a
COPY on MariaDB), widens the index that serves the FK, changes the trigger body
(it now tags ``'v2'``), changes the procedure body and adds a column.

While it runs, ``Load`` drives 4 threads on 127.0.0.1: two writers (insert an
order, update a random one), a reader (orders of a customer, through the FK's
index) and a caller of the procedure.  Each thread records every operation's
latency and its errors by class; ``max stall`` is the longest time any thread
went without completing an operation (from the change's start to the end of
the load).  Afterwards the rows inserted during the run whose ``tag`` is NULL
are counted: those slipped past the trigger (old and new bodies both tag).

The three ways (``METHODS``):

* ``myshift`` — ``myshift apply --target URL --desired FILE --yes``, default flags;
  afterwards ``myshift plan --check`` must find nothing left (re-plan empty).
* ``plain ALTER`` — the statements mysqldef would print, run one by one on one
  connection (``ALTER TABLE … MODIFY``, the index swapped in one ALTER since
  MariaDB refuses to drop an index an FK needs, ``DROP``+``CREATE`` for the
  trigger and the procedure).
* ``pt-osc`` — ``pt-online-schema-change`` (Debian ``percona-toolkit``) for the
  table change, triggers preserved; trigger and procedure bodies with MariaDB's
  ``CREATE OR REPLACE`` just before it.

``bench/run.py --only live`` runs all three (``--rows``, default 1,000,000)
and prints them side by side; ``tests/test_live_apply.py`` runs the myshift
way at a small size and asserts the acceptance of issue 11.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from random import Random

from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer

CUSTOMERS_PER_ORDER = 20  # one customer per 20 orders

TABLES_DDL = [
    "CREATE TABLE customers (\n"
    "  id INT NOT NULL,\n"
    "  name VARCHAR(80) NOT NULL,\n"
    "  created_at DATETIME NOT NULL,\n"
    "  PRIMARY KEY (id)\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE orders (\n"
    "  id BIGINT NOT NULL AUTO_INCREMENT,\n"
    "  customer_id INT NOT NULL,\n"
    "  qty {qty} NOT NULL,\n"
    "  amount DECIMAL(12,2) NOT NULL,\n"
    "  created_at DATETIME NOT NULL,\n"
    "  tag VARCHAR(8) NULL,\n"
    "{extra}"
    "  PRIMARY KEY (id),\n"
    "  KEY ix_orders_customer ({ix}),\n"
    "  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
]
TRIGGER = (
    "CREATE {replace}TRIGGER orders_tag BEFORE INSERT ON orders FOR EACH ROW SET NEW.tag = '{tag}'"
)
PROCEDURE = (
    "CREATE {replace}PROCEDURE customer_total(IN cid INT)\n"
    "BEGIN\n"
    "  SELECT COUNT(*), COALESCE(SUM(amount), 0){more} FROM orders WHERE customer_id = cid;\n"
    "END"
)
OLD = {"qty": "INT", "extra": "", "ix": "customer_id", "tag": "v1", "more": ""}
NEW = {
    "qty": "BIGINT",
    "extra": "  channel VARCHAR(16) NULL,\n",
    "ix": "customer_id, created_at",
    "tag": "v2",
    "more": ", MAX(created_at)",
}


def schema_statements(v: dict[str, str], replace: bool = False) -> list[str]:
    """The CREATE statements of one version (``OLD`` or ``NEW``)."""
    rep = "OR REPLACE " if replace else ""
    tables = [TABLES_DDL[0], TABLES_DDL[1].format(qty=v["qty"], extra=v["extra"], ix=v["ix"])]
    return [
        *tables,
        TRIGGER.format(replace=rep, tag=v["tag"]),
        PROCEDURE.format(replace=rep, more=v["more"]),
    ]


def desired_sql() -> str:
    """The desired schema as a file (mysqldump style: routines in DELIMITER blocks)."""
    *tables, trig, proc = schema_statements(NEW)
    return ";\n\n".join(tables) + ";\n\nDELIMITER ;;\n" + trig + ";;\n" + proc + ";;\nDELIMITER ;\n"


# What mysqldef would print for the release, made runnable on MariaDB: it drops
# and re-adds the index in two statements, which MariaDB refuses for an index a
# foreign key needs (errno 1553), so the swap is one ALTER here.
PLAIN_ALTERS = [
    "ALTER TABLE orders MODIFY COLUMN qty BIGINT NOT NULL",
    "ALTER TABLE orders DROP INDEX ix_orders_customer, "
    "ADD INDEX ix_orders_customer (customer_id, created_at)",
    "DROP TRIGGER orders_tag",
    TRIGGER.format(replace="", tag="v2"),
    "DROP PROCEDURE customer_total",
    PROCEDURE.format(replace="", more=", MAX(created_at)"),
    "ALTER TABLE orders ADD COLUMN channel VARCHAR(16) NULL AFTER tag",
]
PTOSC_ALTER = (
    "MODIFY COLUMN qty BIGINT NOT NULL, DROP INDEX ix_orders_customer, "
    "ADD INDEX ix_orders_customer (customer_id, created_at), "
    "ADD COLUMN channel VARCHAR(16) NULL AFTER tag"
)


def build(ep: Endpoint, orders: int) -> None:
    """Create ``ep.schema`` afresh with the old version and ``orders`` rows (server-side)."""
    customers = max(10, orders // CUSTOMERS_PER_ORDER)
    with connect(ep, schema="", read_timeout=None) as c:
        c.execute(f"DROP DATABASE IF EXISTS {quote_ident(ep.schema)}")
        c.execute(f"CREATE DATABASE {quote_ident(ep.schema)} DEFAULT CHARACTER SET utf8mb4")
        c.execute(f"USE {quote_ident(ep.schema)}")
        for stmt in schema_statements(OLD):
            c.execute(stmt)
        c.execute(
            "INSERT INTO customers SELECT seq, CONCAT('customer ', seq), "
            f"'2024-01-01' + INTERVAL seq MINUTE FROM seq_1_to_{customers}"
        )
        c.execute("SET SESSION foreign_key_checks = 0")
        c.execute(
            f"INSERT INTO orders (id, customer_id, qty, amount, created_at, tag) "
            f"SELECT seq, 1 + seq % {customers}, 1 + seq % 9, (seq % 10000) / 100, "
            f"'2024-01-01' + INTERVAL seq SECOND, 'seed' FROM seq_1_to_{orders}"
        )
        c.execute("ANALYZE TABLE customers, orders")


# --------------------------------------------------------------------------- load


@dataclass
class ThreadStats:
    role: str
    ops: int = 0
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (end, seconds) if ok
    completions: list[float] = field(default_factory=list)  # perf_counter at each op end
    errors: Counter[str] = field(default_factory=Counter)
    writes: int = 0


def error_class(exc: BaseException) -> str:
    """``deadlock`` (1213), ``missing routine`` (1305), else ``<errno>`` or the class name."""
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    if code == 1213:
        return "deadlock"
    if code == 1305:
        return "missing routine"
    return str(code) if code is not None else type(exc).__name__


class Load:
    """Four bounded client threads: 2 writers, a reader, a procedure caller.

    Each sleeps ``pause`` seconds between operations (a steady, not saturating,
    load) and stops at ``stop()`` or after ``max_seconds``.  App sessions wait
    at most 30 s for a lock (the server default is a year), so a run is bounded.
    """

    def __init__(self, ep: Endpoint, customers: int, pause: float = 0.004) -> None:
        self.ep, self.customers, self.pause = ep, customers, pause
        self.stats = [ThreadStats(r) for r in ("writer", "writer", "reader", "caller")]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.max_id_before = 0
        self.max_seconds = 1800.0

    def start(self) -> None:
        with connect(self.ep) as c:
            self.max_id_before = int(c.scalar("SELECT COALESCE(MAX(id), 0) FROM orders"))
        for i, st in enumerate(self.stats):
            t = threading.Thread(target=self._run, args=(st, Random(i)), daemon=True)
            self._threads.append(t)
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(60)

    def _op(self, st: ThreadStats, rnd: Random) -> Callable[[Conn], None]:
        def cid() -> int:
            return rnd.randint(1, self.customers)

        def write(c: Conn) -> None:
            if st.ops % 2 == 0:
                c.execute(
                    "INSERT INTO orders (customer_id, qty, amount, created_at) "
                    "VALUES (%s, %s, %s, NOW())",
                    (cid(), rnd.randint(1, 9), rnd.randint(100, 99999) / 100),
                )
            else:
                c.execute(
                    "UPDATE orders SET amount = amount + 1 WHERE id = %s",
                    (rnd.randint(1, max(1, self.max_id_before)),),
                )
            st.writes += 1

        def read(c: Conn) -> None:
            c.query("SELECT id, amount FROM orders WHERE customer_id = %s LIMIT 50", (cid(),))

        def call(c: Conn) -> None:
            c.query("CALL customer_total(%s)", (cid(),))

        return {"writer": write, "reader": read, "caller": call}[st.role]

    def _run(self, st: ThreadStats, rnd: Random) -> None:
        op = self._op(st, rnd)
        deadline = time.perf_counter() + self.max_seconds
        conn: Conn | None = None
        while not self._stop.is_set() and time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                if conn is None:
                    conn = connect(self.ep, lock_wait_timeout=30)
                    conn.execute("SET SESSION innodb_lock_wait_timeout = 30")
                op(conn)
            except Exception as exc:  # an application sees every error class
                st.errors[error_class(exc)] += 1
                if conn is not None and not conn.raw.open:
                    conn = None
            else:
                t1 = time.perf_counter()
                st.latencies.append((t1, t1 - t0))
            st.ops += 1
            st.completions.append(time.perf_counter())
            time.sleep(self.pause)
        if conn is not None:
            conn.close()


@dataclass
class LiveResult:
    """One way of applying the release, measured under the load."""

    method: str
    rows: int
    status: str = "ok"  # ok | failed | unavailable
    wall_s: float = 0.0
    exit_code: int | None = None
    max_stall_s: float = 0.0
    p99_ms: float = 0.0
    ops: int = 0
    writes: int = 0
    inserts_during: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    untagged: int = 0
    replan_empty: bool | None = None
    note: str = ""
    output: str = ""

    @property
    def deadlocks(self) -> int:
        return self.errors.get("deadlock", 0)

    def errors_text(self) -> str:
        return ", ".join(f"{n} {k}" for k, n in sorted(self.errors.items())) or "0"


def _summarize(res: LiveResult, load: Load, t_start: float, t_end: float) -> None:
    # Latency percentiles and the stall over the window of the change (and its tail).
    lat = sorted(x for st in load.stats for end, x in st.latencies if t_start <= end <= t_end)
    res.ops = sum(st.ops for st in load.stats)
    res.writes = sum(st.writes for st in load.stats)
    res.p99_ms = 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else 0.0
    errors: Counter[str] = Counter()
    stall = 0.0
    for st in load.stats:
        errors.update(st.errors)
        marks = [t_start] + [t for t in st.completions if t > t_start] + [t_end]
        stall = max(stall, max(b - a for a, b in itertools.pairwise(marks)))
    res.errors = dict(errors)
    res.max_stall_s = stall


def _count_untagged(ep: Endpoint, after_id: int) -> tuple[int, int]:
    with connect(ep) as c:
        row = c.query(
            "SELECT COUNT(*), COALESCE(SUM(tag IS NULL), 0) FROM orders WHERE id > %s", (after_id,)
        )[0]
    return int(row[0]), int(row[1])


def run_under_load(
    ep: Endpoint,
    method: str,
    change: Callable[[], tuple[int, str]],
    rows: int,
    warmup: float = 1.0,
    tail: float = 1.0,
) -> LiveResult:
    """Start the load, run ``change`` (-> exit code, output), measure, stop the load."""
    load = Load(ep, customers=max(10, rows // CUSTOMERS_PER_ORDER))
    res = LiveResult(method, rows)
    load.start()
    try:
        time.sleep(warmup)
        t_start = time.perf_counter()
        try:
            res.exit_code, res.output = change()
        except Exception as exc:  # the bench reports a failing tool, it does not stop
            res.exit_code, res.output = -1, f"{type(exc).__name__}: {exc}"
        res.wall_s = time.perf_counter() - t_start
        time.sleep(tail)
        t_end = time.perf_counter()
    finally:
        load.stop()
    _summarize(res, load, t_start, t_end)
    res.inserts_during, res.untagged = _count_untagged(ep, load.max_id_before)
    if res.exit_code != 0:
        res.status = "failed"
        res.note = res.output.strip().splitlines()[-1][:160] if res.output.strip() else ""
    return res


# --------------------------------------------------------------------------- the three ways


def _url(ep: Endpoint) -> str:
    return f"mysql://{ep.user}@{ep.host}:{ep.port}/{ep.schema}"


def _myshift_bin() -> str:
    local = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "myshift"
    return str(local) if local.exists() else (shutil.which("myshift") or "myshift")


def myshift_apply(
    ep: Endpoint, desired: Path, timeout: float, cwd: Path | None = None, extra: Sequence[str] = ()
) -> tuple[int, str]:
    cmd = [_myshift_bin(), "apply", "--target", _url(ep), "--desired", str(desired), "--yes"]
    cmd += extra
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd)
    return r.returncode, r.stdout + r.stderr


def myshift_replan_empty(
    ep: Endpoint, desired: Path, timeout: float, cwd: Path | None = None, extra: Sequence[str] = ()
) -> tuple[bool, str]:
    cmd = [_myshift_bin(), "plan", "--target", _url(ep), "--desired", str(desired), "--check"]
    cmd += extra
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd)
    return r.returncode == 0, r.stdout + r.stderr


def plain_alters(ep: Endpoint, statements: Sequence[str] = PLAIN_ALTERS) -> tuple[int, str]:
    """Run ``statements`` one by one on one connection (a failing one raises)."""
    out: list[str] = []
    with connect(ep, lock_wait_timeout=None, read_timeout=None) as c:
        for stmt in statements:
            t0 = time.perf_counter()
            c.execute(stmt)
            out.append(f"{time.perf_counter() - t0:7.2f} s  {stmt.splitlines()[0]}")
    return 0, "\n".join(out)


def pt_osc(ep: Endpoint, timeout: float) -> tuple[int, str]:
    tool = shutil.which("pt-online-schema-change")
    if tool is None:
        return 127, "pt-online-schema-change not found (apt-get install percona-toolkit)"
    with connect(ep) as c:  # bodies first: pt-osc copies the trigger as it then is
        c.execute(TRIGGER.format(replace="OR REPLACE ", tag="v2"))
        c.execute(PROCEDURE.format(replace="OR REPLACE ", more=", MAX(created_at)"))
    return pt_osc_alter(ep, "orders", PTOSC_ALTER, timeout)


def pt_osc_alter(ep: Endpoint, table: str, alter: str, timeout: float) -> tuple[int, str]:
    """``pt-online-schema-change --alter ALTER --execute`` on ``table``, triggers preserved."""
    tool = shutil.which("pt-online-schema-change")
    if tool is None:
        return 127, "pt-online-schema-change not found (apt-get install percona-toolkit)"
    dsn = f"h={ep.host},P={ep.port},u={ep.user},D={ep.schema},t={table}"
    cmd = [
        tool,
        "--alter",
        alter,
        "--execute",
        "--preserve-triggers",
        "--recursion-method=none",
        "--no-check-alter",
        "--alter-foreign-keys-method=auto",
        dsn,
    ]
    env = dict(os.environ, PERL_LWP_SSL_VERIFY_HOSTNAME="0")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    return r.returncode, r.stdout + r.stderr


METHODS = ("myshift", "plain ALTER", "pt-osc")


def run_method(
    ep: Endpoint, method: str, rows: int, timeout: float = 1800, cwd: Path | None = None
) -> LiveResult:
    """Build the scenario afresh in ``ep.schema``, then apply the release one way, under load.

    ``cwd`` is where myshift runs (its myshift.toml, e.g. a lower online threshold)."""
    build(ep, rows)
    with tempfile.TemporaryDirectory() as tmp:
        desired = Path(tmp) / "desired.sql"
        desired.write_text(desired_sql())
        if method == "myshift":
            res = run_under_load(ep, method, lambda: myshift_apply(ep, desired, timeout, cwd), rows)
            res.replan_empty, out = myshift_replan_empty(ep, desired, timeout, cwd)
            if not res.replan_empty:
                res.output += "\n--- re-plan ---\n" + out
        elif method == "plain ALTER":
            res = run_under_load(ep, method, lambda: plain_alters(ep), rows)
        elif method == "pt-osc":
            if shutil.which("pt-online-schema-change") is None:
                return LiveResult(
                    method, rows, status="unavailable", note="percona-toolkit missing"
                )
            res = run_under_load(ep, method, lambda: pt_osc(ep, timeout), rows)
        else:
            raise ValueError(method)
    return res


def print_side_by_side(results: list[LiveResult]) -> None:
    hdr = (
        f"{'method':<12} {'rows':>9} {'status':<7} {'wall s':>7} {'max stall s':>11} "
        f"{'p99 ms':>8} {'writes':>7} {'untagged':>8}  errors"
    )
    print(hdr)
    print("-" * len(hdr))
    for r in results:
        print(
            f"{r.method:<12} {r.rows:>9,} {r.status:<7} {r.wall_s:>7.2f} {r.max_stall_s:>11.2f} "
            f"{r.p99_ms:>8.1f} {r.writes:>7} {r.untagged:>8}  {r.errors_text()}"
            + (f"  [{r.note}]" if r.note else "")
        )


def run_all(rows: int, methods: list[str]) -> list[LiveResult]:
    """A throwaway server; each method on its own freshly built schema, one after another."""
    srv = LocalServer.start()
    try:
        out = []
        for i, method in enumerate(methods):
            ep = Endpoint(srv.host, srv.port, "root", "", schema=f"live_{i}")
            t0 = time.perf_counter()
            res = run_method(ep, method, rows)
            print(
                f"live: {method} at {rows:,} rows done in {time.perf_counter() - t0:.0f} s "
                f"(exit {res.exit_code})",
                flush=True,
            )
            out.append(res)
        return out
    finally:
        srv.stop()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("-v", "--verbose", action="store_true", help="print each tool's output")
    a = ap.parse_args(argv)
    results = run_all(a.rows, [m.strip() for m in a.methods.split(",") if m.strip()])
    print_side_by_side(results)
    if a.verbose:
        for r in results:
            print(f"\n--- {r.method} ---\n{r.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
