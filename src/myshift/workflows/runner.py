"""The statement runner under ``apply``: run exactly the reviewed statements, safely.

``workflows.execute`` drives a whole plan through these steps; this module
holds the session-level machinery (the schema lock, the blocker waits, the
tagged statements, drift and the check after).  Safety, in the order it
happens:

1. one advisory lock per target schema (``GET_LOCK``), held by the DDL
   session itself, so it outlives a killed myshift exactly as long as the
   server runs its statement; a second apply waits (bounded) and refuses
   naming the holder, and also waits for any tagged myshift statement still
   running on the schema;
2. the target must still be what the plan was made from: same server
   identity, same fingerprint (else: drift, with what changed);
3. pre-flight data checks of data-dependent statements are re-run;
4. an ``--algorithm`` policy refuses, before anything runs, a statement that
   would need a more expensive algorithm;
5. every DDL session has a short ``lock_wait_timeout``; before each statement
   we look for the connections holding the table's metadata lock for a
   second or more (workflows.blockers) and wait with backoff up to a
   deadline, then stop, without sending it, naming the blocker;
6. each statement is recorded in history *before* it runs and completed after;
7. the target is re-introspected at the end and must match the plan's ``to``.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from myshift.db.connect import (
    Conn,
    DriverError,
    DriverInterfaceError,
    Endpoint,
    connect,
    connected,
)
from myshift.engine.diff import DiffOptions, diff_schemas
from myshift.engine.introspect import introspect
from myshift.engine.risk import Algorithm
from myshift.errors import ApplyFailed, DriftError, LockTimeout, MyshiftError, UnsafeError
from myshift.model import Schema
from myshift.model.serialize import fingerprint
from myshift.workflows import blockers
from myshift.workflows.algorithm_clause import refused, with_algorithm
from myshift.workflows.guarded import run_guarded
from myshift.workflows.planmodel import PlannedStatement
from myshift.workflows.statementprogress import StatementDisplay
from myshift.workflows.statementwatch import StatementInterrupted, StatementWatch

if TYPE_CHECKING:
    from myshift.workflows.history import History
    from myshift.workflows.online import OnlinePolicy

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
    # --online and [online] (workflows.online); None: auto with the defaults.
    online: OnlinePolicy | None = None

    @property
    def blocker_wait(self) -> float:
        if self.blocker_deadline is not None:
            return self.blocker_deadline
        return float(self.lock_wait_timeout)


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
    statement: PlannedStatement
    seconds: float
    rows: int | None = None
    error: str = ""
    error_code: int = 0

    @property
    def ok(self) -> bool:
        return not self.error


Progress = Callable[[int, int, PlannedStatement, float], None]
# Told about every statement once it finished or failed (rehearse times them).
Observer = Callable[[StatementRun], None]
# Runs one statement on the DDL session instead of a plain execute (keep-data
# soft drops, column backups, rollback restores); returns rows affected.
StatementHook = Callable[[Conn, int, PlannedStatement], "int | None"]


def lock_name(schema: str) -> str:
    return f"myshift:{schema}"[:64]


@contextlib.contextmanager
def schema_lock(
    target: Endpoint,
    conn: Conn,
    *,
    wait: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Advisory lock named after the schema, taken on ``conn`` -- the DDL session itself.

    Held by the session that runs the statements, the lock lives exactly as
    long as they do: when the myshift process is killed mid-ALTER the server
    keeps running the ALTER, and keeps the lock, until it ends.  (Held on a
    separate connection it was released at once and a second apply ran
    alongside.)  Before going on, myshift statements still running on the
    server for this schema without the lock (an older myshift) are waited for
    too.  ``wait`` (default: the session's lock_wait_timeout) bounds each wait;
    then the refusal names the thread and what it runs.
    """
    name = lock_name(target.schema)
    budget = float(wait if wait is not None else conn.scalar("SELECT @@lock_wait_timeout") or 5)
    deadline = time.monotonic() + budget
    told = False
    while conn.scalar("SELECT GET_LOCK(%s, %s)", (name, 0 if not told else 1)) != 1:
        holder = conn.scalar("SELECT IS_USED_LOCK(%s)", (name,))
        if time.monotonic() >= deadline:
            raise LockTimeout(
                f"Another myshift apply holds the lock on schema {target.schema!r} "
                f"(connection id {holder}: {_holder_text(conn, holder)}); "
                f"gave up after {budget:.0f}s.",
                _holder_fix(holder),
            )
        if on_wait and not told:
            on_wait(f"waiting for the myshift lock on {target.schema} (connection id {holder})")
        told = True
    try:
        _wait_for_tagged(conn, target.schema, deadline, budget, on_wait)
        yield
    finally:
        with contextlib.suppress(Exception):
            conn.scalar("SELECT RELEASE_LOCK(%s)", (name,))


def _holder_text(conn: Conn, holder: object) -> str:
    if holder is None:
        return "it was released meanwhile"
    who = blockers.thread_info(conn, int(str(holder)))
    if who is None:
        return "gone"
    if who.command != "Sleep" and who.info:
        return (
            f"{who.user_host} has been running `{blockers._one_line(who.info, 160)}` for "
            f"{who.seconds:.0f}s; if its myshift process is gone (killed), the server is "
            "still running that statement"
        )
    return f"{who.user_host}, idle for {who.seconds:.0f}s between statements"


def _holder_fix(holder: object) -> str:
    return (
        "Wait for it to finish (see `myshift history` and SHOW PROCESSLIST), or, if it is "
        f"stale, stop it with `KILL {holder}` and check the target; then run again."
    )


def _wait_for_tagged(
    conn: Conn,
    schema: str,
    deadline: float,
    budget: float,
    on_wait: Callable[[str], None] | None,
) -> None:
    """Wait (until ``deadline``) while another myshift statement runs on ``schema``."""
    told = False
    while True:
        running = blockers.tagged_statements(conn, schema)
        if not running:
            return
        b = running[0]
        if time.monotonic() >= deadline:
            raise LockTimeout(
                f"A myshift statement is still running on schema {schema!r}: "
                f"{b.describe()}; gave up after {budget:.0f}s.",
                _holder_fix(b.thread_id),
            )
        if on_wait and not told:
            on_wait(f"waiting for myshift statement of thread {b.thread_id} on {schema}")
        told = True
        time.sleep(0.5)


def check_algorithms(statements: Sequence[PlannedStatement], policy: Algorithm | None) -> None:
    if policy is None:
        return
    worst = [s for s in statements if _ALGO_COST[s.algorithm] > _ALGO_COST[policy]]
    if worst:
        s = worst[0]
        why = f" ({s.reason})" if s.reason else ""
        others = sorted({w.subject for w in worst[1:]} - {s.subject})
        more = f"; also on {', '.join(others)}" if others else ""
        raise UnsafeError(
            f"{s.subject}: {s.description} needs ALGORITHM={s.algorithm.value}{why}, more than "
            f"the --algorithm {policy.value.lower()} policy allows ({len(worst)} statement(s) "
            f"refused{more}; nothing was run).",
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


class ApplyInterrupted(ApplyFailed):
    """The DDL session was lost mid-statement: whether the statement ended on the server is
    unknown, so history keeps it ``running`` and the apply ``interrupted``."""


_LOST = (2006, 2013, 2055, 1927, 1053)


def connection_lost(exc: BaseException) -> bool:
    """A driver error that means the session is gone (not a refusal of the statement)."""
    if isinstance(exc, DriverInterfaceError):
        return True
    code = exc.args[0] if exc.args else 0
    return isinstance(exc, DriverError) and code in _LOST


def _sender(
    conn: Conn,
    target: Endpoint,
    st: PlannedStatement,
    tagged: PlannedStatement,
    seq: int,
    opts: ApplyOptions,
    history: History | None,
    apply_id: int | None,
    watch: StatementWatch,
    on_wait: Callable[[str], None] | None,
    hook: StatementHook | None,
) -> Callable[[], int | None]:
    """How a statement is sent: on its online path (workflows.online) when it has one;
    else (the server path) through ``hook``, else executed as ``tagged``."""
    if st.path != "server":
        return functools.partial(
            _run_online, conn, target, st, opts, history, apply_id, seq, watch, on_wait
        )
    if hook is not None:
        return functools.partial(hook, conn, seq, tagged)
    return functools.partial(conn.execute, tagged.sql)


def run_statements(
    target: Endpoint,
    statements: list[PlannedStatement],
    opts: ApplyOptions,
    *,
    history: History | None = None,
    apply_id: int | None = None,
    progress: Progress | None = None,
    on_wait: Callable[[str], None] | None = None,
    hook: StatementHook | None = None,
    observe: Observer | None = None,
    conn: Conn | None = None,
    label: str = "apply",
    display: StatementDisplay | None = None,
) -> list[float]:
    """Execute statements in order on one DDL session with a short lock_wait_timeout.

    ``conn`` is that session when the caller holds the schema lock on it
    (``schema_lock``); without it a session is opened here.  Each statement
    is sent tagged (``/* myshift apply 14, statement 2/5 */``) so it can be
    recognised in the processlist.  ``hook(conn, seq, statement)``, when
    given, runs each statement instead of ``conn.execute``; a MyshiftError it
    raises is recorded as the statement's failure and stops the apply like a
    server error does.  ``observe`` is called with a ``StatementRun`` after
    each statement, failed ones included.  Each statement is shown on
    ``display`` with its progress while it runs, and Ctrl-C kills it on the
    server (workflows.statementwatch): ``StatementInterrupted`` says whether
    the server rolled it back.
    """
    durations: list[float] = []
    own = (
        contextlib.nullcontext(conn)
        if conn is not None
        else connected(target, lock_wait_timeout=opts.lock_wait_timeout)
    )
    recorded = history is not None and apply_id is not None
    with own as ddl_conn, StatementWatch(ddl_conn, display) as watch:
        ddl_conn.execute("SET SESSION foreign_key_checks = 1")
        total = len(statements)
        sent = [with_algorithm(s, opts.algorithm, ddl_conn.flavor) for s in statements]
        then = "apply the same plan again" if opts.kind != "rollback" else _again(opts, target)
        for seq, st in enumerate(sent, start=1):
            watch.check()  # Ctrl-C as the previous statement completed: stop here
            if seq == 1 or not statements[seq - 2].leaves_tables_locked:
                # (Under our own LOCK TABLES nobody else can hold the table.)
                blockers.wait_for_blockers(
                    ddl_conn, target.schema, st.subject, opts.blocker_wait, on_wait, then=then
                )
            if history is not None and apply_id is not None:
                history.statement_started(apply_id, seq, st.sql, st.risk.value)
            tagged = replace(st, sql=blockers.tag(label, apply_id, seq, total) + st.sql)
            send = _sender(
                ddl_conn, target, st, tagged, seq, opts, history, apply_id, watch, on_wait, hook
            )
            t0 = time.perf_counter()
            try:
                with watch.statement(seq, total, st.subject, st.sql, st.description):
                    rows = run_guarded(ddl_conn, tagged, send)
            except StatementInterrupted as exc:
                _interrupted(exc, history if recorded else None, apply_id, observe, st, t0)
                raise
            except MyshiftError as exc:
                _refused(exc, history, apply_id, observe, st, seq, t0)
                raise
            except DriverError as exc:
                raise _statement_failed(
                    exc, target, st, seq, total, opts,
                    history if recorded else None, apply_id, observe, time.perf_counter() - t0,
                ) from None  # fmt: skip
            dt = time.perf_counter() - t0
            durations.append(dt)
            if history is not None and apply_id is not None:
                history.statement_finished(apply_id, seq, "ok", rows=rows)
            if observe:
                observe(StatementRun(seq, st, dt, rows))
            if progress:
                progress(seq, total, st, dt)
        watch.check()
    return durations


def _run_online(
    conn: Conn,
    target: Endpoint,
    st: PlannedStatement,
    opts: ApplyOptions,
    history: History | None,
    apply_id: int | None,
    seq: int,
    watch: StatementWatch,
    say: Callable[[str], None] | None,
) -> int | None:
    """Run a statement on its online path (workflows.online); its command line (no
    password), time and outcome go into the apply's history notes.  The tool's
    progress goes to ``watch``'s line, and Ctrl-C stops the tool (through
    ``stop``) instead of killing a query of the DDL session."""
    from myshift.workflows.online import OnlinePolicy, run_online

    tell = say or (lambda s: None)
    note: dict[str, Any] = {"seq": seq, "table": st.subject, "path": st.path}
    stop = threading.Event()
    watch.on_interrupt(stop.set)

    def progress(percent: float, detail: str) -> None:
        watch.on_progress(percent, detail)
        if not detail.startswith("copying rows"):  # the tool's few stages, as lines
            tell(f"{st.subject}: {detail}")

    def record(outcome: str) -> None:
        note["outcome"] = outcome
        if history is not None and apply_id is not None:
            done = list(history.get_apply(apply_id).record.notes.get("online", []))
            _quietly(history.add_notes, apply_id, {"online": [*done, note]})

    tell(f"{st.subject}: online schema change ({st.path_reason})")
    t0 = time.perf_counter()
    try:
        out = run_online(
            conn,
            target,
            st,
            opts.online or OnlinePolicy(),
            on_progress=progress,
            say=tell,
            stop=stop,
            on_start=lambda argv: note.update(command=argv),
        )
    except BaseException as exc:
        note["seconds"] = round(time.perf_counter() - t0, 3)
        note["error"] = str(exc) or type(exc).__name__
        record("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
        raise
    note["seconds"] = round(out.seconds, 3)
    record("ok")
    return out.rows


def _quietly(write: Callable[..., None], *args: Any, **kwargs: Any) -> str:
    """Run a history write on a failure path; its own failure must not hide the first one."""
    try:
        write(*args, **kwargs)
    except (MyshiftError, DriverError) as exc:
        return str(exc)
    return ""


def _interrupted(
    exc: StatementInterrupted,
    history: History | None,
    apply_id: int | None,
    observe: Observer | None,
    st: PlannedStatement,
    t0: float,
) -> None:
    """Record a statement stopped by Ctrl-C: failed when the server rolled it back;
    left ``running`` when its end is unknown (like a lost session)."""
    if history is not None and apply_id is not None and exc.outcome != "unknown":
        _quietly(history.statement_finished, apply_id, exc.seq, "failed", error=exc.history_note)
    if observe:
        observe(StatementRun(exc.seq, st, time.perf_counter() - t0, error=exc.history_note))


def _refused(
    exc: MyshiftError,
    history: History | None,
    apply_id: int | None,
    observe: Observer | None,
    st: PlannedStatement,
    seq: int,
    t0: float,
) -> None:
    """Record a statement a MyshiftError stopped (the hook's, or the online tool's) as failed."""
    if history is not None and apply_id is not None:
        _quietly(history.statement_finished, apply_id, seq, "failed", error=str(exc))
    if observe:
        observe(StatementRun(seq, st, time.perf_counter() - t0, error=str(exc)))


def _statement_failed(
    exc: BaseException,
    target: Endpoint,
    st: PlannedStatement,
    seq: int,
    total: int,
    opts: ApplyOptions,
    history: History | None,
    apply_id: int | None,
    observe: Observer | None,
    seconds: float,
) -> MyshiftError:
    """The error to raise for a statement the server refused or a session that was lost."""
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    err = str(exc.args[1]) if len(exc.args) > 1 and exc.args[1] else ""
    lost = connection_lost(exc)
    where = target.socket or f"{target.host}:{target.port}"
    if lost:
        err = err or "the connection was already closed"
    elif history is not None and apply_id is not None:
        # Lost: the statement may still have completed; history keeps it running.
        _quietly(history.statement_finished, apply_id, seq, "failed", error=err)
    if observe:
        observe(StatementRun(seq, st, seconds, error=err, error_code=code))
    if lost:
        return ApplyInterrupted(
            # The clause description, not the SQL cut at a length (it ended mid-name).
            f"Lost connection to server at {where} while running statement {seq} of {total} "
            f"on {st.subject!r} ({st.description}): {err}. Whether it completed on the "
            "server is unknown.",
            "Check that the server is up (its error log says why it went away), then see "
            f"`myshift history` for where the {opts.kind} stopped, and {_again(opts, target)}"
            + ("" if opts.kind == "rollback" else " (or roll it back by its id)")
            + ".",
        )
    if code == 1205:
        return LockTimeout(
            f"Statement {seq} of {total} on {st.subject!r} could not get its metadata "
            f"lock within lock_wait_timeout={opts.lock_wait_timeout}s "
            f"({_blocker_text(target, st.subject)}).",
            f"Nothing after it ran; {_again(opts, target)} when the blocker is gone.",
        )
    return refused(code, err, st, seq, total) or ApplyFailed(
        f"Statement {seq} of {total} on {st.subject!r} ({st.description}) failed: {err or exc}.",
        (f"Statements 1..{seq - 1} were applied" if seq > 1 else "No statement was applied")
        + f"; fix the cause, then {_again(opts, target)}.",
    )


def _again(opts: ApplyOptions, target: Endpoint) -> str:
    """The next step once the cause is gone: a rollback is run again (it re-derives
    what is left to undo), an apply is re-planned."""
    if opts.kind == "rollback":
        undo = f"{opts.undoes_apply_id} " if opts.undoes_apply_id is not None else ""
        return f"run `myshift rollback {undo}--to {target}` again"
    return "re-plan and apply again"


def _blocker_text(target: Endpoint, table: str) -> str:
    try:
        with connected(target) as c:
            found = [
                b
                for t in blockers.tables_of(table)
                for b in blockers.table_holders(c, target.schema, t)
            ]
    except (DriverError, MyshiftError):  # only decorates an error message already on its way
        return "blocker unknown"
    return blockers.explain(found, table)


def verify_after(conn: Conn, target: Endpoint, desired: Schema, skipped_sql: set[str]) -> Schema:
    """The target after apply must equal desired, except for deliberately skipped statements."""
    after = introspect(conn, target.schema)
    flavor = conn.flavor
    remaining = diff_schemas(
        after,
        replace(desired, name=after.name),
        options=DiffOptions(skip_unsupported=True, or_replace=flavor.is_mariadb),
    )
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
    "ApplyInterrupted",
    "ApplyOptions",
    "ApplyResult",
    "Observer",
    "StatementRun",
    "check_algorithms",
    "check_drift",
    "connect",
    "connection_lost",
    "run_statements",
    "schema_lock",
    "verify_after",
]
