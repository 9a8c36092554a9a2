"""Issue 9 item 4: the metadata-lock pre-check finds the real blockers, and only them.

Real client threads on 127.0.0.1 hold, or do not hold, the table; apply runs
through the CLI.  The row parsing of each server view is tested on its own
(MySQL's performance_schema shape included) and, for the performance_schema
path, on a MariaDB started with the MDL instrument on.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from clitools import run_cli
from myshift.db.connect import Conn, DriverError, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.exitcodes import ExitCode
from myshift.workflows.blockers import (
    SOURCE_NONE,
    SOURCE_PERFORMANCE_SCHEMA,
    blocking_transactions,
    mdl_source,
    parse_fallback,
    parse_holders,
    statement_touches,
    table_holders,
)

T = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, v INT NOT NULL)"
T_WITH_C = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, v INT NOT NULL, c INT NULL);"
OTHER = "CREATE TABLE other (id INT NOT NULL PRIMARY KEY);"


def url(ep: Endpoint) -> str:
    return f"mysql://{ep.user}@127.0.0.1:{ep.port}/{ep.schema}"


@pytest.fixture
def target(fresh_schema: Endpoint, admin: Conn) -> Iterator[tuple[Endpoint, str]]:
    """The target schema with `t` (1,000 rows) and `other`, plus a second schema."""
    side = fresh_schema.schema + "_app"
    admin.execute(f"CREATE DATABASE {quote_ident(side)}")
    with connect(fresh_schema) as c:
        c.execute(T)
        c.execute("INSERT INTO t SELECT seq, 0 FROM seq_1_to_1000")
        c.execute(OTHER.rstrip(";"))
    try:
        yield fresh_schema, side
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(side)}")


def plan_add_column(ep: Endpoint, tmp_path: Path) -> Path:
    desired = tmp_path / "d.sql"
    desired.write_text(T_WITH_C + OTHER)
    out = tmp_path / "p.json"
    r = run_cli("plan", "--to", url(ep), "--desired", str(desired), "-o", str(out), cwd=tmp_path)
    assert r.returncode in (0, ExitCode.CHANGES_PENDING), r.stderr
    return out


def apply_plan(ep: Endpoint, plan: Path, tmp_path: Path, wait: int = 2) -> tuple[int, str, float]:
    t0 = time.monotonic()
    r = run_cli(
        "apply", "--plan", str(plan), "--to", url(ep), "--yes",
        "--lock-wait-timeout", str(wait), cwd=tmp_path,
    )  # fmt: skip
    return r.returncode, r.stderr, time.monotonic() - t0


def has_column(c: Conn, ep: Endpoint, column: str) -> bool:
    return bool(
        c.scalar(
            "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = 't' AND COLUMN_NAME = %s",
            (ep.schema, column),
        )
    )


class Prober(threading.Thread):
    """The application: a SELECT on `t` every 50 ms, each on its own short session."""

    def __init__(self, ep: Endpoint) -> None:
        super().__init__(daemon=True)
        self.ep = ep
        self.stop = threading.Event()
        self.worst = 0.0
        self.count = 0

    def run(self) -> None:
        with connect(self.ep) as c:
            while not self.stop.is_set():
                t0 = time.monotonic()
                c.query("SELECT COUNT(*) FROM t WHERE id < 10")
                self.worst = max(self.worst, time.monotonic() - t0)
                self.count += 1
                time.sleep(0.05)


# --------------------------------------------------------------------------- parsing


def test_statement_touches_by_any_schema() -> None:
    assert statement_touches("SELECT * FROM `shop`.`t` WHERE 1", "other", "shop", "t")
    assert statement_touches("select * from shop . t", None, "shop", "t")
    assert statement_touches("SELECT SLEEP(9) FROM t", "shop", "shop", "t")
    assert statement_touches("UPDATE T SET v = 1", "shop", "shop", "t")
    assert not statement_touches("SELECT * FROM t", "other", "shop", "t")  # other.t
    assert not statement_touches("SELECT * FROM tt JOIN t_x", "shop", "shop", "t")
    assert not statement_touches("SELECT * FROM other.t", "shop", "shop", "t")
    assert not statement_touches(None, "shop", "shop", "t")


def test_parse_holders_mysql_performance_schema_rows() -> None:
    """SQL_PS_HOLDERS rows (no LOCK_TIME_MS) joined to MySQL processlist rows (no TIME_MS)."""
    locks = [
        {"THREAD_ID": 41, "LOCK_MODE": "SHARED_READ", "LOCK_DURATION": "TRANSACTION"},
        {"THREAD_ID": 42, "LOCK_MODE": "SHARED_WRITE", "LOCK_DURATION": "TRANSACTION"},
        {"THREAD_ID": 99, "LOCK_MODE": "SHARED_READ", "LOCK_DURATION": "STATEMENT"},  # gone
    ]
    threads = [
        {"ID": 41, "USER": "app", "HOST": "10.0.0.5:4711", "DB": "crm", "COMMAND": "Sleep",
         "TIME": 14, "INFO": None, "TRX_SECONDS": 15},
        {"ID": 42, "USER": "app", "HOST": "10.0.0.6:1234", "DB": "shop", "COMMAND": "Query",
         "TIME": 0, "INFO": "UPDATE t SET v = v + 1 WHERE id = 7", "TRX_SECONDS": 0},
    ]  # fmt: skip
    found = parse_holders(locks, threads)
    assert [b.thread_id for b in found] == [41, 42]
    old, young = found
    assert old.seconds == 14 and old.certain and old.lock_mode == "SHARED_READ"
    assert old.describe() == (
        "thread 41 (app@10.0.0.5:4711, db crm, idle in transaction for 14s, holds SHARED_READ)"
    )
    assert young.seconds == 0  # sub-second: ignored by the pre-check
    assert "running for 0.0s: UPDATE t SET v = v + 1" in young.describe()


def test_parse_holders_mariadb_lock_time_wins() -> None:
    locks = [{"THREAD_ID": 5, "LOCK_MODE": "MDL_SHARED_READ", "LOCK_TIME_MS": 2500}]
    threads = [
        {"ID": 5, "USER": "u", "HOST": "h", "DB": None, "COMMAND": "Sleep", "TIME": 0,
         "TIME_MS": 30.0, "INFO": None, "TRX_SECONDS": 3},
    ]  # fmt: skip
    (b,) = parse_holders(locks, threads)
    assert b.seconds == 2.5 and "db (none), idle in transaction for 2s" in b.describe()


def test_parse_fallback_names_statements_on_the_table_and_keeps_other_transactions_as_maybe() -> (
    None
):
    rows = [
        {"ID": 1, "USER": "a", "HOST": "h", "DB": "crm", "COMMAND": "Query", "TIME": 9,
         "INFO": "SELECT SLEEP(60) FROM shop.t", "TRX_SECONDS": None},
        {"ID": 2, "USER": "a", "HOST": "h", "DB": "shop", "COMMAND": "Sleep", "TIME": 30,
         "INFO": None, "TRX_SECONDS": 31},
        {"ID": 3, "USER": "a", "HOST": "h", "DB": "shop", "COMMAND": "Query", "TIME": 5,
         "INFO": "SELECT * FROM other", "TRX_SECONDS": None},
    ]  # fmt: skip
    found = parse_fallback(rows, "shop", "t")
    assert [(b.thread_id, b.certain) for b in found] == [(1, True), (2, False)]


# --------------------------------------------------------------------------- real sessions


def test_idle_transaction_from_another_schema_is_named_and_traffic_does_not_queue(
    target: tuple[Endpoint, str], tmp_path: Path
) -> None:
    """(a) and (d): the blocker read `t` from another default schema; an older transaction
    that read only `other`, from the target's own schema, is not named."""
    ep, side = target
    plan = plan_add_column(ep, tmp_path)
    unrelated = connect(ep)
    unrelated.execute("START TRANSACTION")
    unrelated.query("SELECT COUNT(*) FROM other")
    blocker = connect(replace(ep, schema=side))
    blocker.execute("START TRANSACTION")
    blocker.query(f"SELECT COUNT(*) FROM {quote_ident(ep.schema)}.t")
    time.sleep(1.2)
    app = Prober(ep)
    app.start()
    try:
        code, err, took = apply_plan(ep, plan, tmp_path, wait=2)
    finally:
        app.stop.set()
        app.join()
    assert code == ExitCode.LOCKED, err
    assert f"thread {blocker.thread_id()} " in err and f"db {side}" in err
    assert "idle in transaction" in err and f"KILL {blocker.thread_id()}" in err
    assert f"thread {unrelated.thread_id()} " not in err
    assert "without sending the statement" in err
    # The ALTER was never sent, so the application's reads never queued behind it.
    assert app.count > 10 and app.worst < 2, (app.count, app.worst)
    with connect(ep) as c:
        assert not has_column(c, ep, "c")
    print(f"\nblocked apply took {took:.1f}s; app SELECTs: {app.count}, worst {app.worst:.3f}s")

    blocker.execute("ROLLBACK")
    blocker.close()
    # The transaction on `other` is still open: it does not hold `t`, and apply goes on.
    code, err, _ = apply_plan(ep, plan, tmp_path, wait=2)
    assert code == 0, err
    unrelated.execute("ROLLBACK")
    unrelated.close()
    with connect(ep) as c:
        assert has_column(c, ep, "c")


def test_a_transaction_on_another_table_is_not_a_blocker(target: tuple[Endpoint, str]) -> None:
    """(d) at the source: asked about `t`, the one holding only `other` is not there."""
    ep, side = target
    holder = connect(replace(ep, schema=side))
    holder.execute("START TRANSACTION")
    holder.query(f"SELECT COUNT(*) FROM {quote_ident(ep.schema)}.other")
    time.sleep(1.1)
    try:
        with connect(ep) as c:
            assert blocking_transactions(c, ep.schema, "t") == []
            (b,) = blocking_transactions(c, ep.schema, "other")
            assert b.thread_id == holder.thread_id() and b.db == side and b.seconds >= 1
            # Without an MDL view it is only a "maybe", never a certain holder of `t`.
            maybe = table_holders(c, ep.schema, "t", source=SOURCE_NONE)
            assert [(m.thread_id, m.certain) for m in maybe] == [(holder.thread_id(), False)]
    finally:
        holder.close()


def test_long_autocommit_select_is_detected_and_named(
    target: tuple[Endpoint, str], tmp_path: Path
) -> None:
    """(b): no transaction at all -- a slow SELECT on `t` from another default schema."""
    ep, side = target
    plan = plan_add_column(ep, tmp_path)
    slow = connect(replace(ep, schema=side))
    tid = slow.thread_id()
    sql = f"SELECT SLEEP(20) FROM {quote_ident(ep.schema)}.t LIMIT 1"
    runner = threading.Thread(target=_quiet, args=(slow, sql), daemon=True)  # killed below
    runner.start()
    time.sleep(1.2)
    try:
        with connect(ep) as c:
            # Seen both through the MDL view and, without one, from its text.
            for source in (None, SOURCE_NONE):
                found = table_holders(c, ep.schema, "t", source=source)
                assert [b.thread_id for b in found if b.certain] == [tid], source
        code, err, _ = apply_plan(ep, plan, tmp_path, wait=2)
        assert code == ExitCode.LOCKED, err
        assert f"thread {tid} " in err and "running for" in err and "SLEEP(20)" in err
    finally:
        with connect(ep) as k:
            k.execute(f"KILL QUERY {tid}")
        runner.join()
        slow.close()
    with connect(ep) as c:
        assert not has_column(c, ep, "c")


def _quiet(conn: Conn, sql: str) -> None:
    with contextlib.suppress(Exception):
        conn.query(sql)


class Load:
    """Short transactions on `t` from ``threads`` sessions in the target's schema, paced to
    ``tps`` in total: read a row, think ``think`` seconds (the application's work), update
    it, commit -- so a few transactions are open at any instant, each for milliseconds."""

    def __init__(self, ep: Endpoint, tps: int = 1000, threads: int = 8, think: float = 0.005):
        self.ep = ep
        self.think = think
        self.period = threads / tps
        self.stop = threading.Event()
        self.done = [0] * threads
        self.worst = [0.0] * threads
        self.errors: list[str] = []
        self.deadlocks = 0
        self.threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)
        ]

    def _run(self, i: int) -> None:
        c = connect(self.ep)
        c.raw.autocommit(False)
        nxt = time.monotonic()
        k = i
        try:
            with c.raw.cursor() as cur:
                while not self.stop.is_set():
                    t0 = time.monotonic()
                    k = (k + 7) % 1000 + 1
                    try:
                        cur.execute("SELECT v FROM t WHERE id = %s", (k,))
                        cur.fetchall()
                        time.sleep(self.think)
                        cur.execute("UPDATE t SET v = v + 1 WHERE id = %s", (k,))
                        c.raw.commit()
                    except DriverError as exc:
                        # A read-then-write transaction caught between its two statements
                        # by the ALTER's lock upgrade is the server's deadlock victim;
                        # applications retry those.
                        if exc.args[0] != 1213:
                            raise
                        c.raw.rollback()
                        self.deadlocks += 1
                        continue
                    self.done[i] += 1
                    self.worst[i] = max(self.worst[i], time.monotonic() - t0)
                    nxt += self.period
                    pause = nxt - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    else:
                        nxt = time.monotonic()
        except Exception as exc:  # reported by the test
            self.errors.append(repr(exc))
        finally:
            c.close()

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=10)


def test_1000_tps_of_short_transactions_do_not_make_apply_refuse(
    target: tuple[Endpoint, str], tmp_path: Path
) -> None:
    """(c): no real blocker, only a steady stream of millisecond transactions on `t`."""
    ep, _ = target
    plan = plan_add_column(ep, tmp_path)
    with Load(ep, tps=1000, threads=16) as load:
        time.sleep(1.0)
        warm = sum(load.done)
        time.sleep(1.0)
        alone = sum(load.done) - warm
        before, t0 = sum(load.done), time.monotonic()
        code, err, took = apply_plan(ep, plan, tmp_path, wait=5)
        during = (sum(load.done) - before) / (time.monotonic() - t0)
        time.sleep(0.5)
    assert not load.errors, (len(load.errors), load.errors[:3])
    print(
        f"\nload alone: {alone} tps; during apply: {during:.0f} tps over {took:.1f}s; "
        f"worst transaction {max(load.worst) * 1000:.0f} ms; {load.deadlocks} deadlock victim(s)"
    )
    assert code == 0, err
    assert during >= 600, f"the load reached only {during:.0f} tps on this machine"
    with connect(ep) as c:
        assert has_column(c, ep, "c")


# --------------------------------------------------------------------------- performance_schema


def test_performance_schema_path_on_a_server_that_has_it() -> None:
    """The performance_schema.metadata_locks query, run for real (MariaDB has the MySQL table)."""
    srv = LocalServer.start(
        extra_args=(
            "--performance-schema=ON",
            "--performance-schema-instrument=wait/lock/metadata/sql/mdl=ON",
        ),
        server_id=21,
    )
    try:
        ep = Endpoint(port=srv.port, password="", schema="shop")
        with connect(replace(ep, schema="")) as a:
            a.execute("CREATE DATABASE shop")
            a.execute("CREATE DATABASE crm")
            a.execute("CREATE TABLE shop.t (id INT PRIMARY KEY)")
        holder = connect(replace(ep, schema="crm"))
        holder.execute("START TRANSACTION")
        holder.query("SELECT * FROM shop.t")
        time.sleep(1.1)
        with connect(ep) as c:
            found = table_holders(c, "shop", "t", source=SOURCE_PERFORMANCE_SCHEMA)
            assert [(b.thread_id, b.lock_mode, b.db) for b in found] == [
                (holder.thread_id(), "SHARED_READ", "crm")
            ]
            assert found[0].seconds >= 1  # from the transaction's age: no lock time here
            assert table_holders(c, "shop", "nope", source=SOURCE_PERFORMANCE_SCHEMA) == []
        holder.close()
    finally:
        srv.stop()


def test_the_mdl_view_is_loaded_when_the_user_may(server: LocalServer) -> None:
    with connect(Endpoint(port=server.port, password="")) as c:
        assert mdl_source(c) == "metadata_lock_info"
