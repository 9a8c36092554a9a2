"""The ``apply`` command: a reviewed plan file (or a fresh plan) onto the target.

What the command decides before anything runs: which plan (the file, read
and its signature checked, or a fresh plan where the target allows one),
whether it keeps data as the target requires, the rehearsal gate of a
protected target (its own history must record a passed rehearsal of exactly
this plan), and confirmation.  Running it is ``workflows.execute``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from myshift.db.connect import DEFAULT_LOCK_WAIT_TIMEOUT, Endpoint
from myshift.engine.risk import Algorithm, Risk
from myshift.errors import Aborted, RehearsalRequired, UsageError
from myshift.workflows.execute import execute_planfile
from myshift.workflows.history.records import DEFAULT_AUDIT_PATH, DEFAULT_SCHEMA
from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import PlanOptions
from myshift.workflows.report import CommandResult, format_human, format_sql
from myshift.workflows.runner import ApplyOptions
from myshift.workflows.statementprogress import StatementDisplay

if TYPE_CHECKING:
    from myshift.workflows.notify import Notify
    from myshift.workflows.plancheck import PlanKey
    from myshift.workflows.watch import WatchOptions


@dataclass(frozen=True)
class ApplyCommandOptions:
    """Everything ``myshift apply`` takes besides the target and the desired source."""

    # How a fresh plan is made (no plan file); ``allow_drop`` also says the
    # operator means to run the destructive statements of a plan file.
    plan: PlanOptions = field(default_factory=PlanOptions)
    plan_path: str | None = None  # apply exactly this reviewed plan file
    yes: bool = False
    algorithm: Algorithm | None = None  # refuse statements needing more than this
    lock_wait_timeout: int = DEFAULT_LOCK_WAIT_TIMEOUT
    skip_rehearsal: bool = False
    # None: keep data when the target is protected.
    keep_data: bool | None = None
    interactive: bool = False  # may ask for confirmation on the terminal
    # Resolved by the CLI (myshift.toml, MYSHIFT_PLAN_KEY).
    plan_key: PlanKey | None = None
    history_schema: str = DEFAULT_SCHEMA
    audit_log: str | None = str(DEFAULT_AUDIT_PATH)
    # The watch around the run (workflows.watch); None: not watched.
    watch: WatchOptions | None = None
    # Tells the team the apply started, and how it ended (workflows.notify).
    notify: Notify | None = None


def apply(
    target: Endpoint,
    source: Any,
    opts: ApplyCommandOptions,
    *,
    confirm: Callable[[str], bool] = lambda s: False,
    say: Callable[[str], None] = lambda s: None,
    planfile: PlanFile | None = None,
    display: StatementDisplay | None = None,
) -> CommandResult:
    """Apply a plan file (``opts.plan_path``, or ``planfile`` already in memory) or a fresh plan.

    ``keep_data`` defaults to on for protected targets; a plan file decides
    what it keeps when it is made, so keeping data with a plan made without
    it is refused rather than silently not keeping anything.
    """
    pf, plan_path = _the_plan(target, source, opts, planfile, say)
    if not pf.runnable:
        return CommandResult(text=format_sql(pf) + "-- nothing to apply\n")
    notes = _rehearsal_gate(target, pf, opts, plan_path)
    if not opts.yes:
        if not opts.interactive:
            raise Aborted(
                f"Applying {len(pf.runnable)} statement(s) to {target} needs confirmation.",
                "Review the plan and re-run with --yes.",
            )
        say(format_human(pf, color=False, desired=_desired_label(source, plan_path)))
        if not confirm(f"Apply {len(pf.runnable)} statement(s) to {target}?"):
            raise Aborted("Not applied: the confirmation was declined.", "Nothing was changed.")
    run = ApplyOptions(
        lock_wait_timeout=opts.lock_wait_timeout,
        algorithm=opts.algorithm,
        history_schema=opts.history_schema,
        audit_path=opts.audit_log,
        notes=notes,
        online=opts.plan.online,
    )
    from myshift.workflows.watch import watching

    with watching(target, _watched(opts, pf), say=say) as watch:
        apply_id = _execute_told(target, pf, run, opts, say, display)
        watch.applied(apply_id)
    destructive = sum(1 for s in pf.runnable if s.risk is Risk.DESTRUCTIVE)
    text = (
        f"Applied {len(pf.runnable)} statement(s) to {target}"
        + (f" ({destructive} destructive)" if destructive else "")
        + (f"; history id {apply_id}" if apply_id else "")
        + ".\n"
    )
    return CommandResult(text=text, apply_id=apply_id)


def _watched(opts: ApplyCommandOptions, pf: PlanFile) -> WatchOptions | None:
    """The watch judges the digests of the tables the plan changes; its alerts name
    the plan (hash and file)."""
    watch = opts.watch
    if watch is None:
        return None
    from myshift.workflows.notify.events import file_link

    link = file_link(opts.plan_path) if opts.plan_path else ""
    watch = replace(watch, plan_hash=pf.plan_hash, link=link)
    if watch.tables:
        return watch
    tables = sorted({t.strip() for s in pf.runnable for t in s.subject.split(",") if t.strip()})
    return replace(watch, tables=tuple(tables))


def _execute_told(
    target: Endpoint,
    pf: PlanFile,
    run: ApplyOptions,
    opts: ApplyCommandOptions,
    say: Callable[[str], None],
    display: StatementDisplay | None,
) -> int | None:
    """``execute_planfile``, with the team told it started and how it ended: finished,
    failed or interrupted (Ctrl-C included: the event is queued before it propagates)."""
    notify = opts.notify
    if notify is None:
        return execute_planfile(target, pf, run, say=say, display=display)
    from myshift.workflows.notify import events

    link = events.file_link(opts.plan_path) if opts.plan_path else ""
    notify(events.apply_started(pf, link))
    try:
        apply_id = execute_planfile(target, pf, run, say=say, display=display)
    except BaseException as exc:
        notify(events.apply_failed(pf, link, exc, str(target)))
        raise
    notify(events.apply_finished(pf, link, apply_id, str(target)))
    return apply_id


def _desired_label(source: Any, plan_path: str | None) -> str:
    if plan_path:
        return f"the plan file {plan_path}"
    from myshift.workflows.plan import source_label

    return source_label(source)


def _the_plan(
    target: Endpoint,
    source: Any,
    opts: ApplyCommandOptions,
    planfile: PlanFile | None,
    say: Callable[[str], None],
) -> tuple[PlanFile, str | None]:
    """The plan to apply, and how messages name it: the file (read, its signature
    checked, refused when it does not keep data as asked), or a fresh plan."""
    keep = target.protected if opts.keep_data is None else opts.keep_data
    plan_path = opts.plan_path
    if planfile is None and not plan_path:
        if target.protected:
            raise UsageError(
                f"{target} is protected: it only accepts a reviewed plan file.",
                f"Run `myshift plan --to {target} -o plan.json`, review it, then "
                "`myshift apply --plan plan.json`.",
            )
        from myshift.workflows.phases import Phases
        from myshift.workflows.plan import build_planfile

        phases = Phases(say, immediate=False)  # said only of a phase over 2 s
        return build_planfile(target, source, replace(opts.plan, keep_data=keep), phases), plan_path
    if planfile is None:
        from myshift.workflows.plancheck import check_signature

        pf = PlanFile.read(str(plan_path))
        check_signature(pf, opts.plan_key, str(plan_path))
    else:
        pf = planfile
    plan_path = plan_path or "the rollback plan"
    if keep and pf.kind != "rollback" and not _plan_keeps_data(pf):
        raise UsageError(
            f"The plan {plan_path} drops data but was made without --keep-data, "
            f"and {target} keeps data"
            + (" (it is protected)." if opts.keep_data is None else " (--keep-data)."),
            "Make a new plan with --keep-data (or apply with --no-keep-data to lose it).",
        )
    if opts.plan.allow_drop and not pf.allow_drop and any(s.skipped for s in pf.statements):
        raise UsageError(
            f"The plan {plan_path} was made without --allow-drop; its destructive "
            "statements were not reviewed for running.",
            "Make a new plan with --allow-drop and review it.",
        )
    return pf, plan_path


def _rehearsal_gate(
    target: Endpoint, pf: PlanFile, opts: ApplyCommandOptions, plan_path: str | None
) -> dict[str, object]:
    """A protected target needs a passed rehearsal of this plan in its own history
    (or --skip-rehearsal, recorded); what the history notes say about it."""
    notes: dict[str, object] = {}
    if target.protected and pf.kind == "rollback":
        # A rollback restores from the holding schema, which no rehearsal clone
        # has; its safety is the reverse plan's own verification, drift check
        # and confirmation.
        notes["rehearsal"] = "not required for a rollback"
    elif target.protected:
        passed = rehearsal_passed(target, pf, opts.history_schema)
        if passed is None:
            if not opts.skip_rehearsal:
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
    return notes


def rehearsal_passed(
    target: Endpoint, pf: PlanFile, history_schema: str = DEFAULT_SCHEMA
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


def _plan_keeps_data(pf: PlanFile) -> bool:
    """False when the plan runs destructive statements and keeps nothing for any of them."""
    runnable = pf.runnable
    if not any(s.risk is Risk.DESTRUCTIVE for s in runnable):
        return True
    return any(s.keeps for s in runnable)


__all__ = [
    "ApplyCommandOptions",
    "apply",
    "rehearsal_passed",
]
