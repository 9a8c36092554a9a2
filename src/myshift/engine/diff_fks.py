"""Which foreign keys a plan drops and re-adds, and which it leaves alone.

Part of ``diff_schemas`` (engine/diff.py): phase 2 drops what this returns,
phase 7 adds what it returns. A key is dropped when it goes away or changes,
or when an ALTER of its table or its parent could not run with it in place:
a column of it changes definition, or the ALTER drops the last index that
serves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from myshift.engine.pairing import Paired, Pairing
from myshift.model.schema import ForeignKey, Index, IndexPart, Table

__all__ = ["foreign_key_changes"]


def _is_prefix(cols: Sequence[str], parts: Sequence[IndexPart]) -> bool:
    names = [p.column for p in parts]
    return len(names) >= len(cols) and tuple(names[: len(cols)]) == tuple(cols)


def _mapped_fk(
    fk: ForeignKey, cur: Table, pairing: Pairing, paired: dict[str, Paired]
) -> ForeignKey:
    """How the server will show a current FK after renames (it follows them)."""
    new_of = pairing.new_of
    des_name = new_of.get(cur.name, cur.name)
    colmap = (
        {o: n for n, o in paired[des_name].column_renames.items()} if des_name in paired else {}
    )
    ref_new = new_of.get(fk.ref_table, fk.ref_table)
    ref_cols = fk.ref_columns
    if ref_new in paired and fk.ref_schema is None:
        ref_map = {o: n for n, o in paired[ref_new].column_renames.items()}
        ref_cols = tuple(ref_map.get(c, c) for c in ref_cols)
    columns = tuple(colmap.get(c, c) for c in fk.columns)
    if columns == fk.columns and ref_new == fk.ref_table and ref_cols == fk.ref_columns:
        return fk  # nothing renamed (the usual case): no copy
    return replace(fk, columns=columns, ref_table=ref_new, ref_columns=ref_cols)


def _serves(cols: Sequence[str], ix: Index) -> bool:
    """Whether InnoDB can use ``ix`` for a foreign key over ``cols`` (its leading
    columns are ``cols``, in order, whole: no prefix lengths, no expressions)."""
    head = ix.parts[: len(cols)]
    return _is_prefix(cols, ix.parts) and all(
        p.length is None and p.expression is None for p in head
    )


def _loses_index(cols: Sequence[str], new_cols: Sequence[str], p: Paired) -> bool:
    """Whether ``p``'s ALTER drops an index serving ``cols`` (current names) and
    leaves none serving them (``new_cols``: the same columns, desired names).

    When another index still serves them after the ALTER (a widened index
    re-created in the same statement, a new one, or one left alone), the
    server accepts the DROP INDEX with the foreign key in place, INPLACE with
    LOCK=NONE (checked on MariaDB 10.11), so the key is not dropped and
    re-added (a re-add copies the table under LOCK=SHARED).
    """
    if not any(_serves(cols, ix) for ix in p.diff.dropped_indexes):
        return False
    return not any(_serves(new_cols, ix) for ix in p.desired.indexes)


def _blocked(fk: ForeignKey, mapped: ForeignKey, p: Paired, ref: Paired | None) -> bool:
    """Whether ``fk`` must be dropped for its table's or its parent's ALTER to pass."""
    d = p.diff
    return (
        bool(set(mapped.columns) & d.modified_columns)
        or _loses_index(fk.columns, mapped.columns, p)
        or (
            ref is not None
            and mapped.ref_schema is None
            and (
                bool(set(mapped.ref_columns) & ref.diff.modified_columns)
                or _loses_index(fk.ref_columns, mapped.ref_columns, ref)
            )
        )
    )


def foreign_key_changes(
    pairing: Pairing, paired: dict[str, Paired]
) -> tuple[dict[str, list[ForeignKey]], dict[str, list[ForeignKey]]]:
    """The paired tables' FKs to drop (by current name) and to add (by desired name)."""
    fk_drops: dict[str, list[ForeignKey]] = {}
    fk_adds: dict[str, list[ForeignKey]] = {}
    for cur, des in pairing.pairs:
        p = paired[des.name]
        des_fks = des.fk_map
        for fk in cur.foreign_keys:
            m = _mapped_fk(fk, cur, pairing, paired)
            if des_fks.get(fk.name) != m or _blocked(fk, m, p, paired.get(m.ref_table)):
                fk_drops.setdefault(cur.name, []).append(fk)
                if fk.name in des_fks:
                    fk_adds.setdefault(des.name, []).append(des_fks[fk.name])
        cur_names = cur.fk_map
        for fk in des.foreign_keys:
            if fk.name not in cur_names:
                fk_adds.setdefault(des.name, []).append(fk)
    return fk_drops, fk_adds
