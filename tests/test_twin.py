"""Twin: the second side of a plan borrows the tables whose SHOW CREATE TABLE text is equal.

What makes that sound is that every structural field of a Table shows in its
text: ``test_every_structural_field_is_in_the_text`` changes each one (and
fails when a new field is added without saying how it shows).  The live tests
check that borrowing gives exactly what reading gives, and that a borrower
never waits forever for a lender that failed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from typing import Any

import pytest

from conftest import endpoint_of
from myshift.db.connect import Conn, Endpoint, connect, connected, quote_ident
from myshift.db.server import LocalServer
from myshift.engine import ddl
from myshift.engine.introspect import (
    IntrospectionRows,
    Twin,
    TwinUnavailable,
    build_schema,
    fetch_rows,
    introspect,
)
from myshift.model import MARIADB_10_11, MYSQL_8_0, Flavor
from myshift.model.schema import (
    Check,
    Column,
    ForeignKey,
    Index,
    IndexKind,
    IndexPart,
    Partition,
    Partitioning,
    Table,
)

BASE = Table(
    name="t",
    columns=(
        Column("id", "int(11)", nullable=False, auto_increment=True),
        Column(
            "name",
            "varchar(20)",
            default="'x'",
            charset="latin1",
            collation="latin1_swedish_ci",
            comment="c",
        ),
        Column("at", "timestamp", nullable=False, default="current_timestamp()"),
        Column("g", "int(11)", generated="`id` + 1"),
        Column("geo", "point", nullable=False),
    ),
    indexes=(
        Index("PRIMARY", IndexKind.PRIMARY, (IndexPart("id"),)),
        Index("ix", IndexKind.INDEX, (IndexPart("name", length=5),), comment="i"),
        Index("ft", IndexKind.FULLTEXT, (IndexPart("name"),)),
    ),
    foreign_keys=(ForeignKey("fk", ("g",), "p", ("id",)),),
    checks=(Check("ck", "`id` > 0"),),
    partitioning=Partitioning(
        "RANGE", "`id`", (Partition("p0", "LESS THAN (10)"), Partition("p1", "LESS THAN MAXVALUE"))
    ),
    comment="table",
)

# For every compare=True field of every model class: a change that a server
# could hold, or why the field cannot differ while the text stays the same.
Mutation = Callable[[Table], Table]


def _col(i: int, **kw: Any) -> Mutation:
    return lambda t: replace(
        t, columns=tuple(replace(c, **kw) if n == i else c for n, c in enumerate(t.columns))
    )


def _ix(i: int, **kw: Any) -> Mutation:
    return lambda t: replace(
        t, indexes=tuple(replace(x, **kw) if n == i else x for n, x in enumerate(t.indexes))
    )


def _part(**kw: Any) -> Mutation:
    return _ix(1, parts=(replace(BASE.indexes[1].parts[0], **kw),))


def _fk(**kw: Any) -> Mutation:
    return lambda t: replace(t, foreign_keys=(replace(t.foreign_keys[0], **kw),))


def _chk(**kw: Any) -> Mutation:
    return lambda t: replace(t, checks=(replace(t.checks[0], **kw),))


def _pt(**kw: Any) -> Mutation:
    def f(t: Table) -> Table:
        assert t.partitioning is not None
        return replace(t, partitioning=replace(t.partitioning, **kw))

    return f


def _pn(**kw: Any) -> Mutation:
    def f(t: Table) -> Table:
        assert t.partitioning is not None
        first = replace(t.partitioning.partitions[0], **kw)
        return replace(
            t,
            partitioning=replace(
                t.partitioning, partitions=(first, *t.partitioning.partitions[1:])
            ),
        )

    return f


COMMON: dict[tuple[type, str], Mutation | str] = {
    (Table, "name"): lambda t: replace(t, name="u"),
    (Table, "columns"): lambda t: replace(t, columns=t.columns[:-1]),
    (Table, "indexes"): lambda t: replace(t, indexes=t.indexes[:-1]),
    (Table, "foreign_keys"): lambda t: replace(t, foreign_keys=()),
    (Table, "checks"): lambda t: replace(t, checks=()),
    (Table, "partitioning"): lambda t: replace(t, partitioning=None),
    (Table, "engine"): lambda t: replace(t, engine="Aria"),
    (Table, "charset"): "follows collation (its prefix); a server never holds another",
    (Table, "collation"): lambda t: replace(t, collation="utf8mb4_bin"),
    (Table, "row_format"): lambda t: replace(t, row_format="DYNAMIC"),
    (Table, "comment"): lambda t: replace(t, comment="other"),
    (Table, "options"): lambda t: replace(t, options=(("STATS_PERSISTENT", "0"),)),
    (Column, "name"): _col(1, name="nm"),
    (Column, "type"): _col(1, type="varchar(30)"),
    (Column, "nullable"): _col(1, nullable=False),
    (Column, "default"): _col(1, default="'y'"),
    (Column, "on_update"): _col(2, on_update="current_timestamp()"),
    (Column, "auto_increment"): _col(0, auto_increment=False),
    (Column, "charset"): "follows collation (its prefix); a server never holds another",
    (Column, "collation"): _col(1, collation="latin1_bin"),
    (Column, "comment"): _col(1, comment="d"),
    (Column, "generated"): _col(3, generated="`id` + 2"),
    (Column, "stored"): _col(3, stored=True),
    (Column, "invisible"): _col(1, invisible=True),
    (Column, "srid"): "MySQL only (a MariaDB server never reports one)",
    (Column, "compressed"): "MariaDB only",
    (Index, "name"): _ix(1, name="ix2"),
    (Index, "kind"): _ix(1, kind=IndexKind.UNIQUE),
    (Index, "parts"): _ix(1, parts=(IndexPart("id"),)),
    (Index, "comment"): _ix(1, comment="j"),
    (Index, "invisible"): _ix(1, invisible=True),
    (Index, "using"): _ix(1, using="BTREE"),
    (Index, "parser"): _ix(2, parser="ngram"),
    (IndexPart, "column"): _part(column="id"),
    (IndexPart, "expression"): "MySQL only (functional key parts)",
    (IndexPart, "length"): _part(length=6),
    (IndexPart, "descending"): _part(descending=True),
    (ForeignKey, "name"): _fk(name="fk2"),
    (ForeignKey, "columns"): _fk(columns=("id",)),
    (ForeignKey, "ref_table"): _fk(ref_table="q"),
    (ForeignKey, "ref_columns"): _fk(ref_columns=("k",)),
    (ForeignKey, "ref_schema"): _fk(ref_schema="other"),
    (ForeignKey, "on_delete"): _fk(on_delete="CASCADE"),
    (ForeignKey, "on_update"): _fk(on_update="SET NULL"),
    (Check, "name"): _chk(name="ck2"),
    (Check, "clause"): _chk(clause="`id` > 1"),
    (Check, "enforced"): "MySQL only (NOT ENFORCED)",
    (Check, "column"): _chk(column="id", name="id"),
    (Partitioning, "method"): _pt(method="LIST", partitions=(Partition("p0", "IN (1,2)"),)),
    (Partitioning, "expression"): _pt(expression="`id` + 0"),
    (Partitioning, "partitions"): _pt(partitions=(Partition("p1", "LESS THAN MAXVALUE"),)),
    (Partitioning, "sub_method"): _pt(sub_method="HASH", sub_expression="`id`"),
    (Partitioning, "sub_expression"): "only with sub_method (changed together above)",
    (Partitioning, "algorithm"): "MySQL only (KEY ALGORITHM=n)",
    (Partition, "name"): _pn(name="q0"),
    (Partition, "values"): _pn(values="LESS THAN (20)"),
    (Partition, "comment"): _pn(comment="pc"),
    (Partition, "subpartitions"): "only with sub_method",
    (Partition, "engine"): "the table's engine (a server prints it per partition)",
}
MYSQL_ONLY: dict[tuple[type, str], Mutation | str] = {
    (Column, "srid"): _col(4, srid=4326),
    (Column, "invisible"): _col(1, invisible=True),
    (IndexPart, "expression"): _ix(1, parts=(IndexPart(None, expression="`id` + 1"),)),
    (Check, "enforced"): _chk(enforced=False),
    (Partitioning, "algorithm"): lambda t: replace(
        t,
        partitioning=Partitioning("KEY", "`id`", (Partition("p0"),), algorithm=2),
    ),
}
MARIADB_ONLY: dict[tuple[type, str], Mutation | str] = {
    (Column, "compressed"): _col(1, compressed=True),
}
MODEL = (Table, Column, Index, IndexPart, ForeignKey, Check, Partitioning, Partition)


@pytest.mark.parametrize("flavor", [MARIADB_10_11, MYSQL_8_0], ids=str)
def test_every_structural_field_is_in_the_text(flavor: Flavor) -> None:
    cases = {**COMMON, **(MYSQL_ONLY if flavor.is_mysql else MARIADB_ONLY)}
    structural = {(cls, f.name) for cls in MODEL for f in fields(cls) if f.compare}
    assert structural <= set(cases), f"say how these show in the text: {structural - set(cases)}"
    base = ddl.create_table(BASE, flavor)
    for (cls, name), mutate in cases.items():
        if isinstance(mutate, str):
            continue
        changed = mutate(BASE)
        assert changed != BASE, (cls.__name__, name)
        assert ddl.create_table(changed, flavor) != base, (
            f"{cls.__name__}.{name} is not in the text"
        )


TABLES = [
    "CREATE TABLE parent (id int PRIMARY KEY AUTO_INCREMENT, code varchar(20) NOT NULL,"
    " UNIQUE KEY uk (code)) COMMENT 'p'",
    "CREATE TABLE child (id int PRIMARY KEY, parent_id int, note text COMMENT 'x',"
    " n int CHECK (n > 0), KEY ix (parent_id),"
    " CONSTRAINT fk FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE)",
    "CREATE TABLE parts (id int NOT NULL, PRIMARY KEY (id)) PARTITION BY RANGE (id)"
    " (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)",
    "CREATE TABLE changed (id int PRIMARY KEY, v decimal(10,2) DEFAULT 1.50)",
]


@pytest.fixture
def twin_schemas(server: LocalServer) -> Iterator[tuple[Endpoint, Endpoint]]:
    names = [f"twin_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin = connect(endpoint_of(server))
    for n in names:
        admin.execute(f"CREATE DATABASE {quote_ident(n)} DEFAULT CHARACTER SET utf8mb4")
    try:
        yield tuple(  # type: ignore[misc]
            endpoint_of(server, n) for n in names
        )
    finally:
        for n in names:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(n)}")
        admin.close()


@pytest.fixture
def small_twins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Borrow even for these few tables (a real plan reads a small schema whole)."""
    monkeypatch.setattr(Twin, "MIN_TABLES", 0)


def test_a_small_schema_is_read_whole(twin_schemas: tuple[Endpoint, Endpoint]) -> None:
    a_ep, b_ep = twin_schemas
    with connected(a_ep) as a, connected(b_ep) as b:
        for sql in TABLES:
            a.execute(sql)
            b.execute(sql)
        twin = Twin()
        introspect(a, a_ep.schema, lend=twin)
        assert fetch_rows(b, b_ep.schema, borrow=twin).borrowed == []


@pytest.mark.usefixtures("small_twins")
@pytest.mark.parametrize("chunk", [500, 1], ids=["one-query", "query-per-table"])
def test_borrowing_gives_what_reading_gives(
    twin_schemas: tuple[Endpoint, Endpoint], chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``chunk`` 1 every restricted query is split per table (as past 500 tables)."""
    from myshift.engine.introspect import queries

    monkeypatch.setattr(queries, "SCOPED_CHUNK", chunk)
    a_ep, b_ep = twin_schemas
    with connected(a_ep) as a, connected(b_ep) as b:
        for sql in TABLES:
            a.execute(sql)
            b.execute(sql.replace("1.50", "2.50"))
        a.execute("INSERT INTO parent (code) VALUES ('a'), ('b')")  # AUTO_INCREMENT differs
        b.execute("CREATE TABLE only_b (id int PRIMARY KEY)")
        twin = Twin()
        current = introspect(a, a_ep.schema, lend=twin)
        rows = fetch_rows(b, b_ep.schema, borrow=twin)
        desired = build_schema(rows, b.flavor, borrow=twin)
        plain = introspect(b, b_ep.schema)
    assert rows.borrowed == ["child", "parent", "parts"]
    assert desired.table_map["child"] is current.table_map["child"]
    assert desired.table_map["parent"].auto_increment is None  # b's own counter
    assert current.table_map["parent"].auto_increment == 3
    assert desired == plain and desired.same_objects(plain)
    assert all(t.unsupported is None for t in desired.tables)


@pytest.mark.usefixtures("small_twins")
def test_nothing_is_borrowed_across_contexts(twin_schemas: tuple[Endpoint, Endpoint]) -> None:
    a_ep, b_ep = twin_schemas
    with connected(a_ep) as a, connected(b_ep) as b:
        for sql in TABLES:
            a.execute(sql)
            b.execute(sql)
        twin = Twin()
        introspect(a, a_ep.schema, lend=twin)
        lent = fetch_rows(a, a_ep.schema).create_tables
        # The texts come from new sessions, so the server's global mode counts.
        mode = b.scalar("SELECT @@GLOBAL.sql_mode")
        try:
            # A mode that does not change the texts' spelling: still borrowed.
            b.execute("SET GLOBAL sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
            rows = fetch_rows(b, b_ep.schema, borrow=twin)
            assert rows.borrowed == ["changed", "child", "parent", "parts"]
            # One that may change it (NO_BACKSLASH_ESCAPES; these texts hold
            # no backslash, so they are still equal): nothing is borrowed.
            b.execute("SET GLOBAL sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
            texts = fetch_rows(b, b_ep.schema).create_tables
            rows = fetch_rows(b, b_ep.schema, borrow=twin)
        finally:
            b.execute("SET GLOBAL sql_mode = %s", (mode,))
    assert all(texts[n] == lent[n] for n in ("changed", "child", "parent", "parts"))
    assert rows.borrowed == []
    assert {t["name"] for t in rows.tables} == {"parent", "child", "parts", "changed"}


def test_a_failed_lender_never_leaves_a_borrower_waiting() -> None:
    # No texts at all: the borrower reads everything itself.
    silent = Twin()
    silent.close()
    assert silent.same_tables((MARIADB_10_11, "", None), {"t": "CREATE TABLE `t`"}, {}) == set()
    # Texts but no tables: the borrower gives up with TwinUnavailable.
    broken = Twin()
    broken.offer_texts((MARIADB_10_11, "", None), {"t": "x"})
    waiter: list[BaseException] = []

    def borrow() -> None:
        rows = IntrospectionRows(schema="s", tables=[{"name": "t", "type": "BASE TABLE"}])
        rows.borrowed = ["t"]
        try:
            build_schema(rows, MARIADB_10_11, borrow=broken)
        except TwinUnavailable as exc:
            waiter.append(exc)

    thread = threading.Thread(target=borrow)
    thread.start()
    broken.close()
    thread.join(timeout=10)
    assert not thread.is_alive() and len(waiter) == 1


def test_plan_reports_the_target_error_not_the_twin(conn: Conn, fresh_schema: Endpoint) -> None:
    """A plan whose target side fails shows the target's own error."""
    from myshift.errors import MyshiftError
    from myshift.workflows.plan import make_plan

    conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    missing = replace(fresh_schema, schema=fresh_schema.schema + "_gone")
    with pytest.raises(MyshiftError, match="does not exist"):
        make_plan(missing, fresh_schema)
