"""DROP INDEX loses no row, but a query that needs the index scans the table: the plan says so."""

from __future__ import annotations

from myshift.engine.changes.base import TableStates
from myshift.engine.changes.clauses import DropIndex
from myshift.model.flavor import Flavor
from myshift.model.schema import Column, Index, IndexKind, IndexPart, Table

MARIADB = Flavor.parse("10.11.6-MariaDB", "mariadb.org binary distribution")
MYSQL = Flavor.parse("8.0.36", "MySQL Community Server - GPL")


def _ix(name: str, col: str, invisible: bool = False) -> Index:
    return Index(name, IndexKind.INDEX, (IndexPart(column=col),), invisible=invisible)


def _table(*indexes: Index) -> Table:
    cols = (Column("id", "int(11)", nullable=False), Column("customer", "int(11)"))
    pk = Index("PRIMARY", IndexKind.PRIMARY, (IndexPart("id"),))
    return Table("orders", cols, (pk, *indexes))


def test_a_dropped_index_warns_of_scans_and_names_the_way_to_try() -> None:
    drop = DropIndex(_ix("by_customer", "customer"))
    states = TableStates(before=_table(_ix("by_customer", "customer")), after=_table())
    assert drop.assess(MARIADB, states).reason.endswith(
        "queries using it may scan the table (make it IGNORED first to see)"
    )
    assert "INVISIBLE first" in drop.assess(MYSQL, states).reason


def test_no_warning_when_another_index_leads_with_the_column_or_it_is_unused() -> None:
    drop = DropIndex(_ix("by_customer", "customer"))
    replaced = TableStates(after=_table(_ix("by_customer_v2", "customer")))
    assert drop.assess(MARIADB, replaced).reason == "drops index by_customer"
    ignored = DropIndex(_ix("by_customer", "customer", invisible=True))
    assert ignored.assess(MARIADB, TableStates(after=_table())).reason == "drops index by_customer"
