# ruff: noqa: E501  (recorded server output is kept one line per line, as the server printed it)
"""The MySQL 8 paths, checked against output a real MySQL server recorded.

Only MariaDB runs here, so the MySQL branches of introspection and rendering are
checked against the MySQL server's own test suite: ``mysql-test/r/*.result``
files in mysql/mysql-server record exactly what the server printed for
``SHOW CREATE TABLE``, ``SHOW COLUMNS`` and ``information_schema`` queries.
The fixtures under tests/data/mysql/recorded-*.json copy those outputs
verbatim and name their source file and commit; every value that the test did
not record is listed under ``derived`` with the reason.

For each recorded table we rebuild ``IntrospectionRows`` the way ``fetch_rows``
would have filled them, then require that

* ``build_schema`` gives the model the recorded output describes,
* the self-check passes (the model re-renders the server's SHOW CREATE TABLE
  byte for byte), and
* the change classes render for MySQL what the server itself printed
  (an ADD COLUMN / ADD CONSTRAINT body is the SHOW CREATE line MySQL prints
  for that object afterwards).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from myshift.engine import ddl
from myshift.engine.changes import (
    AddCheck,
    AddColumn,
    AddForeignKey,
    AddIndex,
    AlterTable,
    CreateTable,
    DropCheck,
    Position,
)
from myshift.engine.introspect import IntrospectionRows, build_schema, self_check
from myshift.engine.risk import Algorithm, Op, assess_op
from myshift.model import Flavor, IndexKind, Table
from mysqltruth import column_row

DATA = Path(__file__).parent / "data" / "mysql"
FIXTURES = sorted(DATA.glob("recorded-*.json"))

# The collation MySQL 8 pairs with a character set named in a derived column spec.
_COLLATION = {
    "utf8mb4": "utf8mb4_0900_ai_ci",
    "ascii": "ascii_general_ci",
    "latin1": "latin1_swedish_ci",
}
_STRING_TYPES = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set")


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def _tsv(lines: list[str]) -> list[dict[str, str | None]]:
    """mysqltest prints a result set as a header line and tab-separated rows; NULL is SQL NULL."""
    header = lines[0].split("\t")
    return [
        {h: (None if v == "NULL" else v) for h, v in zip(header, line.split("\t"), strict=True)}
        for line in lines[1:]
    ]


def _base(col_type: str) -> str:
    return col_type.split("(", 1)[0].split(" ", 1)[0]


def _column_row(table: str, n: int, **kw: Any) -> dict[str, Any]:
    row = column_row(table, kw.pop("name", ""), kw.pop("type", ""), n, **kw)
    if row["collation"] is None and _base(row["type"]) in _STRING_TYPES:
        # Derived: a string column without its own CHARACTER SET has the table default.
        row["charset"], row["collation"] = "utf8mb4", _COLLATION["utf8mb4"]
    return row


def _parse_spec(spec: str) -> dict[str, Any]:
    """A derived column spec: ``name type [NOT NULL] [charset]``."""
    words = spec.split()
    out: dict[str, Any] = {"name": words[0], "type": words[1]}
    rest = " ".join(words[2:])
    if "NOT NULL" in rest:
        out["nullable"] = "NO"
        rest = rest.replace("NOT NULL", "").strip()
    if rest:
        out["charset"], out["collation"] = rest, _COLLATION[rest]
    return out


def rows_for(fixture: dict[str, Any], key: str) -> IntrospectionRows:
    """IntrospectionRows for one recorded table, as ``fetch_rows`` would have returned them."""
    spec = fixture["tables"][key]
    derived: dict[str, Any] = spec.get("derived", {})
    create_sql: str = spec["show_create"]
    name = create_sql.split("`", 2)[1]
    columns: list[dict[str, Any]] = []
    if "show_columns" in spec:
        for n, r in enumerate(_tsv(spec["show_columns"]), 1):
            columns.append(
                _column_row(
                    name,
                    n,
                    name=r["Field"],
                    type=r["Type"],
                    nullable=r["Null"],
                    default=r["Default"],
                    extra=r["Extra"] or "",
                )
            )
    else:
        for n, text in enumerate(derived["columns"], 1):
            columns.append(_column_row(name, n, **_parse_spec(text)))
    by_name = {c["name"]: c for c in columns}
    for col, expr in derived.get("generation", {}).items():
        by_name[col]["generation"] = expr
    for col, extra in derived.get("extra", {}).items():
        by_name[col]["extra"] = extra
    for col, comment in derived.get("comment", {}).items():
        by_name[col]["comment"] = comment
    for col, (default, extra, _why) in derived.get("column_default", {}).items():
        by_name[col]["default"], by_name[col]["extra"] = default, extra
    for r in _tsv(spec.get("is_columns", ["COLUMN_NAME"])):
        # Recorded information_schema.COLUMNS values win over anything derived.
        c = by_name[r["COLUMN_NAME"] or ""]
        c["default"], c["extra"] = r["COLUMN_DEFAULT"], r["EXTRA"] or ""
        c["generation"] = r["GENERATION_EXPRESSION"] or ""

    stats: list[dict[str, Any]] = []
    for r in _tsv(spec.get("statistics", ["TABLE_NAME"])):
        stats.append(
            {
                "table_name": name,
                "name": r["INDEX_NAME"],
                "non_unique": int(r["NON_UNIQUE"] or 0),
                "seq": int(r["SEQ_IN_INDEX"] or 0),
                "column_name": r["COLUMN_NAME"],
                "direction": r["COLLATION"],
                "sub_part": r["SUB_PART"],
                "index_type": r["INDEX_TYPE"],
                "comment": r["INDEX_COMMENT"] or "",
                "ignored": "YES" if r["IS_VISIBLE"] == "NO" else "NO",
                "expression": r["EXPRESSION"],
            }
        )
    for d in derived.get("statistics", []):
        stats.append(
            {
                "table_name": name,
                "direction": "A",
                "sub_part": None,
                "index_type": "BTREE",
                "comment": "",
                "ignored": "NO",
                "expression": None,
                **d,
            }
        )

    enforced = {
        r["CONSTRAINT_NAME"]: r["ENFORCED"]
        for r in _tsv(spec.get("table_constraints", ["CONSTRAINT_NAME\tENFORCED"]))
    }
    enforced.update(derived.get("enforced", {}))
    clauses = {
        r["CONSTRAINT_NAME"]: r["CHECK_CLAUSE"]
        for r in _tsv(spec.get("check_constraints", ["CONSTRAINT_NAME\tCHECK_CLAUSE"]))
    }
    for cname, (clause, _why) in derived.get("check_clause", {}).items():
        clauses[cname] = clause
    checks = [
        {"table_name": name, "name": c, "clause": clause, "enforced": enforced[c], "level": "Table"}
        for c, clause in clauses.items()
    ]
    fks = [
        {
            "table_name": name,
            "ref_schema": fixture["schema"],
            "ordinal": 1,
            **{k: v for k, v in fk.items() if k != "why"},
        }
        for fk in derived.get("foreign_keys", [])
    ]
    return IntrospectionRows(
        schema=fixture["schema"],
        charset="utf8mb4",
        collation="utf8mb4_0900_ai_ci",
        tables=[
            {
                "name": name,
                "type": "BASE TABLE",
                "engine": "InnoDB",
                "collation": "utf8mb4_0900_ai_ci",
                "create_options": "",
                "comment": "",
            }
        ],
        columns=columns,
        statistics=stats,
        foreign_keys=fks,
        checks=checks,
        create_tables={name: create_sql},
    )


def _model(fixture_name: str, key: str) -> tuple[Table, Flavor]:
    fixture = _fixture(fixture_name)
    flavor = Flavor.from_string(fixture["flavor"])
    schema = build_schema(rows_for(fixture, key), flavor)
    (table,) = schema.tables
    return table, flavor


def _lines(create_sql: str) -> list[str]:
    """The definition lines of a SHOW CREATE TABLE text, without indent and trailing comma."""
    body = create_sql.split("\n")[1:-1]
    return [line.strip().rstrip(",") for line in body]


ALL_TABLES = [
    pytest.param(path.name, key, id=f"{path.stem}:{key}")
    for path in FIXTURES
    for key in json.loads(path.read_text(encoding="utf-8"))["tables"]
]


# ------------------------------------------------------------ every recorded table


def test_fixtures_name_their_source() -> None:
    assert len(FIXTURES) >= 4
    for path in FIXTURES:
        fixture = json.loads(path.read_text(encoding="utf-8"))
        sources = fixture["source"] if isinstance(fixture["source"], list) else [fixture["source"]]
        for s in sources:
            assert s["repo"] == "mysql/mysql-server" and s["path"].endswith(".result")
            assert len(s["commit"]) == 40
        assert Flavor.from_string(fixture["flavor"]).is_mysql


@pytest.mark.parametrize(("fixture_name", "key"), ALL_TABLES)
def test_recorded_table_passes_the_self_check(fixture_name: str, key: str) -> None:
    table, flavor = _model(fixture_name, key)
    assert table.unsupported is None, table.unsupported
    assert self_check(table, flavor) is None
    # Each column line is what column_definition renders, in the server's order.
    lines = _lines(table.create_sql)
    for col, line in zip(table.columns, lines, strict=False):
        assert ddl.column_definition(col, table, flavor) == line
    # CREATE TABLE renders the server's text; MySQL 8.4 prints these tables the same
    # way, but for the integer display widths 8.0.19 stopped printing.
    assert CreateTable(table).render(flavor) == table.create_sql
    assert ddl.create_table(table, Flavor.from_string("mysql:8.4.0")) == _widths_dropped(
        table.create_sql
    )


def _widths_dropped(create_sql: str) -> str:
    """The text as MySQL 8.0.19+ prints it: ``int(11)`` -> ``int``, but ``tinyint(1)``."""
    return re.sub(
        r"\b(tinyint|smallint|mediumint|int|bigint)\((\d+)\)(?! unsigned zerofill| zerofill)",
        lambda m: m.group(0) if m.group(0) == "tinyint(1)" else m.group(1),
        create_sql,
    )


@pytest.mark.parametrize(("fixture_name", "key"), ALL_TABLES)
def test_self_check_rejects_a_changed_recording(fixture_name: str, key: str) -> None:
    """The pass above means something: one changed byte in the server text is caught."""
    fixture = _fixture(fixture_name)
    flavor = Flavor.from_string(fixture["flavor"])
    rows = rows_for(fixture, key)
    (name,) = rows.create_tables
    rows.create_tables[name] = (
        rows.create_tables[name]
        .replace(" DEFAULT", " DEFAULT ", 1)
        .replace(") ENGINE=InnoDB", ") ENGINE=InnoDB ", 1)
    )
    (table,) = build_schema(rows, flavor).tables
    assert table.unsupported is not None


# ------------------------------------------------------------ invisible columns


def test_invisible_columns_of_every_type() -> None:
    t, flavor = _model("recorded-invisible-columns-8.0.json", "all_types")
    c = t.column_map
    assert not c["c0"].invisible and all(c[f"c{i}"].invisible for i in range(1, 36))
    # BOOLEAN keeps its display width on 8.0.19+; other integers lose it.
    assert (c["c2"].type, c["c3"].type, c["c6"].type) == ("tinyint(1)", "tinyint", "int")
    # BLOB/TEXT never print DEFAULT NULL; nullable TIMESTAMP prints NULL explicitly.
    for i in (15, 16, 17, 18, 19, 20, 21, 22):
        assert c[f"c{i}"].default is None
    assert c["c28"].default == "NULL"
    assert (
        ddl.column_definition(c["c25"], t, flavor)
        == "`c25` timestamp NULL DEFAULT NULL /*!80023 INVISIBLE */"
    )
    assert c["c31"].srid is None  # no SRID attribute: none printed


def test_invisible_generated_and_defaulted_columns() -> None:
    t, flavor = _model("recorded-invisible-columns-8.0.json", "gen_invisible")
    f4, f5 = t.column_map["f4"], t.column_map["f5"]
    assert (f4.generated, f4.stored, f4.invisible) == ("(`f1` + `f2`)", False, True)
    assert (f5.generated, f5.stored, f5.invisible) == ("(`f1` + `f2`)", True, True)

    t, flavor = _model("recorded-invisible-columns-8.0.json", "default_invisible")
    f3 = t.column_map["f3"]
    assert (f3.default, f3.invisible) == ("'8'", True)
    # Recorded: ALTER TABLE t1 ADD COLUMN f4 INT AS (f1 + f2) INVISIBLE, after which
    # the server prints the f4 line below.  Our ADD COLUMN carries exactly that line.
    add = AlterTable(t.name, (AddColumn(t.column_map["f4"], Position("f3")),), after=t)
    assert add.render(flavor) == (
        "ALTER TABLE `t1` ADD COLUMN `f4` int GENERATED ALWAYS AS ((`f1` + `f2`)) VIRTUAL "
        "/*!80023 INVISIBLE */ AFTER `f3`"
    )


def test_invisible_primary_key_and_hidden_fk_rules() -> None:
    t, flavor = _model("recorded-invisible-columns-8.0.json", "pk_invisible")
    assert t.column_map["f1"].invisible and not t.column_map["f1"].nullable
    assert t.index_map["PRIMARY"].kind is IndexKind.PRIMARY

    t, flavor = _model("recorded-invisible-columns-8.0.json", "fk_child")
    fk = t.fk_map["t2_ibfk_1"]
    assert (fk.columns, fk.ref_table, fk.ref_columns, fk.ref_schema) == (
        ("f1",),
        "t1",
        ("f2",),
        None,
    )
    # MySQL hides NO ACTION, its default rule, in SHOW CREATE TABLE.
    assert AddForeignKey(fk).render(flavor, t) == (
        "ADD CONSTRAINT `t2_ibfk_1` FOREIGN KEY (`f1`) REFERENCES `t1` (`f2`)"
    )


# ------------------------------------------------------------ CHECK constraints


def test_checks_keep_the_server_order_and_enforcement() -> None:
    t, flavor = _model("recorded-check-constraints-8.0.json", "enforced_mix")
    # MySQL 8 prints CHECKs sorted by name, not in creation order (ck1 was added last).
    assert [c.name for c in t.checks] == ["ck", "ck1", "t1_chk_1", "t1_chk_2", "t1_chk_3"]
    assert {c.name: c.enforced for c in t.checks} == {
        "ck": True,
        "ck1": False,
        "t1_chk_1": True,
        "t1_chk_2": False,
        "t1_chk_3": False,
    }
    # I_S CHECK_CLAUSE lacks the outer parentheses SHOW CREATE adds.
    assert t.check_map["ck1"].clause == "(`f1` < 10)"
    # Recorded: ALTER TABLE t1 ADD CONSTRAINT ck1 CHECK(f1<10) NOT ENFORCED, then the server prints:
    assert AddCheck(t.check_map["ck1"]).render(flavor, t) == (
        "ADD CONSTRAINT `ck1` CHECK ((`f1` < 10)) /*!80016 NOT ENFORCED */"
    )
    # Recorded: ALTER TABLE t3 DROP CHECK t3_chk_3 (MySQL's own spelling).
    assert DropCheck(t.check_map["t1_chk_2"]).render(flavor, t) == "DROP CHECK `t1_chk_2`"


def test_check_constraint_online_ddl_facts() -> None:
    """Recorded: ADD CHECK refuses INPLACE and INSTANT ("Try ALGORITHM=COPY"); DROP CHECK runs online."""
    for flavor in (Flavor.from_string("mysql:8.0.23"), Flavor.from_string("mysql:8.4.0")):
        assert assess_op(flavor, Op.ADD_CHECK).algorithm is Algorithm.COPY
        # Recorded only that INPLACE works; risk.py claims INSTANT (not recorded here).
        assert assess_op(flavor, Op.DROP_CHECK).algorithm in (Algorithm.INSTANT, Algorithm.INPLACE)
    stmts = _fixture("recorded-check-constraints-8.0.json")["recorded_statements"]
    assert "Try ALGORITHM=COPY" in stmts["add_check_copy_only"][2]


def test_ascii_columns_print_charset_and_collate() -> None:
    t, flavor = _model("recorded-check-constraints-8.0.json", "ascii_default_expr")
    c1, c2 = t.column_map["c1"], t.column_map["c2"]
    assert (c1.charset, c1.collation) == ("ascii", "ascii_general_ci")
    # ascii_general_ci is ascii's default collation, yet MySQL 8 prints COLLATE too.
    assert ddl.column_definition(c1, t, flavor) == (
        "`c1` varchar(1) CHARACTER SET ascii COLLATE ascii_general_ci DEFAULT NULL"
    )
    assert c2.default == "(_utf8mb4'b')"
    assert t.check_map["t1_chk_1"].clause == "(`c1` = _utf8mb4'a')"


def test_with_pk_checks_and_enforced_from_table_constraints() -> None:
    t, _ = _model("recorded-check-constraints-8.0.json", "with_pk")
    assert [c.name for c in t.checks] == ["t1_chk_1", "t2_cc1"]
    assert all(c.enforced for c in t.checks)
    assert t.check_map["t2_cc1"].clause == "((`f1` + sqrt(`f2`)) > 6174)"


# ------------------------------------------------------------ functional indexes


def test_functional_index_parts_come_from_statistics_expression() -> None:
    t, flavor = _model("recorded-functional-index-8.0.json", "func_idx")
    assert [ix.name for ix in t.indexes] == [
        "int_func_index",
        "string_func_index",
        "combined_index",
    ]
    p = t.index_map["string_func_index"].parts[0]
    assert (p.column, p.expression) == (None, "substr(`string_col`,1,2)")
    combined = t.index_map["combined_index"]
    assert [(p.column, p.expression) for p in combined.parts] == [
        (None, "(`int_col` + `int_col`)"),
        ("string_col", None),
    ]
    # Recorded: CREATE INDEX combined_index ON t1 ((int_col + int_col), string_col)
    assert AddIndex(combined).render(flavor, t) == (
        "ADD KEY `combined_index` (((`int_col` + `int_col`)),`string_col`)"
    )


def test_nameless_functional_indexes() -> None:
    t, _ = _model("recorded-functional-index-8.0.json", "nameless")
    assert [ix.name for ix in t.indexes] == [
        "functional_index",
        "functional_index_2",
        "functional_index_3",
    ]
    assert t.index_map["functional_index_3"].parts[0].expression == "(`col1` * 6)"


# ------------------------------------------------------------ expression defaults, generated columns


def test_expression_defaults() -> None:
    t, _ = _model("recorded-defaults-gcol-8.0.json", "uuid_default")
    assert t.column_map["id"].default == "(uuid())"

    # Recorded I_S COLUMN_DEFAULT escapes the quotes: _utf8mb4\'U+1F9DB\'
    t, _ = _model("recorded-defaults-gcol-8.0.json", "introducer_default")
    assert t.column_map["i"].default == "(_utf8mb4'U+1F9DB')"

    # A BLOB may have an expression default (never DEFAULT NULL).
    t, flavor = _model("recorded-defaults-gcol-8.0.json", "blob_default")
    b = t.column_map["b"]
    assert b.default == "(repeat(_utf8mb4'b',`i`))"
    assert ddl.column_definition(b, t, flavor) == "`b` blob DEFAULT (repeat(_utf8mb4'b',`i`))"

    t, _ = _model("recorded-defaults-gcol-8.0.json", "ts_expr_on_update")
    b = t.column_map["b"]
    assert (b.default, b.on_update) == (
        "((_utf8mb4'2003-01-02' + interval 1 minute))",
        "CURRENT_TIMESTAMP",
    )


def test_generated_columns() -> None:
    t, flavor = _model("recorded-defaults-gcol-8.0.json", "gcol_pk")
    b = t.column_map["b"]
    assert (b.generated, b.stored, b.nullable) == ("(`a` + 1)", True, False)
    # NOT NULL follows the GENERATED clause.
    assert (
        ddl.column_definition(b, t, flavor)
        == "`b` int(11) GENERATED ALWAYS AS ((`a` + 1)) STORED NOT NULL"
    )

    t, _ = _model("recorded-defaults-gcol-8.0.json", "gcol_comment")
    assert t.column_map["b"].comment == "my comment"

    t, _ = _model("recorded-defaults-gcol-8.0.json", "gcol_literal")
    c = t.column_map
    # I_S escapes the quotes of a string literal in GENERATION_EXPRESSION as it does in COLUMN_DEFAULT.
    assert c["c"].generated == "_utf8mb4'aaaabb'"
    assert c["d"].generated == "`c`" and c["d"].default is None
