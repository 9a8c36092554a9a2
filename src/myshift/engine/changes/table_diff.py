"""The clauses that turn one table into another: ``diff_table``.

Two callers need it: ``engine/diff.py`` diffs every paired table with it,
and ``AlterTable.reverse`` re-diffs its after-state back to its before-state;
it lives here, below both, so neither imports the other.  Foreign keys are
not its business: the whole-schema phases of diff.py drop and add them.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace

from myshift.engine.changes.base import Clause, Position
from myshift.engine.changes.clauses import (
    AddCheck,
    AddIndex,
    ChangeOptions,
    ChangePartitioning,
    DropCheck,
    DropIndex,
    RemovePartitioning,
    RenameIndex,
    TableOptions,
)
from myshift.engine.changes.columns import (
    AddColumn,
    DropColumn,
    ModifyColumn,
    RecreateColumn,
    RenameColumn,
    needs_recreate,
)
from myshift.engine.changes.partitions import partition_clause
from myshift.model.schema import Column, Index, Partitioning, Table

__all__ = ["TableDiff", "diff_table"]


def _positions(columns: Sequence[Column]) -> dict[str, Position]:
    """Where each column sits, as the Position that would put it back there."""
    out: dict[str, Position] = {}
    prev: str | None = None
    for c in columns:
        out[c.name] = Position(prev)
        prev = c.name
    return out


def _lis(seq: Sequence[int]) -> set[int]:
    """Indexes (into ``seq``) of one longest strictly increasing subsequence."""
    import bisect

    tails: list[int] = []
    tails_idx: list[int] = []
    parent = [-1] * len(seq)
    for i, x in enumerate(seq):
        k = bisect.bisect_left(tails, x)
        if k == len(tails):
            tails.append(x)
            tails_idx.append(i)
        else:
            tails[k] = x
            tails_idx[k] = i
        parent[i] = tails_idx[k - 1] if k else -1
    keep: set[int] = set()
    i = tails_idx[-1] if tails_idx else -1
    while i != -1:
        keep.add(i)
        i = parent[i]
    return keep


def _rename_index(ix: Index, colmap: Mapping[str, str]) -> Index:
    if not colmap:
        return ix
    parts = tuple(
        replace(p, column=colmap.get(p.column, p.column)) if p.column is not None else p
        for p in ix.parts
    )
    return replace(ix, parts=parts)


@dataclass(frozen=True)
class TableDiff:
    """The clauses one table needs, before they are ordered into changes."""

    clauses: tuple[Clause, ...]
    # Columns (desired names) whose definition changes: FKs over them must be
    # dropped first and re-added after (the server refuses to change them).
    modified_columns: frozenset[str]
    # Indexes (current names) that go away or are rebuilt.
    dropped_indexes: tuple[Index, ...]


def _diff_columns(
    current: Table, desired: Table, renames: Mapping[str, str]
) -> tuple[list[Clause], list[Clause], set[str]]:
    """(drop clauses, add/modify/rename clauses in desired order, modified column names).

    Column order: the kept columns that already appear in desired order (a
    longest increasing subsequence) stay put; every other kept column and
    every new column gets an explicit ``FIRST``/``AFTER prev`` where ``prev``
    is its predecessor in the desired order. The server applies positioned
    clauses in statement order, each right after an already-placed column, so
    emitting them in desired order yields exactly the desired order with the
    fewest moves.
    """
    cur_map = current.column_map
    old_of = {new: old for new, old in renames.items() if old in cur_map}
    renamed_away = set(old_of.values())
    for c in desired.columns:
        # A current column renamed away cannot also be kept under its old name.
        if c.name in cur_map and c.name not in old_of and c.name not in renamed_away:
            old_of[c.name] = c.name
    taken = set(old_of.values())
    cur_pos = _positions(current.columns)
    drops: list[Clause] = [
        DropColumn(c, cur_pos[c.name]) for c in current.columns if c.name not in taken
    ]
    kept = [c for c in desired.columns if c.name in old_of]
    cur_index = {c.name: i for i, c in enumerate(current.columns)}
    seq = [cur_index[old_of[c.name]] for c in kept]
    stay = {kept[i].name for i in _lis(seq)}

    # Column-level CHECKs per column, grouped once (not a scan per column).
    cur_checks: dict[str | None, list[str]] = {}
    des_checks: dict[str | None, list[str]] = {}
    for checks, t in ((cur_checks, current), (des_checks, desired)):
        for ch in t.checks:
            if ch.column is not None:
                checks.setdefault(ch.column, []).append(ch.clause)

    out: list[Clause] = []
    modified: set[str] = set()
    prev: str | None = None
    for col in desired.columns:
        pos = Position(prev)
        prev = col.name
        old_name = old_of.get(col.name)
        if old_name is None:
            out.append(AddColumn(col, pos))
            continue
        old = cur_map[old_name]
        if needs_recreate(old, col):
            # DROP `old_name`, ADD `col`: a rename hint has nothing to keep here.
            modified.add(col.name)
            out.append(RecreateColumn(old, col, pos, cur_pos[old_name]))
            continue
        move = pos if col.name not in stay else None
        # replace() only for a renamed column: it costs ~10x the comparison.
        same_def = (
            old == col if old_name == col.name else replace(old, name=col.name) == col
        ) and cur_checks.get(old_name) == des_checks.get(col.name)
        if not same_def:
            modified.add(col.name)
        if old_name != col.name:
            out.append(RenameColumn(old, col, move, cur_pos[old_name]))
        elif not same_def or move is not None:
            out.append(ModifyColumn(old, col, move, cur_pos[old_name]))
    return drops, out, modified


def diff_table(
    current: Table,
    desired: Table,
    *,
    column_renames: Mapping[str, str] | None = None,
    merge_ranges: bool = False,
) -> TableDiff:
    """Everything but foreign keys (those go in their own phases, see engine/diff.py)."""
    if not column_renames and _but_fks(current) == _but_fks(desired):
        # Most tables of a big schema are unchanged: one equality test, no clauses.
        return TableDiff((), frozenset(), ())
    renames = dict(column_renames or {})
    col_drops, col_changes, modified = _diff_columns(current, desired, renames)
    colmap = {old: new for new, old in renames.items() if old in current.column_map}

    # Indexes: compare by name, current columns seen through the renames.
    cur_ix = {ix.name: _rename_index(ix, colmap) for ix in current.indexes}
    des_ix = desired.index_map
    # DROP COLUMN of a re-created column strips it out of its indexes: rebuild them.
    recreated = {c.after.name for c in col_changes if isinstance(c, RecreateColumn)}

    def rebuilt(ix: Index) -> bool:
        return any(p.column in recreated for p in ix.parts)

    ix_drops: list[Index] = []
    ix_adds: list[Index] = []
    for name, ix in cur_ix.items():
        if name not in des_ix or des_ix[name] != ix or rebuilt(ix):
            ix_drops.append(current.index_map[name])
    for ix in desired.indexes:
        if ix.name not in cur_ix or cur_ix[ix.name] != ix or rebuilt(ix):
            ix_adds.append(ix)
    # An index that only changes its name is renamed, not rebuilt.
    renamed: list[Clause] = []
    for old in list(ix_drops):
        if old.is_primary or old.name in des_ix or rebuilt(cur_ix[old.name]):
            continue
        mapped = cur_ix[old.name]
        for new in ix_adds:
            if new.name not in cur_ix and replace(mapped, name=new.name) == new:
                renamed.append(RenameIndex(old, new))
                ix_drops.remove(old)
                ix_adds.remove(new)
                break

    # Table-level CHECKs (MariaDB column-level ones travel with their column).
    cur_chk = {c.name: c for c in current.checks if c.column is None}
    des_chk = {c.name: c for c in desired.checks if c.column is None}
    chk_drops = [c for n, c in cur_chk.items() if des_chk.get(n) != c]
    chk_adds = [c for n, c in des_chk.items() if cur_chk.get(n) != c]

    clauses: list[Clause] = []
    # Table options first: a DEFAULT CHARSET change must not leave the columns
    # modified below guessing which default they inherit (changes.AlterTable
    # renders their charset explicitly in that case).
    # Never CONVERT TO CHARACTER SET here: converting to a multi-byte charset
    # silently upgrades TEXT to MEDIUMTEXT (and so on), which would not match
    # the desired model. DEFAULT CHARSET plus one explicit MODIFY per string
    # column whose charset changes converges exactly.
    if TableOptions.of(current) != TableOptions.of(desired):
        clauses.append(ChangeOptions(TableOptions.of(current), TableOptions.of(desired)))
    # Drops before adds: a CHECK or index may be re-created under the same name.
    clauses += [DropCheck(c) for c in chk_drops]
    clauses += [DropIndex(ix) for ix in ix_drops]
    clauses += col_drops
    clauses += col_changes
    clauses += [AddIndex(ix) for ix in ix_adds]
    clauses += renamed
    clauses += [AddCheck(c) for c in chk_adds]
    if current.partitioning != desired.partitioning:
        clauses.append(_partitioning(current.partitioning, desired.partitioning, merge_ranges))
    return TableDiff(tuple(clauses), frozenset(modified), tuple(ix_drops))


def _partitioning(cur: Partitioning | None, des: Partitioning | None, merge: bool) -> Clause:
    if des is None:
        assert cur is not None
        return RemovePartitioning(cur)
    if cur is None:
        return ChangePartitioning(None, des)
    # Only the partition list changing: ADD/DROP/REORGANIZE/COALESCE touch the
    # partitions that change instead of copying the table.
    return partition_clause(cur, des, merge=merge) or ChangePartitioning(cur, des)


# Table's compared fields other than its foreign keys, in one C call.
_but_fks = operator.attrgetter(
    *(f.name for f in fields(Table) if f.compare and f.name != "foreign_keys")
)
