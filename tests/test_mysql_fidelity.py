"""MySQL 8.0/8.4 behaviours of issue 16, checked against server text and server source.

No MySQL server runs here, so each case is either server output recorded
elsewhere (named with its repository, path and commit) or a rule ported from
the server source, cited where the code applies it (spelling.charset_spec,
risk.py's table rules).  Introspection rows are built the way ``fetch_rows``
fills them; the MariaDB behaviour of the same code paths is asserted too.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from myshift.engine import ddl, spelling
from myshift.engine.changes import AlterTable
from myshift.engine.changes.table_diff import diff_table
from myshift.engine.introspect import IntrospectionRows, build_schema
from myshift.model import Column, Flavor, Index, IndexKind, IndexPart, Table
from mysqltruth import column_row

MYSQL_80 = Flavor.from_string("mysql:8.0.36")
MARIADB = Flavor.from_string("mariadb:10.11.6")

_STRING = ("char", "varchar", "text", "tinytext", "mediumtext", "longtext", "enum", "set")


def col(name: str, typ: str, n: int, **kw: Any) -> dict[str, Any]:
    return column_row("", name, typ, n, **kw)


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
    the table's, COLLATE when not primary, and the utf8mb4_0900_ai_ci special case.

    The 8.0.41 mysql-test results print the same (ctype_latin1_de.result: an
    inherited latin1_german2_ci column shows ``COLLATE latin1_german2_ci`` alone;
    alter_table.result, Bug#34031693: a written ``COLLATE utf8mb4_bin`` shows
    ``CHARACTER SET utf8mb4 COLLATE utf8mb4_bin``, and after ``MODIFY ... CHARSET
    utf8mb4`` in that utf8mb4_bin table ``CHARACTER SET utf8mb4 COLLATE
    utf8mb4_0900_ai_ci``).  Not copied here: they were read from a snapshot."""

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
    c = Column("a", "varchar(64)", nullable=False, charset="utf8mb4", collation="utf8mb4_bin")
    same = Table("t", (c,), collation="utf8mb4_bin")
    other = Table("t", (c,), collation="utf8mb4_general_ci")
    assert ddl.column_definition(c, same, MARIADB) == "`a` varchar(64) NOT NULL"
    assert (
        ddl.column_definition(c, other, MARIADB)
        == "`a` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
    )


# ------------------------------------------------------------------ INSTANT and the table

MYSQL_8012 = Flavor.from_string("mysql:8.0.12")
MYSQL_8028 = Flavor.from_string("mysql:8.0.28")
MYSQL_84 = Flavor.from_string("mysql:8.4.3")
MYSQL_91 = Flavor.from_string("mysql:9.1.0")

ID = Column("id", "int", nullable=False)
BODY = Column("body", "text", charset="utf8mb4", collation="utf8mb4_0900_ai_ci")
PK = Index("PRIMARY", IndexKind.PRIMARY, (IndexPart("id"),))
FT = Index("ft_body", IndexKind.FULLTEXT, (IndexPart("body"),))
PLAIN = Table("t", (ID, BODY), (PK,), collation="utf8mb4_0900_ai_ci")


def alter(before: Table, after: Table) -> AlterTable:
    return AlterTable(after.name, diff_table(before, after).clauses, before, after)


def appended(before: Table, *cols: Column) -> Table:
    return replace(before, columns=before.columns + cols)


NOTE = Column("note", "int", default="NULL")


# ------------------------------------------------------------------ generated invisible PKs

# Recorded: MySQL Reference Manual, "Generated Invisible Primary Keys"
# (create-table-gipks), SHOW CREATE TABLE of auto_0 (created with
# sql_generate_invisible_primary_key=OFF) and auto_1 (ON).
AUTO_1 = (
    "CREATE TABLE `auto_1` (\n"
    "  `my_row_id` bigint unsigned NOT NULL AUTO_INCREMENT /*!80023 INVISIBLE */,\n"
    "  `c1` varchar(50) DEFAULT NULL,\n"
    "  `c2` int DEFAULT NULL,\n"
    "  PRIMARY KEY (`my_row_id`)\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci"
)
AUTO_0 = (
    "CREATE TABLE `auto_1` (\n"
    "  `c1` varchar(50) DEFAULT NULL,\n"
    "  `c2` int DEFAULT NULL\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci"
)


def _gipk_table(flavor: Flavor) -> Table:
    return build(
        flavor,
        AUTO_1,
        [
            col("my_row_id", "bigint unsigned", 1, nullable="NO", extra="auto_increment INVISIBLE"),
            col("c1", "varchar(50)", 2),
            col("c2", "int", 3),
        ],
        "utf8mb4_0900_ai_ci",
        [stat("PRIMARY", "my_row_id", unique=True)],
    )


def _plain_table() -> Table:
    return build(
        MYSQL_80,
        AUTO_0,
        [col("c1", "varchar(50)", 1), col("c2", "int", 2)],
        "utf8mb4_0900_ai_ci",
    )


def test_gipk_is_recognised_and_reproduced() -> None:
    t = _gipk_table(MYSQL_80)
    assert t.unsupported is None, t.unsupported
    assert t.gipk and [c.name for c in t.columns] == ["c1", "c2"] and t.primary_key is None
    # The self-check renders it back; statements leave it to the server.
    assert ddl.create_table(t, MYSQL_80, gipk=True) == AUTO_1
    assert "my_row_id" not in ddl.create_table(t, MYSQL_80)
    # Before 8.0.30 there are no GIPKs: an ordinary invisible column and key.
    old = _gipk_table(Flavor.from_string("mysql:8.0.29"))
    assert not old.gipk and old.columns[0].name == "my_row_id" and old.unsupported is None


def test_gipk_difference_plans_nothing_and_says_so() -> None:
    import warnings

    from myshift.engine.diff import GipkWarning, diff_schemas
    from myshift.model import Schema

    prod = Schema("s", tables=(_gipk_table(MYSQL_80),))
    dev = Schema("s", tables=(_plain_table(),))
    for current, desired in ((prod, dev), (dev, prod)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert diff_schemas(current, desired) == []
        assert [w.category for w in caught] == [GipkWarning]
        assert "auto_1" in str(caught[0].message)
    # Other changes to the table still plan, around the key.
    wider = replace(dev.tables[0], columns=(*dev.tables[0].columns, NOTE))
    with pytest.warns(GipkWarning):
        (stmt,) = diff_schemas(prod, replace(dev, tables=(wider,)))
    assert (
        stmt.render(MYSQL_80)
        == "ALTER TABLE `auto_1` ADD COLUMN `note` int DEFAULT NULL AFTER `c2`"
    )


# ------------------------------------------------------------------ integer display widths


def _int_table(flavor: Flavor, typ: str, shown: str) -> Table:
    sql = (
        "CREATE TABLE `t` (\n"
        f"  `i` {shown} DEFAULT NULL\n"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci"
    )
    return build(flavor, sql, [col("i", typ, 1)], "utf8mb4_0900_ai_ci")


def test_int11_on_8_0_18_equals_int_on_8_0_19() -> None:
    """Recorded int(11) (mysql-test/r/default_as_expr.result, 8.0.17 era) vs 8.0.19+ ``int``."""
    from myshift.engine.diff import diff_schemas
    from myshift.model import Schema

    old_flavor = Flavor.from_string("mysql:8.0.18")
    dev = _int_table(old_flavor, "int(11)", "int(11)")
    prod = _int_table(MYSQL_80, "int", "int")
    assert dev.unsupported is None and prod.unsupported is None
    assert dev.column_map["i"] == prod.column_map["i"]
    assert ddl.create_table(dev, old_flavor) == dev.create_sql  # still byte for byte
    assert diff_schemas(Schema("s", tables=(prod,)), Schema("s", tables=(dev,))) == []
    # A real change still plans; unsigned and zerofill keep their meaning.
    wide = _int_table(old_flavor, "bigint(20)", "bigint(20)")
    (stmt,) = diff_schemas(Schema("s", tables=(prod,)), Schema("s", tables=(wide,)))
    assert stmt.render(MYSQL_80) == "ALTER TABLE `t` MODIFY COLUMN `i` bigint DEFAULT NULL"
    assert spelling.width_free_type("int(10) unsigned") == "int unsigned"
    assert spelling.width_free_type("int(10) unsigned zerofill") == "int(10) unsigned zerofill"
    assert spelling.width_free_type("tinyint(1)") == "tinyint(1)"
    assert spelling.width_free_type("year(4)") == "year"


def test_mariadb_display_widths_unchanged() -> None:
    sql = (
        "CREATE TABLE `t` (\n  `i` int(11) DEFAULT NULL\n"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"
    )
    t = build(MARIADB, sql, [col("i", "int(11)", 1, default="NULL")], "utf8mb4_general_ci")
    assert t.unsupported is None and t.column_map["i"].type == "int(11)"
    assert t.column_map["i"].shown_type is None


# ------------------------------------------------------------------ kept out, named


def test_tablespace_and_secondary_engine_tables_are_unsupported_by_name() -> None:
    base = (
        "CREATE TABLE `t` (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`)\n"
        ") {opts}ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci{tail}"
    )
    cases = {
        # sql_show.cc: " /*!50100 TABLESPACE `ts1` */" before ENGINE= (explicit only).
        base.format(opts="/*!50100 TABLESPACE `ts1` */ ", tail=""): "TABLESPACE `ts1`",
        base.format(opts="", tail=" SECONDARY_ENGINE=rapid"): "SECONDARY_ENGINE=rapid",
    }
    for sql, named in cases.items():
        t = build(
            MYSQL_80,
            sql,
            [col("id", "int", 1, nullable="NO")],
            "utf8mb4_0900_ai_ci",
            [stat("PRIMARY", "id", unique=True)],
        )
        assert t.unsupported is not None and named in t.unsupported, t.unsupported
    # A column merely named like the option is no reason.
    from myshift.engine.introspect.mysql_text import unsupported_feature

    assert (
        unsupported_feature(base.format(opts="", tail="").replace("`id`", "`TABLESPACE`")) is None
    )


# ------------------------------------------------------------------ RDS and logins


def test_rds_routine_errors_name_the_parameter_group() -> None:
    import pymysql

    from myshift.db import privileges

    e1419 = pymysql.err.OperationalError(
        1419,
        "You do not have the SUPER privilege and binary logging is enabled (you *might* want "
        "to use the less safe log_bin_trust_function_creators variable)",
    )
    err = privileges.from_driver_error(e1419, "app", "shop")
    assert err is not None and "log_bin_trust_function_creators" in str(err)
    assert "DB parameter group" in (err.fix or "") and "RDS" in (err.fix or "")
    e1227 = pymysql.err.OperationalError(
        1227, "Access denied; you need (at least one of) the SUPER or SET_USER_ID privilege(s)"
    )
    e1227.add_note("statement: CREATE DEFINER=`admin`@`%` TRIGGER t_bi BEFORE INSERT ON t ...")
    err = privileges.from_driver_error(e1227, "app", "shop")
    assert err is not None
    assert 'definer = "current"' in (err.fix or "") and "RDS" in (err.fix or "")


def test_caching_sha2_full_auth_works_without_tls() -> None:
    """PyMySQL[rsa]: the password goes RSA-encrypted with the server's public key."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from pymysql import _auth

    assert _auth._have_cryptography
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    salt = b"0123456789abcdefghij"
    sent = _auth.sha2_rsa_encrypt(b"s3cret", salt, pem)
    oaep = padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)
    plain = key.decrypt(sent, oaep)
    # The server XORs the salt back out (sql/auth/sha2_password.cc).
    assert bytes(b ^ salt[i % len(salt)] for i, b in enumerate(plain)) == b"s3cret\0"


def test_login_refusals_are_one_sentence_with_the_fix() -> None:
    import pymysql

    from myshift.db.connect import Endpoint, friendly_error, rsa_missing

    ep = Endpoint(host="db.internal", port=3306, user="app", schema="shop")
    err = friendly_error(
        pymysql.err.OperationalError(2061, "Authentication requires secure connection."), ep
    )
    assert "caching_sha2_password" in str(err) and "TLS" in (err.fix or "")
    err = rsa_missing(ep)
    assert "'cryptography'" in str(err) and "PyMySQL[rsa]" in (err.fix or "")


def test_gipk_table_can_go_through_the_online_tool() -> None:
    from myshift.engine.online import osc_alter

    t = _gipk_table(MYSQL_80)
    alter_, why = osc_alter(alter(t, appended(t, NOTE)), MYSQL_80)
    assert why == "" and alter_ == "ADD COLUMN `note` int DEFAULT NULL AFTER `c2`"
    keyless = replace(t, gipk=False)
    assert "no PRIMARY KEY" in osc_alter(alter(keyless, appended(keyless, NOTE)), MYSQL_80)[1]
