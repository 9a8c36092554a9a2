"""Execute a plan file: the one path every apply, rollback and rehearsal runs through.

Identity, the schema lock, drift, re-derivation (workflows.plancheck), the
pre-flight checks, the algorithm policy, history, the statements themselves
(workflows.runner, with the keep-data hook of workflows.keepdata), and the
check that the target now is the plan's ``to``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from myshift import __version__, interrupts
from myshift.db.connect import Conn, DriverError, Endpoint, connected
from myshift.db.identity import server_identity
from myshift.errors import DriftError, Interrupted, MyshiftError, UnsafeError
from myshift.workflows.phases import Phases
from myshift.workflows.planfile import PlanFile
from myshift.workflows.preflightrun import preflight_hits
from myshift.workflows.runner import (
    ApplyInterrupted,
    ApplyOptions,
    Observer,
    StatementHook,
    check_algorithms,
    check_drift,
    run_statements,
    schema_lock,
    verify_after,
)
from myshift.workflows.statementprogress import StatementDisplay, StatementProgress
from myshift.workflows.statementwatch import StatementInterrupted

if TYPE_CHECKING:
    from myshift.model import Schema
    from myshift.workflows.history import History

Say = Callable[[str], None]


def execute_planfile(
    target: Endpoint,
    pf: PlanFile,
    opts: ApplyOptions,
    *,
    say: Say = lambda s: None,
    observe: Observer | None = None,
    preflight: bool = True,
    display: StatementDisplay | None = None,
) -> int | None:
    """Apply a plan file: identity, lock, drift, re-derivation, pre-flight, algorithm
    policy, run, verify.

    Only what the engine derives from the plan's snapshots runs: the file's
    statements must equal it (workflows.plancheck.trusted_planfile).
    ``observe`` sees every statement's timing, rows and error (``rehearse``
    runs the plan in its sandbox through this same function; ``preflight=False``
    is its run-anyway diagnosis there, never an apply).  ``display`` shows
    each statement and its progress; Ctrl-C raises ``Interrupted`` naming
    what the server did with the statement in flight and the next step.
    """
    if pf.schema != target.schema:
        raise DriftError(
            f"The plan is for schema {pf.schema!r}, not {target.schema!r}.",
            "Use the plan made for this target, or make a new one.",
        )
    # Refused before connecting; the statements that run are checked again below.
    check_algorithms(pf.runnable, opts.algorithm)
    with (
        connected(target, lock_wait_timeout=opts.lock_wait_timeout) as conn,
        contextlib.ExitStack() as closing,
    ):
        ident = server_identity(conn)
        if not pf.identity.same_server(ident):
            raise DriftError(
                f"The plan was made for server {pf.identity.describe()}, but the target is "
                f"{ident.describe()}.",
                "Make a new plan against this server.",
            )
        with schema_lock(target, conn):
            # From here on, pf is what the engine derives (or this refuses).
            # Checking reads the whole target (seconds on a big schema): say so.
            with Phases(say, immediate=False) as phases:
                phases.start("Checking the target against the plan (drift, pre-flight checks)...")
                pf = _checked_under_lock(conn, target, pf, opts, preflight=preflight)
            if not pf.runnable:
                say("Nothing to apply.")
                return None
            history, apply_id = _begin_history(closing, target, pf, opts, say)
            try:
                _run(conn, target, pf, opts, history, apply_id, say, observe, display)
            except BaseException as exc:
                if history is not None and apply_id is not None:
                    _record_failure(history, apply_id, exc, target.schema)
                if isinstance(exc, KeyboardInterrupt | Interrupted):
                    raise _interrupted(exc, target, pf, opts, apply_id) from None
                raise
            if history is not None and apply_id is not None:
                history.finish_apply(apply_id, "ok")
            return apply_id


def _kind(pf: PlanFile, opts: ApplyOptions) -> str:
    return pf.kind if pf.kind != "apply" else opts.kind


def _begin_history(
    closing: contextlib.ExitStack,
    target: Endpoint,
    pf: PlanFile,
    opts: ApplyOptions,
    say: Say,
) -> tuple[History | None, int | None]:
    """The apply's history entry (none without ``opts.record_history``), begun under
    the schema lock, with what it touches and what it keeps in its notes."""
    from myshift.workflows.history import History
    from myshift.workflows.rollbackplan import touched_objects

    notes = dict(opts.notes)
    # What this apply changes, so a rollback can tell later overlapping applies.
    notes["touched"] = touched_objects(pf.current, pf.desired)
    kept = [
        s.subject + (f" partition {', '.join(s.keep_partitions)}" if s.keep_partitions else "")
        for s in pf.runnable
        if s.keeps
    ]
    if kept:
        notes["keep_data"] = {"holding": opts.holding, "objects": kept}
    if not opts.record_history:
        return None, None
    # Its own autocommit connection (see History), closed with the DDL one.
    history = closing.enter_context(
        History.open(
            target,
            schema=opts.history_schema,
            audit_path=Path(opts.audit_path) if opts.audit_path else None,
        )
    )
    # We hold the schema's lock and no myshift statement runs on it
    # (schema_lock waited for both), so an apply or rollback still
    # marked running died (kill -9, lost host or server).
    _mark_stale(history, target.schema, say)
    apply_id = history.begin_apply(
        target_schema=target.schema,
        target=target.redacted(),
        tool_version=__version__,
        plan_hash=pf.plan_hash,
        from_fingerprint=pf.from_fingerprint,
        to_fingerprint=pf.to_fingerprint,
        snapshot=pf.current,
        kind=_kind(pf, opts),
        undoes_apply_id=pf.undoes_apply_id or opts.undoes_apply_id,
        notes=notes,
    )
    return history, apply_id


def _run(
    conn: Conn,
    target: Endpoint,
    pf: PlanFile,
    opts: ApplyOptions,
    history: History | None,
    apply_id: int | None,
    say: Say,
    observe: Observer | None,
    display: StatementDisplay | None,
) -> None:
    """Run the plan's statements on the DDL session, then check the target is its ``to``."""
    started = time.monotonic()
    # The runner's errors name the next step, which differs for a rollback.
    run = replace(
        opts, kind=_kind(pf, opts), undoes_apply_id=pf.undoes_apply_id or opts.undoes_apply_id
    )
    run_statements(
        target,
        pf.runnable,
        run,
        history=history,
        apply_id=apply_id,
        progress=None
        if display is not None
        else lambda n, m, st, dt: say(
            f"[{n}/{m}] {st.subject}: {dt:.2f}s (elapsed {time.monotonic() - started:.1f}s)"
        ),
        display=display,
        on_wait=say,
        hook=_keepdata_hook(pf, target, opts, apply_id, say, display),
        observe=observe,
        conn=conn,
        label=run.kind,
    )
    from myshift.workflows.plancheck import reached_by

    # Held-back statements (no --allow-drop) are not compared: the target must
    # be what the runnable ones reach (engine.holdback).
    skipped = {s.sql for s in pf.statements if s.skipped}
    with Phases(say, immediate=False) as phases:
        phases.start("Checking the result is what the plan reaches...")
        after = verify_after(conn, target, reached_by(pf), skipped)
    if history is not None and apply_id is not None:
        _record_after(history, apply_id, after)


def _record_after(history: History, apply_id: int, after: Schema) -> None:
    """Record the touched objects as they are now, so a rollback of this apply can tell
    what was changed outside myshift since (workflows.outside)."""
    from myshift.workflows.outside import touched_part

    touched = history.get_apply(apply_id).record.notes.get("touched")
    if isinstance(touched, dict):
        history.record_after(apply_id, touched_part(after, touched))


def _mark_stale(history: History, schema: str, say: Say) -> None:
    """Mark applies and rollbacks of ``schema`` still 'running' as interrupted."""
    for stale in history.list_applies(schema, kinds=("apply", "rollback"), outcome="running"):
        detail = history.get_apply(stale.id)
        at = detail.stopped_at
        where = f" at statement {at.seq} ({at.outcome})" if at is not None else ""
        history.finish_apply(
            stale.id,
            "interrupted",
            error=(
                f"the myshift process stopped{where} without recording why (killed, or it lost "
                "the server); found by a later apply"
            ),
        )
        say(f"History: apply {stale.id} never finished; marked interrupted.")


def _record_failure(history: History, apply_id: int, exc: BaseException, schema: str) -> None:
    """Record how an apply ended when it did not end well; never hide ``exc``.

    A lost session or an operator's Ctrl-C leaves the statement in flight
    unknown (``interrupted``); a refusal or a server error is ``failed``.  When
    the history itself cannot be written (the server is gone), the error says
    so and the next apply or rollback marks this one.
    """
    if isinstance(exc, StatementInterrupted):
        outcome, error = "interrupted", exc.history_note
    elif isinstance(exc, KeyboardInterrupt | Interrupted):
        outcome, error = "interrupted", f"interrupted {interrupts.by()}"
    elif isinstance(exc, ApplyInterrupted):
        outcome, error = "interrupted", str(exc.message)
    elif isinstance(exc, MyshiftError):
        outcome, error = "failed", str(exc)
    else:
        outcome, error = "failed", f"{type(exc).__name__}: {exc}"
    try:
        history.finish_apply(apply_id, outcome, error=error)
    except (MyshiftError, DriverError) as hexc:
        if isinstance(exc, MyshiftError):
            reason = hexc.message if isinstance(hexc, MyshiftError) else str(hexc)
            exc.message += (
                f" (The history could not record this: {reason.rstrip('.')}; the next apply "
                f"or rollback of {schema!r} marks apply {apply_id} interrupted.)"
            )


def _interrupted(
    exc: BaseException, target: Endpoint, pf: PlanFile, opts: ApplyOptions, apply_id: int | None
) -> Interrupted:
    """Ctrl-C: what the server did (the watch knows) and the next step, by the apply's id."""
    if isinstance(exc, Interrupted):
        err = exc
    else:
        err = Interrupted(
            f"Interrupted {interrupts.by()} between statements: no statement was running on "
            "the server."
        )
    ref = f" {apply_id}" if apply_id is not None else ""
    look = f"See what ran with `myshift history{ref} --to {target}`"
    if _kind(pf, opts) == "rollback":
        undo = pf.undoes_apply_id if pf.undoes_apply_id is not None else ""
        err.fix = f"{look}; run `myshift rollback {undo} --to {target}` again to finish undoing."
    elif isinstance(exc, StatementInterrupted) and exc.applied == 0:
        err.fix = f"{look}; nothing was changed: run the same apply again when ready."
    else:
        err.fix = (
            f"{look}; to finish, make a new plan (`myshift plan --to {target} -o plan.json`) "
            "and apply it"
        )
        if ref:
            err.fix += f", or undo what ran with `myshift rollback {apply_id} --to {target}`"
        err.fix += "."
    return err


def _checked_under_lock(
    conn: Conn, target: Endpoint, pf: PlanFile, opts: ApplyOptions, *, preflight: bool
) -> PlanFile:
    """What must hold before anything runs, under the schema lock: no drift, the
    plan is what the engine derives (the returned plan is that derivation, which
    is all that runs), the algorithm policy, the pre-flight checks, and no
    outside reference to a table the plan soft-drops."""
    from myshift.workflows.online import refuse_online_in_progress
    from myshift.workflows.plancheck import trusted_planfile

    refuse_online_in_progress(conn, target.schema)
    check_drift(conn, target, pf.from_fingerprint, pf.current)
    pf = trusted_planfile(
        pf,
        target,
        history_schema=opts.history_schema,
        holding=opts.holding,
        own_lock=conn.thread_id(),
    )
    from myshift.workflows.online import OnlinePolicy, live_paths, refuse_blocked

    # The path of each statement, from the live sizes and the re-derived
    # statements: refused here, before anything runs, when a blocking
    # statement on a big table has no online path.
    policy = opts.online or OnlinePolicy()
    pf = replace(pf, statements=live_paths(conn, target.schema, pf.statements, policy))
    runnable = pf.runnable
    refuse_blocked(runnable, policy)
    check_algorithms(runnable, opts.algorithm)
    for hit in preflight_hits(conn, runnable) if preflight else ():
        st, pre = hit.statement, hit.check
        if hit.error:
            raise UnsafeError(
                f"{st.subject}: pre-flight check could not run: {pre.description}: {hit.error}",
                "Check the data by hand before applying, or report this as a myshift bug.",
            )
        raise UnsafeError(
            f"{st.subject}: pre-flight check failed: {pre.description}: "
            f"{hit.rows} row(s) would make the statement ({st.description}) fail.",
            "Fix the data (or the migration) and make a new plan.",
        )
    soft_dropped = [s.subject for s in runnable if s.keep_table]
    if soft_dropped:
        # References from other schemas are not in the drift fingerprint:
        # check again now, before anything runs.
        from myshift.workflows.keepdata import refuse_referenced_soft_drops

        refuse_referenced_soft_drops(conn, target.schema, soft_dropped, pf.desired)
    kept_parts = [(s.subject, s.keep_partitions) for s in runnable if s.keep_partitions]
    if kept_parts:
        # The held tables are made in the partitions' own row format: read it now,
        # before anything runs, not when the DROP PARTITION's turn comes.
        from myshift.workflows.keepdata import refuse_unknown_row_formats

        refuse_unknown_row_formats(conn, target.schema, kept_parts, planning=False)
    return pf


def _keepdata_hook(
    pf: PlanFile,
    target: Endpoint,
    opts: ApplyOptions,
    apply_id: int | None,
    say: Say,
    display: StatementDisplay | None = None,
) -> StatementHook | None:
    """The keep-data / restore runner, when the plan keeps or restores anything.

    A column backup (minutes on a big table) reports each chunk: on the
    statement's display, or without one a line at most every 2 s.
    """
    runnable = pf.runnable
    if not any(s.keeps or s.restore_held for s in runnable):
        return None
    from myshift.workflows.keepdata import apply_hook

    # Without history there is no apply id: held names still need a unique tag.
    tag: str | int = apply_id if apply_id is not None else f"n{int(time.time())}"
    return apply_hook(
        runnable,
        target.schema,
        tag,
        holding=opts.holding,
        undoes_apply_id=pf.undoes_apply_id,
        say=say,
        progress=_backup_progress(say, display),
    )


def _backup_progress(say: Say, display: StatementDisplay | None) -> Callable[[float, str], None]:
    if display is not None:
        shown = display

        def on_display(percent: float, detail: str) -> None:
            shown.update(StatementProgress(percent, detail))

        return on_display
    last = [time.monotonic()]

    def on_say(percent: float, detail: str) -> None:
        now = time.monotonic()
        if now - last[0] >= 2.0:
            last[0] = now
            say(f"{detail} ({percent:.0f}%)")

    return on_say


__all__ = ["execute_planfile"]
