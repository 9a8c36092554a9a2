"""Running a plan's pre-flight checks on a server: one place for apply, rehearse
and the guarded FK add.

A check is a read-only ``SELECT COUNT(*)`` derived by the engine
(engine.preflight); one that cannot be known in advance has no SQL and is
skipped. What to do with a hit is the caller's: apply refuses before the first
statement, a rehearsal fails, the guarded FK add refuses or fails around its
statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from myshift.db.connect import Conn, DriverError
from myshift.workflows.planmodel import PlannedStatement, Preflight


@dataclass(frozen=True)
class PreflightHit:
    """A check that found rows (``rows`` > 0) or could not run (``error``)."""

    statement: PlannedStatement
    check: Preflight
    rows: int = 0
    error: str = ""


def preflight_hits(conn: Conn, statements: Iterable[PlannedStatement]) -> Iterator[PreflightHit]:
    """Count every runnable pre-flight of ``statements`` on ``conn``, in plan order;
    yield the checks that found rows or could not run."""
    for st in statements:
        for pre in st.preflight:
            if not pre.runnable or pre.deletes:  # unknowable in advance / a count to show
                continue
            try:
                n = int(conn.scalar(pre.sql) or 0)
            except DriverError as exc:
                yield PreflightHit(st, pre, error=str(exc))
                continue
            if n:
                yield PreflightHit(st, pre, rows=n)


__all__ = ["PreflightHit", "preflight_hits"]
