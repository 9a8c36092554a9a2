"""Which apply a rollback undoes, and what that apply touched.

A bare ``rollback`` takes the newest apply whatever its outcome; one whose
objects a later change touched, or that is still running, is refused with the
reason (workflows.rollbackplan builds the reverse plan from the choice).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from myshift.db.connect import Conn
from myshift.engine.changes import Change, RenameTable
from myshift.engine.diff import DiffOptions, diff_schemas
from myshift.errors import UnsafeError, UsageError
from myshift.model import Schema
from myshift.workflows.history import ApplyRecord, History

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


def partly_rolled_back(history: History, schema: str, apply_id: int) -> bool:
    """Whether an unfinished rollback of ``apply_id`` may have put some objects back."""
    return any(
        r.kind == "rollback"
        and r.undoes_apply_id == apply_id
        and r.outcome != "ok"
        and _may_have_changed(history, r)
        for r in history.list_applies(schema, limit=10_000)
    )


# --------------------------------------------------------------------------- the plan


__all__ = [
    "KINDS",
    "RollbackRefused",
    "RollbackTarget",
    "choose_apply",
    "partly_rolled_back",
    "restore_objects",
    "touched_objects",
]
