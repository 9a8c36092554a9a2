"""``rehearse --sandbox local-replica``: a local server made a real replica of production,
then promoted to a standalone server and rehearsed on -- the RDS "read replica →
promote → rehearse → delete" flow, on any MariaDB server.

Phases (each shown on stderr with the time since the sandbox began):

1. **Check production** (read only): MariaDB, binary log on (``log_bin``) in
   ``ROW`` format, the schema not excluded by ``binlog_do_db`` /
   ``binlog_ignore_db``, and the account holds REPLICATION SLAVE and
   REPLICATION CLIENT (``check_source``).  Each refusal names the fix.
2. **Start** a throwaway local server (``LocalServer``, datadir on /dev/shm)
   with a random ``server_id`` in 2^31..2^32: a replica whose id equals
   another replica's would make production disconnect that one.
3. **Copy** the schema's structure, then its rows through *one* connection
   inside ``START TRANSACTION WITH CONSISTENT SNAPSHOT``.  In that snapshot
   MariaDB reports ``binlog_snapshot_file`` / ``binlog_snapshot_position``:
   the binary log position exactly matching the rows read, without any lock
   on production.  ``BINLOG_GTID_POS(file, pos)`` turns it into a GTID
   position.  (Several connections would be several snapshots, each at its
   own position, so ``--workers`` does not apply.)
4. **Replicate**: ``CHANGE MASTER TO`` production (``MASTER_USE_GTID =
   slave_pos`` from that GTID position, or the file/position when production
   has no GTID yet), ``replicate_wild_do_table = 'schema.%'`` so other
   schemas' events are skipped (they would fail: those schemas are not
   here), ``START SLAVE``, wait until the local server has applied
   everything production had written (``replica.wait_caught_up``, in slices,
   so a stopped replication thread is reported at once).
5. **Promote**: ``STOP SLAVE``, ``RESET SLAVE ALL``, ``read_only = 0``
   (``replica.detach``).  The rehearsal then runs the plan there.
6. **Remove** the server, datadir and all (unless ``--keep``).

The replication account is production's own endpoint account.  Its password
is sent only to the local throwaway server in ``CHANGE MASTER TO`` (never on
a command line or in a file of myshift's); that server keeps it in its
``master.info`` until the promotion's ``RESET SLAVE ALL`` deletes it, and the
datadir is deleted with the server.

Limits: production must be MariaDB -- only MariaDB can be started locally,
MariaDB cannot follow a MySQL 8 binary log reliably, and MySQL reports a
snapshot's binlog position only under ``FLUSH TABLES WITH READ LOCK``.  DDL
run on production between the structure copy and the snapshot (a fraction of
a second) would be missing from the copy.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from myshift.db.connect import Conn, DriverError, Endpoint, connect
from myshift.db.identity import server_identity
from myshift.engine.introspect.visibility import global_privileges
from myshift.errors import PrivilegeError, UsageError
from myshift.workflows.datamode import DataMode
from myshift.workflows.phases import Phases
from myshift.workflows.replica import ReplicaError, check_replicates_from, detach, wait_caught_up
from myshift.workflows.sandbox import LocalSandbox

if TYPE_CHECKING:
    from myshift.db.server import LocalServer
    from myshift.model.identity import ServerIdentity
    from myshift.workflows.clone import ProgressFn

Say = Callable[[str], None]
START_TIMEOUT = 30.0  # seconds for the local replica's IO thread to reach production
SLICE = 5  # seconds per catch-up wait, between checks that replication still runs
_GRANT = "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO {who}"


def _stamp(elapsed: float) -> str:
    return f"  local-replica [{elapsed:6.1f}s]"


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes | bytearray) else str(v if v is not None else "")


@dataclass(frozen=True)
class Coordinates:
    """A binary log position of production: file/position and, when there is one, GTID."""

    file: str
    pos: int
    gtid: str

    def __str__(self) -> str:
        return f"{self.file}:{self.pos}" + (f" (GTID {self.gtid})" if self.gtid else "")


def snapshot_coordinates(conn: Conn) -> Coordinates:
    """The binlog position matching ``conn``'s open consistent snapshot (MariaDB)."""
    rows = conn.query("SHOW STATUS LIKE 'binlog_snapshot_%'")
    vals = {_text(k).lower(): _text(v) for k, v in rows}
    file = vals.get("binlog_snapshot_file", "")
    pos = int(vals.get("binlog_snapshot_position") or 0)
    if not file or not pos:
        raise ReplicaError(
            "Production reported no binary log position for the copy's snapshot.",
            "Check that log_bin is on (SELECT @@log_bin), or use --sandbox local.",
        )
    gtid = _text(conn.scalar("SELECT BINLOG_GTID_POS(%s, %s)", (file, pos)))
    return Coordinates(file, pos, gtid)


def _account(prod: Conn) -> str:
    user, _, host = _text(prod.scalar("SELECT CURRENT_USER()")).rpartition("@")
    return f"'{user}'@'{host}'"


def check_source(prod: Conn, schema: str) -> None:
    """Refuse a production server that a local replica cannot follow; say the fix."""
    where = prod.endpoint.redacted()
    if prod.flavor.is_mysql:
        raise UsageError(
            f"Production {where} runs {prod.flavor}: a local replica can only be MariaDB, which "
            "cannot follow a MySQL 8 binary log, and MySQL gives a snapshot's binlog position "
            "only under FLUSH TABLES WITH READ LOCK.",
            "Use --sandbox replica:URL with a MySQL replica of production, or --sandbox local.",
        )
    log_bin, fmt = prod.query("SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format")[0]
    if not int(log_bin):
        raise UsageError(
            f"Production {where} has binary logging off (log_bin = OFF): a replica has "
            "nothing to follow.",
            "Start production with log_bin (and binlog_format = ROW) in its configuration "
            "(on RDS: turn on automated backups), or use --sandbox local.",
        )
    if _text(fmt).upper() != "ROW":
        raise UsageError(
            f"Production {where} logs in binlog_format = {_text(fmt)}: a replica of one schema "
            "needs ROW events (statements can read other schemas, which it does not have).",
            "Set binlog_format = ROW (SET GLOBAL binlog_format = 'ROW' and in its "
            "configuration; on RDS in its DB parameter group), or use --sandbox local.",
        )
    who = _account(prod)
    privs = global_privileges(prod)
    # MariaDB 10.5+ lists REPLICATION CLIENT as BINLOG MONITOR; SUPER still covers
    # SHOW MASTER STATUS but no longer the replication protocol.
    missing = [
        p
        for p, names in (
            ("REPLICATION SLAVE", {"REPLICATION SLAVE"}),
            ("REPLICATION CLIENT", {"REPLICATION CLIENT", "BINLOG MONITOR", "SUPER"}),
        )
        if privs is not None and not (names & privs)
    ]
    try:
        row = prod.query_dicts("SHOW MASTER STATUS")
    except DriverError:
        missing = missing or ["REPLICATION CLIENT"]
        row = []
    if missing:
        grant = _GRANT.format(who=who)
        raise PrivilegeError(
            f"The account {who} lacks {' and '.join(missing)} on production {where}: a local "
            "replica reads the binary log with it.",
            f"Run `{grant}` on production (as an administrator), then rehearse again.",
            privilege=", ".join(missing),
            grant=grant,
        )
    do_db = {d for d in _text(row[0].get("Binlog_Do_DB")).split(",") if d} if row else set()
    ignore = {d for d in _text(row[0].get("Binlog_Ignore_DB")).split(",") if d} if row else set()
    if (do_db and schema not in do_db) or schema in ignore:
        raise UsageError(
            f"Production {where} does not write schema {schema!r} to its binary log "
            "(binlog_do_db / binlog_ignore_db).",
            "Include the schema in production's binary log, or use --sandbox local.",
        )


def wild_pattern(schema: str) -> str:
    """``replicate_wild_do_table`` for every table of ``schema`` (its ``%``/``_`` literal)."""
    esc = schema.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{esc}.%"


def _pick_server_id(prod_id: int) -> int:
    while True:
        sid = random.randint(2**31, 2**32 - 2)
        if sid != prod_id:
            return sid


def _tls_options(ep: Endpoint) -> tuple[str, list[Any]]:
    """The TLS part of CHANGE MASTER TO for production's ``ssl_mode``.

    With MASTER_SSL_CA the replica verifies the certificate's chain; MariaDB's
    MASTER_SSL_VERIFY_SERVER_CERT adds the *name* check, against MASTER_HOST.
    So it is on for VERIFY_IDENTITY only, and not through an SSH tunnel: there
    MASTER_HOST is the tunnel's 127.0.0.1, never the certificate's name, and
    CHANGE MASTER TO has no option for another (``tunnel_tls_note``).
    """
    mode = (ep.ssl_mode or "").upper()
    if mode in ("", "DISABLED", "PREFERRED"):
        return "", []
    sql = ", MASTER_SSL = 1"
    args: list[Any] = []
    for opt, value in (("CA", ep.ssl_ca), ("CERT", ep.ssl_cert), ("KEY", ep.ssl_key)):
        if value:
            sql += f", MASTER_SSL_{opt} = %s"
            args.append(value)
    check_name = mode == "VERIFY_IDENTITY" and not ep.server_name
    sql += f", MASTER_SSL_VERIFY_SERVER_CERT = {int(check_name)}"
    return sql, args


def tunnel_tls_note(ep: Endpoint) -> str:
    """What the report says when the replica cannot check production's name (above)."""
    if not ep.server_name or (ep.ssl_mode or "").upper() != "VERIFY_IDENTITY":
        return ""
    return (
        f"Through the SSH tunnel the local replica checked {ep.server_name}'s certificate "
        "against ssl_ca but not its name (it reaches production as 127.0.0.1); myshift's "
        "own connections checked the name, and the replica's source was checked to be "
        "the same server."
    )


def start_replication(local: Conn, prod_ep: Endpoint, at: Coordinates) -> None:
    """Point ``local`` at production from ``at``, only ``prod_ep.schema``, and start it.

    The password goes to the local server only, inside this statement.
    """
    if prod_ep.socket:
        raise UsageError(
            f"Production is reached through the socket {prod_ep.socket}; a replica "
            "connects over TCP.",
            "Give production as host:port for --sandbox local-replica.",
        )
    local.execute("SET GLOBAL replicate_wild_do_table = %s", (wild_pattern(prod_ep.schema),))
    tls, tls_args = _tls_options(prod_ep)
    sql = (
        "CHANGE MASTER TO MASTER_HOST = %s, MASTER_PORT = %s, MASTER_USER = %s, "
        "MASTER_PASSWORD = %s, MASTER_CONNECT_RETRY = 1" + tls
    )
    # "localhost" would make the server's client library use its own default socket.
    host = "127.0.0.1" if prod_ep.host == "localhost" else prod_ep.host
    args: list[Any] = [host, prod_ep.port, prod_ep.user, prod_ep.password or "", *tls_args]
    if at.gtid:
        local.execute("SET GLOBAL gtid_slave_pos = %s", (at.gtid,))
        sql += ", MASTER_USE_GTID = slave_pos"
    else:  # no transaction logged before the snapshot yet: the file/position is exact
        sql += ", MASTER_LOG_FILE = %s, MASTER_LOG_POS = %s"
        args += [at.file, at.pos]
    try:
        local.execute(sql, args)
    except DriverError as exc:  # the server's text could quote the statement: not shown
        code = exc.args[0] if exc.args else "?"
        raise ReplicaError(
            f"The local server refused CHANGE MASTER TO production (error {code}).",
            "Check the TLS options of production's endpoint, or use --sandbox local.",
        ) from None
    local.execute("START SLAVE")


def _replication_error(errno: int, error: str, who: str, where: str) -> ReplicaError:
    if errno == 1045 or (errno == 1597 and "denied" in error):
        return ReplicaError(
            f"The local replica cannot read production's binary log as {who}: {error}.",
            f"Run `{_GRANT.format(who=who)}` on production, and check that the account may "
            "log in from this machine.",
        )
    if errno == 1236:
        return ReplicaError(
            f"Production no longer has the binary log the copy started from: {error}.",
            "Keep binary logs on production longer than a copy takes (expire_logs_days / "
            "binlog_expire_logs_seconds; on RDS: CALL mysql.rds_set_configuration('binlog "
            "retention hours', 24)), and rehearse again.",
        )
    return ReplicaError(
        f"Replication from production to the local replica {where} stopped: {error}.",
        "Rehearse again with --keep to inspect the local server (SHOW SLAVE STATUS).",
    )


def check_running(local: Conn, who: str, *, wait_connected: float = 0.0) -> None:
    """Raise when a replication thread of ``local`` has an error (optionally wait for IO)."""
    deadline = time.monotonic() + wait_connected
    while True:
        rows = local.query_dicts("SHOW SLAVE STATUS")
        st = rows[0] if rows else {}
        for kind in ("SQL", "IO"):
            errno = int(st.get(f"Last_{kind}_Errno") or 0)
            if errno:
                err = _text(st.get(f"Last_{kind}_Error"))
                raise _replication_error(errno, err, who, local.endpoint.redacted())
        if _text(st.get("Slave_IO_Running")) == "Yes" or time.monotonic() >= deadline:
            return
        time.sleep(0.1)


def catch_up(local: Conn, prod: Conn, who: str, timeout: float) -> None:
    """Wait until ``local`` has applied what ``prod`` has written (``SLICE`` s at a time)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            wait_caught_up(local, prod, max(1, min(SLICE, deadline - time.monotonic())))
            return
        except ReplicaError:
            check_running(local, who)
            if time.monotonic() >= deadline:
                raise


class LocalReplicaSandbox(LocalSandbox):
    """A local MariaDB server made a replica of production, caught up, then promoted."""

    kind = "local-replica"
    holds_data = "replica"

    def __init__(
        self, *, keep: bool = False, catch_up_timeout: float = 600, say: Say = _stderr
    ) -> None:
        super().__init__(keep=keep)
        self.catch_up_timeout = catch_up_timeout
        self._say = say
        self._phases = self._new_phases()
        self.start_at: Coordinates | None = None
        self.promoted_at = ""  # production's GTID (or file:pos) the replica had reached

    def _new_phases(self) -> Phases:
        # ``_say`` is looked up at each line: it may be redirected after construction.
        return Phases(lambda text: self._say(text), immediate=True, stamp=_stamp)

    def prepare(
        self,
        target: Endpoint,
        *,
        data: DataMode | None = None,
        progress: ProgressFn | None = None,
        workers: int = 4,
    ) -> Endpoint:
        from myshift.db.server import LocalServer

        self._phases = self._new_phases()  # times count from here
        if target.fresh_password is not None:
            # The replica's own IO thread logs in to production, with a password fixed
            # in CHANGE MASTER TO: a token made for one login (valid 15 minutes, and
            # needing a clear-text login) would be refused as a missing grant later.
            raise UsageError(
                f"--sandbox local-replica cannot replicate from {target.redacted()} with "
                'auth = "iam": the local replica logs in by itself, with a fixed password, '
                "and an IAM token is valid for 15 minutes.",
                "Give this environment a password (password_secret or password_env) for "
                "the replication account, or rehearse with --sandbox rds-replica:ID.",
            )
        self._phases.note(f"Checking production {target.redacted()}: binary log, format, grants...")
        with connect(target, schema="") as prod:
            check_source(prod, target.schema)
            ident = server_identity(prod)
            sid = _pick_server_id(ident.server_id)
        self._phases.note(f"Starting a local server (server_id {sid})...")
        self._starter = lambda: self._start(LocalServer, sid)
        ep = super().prepare(target, data=DataMode("full"), progress=progress, workers=1)
        self._replicate(target, ep, ident)
        if workers > 1:
            self.notes.append(
                "The copy used one connection: one snapshot matches one binlog position "
                "(--workers does not apply to --sandbox local-replica)."
            )
        return ep

    def _start(self, server_cls: type[LocalServer], sid: int) -> LocalServer:
        # Held before anything else runs: a stop signal while the line below is
        # written must find the server for teardown, not leave it running.
        self.server = srv = server_cls.start(server_id=sid, extra_args=("--relay-log=relay-bin",))
        pid = srv.process.pid if srv.process else "?"
        self._phases.note(
            f"Local server up: 127.0.0.1:{srv.port}, pid {pid}, datadir {srv.basedir}"
        )
        return srv

    def _clone(
        self,
        target: Endpoint,
        dst: Endpoint,
        data: DataMode | None,
        progress: ProgressFn | None,
        workers: int,
    ) -> None:
        from myshift.workflows.clone import clone_schema_data

        self._phases.note(f"Copying {target.schema!r} in one consistent snapshot...")
        self.clone_stats = clone_schema_data(
            target,
            dst,
            mode=DataMode("full"),
            workers=1,
            progress=progress,
            on_snapshot=self._at_snapshot,
        )
        self.notes.extend(self.clone_stats.notes)
        cs = self.clone_stats
        self._phases.note(
            f"Copied {cs.tables} tables, {cs.rows:,} rows as of binlog {self.start_at}"
        )

    def _at_snapshot(self, conn: Conn) -> None:
        self.start_at = snapshot_coordinates(conn)

    def _replicate(self, target: Endpoint, ep: Endpoint, ident: ServerIdentity) -> None:
        assert self.start_at is not None
        with connect(ep, schema="") as local, connect(target, schema="") as prod:
            who = _account(prod)
            self._phases.note(f"Replicating from production, starting at binlog {self.start_at}...")
            start_replication(local, target, self.start_at)
            if note := tunnel_tls_note(target):
                self.notes.append(note)
            check_running(local, who, wait_connected=START_TIMEOUT)
            try:
                check_replicates_from(local, ident)
                catch_up(local, prod, who, self.catch_up_timeout)
            except ReplicaError:
                check_running(local, who)  # a thread's own error, with this sandbox's fix
                raise
            pos = _text(local.scalar("SELECT @@GLOBAL.gtid_slave_pos"))
            self.promoted_at = pos
            self._phases.note(f"Caught up with production (GTID {pos}); promoting...")
            detach(local, target_name=str(target))
            local.execute("SET GLOBAL replicate_wild_do_table = ''")
        self.notes.append(
            f"Local replica of {target.redacted()} from binlog {self.start_at}, caught up to "
            f"GTID {self.promoted_at} and promoted (replication stopped for good); production "
            "was only read."
        )
        self._phases.note("Promoted: a standalone, writable server; rehearsing there.")

    def teardown(self) -> None:
        if self.server is not None:
            pid = self.server.process.pid if self.server.process else "?"
            where = self.server.basedir
            super().teardown()
            self._phases.note(f"Removed the local server (pid {pid}, datadir {where}).")


__all__ = [
    "Coordinates",
    "LocalReplicaSandbox",
    "check_source",
    "snapshot_coordinates",
    "start_replication",
    "wild_pattern",
]
