"""Dropped and added columns that look like a rename the user did not hint.

The diff never guesses renames (a wrong guess moves data into the wrong
column); it plans DROP + ADD.  When a dropped and an added column of one
ALTER have the same type and sit at the same position, the plan says it
may be a rename and how to hint it, so the user decides.
"""

from __future__ import annotations

from collections.abc import Iterable

from myshift.engine.changes import AddColumn, AlterTable, Change, DropColumn
from myshift.model import Column


def _alike(a: Column, b: Column) -> bool:
    """Same type (and charset) and the same kind of column: what a rename keeps."""
    return (
        a.type.lower() == b.type.lower()
        and a.collation == b.collation
        and (a.generated is None) == (b.generated is None)
    )


def rename_suspects(changes: Iterable[Change]) -> list[str]:
    """One warning per (dropped, added) column pair that may be a rename."""
    out: list[str] = []
    for ch in changes:
        if not isinstance(ch, AlterTable) or ch.before is None or ch.after is None:
            continue
        dropped = [c.column for c in ch.clauses if isinstance(c, DropColumn)]
        added = [c.column for c in ch.clauses if isinstance(c, AddColumn)]
        if not dropped or not added:
            continue
        old_at = {c.name: i for i, c in enumerate(ch.before.columns)}
        new_at = {c.name: i for i, c in enumerate(ch.after.columns)}
        for old in dropped:
            for new in added:
                if old_at.get(old.name) == new_at.get(new.name) and _alike(old, new):
                    out.append(
                        f"{ch.table}: column {old.name} is dropped and {new.name} added with "
                        f"the same type ({new.type}) at the same position; if it is a "
                        f"rename, say so to keep its data: `-- myshift:renamed-from {old.name}` "
                        f"at the end of the line defining {new.name} in the desired SQL, or "
                        f"`--rename {ch.table}.{old.name}={new.name}`."
                    )
    return out


__all__ = ["rename_suspects"]
