"""Issue 12, classes 9-11: pre-flight checks that see what each statement does.

Every example goes through plan (build_planfile: the plan file with its
pre-flight counts), apply (the real executor) and a re-plan, on the session
server.  On main: the enum check compared under the old column's collation
(refusing valid rows, passing invalid ones), a UNIQUE arriving with ADD
COLUMN had no check (apply failed half-way), and a CHECK over a column added
by the same ALTER queried the column before it existed.
"""

from __future__ import annotations

import pytest

from myshift.db.connect import Conn, Endpoint
from myshift.engine.split import RenameHints, split_sql
from myshift.errors import UnsafeError
from myshift.workflows.apply import ApplyCommandOptions, apply
from myshift.workflows.plan import PlanOptions, build_planfile
from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import Preflight


def _setup(conn: Conn, sql: str) -> None:
    for st in split_sql(sql):
        conn.execute(st.sql)


def _plan(ep: Endpoint, desired: str, **kw: object) -> PlanFile:
    return build_planfile(ep, split_sql(desired), PlanOptions(**kw))  # type: ignore[arg-type]


def _apply(ep: Endpoint, desired: str, **kw: object) -> None:
    opts = ApplyCommandOptions(plan=PlanOptions(**kw), yes=True, audit_log=None)  # type: ignore[arg-type]
    apply(ep, split_sql(desired), opts)


def _checks(pf: PlanFile) -> list[Preflight]:
    return [p for st in pf.runnable for p in st.preflight]


def _rows(conn: Conn, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in conn.query(sql)]


def _converges(ep: Endpoint, desired: str) -> None:
    again = _plan(ep, desired)
    assert not again.runnable, [s.sql for s in again.runnable]


# --------------------------------------------------------------------------- class 9


def test_enum_check_compares_under_the_new_columns_collation(
    fresh_schema: Endpoint, conn: Conn
) -> None:
    """_bin varchar -> ci enum: 'A' is the member 'a' (the server converts under
    the new column's collation); main counted it as a violation and refused."""
    _setup(
        conn,
        "CREATE TABLE t (id int PRIMARY KEY, v varchar(10) COLLATE utf8mb4_bin);"
        "INSERT INTO t VALUES (1, 'A'), (2, 'b');",
    )
    desired = (
        "CREATE TABLE t (id int PRIMARY KEY, v enum('a','b') "
        "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci);"
    )
    [check] = _checks(_plan(fresh_schema, desired))
    assert "do not fit enum('a','b')" in check.description
    assert check.violations == 0
    _apply(fresh_schema, desired)
    assert _rows(conn, "SELECT id, v FROM t ORDER BY id") == [(1, "a"), (2, "b")]
    _converges(fresh_schema, desired)


def test_enum_check_under_bin_refuses_before_anything_runs(
    fresh_schema: Endpoint, conn: Conn
) -> None:
    """ci varchar -> _bin enum: 'A' is no member; main said ok and the ALTER
    failed with 'Data truncated' after the plan's first statement had run."""
    _setup(
        conn,
        "CREATE TABLE a (id int PRIMARY KEY);"
        "CREATE TABLE t (id int PRIMARY KEY, v varchar(10) COLLATE utf8mb4_general_ci);"
        "INSERT INTO t VALUES (1, 'A'), (2, 'b');",
    )
    desired = (
        "CREATE TABLE a (id int PRIMARY KEY, note int);"
        "CREATE TABLE t (id int PRIMARY KEY, v enum('a','b') "
        "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin);"
    )
    pf = _plan(fresh_schema, desired)
    assert [p.violations for p in _checks(pf)] == [1]
    with pytest.raises(UnsafeError, match="pre-flight check failed") as err:
        _apply(fresh_schema, desired)
    # The statement's clause, not its SQL cut at a length.
    text = str(err.value)
    assert "1 row(s) would make the statement (alter table t: modify column v " in text, text
    assert "`ALTER" not in text, text
    # Nothing ran: not even the safe first statement.
    assert [r[0] for r in _rows(conn, "SHOW COLUMNS FROM a")] == ["id"]


def test_unique_key_rebuilt_under_a_case_insensitive_collation(
    fresh_schema: Endpoint, conn: Conn
) -> None:
    _setup(
        conn,
        "CREATE TABLE t (id int PRIMARY KEY, w varchar(10) COLLATE utf8mb4_bin, UNIQUE KEY w (w));"
        "INSERT INTO t VALUES (1, 'x'), (2, 'X');",
    )
    desired = (
        "CREATE TABLE t (id int PRIMARY KEY, w varchar(10) COLLATE utf8mb4_general_ci, "
        "UNIQUE KEY w (w));"
    )
    [check] = _checks(_plan(fresh_schema, desired))
    assert "new collation" in check.description and check.violations == 1
    with pytest.raises(UnsafeError):
        _apply(fresh_schema, desired)
    conn.execute("UPDATE t SET w = 'y' WHERE id = 2")
    _apply(fresh_schema, desired)
    _converges(fresh_schema, desired)


# --------------------------------------------------------------------------- class 10


def test_unique_column_added_with_a_constant_default_is_refused_up_front(
    fresh_schema: Endpoint, conn: Conn
) -> None:
    """The issue's example: main had no check, and the plan failed with
    Duplicate entry on a later statement after the earlier ones ran."""
    _setup(
        conn,
        "CREATE TABLE a (id int PRIMARY KEY);"
        "CREATE TABLE t (id int PRIMARY KEY, name varchar(20));"
        "INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'z');",
    )
    desired = (
        "CREATE TABLE a (id int PRIMARY KEY, note int);"
        "CREATE TABLE t (id int PRIMARY KEY, name varchar(20), "
        "code varchar(10) NOT NULL DEFAULT '' UNIQUE);"
    )
    pf = _plan(fresh_schema, desired)
    [check] = _checks(pf)
    assert "duplicates certain" in check.description and check.violations == 1
    with pytest.raises(UnsafeError, match="duplicate values in t"):
        _apply(fresh_schema, desired)
    assert [r[0] for r in _rows(conn, "SHOW COLUMNS FROM a")] == ["id"]
    # One row: the same default on it is no duplicate.
    conn.execute("DELETE FROM t WHERE id > 1")
    assert [p.violations for p in _checks(_plan(fresh_schema, desired))] == [0]
    _apply(fresh_schema, desired)
    _converges(fresh_schema, desired)


def test_unique_over_an_old_and_a_new_column(fresh_schema: Endpoint, conn: Conn) -> None:
    _setup(
        conn,
        "CREATE TABLE t (id int PRIMARY KEY, k int);INSERT INTO t VALUES (1, 1), (2, 1), (3, 2);",
    )
    desired = (
        "CREATE TABLE t (id int PRIMARY KEY, k int, v int NOT NULL DEFAULT 7, "
        "UNIQUE KEY kv (k, v));"
    )
    [check] = _checks(_plan(fresh_schema, desired))
    assert check.violations == 1
    with pytest.raises(UnsafeError):
        _apply(fresh_schema, desired)
    conn.execute("UPDATE t SET k = 3 WHERE id = 2")
    _apply(fresh_schema, desired)
    _converges(fresh_schema, desired)


def test_new_auto_increment_primary_key_counts_no_duplicates(
    fresh_schema: Endpoint, conn: Conn
) -> None:
    _setup(conn, "CREATE TABLE t (k int, UNIQUE KEY k (k)); INSERT INTO t VALUES (1), (2);")
    desired = "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, k int, UNIQUE KEY k (k));"
    checks = _checks(_plan(fresh_schema, desired))
    assert checks and all(p.violations == 0 for p in checks)
    _apply(fresh_schema, desired)
    _converges(fresh_schema, desired)


def test_checks_follow_a_renamed_table(fresh_schema: Endpoint, conn: Conn) -> None:
    """The check of an ALTER after a RENAME TABLE reads the table by its name now."""
    _setup(conn, "CREATE TABLE old_t (id int PRIMARY KEY); INSERT INTO old_t VALUES (1), (2);")
    desired = "CREATE TABLE t (id int PRIMARY KEY, code int NOT NULL DEFAULT 0 UNIQUE);"
    hints = RenameHints(tables={"t": "old_t"})
    pf = _plan(fresh_schema, desired, hints=hints)
    assert [s.sql.split(" `")[0] for s in pf.runnable] == ["RENAME TABLE", "ALTER TABLE"]
    [check] = _checks(pf)
    assert "`old_t`" in check.sql and check.violations == 1
    with pytest.raises(UnsafeError):
        _apply(fresh_schema, desired, hints=hints)
    conn.execute("DELETE FROM old_t WHERE id = 2")
    _apply(fresh_schema, desired, hints=hints)
    _converges(fresh_schema, desired)


def test_dropped_and_added_column_alike_is_named_as_a_possible_rename(
    fresh_schema: Endpoint, conn: Conn
) -> None:
    _setup(conn, "CREATE TABLE t (id int PRIMARY KEY, old_col varchar(20), x int);")
    desired = "CREATE TABLE t (id int PRIMARY KEY, new_col varchar(20), x int);"
    [warning] = _plan(fresh_schema, desired).warnings
    assert "old_col is dropped and new_col added" in warning
    assert "--rename t.old_col=new_col" in warning
    assert "myshift:renamed-from old_col" in warning
    # Same type and position, another default: still named.
    other = "CREATE TABLE t (id int PRIMARY KEY, new_col varchar(20) NOT NULL DEFAULT '', x int);"
    assert len(_plan(fresh_schema, other).warnings) == 1
    # Another type or position: no warning.
    for other in (
        "CREATE TABLE t (id int PRIMARY KEY, x int, new_col varchar(20));",
        "CREATE TABLE t (id int PRIMARY KEY, new_col varchar(21), x int);",
    ):
        assert not _plan(fresh_schema, other).warnings


# --------------------------------------------------------------------------- class 11


def test_check_over_a_column_added_in_the_same_alter(fresh_schema: Endpoint, conn: Conn) -> None:
    """Main queried `qty` before it existed (Unknown column ... in 'WHERE'): the plan
    showed 'not run' and apply stopped with a driver error."""
    _setup(conn, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);")
    desired = (
        "CREATE TABLE t (id int PRIMARY KEY, qty int NOT NULL DEFAULT 5, "
        "CONSTRAINT qty_pos CHECK (qty > 0));"
    )
    [check] = _checks(_plan(fresh_schema, desired))
    assert check.violations == 0
    _apply(fresh_schema, desired)
    assert _rows(conn, "SELECT qty FROM t") == [(5,), (5,)]
    _converges(fresh_schema, desired)


def test_check_violated_by_the_new_columns_default_is_refused(
    fresh_schema: Endpoint, conn: Conn
) -> None:
    """MariaDB's column-level CHECK travels inside ADD COLUMN: it is checked too."""
    _setup(conn, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);")
    desired = "CREATE TABLE t (id int PRIMARY KEY, n int DEFAULT -1 CHECK (n >= 0));"
    [check] = _checks(_plan(fresh_schema, desired))
    assert check.violations == 2
    with pytest.raises(UnsafeError, match="violating CHECK"):
        _apply(fresh_schema, desired)
    conn.execute("DELETE FROM t")
    _apply(fresh_schema, desired)
    _converges(fresh_schema, desired)


def test_unknowable_check_is_reported_not_run(fresh_schema: Endpoint, conn: Conn) -> None:
    """A generated column over a column added by the same ALTER: its values are
    not known beforehand; the check says so and is never sent to the server."""
    _setup(conn, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);")
    desired = (
        "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL DEFAULT 1, "
        "g int AS (a * 2) STORED, UNIQUE KEY g (g));"
    )
    [check] = _checks(_plan(fresh_schema, desired))
    assert check.sql == "" and "not checkable before the plan runs" in check.description
    assert "generated column g reads a" in check.description
    _apply(fresh_schema, desired)
    _converges(fresh_schema, desired)


def test_set_check_compares_elements_under_the_new_collation(
    fresh_schema: Endpoint, conn: Conn
) -> None:
    """Main had no SET check: 'a,c' made the ALTER fail with 'Data truncated'."""
    _setup(
        conn,
        "CREATE TABLE t (id int PRIMARY KEY, v varchar(20) COLLATE utf8mb4_bin);"
        "INSERT INTO t VALUES (1, 'A,b'), (2, ''), (3, 'b,a'), (4, 'a,c');",
    )
    desired = (
        "CREATE TABLE t (id int PRIMARY KEY, v set('a','b') "
        "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci);"
    )
    [check] = _checks(_plan(fresh_schema, desired))
    assert check.violations == 1  # 'a,c'; 'A,b' is a,b under the new collation
    with pytest.raises(UnsafeError):
        _apply(fresh_schema, desired)
    conn.execute("DELETE FROM t WHERE id = 4")
    _apply(fresh_schema, desired)
    assert _rows(conn, "SELECT v FROM t ORDER BY id") == [("a,b",), ("",), ("a,b",)]
    _converges(fresh_schema, desired)


@pytest.mark.parametrize(
    ("partitioning", "bad"),
    [
        (
            "PARTITION BY RANGE (y) (PARTITION p0 VALUES LESS THAN (10), "
            "PARTITION p1 VALUES LESS THAN (20))",
            "UPDATE t SET y = 25 WHERE id = 2",
        ),
        (
            "PARTITION BY LIST (y) (PARTITION p0 VALUES IN (5, 15), "
            "PARTITION p1 VALUES IN (NULL, 7))",
            "UPDATE t SET y = 8 WHERE id = 2",
        ),
    ],
)
def test_rows_outside_every_new_partition_are_counted(
    fresh_schema: Endpoint, conn: Conn, partitioning: str, bad: str
) -> None:
    """Main had no check for RANGE/LIST repartitioning (data-dependent)."""
    _setup(
        conn,
        "CREATE TABLE t (id int, y int, PRIMARY KEY (id, y));INSERT INTO t VALUES (1, 5), (2, 15);",
    )
    desired = f"CREATE TABLE t (id int, y int, PRIMARY KEY (id, y)) {partitioning};"
    conn.execute(bad)
    [check] = _checks(_plan(fresh_schema, desired))
    assert "outside every partition" in check.description and check.violations == 1
    with pytest.raises(UnsafeError):
        _apply(fresh_schema, desired)
    conn.execute("DELETE FROM t WHERE id = 2")
    assert [p.violations for p in _checks(_plan(fresh_schema, desired))] == [0]
    _apply(fresh_schema, desired)
    _converges(fresh_schema, desired)


def test_expression_default_over_a_new_column(fresh_schema: Endpoint, conn: Conn) -> None:
    """b's DEFAULT reads a, added by the same ALTER: b's check cannot be made
    beforehand (said so, not run); a's check still runs, on a alone."""
    _setup(conn, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);")
    desired = (
        "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL DEFAULT 2, "
        "b int DEFAULT (a * 2), CONSTRAINT a_pos CHECK (a > 0), CONSTRAINT b_pos CHECK (b > 0));"
    )
    a_pos, b_pos = _checks(_plan(fresh_schema, desired))
    assert a_pos.violations == 0 and "`b`" not in a_pos.sql
    assert b_pos.sql == "" and "the default of b reads a" in b_pos.description
    _apply(fresh_schema, desired)
    assert _rows(conn, "SELECT a, b FROM t") == [(2, 4)]
    _converges(fresh_schema, desired)


def test_plan_command_prints_the_rename_warning_beside_plain_sql(
    fresh_schema: Endpoint, conn: Conn
) -> None:
    from myshift.workflows.plan import PlanCommandOptions, plan

    _setup(conn, "CREATE TABLE t (id int PRIMARY KEY, old_col varchar(20));")
    desired = "CREATE TABLE t (id int PRIMARY KEY, new_col varchar(20));"
    r = plan(fresh_schema, split_sql(desired), PlanCommandOptions(fmt="sql"))
    assert "Warning: t: column old_col is dropped and new_col added" in r.notice
    assert "-- held back (needs --allow-drop)" in r.text
    assert "--   ALTER TABLE `t` DROP COLUMN `old_col`;" in r.text


# ----------------------------------------------------- foreign key over an added column


def test_fk_over_a_column_added_with_a_default_counts_orphans_up_front(
    fresh_schema: Endpoint, conn: Conn
) -> None:
    """Ranger 1.2.0 -> 2.0.0: x_policy gets zone_id NOT NULL DEFAULT 1 and an FK to a
    new (empty) x_security_zone. Main had no orphan check (the column did not exist
    yet, the parent was new) and apply failed on the FK after the other statements
    ran; the check evaluates the column as its DEFAULT, against the parent as it
    will be (a new one has no rows, an existing one its rows)."""
    _setup(
        conn,
        "CREATE TABLE a (id int PRIMARY KEY);"
        "CREATE TABLE old_p (id int PRIMARY KEY);"
        "CREATE TABLE t (id int PRIMARY KEY, u int);"
        "INSERT INTO t VALUES (1, 1), (2, 2), (3, NULL);"
        "CREATE TABLE u (id int PRIMARY KEY);"
        "INSERT INTO u VALUES (1), (2), (3);",
    )
    desired = (
        "CREATE TABLE a (id int PRIMARY KEY, note int);"
        "CREATE TABLE old_p (id int PRIMARY KEY);"
        "CREATE TABLE zone (id int PRIMARY KEY);"
        "CREATE TABLE t (id int PRIMARY KEY, u int, zone_id int NOT NULL DEFAULT 1, "
        "FOREIGN KEY (zone_id) REFERENCES zone (id));"
        "CREATE TABLE u (id int PRIMARY KEY, p int DEFAULT 7, "
        "FOREIGN KEY (p) REFERENCES old_p (id));"
    )
    by_table = {
        st.subject: [p.violations for p in st.preflight if "without a parent" in p.description]
        for st in _plan(fresh_schema, desired).runnable
    }
    assert by_table["t"] == [3] and by_table["u"] == [3], by_table
    with pytest.raises(UnsafeError, match="without a parent in zone"):
        _apply(fresh_schema, desired)
    assert [r[0] for r in _rows(conn, "SHOW COLUMNS FROM a")] == ["id"]  # nothing ran
    # The parent rows exist: the check counts none, and the plan applies.
    conn.execute("INSERT INTO old_p VALUES (7)")
    conn.execute("CREATE TABLE zone (id int PRIMARY KEY)")
    conn.execute("INSERT INTO zone VALUES (1)")
    pf = _plan(fresh_schema, desired)
    assert [p.violations for st in pf.runnable for p in st.preflight] == [0, 0]
    _apply(fresh_schema, desired)
    _converges(fresh_schema, desired)


def test_fk_next_to_an_uncheckable_one_is_added_with_checks_on(
    fresh_schema: Endpoint, conn: Conn
) -> None:
    """Ranger 1.0.0 -> 2.8.0: one ALTER added x_policy_FK_service (existing column:
    unchecked, the pre-flight validates around it) and x_policy_FK_zone_id (new
    column) together; the statement ran with foreign_key_checks=0, so the second
    key was added over 3 orphan rows, unvalidated. Keys share one statement and
    one session: they go unchecked only when every one of them can."""
    _setup(
        conn,
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE z (id int PRIMARY KEY);"
        "CREATE TABLE t (id int PRIMARY KEY, p_id int, KEY (p_id));"
        "INSERT INTO p VALUES (1); INSERT INTO z VALUES (5); INSERT INTO t VALUES (1, 1);",
    )
    only_p = (
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE z (id int PRIMARY KEY);"
        "CREATE TABLE t (id int PRIMARY KEY, p_id int, KEY (p_id), "
        "CONSTRAINT t_p FOREIGN KEY (p_id) REFERENCES p (id));"
    )
    [fk_add] = [st for st in _plan(fresh_schema, only_p).runnable if "FOREIGN KEY" in st.sql]
    assert fk_add.recheck and fk_add.session_before  # alone, it goes unchecked
    both = only_p.replace(
        "KEY (p_id), ",
        "z_id int DEFAULT 5, KEY (p_id), CONSTRAINT t_z FOREIGN KEY (z_id) REFERENCES z (id), ",
    )
    [fk_add] = [st for st in _plan(fresh_schema, both).runnable if "t_p" in st.sql]
    assert "t_z" in fk_add.sql
    assert not fk_add.recheck and not fk_add.session_before
    _apply(fresh_schema, both)
    _converges(fresh_schema, both)
