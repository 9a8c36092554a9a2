"""What the server says about other sessions: metadata locks, threads, transactions.

The SQL behind ``workflows.blockers`` (who holds a table's metadata lock,
which myshift statements still run): MariaDB's METADATA_LOCK_INFO plugin,
performance_schema.metadata_locks, and the processlist joined to InnoDB's
transactions.  Rows come back as the server gives them (dicts); turning them
into blockers is pure and lives in ``workflows.blockers``.  Every view of
other sessions needs PROCESS; where a view is missing or not granted these
return ``None`` (or nothing) rather than fail, except ``mdl_source``, which
raises so the missing privilege is named.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Sequence
from typing import Any

from myshift.db.connect import Conn, DriverError

SOURCE_MDL_INFO = "metadata_lock_info"
SOURCE_PERFORMANCE_SCHEMA = "performance_schema"
SOURCE_NONE = "processlist"

# ----------------------------------------------------------------------------- SQL

SQL_MDL_INFO_PLUGIN = (
    "SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO'"
)
SQL_MDL_INFO_INSTALL = "INSTALL SONAME 'metadata_lock_info'"
SQL_MDL_INFO_HOLDERS = (
    "SELECT * FROM information_schema.METADATA_LOCK_INFO "
    "WHERE LOCK_TYPE = 'Table metadata lock' AND TABLE_SCHEMA = %s AND TABLE_NAME = %s "
    "AND THREAD_ID <> CONNECTION_ID()"
)
# MySQL manual, "The metadata_locks Table": one row per granted or pending
# lock; OWNER_THREAD_ID is a performance-schema thread id, mapped to the
# connection id (PROCESSLIST_ID) through performance_schema.threads.
# Needs PROCESS (error 1227 without it).  Every view of other sessions is filtered
# to the user's own threads without PROCESS -- silently -- so apply asks this first.
SQL_SEES_OTHERS = "SELECT trx_id FROM information_schema.INNODB_TRX LIMIT 1"
SQL_PS_ENABLED = (
    "SELECT COUNT(*) FROM performance_schema.setup_instruments "
    "WHERE NAME = 'wait/lock/metadata/sql/mdl' AND ENABLED = 'YES'"
)
SQL_PS_HOLDERS = (
    "SELECT t.PROCESSLIST_ID AS THREAD_ID, m.LOCK_TYPE AS LOCK_MODE, "
    "m.LOCK_DURATION, m.LOCK_STATUS "
    "FROM performance_schema.metadata_locks m "
    "JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID "
    "WHERE m.OBJECT_TYPE = 'TABLE' AND m.OBJECT_SCHEMA = %s AND m.OBJECT_NAME = %s "
    "AND m.LOCK_STATUS = 'GRANTED' AND t.PROCESSLIST_ID IS NOT NULL "
    "AND t.PROCESSLIST_ID <> CONNECTION_ID()"
)
# One row per connection: what it runs and since when, and its InnoDB
# transaction's age and start (server clock) if it has one.  ``p.*`` because MariaDB has TIME_MS and
# MySQL does not; the parser reads what is there.
_SQL_THREADS = (
    "SELECT p.*, TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS TRX_SECONDS, "
    "t.trx_started AS TRX_STARTED "
    "FROM information_schema.PROCESSLIST p "
    "LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID "
    "WHERE p.ID <> CONNECTION_ID()"
)
SQL_THREADS_BY_ID = _SQL_THREADS + " AND p.ID IN ({ids})"
SQL_THREADS_BUSY = (
    _SQL_THREADS + " AND (t.trx_mysql_thread_id IS NOT NULL "
    "OR (p.COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump') AND p.INFO IS NOT NULL))"
)
SQL_TAGGED = _SQL_THREADS + " AND p.INFO LIKE %s AND p.COMMAND <> 'Sleep'"

# How far one connection's running statement is (workflows.statementprogress).
# MariaDB: the processlist itself reports ALTER TABLE / LOAD DATA progress --
# STAGE of MAX_STAGE and PROGRESS (percent of the current stage).  The
# statement's own session needs no PROCESS privilege to be seen by its user.
SQL_PROGRESS_MARIADB = (
    "SELECT STAGE, MAX_STAGE, PROGRESS, STATE, TIME_MS, COMMAND "
    "FROM information_schema.PROCESSLIST WHERE ID = %s"
)
# MySQL manual, "Using the Performance Schema to Monitor ALTER TABLE Progress":
# the InnoDB ``stage/innodb/alter%`` instruments and the events_stages_current
# consumer must be enabled; WORK_ESTIMATED may grow as the server learns more.
SQL_PROGRESS_MYSQL = (
    "SELECT s.EVENT_NAME, s.WORK_COMPLETED, s.WORK_ESTIMATED "
    "FROM performance_schema.events_stages_current s "
    "JOIN performance_schema.threads t ON t.THREAD_ID = s.THREAD_ID "
    "WHERE t.PROCESSLIST_ID = %s"
)
# Is the connection still running a statement (not idle between two)?
SQL_RUNNING = (
    "SELECT COMMAND, INFO FROM information_schema.PROCESSLIST "
    "WHERE ID = %s AND COMMAND NOT IN ('Sleep', 'Killed')"
)


# ----------------------------------------------------------------------------- queries

_SOURCES: weakref.WeakKeyDictionary[Conn, str] = weakref.WeakKeyDictionary()


def mdl_source(conn: Conn) -> str:
    """Which view of metadata locks this server gives us (asked once per connection)."""
    known = _SOURCES.get(conn)
    if known is not None:
        return known
    # Raises (the CLI names PROCESS and its GRANT) rather than look for blockers blind.
    conn.scalar(SQL_SEES_OTHERS)
    source = SOURCE_NONE
    if conn.flavor.has_metadata_lock_info_plugin:
        status = _scalar_or_none(conn, SQL_MDL_INFO_PLUGIN)
        if status is None:
            # Needs INSERT on mysql.plugin; without it (or without the library) we go on.
            with contextlib.suppress(DriverError):
                conn.execute(SQL_MDL_INFO_INSTALL)
            status = _scalar_or_none(conn, SQL_MDL_INFO_PLUGIN)
        if status == "ACTIVE":
            source = SOURCE_MDL_INFO
    if source == SOURCE_NONE and int(_scalar_or_none(conn, SQL_PS_ENABLED) or 0) > 0:
        source = SOURCE_PERFORMANCE_SCHEMA
    _SOURCES[conn] = source
    return source


def _scalar_or_none(conn: Conn, sql: str) -> Any:
    try:
        return conn.scalar(sql)
    except DriverError:  # no such view, or performance_schema off / not granted
        return None


def thread_rows(conn: Conn, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Processlist(+INNODB_TRX) rows of these connections (``{"ID": id}`` only without PROCESS)."""
    if not ids:
        return []
    try:
        return conn.query_dicts(SQL_THREADS_BY_ID.format(ids=", ".join(str(int(i)) for i in ids)))
    except DriverError:  # no PROCESS privilege
        return [{"ID": i} for i in ids]


def lock_rows(conn: Conn, source: str, schema: str, table: str) -> list[dict[str, Any]] | None:
    """The granted metadata locks on ``schema.table`` from ``source`` (SOURCE_MDL_INFO or
    SOURCE_PERFORMANCE_SCHEMA): ``THREAD_ID``, ``LOCK_MODE`` ...; None when it cannot be read."""
    sql = SQL_MDL_INFO_HOLDERS if source == SOURCE_MDL_INFO else SQL_PS_HOLDERS
    try:
        return conn.query_dicts(sql, (schema, table))
    except DriverError:
        return None  # privilege revoked, plugin uninstalled


def busy_thread_rows(conn: Conn) -> list[dict[str, Any]] | None:
    """Connections in a transaction or running a statement; None without PROCESS."""
    try:
        return conn.query_dicts(SQL_THREADS_BUSY)
    except DriverError:
        return None


def statement_rows(conn: Conn, prefix: str) -> list[dict[str, Any]]:
    """Connections running a statement whose text starts with ``prefix`` ([] without PROCESS)."""
    try:
        return conn.query_dicts(SQL_TAGGED, (prefix + "%",))
    except DriverError:
        return []


def progress_row(conn: Conn, thread_id: int) -> dict[str, Any] | None:
    """The progress columns of ``thread_id``'s running statement (see SQL_PROGRESS_*);
    None when the connection is gone or the view cannot be read."""
    sql = SQL_PROGRESS_MARIADB if conn.flavor.is_mariadb else SQL_PROGRESS_MYSQL
    try:
        rows = conn.query_dicts(sql, (int(thread_id),))
    except DriverError:  # performance_schema off, or not granted
        return None
    return rows[0] if rows else None


def kill_query(conn: Conn, thread_id: int) -> None:
    """Stop the statement ``thread_id`` runs (the session stays): the server rolls it back.

    The statement's session gets error 1317 (query execution was interrupted).
    Killing one's own user's session needs no privilege; another's needs
    CONNECTION ADMIN (or SUPER).  An idle or gone session is not an error.
    """
    try:
        conn.execute(f"KILL QUERY {int(thread_id)}")
    except DriverError as exc:
        if not (exc.args and exc.args[0] == 1094):  # unknown thread id: it is gone
            raise


def is_running(conn: Conn, thread_id: int) -> bool:
    """Whether ``thread_id`` is running a statement (False when idle or gone)."""
    return bool(conn.query(SQL_RUNNING, (int(thread_id),)))


def replica_connections(conn: Conn) -> int | None:
    """How many replicas stream this server's binary log now (their dump threads);
    None without PROCESS."""
    try:
        return int(
            conn.scalar(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                "WHERE COMMAND IN ('Binlog Dump', 'Binlog Dump GTID')"
            )
            or 0
        )
    except DriverError:
        return None


def threads_running(conn: Conn, fragment: str) -> list[int]:
    """Connections (not this one) running a statement whose text contains ``fragment``."""
    like = "%" + fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    try:
        rows = conn.query(
            "SELECT ID FROM information_schema.PROCESSLIST "
            "WHERE ID <> CONNECTION_ID() AND COMMAND <> 'Sleep' AND INFO LIKE %s",
            (like,),
        )
    except DriverError:
        return []
    return [int(r[0]) for r in rows]


def kill_connection(conn: Conn, thread_id: int) -> bool:
    """KILL a connection (its statement rolls back); False when it is gone or not ours."""
    try:
        conn.execute(f"KILL {int(thread_id)}")
    except DriverError:
        return False
    return True


__all__ = [
    "SOURCE_MDL_INFO",
    "SOURCE_NONE",
    "SOURCE_PERFORMANCE_SCHEMA",
    "busy_thread_rows",
    "is_running",
    "kill_connection",
    "kill_query",
    "lock_rows",
    "mdl_source",
    "progress_row",
    "replica_connections",
    "statement_rows",
    "thread_rows",
    "threads_running",
]
