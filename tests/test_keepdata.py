"""Keeping data for rollback, against a real server with a 100,000-row table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from myshift.db.connect import Conn, Endpoint, quote_ident
from myshift.errors import UnsafeError, UsageError, VerificationFailed
from myshift.workflows.keepdata import (
    MAX_IDENT,
    HeldColumns,
    HeldForeignKey,
    HeldTable,
    HeldTrigger,
    backup_columns,
    held_for_apply,
    restore_columns,
    restore_table,
    restore_tables,
    soft_drop_table,
    soft_drop_table_sql,
)

N = 100_000


@pytest.fixture
def holding(conn: Conn, fresh_schema: Endpoint) -> Iterator[str]:
    """A holding schema private to the test (the session server is shared)."""
    name = f"{fresh_schema.schema}_trash"
    try:
        yield name
    finally:
        conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")


def ordered_hash(conn: Conn, table: str, columns: str, where: str = "1") -> str:
    """SHA-256 over every row in id order: any changed, lost or reordered value shows."""
    conn.execute("SET SESSION group_concat_max_len = 1073741824")
    return str(
        conn.scalar(
            f"SELECT SHA2(GROUP_CONCAT(CONCAT_WS('#', {columns}) ORDER BY id "
            f"SEPARATOR '\\n'), 256) FROM {table} WHERE {where}"
        )
    )


def make_big(conn: Conn) -> None:
    conn.execute(
        "CREATE TABLE big ("
        " id INT NOT NULL PRIMARY KEY,"
        " name VARCHAR(40) NOT NULL,"
        " note TEXT NULL,"
        " amount DECIMAL(12,2) NOT NULL DEFAULT 0,"
        " updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP"
        ") ENGINE=InnoDB"
    )
    # NULL, '' and text notes, and amounts both below and above decimal(8,2)'s range.
    conn.execute(
        "INSERT INTO big (id, name, note, amount, updated_at) "
        "SELECT seq, CONCAT('n', seq), "
        "  CASE WHEN seq % 7 = 0 THEN NULL WHEN seq % 11 = 0 THEN '' "
        "       ELSE CONCAT('note ', seq, ' é') END, "
        "  seq * 12.25 + IF(seq % 3 = 0, 5000000, 0), "
        "  '2020-01-02 03:04:05' "
        f"FROM seq_1_to_{N}"
    )


COLS = "id, name, ISNULL(note), note, amount, updated_at"


def test_backup_drop_readd_restore_100k_rows(conn: Conn, holding: str) -> None:
    make_big(conn)
    before = ordered_hash(conn, "big", COLS)

    held = backup_columns(conn, conn.endpoint.schema, "big", ["note", "amount"], 42, holding)
    assert held.row_count == N
    assert held.key_columns == ("id",)
    assert held.column_names == ("note", "amount")
    assert held.held_name == "a42__big__cols"

    # The apply: drop both columns; then the app keeps inserting.
    conn.execute("ALTER TABLE big DROP COLUMN note, DROP COLUMN amount")
    conn.execute(
        "INSERT INTO big (id, name, updated_at) "
        "SELECT seq, CONCAT('late', seq), '2021-01-01 00:00:00' "
        f"FROM seq_{N + 1}_to_{N + 10}"
    )
    # The rollback's reverse DDL re-adds them with their original definitions.
    conn.execute(
        "ALTER TABLE big ADD COLUMN note TEXT NULL AFTER name, "
        "ADD COLUMN amount DECIMAL(12,2) NOT NULL DEFAULT 0 AFTER note"
    )
    done = restore_columns(conn, held, conn.endpoint.schema)

    assert done.rows_restored == N
    assert done.rows_missing == 0
    # Identical, including NULL vs '' and the untouched ON UPDATE timestamp.
    assert ordered_hash(conn, "big", COLS, f"id <= {N}") == before
    late = conn.query(f"SELECT note, amount FROM big WHERE id > {N} ORDER BY id")
    assert len(late) == 10
    assert all(note is None and float(amount) == 0 for note, amount in late)
    [again] = held_for_apply(conn, 42, holding=holding, include_restored=True)
    assert isinstance(again, HeldColumns) and again.restored_at is not None
    assert held_for_apply(conn, 42, holding=holding) == []


def test_narrowing_decimal_restores_original_values(conn: Conn, holding: str) -> None:
    make_big(conn)
    before = ordered_hash(conn, "big", "id, amount")
    held = backup_columns(conn, conn.endpoint.schema, "big", ["amount"], 7, holding)

    # Non-strict mode: the server clips values that do not fit decimal(8,2).
    conn.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
    conn.execute("ALTER TABLE big MODIFY amount DECIMAL(8,2) NOT NULL DEFAULT 0")
    conn.execute("SET SESSION sql_mode = DEFAULT")
    assert str(conn.scalar("SELECT MAX(amount) FROM big")) == "999999.99"
    assert ordered_hash(conn, "big", "id, amount") != before

    # Restoring into the still-narrow column cannot reproduce the values:
    # refused, and the update rolled back.
    with pytest.raises(VerificationFailed, match="original types"):
        restore_columns(conn, held)
    assert conn.scalar("SELECT COUNT(*) FROM big WHERE amount = 999999.99") > 0

    conn.execute("ALTER TABLE big MODIFY amount DECIMAL(12,2) NOT NULL DEFAULT 0")
    restore_columns(conn, held)
    assert ordered_hash(conn, "big", "id, amount") == before


def test_restore_refuses_a_tampered_backup(conn: Conn, holding: str) -> None:
    conn.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
    conn.execute("INSERT INTO t VALUES (1, 'a'), (2, NULL), (3, '')")
    held = backup_columns(conn, conn.endpoint.schema, "t", ["v"], 1, holding)
    conn.execute(f"UPDATE {quote_ident(holding)}.{quote_ident(held.held_name)} SET v = 'x'")
    conn.execute("ALTER TABLE t DROP COLUMN v")
    conn.execute("ALTER TABLE t ADD COLUMN v VARCHAR(10)")
    with pytest.raises(VerificationFailed, match="no longer matches"):
        restore_columns(conn, held)
    assert conn.query("SELECT v FROM t ORDER BY id") == [(None,), (None,), (None,)]


def test_rows_deleted_after_the_apply_are_counted_missing(conn: Conn, holding: str) -> None:
    conn.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
    conn.execute("INSERT INTO t SELECT seq, seq * 2 FROM seq_1_to_10")
    held = backup_columns(conn, conn.endpoint.schema, "t", ["v"], 1, holding)
    conn.execute("ALTER TABLE t DROP COLUMN v")
    conn.execute("DELETE FROM t WHERE id > 8")
    conn.execute("ALTER TABLE t ADD COLUMN v INT")
    done = restore_columns(conn, held)
    assert (done.rows_restored, done.rows_missing) == (8, 2)
    assert conn.query("SELECT SUM(v) FROM t")[0][0] == 2 * sum(range(1, 9))


def test_backup_uses_a_not_null_unique_key_and_refuses_keyless_tables(
    conn: Conn, holding: str
) -> None:
    conn.execute("CREATE TABLE u (code CHAR(3) NOT NULL, v INT, UNIQUE KEY (code))")
    conn.execute("INSERT INTO u VALUES ('a', 1), ('b', NULL)")
    held = backup_columns(conn, conn.endpoint.schema, "u", ["v"], 3, holding)
    assert held.key_columns == ("code",)

    conn.execute("CREATE TABLE k (code CHAR(3) NULL, v INT, UNIQUE KEY (code))")
    with pytest.raises(UnsafeError, match="no PRIMARY KEY"):
        backup_columns(conn, conn.endpoint.schema, "k", ["v"], 3, holding)
    with pytest.raises(UsageError, match="no column `nope`"):
        backup_columns(conn, conn.endpoint.schema, "u", ["nope"], 3, holding)


def _fk_targets(conn: Conn, schema: str, table: str) -> list[tuple[str, str, str]]:
    return [
        (str(a), str(b), str(c))
        for a, b, c in conn.query(
            "SELECT CONSTRAINT_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME "
            "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = %s AND REFERENCED_TABLE_NAME IS NOT NULL",
            (schema, table),
        )
    ]


def make_parent_child(conn: Conn) -> None:
    conn.execute("CREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB")
    conn.execute(
        "CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, n INT DEFAULT 0, "
        "CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) "
        "ON DELETE CASCADE) ENGINE=InnoDB"
    )
    conn.execute("CREATE TRIGGER child_bi BEFORE INSERT ON child FOR EACH ROW SET NEW.n = 99")
    conn.execute("INSERT INTO parent SELECT seq FROM seq_1_to_100")
    conn.execute("INSERT INTO child (id, parent_id) SELECT seq, seq FROM seq_1_to_100")


def test_soft_drop_and_restore_a_table_with_an_outgoing_fk_and_trigger(
    conn: Conn, holding: str
) -> None:
    schema = conn.endpoint.schema
    make_parent_child(conn)
    before = ordered_hash(conn, "child", "id, parent_id, n")

    held = soft_drop_table(conn, schema, "child", 42, holding)
    assert held.held_name == "a42__child"
    assert held.row_count == 100
    assert [fk.name for fk in held.foreign_keys] == ["fk_child_parent"]
    assert [t.name for t in held.triggers] == ["child_bi"]
    assert (
        conn.scalar(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = 'child'",
            (schema,),
        )
        == 0
    )
    # The held table no longer points into production: parent rows can go.
    assert _fk_targets(conn, holding, "a42__child") == []
    # The catalog round-trips everything restore needs.
    [back] = held_for_apply(conn, 42, holding=holding)
    assert isinstance(back, HeldTable) and back.created_at is not None
    assert replace(back, created_at=None) == held

    conn.execute("DELETE FROM parent WHERE id = 100")
    with pytest.raises(UnsafeError, match="1 rows no longer match foreign key `fk_child_parent`"):
        restore_table(conn, held, schema)
    conn.execute("INSERT INTO parent VALUES (100)")

    conn.execute("CREATE TABLE child (id INT PRIMARY KEY)")
    with pytest.raises(UnsafeError, match="exists again"):
        restore_table(conn, held, schema)
    conn.execute("DROP TABLE child")

    restore_table(conn, held, schema)
    assert ordered_hash(conn, "child", "id, parent_id, n") == before
    assert _fk_targets(conn, schema, "child") == [("fk_child_parent", schema, "parent")]
    assert (
        conn.scalar(
            "SELECT DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS "
            "WHERE CONSTRAINT_SCHEMA = %s AND CONSTRAINT_NAME = 'fk_child_parent'",
            (schema,),
        )
        == "CASCADE"
    )
    conn.execute("INSERT INTO child (id, parent_id) VALUES (101, 1)")
    assert conn.scalar("SELECT n FROM child WHERE id = 101") == 99  # the trigger is back
    assert held_for_apply(conn, 42, holding=holding) == []


def test_soft_drop_of_a_referenced_table_is_refused(conn: Conn, holding: str) -> None:
    schema = conn.endpoint.schema
    make_parent_child(conn)
    with pytest.raises(UnsafeError, match=r"referenced by .*`child` \(fk_child_parent\)"):
        soft_drop_table(conn, schema, "parent", 5, holding)
    assert conn.scalar("SELECT COUNT(*) FROM parent") == 100


def test_co_dropped_tables_restore_in_any_order(conn: Conn, holding: str) -> None:
    schema = conn.endpoint.schema
    make_parent_child(conn)
    before = ordered_hash(conn, "child", "id, parent_id, n")
    # Parent first: allowed because child goes in the same apply.
    p = soft_drop_table(conn, schema, "parent", 9, holding, co_dropped={"child"})
    c = soft_drop_table(conn, schema, "child", 9, holding, co_dropped={"parent"})
    # The child's FK was recorded against where the parent will come back.
    assert (c.foreign_keys[0].ref_schema, c.foreign_keys[0].ref_table) == (schema, "parent")
    assert [h.held_name for h in held_for_apply(conn, 9, holding=holding)] == [
        p.held_name,
        c.held_name,
    ]
    restore_tables(conn, [c, p], schema)
    assert ordered_hash(conn, "child", "id, parent_id, n") == before
    assert _fk_targets(conn, schema, "child") == [("fk_child_parent", schema, "parent")]


def test_long_and_clashing_names_fit_in_64_characters(
    conn: Conn, holding: str, fresh_schema: Endpoint
) -> None:
    schema = conn.endpoint.schema
    long = "t" * 64
    conn.execute(f"CREATE TABLE {long} (id INT PRIMARY KEY)")
    held = soft_drop_table(conn, schema, long, "2026-11-26-abc", holding)
    assert len(held.held_name) <= MAX_IDENT
    assert held.held_name.startswith("a2026_11_26_abc__ttt")

    # Same table name from another schema, same apply: a distinct held name.
    other = f"{schema}_o"
    conn.execute(f"CREATE DATABASE {quote_ident(other)}")
    try:
        conn.execute("CREATE TABLE t1 (id INT PRIMARY KEY)")
        conn.execute(f"CREATE TABLE {quote_ident(other)}.t1 (id INT PRIMARY KEY)")
        a = soft_drop_table(conn, schema, "t1", 1, holding)
        b = soft_drop_table(conn, other, "t1", 1, holding)
        assert a.held_name == "a1__t1"
        assert b.held_name != a.held_name and len(b.held_name) <= MAX_IDENT
        restore_table(conn, b)
        assert conn.scalar(f"SELECT COUNT(*) FROM {quote_ident(other)}.t1") == 0
    finally:
        conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(other)}")
    restore_table(conn, held)
    assert conn.scalar(f"SELECT COUNT(*) FROM {long}") == 0


def test_generated_columns_are_not_copied_and_come_back_from_their_expression(
    conn: Conn, holding: str
) -> None:
    conn.execute(
        "CREATE TABLE g (id INT PRIMARY KEY, a INT, "
        "twice INT AS (a * 2) VIRTUAL, note VARCHAR(10) DEFAULT 'd')"
    )
    conn.execute("INSERT INTO g (id, a, note) SELECT seq, seq, CONCAT('x', seq) FROM seq_1_to_50")
    held = backup_columns(conn, conn.endpoint.schema, "g", ["twice", "note"], 8, holding)
    assert held.column_names == ("note",)
    conn.execute("ALTER TABLE g DROP COLUMN twice, DROP COLUMN note")
    conn.execute("ALTER TABLE g ADD COLUMN twice INT AS (a * 2) VIRTUAL, ADD note VARCHAR(10)")
    restore_columns(conn, held)
    assert conn.query("SELECT twice, note FROM g WHERE id = 7") == [(14, "x7")]


def test_views_are_not_soft_dropped(conn: Conn, holding: str) -> None:
    conn.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    conn.execute("CREATE VIEW v AS SELECT id FROM t")
    with pytest.raises(UsageError, match="`v` is a view, not a base table"):
        soft_drop_table(conn, conn.endpoint.schema, "v", 1, holding)
    with pytest.raises(UsageError, match="does not exist"):
        soft_drop_table(conn, conn.endpoint.schema, "nope", 1, holding)


def test_sql_twins_show_what_would_run() -> None:
    fk = HeldForeignKey("fk", ("p",), "s", "parent", ("id",), "CASCADE", "RESTRICT")
    trig = HeldTrigger("tr", "CREATE TRIGGER tr ...", "", "utf8mb4", "utf8mb4_general_ci")
    assert soft_drop_table_sql("s", "child", "_myshift_trash", "a1__child", [fk], [trig]) == [
        "DROP TRIGGER `s`.`tr`",
        "ALTER TABLE `s`.`child` DROP FOREIGN KEY `fk`",
        "RENAME TABLE `s`.`child` TO `_myshift_trash`.`a1__child`",
    ]
    assert fk.add_clause() == (
        "ADD CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `s`.`parent` (`id`) "
        "ON DELETE RESTRICT ON UPDATE CASCADE"
    )


def test_plan_refuses_keeping_columns_of_a_keyless_table(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    from myshift.workflows.plan import PlanOptions, build_planfile

    conn.execute("CREATE TABLE logs (msg VARCHAR(20), extra TEXT)")
    desired = tmp_path / "d.sql"
    desired.write_text("CREATE TABLE logs (msg VARCHAR(20));", encoding="utf-8")
    with pytest.raises(UnsafeError, match=r"`logs`: no PRIMARY KEY"):
        build_planfile(fresh_schema, str(desired), PlanOptions(allow_drop=True, keep_data=True))
    # Without keep-data the same plan is fine (the drop is destructive and says so).
    pf = build_planfile(fresh_schema, str(desired), PlanOptions(allow_drop=True))
    assert [s.keep_columns for s in pf.runnable] == [()]
