"""Which current table becomes which desired one, and what each pair needs.

The first step of ``diff_schemas`` (engine/diff.py), read by its phases and by
``foreign_key_changes`` (engine/diff_fks.py).  It lives below both so that
neither has to import the other for these types.  Pure: no server, no flavor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from myshift.engine.changes.table_diff import TableDiff, diff_table
from myshift.model.schema import Schema, Table

if TYPE_CHECKING:
    from myshift.engine.split import RenameHints

__all__ = ["Paired", "Pairing", "column_renames", "diff_pair", "pair_tables"]


class Paired(NamedTuple):
    """A current table and the desired table it becomes, with what it needs."""

    current: Table
    desired: Table
    diff: TableDiff
    column_renames: dict[str, str]  # new name -> old name


@dataclass(frozen=True)
class Pairing:
    """Which current table becomes which desired one (through rename hints)."""

    renames: dict[str, str]  # desired name -> current name, renamed tables only
    new_of: dict[str, str]  # current name -> desired name, renamed tables only
    pairs: list[tuple[Table, Table]]  # (current, desired), in desired order
    dropped: list[Table]  # current tables no desired table pairs with
    created: list[Table]  # desired tables no current table pairs with


def pair_tables(current: Schema, desired: Schema, hints: RenameHints | None) -> Pairing:
    cur_tables = current.table_map
    des_tables = desired.table_map
    table_renames: dict[str, str] = {}  # new -> old
    if hints is not None:
        for new, old in hints.tables.items():
            if (
                new in des_tables
                and old in cur_tables
                and new not in cur_tables
                and old not in des_tables
            ):
                table_renames[new] = old
    new_of = {old: new for new, old in table_renames.items()}
    pairs: list[tuple[Table, Table]] = []
    for t in desired.tables:
        old_name = table_renames.get(t.name, t.name)
        if old_name in cur_tables:
            pairs.append((cur_tables[old_name], t))
    paired_old = {c.name for c, _ in pairs}
    dropped = [t for t in current.tables if t.name not in paired_old]
    created = [t for t in desired.tables if table_renames.get(t.name, t.name) not in cur_tables]
    return Pairing(table_renames, new_of, pairs, dropped, created)


def column_renames(cur: Table, des: Table, hints: RenameHints | None) -> dict[str, str]:
    if hints is None:
        return {}
    out: dict[str, str] = {}
    for (tname, new_col), old_col in hints.columns.items():
        if (
            tname in (des.name, cur.name)
            and old_col in cur.column_map
            and new_col in des.column_map
            and new_col not in cur.column_map
        ):
            out[new_col] = old_col
    return out


def diff_pair(cur: Table, des: Table, renames: dict[str, str], merge: bool = False) -> Paired:
    """Everything but foreign keys (those go in their own phases); ``merge``: removed
    RANGE partitions are merged into their neighbour (rollback), not dropped."""
    d = diff_table(cur, des, column_renames=renames, merge_ranges=merge)
    return Paired(cur, des, d, renames)
