"""Column backups under load: chunked, lock-free on the table, verified per chunk."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest

from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.workflows.keepdata import backup, backup_columns
from myshift.workflows.keepdata.sql import key_range_sql

ROWS = 200_000


@pytest.fixture
def holding(conn: Conn, fresh_schema: Endpoint) -> Iterator[str]:
    name = f"{fresh_schema.schema}_trash"
    try:
        yield name
    finally:
        conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")


def _lock_waits(conn: Conn) -> int:
    return int(conn.query("SHOW GLOBAL STATUS LIKE 'Innodb_row_lock_waits'")[0][1])


def test_a_writer_never_waits_on_the_backup_of_200k_rows(
    conn: Conn, fresh_schema: Endpoint, holding: str
) -> None:
    """Before: INSERT ... SELECT at REPEATABLE READ plus a LOCK IN SHARE MODE
    checksum held S locks on every row until the end (804 ms of blocked
    writes on 200k rows).  Now no update waits for a row lock at all."""
    conn.execute(
        "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(40)) ENGINE=InnoDB"
    )
    conn.execute(f"INSERT INTO t SELECT seq, seq, CONCAT('n', seq) FROM seq_1_to_{ROWS}")
    stop = threading.Event()
    started = threading.Event()
    latencies: list[float] = []

    def writer() -> None:
        rnd = random.Random(7)
        with connect(fresh_schema) as w:
            w.execute("SET SESSION innodb_lock_wait_timeout = 10")
            while not stop.is_set():
                t0 = time.perf_counter()
                w.execute("UPDATE t SET v = v + 1 WHERE id = %s", (rnd.randint(1, ROWS),))
                latencies.append(time.perf_counter() - t0)
                started.set()
                time.sleep(0.002)

    th = threading.Thread(target=writer)
    th.start()
    try:
        assert started.wait(10)
        waits_before = _lock_waits(conn)
        t0 = time.perf_counter()
        held = backup_columns(conn, fresh_schema.schema, "t", ["note"], 5, holding)
        took = time.perf_counter() - t0
        waits = _lock_waits(conn) - waits_before
    finally:
        stop.set()
        th.join()
    assert held.row_count == ROWS
    print(f"backup {took:.2f} s, {len(latencies)} updates, {waits} lock waits")
    assert waits == 0, f"{waits} row lock waits during the backup ({took:.2f} s)"
    assert max(latencies) < 0.2, f"slowest update {max(latencies) * 1000:.0f} ms"
    assert len(latencies) > 50, f"the writer ran only {len(latencies)} updates in {took:.2f} s"


def test_composite_keys_chunk_in_key_order_and_report_progress(
    conn: Conn, fresh_schema: Endpoint, holding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "CHUNK_ROWS", 100)
    conn.execute(
        "CREATE TABLE c (a INT NOT NULL, b VARCHAR(10) NOT NULL, v TEXT, PRIMARY KEY (a, b))"
    )
    conn.execute(
        "INSERT INTO c SELECT seq DIV 7, CONCAT('k', seq MOD 7), "
        "IF(seq MOD 5 = 0, NULL, CONCAT('v', seq)) FROM seq_1_to_1234"
    )
    conn.execute("ANALYZE TABLE c")
    seen: list[tuple[float, str]] = []
    held = backup_columns(
        conn,
        fresh_schema.schema,
        "c",
        ["v"],
        9,
        holding,
        on_progress=lambda p, d: seen.append((p, d)),
    )
    assert held.row_count == 1234
    copy = f"{quote_ident(holding)}.{quote_ident(held.held_name)}"
    assert conn.query(f"SELECT COUNT(*), SUM(v IS NULL) FROM {copy}") == conn.query(
        "SELECT COUNT(*), SUM(v IS NULL) FROM c"
    )
    mismatched = conn.scalar(
        f"SELECT COUNT(*) FROM c LEFT JOIN {copy} AS k ON k.a = c.a AND k.b = c.b "
        "WHERE NOT (k.v <=> c.v)"
    )
    assert mismatched == 0
    assert len(seen) == 13  # 12 full chunks of 100 and the last of 34
    assert [p for p, _ in seen] == sorted(p for p, _ in seen)
    assert seen[-1][0] == 100.0 and "1,234 of ~1,234 rows" in seen[-1][1]


def test_a_chunk_changed_after_its_copy_is_copied_again(
    conn: Conn, fresh_schema: Endpoint, holding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-check pass before the destructive statement picks up late changes."""
    monkeypatch.setattr(backup, "CHUNK_ROWS", 100)
    conn.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))")
    conn.execute("INSERT INTO t SELECT seq, CONCAT('old', seq) FROM seq_1_to_500")
    other = connect(fresh_schema)

    def app_writes(percent: float, detail: str) -> None:
        # Chunk 1 (ids 1..100) is copied and verified by now: change it behind our back.
        other.execute("UPDATE t SET v = 'changed' WHERE id = 3")
        other.execute("DELETE FROM t WHERE id = 4")

    try:
        held = backup_columns(
            conn, fresh_schema.schema, "t", ["v"], 2, holding, on_progress=app_writes
        )
    finally:
        other.close()
    copy = f"{quote_ident(holding)}.{quote_ident(held.held_name)}"
    assert conn.scalar(f"SELECT v FROM {copy} WHERE id = 3") == "changed"
    assert conn.scalar(f"SELECT COUNT(*) FROM {copy} WHERE id = 4") == 0
    assert held.row_count == 499


def test_key_ranges_spell_lexicographic_bounds() -> None:
    where, args = key_range_sql("s", ["a", "b"], (1, "x"), (5, "y"))
    assert where == (
        "(s.`a` > %s OR (s.`a` = %s AND (s.`b` > %s))) AND "
        "(s.`a` < %s OR (s.`a` = %s AND (s.`b` <= %s)))"
    )
    assert args == [1, 1, "x", 5, 5, "y"]
    assert key_range_sql("s", ["id"], None, None) == ("1", [])
    assert key_range_sql("s", ["id"], None, (9,)) == ("(s.`id` <= %s)", [9])


def test_statement_binlog_copies_in_row_format_for_the_backup() -> None:
    """READ COMMITTED INSERT ... SELECT cannot be logged as a statement (errno 1665):
    the copy's session switches to ROW format, and back."""
    srv = LocalServer.start(extra_args=("--log-bin=mysql-bin", "--binlog-format=STATEMENT"))
    try:
        ep = Endpoint(srv.host, srv.port, "root", "", schema="s")
        with connect(ep, schema="") as c:
            c.execute("CREATE DATABASE s")
            c.execute("USE s")
            c.execute("CREATE TABLE s.t (id INT PRIMARY KEY, v VARCHAR(20))")
            c.execute("INSERT INTO s.t SELECT seq, CONCAT('v', seq) FROM seq_1_to_12000")
            held = backup_columns(c, "s", "t", ["v"], 1, "s_trash")
            assert held.row_count == 12000
            assert c.scalar("SELECT @@SESSION.binlog_format") == "STATEMENT"
    finally:
        srv.stop()
