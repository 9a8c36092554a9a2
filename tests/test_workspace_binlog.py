"""The workspace on production's server stays out of its binary log (replicas never see it)."""

from __future__ import annotations

import time
from pathlib import Path

from clitools import run_cli
from conftest import endpoint_of
from myshift.db.connect import connect
from myshift.db.server import LocalServer

LIMITED = (
    "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES, CREATE VIEW, "
    "SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, EXECUTE, TRIGGER, EVENT, "
    "CREATE TEMPORARY TABLES, LOCK TABLES, PROCESS, RELOAD"
)


def _binlog_mentions(primary: LocalServer, word: str) -> int:
    with connect(endpoint_of(primary)) as c:
        n = 0
        for log, *_rest in c.query("SHOW BINARY LOGS"):
            n += sum(word in str(ev[-1]) for ev in c.query(f"SHOW BINLOG EVENTS IN '{log}'"))
        return n


def _replica_sql_running(replica: LocalServer) -> str:
    with connect(endpoint_of(replica)) as c:
        rows = c.query_dicts("SHOW SLAVE STATUS")
    return str(rows[0]["Slave_SQL_Running"]) if rows else "none"


def test_workspace_not_in_binlog_and_replica_healthy(
    replication_pair: tuple[LocalServer, LocalServer], tmp_path: Path
) -> None:
    primary, replica = replication_pair
    with connect(endpoint_of(primary)) as c:
        c.execute("CREATE DATABASE app")
        c.execute("CREATE TABLE app.t (id INT PRIMARY KEY)")
        c.execute("CREATE USER 'lim'@'%' IDENTIFIED BY 'limpw'")
        c.execute(f"GRANT {LIMITED} ON *.* TO 'lim'@'%'")
    (tmp_path / "desired.sql").write_text(
        "CREATE TABLE t (id INT PRIMARY KEY, a INT);\nCREATE TABLE u (id INT PRIMARY KEY);\n"
    )
    url = f"mysql://root@127.0.0.1:{primary.port}/app"
    r = run_cli("plan", "--to", url, "--desired", "desired.sql", cwd=tmp_path)
    assert r.returncode in (0, 2), r.stderr
    assert "ADD COLUMN" in r.stdout, r.stdout
    # root may: nothing of the workspace reached the binary log.
    assert _binlog_mentions(primary, "_myshift_ws_") == 0

    # An account without SUPER / BINLOG ADMIN: the workspace is logged, whole,
    # and the replica follows it without breaking.
    lim = f"mysql://lim@127.0.0.1:{primary.port}/app"
    r = run_cli("plan", "--to", lim, "--desired", "desired.sql", cwd=tmp_path,
                env={"MYSQL_PWD": "limpw"})  # fmt: skip
    assert r.returncode in (0, 2), r.stderr
    assert _binlog_mentions(primary, "_myshift_ws_") > 0
    deadline = time.monotonic() + 20
    with connect(endpoint_of(replica)) as c:
        while time.monotonic() < deadline:
            left = c.query("SHOW DATABASES LIKE '\\_myshift\\_ws\\_%'")
            if not left:
                break
            time.sleep(0.2)
    assert not left, left
    assert _replica_sql_running(replica) == "Yes"
