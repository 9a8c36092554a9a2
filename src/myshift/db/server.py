"""Throwaway local MariaDB/MySQL servers.

Used by the test-suite, ``myshift demo``, the local workspace that loads
desired SQL, and the local rehearsal sandbox.  A server lives in a fresh
datadir (on /dev/shm when available, so it costs no disk I/O), listens on a
free loopback port and is killed, datadir and all, by ``stop()``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from myshift.errors import ServerMissing

_SBIN = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin")


def _which(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
        for d in _SBIN:
            p = Path(d) / name
            if p.is_file() and os.access(p, os.X_OK):
                return str(p)
    return None


# The only variables a local server (and mariadb-install-db) inherits: never a
# password (MYSQL_PWD, a password_env variable) or anything else of the caller's.
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ")


def server_env() -> dict[str, str]:
    """The environment for a local server's processes: a short allow-list, no secrets."""
    return {k: v for k, v in os.environ.items() if k in _ENV_KEEP}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scratch_root() -> Path:
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm
    return Path(tempfile.gettempdir())


@dataclass
class LocalServer:
    """A throwaway ``mariadbd`` on 127.0.0.1 with user root and no password.

    It can do nothing outside its own datadir: ``secure_file_priv`` is an
    empty directory of its own (no ``SELECT ... INTO OUTFILE`` / ``LOAD_FILE``
    elsewhere), ``local_infile`` is off, the event scheduler is off, and its
    environment holds no password (see ``server_env``).
    """

    port: int = 0
    basedir: Path = field(default_factory=Path)
    process: subprocess.Popen[bytes] | None = None
    extra_args: tuple[str, ...] = ()
    server_id: int = 1

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def user(self) -> str:
        return "root"

    @property
    def files_dir(self) -> Path:
        """The server's secure_file_priv: empty, and the only place it may touch files."""
        return self.basedir / "files"

    @property
    def socket_path(self) -> Path:
        return self.basedir / "mysqld.sock"

    def url(self, schema: str = "") -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{schema}"

    @classmethod
    def start(
        cls,
        *,
        extra_args: tuple[str, ...] = (),
        server_id: int = 1,
        timeout: float = 30.0,
    ) -> LocalServer:
        mariadbd = _which("mariadbd", "mysqld")
        install = _which("mariadb-install-db", "mysql_install_db")
        if not mariadbd or not install:
            raise ServerMissing(
                "No local MariaDB server binaries (mariadbd, mariadb-install-db) were found.",
                "Install them with `apt-get install mariadb-server` and run again.",
            )
        basedir = Path(tempfile.mkdtemp(prefix="myshift-srv-", dir=_scratch_root()))
        try:
            return cls._install_and_start(
                mariadbd, install, basedir, extra_args=extra_args, server_id=server_id,
                timeout=timeout,
            )  # fmt: skip
        except BaseException:
            # A failed start, or Ctrl-C while mariadb-install-db ran: no datadir is left
            # behind on /dev/shm (113 MB each).
            shutil.rmtree(basedir, ignore_errors=True)
            raise

    @classmethod
    def _install_and_start(
        cls,
        mariadbd: str,
        install: str,
        basedir: Path,
        *,
        extra_args: tuple[str, ...],
        server_id: int,
        timeout: float,
    ) -> LocalServer:
        datadir = basedir / "data"
        res = subprocess.run(
            [
                install,
                "--no-defaults",
                f"--datadir={datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--user=root",
                # Its bootstrap's temporary tables too: something cleaning /tmp made
                # it fail ("Could not remove temporary table '/tmp/#sql-temptable...'").
                f"--tmpdir={basedir}",
            ],
            capture_output=True,
            check=False,
            env=server_env(),
        )
        if res.returncode != 0:
            raise ServerMissing(
                "mariadb-install-db failed: " + res.stderr.decode(errors="replace")[-500:],
                "Check that mariadb-server is installed correctly.",
            )
        last_err = ""
        for _attempt in range(5):
            port = free_port()
            srv = cls(port=port, basedir=basedir, extra_args=extra_args, server_id=server_id)
            srv._spawn(mariadbd, datadir)
            try:
                srv._wait_ready(timeout)
                return srv
            except ServerMissing as exc:
                last_err = str(exc)
                srv._kill()
            except BaseException:  # Ctrl-C: its own session, so the server would outlive us
                srv.stop()
                raise
        raise ServerMissing(f"Could not start a local mariadbd: {last_err}", "See the log above.")

    def _spawn(self, mariadbd: str, datadir: Path) -> None:
        self.files_dir.mkdir(mode=0o700, exist_ok=True)
        args = [
            mariadbd,
            "--no-defaults",
            f"--datadir={datadir}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--socket={self.socket_path}",
            f"--pid-file={self.basedir / 'mysqld.pid'}",
            f"--log-error={self.basedir / 'error.log'}",
            # Own tmpdir: other processes cleaning /tmp must not delete the
            # server's temporary files mid-query.
            f"--tmpdir={self.basedir}",
            "--user=root",
            f"--server-id={self.server_id}",
            "--innodb-buffer-pool-size=128M",
            "--innodb-log-file-size=48M",
            "--innodb-flush-log-at-trx-commit=2",
            "--innodb-doublewrite=0",
            "--sync-binlog=0",
            "--skip-name-resolve",
            "--max-connections=300",
            "--table-definition-cache=20000",
            "--table-open-cache=20000",
            "--event-scheduler=OFF",
            f"--secure-file-priv={self.files_dir}",
            "--local-infile=0",
            *self.extra_args,
        ]
        self.process = subprocess.Popen(
            args,
            env=server_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServerMissing(f"mariadbd exited early: {self.error_log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.settimeout(0.5)
                    if s.recv(1):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise ServerMissing(f"mariadbd did not start in {timeout:.0f}s: {self.error_log_tail()}")

    def error_log_tail(self, n: int = 600) -> str:
        try:
            return (self.basedir / "error.log").read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def _kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        self._kill()
        shutil.rmtree(self.basedir, ignore_errors=True)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def local_server(**kwargs: object) -> Iterator[LocalServer]:
    srv = LocalServer.start(**kwargs)  # type: ignore[arg-type]
    try:
        yield srv
    finally:
        srv.stop()
