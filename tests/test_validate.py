"""checks.sql and --run, against a real schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from myshift.db.connect import Conn, Endpoint
from myshift.errors import UsageError
from myshift.workflows.validate import command_env, run_checks, run_command, summarize

CHECKS = """\
-- check: every order has a customer
SELECT o.id, o.customer_id FROM orders o
  LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL;

-- check: no negative totals
SELECT COUNT(*) = 0 FROM orders WHERE total < 0;

SELECT 'TRUE';
SELECT 1 FROM customers WHERE id = 999;
-- check: broken on purpose
SELECT nope FROM orders;
-- check: two customers
SELECT COUNT(*) FROM customers;
-- check: literal 1
SELECT '1';
"""


@pytest.fixture
def shop(conn: Conn) -> Conn:
    conn.execute("CREATE TABLE customers (id INT PRIMARY KEY)")
    conn.execute("CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, total INT)")
    conn.execute("INSERT INTO customers VALUES (1), (2)")
    conn.execute(
        "INSERT INTO orders VALUES (1, 1, 10), (2, 7, 5), (3, 8, -1), (4, 9, 1), (5, 10, 1),"
        " (6, 11, 1), (7, 12, 1), (8, 13, 1)"
    )
    return conn


def test_checks_pass_and_fail(shop: Conn, tmp_path: Path) -> None:
    f = tmp_path / "checks.sql"
    f.write_text(CHECKS)
    results = run_checks(shop, f)
    by = {r.name: r for r in results}
    assert len(results) == 7
    orphan = by["every order has a customer"]
    assert not orphan.passed and orphan.line == 2 and orphan.row_count == 7
    assert orphan.columns == ("id", "customer_id")
    assert len(orphan.rows) == 5 and orphan.rows[0] == (2, 7)
    text = orphan.describe()
    assert f"{f}:2" in text and "7 offending row(s)" in text and "… 2 more" in text
    assert not by["no negative totals"].passed  # single false value
    assert by["checks.sql:8"].passed  # 'TRUE' string
    assert by["checks.sql:9"].passed  # no rows
    broken = by["broken on purpose"]
    assert not broken.passed and "nope" in broken.error and broken.line == 11
    assert not by["two customers"].passed  # one row, value 2 is not true
    assert by["literal 1"].passed
    assert summarize(results) == "3/7 checks passed"


def test_checks_file_missing(shop: Conn, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="checks file"):
        run_checks(shop, tmp_path / "nope.sql")


def test_run_command_sees_sandbox(fresh_schema: Endpoint, tmp_path: Path) -> None:
    out = tmp_path / "seen"
    seen: list[str] = []
    ep = Endpoint(
        host=fresh_schema.host,
        port=fresh_schema.port,
        user="root",
        password="s3cret",
        schema=fresh_schema.schema,
    )
    res = run_command(
        f"sh -c 'echo $MYSQL_DATABASE $MYSQL_TCP_PORT $MYSQL_PWD $MYSHIFT_DSN > {out}';"
        " echo hello; echo oops >&2; exit 3",
        ep,
        echo=seen.append,
    )
    assert res.exit_code == 3 and not res.ok
    assert seen == ["hello\n", "oops\n"]
    db, port, pwd, dsn = out.read_text().split()
    assert (db, port, pwd) == (ep.schema, str(ep.port), "s3cret")
    assert dsn == f"mysql://root@{ep.host}:{ep.port}/{ep.schema}"
    assert "s3cret" not in command_env(ep)["MYSHIFT_DSN"]


def test_run_command_can_use_client(fresh_schema: Endpoint) -> None:
    # The stock client connects from the environment alone.
    seen: list[str] = []
    res = run_command(
        'mariadb -u "$MYSQL_USER" -N -e "SELECT DATABASE()" "$MYSQL_DATABASE"',
        fresh_schema,
        echo=seen.append,
    )
    assert res.ok, seen
    assert seen == [fresh_schema.schema + "\n"]
