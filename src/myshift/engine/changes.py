"""One small class per kind of schema change.

Every change can ``render(flavor, opts)`` itself as ONE statement (no trailing
``;``), ``assess(flavor)`` its risk and online-DDL cost, ``reverse()`` itself
(each change carries the before/after objects it needs for that), name its
``subject`` (the table or object it touches) and ``describe()`` itself in a
few words for plans.

ALTER TABLE is one change (``AlterTable``) holding ordered ``Clause`` objects;
its risk is the worst clause's, its algorithm and lock the most expensive
clause's. SQL fragments (column/index/FK/CHECK definitions, CREATE statements)
come from ``myshift.engine.ddl``, never from here; flavor differences in ALTER
syntax are the few ``flavor.`` checks in this module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace

from myshift.engine import ddl
from myshift.engine.risk import (
    Algorithm,
    Assessment,
    Lock,
    Op,
    Risk,
    TypeChange,
    assess_op,
    classify_type_change,
    combine,
)
from myshift.model.flavor import Flavor
from myshift.model.schema import (
    Check,
    Column,
    Event,
    ForeignKey,
    Index,
    IndexKind,
    Partitioning,
    Routine,
    Table,
    Trigger,
    View,
)


@dataclass(frozen=True)
class RenderOptions:
    """Every rendering / safety switch, in one place (tengo's StatementModifiers)."""

    # Append ``, ALGORITHM=...`` / ``, LOCK=...`` to ALTER TABLE so the server
    # refuses (instead of silently copying / locking) when it cannot comply.
    algorithm: str | None = None
    lock: str | None = None
    # ``DROP ... IF EXISTS`` / ``CREATE TABLE IF NOT EXISTS``: for re-runnable scripts.
    if_exists: bool = False
    if_not_exists: bool = False


DEFAULT_OPTIONS = RenderOptions()

_SAFE_INSTANT = Assessment(Risk.SAFE, Algorithm.INSTANT, Lock.NONE, "")


def q(name: str) -> str:
    return ddl.quote(name)


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


# ---------------------------------------------------------------------------
# Base classes


class Change(ABC):
    """A top-level statement of a plan."""

    @property
    @abstractmethod
    def subject(self) -> str:
        """The table or object this change touches (for grouping and locks)."""

    @abstractmethod
    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str: ...

    @abstractmethod
    def assess(self, flavor: Flavor) -> Assessment: ...

    @abstractmethod
    def reverse(self) -> Change: ...

    @abstractmethod
    def describe(self) -> str: ...


class Clause(ABC):
    """One clause of an ALTER TABLE. ``table`` is the table state the clause builds
    towards (column definitions need its charset and column-level checks)."""

    @abstractmethod
    def render(self, flavor: Flavor, table: Table) -> str: ...

    @abstractmethod
    def assess(self, flavor: Flavor) -> Assessment: ...

    @abstractmethod
    def reverse(self) -> Clause: ...

    @abstractmethod
    def describe(self) -> str: ...


# ---------------------------------------------------------------------------
# ALTER TABLE clauses


@dataclass(frozen=True)
class Position:
    """``FIRST`` (after is None) or ``AFTER `after```."""

    after: str | None = None

    def render(self) -> str:
        return " FIRST" if self.after is None else f" AFTER {q(self.after)}"


def _pos(p: Position | None) -> str:
    return p.render() if p is not None else ""


@dataclass(frozen=True)
class AddColumn(Clause):
    """ADD COLUMN, at a position when column order requires it."""

    column: Column
    position: Position | None = None

    def render(self, flavor: Flavor, table: Table) -> str:
        return (
            f"ADD COLUMN {ddl.column_definition(self.column, table, flavor)}{_pos(self.position)}"
        )

    def assess(self, flavor: Flavor) -> Assessment:
        c = self.column
        if c.auto_increment:
            return assess_op(flavor, Op.ADD_AUTO_INCREMENT, reason=f"adds AUTO_INCREMENT {c.name}")
        if c.generated is not None and c.stored:
            return assess_op(
                flavor, Op.CHANGE_TYPE, reason=f"adds STORED generated column {c.name}"
            )
        return assess_op(flavor, Op.ADD_COLUMN, reason=f"adds column {c.name}")

    def reverse(self) -> Clause:
        return DropColumn(self.column, self.position)

    def describe(self) -> str:
        return f"add column {self.column.name} {self.column.type}"


@dataclass(frozen=True)
class DropColumn(Clause):
    """DROP COLUMN (destructive: its values are lost)."""

    column: Column
    # Where the column was, so that reverse() puts it back in place.
    position: Position | None = None

    def render(self, flavor: Flavor, table: Table) -> str:
        return f"DROP COLUMN {q(self.column.name)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return assess_op(
            flavor,
            Op.DROP_COLUMN,
            Risk.DESTRUCTIVE,
            f"drops column {self.column.name} and its data",
        )

    def reverse(self) -> Clause:
        return AddColumn(self.column, self.position)

    def describe(self) -> str:
        return f"drop column {self.column.name}"


def needs_recreate(old: Column, new: Column) -> bool:
    """Whether ``old`` can only become ``new`` by DROP + ADD, not MODIFY.

    MariaDB refuses (error 1907, "not yet supported for generated columns") to
    MODIFY a column between VIRTUAL and STORED or between generated and
    ordinary; MySQL refuses VIRTUAL <-> STORED and ordinary <-> VIRTUAL. One
    rule for both keeps the diff flavor-free: MySQL's permitted ordinary <->
    STORED MODIFY becomes a drop + add too, which converges the same. Also
    when the server refuses the type conversion outright (``cast_refused``).
    """
    if (old.generated is None) != (new.generated is None):
        return True
    if old.generated is not None and old.stored != new.stored:
        return True
    return cast_refused(old.type, new.type)


# MariaDB's UUID/INET4/INET6 types convert only to and from string types; any
# other ALTER ... MODIFY fails with error 4078 ("Cannot cast ... in assignment"),
# even on an empty table.
_PLUGIN_TYPES = frozenset({"uuid", "inet4", "inet6"})
_STRING_TYPES = frozenset(
    {"char", "varchar", "binary", "varbinary", "enum", "set", "json"}
    | {f"{size}{kind}" for size in ("tiny", "", "medium", "long") for kind in ("text", "blob")}
)


def _base(col_type: str) -> str:
    return col_type.split("(", 1)[0].split(" ", 1)[0].lower()


def cast_refused(old_type: str, new_type: str) -> bool:
    """Whether the server refuses to MODIFY a column from ``old_type`` to ``new_type``."""
    a, b = _base(old_type), _base(new_type)
    if a == b or (a not in _PLUGIN_TYPES and b not in _PLUGIN_TYPES):
        return False
    return a not in _STRING_TYPES and b not in _STRING_TYPES


@dataclass(frozen=True)
class RecreateColumn(Clause):
    """DROP COLUMN + ADD COLUMN of the same name, in one ALTER (see ``needs_recreate``)."""

    before: Column
    after: Column
    position: Position
    old_position: Position | None = None

    def render(self, flavor: Flavor, table: Table) -> str:
        return (
            f"DROP COLUMN {q(self.before.name)}, "
            f"ADD COLUMN {ddl.column_definition(self.after, table, flavor)}{_pos(self.position)}"
        )

    def assess(self, flavor: Flavor) -> Assessment:
        name = self.after.name
        parts = [AddColumn(self.after, self.position).assess(flavor)]
        if cast_refused(self.before.type, self.after.type):
            why = (
                f"column {name}: {self.before.type} cannot be converted to {self.after.type}; "
                "the column is re-created empty"
            )
            parts.append(assess_op(flavor, Op.DROP_COLUMN, Risk.DESTRUCTIVE, why))
        elif self.before.generated is None and self.after.generated is not None:
            why = f"column {name} becomes generated: its stored values are replaced"
            parts.append(assess_op(flavor, Op.DROP_COLUMN, Risk.DESTRUCTIVE, why))
        elif self.after.generated is None and self.before.generated is not None:
            why = f"column {name} stops being generated: it is re-created empty"
            parts.append(assess_op(flavor, Op.DROP_COLUMN, Risk.DESTRUCTIVE, why))
        else:
            # Generated values are recomputed: nothing is lost.
            why = f"column {name}: generated column re-created as {_kind(self.after)}"
            parts.append(assess_op(flavor, Op.DROP_COLUMN, reason=why))
        return combine(parts)

    def reverse(self) -> Clause:
        back = self.old_position if self.old_position is not None else self.position
        return RecreateColumn(self.after, self.before, back, self.position)

    def describe(self) -> str:
        if cast_refused(self.before.type, self.after.type):
            return f"re-create column {self.after.name} as {self.after.type}"
        return f"re-create column {self.after.name} as {_kind(self.after)}"


def _kind(c: Column) -> str:
    if c.generated is None:
        return "an ordinary column"
    return "STORED generated" if c.stored else "VIRTUAL generated"


def _column_assessment(flavor: Flavor, old: Column, new: Column) -> list[Assessment]:
    """Every aspect in which ``old`` and ``new`` differ, assessed."""
    out: list[Assessment] = []
    name = new.name
    kind, why = classify_type_change(old.type, new.type, new.charset or old.charset)
    if kind is TypeChange.METADATA:
        op = Op.EXTEND_VARCHAR if "var" in new.type.lower() else Op.COLUMN_METADATA
        out.append(assess_op(flavor, op, reason=f"column {name}: {why}"))
    elif kind is TypeChange.WIDENING:
        out.append(assess_op(flavor, Op.CHANGE_TYPE, reason=f"column {name}: {why}"))
    elif kind is TypeChange.NARROWING:
        out.append(assess_op(flavor, Op.CHANGE_TYPE, Risk.DESTRUCTIVE, f"column {name}: {why}"))
    elif kind is TypeChange.CONVERSION:
        out.append(assess_op(flavor, Op.CHANGE_TYPE, Risk.DATA_DEPENDENT, f"column {name}: {why}"))
    if (old.charset, old.collation) != (new.charset, new.collation) and old.charset is not None:
        if old.charset != new.charset:
            # Converting into utf8mb4 keeps every character; anything else may not.
            risk = Risk.SAFE if new.charset == "utf8mb4" else Risk.DESTRUCTIVE
            why = f"column {name}: converts {old.charset} -> {new.charset}"
        else:
            risk, why = Risk.SAFE, f"column {name}: collation {old.collation} -> {new.collation}"
        out.append(assess_op(flavor, Op.CHANGE_TYPE, risk, why))
    if old.nullable and not new.nullable:
        out.append(
            assess_op(
                flavor,
                Op.MAKE_NOT_NULL,
                Risk.DATA_DEPENDENT,
                f"column {name} becomes NOT NULL (fails or converts existing NULLs)",
            )
        )
    elif new.nullable and not old.nullable:
        out.append(assess_op(flavor, Op.MAKE_NULL, reason=f"column {name} becomes nullable"))
    if new.auto_increment and not old.auto_increment:
        out.append(
            assess_op(
                flavor,
                Op.ADD_AUTO_INCREMENT,
                Risk.DATA_DEPENDENT,
                f"column {name} becomes AUTO_INCREMENT (fails on duplicates, renumbers 0s)",
            )
        )
    if (old.generated, old.stored) != (new.generated, new.stored):
        out.append(
            assess_op(
                flavor,
                Op.CHANGE_TYPE,
                Risk.DATA_DEPENDENT,
                f"column {name}: generated expression changes",
            )
        )
    if (old.default, old.on_update) != (new.default, new.on_update):
        out.append(assess_op(flavor, Op.SET_DEFAULT, reason=f"column {name}: default changes"))
    if (old.comment, old.invisible) != (new.comment, new.invisible):
        out.append(assess_op(flavor, Op.COLUMN_METADATA, reason=f"column {name}: attributes"))
    if (old.srid, old.compressed) != (new.srid, new.compressed):
        out.append(assess_op(flavor, Op.CHANGE_TYPE, reason=f"column {name}: storage changes"))
    return out


@dataclass(frozen=True)
class ModifyColumn(Clause):
    """MODIFY COLUMN: a new definition and/or a new place (``position``)."""

    before: Column
    after: Column
    position: Position | None = None
    # The column's place before the change, for reverse().
    old_position: Position | None = None

    def render(self, flavor: Flavor, table: Table) -> str:
        return (
            f"MODIFY COLUMN {ddl.column_definition(self.after, table, flavor)}{_pos(self.position)}"
        )

    def assess(self, flavor: Flavor) -> Assessment:
        parts = _column_assessment(flavor, self.before, self.after)
        if self.position is not None:
            parts.append(
                assess_op(flavor, Op.REORDER_COLUMN, reason=f"moves column {self.after.name}")
            )
        return combine(parts) if parts else _SAFE_INSTANT

    def reverse(self) -> Clause:
        pos = self.old_position if self.position is not None else None
        return ModifyColumn(self.after, self.before, pos, self.position)

    def describe(self) -> str:
        if self.before == self.after:
            return f"move column {self.after.name}"
        return f"modify column {self.after.name} {self.before.type} -> {self.after.type}"


@dataclass(frozen=True)
class RenameColumn(Clause):
    """RENAME COLUMN when only the name changes, else CHANGE COLUMN."""

    before: Column
    after: Column
    position: Position | None = None
    old_position: Position | None = None

    def render(self, flavor: Flavor, table: Table) -> str:
        only_name = replace(self.before, name=self.after.name) == self.after
        # RENAME COLUMN: MySQL 8.0+, MariaDB 10.5.2+.
        has_rename = flavor.is_mysql or flavor.min(10, 5, 2)
        if only_name and self.position is None and has_rename:
            return f"RENAME COLUMN {q(self.before.name)} TO {q(self.after.name)}"
        return (
            f"CHANGE COLUMN {q(self.before.name)} "
            f"{ddl.column_definition(self.after, table, flavor)}{_pos(self.position)}"
        )

    def assess(self, flavor: Flavor) -> Assessment:
        parts = [
            assess_op(
                flavor,
                Op.RENAME_COLUMN,
                reason=f"renames column {self.before.name} to {self.after.name}",
            )
        ]
        parts += _column_assessment(flavor, replace(self.before, name=self.after.name), self.after)
        if self.position is not None:
            parts.append(
                assess_op(flavor, Op.REORDER_COLUMN, reason=f"moves column {self.after.name}")
            )
        return combine(parts)

    def reverse(self) -> Clause:
        pos = self.old_position if self.position is not None else None
        return RenameColumn(self.after, self.before, pos, self.position)

    def describe(self) -> str:
        return f"rename column {self.before.name} to {self.after.name}"


@dataclass(frozen=True)
class AddIndex(Clause):
    """ADD INDEX / UNIQUE / FULLTEXT / SPATIAL / PRIMARY KEY."""

    index: Index

    def render(self, flavor: Flavor, table: Table) -> str:
        return f"ADD {ddl.index_definition(self.index, flavor)}"

    def assess(self, flavor: Flavor) -> Assessment:
        ix = self.index
        if ix.kind is IndexKind.PRIMARY:
            return assess_op(
                flavor,
                Op.ADD_PRIMARY,
                Risk.DATA_DEPENDENT,
                "adds PRIMARY KEY (fails on duplicates or NULLs; rebuilds the table)",
            )
        if ix.kind is IndexKind.UNIQUE:
            return assess_op(
                flavor,
                Op.ADD_INDEX,
                Risk.DATA_DEPENDENT,
                f"adds UNIQUE index {ix.name} (fails on duplicate rows)",
            )
        op = {IndexKind.FULLTEXT: Op.ADD_FULLTEXT, IndexKind.SPATIAL: Op.ADD_SPATIAL}.get(
            ix.kind, Op.ADD_INDEX
        )
        return assess_op(flavor, op, reason=f"adds index {ix.name}")

    def reverse(self) -> Clause:
        return DropIndex(self.index)

    def describe(self) -> str:
        kind = "" if self.index.kind is IndexKind.INDEX else f"{self.index.kind.value.lower()} "
        return f"add {kind}index {self.index.name}"


@dataclass(frozen=True)
class DropIndex(Clause):
    """DROP INDEX / DROP PRIMARY KEY."""

    index: Index

    def render(self, flavor: Flavor, table: Table) -> str:
        if self.index.is_primary:
            return "DROP PRIMARY KEY"
        return f"DROP INDEX {q(self.index.name)}"

    def assess(self, flavor: Flavor) -> Assessment:
        if self.index.is_primary:
            return assess_op(flavor, Op.DROP_PRIMARY, reason="drops the PRIMARY KEY")
        return assess_op(flavor, Op.DROP_INDEX, reason=f"drops index {self.index.name}")

    def reverse(self) -> Clause:
        return AddIndex(self.index)

    def describe(self) -> str:
        return f"drop index {self.index.name}"


@dataclass(frozen=True)
class RenameIndex(Clause):
    """RENAME INDEX: only the name differs."""

    before: Index
    after: Index

    def render(self, flavor: Flavor, table: Table) -> str:
        return f"RENAME INDEX {q(self.before.name)} TO {q(self.after.name)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return assess_op(flavor, Op.RENAME_INDEX, reason=f"renames index {self.before.name}")

    def reverse(self) -> Clause:
        return RenameIndex(self.after, self.before)

    def describe(self) -> str:
        return f"rename index {self.before.name} to {self.after.name}"


@dataclass(frozen=True)
class AddForeignKey(Clause):
    """ADD CONSTRAINT ... FOREIGN KEY."""

    foreign_key: ForeignKey

    def render(self, flavor: Flavor, table: Table) -> str:
        return f"ADD {ddl.foreign_key_definition(self.foreign_key, flavor)}"

    def assess(self, flavor: Flavor) -> Assessment:
        fk = self.foreign_key
        return assess_op(
            flavor,
            Op.ADD_FOREIGN_KEY,
            Risk.DATA_DEPENDENT,
            f"adds foreign key {fk.name} (fails on rows without a parent in {fk.ref_table})",
        )

    def reverse(self) -> Clause:
        return DropForeignKey(self.foreign_key)

    def describe(self) -> str:
        return f"add foreign key {self.foreign_key.name} -> {self.foreign_key.ref_table}"


@dataclass(frozen=True)
class DropForeignKey(Clause):
    """DROP FOREIGN KEY."""

    foreign_key: ForeignKey

    def render(self, flavor: Flavor, table: Table) -> str:
        return f"DROP FOREIGN KEY {q(self.foreign_key.name)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return assess_op(
            flavor, Op.DROP_FOREIGN_KEY, reason=f"drops foreign key {self.foreign_key.name}"
        )

    def reverse(self) -> Clause:
        return AddForeignKey(self.foreign_key)

    def describe(self) -> str:
        return f"drop foreign key {self.foreign_key.name}"


@dataclass(frozen=True)
class AddCheck(Clause):
    """ADD CONSTRAINT ... CHECK (data-dependent: existing rows must pass)."""

    check: Check

    def render(self, flavor: Flavor, table: Table) -> str:
        return f"ADD {ddl.check_definition(self.check, flavor)}"

    def assess(self, flavor: Flavor) -> Assessment:
        if not self.check.enforced:
            return assess_op(
                flavor, Op.ADD_CHECK_NOT_ENFORCED, Risk.SAFE, f"adds CHECK {self.check.name}"
            )
        return assess_op(
            flavor,
            Op.ADD_CHECK,
            Risk.DATA_DEPENDENT,
            f"adds CHECK {self.check.name} (fails on violating rows)",
        )

    def reverse(self) -> Clause:
        return DropCheck(self.check)

    def describe(self) -> str:
        return f"add check {self.check.name}"


@dataclass(frozen=True)
class DropCheck(Clause):
    """DROP CONSTRAINT of a CHECK."""

    check: Check

    def render(self, flavor: Flavor, table: Table) -> str:
        # MySQL spells it DROP CHECK; MariaDB only knows DROP CONSTRAINT.
        word = "CONSTRAINT" if flavor.is_mariadb else "CHECK"
        return f"DROP {word} {q(self.check.name)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return assess_op(flavor, Op.DROP_CHECK, reason=f"drops CHECK {self.check.name}")

    def reverse(self) -> Clause:
        return AddCheck(self.check)

    def describe(self) -> str:
        return f"drop check {self.check.name}"


@dataclass(frozen=True)
class TableOptions:
    """The table-level options ChangeOptions compares and sets."""

    engine: str
    charset: str
    collation: str
    row_format: str | None
    comment: str
    options: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, t: Table) -> TableOptions:
        return cls(t.engine, t.charset, t.collation, t.row_format, t.comment, t.options)


@dataclass(frozen=True)
class ChangeOptions(Clause):
    """ENGINE / charset+collation / ROW_FORMAT / COMMENT / other table options.

    ``convert``: ``CONVERT TO CHARACTER SET`` (rewrites every string column)
    instead of ``DEFAULT CHARSET`` (only the default for future columns).
    """

    before: TableOptions
    after: TableOptions
    convert: bool = False

    def render(self, flavor: Flavor, table: Table) -> str:
        b, a = self.before, self.after
        parts: list[str] = []
        if a.engine != b.engine:
            parts.append(f"ENGINE={a.engine}")
        if (a.charset, a.collation) != (b.charset, b.collation):
            if self.convert:
                parts.append(f"CONVERT TO CHARACTER SET {a.charset} COLLATE {a.collation}")
            else:
                parts.append(f"DEFAULT CHARSET={a.charset} COLLATE={a.collation}")
        if a.row_format != b.row_format:
            parts.append(f"ROW_FORMAT={a.row_format or 'DEFAULT'}")
        if a.comment != b.comment:
            parts.append(f"COMMENT={_literal(a.comment)}")
        old = dict(b.options)
        new = dict(a.options)
        for key, value in a.options:
            if old.get(key) != value:
                parts.append(f"{key}={value}")
        for key in old:
            if key not in new:
                parts.append(f"{key}=DEFAULT")
        return " ".join(parts)

    def assess(self, flavor: Flavor) -> Assessment:
        b, a = self.before, self.after
        parts: list[Assessment] = []
        if a.engine != b.engine:
            parts.append(
                assess_op(flavor, Op.CHANGE_ENGINE, reason=f"engine {b.engine} -> {a.engine}")
            )
        if (a.charset, a.collation) != (b.charset, b.collation):
            if self.convert:
                risk = Risk.SAFE if a.charset == "utf8mb4" else Risk.DESTRUCTIVE
                parts.append(
                    assess_op(
                        flavor,
                        Op.CONVERT_CHARSET,
                        risk,
                        f"converts every string column {b.charset} -> {a.charset}",
                    )
                )
            else:
                parts.append(assess_op(flavor, Op.DEFAULT_CHARSET, reason="default charset"))
        if a.row_format != b.row_format:
            parts.append(assess_op(flavor, Op.ROW_FORMAT, reason="row format"))
        if a.comment != b.comment:
            parts.append(assess_op(flavor, Op.TABLE_COMMENT, reason="table comment"))
        if a.options != b.options:
            parts.append(assess_op(flavor, Op.TABLE_OPTIONS, reason="table options"))
        return combine(parts) if parts else _SAFE_INSTANT

    def reverse(self) -> Clause:
        return ChangeOptions(self.after, self.before, self.convert)

    def describe(self) -> str:
        return "change table options"


@dataclass(frozen=True)
class ChangePartitioning(Clause):
    """Full ``PARTITION BY`` re-render (also partitions an unpartitioned table)."""

    before: Partitioning | None
    after: Partitioning

    def render(self, flavor: Flavor, table: Table) -> str:
        return ddl.partition_clause(self.after, flavor, table.engine).strip()

    def assess(self, flavor: Flavor) -> Assessment:
        values = any(p.values for p in self.after.partitions)
        risk = Risk.DATA_DEPENDENT if values else Risk.SAFE
        why = "repartitions the table" + (" (fails on rows outside every range/list)" * values)
        return assess_op(flavor, Op.PARTITION, risk, why)

    def reverse(self) -> Clause:
        if self.before is None:
            return RemovePartitioning(self.after)
        return ChangePartitioning(self.after, self.before)

    def describe(self) -> str:
        return f"partition by {self.after.method}"


@dataclass(frozen=True)
class RemovePartitioning(Clause):
    """REMOVE PARTITIONING (rebuilds the table)."""

    before: Partitioning

    def render(self, flavor: Flavor, table: Table) -> str:
        return "REMOVE PARTITIONING"

    def assess(self, flavor: Flavor) -> Assessment:
        return assess_op(flavor, Op.REMOVE_PARTITIONING, reason="removes partitioning")

    def reverse(self) -> Clause:
        return ChangePartitioning(None, self.before)

    def describe(self) -> str:
        return "remove partitioning"


_PARTITION_CLAUSES = (ChangePartitioning, RemovePartitioning)


def _keep_fk_index_names(flavor: Flavor, table: Table, clauses: tuple[Clause, ...]) -> list[str]:
    """MariaDB: re-create, in the same ALTER, the index an added foreign key will use.

    An index MariaDB created implicitly for a foreign key is flagged as
    "generated" in the table definition (invisible in SHOW CREATE TABLE).
    When a foreign key named ``c`` is added over the same columns, MariaDB
    creates a new generated index named ``c`` and drops the old one, so an
    index ``author_id`` silently becomes ``posts_ibfk_1`` (sqldef case
    ModifyUnnamedForeignKey). Dropping and re-adding the index explicitly in
    the same statement makes it a normal index the new key reuses. It costs
    nothing extra: adding a foreign key with foreign_key_checks=1 copies the
    table anyway. ``table`` must be the table after the statement.
    """
    if not flavor.is_mariadb:
        return []
    names = {ix.name for ix in table.indexes}
    out: list[str] = []
    done: set[str] = set()
    for clause in clauses:
        if not isinstance(clause, AddForeignKey):
            continue
        fk = clause.foreign_key
        if fk.name in names:
            continue
        for ix in table.indexes:
            if (
                ix.kind is IndexKind.INDEX
                and ix.name not in done
                and tuple(p.column for p in ix.parts) == fk.columns
                and all(p.length is None and p.expression is None for p in ix.parts)
            ):
                done.add(ix.name)
                out += [f"DROP INDEX {q(ix.name)}", f"ADD {ddl.index_definition(ix, flavor)}"]
                break
    return out


# ---------------------------------------------------------------------------
# Table-level changes


@dataclass(frozen=True)
class AlterTable(Change):
    """One ALTER TABLE with comma-separated clauses.

    ``before``/``after`` are the table exactly before and after this statement
    (foreign keys aside: those travel in their own ALTERs, see diff.py). When
    both are known, ``reverse()`` re-diffs them, which gets column positions
    right where reversing clause by clause cannot.
    """

    table: str
    clauses: tuple[Clause, ...]
    before: Table | None = field(default=None, compare=False, repr=False)
    after: Table | None = field(default=None, compare=False, repr=False)

    @property
    def subject(self) -> str:
        return self.table

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        ctx = self.after or self.before or Table(self.table, ())
        if (
            self.before is not None
            and self.after is not None
            and self.before.collation != self.after.collation
        ):
            # The table default changes in this very statement: spell out
            # every column's charset instead of relying on which default
            # the server applies to MODIFY/ADD without one.
            ctx = replace(ctx, collation="")
        specs = [
            c.render(flavor, ctx) for c in self.clauses if not isinstance(c, _PARTITION_CLAUSES)
        ]
        specs += _keep_fk_index_names(flavor, ctx, self.clauses)
        if opts.algorithm:
            specs.append(f"ALGORITHM={opts.algorithm}")
        if opts.lock:
            specs.append(f"LOCK={opts.lock}")
        # partition_options follow the alter options without a comma (both grammars).
        tail = [c.render(flavor, ctx) for c in self.clauses if isinstance(c, _PARTITION_CLAUSES)]
        sql = f"ALTER TABLE {q(self.table)}"
        if specs:
            sql += " " + ", ".join(specs)
        if tail:
            sql += " " + " ".join(tail)
        return sql

    def assess(self, flavor: Flavor) -> Assessment:
        return combine(c.assess(flavor) for c in self.clauses)

    def reverse(self) -> Change:
        if self.before is not None and self.after is not None:
            from myshift.engine.diff import reverse_alter  # diff imports this module

            return reverse_alter(self)
        return AlterTable(self.table, tuple(c.reverse() for c in reversed(self.clauses)))

    def describe(self) -> str:
        return f"alter table {self.table}: " + ", ".join(c.describe() for c in self.clauses)


@dataclass(frozen=True)
class CreateTable(Change):
    """CREATE TABLE."""

    table: Table

    @property
    def subject(self) -> str:
        return self.table.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        sql = ddl.create_table(self.table, flavor)
        if opts.if_not_exists and sql.startswith("CREATE TABLE "):
            sql = "CREATE TABLE IF NOT EXISTS " + sql[len("CREATE TABLE ") :]
        return sql

    def assess(self, flavor: Flavor) -> Assessment:
        return Assessment(
            Risk.SAFE, Algorithm.INSTANT, Lock.NONE, f"creates table {self.table.name}"
        )

    def reverse(self) -> Change:
        return DropTable(self.table)

    def describe(self) -> str:
        return f"create table {self.table.name}"


@dataclass(frozen=True)
class DropTable(Change):
    """DROP TABLE (destructive)."""

    table: Table

    @property
    def subject(self) -> str:
        return self.table.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return f"DROP TABLE {'IF EXISTS ' * opts.if_exists}{q(self.table.name)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return Assessment(
            Risk.DESTRUCTIVE,
            Algorithm.INSTANT,
            Lock.EXCLUSIVE,
            f"drops table {self.table.name} and all its rows",
        )

    def reverse(self) -> Change:
        return CreateTable(self.table)

    def describe(self) -> str:
        return f"drop table {self.table.name}"


@dataclass(frozen=True)
class RenameTable(Change):
    """RENAME TABLE, from a rename hint."""

    old: str
    new: str

    @property
    def subject(self) -> str:
        return self.new

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return f"RENAME TABLE {q(self.old)} TO {q(self.new)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return assess_op(flavor, Op.RENAME_TABLE, reason=f"renames table {self.old} to {self.new}")

    def reverse(self) -> Change:
        return RenameTable(self.new, self.old)

    def describe(self) -> str:
        return f"rename table {self.old} to {self.new}"


# ---------------------------------------------------------------------------
# Views, routines, triggers, events: metadata only, no rows at stake.

_META = Assessment(Risk.SAFE, Algorithm.INSTANT, Lock.NONE, "")


def _meta(reason: str) -> Assessment:
    return replace(_META, reason=reason)


@dataclass(frozen=True)
class CreateView(Change):
    """CREATE VIEW."""

    view: View

    @property
    def subject(self) -> str:
        return self.view.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return ddl.create_view(self.view, flavor)

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"creates view {self.view.name}")

    def reverse(self) -> Change:
        return DropView(self.view)

    def describe(self) -> str:
        return f"create view {self.view.name}"


@dataclass(frozen=True)
class DropView(Change):
    """DROP VIEW."""

    view: View

    @property
    def subject(self) -> str:
        return self.view.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return f"DROP VIEW {'IF EXISTS ' * opts.if_exists}{q(self.view.name)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"drops view {self.view.name}")

    def reverse(self) -> Change:
        return CreateView(self.view)

    def describe(self) -> str:
        return f"drop view {self.view.name}"


@dataclass(frozen=True)
class AlterView(Change):
    """CREATE OR REPLACE VIEW: one atomic statement, dependants stay valid."""

    before: View
    after: View

    @property
    def subject(self) -> str:
        return self.after.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        sql = ddl.create_view(self.after, flavor)
        if sql.startswith("CREATE ") and not sql.startswith("CREATE OR REPLACE "):
            sql = "CREATE OR REPLACE " + sql[len("CREATE ") :]
        return sql

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"replaces view {self.after.name}")

    def reverse(self) -> Change:
        return AlterView(self.after, self.before)

    def describe(self) -> str:
        return f"replace view {self.after.name}"


@dataclass(frozen=True)
class CreateRoutine(Change):
    """CREATE PROCEDURE / FUNCTION."""

    routine: Routine

    @property
    def subject(self) -> str:
        return self.routine.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return ddl.create_routine(self.routine, flavor)

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"creates {self.routine.kind.lower()} {self.routine.name}")

    def reverse(self) -> Change:
        return DropRoutine(self.routine)

    def describe(self) -> str:
        return f"create {self.routine.kind.lower()} {self.routine.name}"


@dataclass(frozen=True)
class DropRoutine(Change):
    """DROP PROCEDURE / FUNCTION."""

    routine: Routine

    @property
    def subject(self) -> str:
        return self.routine.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        exists = "IF EXISTS " * opts.if_exists
        return f"DROP {self.routine.kind.upper()} {exists}{q(self.routine.name)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"drops {self.routine.kind.lower()} {self.routine.name}")

    def reverse(self) -> Change:
        return CreateRoutine(self.routine)

    def describe(self) -> str:
        return f"drop {self.routine.kind.lower()} {self.routine.name}"


@dataclass(frozen=True)
class CreateTrigger(Change):
    """CREATE TRIGGER."""

    trigger: Trigger

    @property
    def subject(self) -> str:
        return self.trigger.table

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return ddl.create_trigger(self.trigger, flavor)

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"creates trigger {self.trigger.name}")

    def reverse(self) -> Change:
        return DropTrigger(self.trigger)

    def describe(self) -> str:
        return f"create trigger {self.trigger.name} on {self.trigger.table}"


@dataclass(frozen=True)
class DropTrigger(Change):
    """DROP TRIGGER."""

    trigger: Trigger

    @property
    def subject(self) -> str:
        return self.trigger.table

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return f"DROP TRIGGER {'IF EXISTS ' * opts.if_exists}{q(self.trigger.name)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"drops trigger {self.trigger.name}")

    def reverse(self) -> Change:
        return CreateTrigger(self.trigger)

    def describe(self) -> str:
        return f"drop trigger {self.trigger.name} on {self.trigger.table}"


@dataclass(frozen=True)
class CreateEvent(Change):
    """CREATE EVENT."""

    event: Event

    @property
    def subject(self) -> str:
        return self.event.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return ddl.create_event(self.event, flavor)

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"creates event {self.event.name}")

    def reverse(self) -> Change:
        return DropEvent(self.event)

    def describe(self) -> str:
        return f"create event {self.event.name}"


@dataclass(frozen=True)
class DropEvent(Change):
    """DROP EVENT."""

    event: Event

    @property
    def subject(self) -> str:
        return self.event.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return f"DROP EVENT {'IF EXISTS ' * opts.if_exists}{q(self.event.name)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"drops event {self.event.name}")

    def reverse(self) -> Change:
        return CreateEvent(self.event)

    def describe(self) -> str:
        return f"drop event {self.event.name}"


@dataclass(frozen=True)
class AlterEvent(Change):
    """ALTER EVENT restating every attribute (both flavors accept all of them)."""

    before: Event
    after: Event

    @property
    def subject(self) -> str:
        return self.after.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        e = self.after
        sched = f"ON SCHEDULE {e.schedule}"
        if e.starts and e.schedule.upper().startswith("EVERY"):
            sched += f" STARTS {_literal(e.starts)}"
        if e.ends and e.schedule.upper().startswith("EVERY"):
            sched += f" ENDS {_literal(e.ends)}"
        status = {
            "ENABLED": "ENABLE",
            "DISABLED": "DISABLE",
            "SLAVESIDE_DISABLED": "DISABLE ON SLAVE",
        }.get(e.status.upper(), "ENABLE")
        return (
            f"ALTER EVENT {q(e.name)} {sched} ON COMPLETION {e.on_completion} {status}"
            f" COMMENT {_literal(e.comment)} DO {e.body}"
        )

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"alters event {self.after.name}")

    def reverse(self) -> Change:
        return AlterEvent(self.after, self.before)

    def describe(self) -> str:
        return f"alter event {self.after.name}"
