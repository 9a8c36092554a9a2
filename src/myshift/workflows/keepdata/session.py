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
