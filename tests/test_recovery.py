"""Issue 9 item 3: recovery paths that must not strand data, through the real CLI.

A statement is held on the server -- as a killed myshift would leave it --
with MariaDB's ``BACKUP STAGE BLOCK_DDL`` (what a running backup does): the
ALTER waits on the server, tagged and visible in the processlist, until the
backup stage ends, whatever happens to the myshift process that sent it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from clitools import MYSHIFT, run_cli
from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer, _which
from myshift.exitcodes import ExitCode
from myshift.workflows.blockers import mdl_source
from myshift.workflows.history import History

ORDERS = """CREATE TABLE orders (
  id INT NOT NULL PRIMARY KEY,
  customer VARCHAR(40) NOT NULL,
  note TEXT NULL DEFAULT NULL
)"""
AUDIT = "CREATE TABLE audit_log (id INT NOT NULL PRIMARY KEY, msg VARCHAR(100) NOT NULL)"
ORDERS_NO_NOTE = """CREATE TABLE orders (
  id INT NOT NULL PRIMARY KEY,
  customer VARCHAR(40) NOT NULL
);
"""


# These tests hold and kill ALTERs the server runs: keep them off the online path
# (workflows.online), whatever the size of their tables.
SERVER_ALTERS = "[online]\nmin_rows = 1000000000\nmin_bytes = 1000000000000\n"


@pytest.fixture(autouse=True)
def _server_alters(tmp_path: Path) -> None:
    (tmp_path / "myshift.toml").write_text(SERVER_ALTERS)


def url(ep: Endpoint) -> str:
    return f"mysql://{ep.user}@127.0.0.1:{ep.port}/{ep.schema}"


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, env=env)


def wait_for(what: Callable[[], Any], timeout: float = 30, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(step)
    raise AssertionError("timed out waiting")


def tagged(admin: Conn, schema: str) -> list[tuple[int, str, str]]:
    """(thread id, statement, state) of myshift statements running on ``schema``."""
    return [
        (int(r[0]), str(r[1]), str(r[2]))
        for r in admin.query(
            "SELECT ID, INFO, STATE FROM information_schema.PROCESSLIST "
            "WHERE INFO LIKE '/* myshift %%' AND DB = %s",
            (schema,),
        )
    ]


class DDLHold:
    """``BACKUP STAGE BLOCK_DDL`` on its own session: DDL waits, DML goes on."""

    def __init__(self, ep: Endpoint) -> None:
        self.conn = connect(replace(ep, schema=""))
        self.conn.execute("BACKUP STAGE START")
        self.conn.execute("BACKUP STAGE BLOCK_DDL")

    def release(self) -> None:
        self.conn.execute("BACKUP STAGE END")
        self.conn.close()


def prepare(ep: Endpoint) -> None:
    """What an earlier apply would have done: history tables there, MDL view loaded."""
    with History.open(ep, audit_path=None) as h:
        h.ensure()
    with connect(ep) as c:
        mdl_source(c)


def plan_file(ep: Endpoint, tmp_path: Path, name: str, sql: str, *extra: str) -> Path:
    desired = tmp_path / f"{name}.sql"
    desired.write_text(sql)
    out = tmp_path / f"{name}.json"
    r = cli(
        "plan", "--to", url(ep), "--desired", str(desired), "-o", str(out), *extra, cwd=tmp_path
    )
    assert r.returncode in (0, ExitCode.CHANGES_PENDING), r.stderr
    return out


def start_apply(ep: Endpoint, plan: Path, tmp_path: Path, wait: int = 60) -> subprocess.Popen[str]:
    timeout = ["--lock-wait-timeout", str(wait)]
    return subprocess.Popen(
        [*MYSHIFT, "apply", "--plan", str(plan), "--to", url(ep), "--yes", *timeout],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "MYSQL_PWD"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def column_type(c: Conn, schema: str, table: str, column: str) -> str | None:
    found: str | None = c.scalar(
        "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
        "AND TABLE_NAME = %s AND COLUMN_NAME = %s",
        (schema, table, column),
    )
    return found


def latest(ep: Endpoint) -> Any:
    with History.open(ep, audit_path=None) as h:
        rec = h.latest_apply(ep.schema)
        assert rec is not None
        return h.get_apply(rec.id)


# --------------------------------------------------------------------------- kill -9


T = "CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(40))"


def slow_column(repeat: int) -> str:
    """A stored generated column: adding it copies every row, hashing ~``repeat`` * 32 bytes
    each -- an ALTER that really runs (100,000 rows, repeat 300: ~6 s here)."""
    return f"h CHAR(128) AS (SHA2(REPEAT(b, {repeat}), 512)) PERSISTENT"


def seed_t(c: Conn, rows: int = 100_000) -> None:
    c.execute(T)
    c.execute(f"INSERT INTO t SELECT seq, seq, MD5(seq) FROM seq_1_to_{rows}")


def kill_9_mid_statement(ep: Endpoint, admin: Conn, plan: Path, tmp_path: Path) -> tuple[int, str]:
    """Start ``apply --plan`` and kill -9 it while its statement runs; (thread, statement)."""
    proc = start_apply(ep, plan, tmp_path)
    zombie = wait_for(lambda: [z for z in tagged(admin, ep.schema) if "copy" in z[2].lower()])[0]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return zombie[0], zombie[1]


def test_kill_9_mid_alter_keeps_the_lock_and_a_second_apply_refuses_naming_the_thread(
    fresh_schema: Endpoint, admin: Conn, tmp_path: Path
) -> None:
    ep = fresh_schema
    c = connect(ep)
    seed_t(c)
    c.execute("CREATE TABLE u (id INT PRIMARY KEY)")
    prepare(ep)
    u = "CREATE TABLE u (id INT PRIMARY KEY);"
    first = plan_file(ep, tmp_path, "first", T[:-1] + f", {slow_column(900)});" + u)
    second = plan_file(ep, tmp_path, "second", T + ";" + u.replace("KEY)", "KEY, v INT)"))
    zombie, statement = kill_9_mid_statement(ep, admin, first, tmp_path)
    assert "ALTER TABLE" in statement and "myshift apply" in statement
    try:
        time.sleep(0.5)
        # The process is gone; the server still runs its ALTER, which keeps the lock.
        assert [z[0] for z in tagged(admin, ep.schema)] == [zombie]
        t0 = time.monotonic()
        r = cli(
            "apply", "--plan", str(second), "--to", url(ep), "--yes",
            "--lock-wait-timeout", "2", cwd=tmp_path,
        )  # fmt: skip
        waited = time.monotonic() - t0
        assert r.returncode == ExitCode.LOCKED, r.stderr
        assert f"connection id {zombie}" in r.stderr
        assert "ALTER TABLE" in r.stderr and "still running" in r.stderr
        assert f"KILL {zombie}" in r.stderr
        assert [z[0] for z in tagged(admin, ep.schema)] == [zombie]  # it was still running
        assert column_type(c, ep.schema, "u", "v") is None  # nothing of the second ran
        assert waited < 2 + 10
    finally:
        with contextlib.suppress(Exception):
            admin.execute(f"KILL QUERY {zombie}")  # shorten the test: the DBA stops it
    wait_for(lambda: not tagged(admin, ep.schema))
    third = tmp_path / "third.sql"
    third.write_text(T + ";" + u.replace("KEY)", "KEY, v INT)"))
    r = cli("apply", "--to", url(ep), "--desired", str(third), "--yes", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "never finished; marked interrupted" in r.stderr
    assert column_type(c, ep.schema, "u", "v") == "int(11)"
    c.close()


def test_rollback_without_id_after_a_killed_apply_names_it_and_rolls_back_what_ran(
    fresh_schema: Endpoint, admin: Conn, tmp_path: Path
) -> None:
    ep = fresh_schema
    c = connect(ep)
    seed_t(c)
    first = tmp_path / "first.sql"
    first.write_text(T + ";CREATE TABLE x (id INT PRIMARY KEY);")
    r = cli("apply", "--to", url(ep), "--desired", str(first), "--yes", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    first_id = latest(ep).record.id
    x = "CREATE TABLE x (id INT PRIMARY KEY);"
    killed = plan_file(ep, tmp_path, "killed", T[:-1] + f", {slow_column(400)});" + x)
    zombie, _ = kill_9_mid_statement(ep, admin, killed, tmp_path)
    killed_id = latest(ep).record.id
    assert killed_id > first_id and latest(ep).record.outcome == "running"

    # Without an id: refused, naming the killed apply -- not the one before it.
    r = cli("rollback", "--to", url(ep), "--yes", cwd=tmp_path)
    assert r.returncode == ExitCode.USAGE, r.stderr
    assert f"#{killed_id}" in r.stderr and f"myshift rollback {killed_id}" in r.stderr
    assert c.scalar(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s AND TABLE_NAME='x'",
        (ep.schema,),
    )
    # By id while its ALTER still runs on the server: refused, naming the thread.
    r = cli("rollback", str(killed_id), "--to", url(ep), "--yes", cwd=tmp_path)
    if tagged(admin, ep.schema):
        assert r.returncode == ExitCode.USAGE, r.stderr
        assert f"connection {zombie} holds its lock" in r.stderr
    wait_for(lambda: not tagged(admin, ep.schema), timeout=120)
    # The killed process's statement did complete on the server after all.
    assert column_type(c, ep.schema, "t", "h") == "char(128)"
    r = cli("rollback", str(killed_id), "--to", url(ep), "--yes", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"Rolled back apply #{killed_id}" in r.stdout
    assert column_type(c, ep.schema, "t", "h") is None
    assert c.scalar("SELECT COUNT(*) FROM t") == 100_000
    with History.open(ep, audit_path=None) as h:
        assert h.get_apply(killed_id).record.outcome == "interrupted"
        assert h.get_apply(first_id).record.outcome == "ok"
    # The first apply is untouched and is now the next one to roll back.
    r = cli("rollback", "--to", url(ep), "--plan-only", "--format", "sql", cwd=tmp_path)
    assert r.returncode in (0, ExitCode.CHANGES_PENDING), r.stderr
    assert f"rollback of apply #{first_id}" in r.stdout
    c.close()


def test_a_killed_apply_whose_statement_never_ran_is_closed_out_by_its_rollback(
    fresh_schema: Endpoint, admin: Conn, tmp_path: Path
) -> None:
    ep = fresh_schema
    c = connect(ep)
    c.execute("CREATE TABLE t (id INT PRIMARY KEY, a INT)")
    prepare(ep)
    killed = plan_file(ep, tmp_path, "k", "CREATE TABLE t (id INT PRIMARY KEY, a BIGINT);")
    hold = DDLHold(ep)
    try:
        proc = start_apply(ep, killed, tmp_path)
        zombie = wait_for(lambda: tagged(admin, ep.schema))[0][0]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # Waiting on a lock, the server notices its client is gone and stops the
        # ALTER itself; if not yet, the DBA does: either way it never happens.
        with contextlib.suppress(Exception):
            admin.execute(f"KILL {zombie}")
    finally:
        hold.release()
    wait_for(lambda: not tagged(admin, ep.schema))
    killed_id = latest(ep).record.id
    r = cli("rollback", str(killed_id), "--to", url(ep), "--yes", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "nothing to undo" in r.stdout and "recorded as rolled back" in r.stdout
    # It no longer stands in the way of a rollback without an id.
    r = cli("rollback", "--to", url(ep), "--yes", cwd=tmp_path)
    assert f"#{killed_id}" not in r.stderr, r.stderr
    c.close()


# --------------------------------------------------------------------------- failed rollbacks


def seed_orders(c: Conn, rows: int = 20_000) -> None:
    c.execute(ORDERS)
    c.execute(
        "INSERT INTO orders SELECT seq, CONCAT('cust-', seq % 97), "
        f"IF(seq % 7 = 0, NULL, REPEAT(CHAR(65 + seq % 26), seq % 30)) FROM seq_1_to_{rows}"
    )
    c.execute(AUDIT)
    c.execute("INSERT INTO audit_log SELECT seq, CONCAT('event ', seq) FROM seq_1_to_500")


def data_hash(c: Conn) -> tuple[str, str]:
    c.execute("SET SESSION group_concat_max_len = 1073741824")
    orders = c.scalar(
        "SELECT SHA2(GROUP_CONCAT(CONCAT_WS('#', id, customer, COALESCE(note, ''), ISNULL(note)) "
        "ORDER BY id SEPARATOR '\\n'), 256) FROM orders"
    )
    audit = c.scalar(
        "SELECT SHA2(GROUP_CONCAT(CONCAT_WS('#', id, msg) ORDER BY id SEPARATOR '\\n'), 256) "
        "FROM audit_log"
    )
    return str(orders), str(audit)


def test_a_rollback_stopped_by_a_lock_wait_does_not_block_rolling_back_again(
    fresh_schema: Endpoint, tmp_path: Path
) -> None:
    ep = fresh_schema
    c = connect(ep)
    seed_orders(c)
    before = data_hash(c)
    desired = tmp_path / "d.sql"
    desired.write_text(ORDERS_NO_NOTE)
    r = cli(
        "apply", "--to", url(ep), "--desired", str(desired), "--allow-drop", "--keep-data",
        "--yes", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    apply_id = latest(ep).record.id
    # An idle transaction, from another default schema, holds `orders`.
    blocker = connect(replace(ep, schema="mysql"))
    blocker.execute("START TRANSACTION")
    blocker.query(f"SELECT COUNT(*) FROM {quote_ident(ep.schema)}.orders")
    time.sleep(1.2)
    try:
        r = cli("rollback", "--to", url(ep), "--yes", "--lock-wait-timeout", "2", cwd=tmp_path)
        assert r.returncode == ExitCode.LOCKED, r.stderr
        assert f"thread {blocker.thread_id()}" in r.stderr
        # The next step is this rollback again, not a new plan.
        assert f"run `myshift rollback {apply_id} --to {url(ep)}` again" in r.stderr, r.stderr
        assert "re-plan" not in r.stderr
        failed = latest(ep)
        assert failed.record.kind == "rollback" and failed.record.outcome == "failed"
        assert failed.record.undoes_apply_id == apply_id
        # It restored the dropped table (statement 1), then stopped before the ALTER.
        assert failed.record.statements_ok == 1
        assert c.scalar("SELECT COUNT(*) FROM audit_log") == 500
        # Rolling back the failed rollback points at the apply.
        r = cli("rollback", str(failed.record.id), "--to", url(ep), "--yes", cwd=tmp_path)
        assert r.returncode == ExitCode.USAGE
        assert f"myshift rollback {apply_id}" in r.stderr
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    r = cli("rollback", "--to", url(ep), "--yes", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"Rolled back apply #{apply_id}" in r.stdout
    assert data_hash(c) == before
    c.close()


@pytest.fixture
def limited(fresh_schema: Endpoint, admin: Conn) -> Iterator[Endpoint]:
    """A user with ALL on the schema and the history, but only SELECT on the trash."""
    user = f"lim_{fresh_schema.schema}"[:32]
    admin.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw-lim'")
    admin.execute(f"GRANT ALL ON {quote_ident(fresh_schema.schema)}.* TO '{user}'@'%'")
    admin.execute(f"GRANT ALL ON `_myshift`.* TO '{user}'@'%'")
    admin.execute(f"GRANT SELECT ON `_myshift_trash`.* TO '{user}'@'%'")
    admin.execute(f"GRANT PROCESS ON *.* TO '{user}'@'%'")
    # plan verifies the reverse plan in temporary workspace schemas
    admin.execute(f"GRANT ALL ON `\\_myshift\\_ws\\_%`.* TO '{user}'@'%'")
    try:
        yield replace(fresh_schema, user=user, password="pw-lim")
    finally:
        admin.execute(f"DROP USER IF EXISTS '{user}'@'%'")


def test_a_rollback_refused_for_a_missing_privilege_can_be_run_again(
    fresh_schema: Endpoint, limited: Endpoint, admin: Conn, tmp_path: Path
) -> None:
    ep = fresh_schema
    c = connect(ep)
    seed_orders(c)
    before = data_hash(c)
    desired = tmp_path / "d.sql"
    desired.write_text(ORDERS_NO_NOTE)
    r = cli(
        "apply", "--to", url(ep), "--desired", str(desired), "--allow-drop", "--keep-data",
        "--yes", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    apply_id = latest(ep).record.id
    pwd = {"MYSQL_PWD": "pw-lim"}
    r = cli("rollback", "--to", url(limited), "--yes", cwd=tmp_path, env=pwd)
    assert r.returncode != 0, r.stdout
    assert "Traceback" not in r.stderr
    failed = latest(ep).record
    assert failed.kind == "rollback" and failed.outcome == "failed"
    assert failed.statements_ok == 0  # the restore was refused; nothing changed
    assert (
        c.scalar(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s "
            "AND TABLE_NAME='audit_log'",
            (ep.schema,),
        )
        == 0
    )
    admin.execute(f"GRANT ALL ON `_myshift_trash`.* TO '{limited.user}'@'%'")
    r = cli("rollback", "--to", url(limited), "--yes", cwd=tmp_path, env=pwd)
    assert r.returncode == 0, r.stderr
    assert f"Rolled back apply #{apply_id}" in r.stdout
    assert data_hash(c) == before
    c.close()


# --------------------------------------------------------------------------- lost sessions


def test_a_killed_ddl_session_marks_the_apply_interrupted_with_the_reason(
    fresh_schema: Endpoint, admin: Conn, tmp_path: Path
) -> None:
    ep = fresh_schema
    c = connect(ep)
    c.execute("CREATE TABLE t (id INT PRIMARY KEY, a INT)")
    prepare(ep)
    plan = plan_file(ep, tmp_path, "p", "CREATE TABLE t (id INT PRIMARY KEY, a BIGINT);")
    hold = DDLHold(ep)
    try:
        proc = start_apply(ep, plan, tmp_path)
        ddl = wait_for(lambda: tagged(admin, ep.schema))[0][0]
        admin.execute(f"KILL CONNECTION {ddl}")
        _, err = proc.communicate(timeout=60)
    finally:
        hold.release()
    assert proc.returncode == ExitCode.APPLY_FAILED, err
    assert f"Lost connection to server at 127.0.0.1:{ep.port} while running statement 1 of 1" in (
        err
    )
    # The statement's subject and clause, not its SQL cut at a length.
    assert "on 't' (alter table t: modify column a int" in err, err
    assert "bigint(20)): Lost connection" in err or "bigint): Lost connection" in err, err
    assert "Statement: ALTER" not in err
    assert "Grant" not in err and "Traceback" not in err
    # Recorded at once (the history session is fine): interrupted, statement left running.
    detail = latest(ep)
    assert detail.record.outcome == "interrupted"
    assert "Lost connection" in (detail.record.error or "")
    assert detail.statements[0].outcome == "running"
    c.close()


def test_a_dead_server_mid_apply_gives_the_real_reason_and_the_next_run_marks_it(
    tmp_path: Path,
) -> None:
    srv = LocalServer.start(server_id=9)
    try:
        ep = Endpoint(port=srv.port, password="", schema="shop")
        with connect(replace(ep, schema="")) as a:
            a.execute("CREATE DATABASE shop")
            a.execute("CREATE TABLE shop.t (id INT PRIMARY KEY, a INT)")
        prepare(ep)
        plan = plan_file(ep, tmp_path, "p", "CREATE TABLE t (id INT PRIMARY KEY, a BIGINT);")
        hold = DDLHold(ep)
        proc = start_apply(ep, plan, tmp_path)
        with connect(replace(ep, schema="")) as a:
            wait_for(lambda: tagged(a, "shop"))
        srv._kill()
        hold.conn.close()
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == ExitCode.APPLY_FAILED, err
        assert f"Lost connection to server at 127.0.0.1:{srv.port} while running statement 1" in err
        assert "could not record this" in err and "marks apply" in err
        assert ": ." not in err and "Grant" not in err and "Traceback" not in err

        mariadbd = _which("mariadbd", "mysqld")
        assert mariadbd is not None
        srv._spawn(mariadbd, srv.basedir / "data")
        srv._wait_ready(60)
        assert latest(ep).record.outcome == "running"  # the server was gone: nothing recorded
        desired = tmp_path / "again.sql"
        desired.write_text("CREATE TABLE t (id INT PRIMARY KEY, a BIGINT);")
        r = cli("apply", "--to", url(ep), "--desired", str(desired), "--yes", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "never finished; marked interrupted" in r.stderr
        with History.open(ep, audit_path=None) as h:
            first = h.list_applies("shop")[-1]
            assert first.outcome == "interrupted" and "statement 1" in (first.error or "")
    finally:
        srv.stop()
