"""Connections: one ``Endpoint`` value describes a server+schema; ``connect`` opens it.

Driver errors a user can cause (wrong password, unreachable host, unknown
schema, missing privilege) become ``ConnectionFailed`` with one sentence and a fix.
The password never appears in ``repr``/``str``/``redacted()``.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import pymysql
import pymysql.constants.CLIENT
import pymysql.cursors

from myshift.db import privileges
from myshift.db.own import REGISTRY, ServerKey
from myshift.errors import ConnectionFailed, MyshiftError, UsageError
from myshift.model.flavor import Flavor

DEFAULT_LOCK_WAIT_TIMEOUT = 5

# The driver's base error, re-exported so the rest of myshift catches server
# errors without importing the driver itself.
DriverError = pymysql.err.MySQLError
# Raised for a connection that is already closed (a lost session used again).
DriverInterfaceError = pymysql.err.InterfaceError


@dataclass(frozen=True)
class FreshPassword:
    """A password made anew for each connection, e.g. an RDS IAM token (valid 15 minutes).

    ``make`` returns it (and raises a MyshiftError when it cannot); ``refused``
    is the fix shown when the server refuses it.  Nothing here holds the value.
    """

    make: Callable[[], str]
    refused: str


@dataclass(frozen=True)
class Endpoint:
    """Where to connect: host/port or socket, user, password, schema and TLS."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str | None = field(default=None, repr=False, compare=False)
    schema: str = ""
    socket: str | None = None
    ssl_mode: str | None = None  # DISABLED | REQUIRED | VERIFY_CA | VERIFY_IDENTITY
    ssl_ca: str | None = None
    ssl_cert: str | None = None
    ssl_key: str | None = None
    # Named environment from myshift.toml, if any.
    env_name: str | None = None
    protected: bool = False
    # The server's own host name (and port) when ``host`` is the local end of an SSH
    # tunnel (workflows.reach): TLS checks the certificate against it, errors name it,
    # and ``redacted()`` (what history, plan files and reports record) shows it rather
    # than a local port that is gone once the command ends.
    server_name: str | None = None
    server_port: int | None = None
    # Wins over ``password``: a connection opened an hour into a command gets its own.
    fresh_password: FreshPassword | None = field(default=None, repr=False, compare=False)

    def server_key(self) -> ServerKey:
        """Which server (db.own): its own name and port behind a tunnel, else the address."""
        if self.server_name:
            return (self.server_name, self.server_port or self.port, "")
        return (self.host, self.port, self.socket or "")

    def login_password(self) -> str:
        """The password to log in with now (made afresh when ``fresh_password`` is set)."""
        if self.fresh_password is not None:
            return self.fresh_password.make()
        return self.password or ""

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        """``mysql://user[:password]@host[:port]/schema``; MYSQL_PWD fills a missing password."""
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("mysql", "mariadb"):
            raise UsageError(
                f"{redact_url(url)!r} is not a mysql:// URL.",
                "Use mysql://user[:password]@host[:port]/schema.",
            )
        try:
            port = parsed.port or 3306
        except ValueError as exc:
            raise UsageError(f"Bad port in {redact_url(url)!r}.", "Use a number.") from exc
        password = urllib.parse.unquote(parsed.password) if parsed.password is not None else None
        if password is None:
            password = os.environ.get("MYSQL_PWD")
        query = dict(urllib.parse.parse_qsl(parsed.query))
        return cls(
            host=parsed.hostname or "127.0.0.1",
            port=port,
            user=urllib.parse.unquote(parsed.username or "root"),
            password=password,
            schema=urllib.parse.unquote(parsed.path.lstrip("/")),
            socket=query.get("socket"),
            ssl_mode=query.get("ssl_mode"),
            ssl_ca=query.get("ssl_ca"),
            ssl_cert=query.get("ssl_cert"),
            ssl_key=query.get("ssl_key"),
        )

    def with_schema(self, schema: str) -> Endpoint:
        return replace(self, schema=schema)

    def redacted(self) -> str:
        """``mysql://user@host:port/schema``, no password: the server's own address."""
        if self.socket:
            where = f"socket {self.socket}"
        elif self.server_name:
            where = f"{self.server_name}:{self.server_port or self.port}"
        else:
            where = f"{self.host}:{self.port}"
        return f"mysql://{self.user}@{where}/{self.schema}"

    @property
    def where(self) -> str:
        """The server, for messages: its socket, host:port, or name through a tunnel."""
        if self.socket:
            return self.socket
        if self.server_name:
            return f"{self.server_name} (through the SSH tunnel at {self.host}:{self.port})"
        return f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return self.env_name or self.redacted()


def redact_url(url: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.replace(":" + parsed.password + "@", ":***@")
    return urllib.parse.urlunsplit(parsed._replace(netloc=netloc))


def is_url(text: str) -> bool:
    return text.startswith(("mysql://", "mariadb://"))


def _ssl_args(ep: Endpoint) -> dict[str, Any]:
    mode = (ep.ssl_mode or "").upper()
    if mode == "DISABLED":
        return {"ssl_disabled": True}
    if not mode and not ep.ssl_ca:
        # PyMySQL's default is "preferred" TLS, which builds a fresh SSL context
        # (~40 ms) per connection.  Loopback and socket connections gain nothing
        # from TLS, so skip it there; remote hosts (also through a tunnel, whose
        # far hop leaves this machine) keep the preferred default.
        loopback = ep.host in ("127.0.0.1", "localhost", "::1") and not ep.server_name
        if ep.socket or loopback:
            return {"ssl_disabled": True}
        return {}
    if ep.server_name:
        ctx: ssl.SSLContext = _NamedServerContext(ep.server_name, ep.ssl_ca)
    elif ep.ssl_ca:
        ctx = ssl.create_default_context(cafile=ep.ssl_ca)
    else:
        ctx = ssl.create_default_context()
    if ep.ssl_cert:
        ctx.load_cert_chain(ep.ssl_cert, ep.ssl_key)
    if mode in ("REQUIRED", "PREFERRED", ""):
        ctx.check_hostname = False
        if mode != "" or not ep.ssl_ca:
            ctx.verify_mode = ssl.CERT_NONE
    elif mode == "VERIFY_CA":
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_REQUIRED
    elif mode == "VERIFY_IDENTITY":
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        raise UsageError(
            f"Unknown ssl_mode {ep.ssl_mode!r}.",
            "Use DISABLED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY.",
        )
    return {"ssl": ctx}


class _NamedServerContext(ssl.SSLContext):
    """A client TLS context that checks the certificate against ``server_name`` (and
    sends it as SNI) whatever address the socket reaches: the driver passes the
    host it connected to, the local end of an SSH tunnel."""

    def __new__(cls, server_name: str, cafile: str | None) -> _NamedServerContext:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self, server_name: str, cafile: str | None) -> None:
        # ssl.SSLContext is built by __new__ alone (PROTOCOL_TLS_CLIENT: certificate
        # and host name checked unless the caller turns them off).
        self.server_name = server_name
        if cafile:
            self.load_verify_locations(cafile=cafile)
        else:
            self.load_default_certs()

    def wrap_socket(self, sock: Any, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        kwargs["server_hostname"] = self.server_name
        return super().wrap_socket(sock, *args, **kwargs)


def friendly_error(exc: BaseException, ep: Endpoint) -> ConnectionFailed:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    msg = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    where = ep.where
    if code in privileges.LOGIN_CODES:
        if ep.fresh_password is not None:
            return ConnectionFailed(
                f"Access denied for user {ep.user!r} on {where}.", ep.fresh_password.refused
            )
        return ConnectionFailed(
            f"Access denied for user {ep.user!r} on {where}.",
            "Check the password (MYSQL_PWD, password_env in myshift.toml, ~/.my.cnf or -p) "
            "and that the server has an account for this user from this host.",
        )
    if code in (2002, 2003, 2005, 2013):
        return ConnectionFailed(
            f"Cannot reach the MySQL server at {where} ({msg}).",
            "Check host, port and network access, and that the server is running.",
        )
    if code == 1049:
        return ConnectionFailed(
            f"Schema {ep.schema!r} does not exist on {where}.",
            "Create it first or fix the schema name.",
        )
    if code == 2061 or "caching sha2" in msg or "requires secure connection" in msg:
        # caching_sha2_password (MySQL 8.0/8.4's default) after a server restart:
        # without TLS the password travels RSA-encrypted with the server's public
        # key (PyMySQL asks for it); a server without RSA keys refuses.
        return ConnectionFailed(
            f"The server at {where} refused the caching_sha2_password login of {ep.user!r} "
            f"without TLS ({msg}).",
            "Connect over TLS (ssl_ca in myshift.toml or --ssl-ca) or the server's socket, or "
            "enable its RSA keys (caching_sha2_password_auto_generate_rsa_keys=ON).",
        )
    denied = privileges.from_driver_error(exc, ep.user, ep.schema)
    if denied is not None:
        return denied
    return ConnectionFailed(
        f"Database error on {where}: {msg}.",
        "Check the server's error log and the connection settings.",
    )


def rsa_missing(ep: Endpoint) -> ConnectionFailed:
    """PyMySQL without its ``cryptography`` extra met caching_sha2_password full auth."""
    where = ep.socket or f"{ep.host}:{ep.port}"
    return ConnectionFailed(
        f"Logging in as {ep.user!r} on {where} needs the 'cryptography' package "
        "(caching_sha2_password full authentication without TLS, MySQL 8's default).",
        "Reinstall myshift with its dependencies (pip install 'PyMySQL[rsa]'), or connect "
        "over TLS or the server's socket.",
    )


def translate_driver_error(
    exc: BaseException, ep: Endpoint | None = None
) -> ConnectionFailed | None:
    """A driver error that escaped the workflows, as one sentence for the user.

    The CLI's last line of defence: a missing privilege or a dropped connection
    is a user-facing condition, never a traceback.  Returns None for anything
    that is not a server error (a bug, which should surface as one).
    """
    if not isinstance(exc, pymysql.err.MySQLError):
        return None
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    msg = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if ep is not None:
        return friendly_error(exc, ep)
    denied = privileges.from_driver_error(exc)
    if denied is not None:
        return denied
    if code in (2002, 2003, 2006, 2013):
        return ConnectionFailed(
            f"Lost the connection to the server: {msg}.",
            "Check that the server is up and reachable, then run again.",
        )
    return ConnectionFailed(
        f"The server reported error {code}: {msg}.",
        "Fix the cause the server names and run again.",
    )


def explain_error(exc: MyshiftError) -> MyshiftError:
    """``exc``, or the missing privilege hidden in its causes (see ``privileges.explain``)."""
    return privileges.explain(exc)


class Conn:
    """A thin wrapper over a PyMySQL connection with the queries myshift needs."""

    def __init__(self, raw: pymysql.connections.Connection[Any], endpoint: Endpoint) -> None:
        self.raw = raw
        self.endpoint = endpoint
        self._flavor: Flavor | None = None
        # myshift's own session on this server until closed (db.own: the watch leaves
        # its work out of the server-wide counters).
        self._own: int | None = None
        with contextlib.suppress(Exception):  # a driver without the handshake's id
            self._own = int(raw.thread_id())
            REGISTRY.opened(endpoint.server_key(), self._own)

    @property
    def flavor(self) -> Flavor:
        if self._flavor is None:
            # CURRENT_USER() rides along for free: a privilege error names the account.
            row = self.query("SELECT @@version, @@version_comment, CURRENT_USER()")[0]
            self._flavor = Flavor.parse(str(row[0]), str(row[1]))
            privileges.remember_account(str(row[2]))
        return self._flavor

    def query(
        self, sql: str, args: Sequence[Any] | dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        try:
            with self.raw.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        except pymysql.err.OperationalError as exc:
            if exc.args and exc.args[0] in (2006, 2013, 2003):
                raise friendly_error(exc, self.endpoint) from exc
            self._annotate(exc, sql)
            raise
        except pymysql.err.MySQLError as exc:
            self._annotate(exc, sql)
            raise

    def query_dicts(
        self, sql: str, args: Sequence[Any] | dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        try:
            with self.raw.cursor(pymysql.cursors.DictCursor) as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        except pymysql.err.MySQLError as exc:
            self._annotate(exc, sql)
            raise

    def execute(self, sql: str, args: Sequence[Any] | dict[str, Any] | None = None) -> int:
        try:
            with self.raw.cursor() as cur:
                return int(cur.execute(sql, args))
        except pymysql.err.MySQLError as exc:
            self._annotate(exc, sql)
            raise

    def _annotate(self, exc: BaseException, sql: str) -> None:
        """On a privilege error, note the statement and the account, for the message."""
        if not (exc.args and exc.args[0] in privileges.PRIVILEGE_CODES):
            return
        privileges.note_statement(exc, sql)
        # The note only improves the message: any failure here is ignored.
        with contextlib.suppress(Exception), self.raw.cursor() as cur:
            cur.execute("SELECT CURRENT_USER()")
            user, _, host = str(cur.fetchone()[0]).rpartition("@")
            privileges.note_account(exc, f"'{user}'@'{host}'")

    def multi_query(self, sql: str) -> Iterator[list[tuple[Any, ...]]]:
        """Run several `;`-separated statements in one round trip; yield each result set.

        Needs a connection opened with ``multi=True``.
        """
        with self.raw.cursor() as cur:
            cur.execute(sql)
            while True:
                yield list(cur.fetchall())
                if not cur.nextset():
                    break

    def multi_column(self, sql: str, col: int) -> list[str | None]:
        """Column ``col`` of the first row of each result of a ``;``-separated batch.

        For batches of SHOW CREATE (thousands of one-row results in one round
        trip): reads the wire packets directly instead of through a cursor,
        which parses every result's field descriptors into objects -- ~3x the
        Python per result.  None for a statement without a result set or row.
        A failing statement raises the server's error; the rest of the batch
        is lost with the connection's state (reconnect).  Needs ``multi=True``.
        """
        from pymysql.constants import COMMAND
        from pymysql.protocol import EOFPacketWrapper, OKPacketWrapper

        raw: Any = self.raw  # the packet-level API is not in the type stubs
        raw._execute_command(COMMAND.COM_QUERY, sql)
        read = raw._read_packet
        encoding = raw.encoding
        out: list[str | None] = []
        while True:
            first = read()
            if first.is_ok_packet():
                out.append(None)
                if not OKPacketWrapper(first).has_next:
                    return out
                continue
            for _ in range(first.read_length_encoded_integer() + 1):
                read()  # one packet per column definition, then EOF
            value: str | None = None
            seen = False
            while True:
                packet = read()
                if packet.is_eof_packet():
                    break
                if not seen:
                    seen = True
                    for _ in range(col):
                        packet.read_length_coded_string()
                    data = packet.read_length_coded_string()
                    value = None if data is None else data.decode(encoding)
            out.append(value)
            if not EOFPacketWrapper(packet).has_next:
                return out

    def set_multi_statements(self, on: bool) -> None:
        """Switch the server's multi-statement parsing for this session (COM_SET_OPTION).

        Off, a ``;`` followed by more text is a syntax error: one round trip
        runs at most one statement, whatever the text holds.  Needs a
        connection opened with ``multi=True`` (the driver then reads several
        results when it is on).
        """
        from pymysql.constants import COMMAND

        raw: Any = self.raw  # the packet-level API is not in the type stubs
        raw._execute_command(COMMAND.COM_SET_OPTION, b"\x00\x00" if on else b"\x01\x00")
        raw._read_packet()  # EOF on success; an error packet raises

    def sibling(self, **kwargs: Any) -> Conn:
        """Another connection to the same endpoint; knows the flavor without asking."""
        other = connect(self.endpoint, **kwargs)
        other._flavor = self._flavor
        return other

    def scalar(self, sql: str, args: Sequence[Any] | None = None) -> Any:
        rows = self.query(sql, args)
        return rows[0][0] if rows else None

    def thread_id(self) -> int:
        return int(self.raw.thread_id())

    def abort(self) -> None:
        """Shut the socket down from another thread: a read blocked on it returns (the
        driver raises 2013, lost connection).  The server notices when it next writes."""
        import socket

        sock = getattr(self.raw, "_sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already closed or broken: nothing to do
            self.raw.close()
        if self._own is not None:
            REGISTRY.closed(self.endpoint.server_key(), self._own)
            self._own = None

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(
    ep: Endpoint,
    *,
    schema: str | None = None,
    lock_wait_timeout: int | None = DEFAULT_LOCK_WAIT_TIMEOUT,
    multi: bool = False,
    connect_timeout: float = 10,
    read_timeout: float | None = None,
) -> Conn:
    """Open a connection; every session gets a short ``lock_wait_timeout``.

    A DDL waiting for a metadata lock blocks every query queued behind it, so
    no myshift session ever waits the server default (one year).
    """
    db = ep.schema if schema is None else schema
    flags = pymysql.constants.CLIENT.MULTI_STATEMENTS if multi else 0
    init = []
    if lock_wait_timeout is not None:
        init.append(f"SET SESSION lock_wait_timeout = {int(lock_wait_timeout)}")
    try:
        raw = pymysql.connect(
            host=ep.host,
            port=ep.port,
            user=ep.user,
            password=ep.login_password(),
            database=db or None,
            unix_socket=ep.socket,
            charset="utf8mb4",
            autocommit=True,
            client_flag=flags,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            init_command="; ".join(init) if init and not multi else None,
            **_ssl_args(ep),
        )
    except pymysql.err.MySQLError as exc:
        raise friendly_error(exc, ep) from None
    except OSError as exc:
        raise ConnectionFailed(
            f"Cannot reach the MySQL server at {ep.where} ({exc}).",
            "Check host, port and network access.",
        ) from None
    except RuntimeError as exc:
        if "cryptography" not in str(exc):
            raise
        raise rsa_missing(ep) from None
    conn = Conn(raw, ep)
    if multi and init:
        for stmt in init:
            conn.execute(stmt)
    return conn


@contextmanager
def connected(ep: Endpoint, **kwargs: Any) -> Iterator[Conn]:
    conn = connect(ep, **kwargs)
    try:
        yield conn
    finally:
        conn.close()


def quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
