"""Which tables a plan's verification copy holds (workflows.plan._scope), on pure models."""

from __future__ import annotations

from dataclasses import replace

from myshift.engine.diff import diff_schemas
from myshift.model import Flavor
from myshift.model.schema import Column, ForeignKey, Index, IndexKind, IndexPart, Schema, Table
from myshift.workflows.plan import Plan, _scope


def _table(name: str, *cols: str, fk_to: str | None = None) -> Table:
    columns = [Column("id", "int(11)", nullable=False)]
    columns += [Column(c, "int(11)") for c in cols]
    indexes = [Index("PRIMARY", IndexKind.PRIMARY, (IndexPart("id"),))]
    fks: list[ForeignKey] = []
    if fk_to:
        columns.append(Column("parent_id", "int(11)"))
        indexes.append(Index("fk_" + name, IndexKind.INDEX, (IndexPart("parent_id"),)))
        fks.append(ForeignKey("fk_" + name, ("parent_id",), fk_to, ("id",)))
    return Table(name, tuple(columns), tuple(indexes), tuple(fks))


def _plan(current: Schema, desired: Schema) -> Plan:
    changes = diff_schemas(current, desired)
    return Plan("t", Flavor.parse("10.11.0-MariaDB"), [], "", "", current, desired, changes)


def test_children_join_only_when_what_they_reference_changes() -> None:
    grand = _table("grand")
    parent = _table("parent", "note", fk_to="grand")
    child = _table("child", fk_to="parent")
    other = _table("other")
    current = Schema("s", tables=(child, grand, other, parent))

    # An unrelated column of the parent changes: its referenced parent joins
    # (the ALTER validates the parent's own FK), the child does not.
    p2 = replace(parent, columns=(*parent.columns, Column("extra", "int(11)")))
    scope = _scope(_plan(current, replace(current, tables=(child, grand, other, p2))))
    assert scope.tables == {"parent", "grand"}

    # The referenced column itself changes: the child's FK is validated, so it joins.
    cols = tuple(replace(c, type="bigint(20)") if c.name == "id" else c for c in parent.columns)
    p3 = replace(parent, columns=cols)
    scope = _scope(_plan(current, replace(current, tables=(child, grand, other, p3))))
    assert {"parent", "grand", "child"} <= scope.tables and "other" not in scope.tables

    # The parent is dropped: every child referencing it joins.
    scope = _scope(_plan(current, replace(current, tables=(grand, other))))
    assert {"parent", "child", "grand"} <= scope.tables and "other" not in scope.tables
