"""One planned statement on the DDL session, with what must surround it.

Some statements are only safe with session statements around them and with
their data checks run on the spot (both derived by the engine, never read
from a plan file: workflows.plancheck):

* an unchecked foreign key add (engine AddForeignKey.unchecked): the orphan
  pre-flight runs right before it, ``foreign_key_checks=0`` is set for it
  alone (InnoDB then adds the key in place, no table copy), ``=1`` is set
  again right after, even when it failed, and the pre-flight runs once more:
  rows written meanwhile were not validated by anything;
* a MySQL trigger swap (engine DropTrigger.swap): ``LOCK TABLES t WRITE``
  before the DROP TRIGGER, ``UNLOCK TABLES`` after the CREATE TRIGGER (the
  next statement), or at once when either fails.

History is written on its own connection (workflows.history), so it is not
under the DDL session's LOCK TABLES; GET_LOCK and information_schema work
under it (checked on MariaDB 10.11).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from myshift.db.connect import Conn, DriverError
from myshift.errors import ApplyFailed, UnsafeError
from myshift.workflows.planmodel import PlannedStatement


def run_guarded(conn: Conn, st: PlannedStatement, run: Callable[[], int | None]) -> int | None:
    """``run()`` (which sends ``st.sql``) with ``st``'s session statements and rechecks."""
    if st.recheck:
        _recheck(conn, st, after=False)
    for sql in st.session_before:
        conn.execute(sql)
    try:
        rows = run()
    except BaseException:
        if st.leaves_tables_locked:
            with contextlib.suppress(DriverError):
                conn.execute("UNLOCK TABLES")
        raise
    finally:
        for sql in st.session_after:
            with contextlib.suppress(DriverError):
                conn.execute(sql)
    if st.recheck:
        _recheck(conn, st, after=True)
    return rows


def _recheck(conn: Conn, st: PlannedStatement, *, after: bool) -> None:
    """Run ``st``'s pre-flight queries now; refuse (before) or fail (after) on a hit."""
    for pre in st.preflight:
        if not pre.runnable:  # a check that cannot be known in advance (engine.preflight)
            continue
        n = int(conn.scalar(pre.sql) or 0)
        if not n:
            continue
        if not after:
            raise UnsafeError(
                # The statement's clause, not its SQL cut at a length (it ended mid-name).
                f"{st.subject}: pre-flight check failed right before the statement "
                f"({st.description}): {pre.description}: {n} row(s) (written since the apply "
                "began) would violate it; it was not run.",
                f"Fix those rows (they are counted by `{pre.sql}`), then re-plan and apply again.",
            )
        raise ApplyFailed(
            f"{st.subject}: the statement ({st.description}) ran, but {n} row(s) written while "
            f"it ran violate it: {pre.description}. The foreign key exists now; those rows "
            "were not validated (foreign_key_checks=0).",
            f"Fix or delete those rows (they are counted by `{pre.sql}`) before relying "
            "on the key; re-plan afterwards: the key itself needs no further change.",
        )


__all__ = ["run_guarded"]
