"""Replicas as sandboxes: check one replicates from the target, let it catch up, detach it.

Rehearsing on a detached replica uses the real data without copying it — the
local equivalent of promoting an RDS read replica to a standalone instance.

Flavor differences (the SLAVE/REPLICA and MASTER/SOURCE vocabulary, GTID
styles) are handled in this one module:

* MariaDB 10.5.1+ and MySQL 8.0.22+ understand ``SHOW REPLICA STATUS``;
  older servers only ``SHOW SLAVE STATUS``.  MySQL's new spelling also renames
  the columns (``Source_Host``, ``Replica_IO_Running``…); ``_status`` maps them
  back to the classic names so the rest of the code reads one vocabulary.
* Catching up: MariaDB with GTID → ``MASTER_GTID_WAIT(@@gtid_binlog_pos of
  the primary)``; MySQL with GTID → ``WAIT_FOR_EXECUTED_GTID_SET(@@gtid_executed)``;
  otherwise binlog file/position from ``SHOW MASTER STATUS`` →
  ``MASTER_POS_WAIT``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from myshift.db.connect import Conn, DriverError
from myshift.db.identity import server_identity
from myshift.errors import MyshiftError, UsageError
from myshift.exitcodes import ExitCode
from myshift.model.flavor import Flavor
from myshift.model.identity import ServerIdentity

# Seconds a freshly (re)started replica gets for its IO thread to reach its source.
CONNECT_TIMEOUT = 10.0


class ReplicaError(MyshiftError):
    """The replica sandbox cannot be used (not replicating, lagging, broken)."""

    exit_code = ExitCode.REHEARSAL_FAILED


@dataclass(frozen=True)
class ReplicaStatus:
    master_host: str
    master_port: int
    master_server_id: int
    master_uuid: str
    io_running: str
    sql_running: str
    last_error: str
    using_gtid: str
    seconds_behind: int | None


def _new_syntax(flavor: Flavor) -> bool:
    return flavor.has_replica_syntax


def _classic(name: str) -> str:
    """MySQL 8.0.22+ column names back to the classic ones MariaDB still uses."""
    return name.replace("Source", "Master").replace("Replica_", "Slave_")


def _status(conn: Conn) -> ReplicaStatus | None:
    stmt = "SHOW REPLICA STATUS" if _new_syntax(conn.flavor) else "SHOW SLAVE STATUS"
    rows = conn.query_dicts(stmt)
    if not rows:
        return None
    row: dict[str, Any] = {_classic(k): v for k, v in rows[0].items()}
    sbm = row.get("Seconds_Behind_Master")
    return ReplicaStatus(
        master_host=str(row.get("Master_Host") or ""),
        master_port=int(row.get("Master_Port") or 0),
        master_server_id=int(row.get("Master_Server_Id") or 0),
        master_uuid=str(row.get("Master_UUID") or ""),
        io_running=str(row.get("Slave_IO_Running") or ""),
        sql_running=str(row.get("Slave_SQL_Running") or ""),
        last_error=str(row.get("Last_SQL_Error") or row.get("Last_IO_Error") or ""),
        using_gtid=str(row.get("Using_Gtid") or row.get("Auto_Position") or ""),
        seconds_behind=int(sbm) if sbm is not None else None,
    )


def _connected_status(replica: Conn, timeout: float = CONNECT_TIMEOUT) -> ReplicaStatus | None:
    """The replica's status once its IO thread has reached its source (bounded wait).

    Until the IO thread has connected, ``Master_Server_Id`` reads 0 and IO is
    "Connecting" or "Preparing", which would look like "replicates from another
    server" or "replication is stopped"; a replica that was just started (or
    restarted) is given ``timeout`` seconds to connect first.
    """
    deadline = time.monotonic() + timeout
    st = _status(replica)
    # "Connecting" / "Preparing": the IO thread is on its way; "Yes" and "No" are final.
    while st is not None and st.io_running not in ("Yes", "No") and time.monotonic() < deadline:
        time.sleep(0.1)
        st = _status(replica)
    return st


def check_replicates_from(replica: Conn, target: ServerIdentity) -> ReplicaStatus:
    """Raise unless ``replica`` is a working replica of the ``target`` server.

    The master is identified by ``Master_Server_Id`` (and ``Master_UUID`` when the
    server reports one), not by ``Master_Host``, which may be an IP, a DNS alias
    or a proxy.
    """
    where = replica.endpoint.redacted()
    st = _connected_status(replica)
    if st is None:
        raise UsageError(
            f"{where} is not a replica (SHOW REPLICA STATUS is empty).",
            "Point --sandbox replica:URL at a replica of the target, or use --sandbox local.",
        )
    # Master_UUID is MySQL's @@server_uuid of the source (MariaDB reports none, and
    # its identity uuid is a derived hash, so only compare when both are real).
    uuid_differs = bool(st.master_uuid) and bool(target.uuid) and st.master_uuid != target.uuid
    if st.master_server_id != target.server_id or uuid_differs:
        raise UsageError(
            f"{where} replicates from {st.master_host}:{st.master_port} (server_id "
            f"{st.master_server_id}), not from the target {target.describe()}.",
            "Point --sandbox replica:URL at a replica of the target.",
        )
    if st.sql_running != "Yes" or st.io_running != "Yes":
        raise ReplicaError(
            f"Replication on {where} is stopped (IO {st.io_running}, SQL {st.sql_running})"
            + (f": {st.last_error}." if st.last_error else "."),
            "Fix and restart replication, then rehearse again.",
        )
    return st


def wait_caught_up(replica: Conn, target: Conn, timeout: float) -> None:
    """Block until ``replica`` has applied everything ``target`` has written so far."""
    where = replica.endpoint.redacted()
    st = _status(replica)
    if st is None:
        raise UsageError(f"{where} is not a replica.", "Point --sandbox replica:URL at one.")
    secs = max(1, int(timeout))
    tflavor = target.flavor
    result: Any
    if tflavor.is_mariadb and st.using_gtid.lower() not in ("", "no", "0"):
        pos = str(target.scalar("SELECT @@GLOBAL.gtid_binlog_pos"))
        result = replica.scalar("SELECT MASTER_GTID_WAIT(%s, %s)", (pos, secs))
        ok = result == 0
    elif tflavor.is_mysql and st.using_gtid in ("1", "Yes"):
        gtids = str(target.scalar("SELECT @@GLOBAL.gtid_executed"))
        result = replica.scalar("SELECT WAIT_FOR_EXECUTED_GTID_SET(%s, %s)", (gtids, secs))
        ok = result == 0
    else:
        try:
            rows = target.query("SHOW MASTER STATUS")
        except DriverError:
            rows = target.query("SHOW BINARY LOG STATUS")  # MySQL 8.4 removed the old name
        if not rows:
            raise ReplicaError(
                f"The target {target.endpoint.redacted()} has no binary log position.",
                "Enable log_bin on the target or use --sandbox local.",
            )
        file, position = str(rows[0][0]), int(rows[0][1])
        result = replica.scalar("SELECT MASTER_POS_WAIT(%s, %s, %s)", (file, position, secs))
        ok = result is not None and int(result) >= 0
    if not ok:
        raise ReplicaError(
            f"{where} did not catch up with the target within {secs}s (result {result!r}).",
            "Wait for replication lag to drop, or raise the catch-up timeout.",
        )


def detach(replica: Conn, *, target_name: str = "its primary") -> str:
    """Stop replicating for good and make the replica writable; return a plain message."""
    flavor = replica.flavor
    word = "REPLICA" if _new_syntax(flavor) else "SLAVE"
    replica.execute(f"STOP {word}")
    replica.execute(f"RESET {word} ALL")
    if flavor.has_super_read_only:
        replica.execute("SET GLOBAL super_read_only = 0")
    replica.execute("SET GLOBAL read_only = 0")
    ident = server_identity(replica)
    return f"replica {ident.hostname}:{ident.port} no longer replicates from {target_name}"


def is_replicating(conn: Conn) -> bool:
    """Whether either replication thread of ``conn`` is still running (a promoted
    replica has none: its status is empty or both threads are stopped)."""
    st = _status(conn)
    return st is not None and "Yes" in (st.io_running, st.sql_running)


ER_SPECIFIC_ACCESS_DENIED = 1227  # "you need (at least one of) the … privilege(s)"


def follow_refused(conn: Conn) -> str | None:
    """The server's refusal when ``conn``'s user may not read what catching up needs
    (replication status, the binary log position), else None.  Run on production,
    it tells before a replica is made whether the same user could follow it there."""
    stmts = [
        "SHOW REPLICA STATUS" if _new_syntax(conn.flavor) else "SHOW SLAVE STATUS",
        "SHOW MASTER STATUS",
    ]
    for stmt in stmts:
        try:
            conn.query(stmt)
        except DriverError as exc:
            code = exc.args[0] if exc.args else None
            if code == ER_SPECIFIC_ACCESS_DENIED:
                return str(exc.args[1]) if len(exc.args) > 1 else str(exc)
            if stmt != "SHOW MASTER STATUS":
                raise
            # MySQL 8.4 knows only SHOW BINARY LOG STATUS.
            try:
                conn.query("SHOW BINARY LOG STATUS")
            except DriverError as exc2:
                if exc2.args and exc2.args[0] == ER_SPECIFIC_ACCESS_DENIED:
                    return str(exc2.args[1])
                raise
    return None
