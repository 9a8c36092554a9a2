"""Issue 14: environments reached through an SSH bastion (``ssh_tunnel``), against a real sshd.

The ``sshd`` fixture (tests/sshdfixtures.py) starts Debian's ``/usr/sbin/sshd``
on a free 127.0.0.1 port with its own config, host key and a throwaway client
key.  Its log records every ``direct-tcpip`` forward, so a test can tell that a
connection went through the bastion; its child processes are the open SSH
sessions, so a test can tell that the session was closed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clitools import MYSHIFT, run_cli
from myshift.config.settings import EnvConfig, Settings
from myshift.db.connect import Endpoint, connect
from myshift.db.server import LocalServer, free_port
from myshift.errors import ConnectionFailed, UsageError
from myshift.exitcodes import ExitCode
from myshift.net.tunnel import bastion_of, open_tunnel
from myshift.workflows.reach import Reach
from sshdfixtures import (
    USER,
    Sshd,
    fingerprint,
    forwards,
    key_body_lines,
    keygen,
    refused,
    sshd,
)
from tlsfiles import ca_and_server_cert

__all__ = ["sshd"]  # the fixture, imported for pytest


def _env(sshd: Sshd, **kw: object) -> EnvConfig:
    values: dict[str, object] = {
        "ssh_tunnel": f"{USER}@127.0.0.1",
        "ssh_port": sshd.port,
        "ssh_key": str(sshd.client_key),
        "ssh_known_hosts": str(sshd.known_hosts),
    }
    values.update(kw)
    return EnvConfig(name="prod", **values)  # type: ignore[arg-type]


def _open_fails(env: EnvConfig) -> ConnectionFailed:
    """The error opening a tunnel with ``env`` raises (it must raise one)."""
    with pytest.raises(ConnectionFailed) as err, open_tunnel(env, "localhost", 1, say=print):
        pytest.fail("the tunnel opened")
    return err.value


def _tunnel_threads() -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t.name.startswith("myshift-tunnel") or "paramiko" in type(t).__module__
    ]


def _assert_no_key_material(sshd: Sshd, text: str) -> None:
    assert "PRIVATE KEY" not in text
    body = key_body_lines(sshd.client_key)
    assert body and not any(line in text for line in body)


def _toml(sshd: Sshd, server: LocalServer, schema: str, extra: str = "") -> str:
    return (
        "[env.prod]\n"
        # A name the bastion resolves: the forward, not this machine, looks it up.
        'host = "localhost"\n'
        f'port = {server.port}\nuser = "root"\nschema = "{schema}"\n'
        f'ssh_tunnel = "{USER}@127.0.0.1"\nssh_port = {sshd.port}\n'
        f'ssh_key = "{sshd.client_key}"\n{extra}'
    )


# --------------------------------------------------------------------------- end to end


def test_plan_goes_through_the_bastion_and_closes_the_tunnel(
    sshd: Sshd, server: LocalServer, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    with connect(fresh_schema) as c:
        c.execute("CREATE TABLE t (id int PRIMARY KEY)")
    (tmp_path / "myshift.toml").write_text(
        _toml(sshd, server, fresh_schema.schema, f'ssh_known_hosts = "{sshd.known_hosts}"\n')
    )
    (tmp_path / "d.sql").write_text("CREATE TABLE t (id int PRIMARY KEY, note varchar(20));")
    before = forwards(sshd.log_text(), server.port)

    r = run_cli("plan", "--to", "prod", "--desired", "d.sql", cwd=tmp_path)

    assert r.returncode in (0, ExitCode.CHANGES_PENDING), r.stdout + r.stderr
    assert "ADD COLUMN `note`" in r.stdout, r.stdout
    m = re.search(
        rf"SSH tunnel to localhost:{server.port} through {USER}@127.0.0.1:{sshd.port} "
        r"\(local (\d+)\)",
        r.stderr,
    )
    assert m, r.stderr
    # The server was reached through the bastion: sshd forwarded to localhost:PORT.
    assert forwards(sshd.log_text(), server.port) > before
    # And the tunnel is gone: the local port is closed, the SSH session ended.
    assert refused(int(m.group(1)))
    assert sshd.wait_no_sessions() == []
    _assert_no_key_material(sshd, r.stdout + r.stderr)


def test_in_process_tunnel_closes_listener_threads_and_session(
    sshd: Sshd, server: LocalServer
) -> None:
    threads_before = set(threading.enumerate())
    said: list[str] = []
    with open_tunnel(_env(sshd), "localhost", server.port, say=said.append) as (host, port):
        assert host == "127.0.0.1" and port != server.port
        # Two connections at once through the one session.
        ep = Endpoint(host=host, port=port, user="root", password="")
        with connect(ep) as a, connect(ep) as b:
            assert a.scalar("SELECT 1 + 1") == 2 and b.scalar("SELECT 40 + 2") == 42
        assert sshd.sessions()
    assert said and f"through {USER}@127.0.0.1:{sshd.port}" in said[0]
    assert refused(port)
    assert set(threading.enumerate()) - threads_before == set()
    assert sshd.wait_no_sessions() == []


def test_closing_does_not_wait_for_a_client_that_stopped_reading(sshd: Sshd) -> None:
    """A forward blocked sending (the local client reads nothing) still ends at once."""
    blaster = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def blast() -> None:
        conn, _ = blaster.accept()
        with conn:
            while not stop.is_set():
                try:
                    conn.sendall(b"x" * 65536)
                except OSError:
                    return

    feeder = threading.Thread(target=blast, daemon=True)
    feeder.start()
    try:
        target = blaster.getsockname()[1]
        with open_tunnel(_env(sshd), "localhost", target, say=print) as (host, port):
            idle = socket.create_connection((host, port))
            time.sleep(0.5)  # every buffer on the way fills up
            t0 = time.monotonic()
        assert time.monotonic() - t0 < 3
        idle.close()
    finally:
        stop.set()
        blaster.close()
    assert not [t for t in _tunnel_threads() if t.is_alive()]
    assert sshd.wait_no_sessions() == []


def _streaming_server(stop: threading.Event) -> socket.socket:
    """A server that streams to every connection until the client goes away."""
    server = socket.create_server(("127.0.0.1", 0), backlog=64)

    def stream(conn: socket.socket) -> None:
        with conn:
            while not stop.is_set():
                try:
                    conn.sendall(b"b" * 16384)
                except OSError:
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=stream, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return server


def test_connections_closed_while_data_arrives_keep_the_session(sshd: Sshd) -> None:
    """Clients that close while the server still sends to them (a replica stopped
    while production streams its binary log) leave the SSH session up.  A select()
    on paramiko channels lost it: their pipe, closed by one thread while the
    transport thread wrote to it (10 of 10 stress runs, within 0.2-5.3 s)."""
    stop = threading.Event()
    server = _streaming_server(stop)
    said: list[str] = []
    failures: list[str] = []

    def client(addr: tuple[str, int], n: int) -> None:
        for i in range(n):
            try:
                with socket.create_connection(addr, timeout=10) as c:
                    got, want = 0, 1 + (i * 7919) % 200_000
                    while got < want and (data := c.recv(65536)):
                        got += len(data)
            except OSError as exc:
                failures.append(repr(exc))

    try:
        with open_tunnel(_env(sshd), "localhost", server.getsockname()[1], say=said.append) as addr:
            clients = [threading.Thread(target=client, args=(addr, 60)) for _ in range(4)]
            for t in clients:
                t.start()
            for t in clients:
                t.join(120)
            with socket.create_connection(addr, timeout=10) as c:
                assert c.recv(10), said[-1:]  # the same session still forwards
    finally:
        stop.set()
        server.close()
    assert not [m for m in said if "has ended" in m], said[-1:]
    assert failures == []
    assert sshd.wait_no_sessions() == []


def test_a_server_closing_while_clients_send_keeps_the_session(sshd: Sshd) -> None:
    """The server closes (or resets) connections whose clients are still sending.
    paramiko answers the server's close in its own thread; a send decided just
    before could follow that answer, and OpenSSH ends the session on data for a
    channel it has freed (10 of 10 stress runs, within 0.2-1.1 s)."""
    stop = threading.Event()
    server = socket.create_server(("127.0.0.1", 0), backlog=64)

    def hang_up(conn: socket.socket, i: int) -> None:
        with conn, contextlib.suppress(OSError):
            conn.recv(4096)
            if i % 2:  # a reset rather than a close
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def accept() -> None:
        i = 0
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            i += 1
            threading.Thread(target=hang_up, args=(conn, i), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    said: list[str] = []

    def client(addr: tuple[str, int], n: int) -> None:
        for i in range(n):
            with socket.create_connection(addr, timeout=10) as c, contextlib.suppress(OSError):
                for _ in range(500):
                    c.sendall(b"s" * (1000 + (i * 7919) % 30000))

    try:
        with open_tunnel(_env(sshd), "localhost", server.getsockname()[1], say=said.append) as addr:
            clients = [threading.Thread(target=client, args=(addr, 12)) for _ in range(4)]
            for t in clients:
                t.start()
            for t in clients:
                t.join(120)
            assert not [m for m in said if "has ended" in m], said[-1:]
            assert "Disconnecting" not in sshd.log_text()
    finally:
        stop.set()
        server.close()
    assert sshd.wait_no_sessions() == []


def test_ctrl_c_inside_a_command_closes_the_tunnel(sshd: Sshd, server: LocalServer) -> None:
    settings = Settings(environments={"prod": _env(sshd)})
    ep = Endpoint(host="localhost", port=server.port, user="root", password="", env_name="prod")
    with pytest.raises(KeyboardInterrupt), Reach(settings) as reach:
        through = reach.endpoint(ep)
        assert through.server_name == "localhost" and through.host == "127.0.0.1"
        with connect(through) as c:
            assert c.scalar("SELECT 7") == 7
        raise KeyboardInterrupt
    assert refused(through.port)
    assert not [t for t in _tunnel_threads() if t.is_alive()]
    assert sshd.wait_no_sessions() == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_of_the_real_command_closes_the_tunnel(
    sshd: Sshd, server: LocalServer, tmp_path: Path, sig: signal.Signals
) -> None:
    """SIGINT (or SIGTERM) while `plan` waits for its desired SQL on stdin, the tunnel
    open: a clean exit, and nothing outlives the command (local port, SSH session, no
    ssh child)."""
    (tmp_path / "myshift.toml").write_text(
        _toml(sshd, server, "x", f'ssh_known_hosts = "{sshd.known_hosts}"\n')
    )
    env = {k: v for k, v in os.environ.items() if k != "MYSQL_PWD"}
    proc = subprocess.Popen(
        [*MYSHIFT, "plan", "--to", "prod"],
        cwd=tmp_path,
        stdin=subprocess.PIPE,  # left open: plan waits to read the desired schema
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        line = ""
        while "SSH tunnel to" not in line:
            line = proc.stderr.readline()
            assert line, "myshift ended before opening the tunnel"
        m = re.search(r"\(local (\d+)\)", line)
        assert m, line
        local = int(m.group(1))
        assert not refused(local) and sshd.sessions()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig and "Traceback" not in err, err
    assert "interrupted by " + ("user" if sig == signal.SIGINT else sig.name) in err, err
    assert refused(local)
    assert sshd.wait_no_sessions() == []
    _assert_no_key_material(sshd, out + err)


# --------------------------------------------------------------------------- host keys


def test_unknown_host_key_is_refused_and_nothing_connects(
    sshd: Sshd, server: LocalServer, tmp_path: Path
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    (tmp_path / "myshift.toml").write_text(
        _toml(sshd, server, "x", f'ssh_known_hosts = "{empty}"\n')
    )
    log_before = sshd.log_text()

    r = run_cli("history", "--to", "prod", cwd=tmp_path)

    assert r.returncode == ExitCode.CONNECTION, r.stdout + r.stderr
    fp = fingerprint(sshd.dir / "host_key.pub")
    assert (
        f"The SSH host key of bastion 127.0.0.1:{sshd.port} (ssh-ed25519 {fp}) is not in {empty}"
        in r.stderr
    ), r.stderr
    assert f"ssh-keyscan -p {sshd.port} 127.0.0.1 >> {empty}" in r.stderr
    assert "Traceback" not in r.stderr and "SSH tunnel to" not in r.stderr
    # Never trusted on first use: the file stays empty, and no login was attempted.
    assert empty.read_text() == ""
    new_log = sshd.log_text()[len(log_before) :]
    assert "Accepted publickey" not in new_log and "direct-tcpip" not in new_log
    _assert_no_key_material(sshd, r.stdout + r.stderr)


def test_changed_host_key_isrefused(sshd: Sshd, server: LocalServer, tmp_path: Path) -> None:
    keygen(tmp_path / "old_key")
    known = tmp_path / "known_hosts"
    known.write_text(
        f"[127.0.0.1]:{sshd.port} " + (tmp_path / "old_key.pub").read_text().strip() + "\n"
    )
    log_before = sshd.log_text()
    msg = str(_open_fails(_env(sshd, ssh_known_hosts=str(known))))
    assert f"The SSH host key of bastion 127.0.0.1:{sshd.port} has changed" in msg
    assert fingerprint(sshd.dir / "host_key.pub") in msg
    assert fingerprint(tmp_path / "old_key.pub") in msg
    assert f"ssh-keygen -R '[127.0.0.1]:{sshd.port}' -f {known}" in msg
    assert "Accepted publickey" not in sshd.log_text()[len(log_before) :]


def test_default_known_hosts_is_home_ssh(
    sshd: Sshd, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    err = _open_fails(_env(sshd, ssh_known_hosts=None))
    assert f"is not in {tmp_path}/.ssh/known_hosts" in str(err)
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "known_hosts").write_text(sshd.known_hosts.read_text())
    with open_tunnel(_env(sshd, ssh_known_hosts=None), "localhost", 1, say=print) as (_, port):
        assert port > 0


# --------------------------------------------------------------------------- other failures


def test_a_key_the_bastion_does_not_know_isrefused(sshd: Sshd, tmp_path: Path) -> None:
    keygen(tmp_path / "stranger")
    err = _open_fails(_env(sshd, ssh_key=str(tmp_path / "stranger")))
    assert f"The bastion {USER}@127.0.0.1:{sshd.port} refused the key {tmp_path / 'stranger'}" in (
        str(err)
    )
    assert "authorized_keys" in str(err)
    body = (tmp_path / "stranger").read_text().splitlines()[1]
    assert body not in str(err)


def test_an_encrypted_key_asks_for_the_agent_never_a_passphrase(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "locked"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "s3cret-phrase", "-f", str(key)], check=True
    )
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    err = str(_open_fails(_env(sshd, ssh_key=str(key))))
    assert f"The SSH key {key} for bastion" in err and "is encrypted" in err, err
    assert "ssh-add" in err and "s3cret-phrase" not in err


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"ssh_tunnel": "migrator@"}, "which is not user@host"),
        ({"ssh_tunnel": "migrator@bastion host"}, "which is not user@host"),
        ({"ssh_key": "/nonexistent/key"}, "/nonexistent/key, does not exist"),
    ],
)
def test_bad_tunnel_settings_are_usage_errors(
    sshd: Sshd, values: dict[str, str], expected: str
) -> None:
    with pytest.raises(UsageError, match=re.escape(expected)):
        bastion_of(_env(sshd, **values))


def test_an_unreachable_bastion_is_one_sentence_quickly(sshd: Sshd) -> None:
    t0 = time.monotonic()
    err = _open_fails(_env(sshd, ssh_port=free_port()))
    assert re.match(r"Cannot reach the SSH bastion \S+@127\.0\.0\.1:\d+ \(", str(err)), str(err)
    assert time.monotonic() - t0 < 5


def test_a_server_the_bastion_cannot_reach_is_named(sshd: Sshd) -> None:
    said: list[str] = []
    closed = free_port()
    with open_tunnel(_env(sshd), "localhost", closed, say=said.append) as (host, port):
        ep = Endpoint(host=host, port=port, user="root", password="", server_name="localhost")
        with pytest.raises(ConnectionFailed) as err:
            connect(ep, connect_timeout=5)
    assert f"could not connect to localhost:{closed}" in said[-1], said
    assert "through the SSH tunnel" in str(err.value)


def _drop_sessions(sshd: Sshd) -> None:
    """The bastion drops every SSH session (a reboot, say); paramiko notices."""
    for pid in sshd.sessions():
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while sshd.sessions() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)


def test_a_bastion_that_goes_away_mid_command_is_named(sshd: Sshd, server: LocalServer) -> None:
    """The session ends under an open connection: that connection fails, and the
    tunnel says why; a new connection logs in again (the command goes on)."""
    said: list[str] = []
    with open_tunnel(_env(sshd), "localhost", server.port, say=said.append) as (host, port):
        ep = Endpoint(host=host, port=port, user="root", password="", server_name="localhost")
        with connect(ep) as c:
            assert c.scalar("SELECT 1") == 1
            _drop_sessions(sshd)
            with pytest.raises(ConnectionFailed):
                c.query("SELECT 2")
        deadline = time.monotonic() + 5
        while not [m for m in said if "ended while a connection" in m]:
            assert time.monotonic() < deadline, said
            time.sleep(0.05)
        assert f"to localhost:{server.port} was open" in said[-1], said
        with connect(ep) as c:
            assert c.scalar("SELECT 3") == 3
        assert [m for m in said if "had ended; logged in again" in m], said
    assert refused(port)
    assert sshd.wait_no_sessions() == []


def test_a_bastion_that_stays_away_is_named(
    sshd: Sshd, server: LocalServer, tmp_path: Path
) -> None:
    """The session ended and logging in again fails (here: the bastion's host key is
    no longer trusted): new connections are refused, in one sentence saying both."""
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts.read_text())
    said: list[str] = []
    env = _env(sshd, ssh_known_hosts=str(known))
    with open_tunnel(env, "localhost", server.port, say=said.append) as (host, port):
        known.write_text("")
        _drop_sessions(sshd)
        ep = Endpoint(host=host, port=port, user="root", password="", server_name="localhost")
        for _ in range(2):  # the second is refused at once, without another login
            with pytest.raises(ConnectionFailed):
                connect(ep, connect_timeout=5)
    assert "the SSH session to the bastion" in said[-1] and "has ended" in said[-1], said
    assert "logging in again failed (The SSH host key of bastion" in said[-1], said
    assert refused(port)
    assert sshd.wait_no_sessions() == []


# --------------------------------------------------------------------------- TLS through a tunnel


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServer, Path]]:
    d = tmp_path_factory.mktemp("tls")
    ca, cert, key = ca_and_server_cert(d, "localhost")
    srv = LocalServer.start(
        extra_args=(f"--ssl-ca={ca}", f"--ssl-cert={cert}", f"--ssl-key={key}"), server_id=41
    )
    try:
        yield srv, ca
    finally:
        srv.stop()


def test_verify_identity_through_the_tunnel_checks_the_servers_own_name(
    sshd: Sshd, tls_server: tuple[LocalServer, Path]
) -> None:
    srv, ca = tls_server
    settings = Settings(environments={"prod": _env(sshd)})
    tls = {"ssl_mode": "VERIFY_IDENTITY", "ssl_ca": str(ca), "user": "root", "password": ""}
    # The certificate names "localhost" only: 127.0.0.1 (the tunnel's end) would fail.
    with pytest.raises(ConnectionFailed):
        connect(Endpoint(host="127.0.0.1", port=srv.port, **tls))  # type: ignore[arg-type]
    with Reach(settings) as reach:
        ep = Endpoint(host="localhost", port=srv.port, env_name="prod", **tls)  # type: ignore[arg-type]
        with connect(reach.endpoint(ep)) as c:
            cipher = c.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")[0][1]
            assert cipher, "the session is not encrypted"
        # Through the tunnel the name is still checked: a name the certificate lacks fails.
        wrong = Endpoint(host="127.0.0.1", port=srv.port, env_name="prod", **tls)  # type: ignore[arg-type]
        with pytest.raises(ConnectionFailed):
            connect(reach.endpoint(wrong))
    assert sshd.wait_no_sessions() == []


def test_reach_points_at_the_local_end_and_keeps_the_server_name(
    sshd: Sshd, server: LocalServer
) -> None:
    """The tunnel is opened last: what comes before it (an IAM token) sees the real host."""
    settings = Settings(environments={"prod": _env(sshd)})
    ep = Endpoint(host="localhost", port=server.port, user="root", env_name="prod")
    with Reach(settings) as reach:
        through = reach.endpoint(ep)
        assert (through.host, through.server_name) == ("127.0.0.1", "localhost")
        assert through.port != server.port and through.socket is None
        assert "localhost (through the SSH tunnel at 127.0.0.1:" in through.where
        # What history, plan files and reports record: the server, not the local end.
        assert through.redacted() == f"mysql://root@localhost:{server.port}/"
    assert refused(through.port)
