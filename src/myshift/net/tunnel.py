"""SSH tunnels through a bastion (``ssh_tunnel = "user@bastion"`` in an environment).

``open_tunnel`` logs in to the bastion, listens on ``127.0.0.1:<free port>``
and forwards every connection accepted there over a ``direct-tcpip`` channel
to the server's host and port *as the bastion resolves them* (an RDS endpoint
inside the VPC), logging in again for new connections if the session ended
(``Forwarder``).  It yields the local address; leaving the ``with`` block
(normally, on an error or on Ctrl-C) stops the listener, closes every
forwarded connection and SSH session, and joins the threads.

Why paramiko rather than the system ``ssh -N -L``: it is already a dependency
and runs inside this process, so (1) the listening port is chosen by the
kernel (``:0``) and known at once, with no race for a free port and no polling
until ``ssh`` has bound it; (2) every failure is a typed exception that
becomes one clear sentence (unknown or changed host key, refused key,
unreachable bastion) instead of parsed ``ssh`` stderr; (3) there is no child
process to leak when myshift is killed, and nothing of the tunnel in any argv;
(4) host keys are checked by this code against exactly one known_hosts file,
whatever the user's ``~/.ssh/config`` says (``StrictHostKeyChecking no``
cannot weaken it).  The cost: no ``~/.ssh/config`` (ProxyJump, aliases) and
paramiko's pure-Python speed, plenty for schema work.

Host keys: the bastion's key must already be in ``ssh_known_hosts`` (default
``~/.ssh/known_hosts``), under ``host`` or ``[host]:port``; an unknown or
changed key is refused before any authentication, with the fingerprint to
check and the command that records it.  Never auto-added.  Authentication:
``ssh_key`` if set, then the SSH agent (and, without ``ssh_key``, the default
keys in ``~/.ssh``); an encrypted key must be loaded in the agent, so no
passphrase is ever asked for, held or printed.
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import hashlib
import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paramiko
from paramiko.common import MSG_CHANNEL_CLOSE

from myshift.config.settings import EnvConfig
from myshift.errors import ConnectionFailed, MyshiftError, UsageError

Say = Callable[[str], None]

# Seconds for the TCP connect, the SSH banner, authentication and each channel open.
CONNECT_TIMEOUT = 10.0
# Seconds between keepalives, so an idle tunnel survives NAT and firewall timeouts.
KEEPALIVE = 30
# Seconds after a failed login again during which new connections are refused at once.
RELOGIN_PAUSE = 5.0
# Seconds between looks at a channel whose server has not read what was sent yet.
WINDOW_WAIT = 0.005
_CHUNK = 65536

# paramiko logs transport errors (with tracebacks) at ERROR; without a handler
# Python would print them on stderr.  The errors that matter surface as ours.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


@dataclass(frozen=True)
class Bastion:
    """Where ``ssh_tunnel`` logs in, and with what."""

    user: str
    host: str
    port: int
    key: str | None
    known_hosts: Path

    @property
    def label(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    @property
    def known_name(self) -> str:
        """The bastion's name in known_hosts (as OpenSSH writes it)."""
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"


def bastion_of(env: EnvConfig) -> Bastion:
    """``env``'s ``ssh_tunnel`` ("user@host", the user defaulting to the local one)."""
    spec = (env.ssh_tunnel or "").strip()
    user, _, host = spec.rpartition("@")
    host = host.strip("[]")
    if not host or any(c.isspace() for c in spec):
        raise UsageError(
            f"Environment {env.name!r} has ssh_tunnel = {spec!r}, which is not user@host.",
            'Write it as ssh_tunnel = "user@bastion.example.com" (the port goes in ssh_port).',
        )
    if env.ssh_key is not None and not Path(env.ssh_key).is_file():
        raise UsageError(
            f"The ssh_key of environment {env.name!r}, {env.ssh_key}, does not exist.",
            "Fix ssh_key in myshift.toml, or remove it to use the SSH agent and ~/.ssh keys.",
        )
    known = env.ssh_known_hosts or str(Path.home() / ".ssh" / "known_hosts")
    return Bastion(
        user=user or getpass.getuser(),
        host=host,
        port=env.ssh_port or 22,
        key=env.ssh_key,
        known_hosts=Path(known),
    )


def fingerprint(key: paramiko.PKey) -> str:
    """``ssh-ed25519 SHA256:...``, as ``ssh-keygen -lf`` and ``ssh`` show it."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    return f"{key.get_name()} SHA256:{digest}"


class _UnknownHostKey(Exception):
    def __init__(self, key: paramiko.PKey) -> None:
        super().__init__("unknown host key")
        self.key = key


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):
    """Refuse a bastion whose key is not in known_hosts (never trust on first use)."""

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        raise _UnknownHostKey(key)


def _keyscan(b: Bastion) -> str:
    port = f"-p {b.port} " if b.port != 22 else ""
    return f"ssh-keyscan {port}{b.host} >> {b.known_hosts}"


def _unknown_key_error(b: Bastion, key: paramiko.PKey) -> ConnectionFailed:
    return ConnectionFailed(
        f"The SSH host key of bastion {b.host}:{b.port} ({fingerprint(key)}) is not in "
        f"{b.known_hosts}, so myshift does not trust it.",
        f"Check that fingerprint with the bastion's owner (ssh-keygen -lf on its host key), "
        f"then record it: {_keyscan(b)} (or point ssh_known_hosts at a file that has it).",
    )


def _changed_key_error(b: Bastion, exc: paramiko.BadHostKeyException) -> ConnectionFailed:
    return ConnectionFailed(
        f"The SSH host key of bastion {b.host}:{b.port} has changed "
        f"(now {fingerprint(exc.key)}, {b.known_hosts} has {fingerprint(exc.expected_key)}): "
        "the bastion was rebuilt, or someone is intercepting the connection.",
        f"Verify the new fingerprint with the bastion's owner before trusting it, then replace "
        f"the old line: ssh-keygen -R '{b.known_name}' -f {b.known_hosts}; {_keyscan(b)}.",
    )


def _load_known_hosts(client: paramiko.SSHClient, b: Bastion) -> None:
    if not b.known_hosts.is_file():
        return  # no file: every key is unknown, and refused with the fix
    try:
        client.get_host_keys().load(str(b.known_hosts))
    except (OSError, UnicodeDecodeError, paramiko.hostkeys.InvalidHostKey) as exc:
        raise UsageError(
            f"Cannot read the known_hosts file {b.known_hosts} ({type(exc).__name__}).",
            "Fix the file (each line: host keytype base64-key) or set ssh_known_hosts.",
        ) from None


def connect_bastion(b: Bastion) -> paramiko.SSHClient:
    """An authenticated SSH session to the bastion, its host key verified."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(_RefuseUnknown())
    _load_known_hosts(client, b)
    try:
        client.connect(
            b.host,
            port=b.port,
            username=b.user,
            key_filename=b.key,
            allow_agent=True,
            look_for_keys=b.key is None,
            timeout=CONNECT_TIMEOUT,
            banner_timeout=CONNECT_TIMEOUT,
            auth_timeout=CONNECT_TIMEOUT,
            channel_timeout=CONNECT_TIMEOUT,
        )
    except BaseException as exc:
        client.close()
        raise _connect_error(b, exc) from None
    transport = client.get_transport()
    assert transport is not None
    transport.set_keepalive(KEEPALIVE)
    return client


def _connect_error(b: Bastion, exc: BaseException) -> BaseException:
    """The one-sentence error for a failed login to the bastion (others pass through)."""
    if isinstance(exc, _UnknownHostKey):
        return _unknown_key_error(b, exc.key)
    if isinstance(exc, paramiko.BadHostKeyException):
        return _changed_key_error(b, exc)
    if isinstance(exc, paramiko.PasswordRequiredException):
        return ConnectionFailed(
            f"The SSH key {b.key or '(from ~/.ssh)'} for bastion {b.label} is encrypted.",
            "Load it into the SSH agent (ssh-add KEYFILE) and run again; myshift never asks "
            "for a passphrase.",
        )
    if isinstance(exc, paramiko.AuthenticationException):
        which = f"the key {b.key}" if b.key else "the SSH agent's and ~/.ssh keys"
        return ConnectionFailed(
            f"The bastion {b.label} refused {which}.",
            f"Check ssh_key and the user in ssh_tunnel, and that the public key is in "
            f"~{b.user}/.ssh/authorized_keys on the bastion.",
        )
    if isinstance(exc, (OSError, EOFError, paramiko.SSHException)):
        reason = str(exc) or type(exc).__name__
        return ConnectionFailed(
            f"Cannot reach the SSH bastion {b.label} ({reason}).",
            "Check ssh_tunnel and ssh_port, that the bastion is running, and that this "
            "machine may reach it (security group, VPN).",
        )
    return exc  # Ctrl-C and bugs are not connection errors


class Forwarder:
    """A local listener whose connections are forwarded through an SSH session.

    One thread accepts; each connection has two, one per direction, and each
    blocks in its own ``recv``.  No ``select`` on a channel: ``Channel.fileno``
    makes a pipe that paramiko's transport thread writes to for every packet
    it delivers, and ``Channel.close`` closes that pipe without a lock, so a
    connection closed while data arrived for it (a replica stopped while
    production streams its binary log) made that write fail with EBADF or
    EPIPE, which ends the whole SSH session (paramiko issues 1700 and 2271),
    or, with the descriptor reused meanwhile, wrote a byte into another file.
    OpenSSH ends the whole session on data for a channel it has freed, so no
    data may follow the channel's close on the wire.  Only the upstream thread
    sends on its channel, the close included (until the tunnel itself closes),
    each send under the channel's gate; paramiko answers the server's close in
    its transport thread, so that answer takes the gate too (``_gate_closes``):
    a send already decided is on the wire before it.  A send under the gate
    never waits for the server's window, so the transport thread (which opens
    the window) is never held up by it.  A socket pair that ``close`` writes
    to wakes the accept loop.

    When the SSH session has ended (the bastion restarted, the network
    dropped it), the next new connection logs in again, host key checked as
    at first, so a long command survives a drop between its statements; a
    connection open when the session ended is lost, and said so.
    """

    def __init__(
        self,
        client: paramiko.SSHClient,
        login: Callable[[], paramiko.SSHClient],
        dest: tuple[str, int],
        label: str,
        say: Say,
    ) -> None:
        self._clients = [client]  # the sessions, the last one in use; all closed by close()
        self._login = login
        self._session_lock = threading.Lock()
        self._login_failed: tuple[float, str] | None = None
        self._cut_reported: set[int] = set()  # sessions whose end was already said
        self._gates: dict[paramiko.Channel, threading.Lock] = {}
        self._gate_closes(client)
        self.dest = dest
        self.label = label
        self.say = say
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._wake_r, self._wake_w = socket.socketpair()
        self._threads: list[threading.Thread] = []
        # The forwarded connections now open: close() ends them even mid-send.
        self._open: set[socket.socket | paramiko.Channel] = set()
        self._lock = threading.Lock()
        self._closed = False

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> tuple[str, int]:
        self._spawn(self._accept_loop, "myshift-tunnel-accept")
        return self.address

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> bool:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            if self._closed:
                return False
            self._threads.append(thread)
        thread.start()
        return True

    def _accept_loop(self) -> None:
        while True:
            ready, _, _ = select.select([self._listener, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                sock, peer = self._listener.accept()
            except OSError:
                return
            if not self._spawn(self._forward, "myshift-tunnel-conn", sock, peer):
                sock.close()
                return

    @property
    def transport(self) -> paramiko.Transport | None:
        """The SSH session in use (None once its client is closed)."""
        return self._clients[-1].get_transport()

    def _session(self) -> paramiko.Transport | None:
        """The SSH session, logged in again if it has ended (None when that failed)."""
        with self._session_lock:
            transport = self.transport
            if transport is not None and transport.is_active():
                return transport
            failed = self._login_failed
            if self._closed or (failed and time.monotonic() - failed[0] < RELOGIN_PAUSE):
                return None
            try:
                client = self._login()
            except MyshiftError as exc:
                self._login_failed = (time.monotonic(), exc.message)
                return None
            with self._lock:
                late = self._closed
                if not late:
                    self._clients.append(client)
            if late:
                close_bastion(client)
                return None
            self._login_failed = None
            self._gate_closes(client)
            host, port = self.dest
            self.say(
                f"myshift: the SSH session to the bastion {self.label} had ended; logged in "
                f"again for new connections to {host}:{port}."
            )
            return client.get_transport()

    def _gate_closes(self, client: paramiko.SSHClient) -> None:
        """Make paramiko answer the server's CHANNEL_CLOSE under the channel's gate.

        paramiko's handler table is internal: if it is not there (another
        version), closes are answered ungated, as paramiko itself does.
        """
        transport = client.get_transport()
        table = getattr(transport, "_channel_handler_table", None)
        if transport is None or not isinstance(table, dict) or MSG_CHANNEL_CLOSE not in table:
            return
        answer = table[MSG_CHANNEL_CLOSE]

        def gated(chan: paramiko.Channel, m: paramiko.Message) -> None:
            with self._lock:
                gate = self._gates.get(chan)
            if gate is None:
                answer(chan, m)
                return
            with gate:
                answer(chan, m)

        transport._channel_handler_table = {**table, MSG_CHANNEL_CLOSE: gated}  # type: ignore[attr-defined]

    def _forward(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        with contextlib.closing(sock):
            transport = self._session()
            if transport is None:
                self.say(self._ended())
                return
            try:
                chan = transport.open_channel(
                    "direct-tcpip", self.dest, peer, timeout=CONNECT_TIMEOUT
                )
            except (paramiko.SSHException, OSError, EOFError) as exc:
                self.say(self._refused(transport, exc))
                return
            gate = threading.Lock()
            if not self._track(sock, chan, gate):
                _end_channel(chan, gate)
                return
            ours = threading.Event()  # set when this side ended the channel
            down = threading.Thread(
                target=self._downstream, args=(chan, sock), name="myshift-tunnel-down", daemon=True
            )
            down.start()
            self._upstream(sock, chan, gate, ours)
            down.join()
            self._untrack(sock, chan)
            if not ours.is_set() and not chan.eof_received:
                self._say_cut(transport)

    def _track(self, sock: socket.socket, chan: paramiko.Channel, gate: threading.Lock) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._open.update((sock, chan))
            self._gates[chan] = gate
            return True

    def _untrack(self, sock: socket.socket, chan: paramiko.Channel) -> None:
        with self._lock:
            self._open.difference_update((sock, chan))
            self._gates.pop(chan, None)

    def _ended(self) -> str:
        host, port = self.dest
        failed = self._login_failed
        why = f" and logging in again failed ({failed[1].rstrip('.')})" if failed else ""
        return (
            f"myshift: the SSH session to the bastion {self.label} has ended{why}, so "
            f"{host}:{port} cannot be reached; check the bastion and run the command again."
        )

    def _say_cut(self, transport: paramiko.Transport) -> None:
        """Say once per session that it ended under an open connection (not when the
        channel was closed by either end, nor when the tunnel itself closes)."""
        transport.join(0.5)  # its thread unlinks the channels before it is inactive
        with self._lock:
            if self._closed or transport.is_active() or id(transport) in self._cut_reported:
                return
            self._cut_reported.add(id(transport))
        host, port = self.dest
        self.say(
            f"myshift: the SSH session to the bastion {self.label} ended while a connection "
            f"to {host}:{port} was open: what ran on it lost its connection."
        )

    def _refused(self, transport: paramiko.Transport, exc: BaseException) -> str:
        """Why a forwarded connection could not be opened, for stderr."""
        host, port = self.dest
        if not transport.is_active():
            return self._ended()
        return (
            f"myshift: the bastion {self.label} could not connect to {host}:{port} "
            f"({exc or type(exc).__name__}); check the environment's host and port and "
            "that the bastion may reach the server (its security group)."
        )

    @staticmethod
    def _upstream(
        sock: socket.socket, chan: paramiko.Channel, gate: threading.Lock, ours: threading.Event
    ) -> None:
        """Client to server, then the channel's close: this thread is its only sender."""
        try:
            while (data := sock.recv(_CHUNK)) and _send(chan, gate, data):
                pass
        except (OSError, EOFError, paramiko.SSHException):
            return  # either end went away: the client sees its connection close
        finally:
            if not chan.closed:
                ours.set()
            _end_channel(chan, gate)

    @staticmethod
    def _downstream(chan: paramiko.Channel, sock: socket.socket) -> None:
        """Server to client; at the end, the client's socket is shut for reading, which
        ends the upstream thread's recv.  Not for writing: a client still sending
        then saw the end of the stream while its data sat against a zero window,
        and could wait for good (1 in 2 stress runs); its close comes right after."""
        try:
            while data := chan.recv(_CHUNK):
                sock.sendall(data)
        except (OSError, EOFError, paramiko.SSHException):
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RD)

    def close(self) -> None:
        """Stop accepting, end every forwarded connection, wait for the threads (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            threads = list(self._threads)
            ends = list(self._open)
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        # Blocked threads (a client not reading, a server not sending) wake up when
        # their socket is shut and their channel closed.
        for end in ends:
            if isinstance(end, socket.socket):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
            else:
                with self._lock:
                    gate = self._gates.get(end)
                _end_channel(end, gate)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=CONNECT_TIMEOUT)
        for s in (self._listener, self._wake_r, self._wake_w):
            s.close()
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            close_bastion(client)


def _send(chan: paramiko.Channel, gate: threading.Lock, data: bytes) -> bool:
    """Send ``data`` on ``chan``; False once the channel is closed or the server ended
    (nothing more goes to it)."""
    while data:
        with gate:
            if chan.closed or chan.eof_received:
                return False
            if chan.send_ready():  # window open: send() puts a packet on the wire at once
                data = data[chan.send(data) :]
                continue
        time.sleep(WINDOW_WAIT)  # outside the gate: the server has to read first
    return True


def _end_channel(chan: paramiko.Channel, gate: threading.Lock | None = None) -> None:
    with (
        gate or contextlib.nullcontext(),
        contextlib.suppress(OSError, EOFError, paramiko.SSHException),
    ):
        chan.close()


def close_bastion(client: paramiko.SSHClient) -> None:
    """Close the SSH session and wait for paramiko's transport thread to end."""
    transport = client.get_transport()
    client.close()
    if transport is not None and transport is not threading.current_thread():
        transport.join(timeout=CONNECT_TIMEOUT)


@contextmanager
def open_tunnel(env: EnvConfig, host: str, port: int, *, say: Say) -> Iterator[tuple[str, int]]:
    """Forward a local port to ``host:port`` through ``env.ssh_tunnel``; yield (host, port).

    ``host`` is resolved by the bastion, so it may be a name only the VPC knows.
    """
    b = bastion_of(env)
    client = connect_bastion(b)
    try:
        forwarder = Forwarder(client, lambda: connect_bastion(b), (host, port), b.label, say)
    except BaseException:
        close_bastion(client)
        raise
    try:
        local = forwarder.start()
        say(f"myshift: SSH tunnel to {host}:{port} through {b.label} (local {local[1]})")
        yield local
    finally:
        forwarder.close()  # and every SSH session it logged in
