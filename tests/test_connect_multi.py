"""Conn.multi_column: one column of each result of a batch, read from the wire."""

from __future__ import annotations

import pymysql
import pytest

from myshift.db.connect import Conn, Endpoint, connect


def test_multi_column_matches_the_cursor_path(conn: Conn, fresh_schema: Endpoint) -> None:
    conn.execute("CREATE TABLE t1 (id int PRIMARY KEY, note varchar(10) COMMENT 'é ✓')")
    conn.execute("CREATE TABLE t2 (id bigint PRIMARY KEY) COMMENT 'two'")
    multi = connect(fresh_schema, multi=True)
    try:
        sql = "SHOW CREATE TABLE t1;\nSHOW CREATE TABLE t2"
        expected = [str(rows[0][1]) for rows in multi.multi_query(sql)]
        assert multi.multi_column(sql, 1) == expected
        assert "'é ✓'" in expected[0]
        # A statement without a result set, an empty result, and NULL: None each.
        got = multi.multi_column("SET @x = 1; SELECT 1, 'a' FROM DUAL WHERE 0; SELECT 2, NULL", 1)
        assert got == [None, None, None]
        assert multi.multi_column("SELECT 'x', 'y', 'z'", 2) == ["z"]
        # A failing statement raises the server's error.
        with pytest.raises(pymysql.err.MySQLError):
            multi.multi_column("SHOW CREATE TABLE t1; SHOW CREATE TABLE nosuch", 1)
    finally:
        multi.close()
