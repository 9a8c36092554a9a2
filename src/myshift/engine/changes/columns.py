"""ALTER TABLE clauses on columns: add, drop, re-create, modify, rename."""

from __future__ import annotations

from dataclasses import dataclass, replace

from myshift.engine import ddl
from myshift.engine.changes.base import (
    _SAFE_INSTANT,
    NO_TABLES,
    Clause,
    Position,
    TableStates,
    _pos,
    q,
)
from myshift.engine.instant import added_column_refusal, downgraded, instant_columns_refused
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
from myshift.model.schema import Column, Table


@dataclass(frozen=True)
class AddColumn(Clause):
    """ADD COLUMN, at a position when column order requires it."""

    column: Column
    position: Position | None = None

    def render(self, flavor: Flavor, table: Table) -> str:
        return (
            f"ADD COLUMN {ddl.column_definition(self.column, table, flavor)}{_pos(self.position)}"
        )

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
        c = self.column
        if c.auto_increment:
            return assess_op(flavor, Op.ADD_AUTO_INCREMENT, reason=f"adds AUTO_INCREMENT {c.name}")
        if c.generated is not None and c.stored:
            return assess_op(
                flavor, Op.CHANGE_TYPE, reason=f"adds STORED generated column {c.name}"
            )
        a = assess_op(flavor, Op.ADD_COLUMN, reason=f"adds column {c.name}")
        if c.generated is not None:
            # A VIRTUAL column is metadata only on MySQL 8.0 (INSTANT_VIRTUAL_ONLY
            # in innobase_support_instant(), whatever the table) and MariaDB.
            return Assessment(a.risk, Algorithm.INSTANT, Lock.NONE, a.reason)
        if flavor.is_mysql and flavor.has_instant_add_column_last and self._is_last(tables):
            # Appending is INSTANT from 8.0.12 (manual "Online DDL Operations":
            # "INSTANT is the default algorithm as of MySQL 8.0.12"; before 8.0.29
            # "an instantly added column could only be added as the last column").
            a = Assessment(a.risk, Algorithm.INSTANT, Lock.NONE, a.reason)
        return _column_refusals(flavor, a, tables.before, c)

    def _is_last(self, tables: TableStates) -> bool:
        """Whether the column lands after every column the table had (an append)."""
        before, after = tables.before, tables.after
        if before is None or after is None:
            return self.position is None
        names = [col.name for col in after.columns]
        if self.column.name not in names:
            return False
        old = before.column_map
        return not any(n in old for n in names[names.index(self.column.name) :])

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

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
        c = self.column
        a = assess_op(
            flavor, Op.DROP_COLUMN, Risk.DESTRUCTIVE, f"drops column {c.name} and its data"
        )
        if flavor.is_mysql and c.generated is not None and not c.stored:
            # Dropping a VIRTUAL column is INSTANT on every 8.0 (INSTANT_VIRTUAL_ONLY).
            return Assessment(a.risk, Algorithm.INSTANT, Lock.NONE, a.reason)
        before = tables.before
        if flavor.is_mysql and before is not None and a.algorithm is Algorithm.INSTANT:
            for ix in before.indexes:
                if c.name in ix.column_names:
                    # Its index changes too: DROP_INDEX is not in INNOBASE_INSTANT_ALLOWED
                    # (Vitess capability.go: "the column is part of an index").
                    why = f"column {c.name} is part of index {ix.name}, which is rebuilt"
                    return downgraded(a, Algorithm.INPLACE, why)
        return _column_refusals(flavor, a, before, None)

    def reverse(self) -> Clause:
        return AddColumn(self.column, self.position)

    def describe(self) -> str:
        return f"drop column {self.column.name}"


def _column_refusals(
    flavor: Flavor, a: Assessment, before: Table | None, added: Column | None
) -> Assessment:
    """``a`` (an instant ADD/DROP of a stored column) as the table and the added column
    allow it (engine.risk: FULLTEXT, COMPRESSED, expression defaults, NOT NULL
    geometry/dates without default; the row-version limit is AlterTable's)."""
    if added is not None:
        refusal = added_column_refusal(flavor, added)
        if refusal is not None:
            algorithm, risk, why = refusal
            a = downgraded(a, algorithm, why)
            if risk.rank > a.risk.rank:
                a = Assessment(risk, a.algorithm, a.lock, a.reason)
    if a.algorithm is Algorithm.INSTANT:
        why_not = instant_columns_refused(flavor, before)
        if why_not is not None:
            a = downgraded(a, Algorithm.INPLACE, why_not)
    return a


def bumps_row_version(clause: Clause) -> bool:
    """Whether the clause, run instantly, adds a row version (stored column ADD/DROP)."""
    if isinstance(clause, AddColumn | DropColumn):
        c = clause.column
        return c.generated is None or c.stored
    return isinstance(clause, RecreateColumn)


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

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
        name = self.after.name
        parts = [AddColumn(self.after, self.position).assess(flavor, tables)]
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
    if (old.default, old.on_update) != (new.default, new.on_update) and not _implicit_default(
        old, new
    ):
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

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
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
        where = f", move{_pos(self.position)}" if self.position is not None else ""
        if self.before == self.after:
            return f"move column {self.after.name}{_pos(self.position)}"
        return f"modify column {column_changes(self.before, self.after)}{where}"


def _implicit_default(old: Column, new: Column) -> bool:
    """A nullable column's implicit DEFAULT NULL comes and goes with NOT NULL: no change
    of its own."""
    return (
        {old.default, new.default} == {"NULL", None}
        and old.nullable != new.nullable
        and old.on_update == new.on_update
    )


def _shown(value: str | None) -> str:
    return "none" if value is None else value


def column_changes(old: Column, new: Column) -> str:
    """Exactly what changes between two definitions of a column, clause by clause:
    ``email varchar(100): NULL -> NOT NULL`` rather than ``varchar(100) -> varchar(100)``."""
    if old.type != new.type:
        head = f"{new.name} {old.type} -> {new.type}"
    else:
        head = f"{new.name} {new.type}"
    parts: list[str] = []
    if old.charset != new.charset:
        parts.append(f"CHARACTER SET {_shown(old.charset)} -> {_shown(new.charset)}")
    elif old.collation != new.collation:
        parts.append(f"COLLATE {_shown(old.collation)} -> {_shown(new.collation)}")
    if old.nullable != new.nullable:
        parts.append("NULL -> NOT NULL" if old.nullable else "NOT NULL -> NULL")
    if old.default != new.default and not _implicit_default(old, new):
        parts.append(f"DEFAULT {_shown(old.default)} -> {_shown(new.default)}")
    if old.on_update != new.on_update:
        parts.append(f"ON UPDATE {_shown(old.on_update)} -> {_shown(new.on_update)}")
    if old.auto_increment != new.auto_increment:
        parts.append("AUTO_INCREMENT " + ("added" if new.auto_increment else "removed"))
    if (old.generated, old.stored) != (new.generated, new.stored):
        changed = _kind(old) != _kind(new)
        parts.append(f"{_kind(old)} -> {_kind(new)}" if changed else "generated expression changes")
    if old.comment != new.comment:
        parts.append("COMMENT changes")
    if old.invisible != new.invisible:
        parts.append("INVISIBLE" if new.invisible else "VISIBLE")
    if old.srid != new.srid:
        parts.append(f"SRID {_shown(str(old.srid) if old.srid is not None else None)} -> "
                     f"{_shown(str(new.srid) if new.srid is not None else None)}")  # fmt: skip
    if old.compressed != new.compressed:
        parts.append("COMPRESSED" if new.compressed else "not COMPRESSED")
    return head + (": " + ", ".join(parts) if parts else "")


@dataclass(frozen=True)
class RenameColumn(Clause):
    """RENAME COLUMN when only the name changes, else CHANGE COLUMN."""

    before: Column
    after: Column
    position: Position | None = None
    old_position: Position | None = None

    def render(self, flavor: Flavor, table: Table) -> str:
        only_name = replace(self.before, name=self.after.name) == self.after
        if only_name and self.position is None and flavor.has_rename_column:
            return f"RENAME COLUMN {q(self.before.name)} TO {q(self.after.name)}"
        return (
            f"CHANGE COLUMN {q(self.before.name)} "
            f"{ddl.column_definition(self.after, table, flavor)}{_pos(self.position)}"
        )

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
        rename = assess_op(
            flavor,
            Op.RENAME_COLUMN,
            reason=f"renames column {self.before.name} to {self.after.name}",
        )
        if flavor.is_mysql and self.before.name in tables.referenced:
            # ok_to_rename_column(): a column another table's foreign key points at
            # is renamed in place (ER_ALTER_OPERATION_NOT_SUPPORTED_REASON_FK_RENAME).
            why = f"a foreign key points at {self.before.name}"
            rename = downgraded(rename, Algorithm.INPLACE, why)
        parts = [rename]
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
