"""What the server said about a schema, before modelling: rows, texts, the table types."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

Row = dict[str, Any]


class CompactRows:
    """Rows as tuples sharing one tuple of names; iterating yields one dict at a time.

    A dict per row costs ~650 bytes for a 12-column query, a tuple ~150: the
    ~10^5 column and index rows of a 10,000-table schema, held for both sides
    of a plan at once, were the plan's peak memory (178 MB per side).  The
    dicts are made only while ``build_schema`` models their table.
    """

    __slots__ = ("names", "tuples")

    def __init__(self, names: tuple[str, ...], tuples: list[tuple[Any, ...]]) -> None:
        self.names = names
        self.tuples = tuples

    def __iter__(self) -> Iterator[Row]:
        names = self.names
        return (dict(zip(names, t, strict=True)) for t in self.tuples)

    def __len__(self) -> int:
        return len(self.tuples)

    def group(self, key: str) -> dict[str, CompactRows]:
        """The rows by the value of column ``key`` (in order)."""
        i = self.names.index(key)
        by: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for t in self.tuples:
            by[t[i]].append(t)
        return {k: CompactRows(self.names, v) for k, v in by.items()}


# What build_schema accepts: plain dict rows (fixtures, tests) or compact ones.
Rows = list[Row] | CompactRows


@dataclass
class IntrospectionRows:
    """Everything the server told us about one schema, before modelling.

    Row dicts use the lower-case aliases selected by the queries below, so a
    recorded fixture (``to_json``) reads the same for every flavor.
    """

    schema: str
    charset: str = "utf8mb4"
    collation: str = "utf8mb4_general_ci"
    tables: list[Row] = field(default_factory=list)
    columns: Rows = field(default_factory=list)
    statistics: Rows = field(default_factory=list)
    foreign_keys: list[Row] = field(default_factory=list)
    checks: list[Row] = field(default_factory=list)
    partitions: list[Row] = field(default_factory=list)
    views: list[Row] = field(default_factory=list)
    routines: list[Row] = field(default_factory=list)
    triggers: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    # SHOW CREATE texts: table name -> text; "PROCEDURE name"/"FUNCTION name" -> text ...
    create_tables: dict[str, str] = field(default_factory=dict)
    create_routines: dict[str, str] = field(default_factory=dict)
    create_events: dict[str, str] = field(default_factory=dict)
    # SHOW CREATE VIEW: view name -> text (VIEW_DEFINITION drops charset
    # introducers and 4-byte characters; this text keeps them).
    create_views: dict[str, str] = field(default_factory=dict)
    # SHOW CREATE TRIGGER (SQL Original Statement): trigger name -> the user's text.
    create_triggers: dict[str, str] = field(default_factory=dict)
    # Tables not asked about because a Twin has them (their SHOW CREATE text is equal).
    borrowed: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        data = {
            f.name: list(v) if isinstance(v, CompactRows) else v
            for f in fields(self)
            for v in (getattr(self, f.name),)
        }
        return json.dumps(data, indent=1, default=str, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> IntrospectionRows:
        return cls(**json.loads(text))

    @classmethod
    def load(cls, path: str | Path) -> IntrospectionRows:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


# SYSTEM VERSIONED tables are modelled like any table; the self-check marks
# them unsupported (the model has no WITH SYSTEM VERSIONING) instead of hiding them.
_TABLE_TYPES = ("BASE TABLE", "SYSTEM VERSIONED")
