"""A real local ``sshd`` for the SSH bastion tests (issue 14): tests/test_tunnel.py and
tests/test_ways_in_flow.py import the ``sshd`` fixture and helpers from here.

The fixture starts Debian's ``/usr/sbin/sshd`` on a free 127.0.0.1 port with its
own config, host key and a throwaway client key (``make server-deps`` installs
it).  Its log (LogLevel DEBUG1) records every ``direct-tcpip`` forward, so a
test can tell that a connection went through the bastion; its child processes
are the open SSH sessions, so a test can tell that the session was closed.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from myshift.db.server import free_port

SSHD = Path("/usr/sbin/sshd")
USER = getpass.getuser()


@dataclass
class Sshd:
    process: subprocess.Popen[bytes]
    port: int
    dir: Path
    log: Path
    client_key: Path
    known_hosts: Path  # holds the right host key

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def sessions(self) -> list[int]:
        """The pids of sshd's children: one (or two, privsep) per open SSH session."""
        out = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                out.append(int(stat.parent.name))
        return out

    def wait_no_sessions(self, timeout: float = 5.0) -> list[int]:
        deadline = time.monotonic() + timeout
        while (left := self.sessions()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return left


def keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True
    )


def fingerprint(pub: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True)
    return out.stdout.split()[1]  # "256 SHA256:... comment (ED25519)"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    if not SSHD.exists():
        pytest.fail("/usr/sbin/sshd is missing: run `make server-deps` (openssh-server).")
    d = tmp_path_factory.mktemp("sshd")
    keygen(d / "host_key")
    keygen(d / "client_key")
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    port = free_port()
    (d / "known_hosts").write_text(
        f"[127.0.0.1]:{port} " + (d / "host_key.pub").read_text().strip() + "\n"
    )
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\n"
        f"PidFile {d / 'sshd.pid'}\nAuthorizedKeysFile {d / 'authorized_keys'}\n"
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
        "PermitRootLogin prohibit-password\nAllowTcpForwarding yes\nLogLevel DEBUG1\n"
    )
    if os.geteuid() == 0:
        # sshd run as root wants its privilege separation directory (the service makes it).
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = d / "sshd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(d / "sshd_config")],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 10
        while "Server listening" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("sshd did not start: " + log.read_text(errors="replace")[-800:])
            time.sleep(0.02)
        yield Sshd(proc, port, d, log, d / "client_key", d / "known_hosts")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def forwards(log: str, port: int) -> int:
    """How many direct-tcpip forwards to localhost:port sshd has logged."""
    return len(re.findall(rf"server_request_direct_tcpip: .* target localhost port {port}\b", log))


def refused(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:port any more."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def key_body_lines(key: Path) -> list[str]:
    """The base64 lines of a private key file (what must never be seen anywhere)."""
    return [line for line in key.read_text().splitlines()[1:-1] if len(line) > 20]


__all__ = [
    "SSHD",
    "USER",
    "Sshd",
    "fingerprint",
    "forwards",
    "key_body_lines",
    "keygen",
    "refused",
    "sshd",
]
