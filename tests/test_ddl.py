# ruff: noqa: E501  (expected SQL is kept on one line, as the server prints it)
"""The DDL renderer: table-driven per flavor, plus what must execute on a live server."""

from __future__ import annotations

from dataclasses import replace

import pytest

from myshift.db.connect import Conn, Endpoint
from myshift.engine import ddl
from myshift.engine.introspect import introspect
from myshift.engine.lexer import Dialect, Mode, squeeze
from myshift.model import (
    MARIADB_10_11,
    MYSQL_8_0,
    Check,
    Column,
    Event,
    Flavor,
    ForeignKey,
    Index,
    IndexKind,
    IndexPart,
    Partition,
    Partitioning,
    Routine,
    Table,
    Trigger,
    View,
)

T = Table(name="t", columns=(), charset="utf8mb4", collation="utf8mb4_general_ci")
M = MARIADB_10_11
MY = MYSQL_8_0


def test_quote_doubles_backticks() -> None:
    assert ddl.quote("a`b") == "`a``b`"


@pytest.mark.parametrize(
    ("col", "flavor", "want"),
    [
        (Column("a", "int(11)", default="NULL"), M, "`a` int(11) DEFAULT NULL"),
        (
            Column(
                "n",
                "varchar(100)",
                nullable=False,
                default="'x'",
                charset="latin1",
                collation="latin1_bin",
                comment="it's",
            ),
            M,
            "`n` varchar(100) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL DEFAULT 'x' COMMENT 'it''s'",
        ),
        # Same collation as the table: no CHARACTER SET clause.
        (
            Column("s", "text", default="NULL", charset="utf8mb4", collation="utf8mb4_general_ci"),
            M,
            "`s` text DEFAULT NULL",
        ),
        (Column("ts", "timestamp", default="NULL"), M, "`ts` timestamp NULL DEFAULT NULL"),
        (
            Column(
                "u", "datetime(3)", default="current_timestamp(3)", on_update="current_timestamp(3)"
            ),
            M,
            "`u` datetime(3) DEFAULT current_timestamp(3) ON UPDATE current_timestamp(3)",
        ),
        (
            Column("id", "bigint(20)", nullable=False, auto_increment=True),
            M,
            "`id` bigint(20) NOT NULL AUTO_INCREMENT",
        ),
        (Column("h", "int(11)", default="7", invisible=True), M, "`h` int(11) INVISIBLE DEFAULT 7"),
        (
            Column("h", "int", default="NULL", invisible=True),
            MY,
            "`h` int DEFAULT NULL /*!80023 INVISIBLE */",
        ),
        (
            Column("g", "int(11)", generated="`a` + 1", stored=True),
            M,
            "`g` int(11) GENERATED ALWAYS AS (`a` + 1) STORED",
        ),
        (
            Column("p", "point", nullable=False, srid=4326),
            MY,
            "`p` point NOT NULL /*!80003 SRID 4326 */",
        ),
        (
            Column("c", "blob", default="NULL", compressed=True),
            M,
            "`c` blob /*M!100301 COMPRESSED*/ DEFAULT NULL",
        ),
        (
            Column("x", "varchar(3)", default="'a\\\\b'", comment="l1\nl2\\"),
            M,
            "`x` varchar(3) DEFAULT 'a\\\\b' COMMENT 'l1\\nl2\\\\'",
        ),
    ],
)
def test_column_definition(col: Column, flavor: Flavor, want: str) -> None:
    assert ddl.column_definition(col, T, flavor) == want


def test_mariadb_column_check_prints_inline() -> None:
    t = Table(
        name="t",
        columns=(
            Column("j", "longtext", default="NULL", charset="utf8mb4", collation="utf8mb4_bin"),
        ),
        checks=(Check("j", "json_valid(`j`)", column="j"),),
    )
    assert ddl.column_definition(t.columns[0], t, M) == (
        "`j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`j`))"
    )
    assert "CONSTRAINT" not in ddl.create_table(t, M)


@pytest.mark.parametrize(
    ("ix", "flavor", "want"),
    [
        (Index("PRIMARY", IndexKind.PRIMARY, (IndexPart("id"),)), M, "PRIMARY KEY (`id`)"),
        (
            Index("u", IndexKind.UNIQUE, (IndexPart("a"), IndexPart("b", length=10))),
            M,
            "UNIQUE KEY `u` (`a`,`b`(10))",
        ),
        (Index("f", IndexKind.FULLTEXT, (IndexPart("t"),)), M, "FULLTEXT KEY `f` (`t`)"),
        (Index("s", IndexKind.SPATIAL, (IndexPart("g"),)), M, "SPATIAL KEY `s` (`g`)"),
        (
            Index(
                "d",
                IndexKind.INDEX,
                (IndexPart("a", descending=True),),
                comment="c",
                invisible=True,
            ),
            M,
            "KEY `d` (`a` DESC) COMMENT 'c' IGNORED",
        ),
        (
            Index("d", IndexKind.INDEX, (IndexPart(expression="lower(`a`)"),), invisible=True),
            MY,
            "KEY `d` ((lower(`a`))) /*!80000 INVISIBLE */",
        ),
        (
            Index("h", IndexKind.INDEX, (IndexPart("a"),), using="HASH"),
            M,
            "KEY `h` (`a`) USING HASH",
        ),
    ],
)
def test_index_definition(ix: Index, flavor: Flavor, want: str) -> None:
    assert ddl.index_definition(ix, flavor) == want


def test_foreign_key_hides_each_flavors_default_rule() -> None:
    fk = ForeignKey("fk", ("a", "b"), "p", ("x", "y"), on_delete="CASCADE", on_update="RESTRICT")
    assert ddl.foreign_key_definition(fk, M) == (
        "CONSTRAINT `fk` FOREIGN KEY (`a`, `b`) REFERENCES `p` (`x`, `y`) ON DELETE CASCADE"
    )
    assert ddl.foreign_key_definition(fk, MY).endswith("ON DELETE CASCADE ON UPDATE RESTRICT")
    na = ForeignKey(
        "fk", ("a",), "p", ("x",), ref_schema="other", on_delete="NO ACTION", on_update="NO ACTION"
    )
    assert ddl.foreign_key_definition(na, MY) == (
        "CONSTRAINT `fk` FOREIGN KEY (`a`) REFERENCES `other`.`p` (`x`)"
    )
    assert ddl.foreign_key_definition(na, M).endswith("ON DELETE NO ACTION ON UPDATE NO ACTION")


def test_check_definition() -> None:
    assert ddl.check_definition(Check("c", "`a` > 0"), M) == "CONSTRAINT `c` CHECK (`a` > 0)"
    assert ddl.check_definition(Check("c", "(`a` > 0)", enforced=False), MY) == (
        "CONSTRAINT `c` CHECK ((`a` > 0)) /*!80016 NOT ENFORCED */"
    )


def test_partition_clause_per_flavor() -> None:
    rng = Partitioning(
        "RANGE",
        "year(`d`)",
        (Partition("p0", "2021", comment="old"), Partition("pmax", "MAXVALUE")),
    )
    assert ddl.partition_clause(rng, M) == (
        "\n PARTITION BY RANGE (year(`d`))\n"
        "(PARTITION `p0` VALUES LESS THAN (2021) COMMENT = 'old' ENGINE = InnoDB,\n"
        " PARTITION `pmax` VALUES LESS THAN MAXVALUE ENGINE = InnoDB)"
    )
    assert ddl.partition_clause(rng, MY).startswith(
        "\n/*!50100 PARTITION BY RANGE (year(`d`))\n(PARTITION p0 "
    )
    key = Partitioning("KEY", "`id`", tuple(Partition(f"p{i}") for i in range(3)))
    assert ddl.partition_clause(key, M) == "\n PARTITION BY KEY (`id`)\nPARTITIONS 3"
    assert ddl.partition_clause(key, MY) == "\n/*!50100 PARTITION BY KEY (id)\nPARTITIONS 3 */"
    cols = Partitioning("LIST COLUMNS", "`r`", (Partition("eu", "1,2"),))
    assert ddl.partition_clause(cols, MY).startswith("\n/*!50500 PARTITION BY LIST  COLUMNS(r)\n")
    # RANGE COLUMNS parenthesises MAXVALUE even for one column (sqldef PartitionByRangeColumns).
    rcol = Partitioning("RANGE COLUMNS", "`d`", (Partition("p_max", "MAXVALUE"),))
    assert ddl.partition_clause(rcol, M).endswith(
        "(PARTITION `p_max` VALUES LESS THAN (MAXVALUE) ENGINE = InnoDB)"
    )


def test_table_options() -> None:
    t = Table(
        name="t",
        columns=(),
        engine="InnoDB",
        charset="latin1",
        collation="latin1_swedish_ci",
        row_format="DYNAMIC",
        comment="a'b",
        options=(("STATS_PERSISTENT", "0"),),
        auto_increment=42,
    )
    assert ddl.table_options(t, M) == (
        "ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci "
        "STATS_PERSISTENT=0 ROW_FORMAT=DYNAMIC COMMENT='a''b'"
    )
    # MySQL 8 omits COLLATE when it is the charset's default (except utf8mb4).
    assert ddl.table_options(t, MY, with_auto_increment=True).startswith(
        "ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=latin1 STATS_PERSISTENT=0"
    )


def test_views_routines_events_render_without_definer() -> None:
    v = View(
        "v",
        "select 1 AS `1`",
        algorithm="MERGE",
        security="INVOKER",
        check_option="LOCAL",
        definer="x@%",
    )
    assert ddl.create_view(v, M) == (
        "CREATE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW `v` AS select 1 AS `1` WITH LOCAL CHECK OPTION"
    )
    r = Routine(
        "f",
        "FUNCTION",
        "x int",
        "RETURN x",
        returns="int(11)",
        create_sql="CREATE DEFINER=`we``ird`@`%` FUNCTION `f`(x int) RETURNS int(11)\n    DETERMINISTIC\nRETURN x",
    )
    assert (
        ddl.create_routine(r, M)
        == "CREATE FUNCTION `f`(x int) RETURNS int(11)\n    DETERMINISTIC\nRETURN x"
    )
    assert ddl.create_routine(r.__class__("p", "PROCEDURE", "", "BEGIN END"), M) == (
        "CREATE PROCEDURE `p`()\nBEGIN END"
    )
    e = Event(
        "e",
        "EVERY 1 HOUR",
        "DO 1",
        create_sql="CREATE DEFINER='u'@'h' EVENT `e` ON SCHEDULE EVERY 1 HOUR DO SELECT 1",
    )
    assert ddl.create_event(e, M) == "CREATE EVENT `e` ON SCHEDULE EVERY 1 HOUR DO SELECT 1"
    assert ddl.strip_definer(
        "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1"
    ) == ("CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1")


def test_trigger_follows_executes_and_keeps_order(conn: Conn, fresh_schema: Endpoint) -> None:
    conn.execute("CREATE TABLE t (a int)")
    first = Trigger("b1", "t", "BEFORE", "INSERT", "SET NEW.a = NEW.a + 1")
    second = Trigger("b2", "t", "BEFORE", "INSERT", "SET NEW.a = NEW.a * 10", order=2)
    # b2 names its predecessor with FOLLOWS; the server must run b1 then b2.
    conn.execute(ddl.create_trigger(first, M))
    conn.execute(
        ddl.create_trigger(second, M, follows=ddl.trigger_predecessor((first, second), second))
    )
    s = introspect(conn, fresh_schema.schema)
    assert [(t.name, t.order) for t in s.triggers] == [("b1", 1), ("b2", 2)]
    conn.execute("INSERT INTO t VALUES (1)")
    assert conn.scalar("SELECT a FROM t") == 20
    # Bodies are compared squeezed (comments and layout do not count, issue 12).
    assert s.triggers[1] == replace(second, body=squeeze(second.body, Dialect.of(M), Mode()))
