"""The ``rollback`` command: show the reverse plan of an apply, then apply it like ``apply``.

The plan is ``workflows.rollbackplan`` (what a rollback undoes and how it
brings kept data back); it is frozen into an ordinary plan file
(``kind='rollback'``) and applied through ``workflows.apply``, so it is
itself an apply in history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from myshift.db.connect import DEFAULT_LOCK_WAIT_TIMEOUT, Endpoint
from myshift.workflows.apply import ApplyCommandOptions, apply
from myshift.workflows.history import History
from myshift.workflows.history.records import DEFAULT_AUDIT_PATH, DEFAULT_SCHEMA
from myshift.workflows.phases import Phases
from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import PlanOptions
from myshift.workflows.report import CommandResult, format_human, format_sql, wrap_comment
from myshift.workflows.rollbackplan import build_rollback_planfile
from myshift.workflows.statementprogress import StatementDisplay

if TYPE_CHECKING:
    from myshift.workflows.notify import Notify
    from myshift.workflows.online import OnlinePolicy
    from myshift.workflows.plancheck import PlanKey


@dataclass(frozen=True)
class RollbackOptions:
    """Everything ``myshift rollback`` takes besides the target and the apply id."""

    plan_only: bool = False  # show (and with ``output`` write) the plan; run nothing
    output: str | None = None  # write the rollback plan file here
    yes: bool = False
    keep_data: bool | None = None  # None: keep data when the target is protected
    fmt: str = "human"  # human | sql | json
    color: bool = False
    width: int = 80  # comment lines wrap to this (the terminal's width)
    lock_wait_timeout: int = DEFAULT_LOCK_WAIT_TIMEOUT
    verify: bool = True
    workspace: str = "temp"
    interactive: bool = False
    # Take back the changes made outside myshift to the apply's objects since it
    # ran (else the rollback refuses, naming them; workflows.outside).
    take_back_outside_changes: bool = False
    # Resolved by the CLI (myshift.toml, MYSHIFT_PLAN_KEY).
    plan_key: PlanKey | None = None
    history_schema: str = DEFAULT_SCHEMA
    audit_log: str | None = str(DEFAULT_AUDIT_PATH)
    # --online and [online], as for apply (workflows.online).
    online: OnlinePolicy | None = None
    # Tells the team the rollback started and how it ended (workflows.notify).
    notify: Notify | None = None


def _close_out_unfinished(target: Endpoint, pf: PlanFile, history_schema: str, audit: str) -> str:
    """Record that an unfinished apply left nothing to undo, so it stops standing in the way.

    An apply that failed or was interrupted with a statement in flight may
    have changed its objects, so later rollbacks count it; when its rollback
    finds them as they were, an (empty, ok) rollback of it is recorded.
    """
    undo = pf.undoes_apply_id
    if undo is None:
        return ""
    with History.open(target, schema=history_schema, audit_path=audit or None) as h:
        rec = h.get_apply(undo).record
        if rec.outcome == "ok":
            return ""
        rid = h.begin_apply(
            kind="rollback",
            target_schema=target.schema,
            target=target.redacted(),
            from_fingerprint=pf.from_fingerprint,
            to_fingerprint=pf.to_fingerprint,
            snapshot=pf.current,
            undoes_apply_id=undo,
            notes={"touched": {}, "nothing_to_undo": True},
        )
        h.finish_apply(rid, "ok")
    return (
        f"-- apply #{undo} ({rec.outcome}) left its objects as they were; recorded as rolled "
        f"back by #{rid}\n"
    )


def describe_rollback(pf: PlanFile, width: int = 80) -> str:
    """One paragraph: what the rollback undoes and what it brings back (wrapped to ``width``)."""
    restores = [s for s in pf.statements if s.restore_held]
    notes = [f"rollback of apply #{pf.undoes_apply_id} on {pf.target}"]
    notes += [f"brings back: {s.description}" for s in restores]
    taken = pf.derivation.take_back if pf.derivation is not None else ()
    notes += [f"takes back, made outside myshift: {change}" for change in taken]
    if not pf.statements:
        notes.append("nothing to undo: the touched objects already match the snapshot")
    lines = [line for note in notes for line in wrap_comment(note, width)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the command


def rollback(
    target: Endpoint,
    apply_id: int | None = None,
    opts: RollbackOptions = RollbackOptions(),
    *,
    confirm: Callable[[str], bool] = lambda s: False,
    say: Callable[[str], None] = lambda s: None,
    display: StatementDisplay | None = None,
) -> CommandResult:
    """``myshift rollback``: show the reverse plan, then apply it like ``apply`` does."""
    keep = target.protected if opts.keep_data is None else opts.keep_data
    with Phases(say, immediate=False) as phases:
        phases.start("Working out the reverse plan (reading the target, verifying it)...")
        pf = build_rollback_planfile(
            target,
            apply_id,
            history_schema=opts.history_schema,
            keep_data=keep,
            verify=opts.verify,
            workspace=opts.workspace,
            take_back_outside=opts.take_back_outside_changes,
        )
    shown = (
        format_human(pf, color=opts.color, width=opts.width)
        if opts.fmt == "human"
        else format_sql(
            pf, desired=f"the schema before apply #{pf.undoes_apply_id}", width=opts.width
        )
    )
    if opts.fmt == "json":
        shown = pf.to_json()
    head = describe_rollback(pf, opts.width)
    if opts.plan_only or opts.output:
        notice = ""
        if opts.output:
            key = opts.plan_key  # signed like `plan -o` plans
            pf.write(opts.output, key=key.secret if key is not None else None)
            notice = (
                f"Rollback plan of apply #{pf.undoes_apply_id} written to {opts.output}; apply "
                f"it with `myshift apply --plan {opts.output} --to {target}`."
            )
        if opts.plan_only:
            return CommandResult(
                text=(head if opts.fmt != "json" else "") + shown,
                pending=bool(pf.runnable),
                notice=notice,
            )
    if not pf.runnable:
        closed = _close_out_unfinished(target, pf, opts.history_schema, opts.audit_log or "")
        return CommandResult(text=head + "-- nothing to undo\n" + closed)
    if not opts.yes and opts.interactive:
        say(head.rstrip())
    result = apply(
        target,
        None,
        ApplyCommandOptions(
            plan=PlanOptions(online=opts.online),
            yes=opts.yes,
            lock_wait_timeout=opts.lock_wait_timeout,
            keep_data=keep,
            interactive=opts.interactive,
            history_schema=opts.history_schema,
            audit_log=opts.audit_log,
            notify=opts.notify,
        ),
        confirm=confirm,
        say=say,
        planfile=pf,
        display=display,
    )
    return replace(
        result,
        text=f"Rolled back apply #{pf.undoes_apply_id}"
        + (f" (history id {result.apply_id})" if result.apply_id else "")
        + ".\n",
    )


__all__ = ["RollbackOptions", "describe_rollback", "rollback"]
