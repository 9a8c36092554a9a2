"""The ``plan`` command: the statements that turn the target schema into the desired one.

``make_plan`` introspects the target, obtains the desired model (a live schema
introspected directly, or desired SQL loaded into a workspace and
introspected: the server is the parser), diffs, assesses every statement, and
*verifies* the result by replaying it on a copy of the affected part of the
target's structure in a workspace and diffing again (workflows.verify).  A
plan that does not converge there is never shown as final.  ``build_planfile``
freezes it into the reviewable plan file (workflows.freeze); ``plan`` prints,
writes and signs it.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from myshift.db.connect import Conn, Endpoint, connected, quote_ident
from myshift.engine.definers import for_mode, restore_definers
from myshift.engine.introspect import Twin, TwinUnavailable, gc_paused, introspect
from myshift.engine.introspect.catalog import schema_exists
from myshift.engine.load import (
    RenameHints,
    allowing_empty,
    desired_statements_hints,
    load_desired_sql,
    refuse_dangling,
    restore_event_status,
)
from myshift.engine.split import Statement
from myshift.errors import MyshiftError, UsageError
from myshift.model import Schema
from myshift.workflows.freeze import to_planfile
from myshift.workflows.history.records import DEFAULT_SCHEMA as DEFAULT_HISTORY_SCHEMA
from myshift.workflows.phases import Phases
from myshift.workflows.phases import start as phase
from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import Plan, PlanOptions, derive
from myshift.workflows.report import CommandResult, format_human, format_sql
from myshift.workflows.verify import _EarlyCopy, verify_plan, workspace_for

if TYPE_CHECKING:
    from myshift.model.serialize import FingerprintCache
    from myshift.workflows.notify import Notify
    from myshift.workflows.plancheck import PlanKey


def _import_engine() -> None:
    """Import the diff machinery (~30 ms) while the plan's first reads wait on servers.

    make_plan starts it in a thread; what is needed only after the schemas
    are read is not imported before (see the function-level imports here and
    in workflows.execute).
    """
    importlib.import_module("myshift.engine.diff")


def _merge_hints(a: RenameHints | None, b: RenameHints | None) -> RenameHints | None:
    if a is None:
        return b
    if b is None:
        return a
    return RenameHints(tables={**a.tables, **b.tables}, columns={**a.columns, **b.columns})


def desired_from_source(
    source: str | Endpoint | list[Statement],
    target: Endpoint,
    target_conn: Conn,
    opts: PlanOptions,
    *,
    borrow: Twin | None = None,
    lend: Twin | None = None,
) -> tuple[Schema, RenameHints | None]:
    """Introspect a live desired schema, or load desired SQL into a workspace.

    ``borrow``/``lend``: see Twin (the target's tables, and the verification's).
    """
    if isinstance(source, Endpoint):
        with connected(source) as dconn:
            return introspect(dconn, source.schema, borrow=borrow, lend=lend), None
    if isinstance(source, list):
        statements, hints = source, None
    else:
        statements, hints = desired_statements_hints(source)
    with workspace_for(opts.workspace, target, target_conn) as ws:
        report = load_desired_sql(statements, ws, target_schema=target.schema)
        with connected(ws) as wconn:
            desired = introspect(wconn, ws.schema, borrow=borrow, lend=lend)
    refuse_dangling(desired, report)
    desired = restore_definers(restore_event_status(desired, report.event_status), report.definers)
    return replace(desired, name=target.schema), hints


def make_plan(
    target: Endpoint,
    source: str | Endpoint | list[Statement],
    opts: PlanOptions | None = None,
    *,
    later: contextlib.ExitStack | None = None,
    phases: Phases | None = None,
) -> Plan:
    """The verified plan that turns ``target`` into ``source``.

    With ``later``, dropping the verification workspace (a few hundred ms at
    10,000 tables) is waited for when ``later`` closes, so the caller's next
    steps overlap it; without, before this returns.  ``phases`` is told what
    each step (read, compare, verify) is doing.
    """
    opts = opts or PlanOptions()
    if not target.schema:
        raise UsageError(
            f"No schema given for the target {target.redacted()}.",
            "Add it to the URL (mysql://user@host/schema) or the environment.",
        )
    # Both models, the diff and the fingerprints are millions of acyclic
    # objects: the cyclic collector only slows them down (see gc_paused).
    with gc_paused(), allowing_empty(True) if opts.allow_empty else contextlib.nullcontext():
        try:
            return _make_plan(target, source, opts, later, phases)
        finally:
            if phases is not None:
                phases.done()


def _make_plan(
    target: Endpoint,
    source: str | Endpoint | list[Statement],
    opts: PlanOptions,
    later: contextlib.ExitStack | None,
    phases: Phases | None,
) -> Plan:
    t0 = time.perf_counter()
    threading.Thread(target=_import_engine, name="myshift-imports", daemon=True).start()
    # Both sides and the verification copy are mostly the same tables: the
    # desired side borrows the target's unchanged ones, the verification copy
    # the desired side's (see Twin), so each is read and modelled once.
    current_twin, desired_twin = Twin(), Twin()
    with contextlib.ExitStack() as stack:
        early: _EarlyCopy | None = None
        if opts.verify:
            early = stack.enter_context(_EarlyCopy(target, opts, current_twin))
        return _plan_with(
            target, source, opts, t0, current_twin, desired_twin, early, later, phases
        )


def _plan_with(
    target: Endpoint,
    source: str | Endpoint | list[Statement],
    opts: PlanOptions,
    t0: float,
    current_twin: Twin,
    desired_twin: Twin,
    early: _EarlyCopy | None,
    later: contextlib.ExitStack | None,
    phases: Phases | None,
) -> Plan:
    timings: dict[str, float] = {}
    phase(phases, "Reading the target schema and the desired one...")
    with connected(target) as tconn:
        flavor = tconn.flavor
        _require_schema(tconn, target)

        def _current() -> Schema:
            # Its own connection: the two sides are read at the same time
            # (most of introspection is waiting on the servers).
            with connected(target) as c:
                schema = introspect(c, target.schema, lend=current_twin)
            timings["introspect_target"] = time.perf_counter() - t0
            return schema

        with ThreadPoolExecutor(max_workers=1) as pool:
            current_f = pool.submit(_current)
            try:
                desired, file_hints = desired_from_source(
                    source, target, tconn, opts, borrow=current_twin, lend=desired_twin
                )
            except TwinUnavailable:
                current_f.result()  # the target side failed: its error is the one to show
                raise
            finally:
                desired_twin.close()
                current_twin.end_borrowing()
            timings["desired"] = time.perf_counter() - t0
            current = current_f.result()
        me = str(tconn.scalar("SELECT CURRENT_USER()")) if opts.definer == "current" else ""
    current, desired = for_mode(current, desired, opts.definer, me)
    from myshift.engine.renames import rename_suspects

    hints = _merge_hints(file_hints, opts.hints)
    phase(phases, "Comparing the two schemas...")
    t2 = time.perf_counter()
    changes, statements, reached = derive(
        current,
        desired,
        flavor,
        opts,
        hints=hints,
        skip_unsupported=opts.skip_unsupported,
        definers=opts.definer != "ignore",
    )
    timings["diff"] = time.perf_counter() - t2
    plan = Plan(
        target=target.redacted(),
        flavor=flavor,
        statements=statements,
        from_fingerprint="",
        to_fingerprint="",
        current=current,
        desired=desired,
        changes=changes,
        reached=reached,
        timings=timings,
        warnings=rename_suspects(current, desired),
    )

    _verify_and_fingerprint(plan, target, opts, desired_twin, early, later, phases, timings)
    timings["total"] = time.perf_counter() - t0
    return plan


def _verify_and_fingerprint(
    plan: Plan,
    target: Endpoint,
    opts: PlanOptions,
    twin: Twin,
    early: _EarlyCopy | None,
    later: contextlib.ExitStack | None,
    phases: Phases | None,
    timings: dict[str, float],
) -> None:
    """Verify ``plan`` when it changes anything, and set both fingerprints.

    The fingerprints are pure Python: computed while verification waits on
    the server, and while the server drops the verification workspace.
    """
    from myshift.model.serialize import fingerprint

    current, desired = plan.current, plan.desired

    def fingerprints() -> tuple[str, str]:
        cache: FingerprintCache = {}  # the two sides share most Table objects
        return fingerprint(current, cache), fingerprint(desired, cache)

    with contextlib.ExitStack() as own, ThreadPoolExecutor(max_workers=1) as pool:
        fingerprints_f = pool.submit(fingerprints)
        if opts.verify and plan.changes:
            n = len(plan.statements)
            phase(phases, f"Verifying the plan ({n} statement(s)) in a workspace...")
            t3 = time.perf_counter()
            prepared = early.take() if early is not None else None
            cleanup = later if later is not None else own
            verify_plan(plan, target, opts, later=cleanup, twin=twin, prepared=prepared)
            timings["verify"] = time.perf_counter() - t3
        plan.from_fingerprint, plan.to_fingerprint = fingerprints_f.result()


def _require_schema(conn: Conn, ep: Endpoint) -> None:
    if not schema_exists(conn, ep.schema):
        raise MyshiftError(
            f"Schema {ep.schema!r} does not exist on {ep.redacted()}.",
            f"Create it first (CREATE DATABASE {quote_ident(ep.schema)}) or fix the name.",
        )


# --------------------------------------------------------------------------- the command


@dataclass(frozen=True)
class PlanCommandOptions:
    """Everything ``myshift plan`` takes besides the target and the desired source."""

    plan: PlanOptions = field(default_factory=PlanOptions)
    output: str | None = None  # write the plan file here
    fmt: str = "sql"  # sql | human | json
    color: bool = False
    width: int = 80  # comment lines wrap to this (the terminal's width)
    runbook: str | None = None  # also write a Markdown runbook here
    runbook_lang: str = "en"  # ... in this language (`lang` in myshift.toml)
    # Resolved by the CLI (myshift.toml, MYSHIFT_PLAN_KEY): the team key that
    # signs the file written to ``output``, and the history the runbook reads.
    plan_key: PlanKey | None = None
    history_schema: str = DEFAULT_HISTORY_SCHEMA
    # Told what each slow step is doing (stderr: at once on a terminal, else after 2 s).
    phases: Phases | None = None
    # Tells the team when a plan file is written (workflows.notify; the CLI closes it).
    notify: Notify | None = None


def build_planfile(
    target: Endpoint,
    source: str | Endpoint | list[Statement],
    opts: PlanOptions,
    phases: Phases | None = None,
) -> PlanFile:
    """The verified plan, frozen into the plan file (``opts.keep_data`` marks what to keep)."""
    # The plan file's server queries overlap the drop of the verification workspace.
    with contextlib.ExitStack() as later:
        plan = make_plan(target, source, opts, later=later, phases=phases)
        return to_planfile(plan, target, opts)


def source_label(source: str | Endpoint | list[Statement]) -> str:
    """How the plan's header names the desired side."""
    if isinstance(source, Endpoint):
        return str(source)
    if isinstance(source, list):
        return "the given statements"
    return "stdin" if source == "-" else source


def plan(
    target: Endpoint, source: str | Endpoint | list[Statement], opts: PlanCommandOptions
) -> CommandResult:
    """``myshift plan``; keep-data is on by default for protected targets (Endpoint.protected)."""
    if opts.runbook and not opts.output:
        # The runbook's commands name the plan file to rehearse and apply: without
        # -o it would name a plan.json that may not exist, or be another plan.
        raise UsageError(
            f"--runbook {opts.runbook} needs the plan written too: its commands name the "
            "plan file to rehearse and apply.",
            "Add -o plan.json (then `myshift runbook --plan plan.json` can also write it "
            "again later).",
        )
    pf = build_planfile(
        target,
        source,
        replace(opts.plan, keep_data=opts.plan.keep_data or target.protected),
        opts.phases,
    )
    notice = ""
    if opts.output:
        key = opts.plan_key
        pf.write(opts.output, key=key.secret if key is not None else None)
        notice = f"Plan written to {opts.output} ({len(pf.runnable)} statement(s) to run)" + (
            ", signed with the team key." if key is not None else "."
        )
        if opts.notify is not None:
            from myshift.workflows.notify.events import plan_created

            opts.notify(plan_created(pf, opts.output))
    if opts.runbook:
        from myshift.workflows.runbook import write_runbook

        write_runbook(
            pf,
            target,
            opts.runbook,
            plan_path=opts.output,
            history_schema=opts.history_schema,
            lang=opts.runbook_lang,
        )
        notice += f"\nRunbook written to {opts.runbook}."
    if opts.fmt == "json":
        text = pf.to_json()
    elif opts.fmt == "human":
        text = format_human(pf, color=opts.color, desired=source_label(source), width=opts.width)
    else:
        text = format_sql(pf, desired=source_label(source), width=opts.width)
    refused = [s for s in pf.runnable if s.path == "refused"]
    if refused:
        notice += (
            f"\nWarning: apply would refuse {len(refused)} statement(s) that block writes on a "
            f"big table with no online path: {refused[0].subject}: {refused[0].path_reason}."
        )
    if opts.fmt != "human":
        # Piped output carries them as comments too; stderr still reaches the terminal.
        notice += "".join(f"\nWarning: {w}" for w in pf.warnings)
    failing = [p for s in pf.runnable for p in s.preflight if p.fails]
    if failing:
        notice += (
            f"\nWarning: {len(failing)} pre-flight check(s) fail on the target's current data "
            "(see the plan); apply would refuse."
        )
    return CommandResult(text=text, pending=bool(pf.runnable), notice=notice.strip())


__all__ = [
    "Plan",
    "PlanCommandOptions",
    "PlanOptions",
    "allowing_empty",
    "build_planfile",
    "desired_from_source",
    "make_plan",
    "plan",
]
