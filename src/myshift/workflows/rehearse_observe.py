"""Watching a rehearsal's statements: timing, rows, and the algorithm the server used.

Rows affected and whether InnoDB rebuilt the table (its table id changes,
engine.introspect.catalog.innodb_table_ids) tell which algorithm the server
really used; the sandbox time scales to an estimate on production.
"""

from __future__ import annotations

from collections.abc import Callable

from myshift.db.connect import Conn
from myshift.engine.introspect.catalog import innodb_table_ids
from myshift.workflows.rehearse_report import StatementReport, _secs
from myshift.workflows.runner import StatementRun

Say = Callable[[str], None]


def _is_table_ddl(sql: str) -> bool:
    head = sql.lstrip()[:30].upper()
    return head.startswith(("ALTER TABLE", "CREATE INDEX", "CREATE UNIQUE", "DROP INDEX"))


class Observer:
    """Collects each statement's timing, rows and the algorithm the server was seen to use."""

    def __init__(
        self,
        conn: Conn,
        schema: str,
        reports: list[StatementReport],
        say: Say,
    ) -> None:
        self.conn = conn
        self.schema = schema
        self.reports = reports
        self.say = say
        self.ids = innodb_table_ids(conn, schema)
        self.seen = 0

    def __call__(self, run: StatementRun) -> None:
        rep = self.reports[run.seq - 1]
        self.seen = max(self.seen, run.seq)
        rep.seconds = run.seconds
        rep.rows = run.rows
        if not run.ok:
            rep.status = "failed"
            rep.error = run.error
            rep.error_code = run.error_code
            self.say(f"[{run.seq}/{len(self.reports)}] {rep.subject}: FAILED: {run.error}")
            return
        rep.status = "ok"
        rep.path = run.statement.path
        ids = innodb_table_ids(self.conn, self.schema)
        before, after = self.ids.get(rep.subject), ids.get(rep.subject)
        self.ids = ids
        if rep.path != "server":
            rep.observed = rep.path  # the online tool's copy: timed like production's
        elif _is_table_ddl(rep.sql) and before is not None and after is not None:
            if run.rows:
                rep.observed = "COPY"  # the SQL layer copied rows: ALGORITHM=COPY
            elif before != after:
                rep.observed = "rebuild"  # INPLACE with a rebuild (or COPY of an empty table)
            else:
                rep.observed = "no rebuild"  # INSTANT, or INPLACE without a rebuild
            if rep.planned_algorithm == "INSTANT" and rep.observed != "no rebuild":
                rep.warning = (
                    f"planned as INSTANT, but the server {'copied' if run.rows else 'rebuilt'} "
                    f"`{rep.subject}` in the sandbox."
                )
            elif rep.planned_algorithm == "INPLACE" and rep.observed == "COPY":
                rep.warning = f"planned as INPLACE, but the server copied `{rep.subject}`."
        self.say(
            f"[{run.seq}/{len(self.reports)}] {rep.subject}: {_secs(run.seconds)}"
            + (f", {run.rows:,} rows" if run.rows else "")
            + (f" ({rep.observed})" if rep.observed else "")
        )


def estimate(rep: StatementReport, data: str) -> float | None:
    if rep.seconds is None or rep.status != "ok":
        return None
    if data in ("full", "replica"):
        return rep.seconds
    if data == "none":
        return None
    if rep.production_rows is None or rep.sandbox_rows is None:
        return None
    if rep.sandbox_rows == 0:
        return rep.seconds if rep.production_rows == 0 else None
    return rep.seconds * max(1.0, rep.production_rows / rep.sandbox_rows)


__all__ = ["Observer", "estimate"]
