"""How much of production's data a rehearsal sandbox gets (``--data``)."""

from __future__ import annotations

from dataclasses import dataclass

from myshift.errors import UsageError


@dataclass(frozen=True)
class DataMode:
    """``none`` (structure only), ``sample`` (up to ``rows`` per table) or ``full``.

    Sampling keeps foreign keys satisfied by *filtering children to sampled
    parents*, not by pulling in the parents each sampled child needs:

    * tables are copied parents first (topological order of the FKs);
    * a parent gets its first N rows in primary-key order;
    * a child gets up to N rows whose FK values are among the parent rows
      already copied (``WHERE (fk) IN (…)`` on the source);
    * a last pass deletes, in the sandbox, any row whose FK still points
      nowhere (self-references, FK cycles, parents too big for an IN list),
      repeating until nothing is deleted.

    Pulling in parents instead (the transitive closure) can grow without bound
    along chains of FKs and would break the promise "at most N rows per table";
    filtering keeps every table at most N rows, at the price of a child table
    sometimes holding fewer than N rows.
    """

    kind: str
    rows: int = 0

    @classmethod
    def parse(cls, text: str) -> DataMode:
        kind, _, n = text.partition(":")
        if kind in ("none", "full") and not n:
            return cls(kind)
        if kind == "sample" and n.isdigit() and int(n) > 0:
            return cls("sample", int(n))
        raise UsageError(f"Unknown --data {text!r}.", "Use none, sample:N (N > 0) or full.")

    def __str__(self) -> str:
        return f"sample:{self.rows}" if self.kind == "sample" else self.kind


__all__ = ["DataMode"]
