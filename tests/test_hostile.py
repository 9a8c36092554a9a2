"""Desired SQL is data, not a script (issue 9): the hostile corpus and its guards.

Every file in tests/hostile/ tries to act outside the workspace schema its
desired SQL is loaded into: drop or change other schemas, users, grants,
globals, binary logs; read or write server files; hold the server; or hide
such a statement from a naive reader behind comments, conditional comments,
quoting or sql_mode tricks.  Each runs through the real CLI (``plan``,
``plan --check``, ``drift``) as a user with ALL PRIVILEGES WITH GRANT OPTION
against a server holding other schemas with rows, users and grants, with the
binary log and the event scheduler on.  Each must be refused with file:line
and the bad-input exit code (or, for the ``confined_*`` files and a few whose
dangerous part is only stored, succeed), and afterwards every other schema,
the target's data, users, grants, global variables, the binary log list and
the server's file directories are what they were.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clitools import run_cli
from conftest import endpoint_of
from myshift.db.connect import Conn, DriverError, Endpoint, connect, connected
from myshift.db.server import LocalServer, server_env
from myshift.engine.classify import Classifier
from myshift.engine.eventstatus import with_status
from myshift.engine.lexer import Dialect, LexError, Mode, lex
from myshift.engine.load import desired_schema, load_desired, load_sql
from myshift.engine.sessionset import SessionState
from myshift.engine.split import split_sql
from myshift.engine.workspace import TempSchemaWorkspace
from myshift.errors import SQLLoadError, UsageError
from myshift.exitcodes import ExitCode

HOSTILE = Path(__file__).parent / "hostile"
# Stored, never run: these load, and must still change nothing outside the workspace.
MAY_LOAD = {
    "event_at_now_deletes",
    "event_every_second_deletes",
    "load_file_in_default",
    "load_file_in_view",
}
MARKER = f"marker-{uuid.uuid4().hex}"
PASSWORD = "hostile-pw"


@dataclass
class Victim:
    server: LocalServer
    url: str


@pytest.fixture(scope="module")
def victim() -> Iterator[Victim]:
    srv = LocalServer.start(
        extra_args=("--log-bin=mysql-bin", "--event-scheduler=ON"), server_id=31
    )
    try:
        (srv.files_dir / "marker.txt").write_text(MARKER)
        with connect(endpoint_of(srv)) as c:
            for sql in (
                "CREATE DATABASE prod",
                "CREATE TABLE prod.a (id int PRIMARY KEY, v varchar(20))",
                "CREATE TABLE prod.a2 (id int PRIMARY KEY)",
                "INSERT INTO prod.a VALUES (1, 'one'), (2, 'two')",
                "INSERT INTO prod.a2 VALUES (1)",
                "CREATE DATABASE other",
                "CREATE TABLE other.t (id int PRIMARY KEY, v varchar(20))",
                "CREATE TABLE other.x (id int PRIMARY KEY)",
                "INSERT INTO other.t VALUES (1, 'keep'), (2, 'me')",
                "INSERT INTO other.x VALUES (1), (2), (3)",
                "CREATE PROCEDURE other.wipe() DELETE FROM other.t",
                "CREATE USER app@'%' IDENTIFIED BY 'app-pw'",
                "GRANT SELECT, INSERT ON other.* TO app@'%'",
                f"CREATE USER hostile@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'",
                "GRANT ALL PRIVILEGES ON *.* TO hostile@'127.0.0.1' WITH GRANT OPTION",
            ):
                c.execute(sql)
        yield Victim(srv, f"mysql://hostile@127.0.0.1:{srv.port}/prod")
    finally:
        srv.stop()


def _rows(c: Conn, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in c.query(sql, args)]


def snapshot(srv: LocalServer) -> dict[str, Any]:
    """Everything outside a workspace that a desired file must never change."""
    snap: dict[str, Any] = {}
    with connected(endpoint_of(srv)) as c:
        schemas = [
            str(r[0])
            for r in c.query(
                "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN"
                " ('information_schema', 'performance_schema', 'mysql')"
                " AND SCHEMA_NAME NOT LIKE '\\_myshift\\_ws\\_%' ORDER BY 1"
            )
        ]
        snap["schemas"] = schemas
        for s in schemas:
            for name, kind in c.query(
                "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES"
                " WHERE TABLE_SCHEMA = %s ORDER BY 1",
                (s,),
            ):
                q = f"`{s}`.`{name}`"
                if kind == "VIEW":
                    snap[f"view {q}"] = _rows(c, f"SHOW CREATE VIEW {q}")
                else:
                    snap[f"table {q}"] = _rows(c, f"SHOW CREATE TABLE {q}")
                    snap[f"rows {q}"] = _rows(c, f"SELECT * FROM {q} ORDER BY 1")
                    snap[f"checksum {q}"] = _rows(c, f"CHECKSUM TABLE {q}")
        for kind, name, schema in c.query(
            "SELECT ROUTINE_TYPE, ROUTINE_NAME, ROUTINE_SCHEMA FROM information_schema.ROUTINES"
            " WHERE ROUTINE_SCHEMA NOT LIKE '\\_myshift\\_ws\\_%'"
        ):
            q = f"`{schema}`.`{name}`"
            snap[f"{kind} {q}"] = _rows(c, f"SHOW CREATE {kind} {q}")[0][:3]
        snap["triggers"] = _rows(
            c,
            "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS"
            " WHERE TRIGGER_SCHEMA NOT LIKE '\\_myshift\\_ws\\_%' ORDER BY 1, 2",
        )
        snap["events"] = _rows(
            c,
            "SELECT EVENT_SCHEMA, EVENT_NAME, STATUS FROM information_schema.EVENTS"
            " WHERE EVENT_SCHEMA NOT LIKE '\\_myshift\\_ws\\_%' ORDER BY 1, 2",
        )
        for table in (
            "global_priv",
            "db",
            "tables_priv",
            "columns_priv",
            "procs_priv",
            "proxies_priv",
            "roles_mapping",
            "func",
            "plugin",
            "servers",
        ):
            snap[f"mysql.{table}"] = sorted(map(repr, c.query(f"SELECT * FROM mysql.{table}")))
        for user, host in c.query("SELECT User, Host FROM mysql.global_priv"):
            try:
                grants: Any = _rows(c, "SHOW GRANTS FOR %s@%s", (user, host))
            except DriverError as exc:  # e.g. root@<hostname> that holds no grant
                grants = str(exc)
            snap[f"grants {user}@{host}"] = grants
        snap["globals"] = [
            r for r in _rows(c, "SHOW GLOBAL VARIABLES") if not str(r[0]).startswith("gtid_")
        ]
        snap["binlogs"] = [r[0] for r in c.query("SHOW BINARY LOGS")]
    snap["files"] = sorted(os.listdir(srv.files_dir))
    snap["server dir"] = sorted(p.name for p in srv.basedir.iterdir())
    return snap


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    keys = sorted(set(before) | set(after))
    return [k for k in keys if before.get(k) != after.get(k)]


def _corpus() -> list[Path]:
    files = sorted(HOSTILE.glob("*.sql"))
    assert len(files) >= 38
    return files


def _outcome(
    path: Path, args: tuple[str, ...], url: str, tmp: Path, files: Path
) -> tuple[str, Any, float]:
    text = path.read_text().replace("{FILES}", str(files))
    f = tmp / path.name
    f.write_text(text)
    t0 = time.monotonic()
    r = run_cli(
        *args, "--desired", str(f), "--to", url, cwd=tmp, env={"MYSQL_PWD": PASSWORD}, timeout=60
    )
    return str(f), r, time.monotonic() - t0


def test_hostile_corpus_is_refused_or_confined(victim: Victim, tmp_path: Path) -> None:
    srv = victim.server
    before = snapshot(srv)
    commands = [("plan",), ("plan", "--check"), ("drift",)]
    jobs = []
    for path in _corpus():
        for args in commands:
            # A directory per job: three jobs rewriting one file raced (one read it empty).
            d = tmp_path / path.stem / "_".join(a.strip("-") for a in args)
            d.mkdir(parents=True)
            jobs.append((path, args, d))
    with ThreadPoolExecutor(3) as pool:
        results = list(
            pool.map(
                lambda job: (job, _outcome(job[0], job[1], victim.url, job[2], srv.files_dir)),
                jobs,
            )
        )
    failures = []
    for (path, args, _), (written, r, seconds) in results:
        name = path.stem.split("_", 1)[1]
        out = r.stdout + r.stderr
        what = f"{path.name} {' '.join(args)}: exit {r.returncode}: {out.strip()[-400:]}"
        if seconds > 30:
            failures.append(f"{what} (took {seconds:.0f} s)")
        if MARKER in out:
            failures.append(f"{what} (printed the server file's content)")
        if r.returncode == ExitCode.BAD_SQL:
            if not re.search(re.escape(written) + r":\d+: ", out):
                failures.append(f"{what} (no file:line)")
            elif name.startswith("confined_"):
                failures.append(f"{what} (a confined file must load)")
        elif name == "comment_only":
            if r.returncode != ExitCode.USAGE or "--allow-empty" not in out:
                failures.append(f"{what} (an empty desired file must be refused)")
        elif name.startswith("confined_") or name in MAY_LOAD:
            if r.returncode not in (ExitCode.OK, ExitCode.CHANGES_PENDING):
                failures.append(what)
        else:
            failures.append(f"{what} (not refused)")
    assert not failures, "\n".join(failures)
    time.sleep(1.5)  # an event the scheduler might have started has had its chance
    after = snapshot(srv)
    assert _changes(before, after) == []
    with connected(endpoint_of(srv)) as c:
        sessions = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'hostile'"
        assert c.scalar(sessions) == 0
        workspaces = (
            "SELECT COUNT(*) FROM information_schema.SCHEMATA"
            " WHERE SCHEMA_NAME LIKE '\\_myshift\\_ws\\_%'"
        )
        assert c.scalar(workspaces) == 0


# --- legitimate dumps keep loading -------------------------------------------------------------


def _mariadb_dump(srv: LocalServer, schema: str, *extra: str) -> str:
    import subprocess

    dump = subprocess.run(
        [
            "mariadb-dump",
            "--no-defaults",
            "-h127.0.0.1",
            f"-P{srv.port}",
            "-uroot",
            "--no-data",
            "--routines",
            "--events",
            "--triggers",
            *extra,
            schema,
        ],
        capture_output=True,
        text=True,
        check=True,
        env=server_env(),
    )
    return dump.stdout


@pytest.mark.parametrize("databases", [False, True])
def test_real_mariadb_dump_plans_empty_against_its_source(
    server: LocalServer, tmp_path: Path, databases: bool
) -> None:
    schema = f"dumped_{uuid.uuid4().hex[:6]}"
    with connected(endpoint_of(server)) as c:
        c.execute(f"CREATE DATABASE {schema}")
        c.execute(f"USE {schema}")
        for sql in (
            "CREATE TABLE customers (id int PRIMARY KEY,"
            " name varchar(50) DEFAULT 'it''s; \\\\ \"q\"')",
            "CREATE TABLE orders (id int PRIMARY KEY, cid int, total decimal(10,2),"
            " FOREIGN KEY (cid) REFERENCES customers (id))",
            "CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100",
            "CREATE PROCEDURE add_order(IN c int)\nBEGIN\n  -- a comment; with a semicolon\n"
            "  INSERT INTO orders (cid, total) VALUES (c, 0);\nEND",
            "CREATE FUNCTION twice(x int) RETURNS int DETERMINISTIC RETURN x * 2",
            "CREATE TRIGGER orders_bi BEFORE INSERT ON orders FOR EACH ROW"
            " BEGIN IF NEW.total < 0 THEN SET NEW.total = 0; END IF; END",
            "CREATE EVENT purge_on ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00'"
            " ON COMPLETION PRESERVE ENABLE DO DELETE FROM orders WHERE total = 0",
            "CREATE EVENT purge_off ON SCHEDULE EVERY 1 HOUR STARTS '2030-01-01 00:00:00'"
            " DISABLE COMMENT 'off' DO DELETE FROM orders WHERE total < 0",
        ):
            c.execute(sql)
    try:
        text = _mariadb_dump(server, schema, *(("--databases",) if databases else ()))
        assert "/*!50003 CREATE*/" in text or "CREATE DEFINER" in text
        f = tmp_path / "dump.sql"
        f.write_text(text)
        url = f"mysql://root@127.0.0.1:{server.port}/{schema}"
        r = run_cli("plan", "--check", "--desired", str(f), "--to", url, cwd=tmp_path)
        assert r.returncode == 0, r.stdout + r.stderr
        r = run_cli("drift", "--desired", str(f), "--to", url, cwd=tmp_path)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "matches" in r.stdout
    finally:
        with connected(endpoint_of(server)) as c:
            c.execute(f"DROP DATABASE {schema}")


# --- the workspace is inert ---------------------------------------------------------------------


def test_events_are_created_disabled_and_their_status_restored(server: LocalServer) -> None:
    text = (
        "CREATE TABLE t (id int);\n"
        "CREATE EVENT e_on ON SCHEDULE EVERY 1 SECOND DO DELETE FROM t;\n"
        "CREATE EVENT e_off ON SCHEDULE EVERY 1 SECOND DISABLE DO DELETE FROM t;\n"
        "CREATE EVENT e_slave ON SCHEDULE EVERY 1 SECOND DISABLE ON SLAVE COMMENT 'c' DO DELETE"
        " FROM t;\n"
    )
    ws_obj = TempSchemaWorkspace(endpoint_of(server))
    with ws_obj as ws:
        schema, _ = desired_schema(split_sql(text, "ev.sql"), ws)
        with connected(ws) as c:
            in_ws = dict(
                c.query(
                    "SELECT EVENT_NAME, STATUS FROM information_schema.EVENTS"
                    " WHERE EVENT_SCHEMA = %s",
                    (ws.schema,),
                )
            )
    assert in_ws == {"e_on": "DISABLED", "e_off": "DISABLED", "e_slave": "DISABLED"}
    status = {e.name: e.status for e in schema.events}
    assert status == {"e_on": "ENABLED", "e_off": "DISABLED", "e_slave": "SLAVESIDE_DISABLED"}
    e_on = schema.event_map["e_on"]
    assert " ENABLE " in e_on.create_sql and "DISABLE" not in e_on.create_sql


def test_a_plan_creating_an_enabled_event_verifies(fresh_schema: Endpoint, tmp_path: Path) -> None:
    # The verification replay creates it DISABLE too, and must still converge.
    f = tmp_path / "d.sql"
    f.write_text(
        "CREATE TABLE t (id int);\n"
        "CREATE EVENT e ON SCHEDULE EVERY 1 HOUR STARTS '2030-01-01 00:00:00' DO DELETE FROM t;\n"
    )
    url = f"mysql://root@127.0.0.1:{fresh_schema.port}/{fresh_schema.schema}"
    r = run_cli("apply", "--yes", "--desired", str(f), "--to", url, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    with connected(fresh_schema) as c:
        assert c.scalar("SELECT STATUS FROM information_schema.EVENTS WHERE EVENT_NAME='e'") == (
            "ENABLED"
        )
    r = run_cli("plan", "--check", "--desired", str(f), "--to", url, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_loader_session_is_time_bounded(server: LocalServer) -> None:
    from myshift.engine.workspace import STATEMENT_SECONDS, loader_session

    with TempSchemaWorkspace(endpoint_of(server)) as ws:
        conn = loader_session(ws, multi=True)
        try:
            assert float(conn.scalar("SELECT @@SESSION.max_statement_time")) == STATEMENT_SECONDS
            assert int(conn.scalar("SELECT @@SESSION.lock_wait_timeout")) <= 10
        finally:
            conn.close()


def test_local_server_cannot_reach_files_and_holds_no_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MYSQL_PWD", "s3cret-pwd")
    monkeypatch.setenv("PROD_DB_PASSWORD", "s3cret-env")
    srv = LocalServer.start()
    try:
        with connected(endpoint_of(srv)) as c:
            priv, infile, sched = c.query(
                "SELECT @@secure_file_priv, @@local_infile, @@event_scheduler"
            )[0]
        assert Path(str(priv)).resolve() == srv.files_dir.resolve()
        assert not any(srv.files_dir.iterdir())
        assert (int(infile), str(sched)) == (0, "OFF")
        assert srv.process is not None
        environ = Path(f"/proc/{srv.process.pid}/environ").read_bytes()
        assert b"s3cret" not in environ
    finally:
        srv.stop()


def test_empty_desired_file_is_refused_unless_allowed(
    fresh_schema: Endpoint, tmp_path: Path
) -> None:
    with connected(fresh_schema) as c:
        c.execute("CREATE TABLE keep (id int)")
    f = tmp_path / "empty.sql"
    f.write_text("-- the schema lives elsewhere now\n/*!40101 SET NAMES utf8mb4 */;\n")
    url = f"mysql://root@127.0.0.1:{fresh_schema.port}/{fresh_schema.schema}"
    r = run_cli("plan", "--allow-drop", "--desired", str(f), "--to", url, cwd=tmp_path)
    assert r.returncode == ExitCode.USAGE, r.stdout + r.stderr
    assert "--allow-empty" in r.stderr
    r = run_cli(
        "plan", "--allow-drop", "--allow-empty", "--desired", str(f), "--to", url, cwd=tmp_path
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "DROP TABLE `keep`" in r.stdout


def test_empty_load_is_refused_in_the_engine(server: LocalServer) -> None:
    with (
        pytest.raises(UsageError, match="defines no table"),
        TempSchemaWorkspace(endpoint_of(server)) as ws,
    ):
        load_desired(split_sql("/* nothing */ SET NAMES utf8mb4;", "e.sql"), ws)


def test_refusal_happens_before_anything_runs(server: LocalServer) -> None:
    text = "CREATE TABLE first_one (id int);\nCREATE TABLE x (id int);\nDELETE FROM x;\n"
    with pytest.raises(SQLLoadError) as err, TempSchemaWorkspace(endpoint_of(server)) as ws:
        try:
            load_sql(split_sql(text, "r.sql"), ws)
        finally:
            with connected(ws) as c:
                tables = c.query("SHOW TABLES")
    assert list(tables) == []
    assert (err.value.path, err.value.line) == ("r.sql", 3)
    assert "refused `DELETE FROM x`" in err.value.message


# --- the lexer and the classifier, without a server ------------------------------------------

MARIADB = Dialect(True, 101119)
MYSQL = Dialect(False, 80036)


@pytest.mark.parametrize(
    ("dialect", "text", "runs"),
    [
        (MARIADB, "/*!50699 x */", True),
        (MARIADB, "/*!50700 x */", False),
        (MARIADB, "/*!57000 x */", False),
        (MARIADB, "/*!79999 x */", False),
        (MARIADB, "/*!80000 x */", False),
        (MARIADB, "/*!100000 x */", True),
        (MARIADB, "/*!101199 x */", False),
        (MARIADB, "/*M!100000 x */", True),
        (MARIADB, "/*M!50700 x */", True),
        (MARIADB, "/*! x */", True),
        (MYSQL, "/*!80036 x */", True),
        (MYSQL, "/*!80037 x */", False),
        (MYSQL, "/*!50700 x */", True),
        (MYSQL, "/*M!100000 x */", False),
    ],
)
def test_conditional_comments_resolve_for_the_flavor(
    dialect: Dialect, text: str, runs: bool
) -> None:
    lx = lex("SELECT 1 " + text, dialect, Mode())
    assert lx.toks == (["SELECT", "1", "x"] if runs else ["SELECT", "1"])
    assert "/*" not in lx.text()


@pytest.mark.parametrize(
    "text",
    [
        "SELECT /*!5 +1 */",
        "SELECT /*!1000000 +1 */",
        "SELECT /*!50000 1 /*!50000 2 */ */",
        "SELECT /*!99999 1 /* x */ 2 */",
        "SELECT /*!50000 1",
        "SELECT 'abc",
        "SELECT `abc",
        "SELECT 1 --\x01 x",
        "SELECT 1\x00",
    ],
)
def test_lexer_refuses_what_it_cannot_read_like_the_server(text: str) -> None:
    with pytest.raises(LexError):
        lex(text, MARIADB, Mode())


def test_sql_mode_changes_where_strings_end() -> None:
    text = "CREATE TABLE t (c varchar(9) DEFAULT 'x\\'); DROP DATABASE d; -- ')"
    assert ";" not in lex(text, MARIADB, Mode()).toks
    assert ";" in lex(text, MARIADB, Mode(no_backslash_escapes=True)).toks
    ansi = 'CREATE TABLE "a\\" (x int); DROP DATABASE d; -- " (id int)'
    assert ";" not in lex(ansi, MARIADB, Mode()).toks
    assert ";" in lex(ansi, MARIADB, Mode(ansi_quotes=True)).toks


def _classifier() -> Classifier:
    return Classifier(MARIADB, SessionState("STRICT_TRANS_TABLES", "utf8mb4"), "_ws_x", "prod")


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("CREATE TABLE prod.t (id int)", "CREATE TABLE `_ws_x`.t (id int)"),
        ("DROP TABLE IF EXISTS `t`", "DROP TABLE IF EXISTS `_ws_x`.`t`"),
        ("DROP FUNCTION IF EXISTS f", "DROP FUNCTION IF EXISTS `_ws_x`.f"),
        (
            "CREATE DEFINER=`root`@`%` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET @a = 1",
            "CREATE   TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET @a = 1",
        ),
        (
            "CREATE EVENT e ON SCHEDULE EVERY 1 HOUR ENABLE DO SELECT 1",
            "CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DISABLE DO SELECT 1",
        ),
        (
            "/*!50106 CREATE*/ /*!50106 EVENT e ON SCHEDULE EVERY 1 HOUR COMMENT 'x'"
            " DO SELECT 1 */",
            "  CREATE    EVENT e ON SCHEDULE EVERY 1 HOUR DISABLE COMMENT 'x' DO SELECT 1  ",
        ),
        ("SET @saved = @@sql_mode, sql_mode = 'ANSI_QUOTES'", None),
        ("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id)", None),
        ("CREATE TABLE t (a int CHECK (a LIKE 'x%'), b int AS (a + 1))", None),
        ("CREATE TABLE t (id int) ENGINE=InnoDB WITH SYSTEM VERSIONING", None),
        ("CREATE OR REPLACE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW v AS SELECT 1", None),
    ],
)
def test_allowed_statements_and_what_is_sent(text: str, sent: str | None) -> None:
    act = _classifier().classify(split_sql(text)[0])
    assert act.sql == (text if sent is None else sent)


def test_event_status_is_put_back_into_show_create_text() -> None:
    sql = (
        "CREATE DEFINER=`root`@`localhost` EVENT `e` ON SCHEDULE EVERY 1 HOUR STARTS"
        " '2030-01-01 00:00:00' ON COMPLETION NOT PRESERVE DISABLE DO delete from t"
    )
    assert "NOT PRESERVE ENABLE DO" in with_status(sql, "ENABLED")
    assert "DISABLE ON SLAVE DO" in with_status(sql, "SLAVESIDE_DISABLED")


MYSQLDUMP8 = """\
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!50503 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;
SET @MYSQLDUMP_TEMP_LOG_BIN = @@SESSION.SQL_LOG_BIN;
SET @@SESSION.SQL_LOG_BIN= 0;
SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5';
DROP TABLE IF EXISTS `t`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!50503 SET character_set_client = utf8mb4 */;
CREATE TABLE `t` (`id` int NOT NULL, PRIMARY KEY (`id`)) /*!80016 ENCRYPTION='N' */;
/*!40101 SET character_set_client = @saved_cs_client */;
SET @@SESSION.SQL_LOG_BIN = @MYSQLDUMP_TEMP_LOG_BIN;
/*!40101 SET SQL_MODE=IFNULL(@OLD_SQL_MODE, '') */;
/*!40014 SET FOREIGN_KEY_CHECKS=IF(@OLD_FOREIGN_KEY_CHECKS IS NULL, 1, @OLD_FOREIGN_KEY_CHECKS) */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*M!100616 SET NOTE_VERBOSITY=@OLD_NOTE_VERBOSITY */;
"""


@pytest.mark.parametrize("dialect", [MARIADB, MYSQL], ids=["mariadb", "mysql"])
def test_mysqldump_8_headers_load_and_binlog_lines_are_absorbed(dialect: Dialect) -> None:
    c = Classifier(dialect, SessionState("STRICT_TRANS_TABLES", "utf8mb4"), "_ws_x", "prod")
    acts = [c.classify(st) for st in split_sql(MYSQLDUMP8, "d.sql")]
    absorbed = [a.stmt.line for a in acts if a.kind == "absorbed"]
    assert absorbed == [8, 9, 10, 16]
    assert [a.kind for a in acts if a.sql is not None].count("CREATE TABLE") == 1
    assert c.session.sql_mode == "STRICT_TRANS_TABLES"  # IFNULL(@OLD_SQL_MODE, ...) restored it
    assert not any("SQL_LOG_BIN" in (a.sql or "") for a in acts)


def test_create_or_replace_event_is_made_inert_for_workspaces() -> None:
    """A changed event is CREATE OR REPLACE on MariaDB: the verification replay must
    still create it DISABLE (and keep its real status), like a plain CREATE."""
    from myshift.engine.eventstatus import inert_event
    from myshift.engine.lexer import Dialect, Mode
    from myshift.model import MARIADB_10_11

    for head in ("CREATE OR REPLACE", "CREATE OR REPLACE DEFINER=`a`@`%`"):
        sql = f"{head} EVENT `e` ON SCHEDULE EVERY 1 DAY ENABLE DO DELETE FROM t"
        out, name, status = inert_event(sql, Dialect.of(MARIADB_10_11), Mode())
        assert name == "e" and status == "ENABLED", (out, name, status)
        assert " DISABLE DO " in out and " ENABLE " not in out, out
