"""Bulk row transfer over a ``Conn``: streamed reads, raw byte statements, literals.

The row copier (``workflows.clone``) moves millions of rows through Python,
so it needs three things the plain ``Conn.query``/``execute`` do not give:

* results read as they arrive (an unbuffered cursor), not all held in memory;
* rows as the server's bytes, undecoded (``rows_as_bytes``): the source
  server already built each row as SQL text, Python only joins it;
* a ready-made ``bytes`` statement sent as is, without ``%s`` formatting.

Everything that touches the driver for that lives here, so the workflows
never import it.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Sequence
from typing import Any

import pymysql.cursors

from myshift.db.connect import Conn

# InnoDB's deadlock victim (1213) and lock wait timeout (1205): the statement
# was rolled back whole, so running it again is safe.
_RETRYABLE = (1213, 1205)


def rows_as_bytes(conn: Conn) -> None:
    """From now on, text values arrive as ``bytes`` (no decoding per value)."""
    conn.raw.use_unicode = False


def stream_rows(
    conn: Conn, sql: str, batch: int = 2000
) -> Generator[Sequence[tuple[Any, ...]], None, None]:
    """Run ``sql`` and yield its rows ``batch`` at a time, read as they arrive.

    The connection is busy until the generator is exhausted or closed (close
    it, e.g. with ``contextlib.closing``, when stopping early).
    """
    cur = conn.raw.cursor(pymysql.cursors.SSCursor)
    try:
        cur.execute(sql)
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                return
            yield rows
    finally:
        cur.close()


def execute_bytes(conn: Conn, stmt: bytes, *, retries: int = 5) -> None:
    """Send one ready-made statement, retried when InnoDB rolls it back for a deadlock.

    Workers filling disjoint key ranges of one table can still deadlock on
    secondary-index gap locks (seen in the clone bench); only autocommitted
    statements may be retried this way.
    """
    for attempt in range(retries + 1):
        try:
            conn.raw.query(stmt)
            return
        except pymysql.err.OperationalError as exc:
            if not exc.args or exc.args[0] not in _RETRYABLE or attempt == retries:
                raise
            time.sleep(0.05 * (attempt + 1))


def literal(conn: Conn, value: Any) -> str:
    """``value`` as an SQL literal, escaped for ``conn``'s character set."""
    return str(conn.raw.escape(value))


def error_text(exc: BaseException) -> str:
    """The server's own sentence for a driver error (without its code)."""
    return str(exc.args[1]) if len(exc.args) > 1 else str(exc)
