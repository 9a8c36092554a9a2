"""Rehearse a plan on a copy of production: clone, apply, verify, validate, time, record.

``myshift rehearse --plan plan.json --to prod`` runs, in order:

1. **Checks on production** (read only): the target is the server the plan was
   made for (server identity) and still has the plan's ``from`` fingerprint.
   A stale plan is refused here (``DriftError``), not rehearsed.  The plan's
   pre-flight queries run here too (``production_preflights``): a sample
   cannot hold the rows that make apply refuse, so when one fails on
   production the rehearsal fails (stage ``pre-flight``) whatever the sandbox
   says; the sandbox still runs the plan for its timings.
2. **Sandbox** (``workflows.sandbox_kinds.make_sandbox``: local, server, replica,
   local-replica, rds-*): never production (server identity, asserted again
   right before anything runs).
3. **Copy** structure and ``--data`` (``workflows.clone``); replicas hold the rows.
4. **Run** the plan's runnable statements with the *production* executor
   (``execute.execute_planfile``: lock_wait_timeout, algorithm policy,
   pre-flight checks, keep-data hook, verification against the plan's ``to``).
   Only two things differ, on purpose: the identity the plan is checked
   against is the sandbox's (the sandbox's *fingerprint* must still equal the
   plan's ``from``), and nothing is written to a history on the sandbox.
   Each statement is timed; rows affected and whether InnoDB rebuilt the
   table (its table id changes) tell which algorithm the server really used.
5. **Validate**: ``--check checks.sql`` and ``--run CMD`` (``workflows.validate``).
6. **Report** (terminal, Markdown, JSON) and **record** the outcome: appended
   to the plan file's ``rehearsals`` (written back atomically; neither
   ``plan_hash`` nor a signature covers rehearsals, so both are unchanged)
   and as a ``rehearsal`` entry in production's history, with the plan hash
   and ``from`` fingerprint.  ``apply`` to a protected environment requires a
   passed entry with the same ``plan_hash`` and ``from`` *in that history*
   (``apply.rehearsal_passed``); the file's entries are for reviewers.

A pre-flight refusal is a failed rehearsal (production would refuse too).  To
say *why* in the server's own words, rehearse then runs the plan once more in
the sandbox without the pre-flight checks (nothing had run yet) and reports
the statement and error the server gives.

Estimated production durations: with ``full`` data or a replica the sandbox
holds production's rows, so the sandbox time is the estimate; with
``sample:N`` the time is scaled by production rows / sandbox rows of the
statement's table (InnoDB's ``TABLE_ROWS`` estimate on production); with
``none`` there is nothing to scale and no estimate is given.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from myshift import interrupts
from myshift.db.connect import DEFAULT_LOCK_WAIT_TIMEOUT, Conn, Endpoint, connect, connected
from myshift.db.identity import server_identity
from myshift.engine.introspect.catalog import base_table_rows
from myshift.engine.risk import Algorithm
from myshift.errors import (
    ApplyFailed,
    DriftError,
    Interrupted,
    LockTimeout,
    MyshiftError,
    UsageError,
)
from myshift.workflows.clone import CloneProgress, DataMode
from myshift.workflows.execute import execute_planfile
from myshift.workflows.history.records import DEFAULT_AUDIT_PATH, DEFAULT_SCHEMA
from myshift.workflows.planfile import PlanFile
from myshift.workflows.preflightrun import preflight_hits
from myshift.workflows.rehearse_history import begin_history, finish_history, record_in_plan
from myshift.workflows.rehearse_observe import Observer, estimate
from myshift.workflows.rehearse_report import RehearsalReport, StatementReport, write_report
from myshift.workflows.runner import ApplyOptions, check_drift
from myshift.workflows.sandbox import Sandbox, assert_not_target
from myshift.workflows.sandbox_kinds import make_sandbox
from myshift.workflows.statementprogress import StatementDisplay, statement_display
from myshift.workflows.validate import (
    read_checks_file,
    run_account,
    run_checks,
    run_command,
    secret_variables,
)

if TYPE_CHECKING:
    from myshift.workflows.notify import Notify
    from myshift.workflows.online import OnlinePolicy
    from myshift.workflows.plancheck import PlanKey

DEFAULT_DATA = "sample:10000"

Say = Callable[[str], None]


@dataclass(frozen=True)
class RehearseOptions:
    """Everything ``myshift rehearse`` takes besides the plan and the target."""

    sandbox: str = "local"
    data: str | None = None  # None: DEFAULT_DATA (a replica always has all rows)
    check: str | None = None
    run: str | None = None
    keep: bool = False
    algorithm: Algorithm | None = None  # the same --algorithm policy apply would get
    lock_wait_timeout: int = DEFAULT_LOCK_WAIT_TIMEOUT  # myshift.toml's, like apply
    workers: int = 4
    record_history: bool = True
    progress: bool = True  # the clone's progress on stderr: a bar on a terminal, else lines
    report_md: str | None = None
    report_json: str | None = None
    # Resolved by the CLI (myshift.toml, MYSHIFT_PLAN_KEY): the team key the
    # plan must be signed with, production's history, and the password
    # variables kept out of ``run``'s environment.
    plan_key: PlanKey | None = None
    history_schema: str = DEFAULT_SCHEMA
    audit_log: str | None = str(DEFAULT_AUDIT_PATH)
    secret_env: tuple[str | None, ...] = ()
    # --online and [online]: the paths are decided from *production's* sizes and
    # pinned in the sandbox, so the rehearsal times the path apply will take.
    online: OnlinePolicy | None = None
    # Tells the team the rehearsal passed or failed (workflows.notify).
    notify: Notify | None = None


# --------------------------------------------------------------------------- the workflow


def _new_id() -> str:
    now = dt.datetime.now(dt.UTC)
    return f"r{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def check_plan_target(target: Endpoint, pf: PlanFile) -> PlanFile:
    """The plan must be for this target, the target must still be its ``from``, and
    the plan must be what the engine derives from its snapshots (returned: the
    statements and pre-flight queries the engine derives, as apply would run them).

    Raises ``DriftError``: rehearsing a stale plan proves nothing about it;
    ``PlanMismatch`` for an edited one (workflows.plancheck), before any
    sandbox is made or anything is recorded.
    """
    from myshift.workflows.plancheck import trusted_planfile

    if pf.schema != target.schema:
        raise DriftError(
            f"The plan is for schema {pf.schema!r}, not {target.schema!r}.",
            "Rehearse with --to naming the plan's target.",
        )
    with connected(target) as conn:
        ident = server_identity(conn)
        if not pf.identity.same_server(ident):
            raise DriftError(
                f"The plan was made for server {pf.identity.describe()}, but --to is "
                f"{ident.describe()}.",
                "Rehearse with --to naming the plan's target, or make a new plan.",
            )
        check_drift(conn, target, pf.from_fingerprint, pf.current)
        return trusted_planfile(pf, target)


def production_preflights(target: Endpoint, pf: PlanFile) -> list[str]:
    """Run the plan's pre-flight checks on production (read-only ``SELECT COUNT(*)``s);
    one line per failing check.

    A sampled or empty sandbox cannot hold the rows that make a statement
    fail (a duplicate outside the sample): apply runs these very checks on
    production and refuses, so a rehearsal whose checks fail here fails.
    """
    with connected(target) as conn:
        return [
            f"{h.statement.subject}: {h.check.description}: "
            + (f"could not run ({h.error})" if h.error else f"{h.rows} row(s)")
            for h in preflight_hits(conn, pf.runnable)
        ]


def _read_plan(plan_path: str | Path, options: RehearseOptions) -> PlanFile:
    """The plan file, its signature checked; a rollback plan or a mistyped --check
    path is refused now, not after the copy and the run."""
    from myshift.workflows.plancheck import check_signature

    pf = PlanFile.read(plan_path)
    check_signature(pf, options.plan_key, str(plan_path))
    if pf.kind == "rollback":
        raise UsageError(
            f"{plan_path} is a rollback plan; it restores from the holding schema on the target, "
            "which no sandbox has.",
            "Apply rollback plans directly (they need no rehearsal).",
        )
    if options.check is not None:
        read_checks_file(options.check)
    return pf


def _history_stopped(history: tuple[Any, int] | None, exc: BaseException, stopped: bool) -> None:
    """Close the rehearsal's history entry when it did not run to its end."""
    if history is None:
        return
    outcome, error = ("interrupted", f"interrupted {interrupts.by()}")
    if not stopped:
        outcome, error = "failed", f"rehearsal stopped: {exc}"
    with contextlib.suppress(Exception):
        history[0].finish_apply(history[1], outcome, error=error)
        history[0].close()


def rehearse(
    plan_path: str | Path,
    target: Endpoint,
    options: RehearseOptions = RehearseOptions(),
    *,
    say: Say = lambda s: None,
    sandbox: Sandbox | None = None,
) -> RehearsalReport:
    """Rehearse the plan file at ``plan_path`` for ``target``; record and return the outcome.

    A failed rehearsal is a report with ``result == "failed"`` (the plan file
    and history record it); errors that stop a rehearsal from happening at all
    (a stale plan, a sandbox that cannot be made) are raised as MyshiftError.
    ``sandbox`` overrides ``options.sandbox`` (tests pass a prepared one).
    """
    pf = _read_plan(plan_path, options)
    sb = sandbox or make_sandbox(options.sandbox, keep=options.keep)
    sb.plan_hash = pf.plan_hash
    held = sb.holds_data  # a replica, clone or restored snapshot: nothing to copy
    if held and options.data is not None:
        say(
            f"--data {options.data} ignored: the {sb.kind} sandbox already holds production's rows."
        )
    mode = None if held else DataMode.parse(options.data or DEFAULT_DATA)
    data = held if held else str(mode)

    trusted = check_plan_target(target, pf)
    with connected(target) as prod:
        prod_rows = base_table_rows(prod, target.schema)
        online = _production_paths(prod, target, trusted, options)
    options = replace(options, online=online)
    refused = production_preflights(target, trusted)

    report = RehearsalReport(
        id=_new_id(),
        plan=str(plan_path),
        plan_hash=pf.plan_hash,
        from_fingerprint=pf.from_fingerprint,
        target=target.redacted(),
        sandbox=sb.kind,
        data=data,
        started_at=_now(),
    )
    t_start = time.monotonic()
    history = (
        begin_history(target, pf, report, options.history_schema, options.audit_log, say)
        if options.record_history
        else None
    )
    try:
        with sb:
            _rehearse_in(sb, pf, target, mode, prod_rows, options, report, say, refused)
    except BaseException as exc:
        stopped = isinstance(exc, KeyboardInterrupt | Interrupted)
        _history_stopped(history, exc, stopped)
        _tell(options, report, plan_path, exc)
        if stopped:
            raise _interrupted(exc, plan_path, target, sb, copying=not report.statements) from None
        raise
    report.finished_at = _now()
    report.seconds = time.monotonic() - t_start
    if mode is not None and mode.kind == "none":
        pending = sum(p.violations or 0 for s in pf.runnable for p in s.preflight if not p.deletes)
        if pending:
            report.notes.append(
                f"The plan recorded {pending} pre-flight violation(s) on production; with "
                "--data none the sandbox had no rows to test them."
            )
    _next_steps(report, target)
    finish_history(history, report)
    record_in_plan(plan_path, report)
    if options.report_md:
        write_report(options.report_md, report.to_markdown())
    if options.report_json:
        write_report(options.report_json, report.to_json())
    _tell(options, report, plan_path)
    return report


def _tell(
    options: RehearseOptions,
    report: RehearsalReport,
    plan: str | Path,
    exc: BaseException | None = None,
) -> None:
    """Tell the team how the rehearsal ended (its report, else the plan, as the link)."""
    if options.notify is not None:
        from myshift.workflows.notify.events import tell_rehearsal

        link = options.report_md or options.report_json or plan
        tell_rehearsal(options.notify, report, link, exc)


def _interrupted(
    exc: BaseException, plan_path: str | Path, target: Endpoint, sb: Sandbox, *, copying: bool
) -> Interrupted:
    """Ctrl-C: production was only read; say what happened to the sandbox and what next."""
    if isinstance(exc, Interrupted):
        what = exc.message
    elif copying:
        what = f"Interrupted {interrupts.by()} while preparing the sandbox" + (
            "" if sb.holds_data else " (the copy's queries were stopped)"
        )
    else:
        what = f"Interrupted {interrupts.by()} between statements"
    where = "which was kept" if sb.keep else "which was removed"
    if sb.left:  # a second stop signal cut its removal short
        where = f"which was not fully removed: {sb.left}"
    return Interrupted(
        f"{what.rstrip('.')} (in the {sb.kind} sandbox, {where}); production was "
        "not changed and the rehearsal is recorded as interrupted.",
        f"Rehearse again when ready: `myshift rehearse --plan {plan_path} --to {target}`.",
    )


def _production_paths(
    prod: Conn, target: Endpoint, trusted: PlanFile, options: RehearseOptions
) -> OnlinePolicy:
    """The online policy for the sandbox: each statement's path as production's sizes
    decide it, pinned (the sandbox's sample would make every table small)."""
    from myshift.workflows.online import OnlinePolicy, live_paths

    policy = options.online or OnlinePolicy()
    decided = live_paths(prod, target.schema, trusted.statements, policy)
    return replace(
        policy, forced=tuple((s.sql, s.path, s.path_reason) for s in decided if s.path_reason)
    )


def _rehearse_in(
    sb: Sandbox,
    pf: PlanFile,
    target: Endpoint,
    mode: DataMode | None,
    prod_rows: dict[str, int],
    options: RehearseOptions,
    report: RehearsalReport,
    say: Say,
    refused: list[str],
) -> None:
    """Prepare the (entered) sandbox, run the plan there, validate; fill ``report``.

    ``refused``: the pre-flight checks that fail on production; the sandbox
    still runs the plan (timings, the server's own error), but the rehearsal
    fails whatever the sandbox's data says.
    """
    progress = CloneProgress(sys.stderr) if options.progress else None
    say(f"Preparing the {sb.kind} sandbox ({report.data})...")
    try:
        ep = sb.prepare(target, data=mode, progress=progress, workers=options.workers)
    finally:
        if progress is not None:
            progress.close()
    report.notes.extend(sb.notes)
    if sb.clone_stats is not None:
        cs = sb.clone_stats
        report.clone = {
            "tables": cs.tables,
            "rows": cs.rows,
            "bytes": cs.bytes,
            "seconds": round(cs.seconds, 3),
            "consistent": cs.consistent,
        }
    # Belt and braces: whatever the sandbox says, never run the plan on production.
    assert_not_target(ep, target)
    _match_sql_mode(target, ep, sb.kind in ("local", "local-replica"), report)
    copied = dict(sb.clone_stats.rows_per_table) if sb.clone_stats is not None else {}
    run = ApplyOptions(
        lock_wait_timeout=options.lock_wait_timeout,
        algorithm=options.algorithm,
        record_history=False,
        online=options.online,
    )
    display = statement_display(sys.stderr) if options.progress else None
    _run_in_sandbox(pf, ep, report, prod_rows, copied, run, say, display)
    if refused and report.stage in ("", "pre-flight"):
        in_sandbox = f" In the sandbox: {report.error}" if report.error else ""
        report.stage = "pre-flight"
        report.error = (
            f"{len(refused)} pre-flight check(s) fail on production, so apply would refuse "
            f"(the sandbox's {report.data} data cannot show it): "
            + "; ".join(refused)
            + "."
            + in_sandbox
        )
    if report.stage == "" and (options.check or options.run):
        _validate(ep, options, report, say, list(options.secret_env), sb.production_login)
    report.result = "passed" if report.stage == "" else "failed"
    if sb.keep:
        report.kept = sb.finish() or ""


def _match_sql_mode(
    target: Endpoint, ep: Endpoint, own_server: bool, report: RehearsalReport
) -> None:
    """Run under production's sql_mode: strict or not decides whether a narrowing ALTER
    fails or silently truncates.  Only a server myshift started is changed globally."""
    with connect(target, schema="") as t, connect(ep, schema="") as s:
        want = str(t.scalar("SELECT @@GLOBAL.sql_mode"))
        have = str(s.scalar("SELECT @@GLOBAL.sql_mode"))
        if want == have:
            return
        if own_server:
            try:
                s.execute("SET GLOBAL sql_mode = %s", (want,))
                return
            except Exception as exc:  # a mode this flavor does not know
                report.notes.append(f"Could not use production's sql_mode {want!r}: {exc}.")
                return
        report.notes.append(
            f"The sandbox runs sql_mode {have!r}, production {want!r}: statements that depend "
            "on strictness may behave differently."
        )


def _run_in_sandbox(
    pf: PlanFile,
    ep: Endpoint,
    report: RehearsalReport,
    prod_rows: dict[str, int],
    copied_rows: dict[str, int],
    opts: ApplyOptions,
    say: Say,
    display: StatementDisplay | None = None,
) -> None:
    """Run the plan in the sandbox with apply's executor; fill ``report`` (stage on failure)."""
    runnable = pf.runnable
    report.statements = [
        StatementReport(
            seq=i,
            subject=s.subject,
            sql=s.sql,
            risk=s.risk.value,
            description=s.description,
            planned_algorithm=s.algorithm.value,
            production_rows=prod_rows.get(s.subject),
        )
        for i, s in enumerate(runnable, start=1)
    ]
    with connect(ep) as conn:
        sandbox_rows = base_table_rows(conn, ep.schema)
        # TABLE_ROWS is an estimate; the copy counted the rows it wrote exactly.
        sandbox_rows.update(copied_rows)
        for rep in report.statements:
            rep.sandbox_rows = sandbox_rows.get(rep.subject)
        # The sandbox stands in for production: the plan is checked against the
        # sandbox's identity (it is another server) but its *fingerprint* must
        # still be the plan's `from`, and its schema may have another name.
        sandbox_pf = replace(pf, schema=ep.schema, identity=server_identity(conn))
        # With a display, its start and done lines are each statement's lines, as in
        # apply; the observer's time, rows and algorithm go into the report's table.
        shown: Say = say if display is None else (lambda s: None)
        observer = Observer(conn, ep.schema, report.statements, shown)
        try:
            execute_planfile(
                ep, sandbox_pf, opts, say=lambda s: None, observe=observer, display=display
            )
        except Interrupted:
            raise  # Ctrl-C: not a verdict on the plan
        except DriftError as exc:
            report.stage = "sandbox"
            report.error = (
                f"The sandbox copy does not match the plan's `from` ({exc.message}); the copy is "
                "not faithful (a different server flavor or version renders the schema "
                "differently)."
            )
        except (ApplyFailed, LockTimeout) as exc:
            if any(s.status == "failed" for s in report.statements):
                report.stage = "run"
                report.error = exc.message
            elif observer.seen == len(runnable):
                report.stage = "verify"
                report.error = exc.message
            else:
                report.stage = "run"
                report.error = str(exc)
        except MyshiftError as exc:
            # Pre-flight refusal or algorithm policy: nothing ran yet.
            report.stage = "pre-flight" if "pre-flight" in exc.message else "policy"
            report.error = str(exc)
            if report.stage == "pre-flight":
                _diagnose(sandbox_pf, ep, opts, report, say)
    for rep in report.statements:
        rep.estimated_seconds = estimate(rep, report.data)


def _diagnose(
    pf: PlanFile, ep: Endpoint, opts: ApplyOptions, report: RehearsalReport, say: Say
) -> None:
    """After a pre-flight refusal, run the plan anyway (in the sandbox only) for the server's
    own error on the offending statement."""
    say("Pre-flight check refused the plan; running it anyway in the sandbox to see the error...")
    with connect(ep) as conn:
        observer = Observer(conn, ep.schema, report.statements, say)
        try:
            execute_planfile(ep, pf, opts, say=lambda s: None, observe=observer, preflight=False)
        except Interrupted:
            raise
        except MyshiftError:
            pass
    failed = [s for s in report.statements if s.status == "failed"]
    if failed:
        s = failed[0]
        report.error += f" Run anyway in the sandbox, statement {s.seq} failed: {s.error}."


def _validate(
    ep: Endpoint,
    options: RehearseOptions,
    report: RehearsalReport,
    say: Say,
    scrub: list[str | None],
    production_login: bool = False,
) -> None:
    if options.check:
        say(f"Running checks from {options.check}...")
        with connect(ep) as conn:
            report.checks = run_checks(conn, options.check)
        bad = [c for c in report.checks if not c.passed]
        if bad:
            report.stage = "checks"
            report.error = f"{len(bad)} of {len(report.checks)} check(s) failed: " + ", ".join(
                f"{c.name} ({c.where})" for c in bad
            )
            return
    if options.run:
        say(f"Running `{options.run}` against the sandbox...")
        # Production's password variables stay out of the command's environment, and
        # a sandbox reached with production's own login gets an account of its own.
        try:
            with run_account(ep) if production_login else contextlib.nullcontext(ep) as run_ep:
                report.command = run_command(options.run, run_ep, scrub=secret_variables(scrub))
        except UsageError as exc:
            report.stage = "command"
            report.error = f"{exc.message} {exc.fix or ''}".strip()
            return
        if not report.command.ok:
            report.stage = "command"
            report.error = f"The command `{options.run}` exited with {report.command.exit_code}."


def _next_steps(report: RehearsalReport, target: Endpoint) -> None:
    steps = report.next_steps
    if report.sandbox == "replica":
        steps.extend(n for n in report.notes if "no longer replicates" in n)
    if report.passed:
        steps.append(f"Apply it: myshift apply --plan {report.plan} --to {target}")
        if report.data == "none":
            steps.append(
                "This rehearsal copied no rows: data-dependent statements were not tested and no "
                "production duration can be estimated (rehearse with --data sample:N or full)."
            )
        return
    if report.stage in ("run", "pre-flight", "verify"):
        steps.append(
            "Fix the data on production or change the migration in dev, make a new plan "
            f"(myshift plan --to {target} -o {report.plan}) and rehearse again."
        )
    elif report.stage in ("checks", "command"):
        steps.append(
            "The migration ran but the application's expectations failed: fix the migration "
            "(or the checks), re-plan and rehearse again."
        )
    elif report.stage == "sandbox":
        steps.append("Rehearse on a server of the same flavor and version (--sandbox server:URL).")
    if not report.kept:
        steps.append("Re-run with --keep to inspect the sandbox after a failure.")


__all__ = [
    "DEFAULT_DATA",
    "RehearsalReport",
    "RehearseOptions",
    "StatementReport",
    "check_plan_target",
    "production_preflights",
    "rehearse",
]
