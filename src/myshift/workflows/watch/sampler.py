"""One sample of the target's health, and the figures two samples give.

A ``Snapshot`` holds the cumulative counters as the server reports them at
one moment; the figures (config.watchsettings.FIGURES) are gauges read off
the later snapshot and rates over the two: per second, per query, per
statement.  The digest figures only count the statements that name one of
the watched tables (the tables the plan changes; every table of the schema
when none is given).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from myshift.db.connect import DriverError
from myshift.db.own import REGISTRY, OwnSessions
from myshift.engine.introspect import health
from myshift.errors import MyshiftError

if TYPE_CHECKING:
    from myshift.db.connect import Conn, Endpoint


@dataclass(frozen=True)
class Snapshot:
    """The counters at one moment (``wall``: epoch seconds; ``mono``: monotonic)."""

    wall: float
    mono: float
    status: dict[str, float]
    deadlocks: float | None
    digests: list[health.DigestRow] | None
    # Statements ended in error, server-wide (performance_schema); None without it.
    errors: float | None = None
    # myshift's own sessions on this server (db.own) and their counters by thread id
    # (status_by_thread); counters None: performance_schema could not say.
    own: OwnSessions | None = None
    own_counters: health.OwnCounters | None = None
    # Per replica (its name): lag in seconds, None when unknown, or an error text.
    replicas: dict[str, float | str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Sample:
    """The figures over one interval, and the digest that did worst on the changed tables."""

    wall: float
    seconds: float
    values: dict[str, float | None]
    worst_digest: str = ""
    replicas: dict[str, float | str | None] = field(default_factory=dict)
    # The scan figures have all of myshift's own sessions' work taken out (no own
    # session closed, none unseen, no outside tool ran over the interval).
    own_complete: bool = False


_WRITES = ("Com_insert", "Com_update", "Com_delete", "Com_replace")
# Fewer queries than this in an interval make "rows read per query" a figure of one
# or two statements (a quiet app, myshift's own work taken out): not shown, not judged.
MIN_QUERIES = 5


class Sampler:
    """Reads snapshots of one server on its own connection (and one per replica)."""

    def __init__(
        self,
        conn: Conn,
        schema: str,
        tables: tuple[str, ...] = (),
        replicas: dict[str, Endpoint] | None = None,
    ) -> None:
        self.conn = conn
        self.schema = schema
        self.tables = tables
        self._pattern = (
            re.compile("|".join(rf"`{re.escape(t)}`|\b{re.escape(t)}\b" for t in tables), re.I)
            if tables
            else None
        )
        self.replica_endpoints = dict(replicas or {})
        self._replica_conns: dict[str, Conn] = {}
        self.has_digests = health.performance_schema_on(conn)

    def close(self) -> None:
        for c in self._replica_conns.values():
            c.close()
        self._replica_conns.clear()

    def snapshot(self) -> Snapshot:
        # Own counters first: what myshift does between the two reads stays in the
        # server-wide figures (never subtracted twice, never hiding the app's work).
        own = REGISTRY.now(self.conn.endpoint.server_key())
        counters = health.session_counters(self.conn, own.ids) if self.has_digests else None
        status = health.global_status(self.conn)
        errors = None
        if counters is not None:
            # The server-wide side of the subtraction: read with the sessions' side.
            status.update({k: v for k, v in counters.server.items() if k != "errors"})
            errors = counters.server["errors"]
        elif self.has_digests:
            errors = health.statement_errors(self.conn)
        return Snapshot(
            wall=time.time(),
            mono=time.monotonic(),
            own=own,
            own_counters=counters,
            status=status,
            deadlocks=health.deadlock_count(self.conn, status),
            digests=self._digests() if self.has_digests else None,
            errors=errors,
            replicas={name: self._lag(name) for name in self.replica_endpoints},
        )

    def _digests(self) -> list[health.DigestRow] | None:
        rows = health.digest_rows(self.conn, self.schema, mentions=self.tables or ())
        if rows is None or self._pattern is None:
            return rows
        pattern = self._pattern
        return [r for r in rows if pattern.search(r.text)]

    def _lag(self, name: str) -> float | str | None:
        from myshift.db.connect import connect

        try:
            conn = self._replica_conns.get(name)
            if conn is None:
                conn = connect(self.replica_endpoints[name], schema="", connect_timeout=3)
                self._replica_conns[name] = conn
            state = health.replica_state(conn)
        except (DriverError, MyshiftError) as exc:
            self._replica_conns.pop(name, None)
            return f"unreachable: {str(exc)[:120]}"
        if state is None:
            return "not a replica"
        if not state.running:
            return "replication stopped" + (f": {state.error[:120]}" if state.error else "")
        return state.lag


def _rate(
    a: Snapshot, b: Snapshot, *names: str, own: dict[str, float] | None = None
) -> float | None:
    dt = b.mono - a.mono
    if dt <= 0 or any(n not in a.status or n not in b.status for n in names):
        return None
    mine = sum((own or {}).get(n, 0.0) for n in names)
    return max(0.0, sum(b.status[n] - a.status[n] for n in names) - mine) / dt


def _diff(a: Snapshot, b: Snapshot, name: str, own: dict[str, float] | None = None) -> float:
    mine = (own or {}).get(name, 0.0)
    return max(0.0, b.status.get(name, 0.0) - a.status.get(name, 0.0) - mine)


def own_work(a: Snapshot, b: Snapshot) -> tuple[dict[str, float], bool]:
    """What myshift's own sessions added to the counters from ``a`` to ``b``, and whether
    that is all of it.  Sessions open at both ends count their difference, a session
    opened since counts from zero; one that closed in between, or that
    performance_schema does not show, is not known, and neither is an outside tool's."""
    if a.own is None or b.own is None or a.own_counters is None or b.own_counters is None:
        return {}, False
    then, now = a.own_counters.sessions, b.own_counters.sessions
    complete = (
        a.own.closed == b.own.closed
        and a.own.outside == b.own.outside
        and not (a.own.outside_running or b.own.outside_running)
        and all(now.get(t, {}).get("instrumented") == 1 for t in b.own.ids)
        and all(then.get(t, {}).get("instrumented") == 1 for t in a.own.ids)
    )
    work: dict[str, float] = {}
    for tid, counters in now.items():
        before = then.get(tid)
        if before is None and tid in a.own.ids:
            complete = False  # open then, unseen: where it started is not known
            continue
        for name, value in counters.items():
            if name != "instrumented":
                gain = max(0.0, value - (before or {}).get(name, 0.0))
                work[name] = work.get(name, 0.0) + gain
    return work, complete


def figures(a: Snapshot, b: Snapshot) -> Sample:
    """The figures over the interval from ``a`` to ``b``."""
    dt = max(b.mono - a.mono, 1e-6)
    own, complete = own_work(a, b)
    queries = _diff(a, b, "Questions", own)
    values: dict[str, float | None] = {
        "threads_running": b.status.get("Threads_running"),
        "queries_per_s": _rate(a, b, "Questions"),
        "writes_per_s": _rate(a, b, *_WRITES),
        "errors_per_s": (
            max(0.0, b.errors - a.errors - own.get("errors", 0.0)) / dt
            if a.errors is not None and b.errors is not None
            else None
        ),
        "aborted_per_s": _rate(a, b, "Aborted_clients", "Aborted_connects"),
        "rollbacks_per_s": _rate(a, b, "Handler_rollback"),
        "scans_per_s": _rate(a, b, "Select_scan", "Select_full_join", own=own),
        "scan_rows_per_query": (
            _diff(a, b, "Handler_read_rnd_next", own) / queries if queries >= MIN_QUERIES else None
        ),
        "lock_waits_per_s": _rate(a, b, "Innodb_row_lock_waits"),
        "lock_ms_per_s": _rate(a, b, "Innodb_row_lock_time"),
        "deadlocks_per_s": (
            max(0.0, b.deadlocks - a.deadlocks) / dt
            if a.deadlocks is not None and b.deadlocks is not None
            else None
        ),
        "slow_per_s": _rate(a, b, "Slow_queries"),
        "replica_lag_s": _worst_lag(b.replicas),
    }
    worst = ""
    if a.digests is not None and b.digests is not None:
        digest_values, worst = _digest_figures(a.digests, b.digests, dt)
        values.update(digest_values)
    else:
        values.update(dict.fromkeys(_DIGEST_FIGURES))
    return Sample(b.wall, dt, values, worst, dict(b.replicas), complete)


_DIGEST_FIGURES = (
    "stmt_errors_per_s",
    "stmt_warnings_per_s",
    "no_index_per_s",
    "rows_examined_per_stmt",
)


def _worst_lag(replicas: dict[str, float | str | None]) -> float | None:
    lags = [v for v in replicas.values() if isinstance(v, float | int)]
    return float(max(lags)) if lags else None


def _digest_figures(
    before: list[health.DigestRow], after: list[health.DigestRow], dt: float
) -> tuple[dict[str, float | None], str]:
    """Rates summed over the digests of the watched tables; the worst digest's text."""
    old = {r.digest: r for r in before}
    count = errors = warnings = no_index = examined = 0
    worst, worst_score = "", 0
    for r in after:
        o = old.get(r.digest)
        d_count = r.count - (o.count if o else 0)
        if d_count <= 0:
            continue
        d_no_index = r.no_index - (o.no_index if o else 0)
        d_errors = r.errors - (o.errors if o else 0)
        count += d_count
        errors += d_errors
        warnings += r.warnings - (o.warnings if o else 0)
        no_index += d_no_index
        examined += r.rows_examined - (o.rows_examined if o else 0)
        score = d_errors * 1000 + d_no_index
        if score > worst_score:
            worst, worst_score = r.text, score
    values: dict[str, float | None] = {
        "stmt_errors_per_s": max(0, errors) / dt,
        "stmt_warnings_per_s": max(0, warnings) / dt,
        "no_index_per_s": max(0, no_index) / dt,
        # No statement on the watched tables: no value (as scan rows/query), not 0.
        "rows_examined_per_stmt": max(0, examined) / count if count else None,
    }
    return values, worst


__all__ = ["Sample", "Sampler", "Snapshot", "figures"]
