"""The workflows behind each CLI command (the CLI only parses and prints)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from myshift import __version__
from myshift.db.connect import Conn, DriverError, Endpoint, connected
from myshift.db.identity import server_identity
from myshift.engine.load import parse_rename_option
from myshift.engine.risk import Algorithm, Risk
from myshift.errors import DriftError, MyshiftError, UnsafeError, UsageError
from myshift.exitcodes import ExitCode
from myshift.workflows.plan import Plan, PlanOptions, make_plan
from myshift.workflows.planfile import PlanFile, Preflight
from myshift.workflows.report import format_human, format_sql

if TYPE_CHECKING:
    # workflows.apply (and the diff machinery it imports) loads only when a
    # command applies something: a plan imports it while it reads the servers.
    from myshift.workflows.apply import ApplyOptions, Observer, StatementHook, StatementToRun
    from myshift.workflows.history import History


class Aborted(MyshiftError):
    exit_code = ExitCode.ABORTED


class RehearsalRequired(MyshiftError):
    exit_code = ExitCode.REHEARSAL_FAILED


@dataclass(frozen=True)
class CommandResult:
    """What a command prints and the exit code it ends with."""

    text: str
    pending: bool = False
    notice: str = ""
    apply_id: int | None = None


def _settings() -> Any:
    from myshift.config import load_settings

    return load_settings()


def to_planfile(
    plan: Plan, target: Endpoint, allow_drop: bool, keep_data: bool = False
) -> PlanFile:
    """Freeze a plan into the reviewable artefact, running its pre-flight checks.

    With ``keep_data`` the statements that lose data are marked to keep it
    (soft drop / verified column backup, see workflows.keepdata), and a dropped
    table that something outside the plan still references is refused now.
    """
    from myshift.workflows.plancheck import derivation_of, file_statements

    # The statements as apply will derive them again (workflows.plancheck),
    # then what only the server knows: refusals and the pre-flight counts.
    statements = file_statements(plan.statements, plan.changes, plan.current, keep_data)
    with connected(target) as conn:
        identity = server_identity(conn)
        if keep_data:
            from myshift.workflows.keepdata import (
                refuse_keyless_backups,
                refuse_referenced_soft_drops,
            )

            dropped = [st.subject for st in statements if st.keep_table]
            if dropped:
                refuse_referenced_soft_drops(conn, target.schema, dropped, plan.desired)
            backed_up = [st.subject for st in statements if st.keep_columns]
            if backed_up:
                refuse_keyless_backups(conn, target.schema, backed_up)
        statements = [
            replace(st, preflight=tuple(_counted(conn, p) for p in st.preflight))
            if st.preflight
            else st
            for st in statements
        ]
    return PlanFile(
        target=target.redacted(),
        schema=target.schema,
        flavor=str(plan.flavor),
        identity=identity,
        from_fingerprint=plan.from_fingerprint,
        to_fingerprint=plan.to_fingerprint,
        statements=statements,
        current=plan.current,
        desired=plan.desired,
        allow_drop=allow_drop,
        warnings=list(plan.warnings),
        derivation=derivation_of(plan.changes, keep_data),
    )


def _counted(conn: Conn, check: Preflight) -> Preflight:
    """A pre-flight check with the violating rows it counts now (None: the server
    cannot run it, reported as such)."""
    try:
        return replace(check, violations=int(conn.scalar(check.sql) or 0))
    except DriverError:
        return replace(check, violations=None)


def build_planfile(
    target: Endpoint,
    source: Any,
    *,
    allow_drop: bool = False,
    workspace: str | None = None,
    renames: list[str] | None = None,
    verify: bool = True,
    keep_data: bool = False,
) -> PlanFile:
    opts = PlanOptions(
        allow_drop=allow_drop,
        hints=parse_rename_option(renames) if renames else None,
        verify=verify,
        workspace=workspace or "temp",
    )
    # The plan file's server queries overlap the drop of the verification workspace.
    with contextlib.ExitStack() as later:
        plan = make_plan(target, source, opts, later=later)
        return to_planfile(plan, target, allow_drop, keep_data=keep_data)


def plan(
    target: Endpoint,
    source: Any,
    *,
    allow_drop: bool = False,
    workspace: str | None = None,
    renames: list[str] | None = None,
    verify: bool = True,
    output: str | None = None,
    fmt: str = "sql",
    color: bool = False,
    keep_data: bool = False,
    runbook: str | None = None,
) -> CommandResult:
    """``keep_data`` is on by default for protected targets (Endpoint.protected)."""
    pf = build_planfile(
        target,
        source,
        allow_drop=allow_drop,
        workspace=workspace,
        renames=renames,
        verify=verify,
        keep_data=keep_data or target.protected,
    )
    notice = ""
    if output:
        from myshift.workflows.plancheck import plan_key

        key = plan_key(_settings(), target.env_name)
        pf.write(output, key=key.secret if key is not None else None)
        notice = f"Plan written to {output} ({len(pf.runnable)} statement(s) to run)" + (
            ", signed with the team key." if key is not None else "."
        )
    if runbook:
        from myshift.workflows.runbook import write_runbook

        write_runbook(pf, target, runbook, plan_path=output)
        notice += f"\nRunbook written to {runbook}."
    if fmt == "json":
        text = pf.to_json()
    elif fmt == "human":
        text = format_human(pf, color=color)
    else:
        text = format_sql(pf)
    failing = [p for s in pf.runnable for p in s.preflight if p.violations]
    if failing:
        notice += (
            f"\nWarning: {len(failing)} pre-flight check(s) fail on the target's current data "
            "(see the plan); apply would refuse."
        )
    return CommandResult(text=text, pending=bool(pf.runnable), notice=notice.strip())


def rehearsal_passed(
    target: Endpoint, pf: PlanFile, history_schema: str = "_myshift"
) -> dict[str, Any] | None:
    """The latest passed rehearsal of exactly this plan from its ``from``, as the
    TARGET's own history records it (``rehearse`` writes it there); None if none.

    The plan file's ``rehearsals`` are for reviewers: anyone can write into a file.
    """
    from myshift.workflows.history import History

    with History.open(target, schema=history_schema, audit_path=None) as h:
        found = h.passed_rehearsals(target.schema, pf.plan_hash, pf.from_fingerprint)
    if not found:
        return None
    rec = found[0]
    return {
        "id": rec.notes.get("rehearsal_id"),
        "history_id": rec.id,
        "at": rec.finished_at.isoformat() if rec.finished_at else None,
        "sandbox": rec.notes.get("sandbox"),
        "data": rec.notes.get("data"),
        "by": f"{rec.operator_user}@{rec.operator_host}",
    }


def execute_planfile(
    target: Endpoint,
    pf: PlanFile,
    opts: ApplyOptions,
    *,
    say: Callable[[str], None] = lambda s: None,
    observe: Observer | None = None,
    preflight: bool = True,
) -> int | None:
    """Apply a plan file: identity, lock, drift, re-derivation, pre-flight, algorithm
    policy, run, verify.

    Only what the engine derives from the plan's snapshots runs: the file's
    statements must equal it (workflows.plancheck.trusted_planfile).
    ``observe`` sees every statement's timing, rows and error (``rehearse``
    runs the plan in its sandbox through this same function; ``preflight=False``
    is its run-anyway diagnosis there, never an apply).
    """
    from myshift.workflows.apply import (
        check_algorithms,
        run_statements,
        schema_lock,
        verify_after,
    )
    from myshift.workflows.history import History

    if pf.schema != target.schema:
        raise DriftError(
            f"The plan is for schema {pf.schema!r}, not {target.schema!r}.",
            "Use the plan made for this target, or make a new one.",
        )
    # Refused before connecting; the statements that run are checked again below.
    check_algorithms(_statements_to_run(pf), opts.algorithm)
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
            pf = _checked_under_lock(conn, target, pf, opts, preflight=preflight)
            runnable = pf.runnable
            to_run = _statements_to_run(pf)
            if not runnable:
                say("Nothing to apply.")
                return None
            history = None
            apply_id = None
            notes = dict(opts.notes)
            from myshift.workflows.rollback import touched_objects

            # What this apply changes, so a rollback can tell later overlapping applies.
            notes["touched"] = touched_objects(pf.current, pf.desired)
            kept = [s.subject for s in runnable if s.keep_table or s.keep_columns]
            if kept:
                notes["keep_data"] = {"holding": opts.holding, "objects": kept}
            if opts.record_history:
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
                    kind=pf.kind if pf.kind != "apply" else opts.kind,
                    undoes_apply_id=pf.undoes_apply_id or opts.undoes_apply_id,
                    notes=notes,
                )
            started = time.monotonic()
            kind = pf.kind if pf.kind != "apply" else opts.kind
            try:
                run_statements(
                    target,
                    to_run,
                    opts,
                    history=history,
                    apply_id=apply_id,
                    progress=lambda n, m, st, dt: say(
                        f"[{n}/{m}] {st.subject}: {dt:.2f}s "
                        f"(elapsed {time.monotonic() - started:.1f}s)"
                    ),
                    on_wait=say,
                    hook=_keepdata_hook(pf, target, opts, apply_id, say),
                    observe=observe,
                    conn=conn,
                    label=kind,
                )
                skipped = {s.sql for s in pf.statements if s.skipped}
                verify_after(conn, target, pf.desired, skipped)
            except BaseException as exc:
                if history is not None and apply_id is not None:
                    _record_failure(history, apply_id, exc, target.schema)
                raise
            if history is not None and apply_id is not None:
                history.finish_apply(apply_id, "ok")
            return apply_id


def _mark_stale(history: History, schema: str, say: Callable[[str], None]) -> None:
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
    from myshift.workflows.apply import ApplyInterrupted

    if isinstance(exc, KeyboardInterrupt):
        outcome, error = "interrupted", "interrupted by the operator"
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


def _statements_to_run(pf: PlanFile) -> list[StatementToRun]:
    from myshift.workflows.apply import StatementToRun

    return [StatementToRun(s.sql, s.subject, s.risk.value, s.algorithm) for s in pf.runnable]


def _checked_under_lock(
    conn: Conn, target: Endpoint, pf: PlanFile, opts: ApplyOptions, *, preflight: bool
) -> PlanFile:
    """What must hold before anything runs, under the schema lock: no drift, the
    plan is what the engine derives (the returned plan is that derivation, which
    is all that runs), the algorithm policy, the pre-flight checks, and no
    outside reference to a table the plan soft-drops."""
    from myshift.workflows.apply import check_algorithms, check_drift
    from myshift.workflows.plancheck import trusted_planfile

    check_drift(conn, target, pf.from_fingerprint, pf.current)
    pf = trusted_planfile(
        pf,
        target,
        history_schema=opts.history_schema,
        holding=opts.holding,
        own_lock=conn.thread_id(),
    )
    runnable = pf.runnable
    check_algorithms(_statements_to_run(pf), opts.algorithm)
    for st in runnable if preflight else []:
        for pre in st.preflight:
            n = int(conn.scalar(pre.sql) or 0)
            if n:
                raise UnsafeError(
                    f"{st.subject}: pre-flight check failed: {pre.description}: "
                    f"{n} row(s) would make `{st.sql[:150]}` fail.",
                    "Fix the data (or the migration) and make a new plan.",
                )
    soft_dropped = [s.subject for s in runnable if s.keep_table]
    if soft_dropped:
        # References from other schemas are not in the drift fingerprint:
        # check again now, before anything runs.
        from myshift.workflows.keepdata import refuse_referenced_soft_drops

        refuse_referenced_soft_drops(conn, target.schema, soft_dropped, pf.desired)
    return pf


def _keepdata_hook(
    pf: PlanFile,
    target: Endpoint,
    opts: ApplyOptions,
    apply_id: int | None,
    say: Callable[[str], None],
) -> StatementHook | None:
    """The keep-data / restore runner, when the plan keeps or restores anything."""
    runnable = pf.runnable
    if not any(s.keep_table or s.keep_columns or s.restore_held for s in runnable):
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
    )


def apply(
    target: Endpoint,
    source: Any,
    *,
    plan_path: str | None = None,
    allow_drop: bool = False,
    yes: bool = False,
    algorithm: str | None = None,
    lock_wait_timeout: int | None = None,
    workspace: str | None = None,
    renames: list[str] | None = None,
    skip_rehearsal: bool = False,
    keep_data: bool | None = None,
    confirm: Callable[[str], bool] = lambda s: False,
    say: Callable[[str], None] = lambda s: None,
    interactive: bool = False,
    planfile: PlanFile | None = None,
) -> CommandResult:
    """Apply a plan file (``plan_path``, or ``planfile`` already in memory) or a fresh plan.

    ``keep_data`` defaults to on for protected targets; a plan file decides
    what it keeps when it is made, so keeping data with a plan made without
    it is refused rather than silently not keeping anything.
    """
    settings = _settings()
    keep = target.protected if keep_data is None else keep_data
    if planfile is not None or plan_path:
        if planfile is None:
            from myshift.workflows.plancheck import check_signature, plan_key

            pf = PlanFile.read(str(plan_path))
            check_signature(pf, plan_key(settings, target.env_name), str(plan_path))
        else:
            pf = planfile
        plan_path = plan_path or "the rollback plan"
        if keep and pf.kind != "rollback" and not _plan_keeps_data(pf):
            raise UsageError(
                f"The plan {plan_path} drops data but was made without --keep-data, "
                f"and {target} keeps data"
                + (" (it is protected)." if keep_data is None else " (--keep-data)."),
                "Make a new plan with --keep-data (or apply with --no-keep-data to lose it).",
            )
        if allow_drop and not pf.allow_drop and any(s.skipped for s in pf.statements):
            raise UsageError(
                f"The plan {plan_path} was made without --allow-drop; its destructive "
                "statements were not reviewed for running.",
                "Make a new plan with --allow-drop and review it.",
            )
    else:
        if target.protected:
            raise UsageError(
                f"{target} is protected: it only accepts a reviewed plan file.",
                f"Run `myshift plan --to {target} -o plan.json`, review it, then "
                "`myshift apply --plan plan.json`.",
            )
        pf = build_planfile(
            target,
            source,
            allow_drop=allow_drop,
            workspace=workspace,
            renames=renames,
            keep_data=keep,
        )
    if not pf.runnable:
        return CommandResult(text=format_sql(pf) + "-- nothing to apply\n")
    notes: dict[str, object] = {}
    if target.protected and pf.kind == "rollback":
        # A rollback restores from the holding schema, which no rehearsal clone
        # has; its safety is the reverse plan's own verification, drift check
        # and confirmation.
        notes["rehearsal"] = "not required for a rollback"
    elif target.protected:
        passed = rehearsal_passed(target, pf, settings.history_schema)
        if passed is None:
            if not skip_rehearsal:
                claimed = " (the plan file claims one)" if pf.rehearsals else ""
                raise RehearsalRequired(
                    f"{target} is protected and its history records no passed rehearsal of "
                    f"this plan{claimed}.",
                    f"Run `myshift rehearse --plan {plan_path} --to {target}` first "
                    "(or --skip-rehearsal, which history records).",
                )
            notes["skip_rehearsal"] = True
        else:
            notes["rehearsal"] = passed
    if not yes:
        if not interactive:
            raise Aborted(
                f"Applying {len(pf.runnable)} statement(s) to {target} needs confirmation.",
                "Review the plan and re-run with --yes.",
            )
        say(format_human(pf, color=False))
        if not confirm(f"Apply {len(pf.runnable)} statement(s) to {target}?"):
            raise Aborted("Not applied: the confirmation was declined.", "Nothing was changed.")
    from myshift.workflows.apply import ApplyOptions

    opts = ApplyOptions(
        lock_wait_timeout=lock_wait_timeout or settings.lock_wait_timeout,
        algorithm=Algorithm(algorithm.upper()) if algorithm else None,
        history_schema=settings.history_schema,
        audit_path=str(settings.audit_log),
        notes=notes,
    )
    apply_id = execute_planfile(target, pf, opts, say=say)
    destructive = sum(1 for s in pf.runnable if s.risk is Risk.DESTRUCTIVE)
    text = (
        f"Applied {len(pf.runnable)} statement(s) to {target}"
        + (f" ({destructive} destructive)" if destructive else "")
        + (f"; history id {apply_id}" if apply_id else "")
        + ".\n"
    )
    return CommandResult(text=text, apply_id=apply_id)


def _plan_keeps_data(pf: PlanFile) -> bool:
    """False when the plan runs destructive statements and keeps nothing for any of them."""
    runnable = pf.runnable
    if not any(s.risk is Risk.DESTRUCTIVE for s in runnable):
        return True
    return any(s.keep_table or s.keep_columns for s in runnable)


def history(
    target: Endpoint, apply_id: int | None, *, all_schemas: bool = False, limit: int = 50
) -> str:
    from myshift.workflows.history import History, format_apply_detail, format_history_table

    settings = _settings()
    with connected(replace(target, schema="")) as conn:
        h = History(conn, schema=settings.history_schema, audit_path=None)
        if apply_id is not None:
            return format_apply_detail(h.get_apply(apply_id))
        recs = h.list_applies(None if all_schemas else target.schema or None, limit=limit)
        return format_history_table(recs)
