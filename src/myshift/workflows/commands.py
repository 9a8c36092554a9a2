"""The workflows behind each CLI command (the CLI only parses and prints)."""

from __future__ import annotations

import getpass
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from myshift import __version__
from myshift.db.connect import Endpoint, connected
from myshift.db.identity import server_identity
from myshift.engine.load import parse_rename_option
from myshift.engine.risk import Algorithm, Risk
from myshift.errors import DriftError, MyshiftError, UnsafeError, UsageError
from myshift.exitcodes import ExitCode
from myshift.workflows.apply import (
    ApplyOptions,
    StatementToRun,
    check_algorithms,
    check_drift,
    run_statements,
    schema_lock,
    verify_after,
)
from myshift.workflows.plan import Plan, PlanOptions, make_plan
from myshift.workflows.planfile import FileStatement, PlanFile, Preflight
from myshift.workflows.report import format_human, format_sql


class Aborted(MyshiftError):
    exit_code = ExitCode.ABORTED


class RehearsalRequired(MyshiftError):
    exit_code = ExitCode.REHEARSAL_FAILED


@dataclass(frozen=True)
class CommandResult:
    text: str
    pending: bool = False
    notice: str = ""
    apply_id: int | None = None


def _settings() -> Any:
    from myshift.config import load_settings

    return load_settings()


def to_planfile(plan: Plan, target: Endpoint, allow_drop: bool) -> PlanFile:
    """Freeze a plan into the reviewable artefact, running its pre-flight checks."""
    from myshift.engine.preflight import preflight_checks

    with connected(target) as conn:
        identity = server_identity(conn)
        statements = []
        for st, ch in zip(plan.statements, plan.changes, strict=True):
            checks: list[Preflight] = []
            for desc, sql in preflight_checks(ch, plan.current, target.schema):
                try:
                    n = int(conn.scalar(sql) or 0)
                except Exception:  # a check that cannot run is reported as such
                    n = None
                checks.append(Preflight(desc, sql, n))
            statements.append(
                FileStatement(
                    sql=st.sql,
                    subject=st.subject,
                    description=st.description,
                    risk=st.risk,
                    algorithm=st.algorithm,
                    lock=st.lock,
                    reason=st.reason,
                    skipped=st.skipped,
                    preflight=tuple(checks),
                )
            )
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
    )


def build_planfile(
    target: Endpoint,
    source: Any,
    *,
    allow_drop: bool = False,
    workspace: str | None = None,
    renames: list[str] | None = None,
    verify: bool = True,
) -> PlanFile:
    opts = PlanOptions(
        allow_drop=allow_drop,
        hints=parse_rename_option(renames) if renames else None,
        verify=verify,
        workspace=workspace or "temp",
    )
    plan = make_plan(target, source, opts)
    return to_planfile(plan, target, allow_drop)


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
) -> CommandResult:
    pf = build_planfile(
        target,
        source,
        allow_drop=allow_drop,
        workspace=workspace,
        renames=renames,
        verify=verify,
    )
    notice = ""
    if output:
        pf.write(output)
        notice = f"Plan written to {output} ({len(pf.runnable)} statement(s) to run)."
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


def _operator() -> tuple[str, str]:
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = "unknown"
    return user, socket.gethostname()


def rehearsal_passed(pf: PlanFile) -> bool:
    return any(
        r.get("result") == "passed"
        and r.get("plan_hash") == pf.plan_hash
        and r.get("from") == pf.from_fingerprint
        for r in pf.rehearsals
    )


def execute_planfile(
    target: Endpoint,
    pf: PlanFile,
    opts: ApplyOptions,
    *,
    say: Callable[[str], None] = lambda s: None,
) -> int | None:
    """Apply a plan file: identity, lock, drift, pre-flight, algorithm policy, run, verify."""
    from myshift.workflows.history import History

    if pf.schema != target.schema:
        raise DriftError(
            f"The plan is for schema {pf.schema!r}, not {target.schema!r}.",
            "Use the plan made for this target, or make a new one.",
        )
    runnable = pf.runnable
    to_run = [StatementToRun(s.sql, s.subject, s.risk.value, s.algorithm) for s in runnable]
    check_algorithms(to_run, opts.algorithm)
    with connected(target, lock_wait_timeout=opts.lock_wait_timeout) as conn:
        ident = server_identity(conn)
        if not pf.identity.same_server(ident):
            raise DriftError(
                f"The plan was made for server {pf.identity.describe()}, but the target is "
                f"{ident.describe()}.",
                "Make a new plan against this server.",
            )
        with schema_lock(target, conn):
            check_drift(conn, target, pf.from_fingerprint, pf.current)
            for st in runnable:
                for pre in st.preflight:
                    n = int(conn.scalar(pre.sql) or 0)
                    if n:
                        raise UnsafeError(
                            f"{st.subject}: pre-flight check failed: {pre.description}: "
                            f"{n} row(s) would make `{st.sql[:150]}` fail.",
                            "Fix the data (or the migration) and make a new plan.",
                        )
            if not runnable:
                say("Nothing to apply.")
                return None
            history = None
            apply_id = None
            if opts.record_history:
                history = History(
                    conn_for_history(target),
                    schema=opts.history_schema,
                    audit_path=Path(opts.audit_path) if opts.audit_path else None,
                )
                user, host = _operator()
                apply_id = history.begin_apply(
                    kind=opts.kind,
                    target_schema=target.schema,
                    target=target.redacted(),
                    operator_user=user,
                    operator_host=host,
                    tool_version=__version__,
                    plan_hash=pf.plan_hash,
                    from_fingerprint=pf.from_fingerprint,
                    to_fingerprint=pf.to_fingerprint,
                    snapshot=pf.current,
                    undoes_apply_id=opts.undoes_apply_id,
                    notes=dict(opts.notes),
                )
            try:
                run_statements(
                    target,
                    to_run,
                    opts,
                    history=history,
                    apply_id=apply_id,
                    progress=lambda n, m, st, dt: say(f"[{n}/{m}] {st.subject}: done in {dt:.2f}s"),
                    on_wait=say,
                )
                skipped = {s.sql for s in pf.statements if s.skipped}
                verify_after(conn, target, pf.desired, skipped)
            except MyshiftError as exc:
                if history is not None and apply_id is not None:
                    history.finish_apply(apply_id, "failed", error=str(exc))
                raise
            if history is not None and apply_id is not None:
                history.finish_apply(apply_id, "ok")
            return apply_id


def conn_for_history(target: Endpoint) -> Any:
    from myshift.db.connect import connect

    return connect(replace(target, schema=""))


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
) -> CommandResult:
    settings = _settings()
    if plan_path:
        pf = PlanFile.read(plan_path)
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
            target, source, allow_drop=allow_drop, workspace=workspace, renames=renames
        )
    if not pf.runnable:
        return CommandResult(text=format_sql(pf) + "-- nothing to apply\n")
    notes: dict[str, object] = {}
    if target.protected:
        if not rehearsal_passed(pf):
            if not skip_rehearsal:
                raise RehearsalRequired(
                    f"{target} is protected and this plan has no passed rehearsal.",
                    f"Run `myshift rehearse --plan {plan_path} --to {target}` first "
                    "(or --skip-rehearsal, which history records).",
                )
            notes["skip_rehearsal"] = True
        else:
            notes["rehearsal"] = [r for r in pf.rehearsals if r.get("result") == "passed"][-1]
    if not yes:
        if not interactive:
            raise Aborted(
                f"Applying {len(pf.runnable)} statement(s) to {target} needs confirmation.",
                "Review the plan and re-run with --yes.",
            )
        say(format_human(pf, color=False))
        if not confirm(f"Apply {len(pf.runnable)} statement(s) to {target}?"):
            raise Aborted("Not applied.", "")
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
