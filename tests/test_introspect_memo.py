"""TableMemo: a plan models and self-checks each distinct table once.

The memo may only hand back a table built from the same server text AND the
same information_schema rows; anything else is built (and checked) afresh.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from myshift.db.connect import Conn, Endpoint, connect, connected, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.introspect import IntrospectionRows, TableMemo, build_schema, introspect
from myshift.model import MYSQL_8_0

DATA = Path(__file__).parent / "data" / "mysql"

TABLES = [
    "CREATE TABLE parent (id int PRIMARY KEY, code varchar(20) NOT NULL, UNIQUE KEY uk (code))",
    "CREATE TABLE child (id int PRIMARY KEY, parent_id int, note text COMMENT 'x',"
    " KEY ix (parent_id), CONSTRAINT fk FOREIGN KEY (parent_id) REFERENCES parent (id))",
    "CREATE TABLE other (id int PRIMARY KEY, v decimal(10,2) DEFAULT 1.50)",
]


@pytest.fixture
def second_schema(server: LocalServer) -> Iterator[Endpoint]:
    name = f"memo_{uuid.uuid4().hex[:8]}"
    admin = connect(Endpoint(host=server.host, port=server.port, user="root", password=""))
    admin.execute(f"CREATE DATABASE {quote_ident(name)} DEFAULT CHARACTER SET utf8mb4")
    try:
        yield Endpoint(host=server.host, port=server.port, user="root", password="", schema=name)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
        admin.close()


def test_same_tables_in_two_schemas_are_built_once(
    conn: Conn, fresh_schema: Endpoint, second_schema: Endpoint
) -> None:
    for stmt in TABLES:
        conn.execute(stmt)
    with connected(second_schema) as c2:
        for stmt in TABLES[:2]:
            c2.execute(stmt)
        # Same name and text as in the first schema, other rows: a default differs.
        c2.execute("CREATE TABLE other (id int PRIMARY KEY, v decimal(10,2) DEFAULT 2.50)")
        memo = TableMemo()
        a = introspect(conn, fresh_schema.schema, memo)
        b = introspect(c2, second_schema.schema, memo)
        plain = introspect(c2, second_schema.schema)
    # The FK points into each table's own schema: still the same table.
    assert b.table_map["parent"] is a.table_map["parent"]
    assert b.table_map["child"] is a.table_map["child"]
    assert b.table_map["other"] is not a.table_map["other"]
    assert b.table_map["other"].column_map["v"].default == "2.50"
    # Reuse changes nothing: the memo's result equals a fresh introspection.
    assert b == plain and b.same_objects(plain)
    assert all(t.unsupported is None for t in b.tables)


def test_same_text_other_rows_is_not_reused() -> None:
    """A table whose server text matches but whose rows differ is modelled afresh:
    here the changed row contradicts the text, so the fresh self-check flags it."""
    rows = IntrospectionRows.load(DATA / "shop-8.0.json")
    memo = TableMemo()
    first = build_schema(rows, MYSQL_8_0, memo)
    assert first.table_map["customers"].unsupported is None
    changed = IntrospectionRows.load(DATA / "shop-8.0.json")
    for r in changed.columns:
        if r["table_name"] == "customers" and r["name"] == "name":
            r["comment"] = "not on the server"
    second = build_schema(changed, MYSQL_8_0, memo)
    assert second.table_map["customers"] is not first.table_map["customers"]
    assert second.table_map["customers"].unsupported is not None
    assert second.table_map["orders"] is first.table_map["orders"]
