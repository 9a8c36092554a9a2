"""Issue 9, item 5: the README's grants are exact, and a missing one is named as such.

The README's "Privileges" section holds one ``sql`` block per command, each
starting ``-- for: <command>``.  For every command this test creates a user
with exactly that block's grants (schema and account substituted) on a MariaDB
server with binary logging -- as production runs -- and runs the command
through the real CLI: it must succeed, with the same result root gets.  Then
it revokes the key grants one at a time: the command must stop with exit 4 (or
apply's 11, which keeps saying which statements ran) and a message naming the
missing privilege and the GRANT that fixes it -- never a traceback, never "a
myshift bug", never bad SQL.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from clitools import run_cli
from conftest import endpoint_of
from myshift.db.connect import Conn, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.exitcodes import ExitCode

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"```sql\n-- for: (?P<names>[^\n]+)\n(?P<body>.*?)```", re.DOTALL)

PROD_SQL = """
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, legacy VARCHAR(20));
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2),
  CONSTRAINT fk_c FOREIGN KEY (customer_id) REFERENCES customers (id));
CREATE TABLE old_log (id INT PRIMARY KEY, msg TEXT);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
CREATE TRIGGER orders_bi BEFORE INSERT ON orders FOR EACH ROW
  SET NEW.total = COALESCE(NEW.total, 0);
CREATE PROCEDURE touch_orders() SQL SECURITY INVOKER SELECT COUNT(*) FROM orders;
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC NO SQL RETURN x * 2;
CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM old_log WHERE id < 0;
INSERT INTO customers VALUES (1, 'a', 'x'), (2, 'b', 'y');
INSERT INTO orders VALUES (1, 1, 50), (2, 2, 150);
INSERT INTO old_log VALUES (1, 'm');
"""

# Every kind of change: a dropped table and column (keep-data), an added column
# and index, a new table, a changed view, function and trigger.
DEV_SQL = """
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, email VARCHAR(100),
  KEY k_name (name));
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2),
  CONSTRAINT fk_c FOREIGN KEY (customer_id) REFERENCES customers (id));
CREATE TABLE notes (id INT PRIMARY KEY, body TEXT);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 200;
CREATE TRIGGER orders_bi BEFORE INSERT ON orders FOR EACH ROW
  SET NEW.total = COALESCE(NEW.total, 1);
CREATE PROCEDURE touch_orders() SQL SECURITY INVOKER SELECT COUNT(*) FROM orders;
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC NO SQL RETURN x * 3;
CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM old_log WHERE id < 0;
"""

_n = itertools.count(1)


def readme_grants() -> dict[str, list[str]]:
    """command -> its GRANT statements, from the README's ``-- for:`` blocks."""
    out: dict[str, list[str]] = {}
    for m in _BLOCK.finditer(README.read_text(encoding="utf-8")):
        body = " ".join(m["body"].split())
        stmts = [s.strip() for s in body.split(";") if s.strip()]
        for name in m["names"].split(","):
            out[name.strip()] = stmts
    return out


GRANTS = readme_grants()


def test_readme_has_a_block_for_every_command() -> None:
    assert set(GRANTS) == {
        "dump",
        "plan",
        "plan --workspace local",
        "drift",
        "rehearse (production)",
        "rehearse (sandbox)",
        "apply",
        "apply --keep-data",
        "rollback",
        "history",
        "trash",
    }
    for stmts in GRANTS.values():
        assert all(s.startswith("GRANT ") for s in stmts)


# --------------------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def prod() -> Iterator[LocalServer]:
    """Production-like: binary logging on, so routines and triggers meet its rules."""
    srv = LocalServer.start(
        extra_args=("--log-bin=mysql-bin", "--binlog-format=ROW"), server_id=31
    )
    try:
        with connect(endpoint_of(srv)) as admin:
            # What an administrator sets so non-SUPER users may create triggers and
            # functions (the workspace, apply); the README says so.
            admin.execute("SET GLOBAL log_bin_trust_function_creators = 1")
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def root(prod: LocalServer) -> Iterator[Conn]:
    c = connect(endpoint_of(prod))
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def schema(root: Conn) -> Iterator[str]:
    """A fresh target schema holding PROD_SQL."""
    name = f"app_{next(_n)}_{secrets.token_hex(2)}"
    root.execute(f"CREATE DATABASE {quote_ident(name)}")
    with connect(endpoint_of_root(root, name), multi=True) as c:
        for _ in c.multi_query(PROD_SQL):
            pass
    try:
        yield name
    finally:
        root.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")


def endpoint_of_root(root: Conn, schema: str = ""):  # type: ignore[no-untyped-def]
    return root.endpoint.with_schema(schema)


PASSWORD = "pw-" + secrets.token_hex(6)


def make_user(
    conn: Conn,
    command: str,
    schema: str,
    revoke: tuple[str, str] | None = None,
    sandbox_schema: str = "rehearsal",
) -> str:
    """A new account with exactly the README's grants for ``command``, minus ``revoke``."""
    user = f"u{next(_n)}_{secrets.token_hex(2)}"
    conn.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (PASSWORD,))
    for stmt in GRANTS[command]:
        sql = (
            stmt.replace("'migrator'@'%'", f"'{user}'@'%'")
            .replace("'rehearser'@'%'", f"'{user}'@'%'")
            .replace("`app`", quote_ident(schema))
            .replace("`rehearsal`", quote_ident(sandbox_schema))
        )
        conn.execute(sql)  # no args: no %-formatting
    if revoke is not None:
        priv, on = revoke
        on = on.replace("`app`", quote_ident(schema))
        conn.execute(f"REVOKE {priv} ON {on} FROM '{user}'@'%'")
    return user


def url(srv: LocalServer, user: str, schema: str = "") -> str:
    return f"mysql://{user}@127.0.0.1:{srv.port}/{schema}"


def as_user(*args: str, cwd: Path) -> tuple[int, str, str]:
    r = run_cli(*args, cwd=cwd, env={"MYSQL_PWD": PASSWORD})
    return r.returncode, r.stdout, r.stderr


def as_root(*args: str, cwd: Path) -> tuple[int, str, str]:
    r = run_cli(*args, cwd=cwd)
    return r.returncode, r.stdout, r.stderr


def files(tmp_path: Path) -> tuple[Path, Path]:
    dev = tmp_path / "dev.sql"
    dev.write_text(DEV_SQL)
    return dev, tmp_path / "plan.json"


def assert_names_missing(code: int, err: str, privilege: str, exit_codes: set[int]) -> None:
    assert code in exit_codes, err
    assert "Traceback" not in err and "myshift bug" not in err, err
    assert "Fix the statement in the desired SQL" not in err, err
    assert privilege in err, err
    assert "GRANT " in err, err


# --------------------------------------------------------------------------- each command works


def test_dump(prod: LocalServer, root: Conn, schema: str, tmp_path: Path) -> None:
    user = make_user(root, "dump", schema)
    code, out, err = as_user("dump", "--from", url(prod, user, schema), cwd=tmp_path)
    assert code == 0, err
    code, want, _ = as_root("dump", "--from", url(prod, "root", schema), cwd=tmp_path)
    assert out == want  # everything root sees: view text, trigger, routines, event
    for piece in ("VIEW `big_orders`", "TRIGGER `orders_bi`", "FUNCTION `twice`", "EVENT"):
        assert piece in out


@pytest.mark.parametrize("command", ["plan", "plan --workspace local"])
def test_plan(prod: LocalServer, root: Conn, schema: str, tmp_path: Path, command: str) -> None:
    dev, _ = files(tmp_path)
    user = make_user(root, command, schema)
    extra = ["--workspace", "local"] if "local" in command else []
    args = ["plan", "--from", str(dev), "--allow-drop", "--format", "sql", *extra]
    code, out, err = as_user(*args, "--to", url(prod, user, schema), cwd=tmp_path)
    assert code == 0, err
    _, want, _ = as_root(*args, "--to", url(prod, "root", schema), cwd=tmp_path)
    assert out == want and "DROP TABLE `old_log`" in out


def test_drift(prod: LocalServer, root: Conn, schema: str, tmp_path: Path) -> None:
    dev, _ = files(tmp_path)
    user = make_user(root, "drift", schema)
    code, _, err = as_user("drift", "--from", str(dev), "--to", url(prod, user, schema), cwd=tmp_path)
    assert code == ExitCode.CHANGES_PENDING, err


def _root_plan(prod: LocalServer, schema: str, tmp_path: Path, *extra: str) -> Path:
    dev, plan = files(tmp_path)
    code, _, err = as_root(
        "plan", "--from", str(dev), "--to", url(prod, "root", schema), "--allow-drop",
        "-o", str(plan), *extra, cwd=tmp_path,
    )
    assert code == 0, err
    return plan


def _columns(root: Conn, schema: str, table: str) -> list[str]:
    return [
        str(r[0])
        for r in root.query(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
            (schema, table),
        )
    ]


def test_apply(prod: LocalServer, root: Conn, schema: str, tmp_path: Path) -> None:
    plan = _root_plan(prod, schema, tmp_path)
    user = make_user(root, "apply", schema)
    code, _, err = as_user(
        "apply", "--plan", str(plan), "--to", url(prod, user, schema), "--yes",
        "--no-keep-data", cwd=tmp_path,
    )
    assert code == 0, err
    assert _columns(root, schema, "customers") == ["id", "name", "email"]


def _apply_keep(prod: LocalServer, who: str, schema: str, tmp_path: Path) -> tuple[int, str]:
    plan = _root_plan(prod, schema, tmp_path, "--keep-data")
    run = as_root if who == "root" else as_user
    code, _, err = run(
        "apply", "--plan", str(plan), "--to", url(prod, who, schema), "--yes", "--keep-data",
        cwd=tmp_path,
    )
    return code, err


def test_apply_keep_data(prod: LocalServer, root: Conn, schema: str, tmp_path: Path) -> None:
    user = make_user(root, "apply --keep-data", schema)
    code, err = _apply_keep(prod, user, schema, tmp_path)
    assert code == 0, err
    held = root.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '_myshift_trash' "
        "AND TABLE_NAME LIKE %s",
        ("%old_log",),
    )
    assert held


def test_rollback_history_trash(
    prod: LocalServer, root: Conn, schema: str, tmp_path: Path
) -> None:
    code, err = _apply_keep(prod, "root", schema, tmp_path)
    assert code == 0, err
    reader = make_user(root, "history", schema)
    code, out, err = as_user("history", "--to", url(prod, reader, schema), cwd=tmp_path)
    assert code == 0 and "apply" in out and schema in out, err
    trash = make_user(root, "trash", schema)
    code, out, err = as_user("trash", "list", "--to", url(prod, trash, schema), cwd=tmp_path)
    assert code == 0 and f"{schema}.old_log" in out, err

    user = make_user(root, "rollback", schema)
    code, _, err = as_user("rollback", "--to", url(prod, user, schema), "--yes", cwd=tmp_path)
    assert code == 0, err
    assert _columns(root, schema, "customers") == ["id", "name", "legacy"]
    assert root.query(f"SELECT legacy FROM {quote_ident(schema)}.customers ORDER BY id") == [
        ("x",),
        ("y",),
    ]
    assert root.scalar(f"SELECT COUNT(*) FROM {quote_ident(schema)}.old_log") == 1

    code, out, err = as_user(
        "trash", "purge", "--older-than", "0m", "--to", url(prod, trash, schema), "--yes",
        cwd=tmp_path,
    )
    assert code == 0, err


def test_rehearse(
    prod: LocalServer, server2: LocalServer, root: Conn, schema: str, tmp_path: Path
) -> None:
    plan = _root_plan(prod, schema, tmp_path)
    user = make_user(root, "rehearse (production)", schema)
    box = f"rehearsal_{next(_n)}"
    with connect(endpoint_of(server2)) as root2:
        sbx = make_user(root2, "rehearse (sandbox)", box, sandbox_schema=box)
    code, out, err = as_user(
        "rehearse", "--plan", str(plan), "--to", url(prod, user, schema),
        "--sandbox", f"server:{url(server2, sbx, box)}", "--data", "sample:100", cwd=tmp_path,
    )
    assert code == 0, err + out
    assert "Not recorded in production's history" not in out + err
