"""Dropped and added columns that look like a rename the user did not hint.

The diff never guesses renames (a wrong guess moves data into the wrong
column); it plans DROP + ADD.  When a dropped and an added column of one
ALTER have the same type and sit at the same position, the plan says it
may be a rename and how to hint it, so the user decides.
"""

from __future__ import annotations

from myshift.model import Column, Schema


def _alike(a: Column, b: Column) -> bool:
    """Same type (and charset) and the same kind of column: what a rename keeps."""
    return (
        a.type.lower() == b.type.lower()
        and a.collation == b.collation
        and (a.generated is None) == (b.generated is None)
    )


def rename_suspects(current: Schema, desired: Schema) -> list[str]:
    """One warning per (dropped, added) column pair of a table that may be a rename.

    Read from the two schemas, not from the plan's changes: without
    --allow-drop the drop is held back in a statement of its own, and the
    question (is this a rename?) matters most then."""
    out: list[str] = []
    before_tables = current.table_map
    for after in desired.tables:
        before = before_tables.get(after.name)
        if before is None:
            continue
        old_at = {c.name: i for i, c in enumerate(before.columns)}
        new_at = {c.name: i for i, c in enumerate(after.columns)}
        dropped = [c for c in before.columns if c.name not in new_at]
        added = [c for c in after.columns if c.name not in old_at]
        for old in dropped:
            for new in added:
                if old_at[old.name] == new_at[new.name] and _alike(old, new):
                    out.append(
                        f"{after.name}: column {old.name} is dropped and {new.name} added with "
                        f"the same type ({new.type}) at the same position; if it is a "
                        f"rename, say so to keep its data: `-- myshift:renamed-from {old.name}` "
                        f"at the end of the line defining {new.name} in the desired SQL, or "
                        f"`--rename {after.name}.{old.name}={new.name}`."
                    )
    return out


__all__ = ["rename_suspects"]
