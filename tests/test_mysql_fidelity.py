# ruff: noqa: E501  (server text is kept one line per line, as the server printed it)
"""MySQL 8.0/8.4 behaviours of issue 16, checked against server text and server source.

No MySQL server runs here, so each case is either server output recorded
elsewhere (named with its repository, path and commit) or a rule ported from
the server source, cited where the code applies it (ddl._charset_spec,
risk.py's table rules).  Introspection rows are built the way ``fetch_rows``
fills them; the MariaDB behaviour of the same code paths is asserted too.
"""

from __future__ import annotations

from typing import Any

from myshift.engine import ddl
from myshift.engine.introspect import IntrospectionRows, build_schema
from myshift.model import Flavor, Table

MYSQL_80 = Flavor.from_string("mysql:8.0.36")
MARIADB = Flavor.from_string("mariadb:10.11.6")

_STRING = ("char", "varchar", "text", "tinytext", "mediumtext", "longtext", "enum", "set")


def col(name: str, typ: str, n: int, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "table_name": "",
        "name": name,
        "type": typ,
        "nullable": "YES",
        "default": None,
        "extra": "",
        "charset": None,
        "collation": None,
        "comment": "",
        "generation": "",
        "srid": None,
        "ordinal": n,
    }
    row.update(kw)
    return row


def stat(
    name: str, column: str, seq: int = 1, *, unique: bool = False, **kw: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "table_name": "",
        "name": name,
        "non_unique": 0 if unique else 1,
        "seq": seq,
        "column_name": column,
        "direction": "A",
        "sub_part": None,
        "index_type": "BTREE",
        "comment": "",
        "ignored": "NO",
        "expression": None,
    }
    row.update(kw)
    return row


def build(
    flavor: Flavor,
    create_sql: str,
    columns: list[dict[str, Any]],
    collation: str,
    statistics: list[dict[str, Any]] | None = None,
    create_options: str = "",
    extra_rows: dict[str, Any] | None = None,
) -> Table:
    name = create_sql.split("`", 2)[1]
    for c in columns:
        c["table_name"] = name
        if c["collation"] is None and c["type"].split("(")[0].split(" ")[0] in _STRING:
            c["charset"], c["collation"] = collation.split("_", 1)[0], collation
    stats = statistics or []
    for s in stats:
        s["table_name"] = name
    table_row = {
        "name": name,
        "type": "BASE TABLE",
        "engine": "InnoDB",
        "collation": collation,
        "create_options": create_options,
        "comment": "",
        **(extra_rows or {}),
    }
    rows = IntrospectionRows(
        schema="test",
        charset=collation.split("_", 1)[0],
        collation=collation,
        tables=[table_row],
        columns=columns,
        statistics=stats,
        create_tables={name: create_sql},
    )
    (table,) = build_schema(rows, flavor).tables
    return table


# ------------------------------------------------------------------ column collations

# Recorded: mysqldump of MySQL 5.7.23 (mysqldump prints SHOW CREATE TABLE), in
# ptlis/grep-db tests/Data/single_table_includes_set_statements.sql at
# 933aa2697b4424cb78e9bc919ae1ba57e62dbded.  utf8mb4_unicode_520_ci is not
# utf8mb4's primary collation, so every inheriting column prints COLLATE alone.
UNICODE_520 = (
    "CREATE TABLE `table_with_collation` (\n"
    "  `item_id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,\n"
    "  `comment_id` bigint(20) unsigned NOT NULL DEFAULT '0',\n"
    "  `collate_varchar` varchar(255) COLLATE utf8mb4_unicode_520_ci DEFAULT NULL,\n"
    "  `collate_text` longtext COLLATE utf8mb4_unicode_520_ci,\n"
    "  PRIMARY KEY (`item_id`),\n"
    "  KEY `comment_id` (`comment_id`),\n"
    "  KEY `collate_varchar` (`collate_varchar`(191))\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci"
)


def test_inherited_non_primary_collation_prints_collate_alone() -> None:
    coll = "utf8mb4_unicode_520_ci"
    table = build(
        Flavor.from_string("mysql:5.7.23"),
        UNICODE_520,
        [
            col("item_id", "bigint(20) unsigned", 1, nullable="NO", extra="auto_increment"),
            col("comment_id", "bigint(20) unsigned", 2, nullable="NO", default="0"),
            col("collate_varchar", "varchar(255)", 3),
            col("collate_text", "longtext", 4),
        ],
        coll,
        [
            stat("PRIMARY", "item_id", unique=True),
            stat("comment_id", "comment_id"),
            stat("collate_varchar", "collate_varchar", sub_part=191),
        ],
    )
    assert table.unsupported is None, table.unsupported
    c = table.column_map["collate_varchar"]
    assert (c.collation, c.explicit_collation) == (coll, False)


def _bin_table(flavor: Flavor, line: str) -> Table:
    sql = (
        "CREATE TABLE `t` (\n"
        "  `id` int NOT NULL,\n"
        f"  {line},\n"
        "  PRIMARY KEY (`id`)\n"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
    )
    return build(
        flavor,
        sql,
        [col("id", "int", 1, nullable="NO"), col("a", "varchar(64)", 2, nullable="NO")],
        "utf8mb4_bin",
        [stat("PRIMARY", "id", unique=True)],
    )


def test_utf8mb4_bin_table_round_trips_byte_for_byte() -> None:
    """The issue's case: a table created on 5.7 with COLLATE=utf8mb4_bin, read on 8.0."""
    line = "`a` varchar(64) COLLATE utf8mb4_bin NOT NULL"
    t = _bin_table(MYSQL_80, line)
    assert t.unsupported is None, t.unsupported
    a = t.column_map["a"]
    assert not a.explicit_collation
    assert ddl.column_definition(a, t, MYSQL_80) == line
    assert ddl.create_table(t, MYSQL_80) == t.create_sql


def test_written_collation_is_learnt_from_the_server_text() -> None:
    """``a varchar(64) COLLATE utf8mb4_bin`` written in the CREATE: 8.0 prints both words."""
    line = "`a` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
    t = _bin_table(MYSQL_80, line)
    assert t.unsupported is None, t.unsupported
    assert t.column_map["a"].explicit_collation
    # Not structure: the same column without the flag compares equal.
    plain = _bin_table(MYSQL_80, "`a` varchar(64) COLLATE utf8mb4_bin NOT NULL")
    assert plain.column_map["a"] == t.column_map["a"]


def test_a_wrong_collation_line_is_still_refused() -> None:
    t = _bin_table(MYSQL_80, "`a` varchar(64) COLLATE utf8mb4_general_ci NOT NULL")
    assert t.unsupported is not None


def test_collation_rule_cases() -> None:
    """sql_show.cc store_create_info(): CHARACTER SET when the collation differs from
    the table's, COLLATE when not primary, and the utf8mb4_0900_ai_ci special case."""
    from myshift.model import Column

    def line(c: Column, table_coll: str) -> str:
        t = Table("t", (c,), charset=table_coll.split("_")[0], collation=table_coll)
        return ddl.column_definition(c, t, MYSQL_80)

    latin1 = Column(
        "l", "varchar(10)", charset="latin1", collation="latin1_swedish_ci", default="NULL"
    )
    # A column left behind by ALTER TABLE ... DEFAULT CHARSET (not written): primary.
    assert line(latin1, "utf8mb4_0900_ai_ci") == "`l` varchar(10) CHARACTER SET latin1 DEFAULT NULL"
    u0900 = Column(
        "u", "varchar(10)", charset="utf8mb4", collation="utf8mb4_0900_ai_ci", default="NULL"
    )
    assert line(u0900, "utf8mb4_0900_ai_ci") == "`u` varchar(10) DEFAULT NULL"
    assert (
        line(u0900, "latin1_swedish_ci")
        == "`u` varchar(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci DEFAULT NULL"
    )
    general = Column(
        "g", "varchar(10)", charset="utf8mb4", collation="utf8mb4_general_ci", default="NULL"
    )
    assert (
        line(general, "utf8mb4_general_ci")
        == "`g` varchar(10) COLLATE utf8mb4_general_ci DEFAULT NULL"
    )
    assert (
        line(general, "utf8mb4_0900_ai_ci")
        == "`g` varchar(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci DEFAULT NULL"
    )


def test_mariadb_collation_rendering_is_unchanged() -> None:
    from myshift.model import Column

    c = Column("a", "varchar(64)", nullable=False, charset="utf8mb4", collation="utf8mb4_bin")
    same = Table("t", (c,), collation="utf8mb4_bin")
    other = Table("t", (c,), collation="utf8mb4_general_ci")
    assert ddl.column_definition(c, same, MARIADB) == "`a` varchar(64) NOT NULL"
    assert (
        ddl.column_definition(c, other, MARIADB)
        == "`a` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
    )
