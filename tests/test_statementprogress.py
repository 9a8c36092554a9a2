"""Statement progress (issue 11): parsing both flavors' reports, the displays, and
Ctrl-C inside a keep-data style hook that runs several queries."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from decimal import Decimal

import pytest
from rich.console import Console

from myshift.db.connect import Conn, Endpoint, connect
from myshift.engine.risk import Algorithm, Lock, Risk
from myshift.workflows.planmodel import PlannedStatement
from myshift.workflows.runner import ApplyOptions, run_statements
from myshift.workflows.statementprogress import (
    LiveDisplay,
    PlainDisplay,
    StatementProgress,
    one_line,
    parse_mariadb,
    parse_mysql,
    statement_display,
)
from myshift.workflows.statementwatch import COMPLETED, ROLLED_BACK, StatementInterrupted

# --------------------------------------------------------------------------- parsing


def test_mariadb_copy_stage() -> None:
    # As MariaDB 10.11 reports a COPY ALTER (measured): percent of the current stage.
    row = {
        "STAGE": 1, "MAX_STAGE": 2, "PROGRESS": Decimal("45.744"),
        "STATE": "copy to tmp table", "TIME_MS": Decimal("503.8"), "COMMAND": "Query",
    }  # fmt: skip
    p = parse_mariadb(row)
    assert p == StatementProgress(45.744, "copy to tmp table, stage 1 of 2")


def test_mariadb_without_progress_reporting_shows_the_state() -> None:
    row = {"STAGE": 0, "MAX_STAGE": 0, "PROGRESS": Decimal("0.000"), "STATE": "setup",
           "COMMAND": "Query"}  # fmt: skip
    assert parse_mariadb(row) == StatementProgress(None, "setup")


def test_mariadb_idle_or_gone_is_none() -> None:
    assert parse_mariadb(None) is None
    assert parse_mariadb({"COMMAND": "Sleep", "STAGE": 0, "MAX_STAGE": 0}) is None


def test_mariadb_single_stage_and_clamping() -> None:
    row = {"STAGE": 1, "MAX_STAGE": 1, "PROGRESS": Decimal("100.5"), "STATE": "",
           "COMMAND": "Query"}  # fmt: skip
    assert parse_mariadb(row) == StatementProgress(100.0, "")


def test_mysql_alter_stage() -> None:
    # performance_schema.events_stages_current as the MySQL manual shows it.
    row = {
        "EVENT_NAME": "stage/innodb/alter table (read PK and internal sort)",
        "WORK_COMPLETED": 1213,
        "WORK_ESTIMATED": 1688,
    }
    p = parse_mysql(row)
    assert p is not None and p.percent == pytest.approx(71.86, abs=0.01)
    assert p.detail == "alter table (read PK and internal sort)"


def test_mysql_stage_without_estimate_and_overshoot() -> None:
    assert parse_mysql(
        {"EVENT_NAME": "stage/sql/copy to tmp table", "WORK_COMPLETED": None,
         "WORK_ESTIMATED": None}
    ) == StatementProgress(None, "copy to tmp table")  # fmt: skip
    over = parse_mysql(
        {"EVENT_NAME": "stage/innodb/alter table (flush)", "WORK_COMPLETED": 120,
         "WORK_ESTIMATED": 100}
    )  # fmt: skip
    assert over is not None and over.percent == 100.0
    assert parse_mysql(None) is None and parse_mysql({"EVENT_NAME": None}) is None


def test_mysql_query_joins_threads_by_processlist_id() -> None:
    from myshift.db.sessions import SQL_PROGRESS_MYSQL

    assert "events_stages_current" in SQL_PROGRESS_MYSQL
    assert "t.PROCESSLIST_ID = %s" in SQL_PROGRESS_MYSQL
    assert "WORK_COMPLETED" in SQL_PROGRESS_MYSQL and "WORK_ESTIMATED" in SQL_PROGRESS_MYSQL


# --------------------------------------------------------------------------- displays


def test_one_line_shortens_with_an_ellipsis() -> None:
    assert one_line("ALTER TABLE t\n   ADD  x INT", 100) == "ALTER TABLE t ADD x INT"
    assert one_line("ALTER TABLE t ADD x INT", 12) == "ALTER TABLE…"


def test_plain_display_start_progress_done() -> None:
    buf = io.StringIO()
    d = PlainDisplay(buf, width=60, first=0.0, every=60.0)
    d.started(2, 5, "orders", "ALTER TABLE `orders` MODIFY `total` DECIMAL(12,2) NOT NULL, "
              "ALGORITHM=COPY")  # fmt: skip
    d.update(StatementProgress(45.7, "copy to tmp table, stage 1 of 2"))
    d.update(StatementProgress(60.0, "copy to tmp table, stage 1 of 2"))  # throttled
    d.finished(3.21)
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("[2/5] orders: ALTER TABLE `orders` MODIFY")
    assert lines[0].endswith("…") and len(lines[0]) <= 60
    assert lines[1].startswith("[2/5] orders: 46%, copy to tmp table, stage 1 of 2 (")
    assert lines[2] == "[2/5] orders: done in 3.21s"
    assert len(lines) == 3


def test_plain_display_off_a_terminal_and_for_dumb_terminals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert isinstance(statement_display(io.StringIO()), PlainDisplay)
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("FORCE_COLOR", "1")  # looks like a terminal, but a dumb one
    assert isinstance(statement_display(io.StringIO()), PlainDisplay)


def test_live_display_draws_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, force_interactive=True, width=100)
    d = LiveDisplay(console)
    d.started(1, 1, "t", "ALTER TABLE `t` FORCE")
    d.update(StatementProgress(42.0, "copy to tmp table"))
    d.tick()
    d.finished(1.5)
    d.close()
    out = buf.getvalue()
    assert "[1/1] t: ALTER TABLE `t` FORCE" in out
    assert "42%" in out and "copy to tmp table" in out
    assert "[1/1] t: done in 1.50s" in out
    assert "\x1b[3" not in out  # NO_COLOR: no colour codes (cursor movement only)


# --------------------------------------------------------------------------- Ctrl-C in a hook


def _stmt(subject: str, sql: str) -> PlannedStatement:
    return PlannedStatement(
        sql=sql, subject=subject, description="test", risk=Risk.SAFE,
        algorithm=Algorithm.INSTANT, lock=Lock.NONE, reason="test",
    )  # fmt: skip


def _sigint_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def _busy(admin: Conn, thread_id: int) -> bool:
    return bool(
        admin.query(
            "SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = %s AND COMMAND = 'Query'",
            (thread_id,),
        )
    )


def test_ctrl_c_in_a_multi_query_hook_kills_each_query(fresh_schema: Endpoint, admin: Conn) -> None:
    """A keep-data step runs several queries on the DDL session: the kill follows it."""
    seen: list[int] = []

    def hook(conn: Conn, seq: int, st: PlannedStatement) -> int | None:
        seen.append(conn.thread_id())
        for _ in range(3):
            conn.execute("DO SLEEP(5)")  # SLEEP returns 1 when killed, without an error
        return 0

    with connect(fresh_schema) as ddl:
        timer = _sigint_after(0.5)
        t0 = time.monotonic()
        with pytest.raises(StatementInterrupted) as caught:
            run_statements(
                fresh_schema, [_stmt("t", "DO 1")], ApplyOptions(record_history=False),
                hook=hook, conn=ddl,
            )  # fmt: skip
        took = time.monotonic() - t0
        timer.cancel()
        assert took < 0.5 + 2.0, took
        assert not _busy(admin, seen[0])
        assert ddl.scalar("SELECT 1") == 1  # the session is still usable (KILL QUERY only)
    exc = caught.value
    # SLEEP ends quietly when killed; the hook's queries all stopped, the step "completed".
    assert exc.outcome in (COMPLETED, ROLLED_BACK)
    assert exc.seq == 1 and exc.subject == "t"


def test_ctrl_c_mid_statement_rolls_it_back(fresh_schema: Endpoint, admin: Conn) -> None:
    with connect(fresh_schema) as ddl:
        ddl.execute("CREATE TABLE t (id INT PRIMARY KEY, b VARCHAR(40))")
        ddl.execute("INSERT INTO t SELECT seq, MD5(seq) FROM seq_1_to_200000")
        slow = "ALTER TABLE t ADD h CHAR(128) AS (SHA2(REPEAT(b, 300), 512)) PERSISTENT"
        timer = _sigint_after(0.8)
        t0 = time.monotonic()
        with pytest.raises(StatementInterrupted) as caught:
            run_statements(
                fresh_schema, [_stmt("t", "DO 1"), _stmt("t", slow)],
                ApplyOptions(record_history=False), conn=ddl,
            )  # fmt: skip
        took = time.monotonic() - t0
        timer.cancel()
        assert caught.value.outcome == ROLLED_BACK and caught.value.seq == 2
        assert took < 0.8 + 2.0
        assert "rolled it back" in caught.value.message
        assert "statements 1..1 were applied" in caught.value.message
        cols = ddl.query("SHOW COLUMNS FROM t")
        assert [c[0] for c in cols] == ["id", "b"]


def test_external_progress_and_stopper(fresh_schema: Endpoint) -> None:
    """An external tool reports its own progress and is stopped by the watch on Ctrl-C."""
    from myshift.workflows.statementwatch import StatementWatch

    buf = io.StringIO()
    stopped = threading.Event()
    with connect(fresh_schema) as ddl, StatementWatch(ddl, PlainDisplay(buf, first=0.0)) as w:
        timer = _sigint_after(0.3)
        clause = "alter table t: add column c int"
        with (
            pytest.raises(StatementInterrupted) as caught,
            w.statement(1, 1, "t", "pt-osc t", clause),
        ):
            w.on_progress(12.0, "copying rows")
            w.on_interrupt(stopped.set)
            assert stopped.wait(5)  # what the tool's wrapper would do: end when told
            raise RuntimeError("the tool exited on its signal")
        timer.cancel()
    assert caught.value.outcome == ROLLED_BACK
    assert "during statement 1 of 1 on 't' (alter table t: add column c int): " in (
        caught.value.message
    )
    assert "[1/1] t: 12%, copying rows" in buf.getvalue()


def test_ctrl_c_when_the_server_is_slow_to_roll_back(fresh_schema: Endpoint, admin: Conn) -> None:
    """A big UPDATE killed after 2 s takes about a second to roll back: past the budget the
    watch stops waiting (the socket is shut) and says the end is unknown."""
    from myshift.workflows.statementwatch import UNKNOWN, StatementWatch

    with connect(fresh_schema) as c:
        c.execute("CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(200), KEY(a), KEY(b))")
        c.execute("INSERT INTO t SELECT seq, seq, MD5(seq) FROM seq_1_to_400000")
    sql = "UPDATE t SET a = a + 1, b = CONCAT(b, 'x')"
    ddl = connect(fresh_schema)
    tid = ddl.thread_id()
    timer = _sigint_after(2.0)
    t0 = time.monotonic()
    with (
        StatementWatch(ddl, budget=0.2) as w,
        pytest.raises(StatementInterrupted) as caught,
        w.statement(1, 1, "t", sql, "update t"),
    ):
        ddl.execute(sql)
    took = time.monotonic() - t0
    timer.cancel()
    ddl.close()
    assert caught.value.outcome == UNKNOWN, took
    assert took < 2.0 + 0.2 + 0.5, took
    assert f"may still be rolling the statement back (connection id {tid}" in caught.value.message
    deadline = time.monotonic() + 60
    while _busy(admin, tid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with connect(fresh_schema) as c:  # the server finished rolling it back
        assert c.scalar("SELECT COUNT(*) FROM t WHERE b LIKE '%x'") == 0
