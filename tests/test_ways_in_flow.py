"""Issue 14 end to end: the seed's weekly flow through the CLI, production reached only
through the ways in.

Production is a local MariaDB with a binary log in ROW format, listening on
127.0.0.1 only.  ``myshift.toml`` names it ``host = "localhost"`` behind an SSH
bastion (a real ``sshd`` started here, tests/sshdfixtures.py): every connection
myshift makes is a ``direct-tcpip`` forward the bastion resolves.  The
account's password exists only in a Secrets Manager secret on the local moto
server (``[aws] endpoint_url``; the secret also names the user, as an
RDS-managed one does).  The environment is protected, so apply needs a passed
rehearsal in production's own history and watches the server around the change.

The flow, each step a real ``myshift`` process: plan -o, rehearse on a local
replica (which replicates *through the tunnel* while a writer changes
production), apply --plan, re-plan (nothing left), history, rollback.  After
each command: its exit code and key output, the tunnel's local port closed, no
SSH session left, no process of it left.  Throughout: the secret and the private
key appear in no output, no file under the test's directory, no history row and
no process argv; history names the server as configured, not the tunnel's end.

A second test does plan and the local-replica rehearsal through the bastion with
``ssl_mode = "VERIFY_IDENTITY"`` against a certificate that names "localhost"
only, for an account that REQUIRES SSL.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import boto3
import pytest

from clitools import run_cli
from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.exitcodes import ExitCode
from sshdfixtures import USER, Sshd, forwards, key_body_lines, refused, sshd
from tlsfiles import ca_and_server_cert

__all__ = ["sshd"]  # the fixture, imported for pytest

SCHEMA = "shop"
ACCOUNT = "shift"
SECRET = "Sm-ways-in-9Kq2-only-in-moto"
SECRET_ID = "prod/myshift"
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
"""
DESIRED = TABLES.replace(
    "note varchar(100),", "note varchar(100),\n  status varchar(10) NOT NULL DEFAULT 'new',"
)
# The README's least-privilege blocks for plan, rehearse, apply --keep-data, rollback and
# history, plus the local replica's replication grants.
GRANTS = (
    "GRANT SELECT, INSERT, UPDATE, SHOW VIEW, TRIGGER, EVENT, CREATE, DROP, ALTER, REFERENCES, "
    "CREATE VIEW, CREATE ROUTINE, ALTER ROUTINE ON `shop`.* TO {who}",
    "GRANT SELECT ON `mysql`.`proc` TO {who}",
    "GRANT PROCESS, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO {who}",
    "GRANT SELECT, INSERT, UPDATE, CREATE ON `\\_myshift`.* TO {who}",
    "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER ON `\\_myshift\\_trash`.* TO {who}",
    "GRANT SELECT, CREATE, DROP, ALTER, REFERENCES, CREATE VIEW, TRIGGER, CREATE ROUTINE, "
    "ALTER ROUTINE, EVENT ON `\\_myshift\\_ws\\_%`.* TO {who}",
)
MAX_WRITES = 3000  # the writer's bound during the rehearsal


def _root(srv: LocalServer, schema: str = "") -> Endpoint:
    return Endpoint(host="127.0.0.1", port=srv.port, user="root", password="", schema=schema)


@pytest.fixture(scope="module")
def production() -> Iterator[LocalServer]:
    srv = LocalServer.start(extra_args=("--log-bin=mysql-bin", "--binlog-format=ROW"), server_id=61)
    try:
        yield srv
    finally:
        srv.stop()


def _load(srv: LocalServer) -> None:
    """The schema with rows, and the account (its password only as a hash here: the
    plain text never reaches production's binary log)."""
    who = f"'{ACCOUNT}'@'127.0.0.1'"  # sshd forwards from 127.0.0.1 (skip-name-resolve)
    digest = "*" + hashlib.sha1(hashlib.sha1(SECRET.encode()).digest()).hexdigest().upper()
    with connect(_root(srv)) as c:
        c.execute(f"CREATE DATABASE {SCHEMA}")
        c.execute(f"USE {SCHEMA}")
        for stmt in filter(str.strip, TABLES.split(";")):
            c.execute(stmt)
        c.execute("INSERT INTO customers SELECT seq, CONCAT('c', seq) FROM seq_1_to_1000")
        c.execute(
            "INSERT INTO orders (customer_id, amount, note) "
            "SELECT 1 + seq % 1000, seq / 7, REPEAT('n', seq % 40) FROM seq_1_to_8000"
        )
        c.execute(f"CREATE USER {who} IDENTIFIED BY PASSWORD %s", (digest,))
        for grant in GRANTS:
            c.execute(grant.format(who=who))


def _toml(sshd: Sshd, srv: LocalServer, moto: str) -> str:
    return f"""\
[aws]
region = "us-east-1"
endpoint_url = "{moto}"

# protected environments watch each apply: short windows keep the test short
[watch]
interval = "0.5s"
baseline = "1s"
after = "1s"

[env.prod]
# A name only the bastion resolves for us: production listens on 127.0.0.1 here,
# but myshift reaches it through the forward, never directly.
host = "localhost"
port = {srv.port}
schema = "{SCHEMA}"
protected = true
password_secret = "{SECRET_ID}"
ssh_tunnel = "{USER}@127.0.0.1"
ssh_port = {sshd.port}
ssh_key = "{sshd.client_key}"
ssh_known_hosts = "{sshd.known_hosts}"
"""


# --------------------------------------------------------------------------- observers


class _Observer:
    """Runs ``_run`` in a thread for the ``with`` block; ``_run`` loops until ``_stop``."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        raise NotImplementedError


class ProcWatch(_Observer):
    """Samples every process's argv (as `ps` would show it) while the flow runs."""

    def __init__(self, needles: list[str]) -> None:
        super().__init__()
        self.needles = [n.encode() for n in needles]
        self.hits: list[str] = []
        self.samples = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    argv = cmdline.read_bytes()
                except OSError:
                    continue
                for n in self.needles:
                    if n in argv:
                        self.hits.append(f"{cmdline.parent.name}: {argv[:200]!r}")
            self.samples += 1
            self._stop.wait(0.1)


def _processes_in(directory: Path) -> list[str]:
    """Processes whose working directory is ``directory`` (what a command left running:
    myshift itself, or a server it started)."""
    out = []
    for d in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(d / "cwd")) == directory:
                out.append(f"{d.name}: {(d / 'cmdline').read_bytes()[:200]!r}")
        except OSError:
            continue
    return out


def _columns(c: Conn) -> list[tuple[str, str, str]]:
    return [
        (str(t), str(col), str(ct))
        for t, col, ct in c.query(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s ORDER BY 1, 2",
            (SCHEMA,),
        )
    ]


def _ddl_in_binlog(c: Conn, needle: str) -> list[str]:
    """The statements on SCHEMA containing ``needle`` in production's binary log (plan's
    workspace schemas, on the same server, have their own)."""
    found = []
    for row in c.query("SHOW BINARY LOGS"):
        for ev in c.query(f"SHOW BINLOG EVENTS IN '{row[0]}'"):
            if needle in str(ev[5]) and str(ev[5]).startswith(f"use `{SCHEMA}`"):
                found.append(str(ev[5]))
    return found


def _history_rows(c: Conn) -> list[object]:
    rows: list[object] = []
    for (table,) in c.query("SHOW TABLES FROM _myshift"):
        rows += c.query(f"SELECT * FROM _myshift.{quote_ident(str(table))}")
    return rows


class Flow:
    """Runs the commands in ``cwd``; checks after each that nothing of it is left."""

    def __init__(self, cwd: Path, sshd: Sshd, srv: LocalServer) -> None:
        self.cwd, self.sshd, self.srv = cwd, sshd, srv
        self.outputs: list[str] = []
        self.times: list[str] = []
        self.tunnels: list[int] = []  # the last command's local tunnel ports

    def run(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        before = forwards(self.sshd.log_text(), self.srv.port)
        t0 = time.monotonic()
        r = run_cli(*args, cwd=self.cwd, timeout=120)
        self.times.append(f"{args[0]} {time.monotonic() - t0:.1f}s")
        self.outputs += [r.stdout, r.stderr]
        assert r.returncode == expect, f"{args}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        assert "Traceback" not in r.stderr, r.stderr
        # Reached through the bastion: sshd forwarded to localhost:PORT for this command.
        assert forwards(self.sshd.log_text(), self.srv.port) > before, args
        tunnels = re.findall(
            rf"SSH tunnel to localhost:{self.srv.port} through {USER}@127\.0\.0\.1:"
            rf"{self.sshd.port} \(local (\d+)\)",
            r.stderr,
        )
        assert tunnels, r.stderr
        self.tunnels = [int(p) for p in tunnels]
        # The tunnel is gone with the command: local port closed, SSH session ended,
        # no process of the command (nor any server it started) left behind.
        for port in tunnels:
            assert refused(int(port)), f"{args}: local port {port} still listens"
        assert self.sshd.wait_no_sessions() == [], args
        assert _processes_in(self.cwd) == [], args
        return r


# --------------------------------------------------------------------------- the flow

ADD = "ADD COLUMN `status`"
NEW_COLUMN = ("orders", "status", "varchar(10)")


def _writer(srv: LocalServer, stop: threading.Event, written: list[int]) -> None:
    """The application, writing to production (directly: it lives inside the VPC)."""
    with connect(_root(srv, SCHEMA)) as w:
        while not stop.is_set() and written[0] < MAX_WRITES:
            n = written[0]
            w.execute(
                "INSERT INTO orders (customer_id, amount, note) VALUES (%s, 1, 'live')",
                (1 + n % 1000,),
            )
            w.execute("UPDATE customers SET name = %s WHERE id = %s", (f"w{n}", 1 + n))
            written[0] += 1
            time.sleep(0.002)


def _socket_inode(client_port: int, server_port: int) -> str:
    """The inode of the TCP socket 127.0.0.1:client_port -> :server_port ('' if none)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        local, remote = (int(a.split(":")[1], 16) for a in f[1:3])
        if (local, remote) == (client_port, server_port):
            return f[9]
    return ""


def _sockets(pids: list[int]) -> set[str]:
    """The inodes of the sockets that ``pids`` hold open."""
    found = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                found.add(link[8:-1])
    return found


def _pids() -> list[int]:
    return [int(d.name) for d in Path("/proc").glob("[0-9]*")]


def _descendants(root: int) -> list[int]:
    parent = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


class BinlogReaders(_Observer):
    """Who reads production's binary log: for each replication connection seen on
    production, whether its other end is held by the bastion (sshd's session) or by
    something else (a server connecting directly)."""

    def __init__(self, srv: LocalServer, sshd: Sshd) -> None:
        super().__init__()
        self.srv, self.sshd = srv, sshd
        self.seen: dict[int, str] = {}  # client port -> "bastion" / "other" / "gone"

    def _run(self) -> None:
        with connect(_root(self.srv)) as c:
            while not self._stop.is_set():
                for (host,) in c.query(
                    "SELECT HOST FROM information_schema.PROCESSLIST "
                    "WHERE COMMAND LIKE 'Binlog Dump%%'"
                ):
                    port = int(str(host).rsplit(":", 1)[1])
                    if self.seen.get(port) in (None, "gone"):
                        self.seen[port] = self._judge(port)
                self._stop.wait(0.02)

    def judged(self) -> set[str]:
        """Who held the replication connections (one closed before it was looked at,
        "gone", tells nothing)."""
        return set(self.seen.values()) - {"gone"}

    def _judge(self, port: int) -> str:
        # sshd's sockets first, then the connection's: a socket still there at the
        # second look was there at the first (production listed it before either).
        held = _sockets(_descendants(self.sshd.process.pid))
        inode = _socket_inode(port, self.srv.port)
        if inode in ("", "0"):  # no socket, or one no process holds any more (closing)
            return "gone"
        if inode in held:
            return "bastion"
        # "other" only when another process is seen holding it: one closed meanwhile
        # (STOP SLAVE ends the connection a fraction of a second after it began) is not.
        return "other" if inode in _sockets(_pids()) else "gone"


def _rehearse_while_written(flow: Flow, admin: Conn) -> int:
    """`rehearse --sandbox local-replica` with the writer running; the writes made."""
    stop, written = threading.Event(), [0]
    writer = threading.Thread(target=_writer, args=(flow.srv, stop, written), daemon=True)
    writer.start()
    try:
        with BinlogReaders(flow.srv, flow.sshd) as readers:
            r = flow.run(
                "rehearse", "--plan", "plan.json", "--to", "prod", "--sandbox", "local-replica"
            )
    finally:
        stop.set()
        writer.join(10)
    assert written[0] > 0 and "PASSED" in r.stdout, r.stdout
    for phase in ("Checking production", "Copying", "Replicating from production",
                  "Caught up", "Promoted", "Removed the local server"):  # fmt: skip
        assert phase in r.stderr, r.stderr
    # The local replica read production's binary log through the tunnel: the
    # replication connection production saw came from sshd's session (the bastion),
    # not from the replica's own server process.
    assert readers.judged() == {"bastion"}, readers.seen
    # ... and got the writes made since its snapshot; the report names the server
    # as configured (localhost:PORT), not the tunnel's local port.
    m = re.search(
        rf"Local replica of mysql://{ACCOUNT}@localhost:{flow.srv.port}/{SCHEMA} from binlog "
        r"\S+ \(GTID 0-61-(\d+)\), caught up to GTID 0-61-(\d+) and promoted",
        r.stdout,
    )
    assert m, r.stdout
    assert int(m.group(2)) > int(m.group(1))
    gone = re.search(r"Removed the local server \(pid (\d+), datadir (\S+)\)", r.stderr)
    assert gone, r.stderr
    assert not Path(f"/proc/{gone.group(1)}").exists() and not os.path.exists(gone.group(2))
    # Production untouched: the plan's DDL never reached it.
    assert _ddl_in_binlog(admin, ADD) == []
    return written[0]


def _run_flow(flow: Flow, admin: Conn) -> int:
    """plan, refused apply, rehearse, apply, re-plan, history, rollback; the writes made."""
    original = _columns(admin)
    r = flow.run("plan", "--to", "prod", "--desired", "desired.sql", "-o", "plan.json")
    assert ADD in r.stdout, r.stdout
    assert "Plan written to plan.json (1 statement(s) to run)" in r.stderr

    # Protected: no apply before a rehearsal recorded in production's own history.
    r = flow.run(
        "apply", "--plan", "plan.json", "--to", "prod", "--yes", expect=ExitCode.REHEARSAL_FAILED
    )
    assert "prod is protected and its history records no passed rehearsal" in r.stderr

    written = _rehearse_while_written(flow, admin)
    assert _columns(admin) == original

    # The gate finds the rehearsal (made through another tunnel, another local port).
    r = flow.run("apply", "--plan", "plan.json", "--to", "prod", "--yes")
    assert re.search(r"Applied 1 statement\(s\) to prod; history id (\d+)", r.stdout), r.stdout
    assert "Watch: a 1s baseline of prod" in r.stderr
    applied = _columns(admin)
    assert [c for c in applied if c not in original] == [NEW_COLUMN]
    assert len(_ddl_in_binlog(admin, ADD)) == 1

    # Re-planned: nothing pending (--check would exit 2), the plan JSON holds no statement.
    r = flow.run("plan", "--to", "prod", "--desired", "desired.sql", "--check", "--format", "json")
    assert json.loads(r.stdout)["statements"] == [], r.stdout

    r = flow.run("history", "--to", "prod")
    kinds = re.findall(r"^(\d+)\s+(apply|rehearsal)\s+shop\s.*\bok\b", r.stdout, re.M)
    assert [k for _, k in kinds] == ["apply", "rehearsal"], r.stdout

    r = flow.run("rollback", "--to", "prod", "--yes")
    assert f"Rolled back apply #{kinds[0][0]}" in r.stdout, r.stdout
    assert _columns(admin) == original
    return written


def test_weekly_flow_through_bastion_and_secret(
    sshd: Sshd,
    production: LocalServer,
    moto_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    t_start = time.monotonic()
    _load(production)
    body = {"username": ACCOUNT, "password": SECRET, "engine": "mariadb"}
    sm = boto3.client("secretsmanager", endpoint_url=moto_endpoint, region_name="us-east-1")
    sm.create_secret(Name=SECRET_ID, SecretString=json.dumps(body))
    # myshift finds AWS through [aws] in myshift.toml, not through these.
    for var in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var)
    (tmp_path / "myshift.toml").write_text(_toml(sshd, production, moto_endpoint))
    (tmp_path / "desired.sql").write_text(DESIRED)
    flow = Flow(tmp_path, sshd, production)
    key_lines = key_body_lines(sshd.client_key)
    assert key_lines

    with connect(_root(production)) as admin:
        with ProcWatch([SECRET, *key_lines]) as procs:
            written = _run_flow(flow, admin)
        rows = _history_rows(admin)
        leftovers = admin.query("SHOW DATABASES LIKE '\\_myshift\\_ws\\_%'")
    assert leftovers == []
    # Each command logged in as the secret's user (the env names none); history names
    # the server as configured, never the tunnel's local end (gone after the command).
    targets = [str(r[3]) for r in rows if isinstance(r, tuple) and r[1:2] != () and len(r) > 15]
    assert targets == [f"mysql://{ACCOUNT}@localhost:{flow.srv.port}/{SCHEMA}"] * 3, targets
    # The secret and the key: in no output, file, history row or argv.
    files = {p: p.read_bytes().decode(errors="replace") for p in tmp_path.rglob("*") if p.is_file()}
    assert {tmp_path / "plan.json", tmp_path / "myshift.toml"} <= set(files)
    history_text = repr(rows)
    assert "rehearsal" in history_text
    for needle in (SECRET, *key_lines):
        assert not [t for t in flow.outputs if needle in t]
        assert not [p for p, t in files.items() if needle in t]
        assert needle not in history_text
    assert "PRIVATE KEY" not in "".join(flow.outputs) + "".join(files.values())
    assert procs.samples > 10 and procs.hits == []
    assert SECRET not in sshd.log_text()
    elapsed = time.monotonic() - t_start
    print(
        f"flow {elapsed:.1f}s: {', '.join(flow.times)}; {written} writes during the "
        f"rehearsal; {procs.samples} process samples"
    )


# --------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def tls_production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServer, Path]]:
    """Production with a binary log and TLS: its certificate names "localhost" only."""
    d = tmp_path_factory.mktemp("tls")
    ca, cert, key = ca_and_server_cert(d, "localhost")
    srv = LocalServer.start(
        extra_args=(
            "--log-bin=mysql-bin",
            "--binlog-format=ROW",
            f"--ssl-ca={ca}",
            f"--ssl-cert={cert}",
            f"--ssl-key={key}",
        ),
        server_id=62,
    )
    try:
        yield srv, ca
    finally:
        srv.stop()


def test_local_replica_through_the_tunnel_with_verify_identity(
    sshd: Sshd, tls_production: tuple[LocalServer, Path], tmp_path: Path
) -> None:
    """ssl_mode = VERIFY_IDENTITY through the bastion: myshift checks the name
    "localhost" (not the tunnel's 127.0.0.1); the local replica, which can only be
    pointed at 127.0.0.1, checks the chain against ssl_ca (its account REQUIRES SSL)."""
    srv, ca = tls_production
    who = "'tls_shift'@'127.0.0.1'"
    with connect(_root(srv)) as c:
        c.execute("CREATE DATABASE shop_tls")
        c.execute("CREATE TABLE shop_tls.t (id int PRIMARY KEY, v int)")
        c.execute("INSERT INTO shop_tls.t SELECT seq, seq FROM shop_tls.seq_1_to_500")
        c.execute(f"CREATE USER {who} IDENTIFIED BY %s REQUIRE SSL", (SECRET,))
        for grant in GRANTS:
            c.execute(grant.replace("`shop`", "`shop\\_tls`").format(who=who))
    (tmp_path / "myshift.toml").write_text(
        f'[env.prod]\nhost = "localhost"\nport = {srv.port}\nschema = "shop_tls"\n'
        f'user = "tls_shift"\npassword_env = "E2E_TLS_PASSWORD"\n'
        f'ssl_mode = "VERIFY_IDENTITY"\nssl_ca = "{ca}"\n'
        f'ssh_tunnel = "{USER}@127.0.0.1"\nssh_port = {sshd.port}\n'
        f'ssh_key = "{sshd.client_key}"\nssh_known_hosts = "{sshd.known_hosts}"\n'
    )
    (tmp_path / "desired.sql").write_text("CREATE TABLE t (id int PRIMARY KEY, v int, w int);")
    env = {"E2E_TLS_PASSWORD": SECRET}
    plan = run_cli("plan", "--to", "prod", "--desired", "desired.sql", "-o", "plan.json",
                   cwd=tmp_path, env=env)  # fmt: skip
    assert plan.returncode == 0, plan.stderr
    with BinlogReaders(srv, sshd) as readers:
        r = run_cli(
            "rehearse", "--plan", "plan.json", "--to", "prod", "--sandbox", "local-replica",
            cwd=tmp_path, env=env, timeout=120,
        )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PASSED" in r.stdout and "caught up to GTID" in r.stdout, r.stdout
    assert readers.judged() == {"bastion"}, readers.seen
    note = " ".join(r.stdout.split())
    assert "the local replica checked localhost's certificate against ssl_ca but not its name" in (
        note
    ), r.stdout
    assert sshd.wait_no_sessions() == []
    assert SECRET not in r.stdout + r.stderr + plan.stdout + plan.stderr
