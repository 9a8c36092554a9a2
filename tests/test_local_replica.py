"""Issue 14: `rehearse --sandbox local-replica` on real servers.

Production is a local MariaDB with a binary log in ROW format.  The sandbox
starts another local server, copies the schema in one consistent snapshot,
replicates from the snapshot's binlog position, catches up, promotes, and the
rehearsal runs there; then the server is removed.  A writer thread changes
production *while the copy is in progress* (the copy's progress callback
holds the copy until the writer is done, so the writes are certainly after
the snapshot and before the catch-up): the promoted replica must have them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from clitools import MYSHIFT, run_cli
from myshift.db.connect import Conn, Endpoint, FreshPassword, connect
from myshift.db.server import LocalServer
from myshift.errors import MyshiftError, PrivilegeError, UsageError
from myshift.exitcodes import ExitCode
from myshift.workflows.clone import Progress, ProgressFn
from myshift.workflows.datamode import DataMode
from myshift.workflows.plan import PlanOptions, build_planfile
from myshift.workflows.rehearse import RehearseOptions, rehearse
from myshift.workflows.sandbox_kinds import make_sandbox
from myshift.workflows.sandbox_localreplica import LocalReplicaSandbox, wild_pattern

SCHEMA = "s_hop"  # its "_" must match literally: "sxhop" is another schema, not replicated
PASSWORD = "Repl-S3cret-7f2a"  # the production account's: must not outlive the promotion
TABLES = """
CREATE TABLE customers (id int PRIMARY KEY, name varchar(40) NOT NULL);
CREATE TABLE orders (
  id int AUTO_INCREMENT PRIMARY KEY,
  customer_id int NOT NULL,
  amount decimal(10,2) NOT NULL,
  note varchar(100),
  KEY customer_id (customer_id),
  CONSTRAINT fk_cust FOREIGN KEY (customer_id) REFERENCES customers (id)
);
CREATE TABLE events_log (at int NOT NULL, what varchar(20) NOT NULL);
"""
DESIRED = TABLES.replace(
    "note varchar(100),", "note varchar(100),\n  status varchar(10) NOT NULL DEFAULT 'new',"
)
WRITES = 300  # changes the writer makes during the copy


def _ep(srv: LocalServer, schema: str = "", user: str = "root", pw: str = "") -> Endpoint:
    return Endpoint(host="127.0.0.1", port=srv.port, user=user, password=pw, schema=schema)


@pytest.fixture(scope="module")
def primary() -> Iterator[LocalServer]:
    srv = LocalServer.start(extra_args=("--log-bin=mysql-bin", "--binlog-format=ROW"), server_id=21)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def prod(primary: LocalServer) -> Iterator[Endpoint]:
    """SCHEMA with rows, a look-alike schema, and an account with just what is needed."""
    with connect(_ep(primary)) as c:
        for name in (SCHEMA, "sxhop"):
            c.execute(f"DROP DATABASE IF EXISTS `{name}`")
            c.execute(f"CREATE DATABASE `{name}`")
        c.execute("CREATE TABLE sxhop.t (id int PRIMARY KEY)")
        c.execute(f"USE `{SCHEMA}`")
        for stmt in filter(str.strip, TABLES.split(";")):
            c.execute(stmt)
        c.execute("INSERT INTO customers SELECT seq, CONCAT('c', seq) FROM seq_1_to_2000")
        c.execute(
            "INSERT INTO orders (customer_id, amount, note) "
            "SELECT 1 + seq % 2000, seq / 7, REPEAT('n', seq % 50) FROM seq_1_to_20000"
        )
        c.execute("INSERT INTO events_log SELECT seq, 'boot' FROM seq_1_to_500")
        c.execute("DROP USER IF EXISTS 'shift'@'127.0.0.1'")
        c.execute("CREATE USER 'shift'@'127.0.0.1' IDENTIFIED BY %s", (PASSWORD,))
        c.execute(f"GRANT ALL ON `{SCHEMA.replace('_', chr(92) + '_')}`.* TO 'shift'@'127.0.0.1'")
        c.execute("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'shift'@'127.0.0.1'")
        c.execute("GRANT ALL ON `\\_myshift`.* TO 'shift'@'127.0.0.1'")  # its history
    yield _ep(primary, SCHEMA, "shift", PASSWORD)


def _plan(prod: Endpoint, tmp_path: Path) -> Path:
    """Planned as root (the workspace schema is root's business); rehearsed as `shift`."""
    (tmp_path / "desired.sql").write_text(DESIRED)
    out = tmp_path / "plan.json"
    root = Endpoint(host=prod.host, port=prod.port, user="root", password="", schema=prod.schema)
    build_planfile(root, str(tmp_path / "desired.sql"), PlanOptions()).write(out)
    return out


def _state(c: Conn, schema: str) -> dict[str, tuple[int, int]]:
    """Rows and CHECKSUM TABLE of each table."""
    out = {}
    for t in ("customers", "orders", "events_log"):
        n = int(c.scalar(f"SELECT COUNT(*) FROM `{schema}`.`{t}`"))
        out[t] = (n, int(c.query(f"CHECKSUM TABLE `{schema}`.`{t}`")[0][1]))
    return out


def _objects(c: Conn, schema: str) -> list[tuple[str, str]]:
    return [
        (str(n), str(ct))
        for n, ct in c.query(
            "SELECT TABLE_NAME, CREATE_OPTIONS FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s ORDER BY 1",
            (schema,),
        )
    ] + [(str(r[0]), "col") for r in c.query(
        "SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME) FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = %s ORDER BY 1", (schema,))]  # fmt: skip


def _writer(primary: LocalServer, go: threading.Event, done: threading.Event) -> None:
    """Inserts, updates and deletes in SCHEMA, and writes to the look-alike schema."""
    go.wait(60)
    with connect(_ep(primary, SCHEMA)) as w:
        for i in range(WRITES):
            k = i % 5
            if k == 0:
                w.execute("INSERT INTO customers VALUES (%s, %s)", (5000 + i, f"new{i}"))
            elif k == 1:
                w.execute(
                    "INSERT INTO orders (customer_id, amount, note) VALUES (%s, 1.5, 'live')",
                    (5000 + i - 1,),
                )
            elif k == 2:
                w.execute("UPDATE orders SET amount = amount + 1 WHERE id = %s", (i * 7 + 1,))
            elif k == 3:
                w.execute("DELETE FROM orders WHERE id = %s", (i * 11 + 3,))
            else:
                w.execute("INSERT INTO sxhop.t VALUES (%s)", (i,))
                w.execute("INSERT INTO events_log VALUES (%s, 'live')", (i,))
    done.set()


class _Observed(LocalReplicaSandbox):
    """The real sandbox; the test holds the copy while production is written to, and
    looks at the promoted server before the plan runs on it."""

    def __init__(self, hold: ProgressFn, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.hold = hold
        self.lines: list[str] = []
        self._say = self.lines.append
        self.promoted: dict[str, object] = {}

    def prepare(
        self,
        target: Endpoint,
        *,
        data: DataMode | None = None,
        progress: ProgressFn | None = None,
        workers: int = 4,
    ) -> Endpoint:
        ep = super().prepare(target, data=data, progress=self.hold, workers=workers)
        assert self.server is not None and self.server.process is not None
        with connect(ep) as c:
            self.promoted = {
                "state": _state(c, ep.schema),
                "slave": c.query("SHOW SLAVE STATUS"),
                "read_only": c.scalar("SELECT @@GLOBAL.read_only"),
                "writable": c.execute("INSERT INTO events_log VALUES (-1, 'probe')"),
                "pid": self.server.process.pid,
                "basedir": self.server.basedir,
            }
            c.execute("DELETE FROM events_log WHERE at = -1")
        secret = PASSWORD.encode()
        argv = Path(f"/proc/{self.server.process.pid}/cmdline").read_bytes()
        assert secret not in argv and b"--server-id=" in argv
        self.promoted["password_files"] = [
            str(p)
            for p in self.server.basedir.rglob("*")
            if p.is_file() and secret in p.read_bytes()
        ]
        return ep


def test_replica_caught_up_promoted_rehearsed_removed(
    primary: LocalServer, prod: Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    plan = _plan(prod, tmp_path)
    with connect(_ep(primary)) as c:
        before = _objects(c, SCHEMA)
    go, done = threading.Event(), threading.Event()
    writer = threading.Thread(target=_writer, args=(primary, go, done), daemon=True)
    writer.start()
    held: list[int] = []

    def hold(p: Progress) -> None:
        if not held:  # first batch copied: the snapshot is open, the copy under way
            held.append(p.rows)
            go.set()
            assert done.wait(60), "the writer did not finish"

    sb = _Observed(hold)
    t0 = time.monotonic()
    report = rehearse(
        plan,
        prod,
        RehearseOptions(progress=False, record_history=False, audit_log=None),
        sandbox=sb,
    )
    elapsed = time.monotonic() - t0
    writer.join(10)
    assert report.passed, report.to_text()
    assert held and held[0] < 20000  # the writes happened in the middle of the copy
    # The plan ran in the sandbox.
    assert [s.status for s in report.statements] == ["ok"]
    assert "ADD COLUMN `status`" in report.statements[0].sql
    assert report.data == "replica" and report.sandbox == "local-replica"

    with connect(_ep(primary)) as c:
        prod_state = _state(c, SCHEMA)
        after = _objects(c, SCHEMA)
    # Caught up: equal to production, including the rows written during the copy
    # (which the copy's snapshot did not have).
    assert sb.promoted["state"] == prod_state
    assert sb.clone_stats is not None
    copied = sb.clone_stats.rows_per_table
    assert prod_state["customers"][0] == copied["customers"] + WRITES // 5
    assert sum(n for n, _ in prod_state.values()) != sum(copied.values())
    # Promoted: not replicating, writable.
    assert sb.promoted["slave"] == [] and sb.promoted["read_only"] == 0
    assert sb.promoted["writable"] == 1
    # The replication password did not outlive the promotion in the local datadir.
    assert sb.promoted["password_files"] == []
    # Production untouched by the plan: same tables and columns, no myshift objects.
    assert after == before
    # Removed: process gone, datadir gone.
    pid, basedir = sb.promoted["pid"], sb.promoted["basedir"]
    assert isinstance(pid, int) and isinstance(basedir, Path)
    assert not Path(f"/proc/{pid}").exists() and not basedir.exists()
    # Each phase said, with its elapsed time.
    text = "\n".join(sb.lines)
    for phase in ("Checking production", "Copying", "Replicating", "Caught up", "Promoted",
                  "Removed the local server"):  # fmt: skip
        assert re.search(rf"\[\s*\d+\.\ds\] {phase}", text), text
    assert PASSWORD not in text + report.to_text()
    print(f"local-replica rehearsal: {elapsed:.1f}s", *sb.lines, report.to_text(), sep="\n")


def test_binlog_off_is_refused_naming_log_bin(server: LocalServer) -> None:
    with connect(_ep(server)) as c:
        c.execute("CREATE DATABASE IF NOT EXISTS lr_nobinlog")
    sb = make_sandbox("local-replica")
    assert isinstance(sb, LocalReplicaSandbox)
    with sb, pytest.raises(UsageError, match="log_bin") as exc:
        sb.prepare(_ep(server, "lr_nobinlog"))
    assert exc.value.fix and "log_bin" in exc.value.fix
    assert sb.server is None  # refused before any server was started


def test_statement_format_and_missing_grants_are_refused(
    primary: LocalServer, prod: Endpoint
) -> None:
    with connect(_ep(primary)) as c:
        c.execute("SET GLOBAL binlog_format = 'STATEMENT'")
        try:
            with pytest.raises(UsageError, match="binlog_format = STATEMENT") as exc:
                LocalReplicaSandbox(say=lambda s: None).prepare(prod)
            assert exc.value.fix and "ROW" in exc.value.fix
        finally:
            c.execute("SET GLOBAL binlog_format = 'ROW'")
        c.execute("REVOKE REPLICATION SLAVE ON *.* FROM 'shift'@'127.0.0.1'")
    with pytest.raises(PrivilegeError, match="REPLICATION SLAVE") as pexc:
        LocalReplicaSandbox(say=lambda s: None).prepare(prod)
    assert pexc.value.grant == (
        "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'shift'@'127.0.0.1'"
    )


def test_an_iam_token_login_is_refused_before_anything_starts(prod: Endpoint) -> None:
    """auth = "iam" gives a token per login (Endpoint.fresh_password): the replica's
    IO thread, logging in by itself later, would have none that works."""
    made: list[int] = []

    def token() -> str:
        made.append(1)
        return "prod.example:3306/?Action=connect&X-Amz-Signature=abc"

    iam = replace(prod, password=None, fresh_password=FreshPassword(token, "The IAM fix."))
    sb = make_sandbox("local-replica")
    assert isinstance(sb, LocalReplicaSandbox)
    with sb, pytest.raises(UsageError, match='with auth = "iam"') as exc:
        sb.prepare(iam)
    assert exc.value.fix and "password_secret" in exc.value.fix
    assert sb.server is None and made == []  # refused before starting or connecting


def test_wild_pattern_matches_the_schema_literally() -> None:
    assert wild_pattern("s_hop") == "s\\_hop.%"
    assert wild_pattern("a%b") == "a\\%b.%"


def test_cli_rehearse_local_replica_while_production_is_written(
    primary: LocalServer, prod: Endpoint, tmp_path: Path
) -> None:
    """End to end through `myshift rehearse --sandbox local-replica`, a writer running."""
    plan = _plan(prod, tmp_path)
    stop = threading.Event()
    written = [0]

    def write() -> None:
        with connect(_ep(primary, SCHEMA)) as w:
            while not stop.is_set() and written[0] < 5000:
                w.execute("INSERT INTO events_log VALUES (%s, 'cli')", (written[0],))
                w.execute("UPDATE orders SET amount = amount + 1 WHERE id = %s", (written[0],))
                written[0] += 1
                time.sleep(0.002)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    t0 = time.monotonic()
    try:
        res = run_cli(
            "rehearse",
            "--plan",
            str(plan),
            "--to",
            f"mysql://shift@127.0.0.1:{primary.port}/{SCHEMA}",
            "--sandbox",
            "local-replica",
            "--workers",
            "2",
            cwd=tmp_path,
            env={"MYSQL_PWD": PASSWORD},
            timeout=180,
        )
    finally:
        stop.set()
        writer.join(10)
    elapsed = time.monotonic() - t0
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert written[0] > 0
    assert "Promoted" in res.stderr and "Caught up" in res.stderr
    m = re.search(r"Removed the local server \(pid (\d+), datadir (\S+)\)", res.stderr)
    assert m, res.stderr
    assert not Path(f"/proc/{m.group(1)}").exists() and not os.path.exists(m.group(2))
    assert PASSWORD not in out
    with connect(_ep(primary)) as c:
        cols = [r[0] for r in c.query(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = 'orders'", (SCHEMA,))]  # fmt: skip
    assert "status" not in cols  # the plan ran in the sandbox only
    print(f"CLI local-replica rehearsal: {elapsed:.1f}s, {written[0]} writes meanwhile")
    print(res.stderr, res.stdout)


def test_sigterm_while_preparing_removes_the_replica_server(
    primary: LocalServer, prod: Endpoint, tmp_path: Path
) -> None:
    """SIGTERM (a CI time limit, systemd) to `myshift rehearse --sandbox local-replica`
    once its server is up: the server is stopped and its datadir removed, production
    is untouched, exit 143."""
    plan = _plan(prod, tmp_path)
    proc = subprocess.Popen(
        [*MYSHIFT, "rehearse", "--plan", str(plan),
         "--to", f"mysql://shift@127.0.0.1:{primary.port}/{SCHEMA}",
         "--sandbox", "local-replica"],
        cwd=tmp_path, env={**os.environ, "MYSQL_PWD": PASSWORD},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen = ""
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen += line
            up = re.search(r"Local server up: \S+, pid (\d+), datadir (\S+)", line)
            if up:
                break
        assert up, seen
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, rest = proc.communicate(timeout=60)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = seen + rest
    print(f"SIGTERM -> exit {proc.returncode} in {took:.3f}s (local-replica)")
    assert proc.returncode == ExitCode.TERMINATED, err
    assert "Interrupted by SIGTERM" in err, err
    assert "local-replica sandbox, which was removed" in err, err
    pid, datadir = int(up.group(1)), up.group(2)
    assert not Path(f"/proc/{pid}").exists() and not os.path.exists(datadir)
    assert "Traceback" not in err and PASSWORD not in err
    with connect(_ep(primary)) as c:
        cols = [r[0] for r in c.query(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = 'orders'", (SCHEMA,))]  # fmt: skip
    assert "status" not in cols


def test_unknown_spec_mentions_local_replica() -> None:
    with pytest.raises(MyshiftError, match="local-replica"):
        make_sandbox("local-replica:x")


def _failing_rehearsal(
    prod: Endpoint, tmp_path: Path, during_copy: object
) -> tuple[BaseException, list[str], tuple[int, Path]]:
    """Rehearse with ``during_copy(sandbox)`` run at the copy's first batch; the error,
    the phase lines and the local server's (pid, datadir)."""
    plan = _plan(prod, tmp_path)
    seen: list[tuple[int, Path]] = []

    def hold(p: Progress) -> None:
        if not seen:
            assert sb.server is not None and sb.server.process is not None
            seen.append((sb.server.process.pid, sb.server.basedir))
            during_copy(sb)  # type: ignore[operator]

    sb = _Observed(hold)
    opts = RehearseOptions(progress=False, record_history=False, audit_log=None)
    with pytest.raises(BaseException) as exc:
        rehearse(plan, prod, opts, sandbox=sb)
    assert seen
    pid, basedir = seen[0]
    assert not Path(f"/proc/{pid}").exists() and not basedir.exists()  # removed all the same
    return exc.value, sb.lines, seen[0]


def test_broken_replication_is_reported_and_the_server_removed(
    primary: LocalServer, prod: Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row the replica already has (written there behind its back): the SQL thread
    stops on a duplicate key, and the rehearsal says so at once, not after a timeout."""
    monkeypatch.chdir(tmp_path)

    def conflict(sb: LocalReplicaSandbox) -> None:
        assert sb.server is not None
        with connect(_ep(sb.server, SCHEMA)) as local:
            local.execute("INSERT INTO customers VALUES (9001, 'local')")
        with connect(_ep(primary, SCHEMA)) as p:
            p.execute("INSERT INTO customers VALUES (9001, 'prod')")

    t0 = time.monotonic()
    err, lines, _ = _failing_rehearsal(prod, tmp_path, conflict)
    assert time.monotonic() - t0 < 30
    assert isinstance(err, MyshiftError), err
    assert "stopped" in err.message and "Duplicate" in err.message, err.message
    assert err.fix and "--keep" in err.fix
    assert "Removed the local server" in lines[-1]


def test_purged_binlog_is_named_with_its_fix(
    primary: LocalServer, prod: Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production purged the binary log the copy started from (before replication began)."""
    monkeypatch.chdir(tmp_path)

    def purge(sb: LocalReplicaSandbox) -> None:
        with connect(_ep(primary)) as p:
            p.execute("INSERT INTO s_hop.events_log VALUES (1, 'x')")
            p.execute("FLUSH BINARY LOGS")
            last = p.query("SHOW BINARY LOGS")[-1][0]
            deadline = time.monotonic() + 10  # purged once InnoDB has checkpointed the file
            while len(p.query("SHOW BINARY LOGS")) > 1 and time.monotonic() < deadline:
                p.execute(f"PURGE BINARY LOGS TO '{last}'")
                time.sleep(0.05)
            assert len(p.query("SHOW BINARY LOGS")) == 1

    err, _, _ = _failing_rehearsal(prod, tmp_path, purge)
    assert isinstance(err, MyshiftError), err
    assert "no longer has the binary log" in err.message, err.message
    assert err.fix and "expire_logs" in err.fix


def test_ctrl_c_during_the_copy_removes_the_server(
    prod: Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    def interrupt(sb: LocalReplicaSandbox) -> None:
        raise KeyboardInterrupt

    err, _, _ = _failing_rehearsal(prod, tmp_path, interrupt)
    assert isinstance(err, MyshiftError) and "Interrupted" in err.message, err
    assert "production was not changed" in err.message


def test_keep_leaves_the_promoted_server_and_says_how_to_connect(prod: Endpoint) -> None:
    sb = make_sandbox("local-replica", keep=True)
    assert isinstance(sb, LocalReplicaSandbox)
    lines: list[str] = []
    sb._say = lines.append
    try:
        ep = sb.prepare(prod)
        msg = sb.finish()
        assert sb.server is not None and sb.server.basedir.exists()
        assert msg and f"-P {sb.server.port}" in msg and "kill the pid" in msg
        with connect(ep) as c:
            assert c.query("SHOW SLAVE STATUS") == []
            assert c.scalar("SELECT COUNT(*) FROM customers") >= 2000
    finally:
        sb.teardown()
    assert not any("Removed" in line for line in lines[:-1]) and "Removed" in lines[-1]


def test_grant_hidden_behind_a_role_is_named_by_the_replication_thread(
    primary: LocalServer, prod: Endpoint
) -> None:
    """With a role active information_schema cannot tell what is missing: the check
    lets it pass and the local replica's IO thread's refusal is turned into the GRANT."""
    with connect(_ep(primary)) as c:
        c.execute("DROP USER IF EXISTS 'rolly'@'127.0.0.1'")
        c.execute("DROP ROLE IF EXISTS lr_role")
        c.execute("CREATE ROLE lr_role")
        c.execute("CREATE USER 'rolly'@'127.0.0.1' IDENTIFIED BY %s", (PASSWORD,))
        c.execute(f"GRANT ALL ON `{SCHEMA.replace('_', chr(92) + '_')}`.* TO 'rolly'@'127.0.0.1'")
        c.execute("GRANT REPLICATION CLIENT ON *.* TO 'rolly'@'127.0.0.1'")
        c.execute("GRANT lr_role TO 'rolly'@'127.0.0.1'")
        c.execute("SET DEFAULT ROLE lr_role FOR 'rolly'@'127.0.0.1'")
    sb = LocalReplicaSandbox()
    lines: list[str] = []
    sb._say = lines.append
    t0 = time.monotonic()
    with sb, pytest.raises(MyshiftError, match="cannot read production's binary log") as exc:
        sb.prepare(_ep(primary, SCHEMA, "rolly", PASSWORD))
    assert time.monotonic() - t0 < 30
    assert exc.value.fix and "GRANT REPLICATION SLAVE" in exc.value.fix
    assert "'rolly'@'127.0.0.1'" in exc.value.fix
    assert PASSWORD not in exc.value.message + exc.value.fix
    assert "Removed the local server" in lines[-1]


def test_file_position_replication_when_there_is_no_gtid(primary: LocalServer) -> None:
    """The branch for a production without GTIDs yet: CHANGE MASTER TO file/position,
    caught up through MASTER_POS_WAIT (replica.wait_caught_up's classic path)."""
    from myshift.workflows.sandbox_localreplica import (
        Coordinates,
        catch_up,
        snapshot_coordinates,
        start_replication,
    )

    with connect(_ep(primary)) as p:
        p.execute("DROP DATABASE IF EXISTS lr_filepos")
        p.execute("CREATE DATABASE lr_filepos")
        p.execute("CREATE TABLE lr_filepos.t (id int PRIMARY KEY)")
        p.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        at = snapshot_coordinates(p)
        p.execute("COMMIT")
        assert at.gtid  # production has GTIDs; the branch is forced below
        p.execute("INSERT INTO lr_filepos.t SELECT seq FROM lr_filepos.seq_1_to_100")
        # Another schema (made after the snapshot too): all of it skipped by the filter.
        p.execute("DROP DATABASE IF EXISTS lr_other")
        p.execute("CREATE DATABASE lr_other")
        p.execute("CREATE TABLE lr_other.t (id int PRIMARY KEY)")
        p.execute("INSERT INTO lr_other.t VALUES (1)")
    with LocalServer.start(server_id=31) as local_srv, connect(_ep(local_srv)) as local:
        local.execute("CREATE DATABASE lr_filepos")
        local.execute("CREATE TABLE lr_filepos.t (id int PRIMARY KEY)")
        start_replication(local, _ep(primary, "lr_filepos"), Coordinates(at.file, at.pos, ""))
        with connect(_ep(primary)) as p:
            catch_up(local, p, "'root'@'127.0.0.1'", 30)
        row = local.query_dicts("SHOW SLAVE STATUS")[0]
        assert row["Using_Gtid"] == "No" and row["Slave_SQL_Running"] == "Yes"
        assert local.scalar("SELECT COUNT(*) FROM lr_filepos.t") == 100
        assert local.scalar("SELECT COUNT(*) FROM information_schema.SCHEMATA "
                            "WHERE SCHEMA_NAME = 'lr_other'") == 0  # fmt: skip


def test_replica_tls_checks_the_name_only_where_master_host_is_it() -> None:
    """MASTER_SSL_VERIFY_SERVER_CERT is MariaDB's *name* check against MASTER_HOST (the
    CA alone verifies the chain): on for VERIFY_IDENTITY, off for VERIFY_CA and through
    an SSH tunnel, where MASTER_HOST is the tunnel's 127.0.0.1."""
    from myshift.workflows.sandbox_localreplica import _tls_options, tunnel_tls_note

    direct = Endpoint(host="db.example", ssl_mode="VERIFY_IDENTITY", ssl_ca="/ca.pem")
    tunneled = Endpoint(
        host="127.0.0.1", port=40001, ssl_mode="VERIFY_IDENTITY", ssl_ca="/ca.pem",
        server_name="db.example", server_port=3306,
    )  # fmt: skip
    ca_only = Endpoint(host="db.example", ssl_mode="VERIFY_CA", ssl_ca="/ca.pem")
    assert _tls_options(direct) == (
        ", MASTER_SSL = 1, MASTER_SSL_CA = %s, MASTER_SSL_VERIFY_SERVER_CERT = 1",
        ["/ca.pem"],
    )
    for ep in (tunneled, ca_only):
        sql, args = _tls_options(ep)
        assert sql.endswith("MASTER_SSL_VERIFY_SERVER_CERT = 0") and args == ["/ca.pem"]
    assert _tls_options(Endpoint(ssl_mode="PREFERRED")) == ("", [])
    assert "db.example's certificate against ssl_ca but not its name" in tunnel_tls_note(tunneled)
    assert tunnel_tls_note(direct) == "" and tunnel_tls_note(ca_only) == ""
