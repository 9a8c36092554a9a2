"""Issue 12, class 5: foreign keys to tables the desired schema does not have.

A file that turns foreign_key_checks off (mysqldump does) may hold an FK to a
table it does not define; a database made with checks off may keep one after
its parent was dropped.  Both are planned faithfully (the statement that needs
it runs with checks off for itself), through plan, apply and a re-plan; the
same FK in a file that leaves checks on is the file's error, at file:line.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from clitools import run_cli
from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.exitcodes import ExitCode


def url(ep: Endpoint) -> str:
    return f"mysql://{ep.user}@127.0.0.1:{ep.port}/{ep.schema}"


DUMPED = """
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
CREATE TABLE c (id int PRIMARY KEY, p_id int, KEY (p_id),
  CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id));
/*!40014 SET FOREIGN_KEY_CHECKS=IF(@OLD_FOREIGN_KEY_CHECKS IS NULL, 1, @OLD_FOREIGN_KEY_CHECKS) */;
"""


def _fks(conn: Conn) -> list[tuple[str, str]]:
    rows = conn.query(
        "SELECT CONSTRAINT_NAME, REFERENCED_TABLE_NAME FROM "
        "information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() "
        "ORDER BY 1"
    )
    return [(str(a), str(b)) for a, b in rows]


def test_dump_with_checks_off_and_a_missing_parent_plans_applies_and_converges(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    target = url(fresh_schema)
    r = run_cli("plan", target, cwd=tmp_path, stdin=DUMPED)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SET STATEMENT foreign_key_checks=0 FOR CREATE TABLE `c`" in r.stdout
    r = run_cli("apply", target, "--yes", cwd=tmp_path, stdin=DUMPED)
    assert r.returncode == 0, r.stdout + r.stderr
    assert _fks(conn) == [("c_p", "p")]
    conn.execute("SELECT @@foreign_key_checks")  # the session is untouched
    assert conn.scalar("SELECT @@SESSION.foreign_key_checks") == 1
    r = run_cli("plan", target, "--check", cwd=tmp_path, stdin=DUMPED)
    assert r.returncode == 0, r.stdout + r.stderr


def test_missing_parent_with_checks_on_is_an_input_error_at_file_line(
    fresh_schema: Endpoint, tmp_path: Path
) -> None:
    src = tmp_path / "schema.sql"
    src.write_text(
        "CREATE TABLE a (id int PRIMARY KEY);\n\n"
        "CREATE TABLE c (id int PRIMARY KEY, p_id int,\n"
        "  CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id));\n"
    )
    r = run_cli("plan", url(fresh_schema), "--desired", str(src), cwd=tmp_path)
    assert r.returncode == ExitCode.BAD_SQL, r.stdout + r.stderr
    assert f"{src}:3:" in r.stderr and "c_p" in r.stderr and "foreign_key_checks" in r.stderr
    assert "myshift bug" not in r.stderr


@pytest.fixture
def dev(server: LocalServer, fresh_schema: Endpoint) -> Iterator[Endpoint]:
    """A second schema on the same server: the dev side of a DB->DB plan."""
    name = f"dev_{uuid.uuid4().hex[:8]}"
    admin = connect(replace(fresh_schema, schema=""))
    admin.execute(f"CREATE DATABASE {quote_ident(name)}")
    try:
        yield replace(fresh_schema, schema=name)
    finally:
        admin.execute(f"DROP DATABASE {quote_ident(name)}")
        admin.close()


def test_db_to_db_dev_dropped_a_parent_others_still_reference(
    conn: Conn, fresh_schema: Endpoint, dev: Endpoint, tmp_path: Path
) -> None:
    """Dev dropped p (checks off) while c and q still reference it (q's FK added
    after): without --allow-drop p stays and the FKs are created; with it p goes
    and the FKs pointing at it stay, as in dev."""
    with connect(dev) as d:
        d.execute("CREATE TABLE p (id int PRIMARY KEY)")
        d.execute(
            "CREATE TABLE c (id int PRIMARY KEY, p_id int, CONSTRAINT c_p "
            "FOREIGN KEY (p_id) REFERENCES p (id))"
        )
        d.execute(
            "CREATE TABLE k (id int PRIMARY KEY, c_id int, CONSTRAINT k_c "
            "FOREIGN KEY (c_id) REFERENCES c (id))"
        )
        d.execute("CREATE TABLE q (id int PRIMARY KEY, p_id int, KEY (p_id))")
        d.execute("SET foreign_key_checks = 0")
        d.execute("ALTER TABLE q ADD CONSTRAINT q_p FOREIGN KEY (p_id) REFERENCES p (id)")
        d.execute("DROP TABLE p")
    conn.execute("CREATE TABLE p (id int PRIMARY KEY)")
    conn.execute(
        "CREATE TABLE c (id int PRIMARY KEY, p_id int, CONSTRAINT c_p "
        "FOREIGN KEY (p_id) REFERENCES p (id))"
    )
    conn.execute("CREATE TABLE k (id int PRIMARY KEY, c_id int)")
    conn.execute("CREATE TABLE q (id int PRIMARY KEY, p_id int)")
    conn.execute("INSERT INTO p VALUES (1)")
    conn.execute("INSERT INTO c VALUES (1, 1)")
    target, desired = url(fresh_schema), url(dev)
    r = run_cli("plan", target, "--desired", desired, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "held back (needs --allow-drop)" in r.stdout and "DROP TABLE `p`" in r.stdout
    r = run_cli("apply", target, "--desired", desired, "--yes", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert _fks(conn) == [("c_p", "p"), ("k_c", "c"), ("q_p", "p")]
    r = run_cli("plan", target, "--desired", desired, "--check", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_cli("apply", target, "--desired", desired, "--allow-drop", "--yes", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert _fks(conn) == [("c_p", "p"), ("k_c", "c"), ("q_p", "p")]
    assert conn.query("SHOW TABLES LIKE 'p'") == []
    r = run_cli("plan", target, "--desired", desired, "--allow-drop", "--check", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    # Rolling the last apply back re-creates p; c's FK to p was never gone.
    r = run_cli("rollback", "--to", target, "--yes", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert conn.query("SHOW TABLES LIKE 'p'") == [("p",)]
