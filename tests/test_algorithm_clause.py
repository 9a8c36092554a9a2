"""apply --algorithm sends an ALGORITHM= clause, so a wrong prediction is refused, not run.

The clause choice is checked for both flavors (pure); the runner is checked on
the live MariaDB server: a right prediction runs as before, a wrong one is
refused by the server and nothing changes.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from myshift.db.connect import Endpoint, connect
from myshift.engine.risk import Algorithm, Lock, Risk
from myshift.errors import ApplyFailed
from myshift.model import Flavor
from myshift.workflows.algorithm_clause import clause_for, with_algorithm
from myshift.workflows.planmodel import PlannedStatement
from myshift.workflows.runner import ApplyOptions, StatementRun, run_statements

MYSQL = Flavor.from_string("mysql:8.0.36")
MARIADB = Flavor.from_string("mariadb:10.11.6")


def planned(sql: str, algorithm: Algorithm) -> PlannedStatement:
    return PlannedStatement(sql, "t", "change t", Risk.SAFE, algorithm, Lock.NONE, "why")


ADD = planned("ALTER TABLE `t` ADD COLUMN `b` int DEFAULT NULL", Algorithm.INSTANT)


def test_no_policy_sends_the_statement_as_planned() -> None:
    for flavor in (MYSQL, MARIADB):
        assert with_algorithm(ADD, None, flavor) == ADD
        assert with_algorithm(ADD, Algorithm.COPY, flavor) == ADD


def test_mysql_gets_the_prediction_mariadb_the_policy() -> None:
    # MySQL runs exactly the algorithm named: the prediction, never more.
    assert with_algorithm(ADD, Algorithm.INPLACE, MYSQL).sql.endswith(", ALGORITHM=INSTANT")
    # MariaDB reads it as the least efficient acceptable: the policy.
    assert with_algorithm(ADD, Algorithm.INPLACE, MARIADB).sql.endswith(", ALGORITHM=INPLACE")
    rebuild = planned("ALTER TABLE `t` MODIFY COLUMN `a` int NULL", Algorithm.INPLACE)
    assert clause_for(rebuild, Algorithm.INPLACE, MYSQL) == "INPLACE"


def test_statements_left_alone() -> None:
    for st in (
        planned("RENAME TABLE `a` TO `b`", Algorithm.INSTANT),
        planned("ALTER TABLE `t` ADD COLUMN `c` int, ALGORITHM=INPLACE", Algorithm.INPLACE),
        planned("ALTER TABLE `t` REMOVE PARTITIONING", Algorithm.INPLACE),
        planned("ALTER TABLE `t` PARTITION BY HASH (`id`) PARTITIONS 4", Algorithm.INPLACE),
        # MariaDB refuses ALGORITHM= beside these (1064): never added.
        planned("ALTER TABLE `t` ADD PARTITION (PARTITION `p1` VALUES IN (1))", Algorithm.INSTANT),
        planned("ALTER TABLE `t` DROP PARTITION `p0`", Algorithm.INSTANT),
        planned("ALTER TABLE `t` REORGANIZE PARTITION `a` INTO (PARTITION `a`)", Algorithm.INPLACE),
        planned("ALTER TABLE `t` COALESCE PARTITION 2", Algorithm.INPLACE),
        replace(ADD, path="pt-osc"),
    ):
        assert clause_for(st, Algorithm.INPLACE, MYSQL) is None, st.sql


def _table(endpoint: Endpoint) -> None:
    c = connect(endpoint)
    try:
        c.execute("CREATE TABLE t (id int PRIMARY KEY, a int)")
        c.execute("INSERT INTO t VALUES (1, 1), (2, 2)")
    finally:
        c.close()


def _column_type(endpoint: Endpoint, column: str) -> object:
    c = connect(endpoint)
    try:
        return c.scalar(
            "SELECT COLUMN_TYPE FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA=%s AND TABLE_NAME='t' AND COLUMN_NAME=%s",
            (endpoint.schema, column),
        )
    finally:
        c.close()


def test_right_prediction_runs_with_the_clause(fresh_schema: Endpoint) -> None:
    _table(fresh_schema)
    seen: list[StatementRun] = []
    opts = ApplyOptions(record_history=False, algorithm=Algorithm.INPLACE)
    run_statements(fresh_schema, [ADD], opts, observe=seen.append)
    assert seen[0].statement.sql.endswith(", ALGORITHM=INPLACE")
    assert _column_type(fresh_schema, "b") == "int(11)"


def test_wrong_prediction_is_refused_by_the_server(fresh_schema: Endpoint) -> None:
    _table(fresh_schema)
    # int -> bigint copies the table; a statement wrongly predicted INSTANT:
    wrong = planned("ALTER TABLE `t` MODIFY COLUMN `a` bigint", Algorithm.INSTANT)
    opts = ApplyOptions(record_history=False, algorithm=Algorithm.INSTANT)
    with pytest.raises(ApplyFailed, match="refused by the server with the algorithm sent") as e:
        run_statements(fresh_schema, [wrong], opts)
    assert "re-run without --algorithm" in (e.value.fix or "")
    assert _column_type(fresh_schema, "a") == "int(11)"
    # Without a policy the same statement runs (the server chooses), as before.
    run_statements(fresh_schema, [wrong], ApplyOptions(record_history=False))
    assert _column_type(fresh_schema, "a") == "bigint(20)"
