"""The ``history`` command: the applies to a target, or one of them in detail."""

from __future__ import annotations

from dataclasses import dataclass, replace

from myshift.db.connect import Endpoint, connected
from myshift.workflows.history.format import format_apply_detail, format_history_table
from myshift.workflows.history.records import DEFAULT_SCHEMA
from myshift.workflows.history.store import History


@dataclass(frozen=True)
class HistoryOptions:
    """Everything ``myshift history`` takes besides the target and the apply id."""

    all_schemas: bool = False  # applies to every schema, not only the target's
    limit: int = 50
    history_schema: str = DEFAULT_SCHEMA  # resolved by the CLI (myshift.toml)


def history(target: Endpoint, apply_id: int | None, opts: HistoryOptions) -> str:
    """The history table (or one apply's detail), without the final newline."""
    with connected(replace(target, schema="")) as conn:
        h = History(conn, schema=opts.history_schema, audit_path=None)
        if apply_id is not None:
            return format_apply_detail(h.get_apply(apply_id))
        recs = h.list_applies(None if opts.all_schemas else target.schema or None, limit=opts.limit)
        return format_history_table(recs)


__all__ = ["HistoryOptions", "history"]
