"""``--data sample:N``: keep a sample's foreign keys satisfied (used by workflows.clone).

Rows of a child table are filtered to the parent keys already copied (an
IN-list, up to ``SAMPLE_FILTER_MAX`` keys); beyond that the rows are copied
and the orphans deleted afterwards, pass after pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from myshift.db.connect import Conn, quote_ident
from myshift.db.stream import literal
from myshift.model.schema import ForeignKey

SAMPLE_FILTER_MAX = 20000  # parent keys beyond this: no IN-list filter, orphans deleted after


class Sampled(Protocol):
    """What the filter needs of a table being copied (clone._Table)."""

    @property
    def name(self) -> str: ...

    @property
    def links(self) -> tuple[ForeignKey, ...]: ...


def sample_where(dst: Conn, dst_schema: str, t: Sampled) -> str:
    """``WHERE`` keeping only rows whose FKs point at rows already in the sandbox."""
    conds: list[str] = []
    for fk in t.links:
        if fk.ref_table == t.name:
            continue
        refcols = ", ".join(quote_ident(c) for c in fk.ref_columns)
        keys = dst.query(
            f"SELECT DISTINCT {refcols} FROM {quote_ident(dst_schema)}.{quote_ident(fk.ref_table)}"
            f" LIMIT {SAMPLE_FILTER_MAX + 1}"
        )
        if len(keys) > SAMPLE_FILTER_MAX:
            continue
        cols = [quote_ident(c) for c in fk.columns]
        null = " OR ".join(f"{c} IS NULL" for c in cols)
        if not keys:
            conds.append(f"({null})")
            continue
        lhs = cols[0] if len(cols) == 1 else "(" + ", ".join(cols) + ")"
        lits = [
            literal(dst, k[0]) if len(k) == 1 else "(" + ", ".join(literal(dst, v) for v in k) + ")"
            for k in keys
        ]
        conds.append(f"({null} OR {lhs} IN ({', '.join(lits)}))")
    return (" WHERE " + " AND ".join(conds)) if conds else ""


def delete_orphans(dst: Conn, schema: str, fks: Sequence[tuple[str, ForeignKey]]) -> int:
    """Delete rows whose FK points nowhere, until a pass deletes nothing."""
    total = 0
    s = quote_ident(schema)
    while True:
        deleted = 0
        for table, fk in fks:
            on = " AND ".join(
                f"p.{quote_ident(r)} = c.{quote_ident(c)}"
                for c, r in zip(fk.columns, fk.ref_columns, strict=True)
            )
            notnull = " AND ".join(f"c.{quote_ident(c)} IS NOT NULL" for c in fk.columns)
            deleted += dst.execute(
                f"DELETE c FROM {s}.{quote_ident(table)} c "
                f"LEFT JOIN {s}.{quote_ident(fk.ref_table)} p ON {on} "
                f"WHERE {notnull} AND p.{quote_ident(fk.ref_columns[0])} IS NULL"
            )
        total += deleted
        if deleted == 0:
            return total
