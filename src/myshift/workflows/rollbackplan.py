"""The reverse plan of an apply: from the target now back to its pre-apply snapshot.

``myshift rollback`` (workflows.rollback) shows and applies it; apply derives
it again from history before running a rollback plan file (workflows.plancheck).

History keeps, for every apply, the model of the target *before* it ran
(``ApplyDetail.snapshot()``) and, in its notes, the objects it changed
(``touched``).  A rollback of apply N:

1. refuses when a later apply changed one of those objects again (its own
   rollback would have to come first — undoing N over it would silently
   revert that later change too);
2. builds the desired schema as *the target now* with only the objects N
   touched put back as they were in the snapshot — later, unrelated changes
   stay;
3. restores held data instead of re-creating empty objects: tables N
   soft-dropped are renamed back (one step, before anything else, so the
   diff treats them as present), and column values N backed up are written
   back by key once the reverse DDL has re-added the columns (last steps);
4. refuses when the objects N touched were changed outside myshift since N
   ended (an index added by hand, a column widened): rolling back would take
   those changes back silently.  Each is named (workflows.outside compares
   the live objects with the state recorded right after N); with
   ``--take-back-outside-changes`` the rollback takes them back, and the plan
   names them;
5. is frozen into an ordinary plan file (``kind='rollback'``,
   ``undoes_apply_id=N``) with the same risk classes and pre-flight checks
   as ``plan``, and applied through the same path as ``apply`` (lock, drift,
   history), so it is itself an apply in history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from myshift.db.connect import Conn, Endpoint, connected
from myshift.db.connect import quote_ident as q
from myshift.engine.changes import Change, RenameTable
from myshift.engine.definers import for_mode
from myshift.engine.diff import DiffOptions, diff_schemas
from myshift.engine.introspect import introspect
from myshift.engine.risk import Algorithm, Lock, Risk
from myshift.errors import UnsafeError, UsageError
from myshift.model import Schema, Table
from myshift.model.serialize import fingerprint
from myshift.workflows.freeze import to_planfile
from myshift.workflows.history import ApplyRecord, History
from myshift.workflows.keepdata import (
    DEFAULT_HOLDING,
    HeldColumns,
    HeldTable,
    held_for_apply,
    restore_columns_sql,
)
from myshift.workflows.outside import check_outside, outside_changes
from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import (
    Derivation,
    Plan,
    PlannedStatement,
    PlanOptions,
    planned,
    with_fk_checks,
)
from myshift.workflows.verify import verify_plan

# Object kinds as recorded in history notes ("touched").
KINDS = ("table", "view", "routine", "trigger", "event")


class RollbackRefused(UnsafeError):
    """A rollback that would undo more (or other) than the apply it names."""


# --------------------------------------------------------------------------- touched objects


def _keys(change: Change) -> list[tuple[str, str]]:
    """(kind, name) of the objects one change alters."""
    kind = type(change).__name__
    if "Trigger" in kind:
        trig = getattr(change, "trigger", None) or getattr(change, "after", None)
        return [("trigger", trig.name if trig is not None else change.subject)]
    for word in ("View", "Routine", "Event"):
        if word in kind:
            return [(word.lower(), change.subject)]
    if isinstance(change, RenameTable):
        return [("table", change.old), ("table", change.new)]
    return [("table", change.subject)]


def touched_objects(before: Schema, after: Schema) -> dict[str, list[str]]:
    """The objects that differ between two models, by kind (JSON-ready, sorted)."""
    changes = diff_schemas(before, after, options=DiffOptions(skip_unsupported=True))
    out: dict[str, set[str]] = {}
    for ch in changes:
        for kind, name in _keys(ch):
            out.setdefault(kind, set()).add(name)
    return {k: sorted(v) for k, v in sorted(out.items())}


def _overlap(a: Mapping[str, Sequence[str]], b: Mapping[str, Sequence[str]]) -> list[str]:
    """'table `orders`'-style names present in both touched sets."""
    found = []
    for kind in KINDS:
        mine = {n.lower() for n in a.get(kind, ())}
        for name in b.get(kind, ()):
            if name.lower() in mine:
                found.append(f"{kind} `{name}`")
    return found


def restore_objects(
    current: Schema, snapshot: Schema, touched: Mapping[str, Sequence[str]]
) -> Schema:
    """``current`` with the touched objects as they are in ``snapshot`` (or absent)."""

    def swap(now: tuple[Any, ...], then: tuple[Any, ...], names: set[str]) -> tuple[Any, ...]:
        kept = [o for o in now if o.name.lower() not in names]
        back = [o for o in then if o.name.lower() in names]
        return tuple(sorted(kept + back, key=lambda o: o.name))

    def names(kind: str) -> set[str]:
        return {n.lower() for n in touched.get(kind, ())}

    tables = names("table")
    # Triggers live and die with their table: a restored table brings its own back.
    triggers = names("trigger") | {
        t.name.lower() for t in (*current.triggers, *snapshot.triggers) if t.table.lower() in tables
    }
    return replace(
        current,
        tables=swap(current.tables, snapshot.tables, tables),
        views=swap(current.views, snapshot.views, names("view")),
        routines=swap(current.routines, snapshot.routines, names("routine")),
        triggers=swap(current.triggers, snapshot.triggers, triggers),
        events=swap(current.events, snapshot.events, names("event")),
    )


# --------------------------------------------------------------------------- choosing the apply


@dataclass(frozen=True)
class RollbackTarget:
    record: ApplyRecord
    snapshot: Schema
    touched: dict[str, list[str]]


def _undone(records: Sequence[ApplyRecord]) -> set[int]:
    return {
        r.undoes_apply_id
        for r in records
        if r.kind == "rollback" and r.outcome == "ok" and r.undoes_apply_id is not None
    }


def _touched_of(
    history: History, rec: ApplyRecord, newer: Sequence[ApplyRecord], current: Schema
) -> dict[str, list[str]]:
    """What an apply changed: its notes, else its snapshot against the state after it."""
    noted = rec.notes.get("touched")
    if isinstance(noted, dict):
        return {str(k): [str(n) for n in v] for k, v in noted.items()}
    before = history.get_apply(rec.id).snapshot()
    if before is None:
        raise RollbackRefused(
            f"Apply #{rec.id} recorded neither what it changed nor a snapshot, so myshift "
            "cannot tell whether it overlaps.",
            "Roll back by hand, or make a plan from a known-good schema.",
        )
    after = current
    for r in sorted(newer, key=lambda r: r.id):
        if r.id > rec.id:
            snap = history.get_apply(r.id).snapshot()
            if snap is not None:
                after = snap
                break
    return touched_objects(before, replace(after, name=before.name))


def _may_have_changed(history: History, rec: ApplyRecord) -> bool:
    """Whether an apply or rollback may have changed the target.

    One that ended ok did.  One that failed, was interrupted or is still
    marked running did only if a statement completed, or one was in flight
    when the record stops (a failed statement changed nothing: the server
    refused it whole).
    """
    if rec.outcome == "ok" or rec.statements_ok > 0:
        return True
    if rec.statements_total == 0:
        return False
    return any(s.outcome == "running" for s in history.get_apply(rec.id).statements)


def _still_running(probe: Conn | None, schema: str, own_lock: int | None = None) -> str:
    """What of myshift still runs on ``schema`` on the server ('' when nothing).

    ``own_lock`` is the connection of this process that holds the schema lock
    (apply re-deriving a rollback plan under it), which is not "still running".
    """
    if probe is None:
        return "myshift could not check the server"
    from myshift.workflows.blockers import tagged_statements, thread_info
    from myshift.workflows.runner import lock_name

    holder = probe.scalar("SELECT IS_USED_LOCK(%s)", (lock_name(schema),))
    if holder is not None and int(holder) not in (probe.thread_id(), own_lock):
        who = thread_info(probe, int(holder))
        return f"connection {holder} holds its lock" + (f": {who.describe()}" if who else "")
    running = tagged_statements(probe, schema)
    return f"the server still runs its statement: {running[0].describe()}" if running else ""


def _unfinished(history: History, rec: ApplyRecord) -> str:
    """'interrupted at statement 3 of 5 (…), which may or may not have completed'."""
    detail = history.get_apply(rec.id)
    at = detail.stopped_at
    text = f"marked {rec.outcome}"
    if at is not None:
        text += f" at statement {at.seq} of {len(detail.statements)}"
        if at.outcome == "running":
            text += ", which may or may not have completed on the server"
    if rec.error:
        text += f" ({' '.join(rec.error.split())[:160]})"
    return text


def _pick_newest(history: History, records: Sequence[ApplyRecord], schema: str) -> int:
    """The newest apply not yet rolled back -- whatever its outcome -- or a refusal naming it."""
    undone = _undone(records)
    applies = [r for r in records if r.kind == "apply" and r.id not in undone]
    if not applies:
        raise UsageError(
            f"There is no apply of schema {schema!r} left to roll back in the history.",
            "Run `myshift history` to see what was applied.",
        )
    newest = applies[0]
    if newest.outcome in ("running", "interrupted"):
        raise UsageError(
            f"The newest apply of {schema!r}, #{newest.id}, is {_unfinished(history, newest)}; "
            "a rollback without an id will not pass over it.",
            f"Check the target (`myshift history {newest.id}`, `myshift drift`), then roll it "
            f"back with `myshift rollback {newest.id}` (it returns what it touched to its "
            "snapshot, from what actually ran).",
        )
    if not _may_have_changed(history, newest):
        earlier = next((r for r in applies[1:] if _may_have_changed(history, r)), None)
        raise UsageError(
            f"The newest apply of {schema!r}, #{newest.id}, failed before changing anything "
            f"({' '.join((newest.error or 'no statement ran').split())[:160]}); there is "
            "nothing of it to roll back.",
            (
                f"To roll back the apply before it, name it: `myshift rollback {earlier.id}`."
                if earlier is not None
                else "Run `myshift history` to see what was applied."
            ),
        )
    return newest.id


def choose_apply(
    history: History,
    schema: str,
    apply_id: int | None,
    current: Schema,
    probe: Conn | None = None,
    own_lock: int | None = None,
) -> RollbackTarget:
    """The apply to undo (default: the newest one not yet rolled back), checked for overlap.

    ``probe``, a connection to the target, tells whether an unfinished apply
    still runs there (``own_lock``: see ``_still_running``).
    """
    records = history.list_applies(schema, limit=10_000)
    undone = _undone(records)
    if apply_id is None:
        apply_id = _pick_newest(history, records, schema)
    detail = history.get_apply(apply_id)
    rec = detail.record
    if rec.target_schema != schema:
        raise UsageError(
            f"Apply #{apply_id} was made to schema {rec.target_schema!r}, not {schema!r}.",
            f"Roll it back with --to pointing at schema {rec.target_schema!r}.",
        )
    if rec.kind == "rehearsal":
        raise UsageError(
            f"#{apply_id} is a rehearsal, which ran on a throwaway copy; there is nothing to roll "
            "back.",
            "Run `myshift history` and pick an apply.",
        )
    if rec.kind == "rollback" and rec.outcome != "ok" and rec.undoes_apply_id is not None:
        n = rec.undoes_apply_id
        ran = (
            f"it completed {rec.statements_ok} statement(s)"
            if _may_have_changed(history, rec)
            else "it changed nothing"
        )
        raise UsageError(
            f"#{apply_id} is an unfinished rollback of apply #{n} ({rec.outcome}; {ran}); "
            f"rolling it back would redo apply #{n}.",
            f"Finish undoing apply #{n} with `myshift rollback {n}`.",
        )
    if rec.outcome in ("running", "interrupted"):
        live = _still_running(probe, schema, own_lock)
        if live:
            raise UsageError(
                f"Apply #{apply_id} is still marked {rec.outcome} and {live}.",
                "Wait for it to finish (or stop it with KILL), check the target and "
                f"`myshift history {apply_id}`, then roll it back.",
            )
    if apply_id in undone:
        by = next(r.id for r in records if r.undoes_apply_id == apply_id and r.outcome == "ok")
        raise UsageError(
            f"Apply #{apply_id} was already rolled back by #{by}.",
            "Run `myshift history` to see what is left to roll back.",
        )
    snapshot = detail.snapshot()
    if snapshot is None:
        raise UsageError(
            f"Apply #{apply_id} recorded no snapshot of the schema before it ran, so there is "
            "nothing to roll back to.",
            "Make a plan from a known-good schema instead.",
        )
    _refuse_overlap(history, rec, records, current)
    return RollbackTarget(rec, snapshot, _touched_of(history, rec, records, current))


def _refuse_overlap(
    history: History, rec: ApplyRecord, records: Sequence[ApplyRecord], current: Schema
) -> None:
    """Refuse when a later apply that changed something changed what ``rec`` touched.

    Later records that changed nothing (refused, failed on their first
    statement) do not count, nor do unfinished rollbacks of ``rec`` itself:
    rolling ``rec`` back again starts from the target as they left it.
    """
    later = [
        r
        for r in records
        if r.id > rec.id
        and r.kind != "rehearsal"
        and not (r.kind == "rollback" and r.undoes_apply_id == rec.id and r.outcome != "ok")
        and _may_have_changed(history, r)
    ]
    # An apply undone by a later rollback nets out with it.
    later_undone = _undone(later)
    effective = [
        r
        for r in later
        if r.id not in later_undone
        and not (r.kind == "rollback" and r.undoes_apply_id in later_undone)
    ]
    touched = _touched_of(history, rec, records, current)
    for r in sorted(effective, key=lambda r: -r.id):
        both = _overlap(touched, _touched_of(history, r, records, current))
        if both:
            raise RollbackRefused(
                f"Apply #{rec.id} cannot be rolled back: {', '.join(both)} "
                f"{'was' if len(both) == 1 else 'were'} changed again by {r.kind} #{r.id} "
                f"({r.started_at:%Y-%m-%d %H:%M} UTC, by {r.operator_user}@{r.operator_host}).",
                f"Roll back #{r.id} first (`myshift rollback {r.id} --to ...`), then #{rec.id}.",
            )


# --------------------------------------------------------------------------- outside changes


def _partly_rolled_back(history: History, schema: str, apply_id: int) -> bool:
    """Whether an unfinished rollback of ``apply_id`` may have put some objects back."""
    return any(
        r.kind == "rollback"
        and r.undoes_apply_id == apply_id
        and r.outcome != "ok"
        and _may_have_changed(history, r)
        for r in history.list_applies(schema, limit=10_000)
    )


# --------------------------------------------------------------------------- the plan


def _restore_table_step(held: Sequence[HeldTable], schema: str, apply_id: int) -> PlannedStatement:
    renames = ", ".join(
        f"{q(h.holding)}.{q(h.held_name)} TO {q(schema)}.{q(h.table)}" for h in held
    )
    extras = sum(len(h.foreign_keys) for h in held), sum(len(h.triggers) for h in held)
    what = ", ".join(f"{h.table} ({h.row_count:,} rows)" for h in held)
    return PlannedStatement(
        sql=f"RENAME TABLE {renames}",
        subject=", ".join(h.table for h in held),
        description=f"restore table(s) {what} kept by apply #{apply_id}",
        risk=Risk.SAFE,
        algorithm=Algorithm.INSTANT,
        lock=Lock.EXCLUSIVE,
        reason=(
            "renames the held tables back with all their rows"
            + (f"; re-adds {extras[0]} foreign key(s)" if extras[0] else "")
            + (f"; re-creates {extras[1]} trigger(s)" if extras[1] else "")
        ),
        restore_held=tuple(h.held_name for h in held),
    )


def _restore_columns_step(held: HeldColumns, schema: str, apply_id: int) -> PlannedStatement:
    return PlannedStatement(
        sql=restore_columns_sql(held, schema),
        subject=held.table,
        description=(
            f"restore the values of {', '.join(held.column_names) or 'no stored column'} of "
            f"{held.table} ({held.row_count:,} rows kept by apply #{apply_id})"
        ),
        risk=Risk.SAFE,
        algorithm=Algorithm.INSTANT,
        lock=Lock.NONE,
        reason=(
            "writes the kept values back by key, verified by checksum; rows inserted since the "
            "apply keep the column default"
        ),
        restore_held=(held.held_name,),
    )


def _as_held(snapshot_table: Table, held: HeldTable) -> Table:
    """The snapshot's table as it will be once renamed back: only the foreign keys
    it still had when it was moved (the apply may have dropped some first)."""
    names = {fk.name for fk in held.foreign_keys}
    return replace(
        snapshot_table,
        foreign_keys=tuple(fk for fk in snapshot_table.foreign_keys if fk.name in names),
    )


def _restorable(
    held: Sequence[HeldTable | HeldColumns],
    current: Schema,
    desired: Schema,
    holding: str,
    warnings: list[str],
) -> tuple[list[HeldTable], list[HeldColumns]]:
    """The held tables to rename back and the held columns to write back (a held
    table whose name exists again stays in the trash, with a warning)."""
    now_tables = {t.name.lower() for t in current.tables}
    wanted = {t.name.lower(): t for t in desired.tables}
    tables_back: list[HeldTable] = []
    columns_back: list[HeldColumns] = []
    for h in held:
        if isinstance(h, HeldTable):
            if h.table.lower() in wanted and h.table.lower() not in now_tables:
                tables_back.append(h)
            else:
                warnings.append(
                    f"table {h.table} kept as {holding}.{h.held_name} is not restored "
                    "(a table of that name exists again); it stays in the trash"
                )
        elif h.table.lower() in wanted:
            have = {c.name.lower() for c in wanted[h.table.lower()].columns}
            if all(c.lower() in have for c in h.column_names):
                columns_back.append(h)
    return tables_back, columns_back


def _after_renames(current: Schema, snapshot: Schema, tables_back: Sequence[HeldTable]) -> Schema:
    """The target as it will be once the held tables are renamed back (with their
    foreign keys and triggers as they were moved)."""
    snap_tables = {t.name.lower(): t for t in snapshot.tables}
    held_names = {h.table.lower() for h in tables_back}
    restored = [_as_held(snap_tables[h.table.lower()], h) for h in tables_back]
    held_triggers = {t.name for h in tables_back for t in h.triggers}
    return replace(
        current,
        tables=tuple(sorted((*current.tables, *restored), key=lambda t: t.name)),
        triggers=current.triggers
        + tuple(
            t
            for t in snapshot.triggers
            if t.table.lower() in held_names and t.name in held_triggers
        ),
    )


def build_rollback_planfile(
    target: Endpoint,
    apply_id: int | None = None,
    *,
    history_schema: str = "_myshift",
    holding: str = DEFAULT_HOLDING,
    keep_data: bool = False,
    verify: bool = True,
    workspace: str = "temp",
    own_lock: int | None = None,
    take_back_outside: bool = False,
    reviewed_outside: Sequence[str] = (),
) -> PlanFile:
    """The reverse plan of one apply, as a plan file ``apply`` can run.

    ``own_lock``: the connection id through which the caller already holds the
    schema lock (apply re-deriving this plan), not a sign of a live apply.
    ``take_back_outside`` / ``reviewed_outside``: see ``check_outside``.
    """
    if not target.schema:
        raise UsageError(
            f"No schema given for the target {target.redacted()}.",
            "Add it to the URL (mysql://user@host/schema) or the environment.",
        )
    with connected(target) as conn, connected(target, schema="") as hconn:
        flavor = conn.flavor
        current = introspect(conn, target.schema)
        history = History(hconn, schema=history_schema, audit_path=None)
        chosen = choose_apply(
            history, target.schema, apply_id, current, probe=conn, own_lock=own_lock
        )
        undo_id = chosen.record.id
        snapshot = replace(chosen.snapshot, name=current.name)
        desired = restore_objects(current, snapshot, chosen.touched)
        held = held_for_apply(conn, undo_id, holding=holding)
        after = history.after_snapshot(undo_id)
        partly = after is not None and _partly_rolled_back(history, target.schema, undo_id)

    warnings: list[str] = []
    if after is None:
        warnings.append(
            f"apply #{undo_id} recorded no state of its objects after it (it did not end well, "
            "or an older myshift made it): changes made to them outside myshift since cannot be "
            "told apart, and this rollback takes them back too"
        )
        taken_back: tuple[str, ...] = ()
    else:
        taken_back = check_outside(
            undo_id,
            outside_changes(after, current, chosen.touched, snapshot if partly else None),
            take_back_outside,
            reviewed_outside,
        )
    warnings += [f"takes back a change made outside myshift: {o}" for o in taken_back]
    tables_back, columns_back = _restorable(held, current, desired, holding, warnings)
    # The diff runs from the target as it will be after the renames back.
    after_renames = _after_renames(current, snapshot, tables_back)
    # A rollback re-creates objects as the applying user (definer = "ignore"):
    # restoring each snapshot's DEFINER would need SET USER for every undo.
    after_renames, desired = for_mode(after_renames, desired, "ignore", "")
    changes = diff_schemas(
        after_renames,
        desired,
        options=DiffOptions(skip_unsupported=True, or_replace=flavor.is_mariadb),
    )
    opts = PlanOptions(
        allow_drop=True, verify=verify, workspace=workspace, keep_data=keep_data, definer="ignore"
    )
    # An FK to a table the snapshot lacks comes back as it was (engine.dangling).
    statements = with_fk_checks(changes, planned(changes, flavor, opts), desired, flavor)
    plan = Plan(
        target=target.redacted(),
        flavor=flavor,
        statements=statements,
        from_fingerprint=fingerprint(current),
        to_fingerprint=fingerprint(desired),
        current=after_renames,
        desired=desired,
        changes=changes,
    )
    if verify and changes:
        verify_plan(plan, target, opts)
    pf = to_planfile(plan, target, opts)
    steps = [_restore_table_step(tables_back, target.schema, undo_id)] if tables_back else []
    steps += pf.statements
    steps += [_restore_columns_step(h, target.schema, undo_id) for h in columns_back]
    for st in pf.statements:
        if st.risk is Risk.DESTRUCTIVE and not (st.keep_table or st.keep_columns):
            warnings.append(
                f"{st.subject}: {st.description} loses data written since apply #{undo_id}"
                + ("" if keep_data else " (use --keep-data to keep it)")
            )
    pf.statements = steps
    pf.current = current
    pf.kind = "rollback"
    pf.undoes_apply_id = undo_id
    if taken_back:
        pf.derivation = replace(pf.derivation or Derivation(keep_data), take_back=taken_back)
    pf.warnings = [*pf.warnings, *warnings]
    return pf


__all__ = [
    "KINDS",
    "RollbackRefused",
    "RollbackTarget",
    "build_rollback_planfile",
    "choose_apply",
    "restore_objects",
    "touched_objects",
]
