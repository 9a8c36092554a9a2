"""Issue 12, class 1: without --allow-drop only the destructive clauses wait.

Every example runs as a user would, through the real CLI on a real server:
``plan`` (exit 0, a "held back" section), ``apply`` (the safe clauses run,
verification passes), a re-plan (nothing left to run, the same held-back
part), then ``apply --allow-drop`` and a re-plan that is empty.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clitools import run_cli
from myshift.db.connect import Conn, Endpoint
from myshift.exitcodes import ExitCode

HELD = "-- held back (needs --allow-drop)"


def url(ep: Endpoint) -> str:
    return f"mysql://{ep.user}@127.0.0.1:{ep.port}/{ep.schema}"


def _columns(conn: Conn, table: str) -> list[str]:
    rows = conn.query(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
        (table,),
    )
    return [str(r[0]) for r in rows]


def _cycle(ep: Endpoint, desired: str, tmp_path: Path) -> tuple[str, str]:
    """plan, apply, re-plan without --allow-drop; returns the first plan's and re-plan's text."""
    target = url(ep)
    first = run_cli("plan", target, cwd=tmp_path, stdin=desired)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "held back (needs --allow-drop)" in first.stdout
    r = run_cli("apply", target, "--yes", cwd=tmp_path, stdin=desired)
    assert r.returncode == 0, r.stdout + r.stderr
    again = run_cli("plan", target, "--check", cwd=tmp_path, stdin=desired)
    # Nothing runnable is left: only the held-back part, so --check passes.
    assert again.returncode == 0, again.stdout + again.stderr
    assert "held back (needs --allow-drop)" in again.stdout
    return _unwrapped(first.stdout), _unwrapped(again.stdout)


def _unwrapped(text: str) -> str:
    """The plan's comment lines joined where they were wrapped to the width."""
    return re.sub(r"\n--\s{6}(?=\S)", " ", text)


def _finish(ep: Endpoint, desired: str, tmp_path: Path) -> None:
    target = url(ep)
    r = run_cli("apply", target, "--allow-drop", "--yes", cwd=tmp_path, stdin=desired)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_cli("plan", target, "--allow-drop", "--check", cwd=tmp_path, stdin=desired)
    assert r.returncode == 0, r.stdout + r.stderr


VIEW_DESIRED = """
CREATE TABLE t (id int PRIMARY KEY, new_col varchar(20));
CREATE VIEW v AS SELECT new_col FROM t;
"""


def test_add_column_runs_next_to_a_held_drop_and_the_view_follows(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, old_col varchar(20))")
    conn.execute("INSERT INTO t VALUES (1, 'kept')")
    first, again = _cycle(fresh_schema, VIEW_DESIRED, tmp_path)
    runnable = first.split(HELD)[0]
    assert "ADD COLUMN `new_col`" in runnable
    assert "DROP COLUMN `old_col`" not in runnable
    assert "CREATE" in runnable and "VIEW `v`" in runnable
    assert "DROP COLUMN `old_col`" in first.split(HELD)[1]
    # The safe parts ran; the data of the held-back column is still there.
    assert _columns(conn, "t") == ["id", "old_col", "new_col"]
    assert conn.query("SELECT old_col FROM t") == [("kept",)]
    assert conn.query("SELECT * FROM v") == [(None,)]
    assert "DROP COLUMN `old_col`" in again
    _finish(fresh_schema, VIEW_DESIRED, tmp_path)
    assert _columns(conn, "t") == ["id", "new_col"]


FK_DESIRED = """
CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE c (
  id int PRIMARY KEY,
  kind int,
  p_id int,
  KEY (p_id),
  CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id)
);
"""


def test_add_column_with_fk_runs_next_to_a_held_enum_to_int(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    conn.execute("CREATE TABLE p (id int PRIMARY KEY)")
    conn.execute("CREATE TABLE c (id int PRIMARY KEY, kind enum('small','large'))")
    conn.execute("INSERT INTO c VALUES (1, 'large')")
    first, _ = _cycle(fresh_schema, FK_DESIRED, tmp_path)
    runnable, held = first.split(HELD)
    assert "ADD COLUMN `p_id`" in runnable and "FOREIGN KEY" in runnable
    assert "MODIFY" not in runnable and "`kind` int" in held
    assert _columns(conn, "c") == ["id", "kind", "p_id"]
    assert conn.query("SELECT kind FROM c") == [("large",)]
    fks = conn.query(
        "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA = DATABASE()"
    )
    assert fks == [("c_p",)]
    _finish(fresh_schema, FK_DESIRED, tmp_path)


FK_AROUND_DESIRED = """
CREATE TABLE p (id int PRIMARY KEY, code varchar(5) NOT NULL, UNIQUE KEY (code));
CREATE TABLE c (id int PRIMARY KEY, code varchar(5), note text,
  CONSTRAINT c_code FOREIGN KEY (code) REFERENCES p (code));
"""


def test_fk_around_a_held_narrowing_is_left_alone(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """The diff drops and re-adds c_code around the narrowing of both columns;
    with the narrowing held back the FK is not touched at all."""
    conn.execute(
        "CREATE TABLE p (id int PRIMARY KEY, code varchar(10) NOT NULL, UNIQUE KEY (code))"
    )
    conn.execute(
        "CREATE TABLE c (id int PRIMARY KEY, code varchar(10), "
        "CONSTRAINT c_code FOREIGN KEY (code) REFERENCES p (code))"
    )
    conn.execute("INSERT INTO p VALUES (1, 'abcdefgh')")
    conn.execute("INSERT INTO c VALUES (1, 'abcdefgh')")
    first, _ = _cycle(fresh_schema, FK_AROUND_DESIRED, tmp_path)
    runnable, held = first.split(HELD)
    assert "ADD COLUMN `note`" in runnable
    assert "FOREIGN KEY" not in runnable and "varchar(5)" not in runnable
    assert "varchar(5)" in held
    assert conn.query("SELECT code FROM c") == [("abcdefgh",)]


DEPENDENT_DESIRED = """
CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE c (id int PRIMARY KEY, p_ref int, extra int,
  KEY (p_ref), CONSTRAINT c_p FOREIGN KEY (p_ref) REFERENCES p (id));
"""


def test_a_new_fk_that_needs_a_held_change_is_held_with_the_reason(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """c.p_ref bigint -> int is narrowing (held back); the new FK needs int on
    both sides, so it is held back too, with the reason shown."""
    conn.execute("CREATE TABLE p (id int PRIMARY KEY)")
    conn.execute("CREATE TABLE c (id int PRIMARY KEY, p_ref bigint, KEY (p_ref))")
    first, again = _cycle(fresh_schema, DEPENDENT_DESIRED, tmp_path)
    runnable, held = first.split(HELD)
    assert "ADD COLUMN `extra`" in runnable and "FOREIGN KEY" not in runnable
    assert "FOREIGN KEY" in held
    assert "needs the held-back change of p_ref" in held
    assert "needs the held-back change of p_ref" in again
    assert _columns(conn, "c") == ["id", "p_ref", "extra"]
    _finish(fresh_schema, DEPENDENT_DESIRED, tmp_path)


TABLE_TO_VIEW_DESIRED = """
CREATE TABLE t2 (id int PRIMARY KEY, a int);
CREATE VIEW t AS SELECT id, a FROM t2;
CREATE VIEW w AS SELECT a FROM t;
"""


def test_a_view_taking_a_held_tables_name_waits_with_it(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, a int)")
    conn.execute("INSERT INTO t VALUES (1, 2)")
    first, again = _cycle(fresh_schema, TABLE_TO_VIEW_DESIRED, tmp_path)
    runnable, held = first.split(HELD)
    assert "CREATE TABLE `t2`" in runnable and "VIEW" not in runnable
    assert "DROP TABLE `t`" in held and "view t needs table t dropped" in held
    assert "view w reads a view held back" in held
    assert conn.query("SELECT a FROM t") == [(2,)]
    assert "view t needs table t dropped" in again
    _finish(fresh_schema, TABLE_TO_VIEW_DESIRED, tmp_path)
    assert conn.query("SELECT COUNT(*) FROM w") == [(0,)]


def test_a_reviewed_plan_file_without_allow_drop_applies_as_planned(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """apply --plan re-derives the held-back split from the file and checks the
    target against what the runnable part reaches."""
    conn.execute("CREATE TABLE p (id int PRIMARY KEY)")
    conn.execute("CREATE TABLE c (id int PRIMARY KEY, kind enum('small','large'))")
    target = url(fresh_schema)
    r = run_cli("plan", target, "-o", "plan.json", cwd=tmp_path, stdin=FK_DESIRED)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_cli("apply", "--plan", "plan.json", "--to", target, "--yes", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert _columns(conn, "c") == ["id", "kind", "p_id"]
    r = run_cli("plan", target, "--check", cwd=tmp_path, stdin=FK_DESIRED)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("desired", [VIEW_DESIRED])
def test_plan_check_without_allow_drop_exits_pending_only_for_runnable(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path, desired: str
) -> None:
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, old_col varchar(20))")
    r = run_cli("plan", url(fresh_schema), "--check", cwd=tmp_path, stdin=desired)
    assert r.returncode == ExitCode.CHANGES_PENDING, r.stdout + r.stderr


KEPT_CHILD_DESIRED = """
CREATE TABLE p (id bigint PRIMARY KEY, extra int);
"""


def test_a_parent_column_change_waits_for_a_held_back_child_drop(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """Dev dropped child c and widened p.id, which c's FK points at: without
    --allow-drop c stays, so p.id keeps its type (the FK needs it) and waits."""
    conn.execute("CREATE TABLE p (id int PRIMARY KEY)")
    conn.execute(
        "CREATE TABLE c (id int PRIMARY KEY, p_id int, "
        "CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id))"
    )
    first, again = _cycle(fresh_schema, KEPT_CHILD_DESIRED, tmp_path)
    runnable, held = first.split(HELD)
    assert "ADD COLUMN `extra`" in runnable and "bigint" not in runnable
    assert "DROP TABLE `c`" in held and "bigint" in held
    assert "still references it" in held
    assert "DROP TABLE `c`" in again
    _finish(fresh_schema, KEPT_CHILD_DESIRED, tmp_path)


KEY_OVER_NARROWING_DESIRED = """
CREATE TABLE r (id int PRIMARY KEY, app varchar(64) NOT NULL, cluster varchar(500) NOT NULL,
  note int, KEY k (app, cluster(191)));
"""


def test_a_key_rebuilt_for_a_held_narrowing_waits_with_it(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """Apollo 2.1.0 -> 2.2.0: AppId varchar(500) -> varchar(64) (held back) and its
    key's prefix AppId(191) -> AppId. The full-length key over the wide column is too
    long (error 1071), and main kept it: exit 7. It waits with the narrowing."""
    conn.execute(
        "CREATE TABLE r (id int PRIMARY KEY, app varchar(500) NOT NULL, "
        "cluster varchar(500) NOT NULL, KEY k (app(191), cluster(191))) "
        "DEFAULT CHARSET=utf8mb4"
    )
    conn.execute("INSERT INTO r VALUES (1, 'a', 'b')")
    first, again = _cycle(fresh_schema, KEY_OVER_NARROWING_DESIRED, tmp_path)
    runnable, held = first.split(HELD)
    assert "ADD COLUMN `note`" in runnable and "KEY" not in runnable
    assert "index k of r needs the held-back change of app" in held
    assert "index k of r needs the held-back change of app" in again
    _finish(fresh_schema, KEY_OVER_NARROWING_DESIRED, tmp_path)


AUTO_INCREMENT_DESIRED = """
CREATE TABLE perm (role varchar(50) NOT NULL, res varchar(50) NOT NULL,
  UNIQUE KEY u (role, res));
CREATE TABLE users (username varchar(50) NOT NULL PRIMARY KEY, enabled int);
"""


def test_a_held_auto_increment_column_keeps_its_key(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """Nacos 2.4.0 -> 2.4.0.1 drops the AUTO_INCREMENT id and its primary key (and
    makes username the key): with the DROP COLUMN held back the id stays, and an
    AUTO_INCREMENT column needs its key (error 1075), so the key change waits too."""
    conn.execute(
        "CREATE TABLE perm (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, "
        "role varchar(50) NOT NULL, res varchar(50) NOT NULL, UNIQUE KEY u (role, res))"
    )
    conn.execute(
        "CREATE TABLE users (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, "
        "username varchar(50) NOT NULL, enabled int)"
    )
    conn.execute("INSERT INTO perm (role, res) VALUES ('a', 'x'), ('b', 'y')")
    conn.execute("INSERT INTO users (username) VALUES ('u1'), ('u2')")
    first, _ = _cycle(fresh_schema, AUTO_INCREMENT_DESIRED, tmp_path)
    runnable, held = first.split(HELD)
    assert "PRIMARY KEY" not in runnable
    assert "key PRIMARY of perm stays: AUTO_INCREMENT column id (held back) needs it" in held
    assert "key PRIMARY of users stays" in held
    assert _columns(conn, "users") == ["id", "username", "enabled"]
    _finish(fresh_schema, AUTO_INCREMENT_DESIRED, tmp_path)
    assert _columns(conn, "users") == ["username", "enabled"]
