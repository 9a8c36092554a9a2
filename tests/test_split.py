"""engine.split: the mysql-client-compatible splitter and rename hints (no server needed)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myshift.engine.split import (
    RenameHint,
    RenameHints,
    Statement,
    parse_rename_option,
    rename_hints,
    split_sql,
)
from myshift.errors import SQLLoadError, UsageError


def sqls(text: str) -> list[str]:
    return [s.sql for s in split_sql(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT 1; SELECT 2;", ["SELECT 1", "SELECT 2"]),
        ("SELECT 1", ["SELECT 1"]),
        (";;; ;\n;", []),
        ("SELECT 'a;b'; SELECT 2", ["SELECT 'a;b'", "SELECT 2"]),
        ("SELECT 'it''s;'; x", ["SELECT 'it''s;'", "x"]),
        (r"SELECT 'a\';'; x", [r"SELECT 'a\';'", "x"]),
        ('SELECT "a"";"; x', ['SELECT "a"";"', "x"]),
        ("SELECT `a;``b`; x", ["SELECT `a;``b`", "x"]),
        ("SELECT 1 /* ; */ + 2; x", ["SELECT 1 /* ; */ + 2", "x"]),
        ("SELECT 1 -- ;\n + 2; x", ["SELECT 1 -- ;\n + 2", "x"]),
        ("SELECT 1 # ;\n + 2; x", ["SELECT 1 # ;\n + 2", "x"]),
        # `--` without a following space is minus minus, not a comment.
        ("SELECT 1--1; x", ["SELECT 1--1", "x"]),
        # Leading comments are not part of the statement; comment-only input is nothing.
        ("-- a\n/* b */ # c\nSELECT 1;", ["SELECT 1"]),
        ("-- only a comment\n/* and ; another */", []),
        # Conditional comments are kept, and a delimiter inside one ends the statement.
        ("/*!40101 SET NAMES utf8 */;", ["/*!40101 SET NAMES utf8 */"]),
        ("/*!50001 CREATE VIEW v AS SELECT 1; */", ["/*!50001 CREATE VIEW v AS SELECT 1", "*/"]),
        # mariadb-dump's sandbox line is a comment for every server.
        ("/*M!999999\\- enable the sandbox mode */\nSELECT 1;", ["SELECT 1"]),
        ("/*M!100616 SET NOTE_VERBOSITY=0 */;", ["/*M!100616 SET NOTE_VERBOSITY=0 */"]),
        (
            "DELIMITER ;;\nCREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET @x=1; END;;\n"
            "DELIMITER ;\nSELECT 1;",
            [
                "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET @x=1; END",
                "SELECT 1",
            ],
        ),
        ("delimiter $$\nSELECT 1; SELECT 2$$\ndelimiter ;\nx;", ["SELECT 1; SELECT 2", "x"]),
        ("DELIMITER //\nSELECT '//' // SELECT 2//", ["SELECT '//'", "SELECT 2"]),
    ],
)
def test_split_cases(text: str, expected: list[str]) -> None:
    assert sqls(text) == expected


def test_mysqldump_trigger_shape() -> None:
    text = (
        "DELIMITER ;;\n"
        "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `t_bi` "
        "BEFORE INSERT ON `t` FOR EACH ROW BEGIN\n  SET NEW.a = 1;\nEND */;;\n"
        "DELIMITER ;\n"
        "/*!50003 SET sql_mode = @saved_sql_mode */ ;\n"
    )
    out = split_sql(text, "dump.sql")
    assert [s.line for s in out] == [2, 6]
    assert out[0].sql.endswith("END */")
    assert out[1].sql == "/*!50003 SET sql_mode = @saved_sql_mode */"
    assert out[0].path == "dump.sql"


def test_line_numbers_skip_leading_comments() -> None:
    text = "-- header\n\n/* block\n comment */\n  SELECT 1;\nSELECT\n2;   SELECT 3;"
    assert [(s.line, s.sql) for s in split_sql(text)] == [
        (5, "SELECT 1"),
        (6, "SELECT\n2"),
        (7, "SELECT 3"),
    ]


# --- property: random statements joined by random delimiters split back -------------------

_WORDS = st.sampled_from(["SELECT", "a", "1", "CREATE", "t1", "(", ")", ",", "=", "+", "-", "/"])
_CHARS = ["a", " ", ";", ";;", "$$", "//", "#", "-- ", "/*", "*/", "\n", "é"]
_sq = st.lists(st.sampled_from([*_CHARS, '"', "`", "''", "\\'", "\\\\"]), max_size=6).map(
    lambda p: "'" + "".join(p) + "'"
)
_dq = st.lists(st.sampled_from([*_CHARS, "'", "`", '""', '\\"']), max_size=6).map(
    lambda p: '"' + "".join(p) + '"'
)
_bt = st.lists(st.sampled_from([*_CHARS, "'", '"', "``"]), max_size=6).map(
    lambda p: "`" + "".join(p) + "`"
)
_block = st.lists(
    st.sampled_from(["a", " ", ";", "$$", "//", "'", '"', "`", "\n"]), max_size=6
).map(lambda p: "/* " + "".join(p) + " */")
_line = st.lists(st.sampled_from(["a", " ", ";", "$$", "//", "'", '"', "`"]), max_size=6).map(
    lambda p: "-- " + "".join(p) + "\n"
)
_cond = st.lists(_WORDS | _sq, min_size=1, max_size=3).map(
    lambda p: "/*!50003 " + " ".join(p) + " */"
)
_fragment = _WORDS | _sq | _dq | _bt | _block | _line | _cond
# Statements end in a word that cannot run into the delimiter (`SELECT /` + `//` is `///`,
# which the mysql client splits the same way we do).
_EDGE = st.sampled_from(["SELECT", "a", "1", "t1", ")"])
_statement = st.tuples(_EDGE, st.lists(_fragment, max_size=6), _EDGE).map(
    lambda t: " ".join([t[0], *t[1], t[2]])
)
_separator = st.sampled_from(
    ["\n", " ", "\n\n", "\n-- c ; $$ //\n", " /* ; $$ */ ", "\n# hash ; \n", "\t"]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(_statement, st.sampled_from([";", ";;", "$$", "//"]), _separator),
        max_size=8,
    )
)
def test_split_round_trip(parts: list[tuple[str, str, str]]) -> None:
    text = ""
    current = ";"
    expected: list[tuple[int, str]] = []
    for sql, delim, sep in parts:
        if delim != current:
            text += f"\nDELIMITER {delim}\n"
            current = delim
        expected.append((text.count("\n") + 1, sql))
        text += sql + delim + sep
    got = split_sql(text)
    assert [(s.line, s.sql) for s in got] == expected


def test_splits_big_dump_quickly_enough_to_matter() -> None:
    # Correctness on a large input (speed is measured in `make bench`, not asserted here).
    table = (
        "DROP TABLE IF EXISTS `t{i}`;\n/*!40101 SET character_set_client = utf8mb4 */;\n"
        "CREATE TABLE `t{i}` (\n  `id` int NOT NULL COMMENT 'a; b',\n  PRIMARY KEY (`id`)\n);\n"
    )
    text = "".join(table.format(i=i) for i in range(2000))
    out = split_sql(text)
    assert len(out) == 6000
    assert out[-1].sql.startswith("CREATE TABLE `t1999`")
    assert out[-1].line == 1999 * 6 + 3


# --- rename hints ------------------------------------------------------------------------------


def test_rename_hints_column_and_table_forms() -> None:
    text = """
-- myshift:renamed-from clients
CREATE TABLE customers (
  id int PRIMARY KEY,
  `full_name` varchar(100), -- myshift:renamed-from name
  email varchar(100) -- myshift:renamed-from `mail`
);
CREATE TABLE orders ( -- myshift:renamed-from purchases
  id int
);
CREATE TABLE plain (id int); -- myshift:renamed-from old_plain
"""
    stmts = split_sql(text, "d.sql")
    assert stmts[0].hints == (
        RenameHint(2, "clients", None),
        RenameHint(5, "name", "full_name"),
        RenameHint(6, "mail", "email"),
    )
    hints = rename_hints(stmts)
    assert hints == RenameHints(
        tables={"customers": "clients", "orders": "purchases", "plain": "old_plain"},
        columns={("customers", "full_name"): "name", ("customers", "email"): "mail"},
    )


def test_hint_inside_string_is_not_a_hint() -> None:
    stmts = split_sql("CREATE TABLE t (\n a int COMMENT '-- myshift:renamed-from b'\n);")
    assert stmts[0].hints == ()
    assert not rename_hints(stmts)


def test_misplaced_hint_is_an_error() -> None:
    stmts = split_sql("-- myshift:renamed-from old_v\nCREATE VIEW v AS SELECT 1;", "d.sql")
    with pytest.raises(SQLLoadError) as err:
        rename_hints(stmts)
    assert (err.value.path, err.value.line) == ("d.sql", 1)


def test_parse_rename_option() -> None:
    hints = parse_rename_option(["clients=customers", "users.name=full_name", "`a.b`.`c`=d"])
    assert hints.tables == {"customers": "clients"}
    assert hints.columns == {("users", "full_name"): "name", ("a.b", "d"): "c"}
    merged = RenameHints({"x": "y"}).merged(hints)
    assert merged.tables == {"x": "y", "customers": "clients"}
    with pytest.raises(UsageError):
        parse_rename_option(["nonsense"])


def test_statement_where() -> None:
    assert Statement("SELECT 1", "a.sql", 3).where == "a.sql:3"


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("CREATE TABLE a (id int);\n/* forgot to close\nCREATE TABLE b (id int);\n", 2, "comment"),
        ("CREATE TABLE a (id int);\n\nSELECT 'abc; x\n", 3, "quoted string"),
        ('CREATE TABLE a (c int DEFAULT "x);\n', 1, "quoted string"),
        ("CREATE TABLE `a (id int);\n", 1, "quoted identifier"),
        ("DELIMITER ;;\nCREATE TABLE a (id int);;\n/*\n", 3, "comment"),
    ],
)
def test_unterminated_comment_or_quote_is_refused_with_its_line(
    text: str, line: int, what: str
) -> None:
    # Before, an unterminated /* silently swallowed the rest of the file.
    with pytest.raises(SQLLoadError) as err:
        split_sql(text, "s.sql")
    assert (err.value.path, err.value.line) == ("s.sql", line)
    assert f"unterminated {what}" in err.value.message
