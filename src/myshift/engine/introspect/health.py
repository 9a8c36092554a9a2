"""The server's health figures the watch samples (workflows.watch): the catalogue SQL.

* ``global_status``: SHOW GLOBAL STATUS, the numeric counters and gauges;
* ``deadlock_count``: InnoDB's deadlocks (MariaDB: the ``Innodb_deadlocks``
  status; MySQL: ``information_schema.INNODB_METRICS``' ``lock_deadlocks``);
* ``statement_errors``: statements ended in error, server-wide, from
  performance_schema's global statement summary;
* ``session_counters``: the scan counters of given sessions (myshift's own,
  db.own), from performance_schema.status_by_thread;
* ``digest_rows``: performance_schema's statement digests of one schema
  (errors, warnings, statements using no index, rows examined), when
  performance_schema is on and readable;
* ``replica_state``: SHOW REPLICA STATUS (SHOW SLAVE STATUS before MariaDB
  10.5.1 / MySQL 8.0.22): running or not, and the lag.

Each answers None (or nothing) where the server does not have the figure:
the watch shows what it can, never fails for a missing view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from myshift.db.connect import DriverError

if TYPE_CHECKING:
    from myshift.db.connect import Conn


def global_status(conn: Conn) -> dict[str, float]:
    """Every numeric variable of SHOW GLOBAL STATUS, by name."""
    out: dict[str, float] = {}
    for name, value in conn.query("SHOW GLOBAL STATUS"):
        try:
            out[str(name)] = float(value)
        except (TypeError, ValueError):
            continue  # ON/OFF, versions, file names
    return out


def deadlock_count(conn: Conn, status: dict[str, float]) -> float | None:
    """InnoDB deadlocks since the server started; None when the server does not count them."""
    if "Innodb_deadlocks" in status:  # MariaDB
        return status["Innodb_deadlocks"]
    try:
        rows = conn.query(
            "SELECT `COUNT` FROM information_schema.INNODB_METRICS WHERE NAME = 'lock_deadlocks'"
        )
    except DriverError:
        return None
    return float(rows[0][0]) if rows and rows[0][0] is not None else None


def statement_errors(conn: Conn) -> float | None:
    """Statements that ended in an error since the server started (every schema, every
    session: performance_schema's global summary, MySQL 5.6+ and MariaDB 10.0+); None
    when performance_schema is off or not readable.  SHOW GLOBAL STATUS has no such
    counter on either server."""
    try:
        value = conn.scalar(
            "SELECT SUM(SUM_ERRORS) "
            "FROM performance_schema.events_statements_summary_global_by_event_name"
        )
    except DriverError:
        return None
    return float(value) if value is not None else None


# The counters the watch takes myshift's own sessions' work out of (db.own), and
# "errors": statements ended in error (performance_schema statement summaries).
OWN_COUNTERS = ("Questions", "Select_scan", "Select_full_join", "Handler_read_rnd_next")


_NAMES = {n.lower(): n for n in (*OWN_COUNTERS, "errors", "instrumented")}


@dataclass(frozen=True, slots=True)
class OwnCounters:
    """One near-atomic read: the server-wide counters, and those of some sessions."""

    server: dict[str, float]
    # By processlist id, the sessions still connected (a closed one is missing), with
    # "instrumented" 0 when performance_schema does not count its statements.
    sessions: dict[int, dict[str, float]]


def session_counters(conn: Conn, thread_ids: frozenset[int]) -> OwnCounters | None:
    """``OWN_COUNTERS`` and statement errors, server-wide and for the given sessions
    (processlist ids), in one statement so both sides are read at (nearly) the same
    instant: performance_schema's global_status, status_by_thread and statement
    summaries (MySQL 5.7+, MariaDB 10.5.2+).  None when they cannot be read."""
    names = ", ".join(["%s"] * len(OWN_COUNTERS))
    ids = sorted(thread_ids) or [0]  # 0 is no session: an empty IN () is a syntax error
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        "SELECT 0, VARIABLE_NAME, VARIABLE_VALUE FROM performance_schema.global_status "
        f"WHERE VARIABLE_NAME IN ({names}) "
        "UNION ALL SELECT 0, 'errors', SUM(SUM_ERRORS) "
        "FROM performance_schema.events_statements_summary_global_by_event_name "
        "UNION ALL SELECT t.PROCESSLIST_ID, s.VARIABLE_NAME, s.VARIABLE_VALUE "
        "FROM performance_schema.threads t "
        "JOIN performance_schema.status_by_thread s ON s.THREAD_ID = t.THREAD_ID "
        f"WHERE t.PROCESSLIST_ID IN ({marks}) AND s.VARIABLE_NAME IN ({names}) "
        "UNION ALL SELECT t.PROCESSLIST_ID, 'errors', SUM(e.SUM_ERRORS) "
        "FROM performance_schema.threads t "
        "JOIN performance_schema.events_statements_summary_by_thread_by_event_name e "
        f"ON e.THREAD_ID = t.THREAD_ID WHERE t.PROCESSLIST_ID IN ({marks}) "
        "GROUP BY t.PROCESSLIST_ID "
        "UNION ALL SELECT PROCESSLIST_ID, 'instrumented', INSTRUMENTED = 'YES' "
        f"FROM performance_schema.threads WHERE PROCESSLIST_ID IN ({marks})"
    )
    args = (*OWN_COUNTERS, *ids, *OWN_COUNTERS, *ids, *ids)
    try:
        rows = conn.query(sql, args)
    except DriverError:
        return None
    server: dict[str, float] = {}
    sessions: dict[int, dict[str, float]] = {}
    for pid, name, value in rows:
        try:
            number = float(value) if value is not None else 0.0
        except (TypeError, ValueError):
            continue
        key = _NAMES.get(str(name).lower())  # the server's spelling of the names varies
        if key is None:
            continue
        if int(pid) == 0:
            server[key] = number
        else:
            sessions.setdefault(int(pid), {})[key] = number
    if set(server) != {*OWN_COUNTERS, "errors"}:
        return None
    return OwnCounters(server, sessions)


@dataclass(frozen=True, slots=True)
class DigestRow:
    """One statement digest of events_statements_summary_by_digest (cumulative counts)."""

    digest: str
    text: str
    count: int
    errors: int
    warnings: int
    no_index: int
    rows_examined: int


def performance_schema_on(conn: Conn) -> bool:
    try:
        return bool(int(conn.scalar("SELECT @@GLOBAL.performance_schema") or 0))
    except (DriverError, ValueError):
        return False


def _like(word: str) -> str:
    """``%word%`` for ``LIKE ... ESCAPE '!'`` (no backslash: NO_BACKSLASH_ESCAPES-proof)."""
    return "%" + word.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def digest_rows(
    conn: Conn, schema: str, limit: int = 300, mentions: Sequence[str] = ()
) -> list[DigestRow] | None:
    """The busiest statement digests run with ``schema`` as default schema (only those
    whose text mentions one of ``mentions``, when given); None when
    performance_schema is off or not readable.

    The mention filter is in the query, before the LIMIT: on a busy schema the
    watched tables' digests need not be among the busiest 300, and one entering
    them later would be counted from zero (a false jump)."""
    where, args = "SCHEMA_NAME = %s", [schema]
    if mentions:
        where += (
            " AND (" + " OR ".join(["LOWER(DIGEST_TEXT) LIKE %s ESCAPE '!'"] * len(mentions)) + ")"
        )
        args += [_like(m) for m in mentions]
    try:
        rows = conn.query(
            "SELECT DIGEST, DIGEST_TEXT, COUNT_STAR, SUM_ERRORS, SUM_WARNINGS, "
            "SUM_NO_INDEX_USED, SUM_ROWS_EXAMINED "
            "FROM performance_schema.events_statements_summary_by_digest "
            f"WHERE {where} ORDER BY COUNT_STAR DESC LIMIT %s",
            (*args, int(limit)),
        )
    except DriverError:
        return None
    return [
        DigestRow(
            digest=str(r[0] or ""),
            text=str(r[1] or ""),
            count=int(r[2] or 0),
            errors=int(r[3] or 0),
            warnings=int(r[4] or 0),
            no_index=int(r[5] or 0),
            rows_examined=int(r[6] or 0),
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class ReplicaState:
    """A replica's replication threads and lag (Seconds_Behind_Master; None: unknown)."""

    running: bool
    lag: float | None
    error: str = ""


def replica_state(conn: Conn) -> ReplicaState | None:
    """The replica's state, or None when the server is not a replica."""
    stmt = "SHOW REPLICA STATUS" if conn.flavor.has_replica_syntax else "SHOW SLAVE STATUS"
    rows = conn.query_dicts(stmt)
    if not rows:
        return None
    row: dict[str, Any] = {
        k.replace("Source", "Master").replace("Replica_", "Slave_"): v for k, v in rows[0].items()
    }
    running = row.get("Slave_IO_Running") == "Yes" and row.get("Slave_SQL_Running") == "Yes"
    lag = row.get("Seconds_Behind_Master")
    error = str(row.get("Last_SQL_Error") or row.get("Last_IO_Error") or "")
    return ReplicaState(running, float(lag) if lag is not None else None, error)


__all__ = [
    "OWN_COUNTERS",
    "DigestRow",
    "OwnCounters",
    "ReplicaState",
    "deadlock_count",
    "digest_rows",
    "global_status",
    "performance_schema_on",
    "replica_state",
    "session_counters",
    "statement_errors",
]
