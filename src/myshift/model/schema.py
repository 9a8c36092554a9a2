"""The schema model: plain frozen dataclasses, child collections are tuples.

Equality is strict ``==`` on the fields that describe structure.  Fields that
are cosmetic or environment-specific are declared with ``compare=False`` and a
comment saying why (AUTO_INCREMENT counters, DEFINER, the server's own CREATE
text).  The model imports only the standard library.

Conventions for SQL fragments stored in the model (filled in by introspection,
so they are the *server's* normalised spelling, never user text):

* ``Column.type`` is the catalogue's ``COLUMNS.COLUMN_TYPE`` verbatim
  (``int(10) unsigned``, ``varchar(255)``, ``enum('a','b')``).
* ``Column.default`` is the text that follows ``DEFAULT`` in the flavor's
  ``SHOW CREATE TABLE`` (``'abc'``, ``0``, ``NULL``, ``current_timestamp()``,
  ``(rand())``), or ``None`` when the column has no DEFAULT clause.
* Expressions (generated columns, CHECK clauses, functional index parts,
  partition expressions) are as the server prints them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property


class IndexKind(StrEnum):
    PRIMARY = "PRIMARY"
    UNIQUE = "UNIQUE"
    INDEX = "INDEX"
    FULLTEXT = "FULLTEXT"
    SPATIAL = "SPATIAL"


@dataclass(frozen=True, slots=True)
class Column:
    """A column as SHOW CREATE TABLE defines it (effective charset/collation for strings)."""

    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    on_update: str | None = None
    auto_increment: bool = False
    # Effective character set / collation of string columns (None for others).
    charset: str | None = None
    collation: str | None = None
    comment: str = ""
    # Generated columns: the expression and whether it is STORED (else VIRTUAL).
    generated: str | None = None
    stored: bool = False
    invisible: bool = False
    srid: int | None = None
    # MariaDB column COMPRESSED attribute.
    compressed: bool = False
    # MySQL 8 keeps whether CHARACTER SET / COLLATE was written for the column
    # (dd::Column::is_explicit_collation) and then always prints both in SHOW
    # CREATE TABLE.  No catalogue table exposes it: introspection learns it from
    # the server's text.  Same collation either way, so not structure.
    explicit_collation: bool = field(default=False, compare=False)
    # MySQL < 8.0.19 prints integer display widths (``int(11)``) that 8.0.19+
    # drops: ``type`` holds the width-free spelling both compare by, this the
    # server's own (rendered where the flavor prints widths, ddl.column_definition).
    shown_type: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class IndexPart:
    """One key part: a column (with optional prefix length) or an expression."""

    column: str | None = None
    # Functional key part (MySQL 8.0.13+): the expression, without the outer parentheses.
    expression: str | None = None
    length: int | None = None
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Index:
    """A primary, unique, plain, FULLTEXT or SPATIAL index, in key-part order."""

    name: str
    kind: IndexKind
    parts: tuple[IndexPart, ...]
    comment: str = ""
    # MySQL INVISIBLE / MariaDB IGNORED: kept but not used by the optimizer.
    invisible: bool = False
    # Explicit USING BTREE/HASH when the server reports one; None otherwise.
    using: str | None = None
    parser: str | None = None

    @property
    def is_primary(self) -> bool:
        return self.kind is IndexKind.PRIMARY

    @property
    def is_unique(self) -> bool:
        return self.kind in (IndexKind.PRIMARY, IndexKind.UNIQUE)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(p.column for p in self.parts if p.column is not None)


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """A foreign key; ``ref_schema`` only when the parent lives in another schema."""

    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    # None when the referenced table lives in the same schema (the usual case).
    ref_schema: str | None = None
    on_delete: str = "RESTRICT"
    on_update: str = "RESTRICT"


@dataclass(frozen=True, slots=True)
class Check:
    """A CHECK constraint (table level, or MariaDB column level when ``column`` is set)."""

    name: str
    clause: str
    enforced: bool = True
    # MariaDB column-level CHECK (printed inline with its column): the column name.
    column: str | None = None


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition of a partitioned table, with its subpartition names."""

    name: str
    # "LESS THAN (10)", "LESS THAN MAXVALUE", "IN (1,2)"; None for HASH/KEY.
    values: str | None = None
    comment: str = ""
    subpartitions: tuple[str, ...] = ()
    engine: str | None = None


@dataclass(frozen=True, slots=True)
class Partitioning:
    """A table's PARTITION BY clause: method, expression and partitions."""

    # RANGE, LIST, HASH, KEY, LINEAR HASH, LINEAR KEY, RANGE COLUMNS, LIST COLUMNS, SYSTEM_TIME
    method: str
    expression: str
    partitions: tuple[Partition, ...]
    sub_method: str | None = None
    sub_expression: str | None = None
    # KEY partitioning ALGORITHM=n, when explicit.
    algorithm: int | None = None
    # HASH/KEY partitions named in the CREATE although their names are the
    # defaults (p0, p1, ...): SHOW CREATE then lists them instead of printing
    # PARTITIONS n.  The same partitions either way: not compared.
    listed: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Table:
    """A base table: its structure, options, and the server text it was read from."""

    name: str
    columns: tuple[Column, ...]
    indexes: tuple[Index, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    checks: tuple[Check, ...] = ()
    partitioning: Partitioning | None = None
    engine: str = "InnoDB"
    charset: str = "utf8mb4"
    collation: str = "utf8mb4_general_ci"
    # Explicit ROW_FORMAT only (None when the table uses the server default).
    row_format: str | None = None
    comment: str = ""
    # Other CREATE options as the server prints them, e.g. (("STATS_PERSISTENT", "0"),).
    options: tuple[tuple[str, str], ...] = ()
    # The counter moves with every insert; two copies of one schema never agree on it.
    auto_increment: int | None = field(default=None, compare=False)
    # The server's own SHOW CREATE TABLE text: evidence, not structure.
    create_sql: str = field(default="", compare=False, repr=False)
    # MySQL 8.0.30+ generated invisible primary key (sql_generate_invisible_primary_key):
    # the server's ``my_row_id`` column and its PRIMARY KEY, kept out of ``columns``
    # and ``indexes``.  The server adds it itself where the variable is ON, so a
    # dev/prod difference in it is environment, not structure (engine.diff notes
    # it and plans nothing).
    gipk: bool = field(default=False, compare=False)
    # MySQL 8.0.29+: INFORMATION_SCHEMA.INNODB_TABLES.TOTAL_ROW_VERSIONS, the
    # instant ADD/DROP COLUMNs since the last rebuild (None: not read).  A fact
    # of this copy of the table, not structure; engine.risk predicts INPLACE
    # at the flavor's limit.
    row_versions: int | None = field(default=None, compare=False)
    # Set by introspection's self-check when the model cannot reproduce
    # create_sql: such a table is reported, never diffed.
    unsupported: str | None = field(default=None, compare=False)

    @cached_property
    def column_map(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}

    @cached_property
    def index_map(self) -> dict[str, Index]:
        return {i.name: i for i in self.indexes}

    @cached_property
    def fk_map(self) -> dict[str, ForeignKey]:
        return {f.name: f for f in self.foreign_keys}

    @cached_property
    def check_map(self) -> dict[str, Check]:
        return {c.name: c for c in self.checks}

    @property
    def primary_key(self) -> Index | None:
        for ix in self.indexes:
            if ix.is_primary:
                return ix
        return None


@dataclass(frozen=True)
class View:
    """A view (its definer is data: compared and sent as engine.definers decides)."""

    name: str
    # The SELECT, as the server stores it, with the schema's own qualifier removed
    # (so a view loaded in a workspace schema compares equal to the target's).
    definition: str
    algorithm: str = "UNDEFINED"
    security: str = "DEFINER"
    check_option: str = "NONE"
    # ``user@host``; "" when the desired text stated none.  Not part of ==:
    # whether it is compared is a setting (engine.definers, DiffOptions.definers).
    definer: str = field(default="", compare=False)
    create_sql: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class Routine:
    """A stored procedure or function with its characteristics."""

    name: str
    kind: str  # PROCEDURE | FUNCTION
    # Parameter list as the server prints it between the parentheses.
    params: str
    # Routine, trigger and event bodies are compared as introspection gives
    # them: squeezed (comments and layout outside strings removed, see
    # engine.lexer.squeeze), as the mysql client strips comments on the way
    # in.  What is sent is the server's own text (create_sql), never this.
    body: str
    returns: str | None = None
    deterministic: bool = False
    data_access: str = "CONTAINS SQL"
    security: str = "DEFINER"
    comment: str = ""
    sql_mode: str = field(default="", compare=False)
    definer: str = field(default="", compare=False)
    create_sql: str = field(default="", compare=False, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


@dataclass(frozen=True)
class Trigger:
    """A trigger on a table, in firing order."""

    name: str
    table: str
    timing: str  # BEFORE | AFTER
    event: str  # INSERT | UPDATE | DELETE
    body: str
    # ACTION_ORDER among triggers with the same table, timing and event (1-based).
    order: int = 1
    sql_mode: str = field(default="", compare=False)
    definer: str = field(default="", compare=False)
    create_sql: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class Event:
    """A scheduled event."""

    name: str
    # "AT '2030-01-01 00:00:00'" or "EVERY 1 HOUR"
    schedule: str
    body: str
    status: str = "ENABLED"  # ENABLED | DISABLED | SLAVESIDE_DISABLED
    on_completion: str = "NOT PRESERVE"
    comment: str = ""
    # STARTS defaults to the creation time, so two loads of one file disagree
    # on it; an explicit STARTS/ENDS is kept but not diffed.
    starts: str | None = field(default=None, compare=False)
    ends: str | None = None
    sql_mode: str = field(default="", compare=False)
    definer: str = field(default="", compare=False)
    create_sql: str = field(default="", compare=False, repr=False)
    # The body as stored (comments and layout kept): what ALTER EVENT ... DO sends.
    body_text: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class Schema:
    """Everything in one schema: the unit myshift reads, diffs and fingerprints."""

    name: str
    charset: str = "utf8mb4"
    collation: str = "utf8mb4_general_ci"
    tables: tuple[Table, ...] = ()
    views: tuple[View, ...] = ()
    routines: tuple[Routine, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    events: tuple[Event, ...] = ()

    @cached_property
    def table_map(self) -> dict[str, Table]:
        return {t.name: t for t in self.tables}

    @cached_property
    def view_map(self) -> dict[str, View]:
        return {v.name: v for v in self.views}

    @cached_property
    def routine_map(self) -> dict[tuple[str, str], Routine]:
        return {r.key: r for r in self.routines}

    @cached_property
    def trigger_map(self) -> dict[str, Trigger]:
        return {t.name: t for t in self.triggers}

    @cached_property
    def event_map(self) -> dict[str, Event]:
        return {e.name: e for e in self.events}

    @property
    def unsupported_tables(self) -> tuple[Table, ...]:
        return tuple(t for t in self.tables if t.unsupported)

    def canonical(self) -> Schema:
        """This schema with each table's indexes, foreign keys and checks in name order.

        Their order is not structure: the server lists secondary keys (and FKs,
        CHECKs) in creation order, so a table that got an index by ALTER lists
        it after one that a fresh CREATE TABLE lists before it. Reproducing the
        order would mean rebuilding indexes for nothing; like Skeema (without
        --exact-match) the diff ignores it, and so do ``same_objects`` and the
        fingerprint. PRIMARY stays first.
        """
        return replace(
            self,
            tables=tuple(
                replace(
                    t,
                    indexes=tuple(sorted(t.indexes, key=lambda i: (not i.is_primary, i.name))),
                    foreign_keys=tuple(sorted(t.foreign_keys, key=lambda f: f.name)),
                    checks=tuple(sorted(t.checks, key=lambda c: c.name)),
                )
                for t in self.tables
            ),
        )

    def same_objects(self, other: Schema) -> bool:
        """Structural equality of the objects, ignoring the schema's name and defaults.

        A schema's default charset cannot be expressed in a mysqldump of it (the
        dump has no CREATE DATABASE), so it is not part of the desired state.
        The order of indexes, foreign keys and checks is ignored (``canonical``).
        """
        if self.tables != other.tables:
            return self.canonical().same_objects_strict(other.canonical())
        return self.same_objects_strict(other)

    def same_objects_strict(self, other: Schema) -> bool:
        """``same_objects`` including the order of indexes, foreign keys and checks."""
        return (
            self.tables == other.tables
            and self.views == other.views
            and self.routines == other.routines
            and self.triggers == other.triggers
            and self.events == other.events
        )
