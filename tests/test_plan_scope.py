"""Which tables a plan's verification copy holds (workflows.plan._scope), on pure models."""

from __future__ import annotations

from dataclasses import replace

from myshift.engine.diff import diff_schemas
from myshift.model import Flavor
from myshift.model.schema import Column, ForeignKey, Index, IndexKind, IndexPart, Schema, Table
from myshift.workflows.planmodel import Plan
from myshift.workflows.verify import _scope


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


MARIADB = Flavor.parse("10.11.0-MariaDB")
MYSQL = Flavor.parse("8.0.36")


def _plan(current: Schema, desired: Schema, flavor: Flavor = MARIADB) -> Plan:
    changes = diff_schemas(current, desired)
    return Plan("t", flavor, [], "", "", current, desired, changes)


def test_children_join_only_when_what_they_reference_changes() -> None:
    grand = _table("grand")
    parent = _table("parent", "note", fk_to="grand")
    child = _table("child", fk_to="parent")
    other = _table("other")
    current = Schema("s", tables=(child, grand, other, parent))

    # An unrelated column of the parent changes: neither the child nor (on
    # MariaDB, which does not open a parent for that ALTER) the table the
    # parent's own FK references joins.  MySQL copies every parent.
    p2 = replace(parent, columns=(*parent.columns, Column("extra", "int(11)")))
    scope = _scope(_plan(current, replace(current, tables=(child, grand, other, p2))))
    assert scope.tables == {"parent"}
    scope = _scope(_plan(current, replace(current, tables=(child, grand, other, p2)), MYSQL))
    assert scope.tables == {"parent", "grand"}

    # The FK's own column changes: the server checks it against the parent.
    pcols = tuple(
        replace(c, type="bigint(20)") if c.name == "parent_id" else c for c in parent.columns
    )
    p4 = replace(parent, columns=pcols)
    scope = _scope(_plan(current, replace(current, tables=(child, grand, other, p4))))
    assert scope.tables == {"parent", "grand"}

    # A new FK is validated against its parent.
    o2 = replace(
        other,
        columns=(*other.columns, Column("parent_id", "int(11)")),
        foreign_keys=(ForeignKey("fk_other", ("parent_id",), "grand", ("id",)),),
    )
    scope = _scope(_plan(current, replace(current, tables=(child, grand, o2, parent))))
    assert scope.tables == {"other", "grand"}

    # The referenced column itself changes: the child's FK is validated, so it joins.
    cols = tuple(replace(c, type="bigint(20)") if c.name == "id" else c for c in parent.columns)
    p3 = replace(parent, columns=cols)
    scope = _scope(_plan(current, replace(current, tables=(child, grand, other, p3))))
    assert scope.tables == {"parent", "child"}

    # The parent is dropped: every child referencing it joins.
    scope = _scope(_plan(current, replace(current, tables=(grand, other))))
    assert {"parent", "child", "grand"} <= scope.tables and "other" not in scope.tables
