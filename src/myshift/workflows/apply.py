"""Apply: run exactly the reviewed statements, safely.

Safety, in the order it happens:

1. one advisory lock per target schema (``GET_LOCK``): a second concurrent
   apply fails fast instead of interleaving DDL;
2. the target must still be what the plan was made from: same server
   identity, same fingerprint (else: drift, with what changed);
3. pre-flight data checks of data-dependent statements are re-run;
4. an ``--algorithm`` policy refuses, before anything runs, a statement that
   would need a more expensive algorithm;
5. every DDL session has a short ``lock_wait_timeout``; before each statement
   we look for transactions that would block its metadata lock and wait with
   backoff up to a deadline, then stop cleanly naming the blocker;
6. each statement is recorded in history *before* it runs and completed after;
7. the target is re-introspected at the end and must match the plan's ``to``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from myshift.db.connect import Conn, DriverError, Endpoint, connect, connected
from myshift.engine.diff import DiffOptions, diff_schemas
from myshift.engine.introspect import introspect
from myshift.engine.risk import Algorithm
from myshift.errors import ApplyFailed, DriftError, LockTimeout, MyshiftError, UnsafeError
from myshift.model import Schema
from myshift.model.serialize import fingerprint

if TYPE_CHECKING:
    from myshift.workflows.history import History

_ALGO_COST = {Algorithm.INSTANT: 0, Algorithm.INPLACE: 1, Algorithm.COPY: 2}


@dataclass(frozen=True)
class ApplyOptions:
    """How an apply runs: confirmation, algorithm policy, lock wait, keep-data."""

    lock_wait_timeout: int = 5
    # Refuse statements needing a more expensive algorithm than this.
    algorithm: Algorithm | None = None
    # How long to wait, in total, for blocking transactions to finish per statement.
    # Defaults to lock_wait_timeout: an ALTER never waits longer than that in total.
    blocker_deadline: float | None = None
    history_schema: str = "_myshift"
    audit_path: str | None = "myshift-audit.jsonl"
    record_history: bool = True
    notes: dict[str, object] = field(default_factory=dict)
    kind: str = "apply"
    undoes_apply_id: int | None = None
    # Where keep-data holds dropped tables and column backups (workflows.keepdata).
    holding: str = "_myshift_trash"


@dataclass(frozen=True)
class StatementToRun:
    """One statement of an apply, with what history records about it."""

    sql: str
    subject: str
    risk: str
    algorithm: Algorithm


@dataclass
class ApplyResult:
    """What an apply did: its history id, statements run and timings."""

    apply_id: int | None
    executed: int
    durations: list[float]
    after: Schema | None = None


@dataclass(frozen=True)
class StatementRun:
    """What one statement did, as the executor saw it (for rehearsal reports).

    ``rows`` is the server's rows-affected count (for an ALTER: rows copied,
    0 when the server worked in place); ``error``/``error_code`` are the
    server's own message and number when the statement failed.
    """

    seq: int
    statement: StatementToRun
    seconds: float
    rows: int | None = None
    error: str = ""
    error_code: int = 0

    @property
    def ok(self) -> bool:
        return not self.error


Progress = Callable[[int, int, StatementToRun, float], None]
# Told about every statement once it finished or failed (rehearse times them).
Observer = Callable[[StatementRun], None]
# Runs one statement on the DDL session instead of a plain execute (keep-data
# soft drops, column backups, rollback restores); returns rows affected.
StatementHook = Callable[[Conn, int, StatementToRun], "int | None"]


@contextlib.contextmanager
def schema_lock(target: Endpoint, conn: Conn) -> Iterator[None]:
    """Advisory lock named after the schema; fails fast when held elsewhere."""
    name = f"myshift:{target.schema}"[:64]
    got = conn.scalar("SELECT GET_LOCK(%s, 0)", (name,))
    if got != 1:
        holder = conn.scalar("SELECT IS_USED_LOCK(%s)", (name,))
        raise LockTimeout(
            f"Another myshift apply holds the lock on schema {target.schema!r} "
            f"(connection id {holder}).",
            "Wait for it to finish (see `myshift history`), or kill that connection "
            "if it is stale.",
        )
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            conn.scalar("SELECT RELEASE_LOCK(%s)", (name,))


def check_algorithms(statements: list[StatementToRun], policy: Algorithm | None) -> None:
    if policy is None:
        return
    worst = [s for s in statements if _ALGO_COST[s.algorithm] > _ALGO_COST[policy]]
    if worst:
        s = worst[0]
        raise UnsafeError(
            f"{s.subject}: `{s.sql[:200]}` needs ALGORITHM={s.algorithm.value}, more than the "
            f"--algorithm {policy.value.lower()} policy allows ({len(worst)} statement(s) refused; "
            "nothing was run).",
            "Change the migration, or re-run with a less strict --algorithm.",
        )


def describe_drift(planned_from: Schema, now: Schema) -> str:
    """Name the objects that differ between the plan's snapshot and the target now."""
    changes = diff_schemas(planned_from, now, options=DiffOptions(skip_unsupported=True))
    names = sorted({c.subject for c in changes})
    if not names:
        return "the schema fingerprint changed"
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    return "changed since the plan was made: " + ", ".join(names[:10]) + more


def check_drift(conn: Conn, target: Endpoint, expected_fp: str, snapshot: Schema | None) -> Schema:
    now = introspect(conn, target.schema)
    fp = fingerprint(now)
    if fp != expected_fp:
        what = describe_drift(snapshot, now) if snapshot is not None else "fingerprint differs"
        raise DriftError(
            f"The target {target.redacted()} drifted: {what}.",
            "Make a new plan against the current target and review it again.",
        )
    return now


def blocking_transactions(conn: Conn, schema: str, table: str) -> list[tuple[int, str, int]]:
    """Open transactions that could hold a metadata lock on schema.table.

    A transaction that has touched the table holds its MDL until it ends; we
    cannot see MDLs portably (metadata_lock_info is a MariaDB plugin,
    performance_schema.metadata_locks needs instrumentation), so we treat every
    transaction older than a moment, from another connection, as a potential
    blocker and report it.  Returns (thread id, user@host, seconds open).
    """
    rows = conn.query(
        "SELECT t.trx_mysql_thread_id, CONCAT(p.USER, '@', p.HOST), "
        "TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) "
        "FROM information_schema.INNODB_TRX t "
        "JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
        "WHERE t.trx_mysql_thread_id <> CONNECTION_ID() "
        "AND (p.DB = %s OR p.DB IS NULL OR p.INFO LIKE %s)",
        (schema, f"%{table}%"),
    )
    return [(int(r[0]), str(r[1]), int(r[2] or 0)) for r in rows]


def wait_for_blockers(
    conn: Conn, schema: str, table: str, deadline: float, on_wait: Callable[[str], None] | None
) -> None:
    """Wait with backoff while transactions that may block the table are open."""
    start = time.monotonic()
    delay = 0.1
    while True:
        blockers = blocking_transactions(conn, schema, table)
        if not blockers:
            return
        if time.monotonic() - start >= deadline:
            tid, who, age = blockers[0]
            raise LockTimeout(
                f"Table {table!r} is held by an open transaction: thread {tid} ({who}), "
                f"open for {age}s; gave up after {deadline:.0f}s.",
                f"Let it finish or end it (KILL {tid}), then apply the same plan again.",
            )
        if on_wait:
            on_wait(f"waiting for transaction of thread {blockers[0][0]} on {table}")
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def run_statements(
    target: Endpoint,
    statements: list[StatementToRun],
    opts: ApplyOptions,
    *,
    history: History | None = None,
    apply_id: int | None = None,
    progress: Progress | None = None,
    on_wait: Callable[[str], None] | None = None,
    hook: StatementHook | None = None,
    observe: Observer | None = None,
) -> list[float]:
    """Execute statements in order on one DDL session with a short lock_wait_timeout.

    ``hook(conn, seq, statement)``, when given, runs each statement instead of
    ``conn.execute``; a MyshiftError it raises is recorded as the statement's
    failure and stops the apply like a server error does.  ``observe`` is
    called with a ``StatementRun`` after each statement, failed ones included.
    """
    durations: list[float] = []
    with connected(target, lock_wait_timeout=opts.lock_wait_timeout) as ddl_conn:
        ddl_conn.execute("SET SESSION foreign_key_checks = 1")
        total = len(statements)
        for seq, st in enumerate(statements, start=1):
            deadline = (
                opts.blocker_deadline
                if opts.blocker_deadline is not None
                else float(opts.lock_wait_timeout)
            )
            wait_for_blockers(ddl_conn, target.schema, st.subject, deadline, on_wait)
            if history is not None and apply_id is not None:
                history.statement_started(apply_id, seq, st.sql, st.risk)
            t0 = time.perf_counter()
            try:
                rows = hook(ddl_conn, seq, st) if hook is not None else ddl_conn.execute(st.sql)
            except MyshiftError as exc:
                if history is not None and apply_id is not None:
                    history.statement_finished(apply_id, seq, "failed", error=str(exc))
                if observe:
                    observe(StatementRun(seq, st, time.perf_counter() - t0, error=str(exc)))
                raise
            except DriverError as exc:
                err = f"{exc.args[1] if len(exc.args) > 1 else exc}"
                if history is not None and apply_id is not None:
                    history.statement_finished(apply_id, seq, "failed", error=err)
                code = exc.args[0] if exc.args else 0
                if observe:
                    observe(
                        StatementRun(
                            seq,
                            st,
                            time.perf_counter() - t0,
                            error=err,
                            error_code=code if isinstance(code, int) else 0,
                        )
                    )
                if code == 1205:
                    raise LockTimeout(
                        f"Statement {seq} of {total} on {st.subject!r} could not get its metadata "
                        f"lock within lock_wait_timeout={opts.lock_wait_timeout}s "
                        f"({_blocker_text(target, st.subject)}).",
                        "Nothing after it ran; re-plan and apply again when the blocker is gone.",
                    ) from None
                raise ApplyFailed(
                    f"Statement {seq} of {total} on {st.subject!r} failed: {err}. "
                    f"Statement: {st.sql[:300]}",
                    f"Statements 1..{seq - 1} were applied; fix the cause, re-plan and "
                    "apply again.",
                ) from None
            dt = time.perf_counter() - t0
            durations.append(dt)
            if history is not None and apply_id is not None:
                history.statement_finished(apply_id, seq, "ok", rows=rows)
            if observe:
                observe(StatementRun(seq, st, dt, rows))
            if progress:
                progress(seq, total, st, dt)
    return durations


def _blocker_text(target: Endpoint, table: str) -> str:
    try:
        with connected(target) as c:
            b = blocking_transactions(c, target.schema, table)
    except (DriverError, MyshiftError):  # only decorates an error message already on its way
        return "blocker unknown"
    if not b:
        return "no blocking transaction visible now"
    tid, who, age = b[0]
    return f"blocked by thread {tid} ({who}), open {age}s"


def verify_after(conn: Conn, target: Endpoint, desired: Schema, skipped_sql: set[str]) -> Schema:
    """The target after apply must equal desired, except for deliberately skipped statements."""
    after = introspect(conn, target.schema)
    remaining = diff_schemas(
        after, replace(desired, name=after.name), options=DiffOptions(skip_unsupported=True)
    )
    flavor = conn.flavor
    from myshift.engine.changes import RenderOptions

    left = [c for c in remaining if c.render(flavor, RenderOptions()) not in skipped_sql]
    if left:
        names = ", ".join(sorted({c.subject for c in left}))
        raise ApplyFailed(
            f"After apply, {names} still differ from the plan's desired schema.",
            "Run `myshift plan` again to see what is left.",
        )
    return after


__all__ = [
    "ApplyOptions",
    "ApplyResult",
    "Observer",
    "StatementRun",
    "StatementToRun",
    "check_algorithms",
    "check_drift",
    "connect",
    "run_statements",
    "schema_lock",
    "verify_after",
]
