"""Issue 3 acceptance: the dev->prod workflow on real local servers, through the CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clitools import MYSHIFT, run_cli
from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.split import split_sql
from myshift.exitcodes import ExitCode

DUMP = Path(__file__).parent / "data" / "dumps" / "mariadb_dump.sql"
PASSWORD = "s3cr3t-Pa55w0rd-xyz"


def load(conn: Conn, sql: str) -> None:
    for st in split_sql(sql):
        conn.execute(st.sql)


@pytest.fixture
def prod(server: LocalServer) -> Iterator[Endpoint]:
    """An empty `multi-prod`-like schema, reached as a password-protected user."""
    admin = connect(Endpoint(port=server.port, password=""))
    name = f"prod_{time.monotonic_ns() % 10**9}"
    admin.execute(f"CREATE DATABASE {quote_ident(name)}")
    admin.execute("CREATE USER IF NOT EXISTS 'migrator'@'%%' IDENTIFIED BY %s", (PASSWORD,))
    admin.execute("GRANT ALL ON *.* TO 'migrator'@'%'")
    try:
        yield Endpoint(port=server.port, user="migrator", password=PASSWORD, schema=name)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
        admin.close()


def url(ep: Endpoint) -> str:
    return f"mysql://{ep.user}@127.0.0.1:{ep.port}/{ep.schema}"


PWD = {"MYSQL_PWD": PASSWORD}


def test_seed_dump_round_trips_with_the_seed_invocation(prod: Endpoint, tmp_path: Path) -> None:
    """`myshift plan -h HOST -P 3306 -u USER -p multi-prod < dev_schema.sql`, then apply."""
    sql = DUMP.read_text()
    flags = ["-h", "127.0.0.1", "-P", str(prod.port), "-u", "migrator", "-p", prod.schema]
    r = run_cli("plan", *flags, "--check", cwd=tmp_path, stdin=sql, env=PWD)
    assert r.returncode == ExitCode.CHANGES_PENDING, r.stderr
    assert "CREATE TABLE `customers`" in r.stdout
    r = run_cli("apply", *flags, "--yes", cwd=tmp_path, stdin=sql, env=PWD)
    assert r.returncode == 0, r.stderr
    r = run_cli("plan", *flags, "--check", cwd=tmp_path, stdin=sql, env=PWD)
    assert r.returncode == 0, r.stdout + r.stderr
    # dump of the result loads back and re-plans empty
    out = tmp_path / "again.sql"
    r = run_cli("dump", url(prod), "-o", str(out), cwd=tmp_path, env=PWD)
    assert r.returncode == 0, r.stderr
    r = run_cli("plan", url(prod), "--desired", str(out), "--check", cwd=tmp_path, env=PWD)
    assert r.returncode == 0, r.stdout + r.stderr
    d = tmp_path / "code"
    r = run_cli("dump", url(prod), "--dir", str(d), cwd=tmp_path, env=PWD)
    assert r.returncode == 0, r.stderr
    assert (d / "tables" / "customers.sql").exists()
    r = run_cli("drift", "--to", url(prod), "--desired", str(d), cwd=tmp_path, env=PWD)
    assert r.returncode == 0, r.stdout + r.stderr


def _plan_file(prod: Endpoint, tmp_path: Path, desired: str, *extra: str) -> Path:
    f = tmp_path / "desired.sql"
    f.write_text(desired)
    out = tmp_path / "plan.json"
    r = run_cli(
        "plan",
        "--to",
        url(prod),
        "--desired",
        str(f),
        "-o",
        str(out),
        *extra,
        cwd=tmp_path,
        env=PWD,
    )
    assert r.returncode == 0, r.stderr
    return out


BASE = "CREATE TABLE t (id int PRIMARY KEY, a int, b varchar(20));"


def _seed(prod: Endpoint, sql: str = BASE) -> Conn:
    c = connect(prod)
    load(c, sql)
    return c


def test_drift_is_refused_with_what_changed(prod: Endpoint, tmp_path: Path) -> None:
    c = _seed(prod)
    plan = _plan_file(prod, tmp_path, BASE + "CREATE TABLE u (id int PRIMARY KEY);")
    c.execute("ALTER TABLE t ADD COLUMN sneaky int")  # someone changes prod after review
    r = run_cli("apply", "--plan", str(plan), "--to", url(prod), "--yes", cwd=tmp_path, env=PWD)
    assert r.returncode == ExitCode.DRIFT
    assert "drifted" in r.stderr and "t" in r.stderr
    assert "Traceback" not in r.stderr
    assert (
        c.scalar(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s "
            "AND TABLE_NAME='u'",
            (prod.schema,),
        )
        == 0
    )


def test_plan_for_another_server_is_refused(
    prod: Endpoint, server2: LocalServer, tmp_path: Path
) -> None:
    _seed(prod)
    plan = _plan_file(prod, tmp_path, BASE + "CREATE TABLE u (id int PRIMARY KEY);")
    other = connect(Endpoint(port=server2.port, password=""))
    other.execute(f"CREATE DATABASE IF NOT EXISTS {quote_ident(prod.schema)}")
    load(connect(Endpoint(port=server2.port, password="", schema=prod.schema)), BASE)
    try:
        target = f"mysql://root@127.0.0.1:{server2.port}/{prod.schema}"
        r = run_cli("apply", "--plan", str(plan), "--to", target, "--yes", cwd=tmp_path)
        assert r.returncode == ExitCode.DRIFT, r.stderr
        assert "was made for server" in r.stderr
    finally:
        other.execute(f"DROP DATABASE {quote_ident(prod.schema)}")


def test_corrupt_or_edited_plan_file_is_refused(prod: Endpoint, tmp_path: Path) -> None:
    _seed(prod)
    plan = _plan_file(prod, tmp_path, BASE + "CREATE TABLE u (id int PRIMARY KEY);")
    data = json.loads(plan.read_text())
    data["statements"][0]["sql"] = "DROP TABLE t"
    plan.write_text(json.dumps(data))
    r = run_cli("apply", "--plan", str(plan), "--to", url(prod), "--yes", cwd=tmp_path, env=PWD)
    assert r.returncode == ExitCode.USAGE
    assert "modified after it was made" in r.stderr
    plan.write_text("{not json")
    r = run_cli("apply", "--plan", str(plan), "--to", url(prod), "--yes", cwd=tmp_path, env=PWD)
    assert r.returncode == ExitCode.USAGE and "not a valid myshift plan" in r.stderr


def test_concurrent_apply_is_refused(prod: Endpoint, tmp_path: Path) -> None:
    _seed(prod)
    plan = _plan_file(prod, tmp_path, BASE + "CREATE TABLE u (id int PRIMARY KEY);")
    holder = connect(prod)
    assert holder.scalar("SELECT GET_LOCK(%s, 0)", (f"myshift:{prod.schema}",)) == 1
    try:
        r = run_cli("apply", "--plan", str(plan), "--to", url(prod), "--yes", cwd=tmp_path, env=PWD)
        assert r.returncode == ExitCode.LOCKED
        assert f"connection id {holder.thread_id()}" in r.stderr
    finally:
        holder.close()


def test_blocked_alter_fails_fast_naming_the_blocker(prod: Endpoint, tmp_path: Path) -> None:
    _seed(prod)
    plan = _plan_file(prod, tmp_path, BASE.replace("b varchar(20)", "b varchar(20), c int"))
    blocker = connect(prod)
    blocker.execute("START TRANSACTION")
    blocker.query("SELECT * FROM t")  # holds a metadata lock on t until COMMIT
    reader_waits: list[float] = []

    def reader() -> None:
        time.sleep(1.0)
        c = connect(prod)
        t0 = time.monotonic()
        c.query("SELECT COUNT(*) FROM t")
        reader_waits.append(time.monotonic() - t0)
        c.close()

    th = threading.Thread(target=reader)
    th.start()
    t0 = time.monotonic()
    r = run_cli(
        "apply",
        "--plan",
        str(plan),
        "--to",
        url(prod),
        "--yes",
        "--lock-wait-timeout",
        "2",
        cwd=tmp_path,
        env=PWD,
    )
    elapsed = time.monotonic() - t0
    th.join()
    blocker.execute("ROLLBACK")
    assert r.returncode == ExitCode.LOCKED, r.stderr
    assert f"thread {blocker.thread_id()}" in r.stderr
    # lock_wait_timeout (2 s) + 1 s, plus the CLI's own start-up and planning checks
    assert elapsed < 2 + 1 + 4, elapsed
    assert reader_waits and reader_waits[0] < 2 + 1


def test_algorithm_instant_refuses_int_to_bigint(prod: Endpoint, tmp_path: Path) -> None:
    c = _seed(prod)
    plan = _plan_file(prod, tmp_path, BASE.replace("a int", "a bigint"))
    r = run_cli(
        "apply",
        "--plan",
        str(plan),
        "--to",
        url(prod),
        "--yes",
        "--algorithm",
        "instant",
        cwd=tmp_path,
        env=PWD,
    )
    assert r.returncode == ExitCode.UNSAFE
    assert "ALGORITHM=COPY" in r.stderr and "nothing was run" in r.stderr
    # The clause that needs the copy is named, not a statement cut off mid-name.
    assert "modify column a" in r.stderr and "int(11) -> bigint(20)" in r.stderr, r.stderr
    assert (
        c.scalar(
            "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=%s "
            "AND TABLE_NAME='t' AND COLUMN_NAME='a'",
            (prod.schema,),
        )
        == "int"
    )


def test_kill_9_mid_apply_leaves_history_and_replan_finishes(
    prod: Endpoint, tmp_path: Path
) -> None:
    c = _seed(prod, "CREATE TABLE t (id int PRIMARY KEY, a int, b int, c int);")
    # The ALTERs the server runs are what this kills: not the online path's tool.
    (tmp_path / "myshift.toml").write_text(
        "[online]\nmin_rows = 1000000000\nmin_bytes = 1000000000000\n"
    )
    c.execute("INSERT INTO t SELECT seq, seq, seq, seq FROM seq_1_to_300000")
    for i in range(4):
        c.execute(f"CREATE TABLE s{i} (id int PRIMARY KEY, v int)")
        c.execute(f"INSERT INTO s{i} SELECT seq, seq FROM seq_1_to_200000")
    desired = "CREATE TABLE t (id int PRIMARY KEY, a bigint, b int, c int);" + "".join(
        f"CREATE TABLE s{i} (id int PRIMARY KEY, v bigint);" for i in range(4)
    )
    plan = _plan_file(prod, tmp_path, desired)
    proc = subprocess.Popen(
        [*MYSHIFT, "apply", "--plan", str(plan), "--to", url(prod), "--yes"],
        cwd=tmp_path,
        env={**__import__("os").environ, **PWD},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    hist = f"{quote_ident('_myshift')}.statements"
    deadline = time.monotonic() + 60
    running = None
    while time.monotonic() < deadline:
        try:
            rows = c.query(
                f"SELECT seq FROM {hist} s JOIN _myshift.applies a ON a.id = s.apply_id "
                "WHERE a.target_schema = %s AND s.outcome = 'running'",
                (prod.schema,),
            )
        except Exception:
            rows = []
        if rows and rows[0][0] >= 2:
            running = rows[0][0]
            break
        time.sleep(0.05)
    assert running is not None, "apply never reached its second statement"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    r = run_cli("history", "--to", url(prod), cwd=tmp_path, env=PWD)
    assert r.returncode == 0 and "running" in r.stdout
    apply_id = c.scalar(
        "SELECT MAX(id) FROM _myshift.applies WHERE target_schema=%s", (prod.schema,)
    )
    r = run_cli("history", str(apply_id), "--to", url(prod), cwd=tmp_path, env=PWD)
    assert r.returncode == 0
    assert f"stopped at statement {running}" in r.stdout.lower() or "running" in r.stdout
    f = tmp_path / "desired.sql"
    r = run_cli("apply", "--to", url(prod), "--desired", str(f), "--yes", cwd=tmp_path, env=PWD)
    assert r.returncode == 0, r.stderr
    assert f"apply {apply_id} never finished; marked interrupted" in r.stderr
    # the killed apply is now 'interrupted', and still shows the statement it was on
    assert c.scalar("SELECT outcome FROM _myshift.applies WHERE id=%s", (apply_id,)) == (
        "interrupted"
    )
    assert (
        c.scalar(
            "SELECT outcome FROM _myshift.statements WHERE apply_id=%s AND seq=%s",
            (apply_id, running),
        )
        == "running"
    )
    r = run_cli("plan", "--to", url(prod), "--desired", str(f), "--check", cwd=tmp_path, env=PWD)
    assert r.returncode == 0, r.stdout


def test_no_password_in_any_artefact(prod: Endpoint, tmp_path: Path) -> None:
    _seed(prod)
    plan = _plan_file(prod, tmp_path, BASE + "CREATE TABLE u (id int PRIMARY KEY);")
    outputs = []
    r = run_cli("apply", "--plan", str(plan), "--to", url(prod), "--yes", cwd=tmp_path, env=PWD)
    outputs += [r.stdout, r.stderr]
    assert r.returncode == 0, r.stderr
    r = run_cli("history", "--to", url(prod), cwd=tmp_path, env=PWD)
    outputs += [r.stdout, r.stderr]
    # a wrong-password failure must not echo the password either
    bad = f"mysql://migrator:{PASSWORD}x@127.0.0.1:{prod.port}/{prod.schema}"
    r = run_cli("plan", "--to", bad, "--desired", str(tmp_path / "desired.sql"), cwd=tmp_path)
    assert r.returncode == ExitCode.CONNECTION and "Access denied" in r.stderr
    assert "Traceback" not in r.stderr
    outputs += [r.stdout, r.stderr]
    files = [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    c = connect(prod)
    rows = c.query("SELECT * FROM _myshift.applies")
    rows += c.query("SELECT * FROM _myshift.statements")
    blob = "\n".join(outputs + files + [repr(rows)])
    assert (tmp_path / "myshift-audit.jsonl").exists()
    assert PASSWORD not in blob


def test_inline_password_is_refused(tmp_path: Path) -> None:
    r = run_cli("plan", "-uroot", f"-p{PASSWORD}", "db", cwd=tmp_path)
    assert r.returncode == ExitCode.USAGE
    assert "MYSQL_PWD" in r.stderr and PASSWORD not in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("apply", "--algorithm", "instnt"),
        ("drift", "--bogus-flag"),
        ("nosuchcommand",),
        ("trash", "purge"),
    ],
)
def test_command_line_mistakes_exit_usage_not_changes_pending(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    # click's own exit code for a usage error is 2, which is "changes pending" here.
    r = run_cli(*args, cwd=tmp_path)
    assert r.returncode == ExitCode.USAGE, r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("flag", ["--to", "--from"])
def test_url_of_another_scheme_is_refused_without_echoing_its_password(
    tmp_path: Path, flag: str
) -> None:
    other = "--from" if flag == "--to" else "--to"
    r = run_cli(
        "plan",
        flag,
        f"postgres://u:{PASSWORD}@h/db",
        other,
        "mysql://u@127.0.0.1:1/x",
        cwd=tmp_path,
    )
    assert r.returncode == ExitCode.USAGE, r.stderr
    assert "mysql://" in r.stderr and PASSWORD not in r.stderr


def test_unreachable_host_is_one_sentence(tmp_path: Path) -> None:
    r = run_cli(
        "plan",
        "--to",
        "mysql://root@127.0.0.1:1/x",
        "--desired",
        "-",
        cwd=tmp_path,
        stdin="CREATE TABLE t (id int);",
    )
    assert r.returncode == ExitCode.CONNECTION
    assert "Cannot reach" in r.stderr and "Traceback" not in r.stderr


def test_bad_sql_names_file_and_line(prod: Endpoint, tmp_path: Path) -> None:
    f = tmp_path / "bad.sql"
    f.write_text("CREATE TABLE ok (id int);\n\nCREATE TABLE broken (id int,,);\n")
    r = run_cli("plan", "--to", url(prod), "--desired", str(f), cwd=tmp_path, env=PWD)
    assert r.returncode == ExitCode.BAD_SQL
    assert f"{f}:3:" in r.stderr and "Traceback" not in r.stderr


def test_missing_privilege_is_one_sentence_with_the_fix(
    server: LocalServer, prod: Endpoint, tmp_path: Path
) -> None:
    admin = connect(Endpoint(port=server.port, password=""))
    admin.execute("CREATE USER IF NOT EXISTS 'reader'@'%' IDENTIFIED BY 'rpw'")
    admin.execute(f"GRANT SELECT ON {quote_ident(prod.schema)}.* TO 'reader'@'%'")
    f = tmp_path / "d.sql"
    f.write_text("CREATE TABLE t (id int PRIMARY KEY);")
    target = f"mysql://reader@127.0.0.1:{prod.port}/{prod.schema}"
    r = run_cli("plan", "--to", target, "--desired", str(f), cwd=tmp_path, env={"MYSQL_PWD": "rpw"})
    assert r.returncode == ExitCode.CONNECTION
    assert "may not create the temporary workspace schema" in r.stderr
    assert "--workspace local" in r.stderr and "Traceback" not in r.stderr


def test_empty_stdin_is_refused_not_read_as_drop_everything(prod: Endpoint, tmp_path: Path) -> None:
    _seed(prod)
    r = run_cli("drift", "--to", url(prod), cwd=tmp_path, stdin="", env=PWD)
    assert r.returncode == ExitCode.USAGE
    assert "No desired SQL arrived on standard input" in r.stderr
