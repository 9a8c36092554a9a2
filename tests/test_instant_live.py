"""INSTANT predictions held to the live MariaDB server the suite starts.

For each change the plan's own path predicts an algorithm (introspect ->
diff_schemas -> assess with the server's flavor); the statement is then run
with ``ALGORITHM=<prediction>``, which the server must accept, and, when the
prediction is not INSTANT, with ``ALGORITHM=INSTANT``, which it must refuse
(so the prediction is right, not merely pessimistic).  The table rules of
engine/instant.py (FULLTEXT, ROW_FORMAT=COMPRESSED) were MySQL-only until this
test measured MariaDB 10.11 refusing INSTANT there too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pymysql
import pytest

from myshift.db.connect import Endpoint, connect
from myshift.engine.changes import AlterTable
from myshift.engine.diff import diff_schemas
from myshift.engine.introspect import introspect
from myshift.engine.risk import Algorithm
from myshift.model import Column, Schema, Table

_TABLES = {
    "plain": "CREATE TABLE plain (id INT PRIMARY KEY, a INT, body TEXT)",
    "ft": "CREATE TABLE ft (id INT PRIMARY KEY, a INT, body TEXT, FULLTEXT KEY fb (body))",
    "cz": "CREATE TABLE cz (id INT PRIMARY KEY, a INT, body TEXT) ROW_FORMAT=COMPRESSED",
}
_NEW = Column("n", "int(11)", default="NULL")


def _add(t: Table) -> Table:
    return replace(t, columns=(*t.columns, _NEW))


def _drop(t: Table) -> Table:
    return replace(t, columns=tuple(c for c in t.columns if c.name != "a"))


def _move(t: Table) -> Table:
    a, others = t.column_map["a"], [c for c in t.columns if c.name != "a"]
    return replace(t, columns=(*others, a))


@pytest.mark.parametrize("change", [_add, _drop, _move], ids=["add", "drop", "move"])
@pytest.mark.parametrize("table", sorted(_TABLES))
def test_prediction_is_what_the_server_does(
    fresh_schema: Endpoint, table: str, change: Callable[[Table], Table]
) -> None:
    conn = connect(fresh_schema)
    try:
        conn.execute(_TABLES[table])
        conn.execute(f"INSERT INTO {table} (id, a, body) VALUES (1, 1, 'x'), (2, 2, 'y')")
        flavor = conn.flavor
        current = introspect(conn, fresh_schema.schema)
        before = current.table_map[table]
        desired = Schema(current.name, tables=(change(before),))
        (stmt,) = diff_schemas(current, desired)
        assert isinstance(stmt, AlterTable)
        predicted = stmt.assess(flavor).algorithm
        sql = stmt.render(flavor)
        if predicted is not Algorithm.INSTANT:
            with pytest.raises(pymysql.err.MySQLError, match="ALGORITHM=INSTANT is not supported"):
                conn.execute(f"{sql}, ALGORITHM=INSTANT")
        conn.execute(f"{sql}, ALGORITHM={predicted}")
        if table == "plain":
            assert predicted is Algorithm.INSTANT, (flavor, sql)
        else:
            assert predicted is Algorithm.INPLACE, (flavor, sql)
    finally:
        conn.close()
