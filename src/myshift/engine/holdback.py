"""Without ``--allow-drop``: the schema a plan can reach while losing no data.

A plan made without ``--allow-drop`` must still run every safe clause, even
one that shares an ALTER TABLE with a destructive one (``ADD COLUMN new``
next to ``DROP COLUMN old``), and must not run what needs a held-back part.
Splitting rendered statements cannot get that right (column positions, the
foreign keys the diff drops and re-adds around a column change, statements
that need a held-back column), so the split is made on the models instead:

1. diff ``current`` -> ``desired`` and find the destructive clauses;
2. build ``reached``: ``desired`` with each of those undone (a dropped table
   or column stays as it is now, a narrowed or converted column keeps its
   current definition, a table whose destructive clause cannot be undone
   alone stays as it is now);
3. close it over foreign keys: an FK that touches an undone column is kept
   only where both its sides keep the definitions it has now; a new or
   changed one is held back with the reason;
4. the runnable changes are ``diff(current, reached)`` (the diff's own
   ordering, FK handling and positions apply: an FK it would drop and
   re-add around a held-back column change is simply not touched), the
   held-back ones ``diff(reached, desired)``.

Verification (plan) and the check after apply compare with ``reached``, and a
re-plan without ``--allow-drop`` from ``reached`` has nothing left to run.
Pure: no server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from myshift.engine.changes import (
    AlterTable,
    Change,
    ChangeOptions,
    DropColumn,
    DropPartitions,
    DropTable,
    ModifyColumn,
    RecreateColumn,
    RenameColumn,
    RenameTable,
)
from myshift.engine.diff import DiffOptions, diff_schemas, view_deps
from myshift.engine.risk import Risk
from myshift.model import Flavor, Schema
from myshift.model.schema import Column, ForeignKey, Index, Table, View

if TYPE_CHECKING:
    from myshift.engine.split import RenameHints

__all__ = ["HoldBack", "hold_back"]

# Rounds of "undo what is still destructive" before giving up on a table.
_ROUNDS = 4


@dataclass(frozen=True)
class HoldBack:
    """The split of a plan made without --allow-drop."""

    reached: Schema  # what the runnable changes turn current into
    runnable: list[Change]
    held: list[Change]
    # Why a change that loses no data is held back anyway, by subject.
    reasons: dict[str, list[str]] = field(default_factory=dict)


def _destructive(change: Change, flavor: Flavor) -> bool:
    return change.assess(flavor).risk is Risk.DESTRUCTIVE


class _Reached:
    """``desired`` being edited into the schema reachable without data loss."""

    def __init__(self, current: Schema, desired: Schema) -> None:
        self.current, self.desired = current, desired
        self.tables: dict[str, Table] = dict(desired.table_map)
        self.kept: list[str] = []  # dropped tables kept as they are, in current order
        self.old_name: dict[str, str] = {}  # desired table name -> current name
        self.col_old: dict[str, dict[str, str]] = {}  # table -> new column -> old column
        self.reasons: dict[str, list[str]] = {}

    def learn(self, changes: Sequence[Change]) -> None:
        for ch in changes:
            if isinstance(ch, RenameTable):
                self.old_name[ch.new] = ch.old
            elif isinstance(ch, AlterTable):
                for c in ch.clauses:
                    if isinstance(c, RenameColumn):
                        self.col_old.setdefault(ch.table, {})[c.after.name] = c.before.name

    def cur_table(self, name: str) -> Table | None:
        return self.current.table_map.get(self.old_name.get(name, name))

    def cur_column(self, table: str, column: str) -> Column | None:
        cur = self.cur_table(table)
        if cur is None:
            return None
        old = self.col_old.get(table, {}).get(column, column)
        return cur.column_map.get(old)

    # ------------------------------------------------------------ undoing clauses

    def keep_table(self, table: Table) -> None:
        if table.name not in self.tables:
            self.tables[table.name] = table
            self.kept.append(table.name)

    def whole_table(self, name: str) -> None:
        """Leave table ``name`` as it is now (its destructive part cannot be undone alone)."""
        cur = self.cur_table(name)
        if cur is not None and name in self.tables:
            self.tables[name] = replace(cur, name=name)
        elif cur is not None:
            self.keep_table(cur)

    def undo(self, ch: Change, flavor: Flavor) -> None:
        if isinstance(ch, DropTable):
            self.keep_table(ch.table)
            return
        if not isinstance(ch, AlterTable):
            return  # views, routines...: nothing destructive to undo there
        for clause in ch.clauses:
            if clause.assess(flavor).risk is not Risk.DESTRUCTIVE:
                continue
            if isinstance(clause, DropColumn):
                self._keep_column(ch.table, clause.column)
            elif isinstance(clause, ModifyColumn | RecreateColumn):
                self._old_definition(ch.table, clause.before, clause.after.name)
            elif isinstance(clause, ChangeOptions) and clause.convert:
                self._old_charset(ch.table)
            elif isinstance(clause, DropPartitions):
                self._old_partitioning(ch.table)
            else:
                self.whole_table(ch.table)
                return

    def _keep_column(self, name: str, column: Column) -> None:
        t, cur = self.tables.get(name), self.cur_table(name)
        if t is None or cur is None or column.name in t.column_map:
            return self.whole_table(name)
        new_of = {old: new for new, old in self.col_old.get(name, {}).items()}
        before = [c.name for c in cur.columns]
        cols = list(t.columns)
        at = 0
        for prev in reversed(before[: before.index(column.name)]):
            prev = new_of.get(prev, prev)
            if prev in t.column_map:
                at = [c.name for c in cols].index(prev) + 1
                break
        cols.insert(at, column)
        self.tables[name] = replace(t, columns=tuple(cols))

    def _old_definition(self, name: str, before: Column, as_name: str) -> None:
        t = self.tables.get(name)
        if t is None or as_name not in t.column_map:
            return self.whole_table(name)
        old = replace(before, name=as_name)
        cols = tuple(old if c.name == as_name else c for c in t.columns)
        self.tables[name] = replace(t, columns=cols)

    def _old_partitioning(self, name: str) -> None:
        """Keep the partitions a DROP PARTITION would delete (the rest of the table's
        changes still run)."""
        t, cur = self.tables.get(name), self.cur_table(name)
        if t is None or cur is None:
            return self.whole_table(name)
        self.tables[name] = replace(t, partitioning=cur.partitioning)

    def _old_charset(self, name: str) -> None:
        t, cur = self.tables.get(name), self.cur_table(name)
        if t is None or cur is None:
            return
        cols = []
        for c in t.columns:
            old = self.cur_column(name, c.name)
            same = (
                old is not None
                and replace(old, name=c.name, charset=c.charset, collation=c.collation) == c
            )
            cols.append(replace(old, name=c.name) if same and old is not None else c)
        self.tables[name] = replace(
            t, columns=tuple(cols), charset=cur.charset, collation=cur.collation
        )

    # ------------------------------------------------------------ indexes

    def _cur_index(self, table: str, ix_name: str, *, primary: bool = False) -> Index | None:
        """The index as it is now, under the columns' names in reached; None when
        it does not exist or a column of it is not in reached."""
        cur, t = self.cur_table(table), self.tables.get(table)
        if cur is None or t is None:
            return None
        now = next(
            (i for i in cur.indexes if i.name == ix_name or (primary and i.is_primary)), None
        )
        if now is None:
            return None
        new_of = {old: new for new, old in self.col_old.get(table, {}).items()}
        parts = tuple(
            replace(p, column=new_of.get(p.column, p.column)) if p.column else p for p in now.parts
        )
        if any(p.column is not None and p.column not in t.column_map for p in parts):
            return None
        return replace(now, parts=parts)

    def close_indexes(self) -> None:
        """Hold back an index change over a held-back column change (a key made for
        the narrowed column may not fit the wide one); keep the key an AUTO_INCREMENT
        column that stays as it is now needs (desired dropped it with the column)."""
        for name in list(self.tables):
            t = self.tables[name]
            undone = set(self._undone(name, [c.name for c in t.columns]))
            if not undone:
                continue
            keep: list[Index] = []
            for ix in t.indexes:
                held = sorted({p.column for p in ix.parts if p.column in undone})
                now = self._cur_index(name, ix.name, primary=ix.is_primary)
                if not held or now == ix:
                    keep.append(ix)
                    continue
                why = f"index {ix.name} of {name} needs the held-back change of {', '.join(held)}"
                self.reasons.setdefault(name, []).append(why)
                if now is not None:
                    keep.append(now)
            for col in t.columns:
                if not col.auto_increment or col.name not in undone:
                    continue
                if any(ix.parts and ix.parts[0].column == col.name for ix in keep):
                    continue
                cur = self.cur_table(name)
                old = self.col_old.get(name, {}).get(col.name, col.name)
                lead = [
                    i for i in (cur.indexes if cur else ()) if i.parts and i.parts[0].column == old
                ]
                lead.sort(key=lambda i: not i.is_primary)
                now = self._cur_index(name, lead[0].name) if lead else None
                if now is None:
                    continue
                keep = [
                    i for i in keep if i.name != now.name and not (now.is_primary and i.is_primary)
                ]
                keep.insert(0 if now.is_primary else len(keep), now)
                why = (
                    f"key {now.name} of {name} stays: AUTO_INCREMENT column {col.name} "
                    "(held back) needs it"
                )
                self.reasons.setdefault(name, []).append(why)
            if keep != list(t.indexes):
                self.tables[name] = replace(t, indexes=tuple(keep))

    # ------------------------------------------------------------ foreign keys

    def _as_now(self, table: str, columns: Sequence[str]) -> bool:
        """Whether these columns of ``table`` keep, in reached, their current definitions."""
        t = self.tables.get(table)
        if t is None:
            return False
        for name in columns:
            col, old = t.column_map.get(name), self.cur_column(table, name)
            if col is None or old is None or replace(old, name=name) != col:
                return False
        return True

    def _undone(self, table: str, columns: Sequence[str]) -> list[str]:
        """The columns of ``table`` reached leaves different from desired."""
        t, d = self.tables.get(table), self.desired.table_map.get(table)
        if t is None or d is None:
            return []
        return [c for c in columns if c in t.column_map and t.column_map[c] != d.column_map.get(c)]

    def close_foreign_keys(self) -> None:
        """Hold back an FK that needs a held-back column change; keep the others."""
        changed = True
        while changed:
            changed = self._keep_parents_of_kept()
            for name in list(self.tables):
                t = self.tables[name]
                keep: list[ForeignKey] = []
                for fk in t.foreign_keys:
                    if fk.ref_schema is not None or self._fk_ok(name, fk):
                        keep.append(fk)
                        continue
                    changed = True
                    cur = self.cur_table(name)
                    old = cur.fk_map.get(fk.name) if cur is not None else None
                    undone = self._undone(name, fk.columns) + [
                        f"{fk.ref_table}.{c}" for c in self._undone(fk.ref_table, fk.ref_columns)
                    ]
                    why = (
                        f"foreign key {fk.name} of {name} needs the held-back change of "
                        f"{', '.join(undone) or 'its columns'}"
                    )
                    self.reasons.setdefault(name, []).append(why)
                    if old is not None and old != fk and self._fk_ok(name, old, strict=True):
                        keep.append(old)
                if len(keep) != len(t.foreign_keys):
                    self.tables[name] = replace(t, foreign_keys=tuple(keep))

    def _keep_parents_of_kept(self) -> bool:
        """A table kept (its DROP held back) keeps its FKs: the columns they point at
        keep their current definitions, the parent's change waits with the DROP."""
        changed = False
        for name in self.kept:
            for fk in self.tables[name].foreign_keys:
                parent = fk.ref_table
                if fk.ref_schema is not None or parent not in self.tables:
                    continue
                for col in fk.ref_columns:
                    old = self.cur_column(parent, col)
                    now = self.tables[parent].column_map.get(col)
                    if old is None or now is None or replace(old, name=col) == now:
                        continue
                    self._old_definition(parent, old, col)
                    why = (
                        f"column {col} of {parent} keeps its definition while table {name} "
                        f"(held back) still references it"
                    )
                    self.reasons.setdefault(parent, []).append(why)
                    changed = True
        return changed

    def _fk_ok(self, name: str, fk: ForeignKey, *, strict: bool = False) -> bool:
        """An FK is fine in reached when it touches no undone column, or when it is
        valid today: it exists as it is now and both its sides keep their current
        definitions (``strict``: that test whatever it touches)."""
        parent = fk.ref_table
        if parent not in self.tables:
            return True  # dangling in desired too (made with checks off): not ours to judge
        touches = self._undone(name, fk.columns) or self._undone(parent, fk.ref_columns)
        if not strict and not touches:
            return True
        cur = self.cur_table(name)
        now = cur.fk_map.get(fk.name) if cur is not None else None
        return (
            now is not None
            and (now.columns, now.ref_columns) == (fk.columns, fk.ref_columns)
            and self.old_name.get(parent, parent) == now.ref_table
            and self._as_now(name, fk.columns)
            and self._as_now(parent, fk.ref_columns)
        )

    def schema(self) -> Schema:
        names = [t.name for t in self.desired.tables] + self.kept
        kept = set(self.kept)
        triggers = tuple(self.desired.triggers) + tuple(
            tr for tr in self.current.triggers if tr.table in kept
        )
        return replace(
            self.desired,
            tables=tuple(self.tables[n] for n in names if n in self.tables),
            views=self._views(kept),
            triggers=triggers,
        )

    def _views(self, kept: set[str]) -> tuple[View, ...]:
        """Desired views but those taking a kept table's name, and the views over them."""
        views = self.desired.views
        gone = {v.name for v in views if v.name in kept}
        if not gone:
            return views
        deps = view_deps(views)
        changed = True
        while changed:
            changed = False
            for v in views:
                if v.name not in gone and deps[v.name] & gone:
                    gone.add(v.name)
                    changed = True
        for name in sorted(gone):
            why = (
                f"view {name} needs table {name} dropped"
                if name in kept
                else (f"view {name} reads a view held back")
            )
            if why not in self.reasons.get(name, []):
                self.reasons.setdefault(name, []).append(why)
        return tuple(v for v in views if v.name not in gone)


def hold_back(
    current: Schema,
    desired: Schema,
    flavor: Flavor,
    *,
    hints: RenameHints | None = None,
    options: DiffOptions | None = None,
) -> HoldBack:
    """Split ``current`` -> ``desired`` into what runs without --allow-drop and what waits."""
    options = options or DiffOptions()
    changes = diff_schemas(current, desired, hints=hints, options=options)
    if not any(_destructive(c, flavor) for c in changes):
        return HoldBack(desired, changes, [])
    work = _Reached(current, desired)
    work.learn(changes)
    for ch in changes:
        if _destructive(ch, flavor):
            work.undo(ch, flavor)
    for _ in range(_ROUNDS):
        work.close_indexes()
        work.close_foreign_keys()
        reached = work.schema()
        runnable = diff_schemas(current, reached, hints=hints, options=options)
        pending = [c for c in runnable if _destructive(c, flavor)]
        if not pending:
            break
        for ch in pending:  # what undoing clause by clause missed: the whole table waits
            if isinstance(ch, DropTable):
                work.keep_table(ch.table)
            else:
                work.whole_table(ch.subject)
    held = diff_schemas(reached, desired, hints=hints, options=options)
    return HoldBack(reached, runnable, held, work.reasons)
