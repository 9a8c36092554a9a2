"""Session settings keep-data runs under: sql_mode, transactions, trigger re-creation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from myshift.db.connect import quote_ident as q

if TYPE_CHECKING:
    from myshift.db.connect import Conn
    from myshift.workflows.keepdata.records import HeldTrigger


@contextmanager
def session_sql_mode(conn: Conn, mode: str) -> Iterator[None]:
    """Copying values between identical types must not trip strict-mode checks
    (zero dates and the like); the checksum proves the copy is exact."""
    old = conn.scalar("SELECT @@SESSION.sql_mode")
    conn.execute("SET SESSION sql_mode = %s", (mode,))
    try:
        yield
    finally:
        conn.execute("SET SESSION sql_mode = %s", (old,))


@contextmanager
def short_row_lock_wait(conn: Conn) -> Iterator[None]:
    """``innodb_lock_wait_timeout`` no longer than ``lock_wait_timeout`` meanwhile.

    Under ``LOCK TABLES t WRITE`` the application's table is held for as long
    as a statement waits; a statement waiting on a row lock waits
    innodb_lock_wait_timeout (50 s by default), not the short
    lock_wait_timeout (on MariaDB 10.11.19 an EXCHANGE PARTITION with two held
    tables locked waited on its own session for 50 s, then failed with 1205).
    Both are session variables on MySQL and MariaDB.
    """
    row, mdl = conn.query("SELECT @@SESSION.innodb_lock_wait_timeout, @@SESSION.lock_wait_timeout")[
        0
    ]
    short = max(1, min(int(row), int(mdl)))
    if short == int(row):
        yield
        return
    conn.execute(f"SET SESSION innodb_lock_wait_timeout = {short}")
    try:
        yield
    finally:
        conn.execute(f"SET SESSION innodb_lock_wait_timeout = {int(row)}")


@contextmanager
def transaction(conn: Conn, isolation: str = "REPEATABLE READ") -> Iterator[None]:
    """One transaction at ``isolation`` (for this transaction only), rolled back on error.

    REPEATABLE READ (the restore): ``INSERT ... SELECT`` and ``UPDATE`` take
    shared next-key locks on the rows they read, so a later locking read in the
    same transaction sees exactly what was written.  READ COMMITTED (the column
    backup): ``INSERT ... SELECT`` reads its source as a consistent read, with
    no row locks, so the application's writes never wait on it.
    """
    conn.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
    conn.execute("START TRANSACTION")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def copy_isolation(conn: Conn) -> Iterator[str]:
    """The isolation level for the chunked column backup: READ COMMITTED when allowed.

    With the binary log on in STATEMENT format the server refuses to log
    ``INSERT ... SELECT`` at READ COMMITTED (errno 1665), so the session is
    switched to ROW format for the copy (the backup table is not worth
    replicating differently); when that is not permitted either, the copy
    falls back to REPEATABLE READ, whose shared locks then last one chunk's
    transaction (milliseconds), not the whole backup.
    """
    log_bin, fmt = conn.query("SELECT @@GLOBAL.log_bin, @@SESSION.binlog_format")[0]
    if not int(log_bin or 0) or str(fmt).upper() != "STATEMENT":
        yield "READ COMMITTED"
        return
    try:
        conn.execute("SET SESSION binlog_format = 'ROW'")
    except Exception:  # no privilege for it: accept short, per-chunk locks
        yield "REPEATABLE READ"
        return
    try:
        yield "READ COMMITTED"
    finally:
        conn.execute("SET SESSION binlog_format = %s", (str(fmt),))


def create_trigger(conn: Conn, schema: str, trig: HeldTrigger) -> None:
    """Re-create a held trigger in ``schema``.

    SHOW CREATE TRIGGER gives the text as written, without a schema
    qualifier: run it with the right default schema and the session
    settings it was created under.
    """
    old = conn.query("SELECT DATABASE(), @@SESSION.sql_mode, @@character_set_client")[0]
    conn.execute(f"USE {q(schema)}")
    conn.execute("SET SESSION sql_mode = %s", (trig.sql_mode,))
    try:
        conn.execute(f"SET NAMES {trig.charset_client}")
        conn.execute(trig.create)
    finally:
        conn.execute("SET NAMES utf8mb4")
        conn.execute("SET SESSION sql_mode = %s", (old[1],))
        if old[0]:
            conn.execute(f"USE {q(str(old[0]))}")
