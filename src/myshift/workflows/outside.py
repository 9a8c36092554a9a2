"""Changes made outside myshift to the objects an apply touched (issue 12, class 13).

A rollback puts the objects an apply touched back as they were before it.
Whatever was done to those objects by hand after the apply (an index added, a
column widened) would be undone with them, silently.  So every apply that
ends well records those objects as they are right after it
(``History.record_after``), and the rollback compares them with the live
schema: each difference is an outside change, named, and the rollback is
refused unless the operator says to take them back too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from myshift.engine.diff import DiffOptions, diff_schemas
from myshift.errors import UnsafeError
from myshift.model import Schema


class OutsideChanges(UnsafeError):
    """A rollback that would silently take back changes made outside myshift."""


def _names(touched: Mapping[str, Sequence[str]], kind: str) -> set[str]:
    return {n.lower() for n in touched.get(kind, ())}


def touched_part(schema: Schema, touched: Mapping[str, Sequence[str]]) -> Schema:
    """``schema`` with only the touched objects (and the triggers of touched tables:
    a rollback restores those with their table, see rollbackplan.restore_objects)."""
    tables = _names(touched, "table")

    def keep(objs: tuple[Any, ...], kind: str) -> tuple[Any, ...]:
        names = _names(touched, kind)
        return tuple(o for o in objs if o.name.lower() in names)

    triggers = tuple(
        t
        for t in schema.triggers
        if t.name.lower() in _names(touched, "trigger") or t.table.lower() in tables
    )
    return replace(
        schema,
        tables=keep(schema.tables, "table"),
        views=keep(schema.views, "view"),
        routines=keep(schema.routines, "routine"),
        triggers=triggers,
        events=keep(schema.events, "event"),
    )


def _objects(schema: Schema) -> dict[tuple[str, str], Any]:
    """Every object by (kind, lower-case name), indexes and constraints in name order."""
    c = schema.canonical()
    groups = (
        ("table", c.tables),
        ("view", c.views),
        ("routine", c.routines),
        ("trigger", c.triggers),
        ("event", c.events),
    )
    return {(kind, o.name.lower()): o for kind, objs in groups for o in objs}


def _only(schema: Schema, keys: set[tuple[str, str]]) -> Schema:
    def keep(kind: str, objs: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(o for o in objs if (kind, o.name.lower()) in keys)

    return replace(
        schema,
        tables=keep("table", schema.tables),
        views=keep("view", schema.views),
        routines=keep("routine", schema.routines),
        triggers=keep("trigger", schema.triggers),
        events=keep("event", schema.events),
    )


def outside_changes(
    after: Schema,
    current: Schema,
    touched: Mapping[str, Sequence[str]],
    before: Schema | None = None,
) -> list[str]:
    """What was done to the touched objects since ``after`` was recorded, one line each
    (``table `t`: add index ix``), in the diff's order; [] when nothing was.

    ``before``: the apply's snapshot, when a rollback of it stopped part way: an
    object as it was before the apply was put back by that rollback, not by hand.
    """
    then = _objects(touched_part(after, touched))
    now = _objects(touched_part(current, touched))
    back = _objects(touched_part(before, touched)) if before is not None else None
    differ = {
        key
        for key in then.keys() | now.keys()
        if now.get(key) != then.get(key) and (back is None or now.get(key) != back.get(key))
    }
    if not differ:
        return []
    lines: list[str] = []
    changes = diff_schemas(
        _only(after, differ),
        _only(replace(current, name=after.name), differ),
        options=DiffOptions(skip_unsupported=True),
    )
    for ch in changes:
        clauses = getattr(ch, "clauses", None)
        if clauses:
            lines += [f"table `{ch.subject}`: {c.describe()}" for c in clauses]
        else:
            lines.append(ch.describe())
    return lines


def check_outside(
    apply_id: int,
    outside: Sequence[str],
    take_back: bool,
    reviewed: Sequence[str],
) -> tuple[str, ...]:
    """The outside changes this rollback takes back, or a refusal naming them.

    ``take_back``: the operator said to take them all back.  ``reviewed``: the
    ones a rollback plan file was made to take back (apply re-deriving it): a
    change that is not among them appeared after that plan was reviewed.
    """
    if not outside:
        return ()
    if take_back:
        return tuple(outside)
    new = [o for o in outside if o not in set(reviewed)]
    if not new:
        return tuple(outside)
    listed = "; ".join(new)
    if reviewed:
        raise OutsideChanges(
            f"Since the rollback plan of apply #{apply_id} was made, its objects were changed "
            f"outside myshift again: {listed}.",
            f"Make a new rollback plan (`myshift rollback {apply_id} --plan-only -o FILE`) "
            "and review it.",
        )
    raise OutsideChanges(
        f"Apply #{apply_id} cannot be rolled back as it stands: since it ran, the objects it "
        f"touched were changed outside myshift, and the rollback would silently take "
        f"{'this change' if len(new) == 1 else f'these {len(new)} changes'} back: {listed}.",
        "Keep them by adding them to your schema files and applying those instead of rolling "
        f"back; or undo them with the rollback: `myshift rollback {apply_id} "
        "--take-back-outside-changes`.",
    )


def outside_taken_back(
    undo_id: int,
    after: Schema | None,
    current: Schema,
    touched: Mapping[str, Sequence[str]],
    partly_from: Schema | None,
    take_back_outside: bool,
    reviewed_outside: Sequence[str],
    warnings: list[str],
) -> tuple[str, ...]:
    """The changes made outside myshift that this rollback takes back (refusing
    unless told, see ``check_outside``); a warning when they cannot be told apart."""
    if after is None:
        warnings.append(
            f"apply #{undo_id} recorded no state of its objects after it (it did not end well, "
            "or an older myshift made it): changes made to them outside myshift since cannot be "
            "told apart, and this rollback takes them back too"
        )
        return ()
    return check_outside(
        undo_id,
        outside_changes(after, current, touched, partly_from),
        take_back_outside,
        reviewed_outside,
    )


__all__ = [
    "OutsideChanges",
    "check_outside",
    "outside_changes",
    "outside_taken_back",
    "touched_part",
]
