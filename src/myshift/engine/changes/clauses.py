"""ALTER TABLE clauses on indexes, foreign keys, CHECKs, table options and partitioning."""

from __future__ import annotations

from dataclasses import dataclass

from myshift.engine import ddl
from myshift.engine.changes.base import (
    _SAFE_INSTANT,
    NO_TABLES,
    Clause,
    TableStates,
    _literal,
    q,
)
from myshift.engine.risk import Assessment, Op, Risk, assess_op, combine
from myshift.model.flavor import Flavor
from myshift.model.schema import Check, ForeignKey, Index, IndexKind, Partitioning, Table


@dataclass(frozen=True)
class AddIndex(Clause):
    """ADD INDEX / UNIQUE / FULLTEXT / SPATIAL / PRIMARY KEY."""

    index: Index

    def render(self, flavor: Flavor, table: Table) -> str:
        return f"ADD {ddl.index_definition(self.index, flavor)}"

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
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

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
        if self.index.is_primary:
            return assess_op(flavor, Op.DROP_PRIMARY, reason="drops the PRIMARY KEY")
        reason = f"drops index {self.index.name}{self._scan_hint(flavor, tables)}"
        return assess_op(flavor, Op.DROP_INDEX, reason=reason)

    def _scan_hint(self, flavor: Flavor, tables: TableStates) -> str:
        """No row is lost, but a query that needs the index turns into a table scan
        (what the watch flags after the apply): say so, unless the optimizer already
        ignores it or another index of the table still leads with its first column."""
        first = self.index.parts[0].column if self.index.parts else None
        kept = tables.after.indexes if tables.after is not None else ()
        if self.index.invisible or (
            first is not None
            and any(i.parts and i.parts[0].column == first and not i.invisible for i in kept)
        ):
            return ""
        word = "IGNORED" if flavor.min_mariadb(10, 6) else "INVISIBLE" if flavor.is_mysql else ""
        first_try = f" (make it {word} first to see)" if word else ""
        return f"; queries using it may scan the table{first_try}"

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

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
        return assess_op(flavor, Op.RENAME_INDEX, reason=f"renames index {self.before.name}")

    def reverse(self) -> Clause:
        return RenameIndex(self.after, self.before)

    def describe(self) -> str:
        return f"rename index {self.before.name} to {self.after.name}"


@dataclass(frozen=True)
class AddForeignKey(Clause):
    """ADD CONSTRAINT ... FOREIGN KEY.

    ``unchecked``: added with ``foreign_key_checks=0`` in the session (see
    ``AlterTable.session``), which InnoDB does in place with no copy. The diff
    sets it only where the orphan pre-flight can run before and after the
    statement (engine.preflight.orphans_checkable): the server validates no
    row then, the pre-flight does.
    """

    foreign_key: ForeignKey
    unchecked: bool = False

    def render(self, flavor: Flavor, table: Table) -> str:
        return f"ADD {ddl.foreign_key_definition(self.foreign_key, flavor)}"

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
        fk = self.foreign_key
        if self.unchecked:
            return assess_op(
                flavor,
                Op.ADD_FOREIGN_KEY_UNCHECKED,
                Risk.DATA_DEPENDENT,
                f"adds foreign key {fk.name} with foreign_key_checks=0 once the pre-flight "
                f"finds no row without a parent in {fk.ref_table}, and checks again after",
            )
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

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
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

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
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
        word = "CHECK" if flavor.has_drop_check else "CONSTRAINT"
        return f"DROP {word} {q(self.check.name)}"

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
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

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
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

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
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

    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment:
        return assess_op(flavor, Op.REMOVE_PARTITIONING, reason="removes partitioning")

    def reverse(self) -> Clause:
        return ChangePartitioning(None, self.before)

    def describe(self) -> str:
        return "remove partitioning"
