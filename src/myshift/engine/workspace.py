"""Workspaces: an empty schema where desired SQL is executed so the server parses it.

A workspace is a context manager yielding the ``Endpoint`` of an empty,
uniquely named schema; it drops the schema (and stops a local server) on the
way out, also when loading failed.  Two kinds:

* ``TempSchemaWorkspace`` — a ``_myshift_ws_<time>_<random>`` schema on a server
  the user names (ideally the same version as the target: same parser, same
  defaults).  Created with the target's default charset/collation so tables
  without an explicit charset get what they would get on the target.
* ``LocalServerWorkspace`` — a throwaway local ``mariadbd``; the schema can
  carry the target schema's own name, so nothing needs rewriting.

The creation time is part of the temp schema's name, so a workspace leaked by a
killed process is recognised and dropped by the next run after a day.

A workspace is inert: only classified statements reach it (engine.classify),
events are created DISABLE there, nothing is called, and every session on it
is time-bounded (``make_inert``).
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from myshift.db.connect import (
    DEFAULT_LOCK_WAIT_TIMEOUT,
    Conn,
    DriverError,
    Endpoint,
    connect,
    is_url,
    quote_ident,
)
from myshift.db.privileges import WORKSPACE_PRIVILEGES, account_of
from myshift.engine.introspect import catalog
from myshift.errors import PrivilegeError, UsageError

if TYPE_CHECKING:
    from myshift.db.server import LocalServer

log = logging.getLogger(__name__)

WS_PREFIX = "_myshift_ws_"
WS_GRANT_ON = "`\\_myshift\\_ws\\_%`.*"  # the README's ON for the workspace schemas
STALE_AFTER_SECONDS = 24 * 3600
_WS_NAME = re.compile(re.escape(WS_PREFIX) + r"(\d{10})_[0-9a-f]+$")


@dataclass(frozen=True)
class WorkspaceEndpoint(Endpoint):
    """The endpoint a workspace yields; it remembers the sql_mode to load with.

    ``load_sql(statements, ws)`` picks the mode up from here, so callers that
    only hold the endpoint still load with the target's sql_mode.
    """

    sql_mode: str | None = field(default=None, compare=False)


def _ws_endpoint(base: Endpoint, schema: str, sql_mode: str | None) -> WorkspaceEndpoint:
    return WorkspaceEndpoint(
        host=base.host,
        port=base.port,
        user=base.user,
        password=base.password,
        fresh_password=base.fresh_password,
        schema=schema,
        socket=base.socket,
        ssl_mode=base.ssl_mode,
        ssl_ca=base.ssl_ca,
        ssl_cert=base.ssl_cert,
        ssl_key=base.ssl_key,
        # Through an SSH tunnel: TLS checks the server's own name, not the local end.
        server_name=base.server_name,
        server_port=base.server_port,
        sql_mode=sql_mode,
    )


class Workspace(Protocol):
    """What the loader needs: an empty schema to execute desired SQL in."""

    @property
    def sql_mode(self) -> str | None:
        """The sql_mode desired SQL is loaded with (``None``: the server's default)."""
        ...

    def __enter__(self) -> Endpoint: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def workspace_name(now: float | None = None) -> str:
    stamp = int(time.time() if now is None else now)
    return f"{WS_PREFIX}{stamp:010d}_{secrets.token_hex(4)}"


def _create_schema(conn: Conn, name: str, charset: str | None, collation: str | None) -> None:
    sql = f"CREATE DATABASE {quote_ident(name)}"
    if charset:
        sql += f" CHARACTER SET {_word(charset)}"
    if collation:
        sql += f" COLLATE {_word(collation)}"
    conn.execute(sql)


def _word(value: str) -> str:
    # Charset and collation names are bare words; refuse anything else rather than quote it.
    if not re.fullmatch(r"[A-Za-z0-9_]+", value):
        raise UsageError(f"{value!r} is not a character set or collation name.", "Fix the name.")
    return value


# Tables per DROP TABLE when a workspace is dropped (see drop_workspace_schema).
DROP_TABLES_PER_STATEMENT = 250
_DROPPED_BY_TABLE = ("BASE TABLE", "SYSTEM VERSIONED")


def drop_workspace_schema(conn: Conn, name: str) -> None:
    """Drop a workspace schema: its routines, its tables a few hundred at a time, then it.

    With ``automatic_sp_privileges`` on (the default), creating a routine
    grants its creator EXECUTE and ALTER ROUTINE on it: rows in the server's
    ``mysql.procs_priv`` that DROP DATABASE leaves behind (DROP FUNCTION and
    DROP PROCEDURE remove them), one more for every routine of every plan.

    The tables go before the schema, ``DROP_TABLES_PER_STATEMENT`` per
    statement: MariaDB's DROP DATABASE locks every table of the schema first,
    then searches that list of locks again for each table it drops
    (``MDL_context::find_ticket``: 77 % of the server's time), so its time
    grows with the square of the tables -- 12 to 48 s for a 10,000-table
    workspace, against ~3.5 s in statements of 250 tables.  Checks are off
    for these statements only (the tables of one statement may be referenced
    by those of the next).  Statements one after another, never in parallel
    sessions: two sessions dropping tables that reference each other wait
    for each other's metadata locks for good.
    """
    for routine, kind in catalog.routine_names(conn, name):
        conn.execute(f"DROP {kind} IF EXISTS {quote_ident(name)}.{quote_ident(routine)}")
    schema = quote_ident(name)
    tables = [t for t, kind in catalog.schema_objects(conn, name) if kind in _DROPPED_BY_TABLE]
    if tables:
        conn.execute("SET @myshift_fk_checks = @@SESSION.foreign_key_checks")
        conn.execute("SET SESSION foreign_key_checks = 0")
        try:
            for i in range(0, len(tables), DROP_TABLES_PER_STATEMENT):
                chunk = tables[i : i + DROP_TABLES_PER_STATEMENT]
                names = ", ".join(f"{schema}.{quote_ident(t)}" for t in chunk)
                conn.execute(f"DROP TABLE IF EXISTS {names}")
        finally:
            conn.execute("SET SESSION foreign_key_checks = @myshift_fk_checks")
    conn.execute(f"DROP DATABASE IF EXISTS {schema}")


def _account(conn: Conn, user: str) -> str:
    """The account as a GRANT names it (``'u'@'h'``), best effort."""
    with contextlib.suppress(Exception):
        return account_of(str(conn.scalar("SELECT CURRENT_USER()")))
    return f"'{user}'@'%'"


def drop_stale_workspaces(conn: Conn, now: float | None = None) -> list[str]:
    """Best effort: drop ``_myshift_ws_*`` schemas created more than a day ago."""
    cutoff = (time.time() if now is None else now) - STALE_AFTER_SECONDS
    dropped: list[str] = []
    try:
        names = catalog.schemas_starting_with(conn, WS_PREFIX)
    except Exception:  # cleanup is a courtesy; never fail the run for it
        return dropped
    for name in names:
        m = _WS_NAME.match(str(name))
        if m and int(m.group(1)) < cutoff:
            with contextlib.suppress(Exception):
                drop_workspace_schema(conn, str(name))
                dropped.append(str(name))
    if dropped:
        log.info("dropped stale workspaces: %s", ", ".join(dropped))
    return dropped


@dataclass
class TempSchemaWorkspace:
    """A uniquely named temporary schema on a server the user gives."""

    server: Endpoint
    charset: str | None = None
    collation: str | None = None
    sql_mode: str | None = None
    name: str = field(default_factory=workspace_name)
    _admin: Conn | None = field(default=None, init=False, repr=False)

    def __enter__(self) -> Endpoint:
        admin = connect(self.server, schema="")
        try:
            drop_stale_workspaces(admin)
            keep_out_of_binlog(admin)
            _create_schema(admin, self.name, self.charset, self.collation)
        except DriverError as exc:
            if exc.args and exc.args[0] in (1044, 1045, 1142, 1227):
                who = _account(admin, self.server.user)
                admin.close()
                grant = f"GRANT {WORKSPACE_PRIVILEGES} ON {WS_GRANT_ON} TO {who};"
                raise PrivilegeError(
                    f"User {who} may not create the temporary workspace schema "
                    f"on {self.server.redacted()} where desired SQL is loaded ({exc.args[1]}).",
                    f"Grant the workspace privileges: {grant} Or use --workspace local "
                    "(a throwaway local server).",
                    privilege=WORKSPACE_PRIVILEGES,
                    grant=grant,
                ) from None
            admin.close()
            raise
        except BaseException:
            admin.close()
            raise
        self._admin = admin
        return _ws_endpoint(self.server, self.name, self.sql_mode)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        admin, self._admin = self._admin, None
        if admin is None:
            return
        try:
            drop_workspace_schema(admin, self.name)
        except Exception:
            # The admin connection may have died with the failure; try a fresh one.
            with contextlib.suppress(Exception), connect(self.server, schema="") as again:
                keep_out_of_binlog(again)
                drop_workspace_schema(again, self.name)
        finally:
            admin.close()


@dataclass
class LocalServerWorkspace:
    """A throwaway local server with one schema, stopped (datadir and all) afterwards."""

    charset: str | None = None
    collation: str | None = None
    schema_name: str | None = None
    sql_mode: str | None = None
    server: LocalServer | None = field(default=None, init=False, repr=False)

    def __enter__(self) -> Endpoint:
        from myshift.db.server import LocalServer

        # The server's own default sql_mode is the target's, so every session on it
        # (also ones opened without load_sql) parses desired SQL as the target would.
        extra = (f"--sql-mode={self.sql_mode}",) if self.sql_mode is not None else ()
        srv = LocalServer.start(extra_args=extra)
        try:
            ep = Endpoint(host=srv.host, port=srv.port, user=srv.user, password="")
            name = self.schema_name or workspace_name()
            with connect(ep) as admin:
                _create_schema(admin, name, self.charset, self.collation)
        except BaseException:
            srv.stop()
            raise
        self.server = srv
        return _ws_endpoint(ep, name, self.sql_mode)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        srv, self.server = self.server, None
        if srv is not None:
            srv.stop()


WORKSPACE_KINDS = ("temp-schema", "local")


def open_workspace(
    kind: str,
    server: Endpoint | None = None,
    *,
    charset: str | None = None,
    collation: str | None = None,
    sql_mode: str | None = None,
    schema_name: str | None = None,
) -> TempSchemaWorkspace | LocalServerWorkspace:
    """Pick a workspace: ``temp-schema`` (on ``server``), ``local``, or a mysql:// URL.

    A URL means a temp schema on that server (``server`` is then ignored).
    """
    if is_url(kind):
        server, kind = Endpoint.from_url(kind).with_schema(""), "temp-schema"
    if kind in ("temp-schema", "temp", "schema"):
        if server is None:
            raise UsageError(
                "The temp-schema workspace needs a server to create the schema on.",
                "Pass --workspace-server mysql://user@host:port/ or use --workspace local.",
            )
        return TempSchemaWorkspace(server.with_schema(""), charset, collation, sql_mode)
    if kind in ("local", "local-server"):
        return LocalServerWorkspace(charset, collation, schema_name, sql_mode)
    raise UsageError(
        f"Unknown workspace kind {kind!r}.", "Use one of: " + ", ".join(WORKSPACE_KINDS) + "."
    )


@dataclass(frozen=True)
class TargetDefaults:
    """What a workspace copies from the target so desired SQL means the same there."""

    charset: str | None
    collation: str | None
    sql_mode: str | None


def target_defaults(conn: Conn, schema: str | None = None) -> TargetDefaults:
    """The target schema's default charset/collation (server's if absent) and @@sql_mode."""
    schema = conn.endpoint.schema if schema is None else schema
    found = catalog.schema_defaults(conn, schema)
    if found is None:
        row = conn.query("SELECT @@character_set_server, @@collation_server")[0]
        found = (str(row[0]), str(row[1]))
    mode = conn.scalar("SELECT @@SESSION.sql_mode")
    return TargetDefaults(found[0], found[1], None if mode is None else str(mode))


# No statement in a workspace may hold a session (or the server) for long:
# loading desired SQL and replaying a plan are DDL on empty tables.
STATEMENT_SECONDS = 10


def keep_out_of_binlog(conn: Conn) -> bool:
    """``SET SESSION sql_log_bin = 0`` where the account may; whether it could.

    A workspace is scratch: written to the binary log, every replica of the
    target would create and drop it too (thousands of tables for a big
    schema: replica lag the application reads through).  Every session that
    writes to a workspace calls this, so for one account on one server they
    are all logged or all not (a replica never sees half a workspace); the
    drops all say IF EXISTS either way.  Without SUPER (MariaDB: BINLOG
    ADMIN; MySQL: SESSION_VARIABLES_ADMIN) the workspace stays logged.
    """
    try:
        conn.execute("SET SESSION sql_log_bin = 0")
    except DriverError as exc:
        if exc.args and exc.args[0] in (1227, 1044, 1142):
            return False
        raise
    return True


def make_inert(conn: Conn) -> None:
    """Bound every statement of ``conn``: a short statement time limit and lock wait,
    and keep it out of the binary log (``keep_out_of_binlog``).

    MariaDB's ``max_statement_time`` (seconds) covers every statement; MySQL's
    ``max_execution_time`` (ms) only SELECTs, which desired SQL never sends.
    """
    keep_out_of_binlog(conn)
    if conn.flavor.has_max_statement_time:
        conn.execute(f"SET SESSION max_statement_time = {STATEMENT_SECONDS}")
    else:
        conn.execute(f"SET SESSION max_execution_time = {STATEMENT_SECONDS * 1000}")
    conn.execute(f"SET SESSION lock_wait_timeout = {DEFAULT_LOCK_WAIT_TIMEOUT}")


def loader_session(ws: Endpoint, *, sql_mode: str | None = None, multi: bool = False) -> Conn:
    """A session for loading desired SQL: no FK checks, the chosen sql_mode, ``USE`` ws.

    foreign_key_checks=0 lets tables reference tables defined later in the file
    (mysqldump sorts by name, not by dependency).  Statements are time-bounded
    (``make_inert``).
    """
    conn = connect(ws, schema="", multi=multi)
    try:
        conn.execute("SET SESSION foreign_key_checks = 0")
        if sql_mode is not None:
            conn.execute("SET SESSION sql_mode = %s", (sql_mode,))
        make_inert(conn)
        conn.execute(f"USE {quote_ident(ws.schema)}")
    except BaseException:
        conn.close()
        raise
    return conn
