"""Flavor's named predicates: the version boundaries each one draws."""

from __future__ import annotations

import pytest

from myshift.engine.risk import Algorithm, Op, online_ddl
from myshift.model.flavor import Flavor

# (predicate, flavor, value): the last version without and the first with.
BOUNDARIES: list[tuple[str, str, object]] = [
    ("has_rename_column", "mariadb:10.5.1", False),
    ("has_rename_column", "mariadb:10.5.2", True),
    ("has_rename_column", "mysql:8.0.0", True),
    ("shows_invisible_before_default", "mariadb:11.6.2", True),
    ("shows_invisible_before_default", "mariadb:11.7.0", False),
    ("shows_invisible_before_default", "mysql:8.4.0", False),
    ("has_ignorable_indexes", "mariadb:10.5.25", False),
    ("has_ignorable_indexes", "mariadb:10.6.0", True),
    ("has_ignorable_indexes", "mysql:8.0.36", True),
    ("has_ordered_json_arrayagg", "mariadb:10.4.34", False),
    ("has_ordered_json_arrayagg", "mariadb:10.5.0", True),
    ("has_ordered_json_arrayagg", "mysql:8.4.0", False),
    ("has_character_set_collations", "mariadb:11.1.9", False),
    ("has_character_set_collations", "mariadb:11.2.0", True),
    ("has_character_set_collations", "mysql:8.4.0", False),
    ("has_replica_syntax", "mysql:8.0.21", False),
    ("has_replica_syntax", "mysql:8.0.22", True),
    ("has_replica_syntax", "mariadb:10.5.0", False),
    ("has_replica_syntax", "mariadb:10.5.1", True),
    ("has_instant_drop_column", "mariadb:10.3.39", False),
    ("has_instant_drop_column", "mariadb:10.4.0", True),
    ("has_instant_drop_column", "mysql:8.0.28", False),
    ("has_instant_drop_column", "mysql:8.0.29", True),
    ("has_instant_add_column_anywhere", "mysql:8.0.28", False),
    ("has_instant_add_column_anywhere", "mysql:8.0.29", True),
    ("has_instant_rename_column", "mysql:8.0.27", False),
    ("has_instant_rename_column", "mysql:8.0.28", True),
    ("has_instant_reorder_column", "mariadb:10.4.0", True),
    ("has_instant_reorder_column", "mysql:8.4.0", False),
    ("hidden_fk_action", "mysql:8.0.36", "NO ACTION"),
    ("hidden_fk_action", "mariadb:10.11.6", "RESTRICT"),
    ("has_drop_check", "mysql:8.0.36", True),
    ("has_drop_check", "mariadb:11.4.2", False),
    ("version_id", "mariadb:10.11.19", 101119),
    ("version_id", "mysql:8.0.36", 80036),
]


@pytest.mark.parametrize(("name", "flavor", "value"), BOUNDARIES)
def test_predicate_boundary(name: str, flavor: str, value: object) -> None:
    assert getattr(Flavor.from_string(flavor), name) == value


@pytest.mark.parametrize(
    ("flavor", "op", "algo"),
    [
        ("mysql:8.0.28", Op.ADD_COLUMN, Algorithm.INPLACE),
        ("mysql:8.0.29", Op.ADD_COLUMN, Algorithm.INSTANT),
        ("mysql:8.0.27", Op.RENAME_COLUMN, Algorithm.INPLACE),
        ("mysql:8.4.0", Op.REORDER_COLUMN, Algorithm.INPLACE),
        ("mariadb:10.3.39", Op.REORDER_COLUMN, Algorithm.INPLACE),
        ("mariadb:10.3.39", Op.ADD_COLUMN, Algorithm.INSTANT),
        ("mariadb:10.11.6", Op.DROP_COLUMN, Algorithm.INSTANT),
    ],
)
def test_online_ddl_follows_the_predicates(flavor: str, op: Op, algo: Algorithm) -> None:
    assert online_ddl(Flavor.from_string(flavor), op)[0] is algo
