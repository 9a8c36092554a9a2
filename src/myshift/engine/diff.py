"""Compare two schemas and produce the ordered list of changes from one to the other.

``diff_schemas(current, desired)`` is pure (no server, no flavor: rendering is
where flavors differ). The order of the result is the contract; the phases are
listed in ``diff_schemas`` with the reason for each. What one table needs
(columns, indexes, CHECKs, options, partitioning) is ``diff_table`` in
``engine/changes/table_diff.py``; foreign keys and the order are decided here.

Equality is the model's ``==`` (DEFINER, sql_mode, AUTO_INCREMENT counters and
the server's CREATE text are ``compare=False`` there), plus the DEFINER where
``DiffOptions.definers`` says so (engine.definers).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from myshift.engine.changes import (
    STANDALONE_PARTITION_CLAUSES,
    AddForeignKey,
    AlterEvent,
    AlterTable,
    AlterView,
    Change,
    Clause,
    CreateEvent,
    CreateRoutine,
    CreateTable,
    CreateTrigger,
    CreateView,
    DropEvent,
    DropForeignKey,
    DropRoutine,
    DropTable,
    DropTrigger,
    DropView,
    RenameTable,
    ReplaceRoutine,
    ReplaceTrigger,
)
from myshift.engine.changes.table_diff import diff_table
from myshift.engine.definers import same
from myshift.engine.depends import names_in_definition, toposort, view_deps
from myshift.engine.diff_fks import foreign_key_changes
from myshift.engine.diff_triggers import TriggerPlan, trigger_changes
from myshift.engine.pairing import Paired, Pairing, column_renames, diff_pair, pair_tables
from myshift.errors import UnsupportedError
from myshift.model.schema import ForeignKey, Schema, Table

if TYPE_CHECKING:
    from myshift.engine.split import RenameHints

__all__ = [
    "DiffOptions",
    "GipkWarning",
    "UnsupportedTableWarning",
    "diff_schemas",
    "diff_table",
    "names_in_definition",
    "reverse_changes",
    "toposort",
    "view_deps",
]


@dataclass(frozen=True)
class DiffOptions:
    """Switches of diff_schemas (which unsupported tables to skip...)."""

    # Leave tables the model cannot describe exactly out of the diff (with an
    # UnsupportedTableWarning) instead of refusing to diff at all.
    skip_unsupported: bool = False
    # The server has CREATE OR REPLACE TRIGGER / PROCEDURE / FUNCTION
    # (MariaDB): a changed body is one statement. Without it (MySQL) the drop
    # and the create are emitted adjacent, so the object is missing for one
    # statement only. Pass ``flavor.is_mariadb``.
    or_replace: bool = False
    # Compare DEFINER where the desired object states one (engine.definers);
    # the model's == never looks at it.
    definers: bool = False
    # A RANGE partition removed before a kept one is merged into it
    # (REORGANIZE, rows kept) instead of dropped (DROP PARTITION deletes its
    # rows): a rollback undoing a split must not lose the rows split off.
    merge_ranges: bool = False


class UnsupportedTableWarning(UserWarning):
    """Emitted for each table left out because of ``DiffOptions.skip_unsupported``."""


class GipkWarning(UserWarning):
    """Tables with a generated invisible primary key on one side only: nothing is planned."""


def _note_gipk_differences(current: Schema, desired: Schema) -> None:
    """A GIPK (MySQL 8.0.30+ ``my_row_id``, Table.gipk) on one side only is left alone.

    The server adds it itself where sql_generate_invisible_primary_key=ON; a
    DROP/ADD of the key would rebuild the table for nothing (and dropping it
    needs the variable OFF).  Said once, naming the tables.
    """
    cur = current.table_map
    names = [t.name for t in desired.tables if t.name in cur and cur[t.name].gipk != t.gipk]
    if names:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        warnings.warn(
            f"Generated invisible primary key (my_row_id) on one side only, left as it is: "
            f"{shown}.",
            GipkWarning,
            3,
        )


# ---------------------------------------------------------------------------
# Helpers


def _no_fks(t: Table) -> Table:
    return replace(t, foreign_keys=())


def reverse_changes(changes: Sequence[Change]) -> list[Change]:
    """The plan that undoes ``changes``: each change reversed, in reverse order."""
    return [c.reverse() for c in reversed(changes)]


# ---------------------------------------------------------------------------
# Whole schema


def _check_unsupported(
    current: Schema, desired: Schema, options: DiffOptions
) -> tuple[Schema, Schema]:
    bad = {t.name: t.unsupported for t in current.unsupported_tables}
    bad.update({t.name: t.unsupported for t in desired.unsupported_tables})
    if not bad:
        return current, desired
    listing = "; ".join(f"`{name}` ({why})" for name, why in sorted(bad.items()))
    if not options.skip_unsupported:
        raise UnsupportedError(
            f"Cannot diff table(s) the model cannot describe exactly: {listing}.",
            "Simplify those tables' definitions, or re-run with --skip-unsupported "
            "to leave them out of the plan.",
        )
    warnings.warn(f"Leaving out unsupported table(s): {listing}.", UnsupportedTableWarning, 3)

    def keep(s: Schema) -> Schema:
        return replace(s, tables=tuple(t for t in s.tables if t.name not in bad))

    return keep(current), keep(desired)


def diff_schemas(
    current: Schema,
    desired: Schema,
    *,
    hints: RenameHints | None = None,
    options: DiffOptions | None = None,
) -> list[Change]:
    """The ordered changes that turn ``current`` into ``desired``.

    Phases, in order, and why:

    1. Drop triggers, events, views and routines that go away (views
       dependants-first), and trigger groups whose names or order change.
       A trigger or routine whose body changes is NOT dropped here: it is
       replaced in place in phase 9/10 (CREATE OR REPLACE on MariaDB, DROP
       immediately followed by CREATE on MySQL), so nothing runs without it
       while the tables change.
    2. Drop foreign keys that go away or change, and those that would block
       this plan: over a column whose definition changes, over an index that
       goes away, pointing at a referenced column that changes. They are
       re-added in phase 7.
    3. Rename tables (a new table may take a renamed table's old name).
    4. Drop tables, children before parents (FK cycles among dropped tables
       had their FKs dropped in phase 2).
    5. Alter tables: one ALTER TABLE per table, FKs excluded. A changed
       trigger whose current body names a column this plan drops or renames
       is dropped right before the first such ALTER (it would fail every
       write after it), and re-created in phase 10.
    6. Create tables, referenced tables first. After the ALTERs, so an FK of a
       new table may point at a column or index those ALTERs add. FKs among
       new tables that form a cycle are left out and added in phase 7.
    7. Add foreign keys (new, changed, temporarily dropped, deferred by cycles),
       with foreign_key_checks=0 where the orphan pre-flight covers them.
    8. Create / replace routines.  Before the views: the server validates
       what a view names (tables, views, stored functions) at CREATE VIEW,
       but never a routine's body at CREATE, so routines first is a
       dependency order for every schema, calls in any spelling included.
    9. Create / replace views, dependencies first (derived from the desired
       definitions).
    10. Create / replace triggers (their tables exist now), in ACTION_ORDER;
        on MySQL a changed one is dropped and created under LOCK TABLES.
    11. Create / alter events last (they may call anything above).

    Everything the phases need to know (which table becomes which, each
    table's clauses, which foreign keys go and come back, the orders) is
    worked out first, by ``_prepare``; each phase then only emits.
    """
    options = options or DiffOptions()
    current, desired = _check_unsupported(current, desired, options)
    _note_gipk_differences(current, desired)
    work = _prepare(current, desired, hints, options)
    phases = (
        _drop_objects,  # 1
        _drop_foreign_keys,  # 2
        _rename_tables,  # 3
        _drop_tables,  # 4
        _alter_tables,  # 5
        _create_tables,  # 6
        _add_foreign_keys,  # 7
        _create_routines,  # 8
        _create_views,  # 9
        _create_triggers,  # 10
        _create_events,  # 11
    )
    return [change for phase in phases for change in phase(work)]


# ---------------------------------------------------------------------------
# Before the phases: pairing and per-table diffs (engine.pairing), foreign keys, orders


@dataclass(frozen=True)
class _Work:
    """What the phases of diff_schemas read; worked out before any change is emitted."""

    current: Schema
    desired: Schema
    pairing: Pairing
    paired: dict[str, Paired]  # by desired table name
    fk_drops: dict[str, list[ForeignKey]]  # current table name -> FKs dropped in phase 2
    fk_adds: dict[str, list[ForeignKey]]  # desired table name -> FKs added in phase 7
    drop_order: list[str]  # dropped tables, children before parents
    create_order: list[str]  # created tables, referenced tables first
    deferred: dict[str, list[ForeignKey]]  # created tables' FKs closing a cycle (phase 7)
    or_replace: bool  # DiffOptions.or_replace
    definers: bool  # DiffOptions.definers
    triggers: TriggerPlan


def _prepare(
    current: Schema, desired: Schema, hints: RenameHints | None, options: DiffOptions
) -> _Work:
    """Pair the tables, diff each pair, then settle foreign keys, orders and triggers."""
    pairing = pair_tables(current, desired, hints)
    paired = {
        des.name: diff_pair(cur, des, column_renames(cur, des, hints), options.merge_ranges)
        for cur, des in pairing.pairs
    }
    fk_drops, fk_adds = foreign_key_changes(pairing, paired)
    drop_order = _drop_order(pairing.dropped, fk_drops)
    create_order, deferred = _create_order(pairing.created)
    triggers = trigger_changes(
        current, desired, pairing.new_of, _gone_columns(paired), options.definers
    )
    return _Work(
        current,
        desired,
        pairing,
        paired,
        fk_drops,
        fk_adds,
        drop_order,
        create_order,
        deferred,
        options.or_replace,
        options.definers,
        triggers,
    )


def _drop_order(dropped: list[Table], fk_drops: dict[str, list[ForeignKey]]) -> list[str]:
    """Dropped tables, children before parents.

    A parent "depends" on the dropped tables that reference it. An FK
    closing a cycle among them goes into ``fk_drops`` (dropped in phase 2).
    """
    drop_order, drop_cycles = toposort(
        [t.name for t in dropped],
        {
            t.name: {
                child.name
                for child in dropped
                if any(
                    fk.ref_table == t.name and fk.ref_schema is None for fk in child.foreign_keys
                )
            }
            for t in dropped
        },
    )
    dropped_map = {t.name: t for t in dropped}
    for parent, child in drop_cycles:
        for fk in dropped_map[child].foreign_keys:
            if fk.ref_table == parent and fk.ref_schema is None:
                fk_drops.setdefault(child, []).append(fk)
    return drop_order


def _create_order(created: list[Table]) -> tuple[list[str], dict[str, list[ForeignKey]]]:
    """New tables, referenced first; FKs on cycle edges, deferred to ALTER ADD FKs."""
    create_order, create_cycles = toposort(
        [t.name for t in created],
        {t.name: {fk.ref_table for fk in t.foreign_keys if fk.ref_schema is None} for t in created},
    )
    created_map = {t.name: t for t in created}
    deferred: dict[str, list[ForeignKey]] = {}
    for child, parent in create_cycles:
        for fk in created_map[child].foreign_keys:
            if fk.ref_table == parent and fk.ref_schema is None:
                deferred.setdefault(child, []).append(fk)
    return create_order, deferred


def _gone_columns(paired: Mapping[str, Paired]) -> dict[str, set[str]]:
    """Desired table name -> its current columns the plan drops or renames."""
    out: dict[str, set[str]] = {}
    for name, p in paired.items():
        gone = set(p.current.column_map) - set(p.desired.column_map)
        if gone:
            out[name] = gone
    return out


# ---------------------------------------------------------------------------
# The phases, in diff_schemas' order


def _drop_objects(w: _Work) -> list[Change]:
    """Phase 1: triggers, events, views and routines that go away or change."""
    current, desired = w.current, w.desired
    changes: list[Change] = [DropTrigger(t) for t in w.triggers.drops]
    des_events = desired.event_map
    changes += [DropEvent(e) for e in current.events if e.name not in des_events]
    cur_views, des_views = current.view_map, desired.view_map
    gone = [v.name for v in current.views if v.name not in des_views]
    order, _ = toposort(gone, view_deps(current.views))
    changes += [DropView(cur_views[n]) for n in reversed(order)]
    des_routines = desired.routine_map
    changes += [DropRoutine(r) for r in current.routines if r.key not in des_routines]
    return changes


def _drop_foreign_keys(w: _Work) -> list[Change]:
    """Phase 2."""
    return [
        AlterTable(cur.name, tuple(DropForeignKey(fk) for fk in fks))
        for cur in w.current.tables
        if (fks := w.fk_drops.get(cur.name))
    ]


def _rename_tables(w: _Work) -> list[Change]:
    """Phase 3."""
    return [RenameTable(old, new) for new, old in w.pairing.renames.items()]


def _drop_tables(w: _Work) -> list[Change]:
    """Phase 4.

    Each DropTable carries the table as it is at that point (without the
    FKs phase 2 dropped), so its reverse re-creates it in a valid order.
    """
    cur_tables = w.current.table_map
    changes: list[Change] = []
    for n in w.drop_order:
        t = cur_tables[n]
        gone_fks = w.fk_drops.get(n, [])
        kept_fks = tuple(f for f in t.foreign_keys if f not in gone_fks)
        changes.append(DropTable(replace(t, foreign_keys=kept_fks)))
    return changes


def _referenced_columns(w: _Work) -> dict[str, set[str]]:
    """Current table name -> its columns that foreign keys still point at during phase 5
    (those phase 2 drops aside): MySQL renames such a column in place, never instantly
    (ok_to_rename_column(), handler0alter.cc lines 774-805 of 8.0.41)."""
    out: dict[str, set[str]] = {}
    for t in w.current.tables:
        dropped = w.fk_drops.get(t.name, [])
        for fk in t.foreign_keys:
            if fk.ref_schema is None and fk not in dropped:
                out.setdefault(fk.ref_table, set()).update(fk.ref_columns)
    return out


def _alter_tables(w: _Work) -> list[Change]:
    """Phase 5: one ALTER TABLE per changed table, FKs excluded."""
    changes: list[Change] = []
    referenced = _referenced_columns(w) if any(p.diff.clauses for p in w.paired.values()) else {}
    for des in w.desired.tables:
        p = w.paired.get(des.name)
        if p is not None and p.diff.clauses:
            changes += [DropTrigger(t) for t in w.triggers.late_drops.get(des.name, [])]
            before = replace(_no_fks(p.current), name=des.name)
            pointed = frozenset(referenced.get(p.current.name, ()))
            changes += _alter_table(des.name, p.diff.clauses, before, _no_fks(des), pointed)
    return changes


def _alter_table(
    name: str, clauses: tuple[Clause, ...], before: Table, after: Table, pointed: frozenset[str]
) -> list[Change]:
    """One ALTER TABLE, or two when a partition maintenance clause (ADD / DROP /
    REORGANIZE / COALESCE PARTITION) comes with others: both grammars take those
    clauses only alone (1064 on MariaDB 10.11.19 for ``ADD COLUMN z int, ADD
    PARTITION (...)``; MySQL's ``standalone_alter_commands``)."""
    alone = [c for c in clauses if isinstance(c, STANDALONE_PARTITION_CLAUSES)]
    if not alone or len(clauses) == 1:
        return [AlterTable(name, clauses, before, after, pointed)]
    rest = tuple(c for c in clauses if c not in alone)
    mid = replace(after, partitioning=before.partitioning)
    return [
        AlterTable(name, rest, before, mid, pointed),
        AlterTable(name, tuple(alone), mid, after),
    ]


def _create_tables(w: _Work) -> list[Change]:
    """Phase 6 (FKs closing a cycle among new tables are left for phase 7)."""
    created_map = {t.name: t for t in w.pairing.created}
    changes: list[Change] = []
    for n in w.create_order:
        t = created_map[n]
        later = w.deferred.get(n, [])
        changes.append(
            CreateTable(replace(t, foreign_keys=tuple(f for f in t.foreign_keys if f not in later)))
        )
    return changes


def _add_foreign_keys(w: _Work) -> list[Change]:
    """Phase 7.

    A key added to a table that exists already is added unchecked
    (foreign_key_checks=0: in place, no table copy) where its orphan
    pre-flight can run right before and right after the statement; the
    runner runs it there (workflows.guarded). Keys of new tables, or over
    columns or parents this plan renames or creates, are added checked, and
    so is every key added next to one of those (same statement).
    """
    from myshift.engine.preflight import orphans_checkable

    changes: list[Change] = []
    for des in w.desired.tables:
        fks = w.fk_adds.get(des.name, []) + w.deferred.get(des.name, [])
        if fks:
            # One statement, one session: foreign_key_checks=0 would skip the server's
            # validation of a key the pre-flight cannot check around the statement too
            # (ranger 1.0.0 -> 2.8.0 added one over a new column with 3 orphans), so
            # the keys go unchecked only when every one of them can be.
            unchecked = all(orphans_checkable(des.name, fk, w.current) for fk in fks)
            clauses = tuple(AddForeignKey(fk, unchecked=unchecked) for fk in fks)
            # after=des: the renderer needs the indexes the new keys will use.
            changes.append(AlterTable(des.name, clauses, after=_no_fks(des)))
    return changes


def _create_views(w: _Work) -> list[Change]:
    """Phase 9: new and changed views, dependencies first."""
    cur_views, des_views = w.current.view_map, w.desired.view_map
    wanted = [
        v.name
        for v in w.desired.views
        if v.name not in cur_views or not same(cur_views[v.name], v, w.definers)
    ]
    order, _ = toposort(wanted, view_deps(w.desired.views))
    return [
        AlterView(cur_views[n], des_views[n]) if n in cur_views else CreateView(des_views[n])
        for n in order
    ]


def _create_routines(w: _Work) -> list[Change]:
    """Phase 8: new routines; changed ones replaced in place (see DiffOptions.or_replace)."""
    cur_routines = w.current.routine_map
    changes: list[Change] = []
    for r in w.desired.routines:
        old = cur_routines.get(r.key)
        if old is None:
            changes.append(CreateRoutine(r))
        elif not same(old, r, w.definers):
            changes += _replaced(w, ReplaceRoutine(old, r), DropRoutine(old), CreateRoutine(r))
    return changes


def _replaced(w: _Work, one: Change, drop: Change, create: Change) -> list[Change]:
    """One CREATE OR REPLACE where the server has it, else DROP and CREATE adjacent."""
    return [one] if w.or_replace else [drop, create]


def _create_triggers(w: _Work) -> list[Change]:
    """Phase 10: new triggers; changed ones replaced in place."""
    changes: list[Change] = []
    for t in w.triggers.creates:
        if isinstance(t, tuple):
            old, new, where = t
            # Without CREATE OR REPLACE, a swap under LOCK TABLES t WRITE
            # (DropTrigger.swap): no row is written between the two.
            changes += _replaced(
                w,
                ReplaceTrigger(old, new, where),
                DropTrigger(old, where, swap=True),
                CreateTrigger(new, where, swap=True),
            )
        else:
            changes.append(CreateTrigger(t))
    return changes


def _create_events(w: _Work) -> list[Change]:
    """Phase 11."""
    cur_events = w.current.event_map
    changes: list[Change] = []
    for e in w.desired.events:
        if e.name not in cur_events:
            changes.append(CreateEvent(e))
        elif not same(cur_events[e.name], e, w.definers):
            changes.append(AlterEvent(cur_events[e.name], e))
    return changes
