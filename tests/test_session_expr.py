"""Session-setting idioms of application schema files (found by the app corpus).

Apache DolphinScheduler's schema sets ``sql_mode`` from an expression on the
current one, as ``SET sql_mode=(SELECT REPLACE(@@sql_mode,'ONLY_FULL_GROUP_BY',''))``
(2.x-3.1) and as ``SELECT REPLACE(...) into @new_sql_mode; SET sql_mode=@new_sql_mode;``
(3.2.0).  Both load, and the loader still knows the sql_mode afterwards; a
SELECT that is a query (a FROM, a file, a sleep) is still refused.
"""

from __future__ import annotations

import pytest

from myshift.db.connect import Endpoint, connect
from myshift.engine.lexer import Dialect, Lexed, lex
from myshift.engine.load import load_sql
from myshift.engine.sessionset import SessionState, classify_select_into, classify_set
from myshift.engine.split import split_sql
from myshift.errors import SQLLoadError

TABLE = "CREATE TABLE t (id INT NOT NULL PRIMARY KEY, s VARCHAR(10) NOT NULL DEFAULT 'a\\\\b');\n"


@pytest.mark.parametrize(
    "setting",
    [
        "SET sql_mode=(SELECT REPLACE(@@sql_mode,'STRICT_TRANS_TABLES',''));\n",
        "SELECT REPLACE(@@sql_mode,'STRICT_TRANS_TABLES','') into @new_sql_mode;\n"
        "SET sql_mode=@new_sql_mode;\n",
        "SET @m = REPLACE('STRICT_TRANS_TABLES', 'STRICT_TRANS_TABLES', 'ANSI_QUOTES');\n"
        "SET sql_mode = IFNULL(@m, '');\n",
    ],
)
def test_sql_mode_from_an_expression_loads(fresh_schema: Endpoint, setting: str) -> None:
    load_sql(split_sql(setting + TABLE, "app.sql"), fresh_schema)
    with connect(fresh_schema) as c:
        assert c.scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
                        (fresh_schema.schema,)) == 1  # fmt: skip


def test_the_tracked_sql_mode_is_the_computed_one() -> None:
    """The loader's lexer must know the mode these statements set (ANSI_QUOTES,
    NO_BACKSLASH_ESCAPES change where strings end)."""
    state = SessionState("STRICT_TRANS_TABLES,ONLY_FULL_GROUP_BY", "utf8mb4")
    dialect = Dialect(mariadb=True, version_id=101100)

    def lx(text: str) -> Lexed:
        return lex(text, dialect, state.mode)

    classify_select_into(lx("SELECT REPLACE(@@sql_mode,'ONLY_FULL_GROUP_BY','') into @m"), state)
    classify_set(lx("SET sql_mode=@m"), state)
    assert state.sql_mode == "STRICT_TRANS_TABLES,"
    classify_set(
        lx("SET sql_mode=(SELECT REPLACE(@@sql_mode,'STRICT','ANSI_QUOTES,STRICT'))"), state
    )
    assert state.mode.ansi_quotes


@pytest.mark.parametrize(
    "query",
    [
        "SELECT REPLACE(@@sql_mode,'X','') INTO @m FROM mysql.user",
        "SELECT LOAD_FILE('/etc/passwd') INTO @m",
        "SELECT SLEEP(5) INTO @m",
        "SELECT 'x' INTO OUTFILE '/tmp/myshift-x'",
        "SELECT 1 INTO @a, @b",
        "SELECT @@global.secure_file_priv INTO @m",
        "SET sql_mode=(SELECT REPLACE(@@sql_mode,'X','') FROM mysql.user LIMIT 1)",
    ],
)
def test_queries_are_still_refused(fresh_schema: Endpoint, query: str) -> None:
    with pytest.raises(SQLLoadError) as err:
        load_sql(split_sql(query + ";\n" + TABLE, "app.sql"), fresh_schema)
    assert "app.sql:1" in str(err.value)
    with connect(fresh_schema) as c:
        assert c.scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
                        (fresh_schema.schema,)) == 0  # fmt: skip
