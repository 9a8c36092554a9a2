"""Watching a rehearsal's statements: timing, rows, and the algorithm the server used.

Rows affected and whether InnoDB rebuilt the table (its table id changes,
engine.introspect.catalog.innodb_ids) tell which algorithm the server really
used; the sandbox time scales to an estimate on production.

A partitioned table has one InnoDB table per partition, so each partition is
watched on its own: partition maintenance (ADD / DROP / REORGANIZE PARTITION,
engine.changes.partitions) is worth planning only because the partitions it
does not name keep their table ids, and the rehearsal checks that they did.
Rows affected are no sign of a copy there: REORGANIZE counts the rows it
moved (measured on MariaDB 10.11.19: 500 rows, only the named partition got a
new id), so the table counts as copied only when no partition kept its id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from myshift.db.connect import Conn
from myshift.engine.changes import partitions_rebuilt_by
from myshift.engine.introspect.catalog import InnodbIds, innodb_ids
from myshift.workflows.rehearse_report import StatementReport, _secs
from myshift.workflows.runner import StatementRun

Say = Callable[[str], None]
Parts = Mapping[str, tuple[int, ...]]


def _is_table_ddl(sql: str) -> bool:
    head = sql.lstrip()[:30].upper()
    return head.startswith(("ALTER TABLE", "CREATE INDEX", "CREATE UNIQUE", "DROP INDEX"))


def _observe_table(rep: StatementReport, rows: int, before: int, after: int) -> None:
    if rows:
        rep.observed = "COPY"  # the SQL layer copied rows: ALGORITHM=COPY
    elif before != after:
        rep.observed = "rebuild"  # INPLACE with a rebuild (or COPY of an empty table)
    else:
        rep.observed = "no rebuild"  # INSTANT, or INPLACE without a rebuild
    if rep.planned_algorithm == "INSTANT" and rep.observed != "no rebuild":
        rep.warning = (
            f"planned as INSTANT, but the server {'copied' if rows else 'rebuilt'} "
            f"`{rep.subject}` in the sandbox."
        )
    elif rep.planned_algorithm == "INPLACE" and rep.observed == "COPY":
        rep.warning = f"planned as INPLACE, but the server copied `{rep.subject}`."


def _names(names: set[str] | frozenset[str]) -> str:
    return ", ".join(sorted(names)) or "none"


def observe_partitions(rep: StatementReport, rows: int, before: Parts, after: Parts) -> None:
    """Which partitions got new table ids, against what the statement should rewrite."""
    kept = {p for p in before if after.get(p) == before[p]}
    rebuilt = {p for p in before if p in after and after[p] != before[p]}
    rep.partitions_rebuilt = sorted(rebuilt)
    rep.partitions_added = sorted(set(after) - set(before))
    rep.partitions_dropped = sorted(set(before) - set(after))
    # No partition kept its id: the whole table was written anew (rows copied, or
    # every partition replaced by new ones); an in-place rebuild of every
    # partition (0 rows, same names) is reported as such.
    copied = not kept and (rows > 0 or not rebuilt)
    if copied:
        rep.observed = "table copied"
    elif rebuilt:
        rep.observed = f"rebuilt {len(rebuilt)} of {len(before)} partitions"
    else:
        rep.observed = "no partition rebuilt"
    expected = partitions_rebuilt_by(rep.sql)
    table = f"`{rep.subject}`"
    if expected is not None:
        if rebuilt - expected:
            rep.warning = (
                f"planned to rewrite {'only ' if expected else ''}{_names(expected)} of the "
                f"partitions of {table}, but the server rebuilt {_names(rebuilt)} in the sandbox."
            )
    elif rep.planned_algorithm == "INSTANT" and (rebuilt or copied):
        rep.warning = (
            f"planned as INSTANT, but the server {'copied' if copied else 'rebuilt'} {table} "
            f"({rep.observed}) in the sandbox."
        )
    elif rep.planned_algorithm == "INPLACE" and copied and rows:
        rep.warning = f"planned as INPLACE, but the server copied {table}."


def _observe(rep: StatementReport, rows: int, before: InnodbIds, after: InnodbIds) -> None:
    """Fill ``rep.observed`` (and a warning when the plan predicted otherwise)."""
    name = rep.subject
    if name in before.partitions and name in after.partitions:
        observe_partitions(rep, rows, before.partitions[name], after.partitions[name])
    elif (name in before.partitions and name in after.tables) or (
        name in before.tables and name in after.partitions
    ):
        rep.observed = "table copied"  # partitioning added or removed: a new table
    elif name in before.tables and name in after.tables:
        _observe_table(rep, rows, before.tables[name], after.tables[name])


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
        self.ids = innodb_ids(conn, schema)
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
        before, self.ids = self.ids, innodb_ids(self.conn, self.schema)
        if rep.path != "server":
            rep.observed = rep.path  # the online tool's copy: timed like production's
        elif _is_table_ddl(rep.sql):
            _observe(rep, run.rows or 0, before, self.ids)
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


__all__ = ["Observer", "estimate", "observe_partitions"]
