"""What keep-data holds: the records of held tables and column backups.

Each record round-trips through JSON into the holding schema's catalog
(``keepdata.catalog``), so ``myshift rollback`` and ``myshift trash`` can find
it again after the process that kept it is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from myshift.db.connect import quote_ident as q

if TYPE_CHECKING:
    from myshift.engine.introspect.heldcatalog import ColumnRow


@dataclass(frozen=True)
class ColumnInfo:
    """One column as the server describes it (enough to re-create its type)."""

    name: str
    column_type: str  # the catalogue's COLUMN_TYPE, e.g. "decimal(12,2) unsigned"
    data_type: str
    charset: str | None = None
    collation: str | None = None

    @classmethod
    def of(cls, row: ColumnRow) -> ColumnInfo:
        """The part of a catalogue column row that a backup needs."""
        return cls(row.name, row.column_type, row.data_type, row.charset, row.collation)

    def definition(self, *, not_null: bool) -> str:
        parts = [q(self.name), self.column_type]
        if self.charset:
            parts.append(f"CHARACTER SET {self.charset}")
        if self.collation:
            parts.append(f"COLLATE {self.collation}")
        parts.append("NOT NULL" if not_null else "NULL")
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.column_type,
            "data_type": self.data_type,
            "charset": self.charset,
            "collation": self.collation,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ColumnInfo:
        return cls(d["name"], d["type"], d["data_type"], d.get("charset"), d.get("collation"))


@dataclass(frozen=True)
class HeldForeignKey:
    """An outgoing foreign key of a soft-dropped table, to re-add on restore."""

    name: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]
    on_update: str = "RESTRICT"
    on_delete: str = "RESTRICT"

    def add_clause(self) -> str:
        cols = ", ".join(q(c) for c in self.columns)
        refs = ", ".join(q(c) for c in self.ref_columns)
        return (
            f"ADD CONSTRAINT {q(self.name)} FOREIGN KEY ({cols}) "
            f"REFERENCES {q(self.ref_schema)}.{q(self.ref_table)} ({refs}) "
            f"ON DELETE {self.on_delete} ON UPDATE {self.on_update}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "columns": list(self.columns),
            "ref_schema": self.ref_schema,
            "ref_table": self.ref_table,
            "ref_columns": list(self.ref_columns),
            "on_update": self.on_update,
            "on_delete": self.on_delete,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> HeldForeignKey:
        return cls(
            d["name"],
            tuple(d["columns"]),
            d["ref_schema"],
            d["ref_table"],
            tuple(d["ref_columns"]),
            d.get("on_update", "RESTRICT"),
            d.get("on_delete", "RESTRICT"),
        )


@dataclass(frozen=True)
class HeldTrigger:
    """A trigger of a soft-dropped table: the server's own CREATE text and its session."""

    name: str
    create: str
    sql_mode: str
    charset_client: str
    collation_connection: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "create": self.create,
            "sql_mode": self.sql_mode,
            "charset_client": self.charset_client,
            "collation_connection": self.collation_connection,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> HeldTrigger:
        return cls(
            d["name"], d["create"], d["sql_mode"], d["charset_client"], d["collation_connection"]
        )


@dataclass(frozen=True)
class HeldTable:
    """A table moved to the holding schema instead of being dropped."""

    apply_id: str
    schema: str  # where it came from
    table: str
    holding: str
    held_name: str
    columns: tuple[ColumnInfo, ...]
    row_count: int
    foreign_keys: tuple[HeldForeignKey, ...] = ()
    triggers: tuple[HeldTrigger, ...] = ()
    created_at: datetime | None = None
    restored_at: datetime | None = None

    kind = "table"


@dataclass(frozen=True)
class HeldColumns:
    """A verified copy of some columns' values (with the row key) in the holding schema."""

    apply_id: str
    schema: str
    table: str
    holding: str
    held_name: str
    key: tuple[ColumnInfo, ...]  # the row key (PRIMARY or NOT NULL UNIQUE) columns
    columns: tuple[ColumnInfo, ...]  # the backed-up (non-key) columns
    row_count: int
    checksum: int
    created_at: datetime | None = None
    restored_at: datetime | None = None

    kind = "columns"

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.key)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class HeldPartition:
    """The rows of a dropped partition, swapped out into a plain table of the same
    structure in the holding schema (``EXCHANGE PARTITION``: no row copied)."""

    apply_id: str
    schema: str
    table: str  # the partitioned table
    holding: str
    held_name: str
    partition: str
    columns: tuple[ColumnInfo, ...]  # every column: what the checksum covers
    row_count: int
    checksum: int
    created_at: datetime | None = None
    restored_at: datetime | None = None

    kind = "partition"


Held = HeldTable | HeldColumns | HeldPartition


@dataclass(frozen=True)
class ColumnsRestored:
    """What ``restore_columns`` did: rows written back, and backed-up rows now gone."""

    held: HeldColumns
    rows_restored: int
    rows_missing: int  # rows deleted since the apply: nothing to write back to
