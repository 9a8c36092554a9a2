"""Issue 5 acceptance: rollback that brings the data back, on a real server.

The first test drives the whole path through the CLI entry point (click's
runner: option parsing, endpoint resolution, error handling); the others call
the workflows directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from myshift.cli import cli
from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.errors import UnsafeError
from myshift.workflows.apply import ApplyCommandOptions, apply
from myshift.workflows.history import History
from myshift.workflows.keepdata import DEFAULT_HOLDING, held_for_apply
from myshift.workflows.plan import PlanCommandOptions, PlanOptions, build_planfile, plan
from myshift.workflows.planfile import PlanFile
from myshift.workflows.rollback import RollbackOptions, rollback
from myshift.workflows.rollbackplan import RollbackRefused, build_rollback_planfile

N = 100_000

ORDERS = """CREATE TABLE orders (
  id INT NOT NULL PRIMARY KEY,
  customer VARCHAR(40) NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  note TEXT NULL DEFAULT NULL
)"""
AUDIT = """CREATE TABLE audit_log (
  id INT NOT NULL PRIMARY KEY,
  msg VARCHAR(100) NOT NULL,
  at DATETIME NOT NULL
)"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Config and the audit log come from the working directory: keep them private."""
    monkeypatch.chdir(tmp_path)


def url(ep: Endpoint) -> str:
    return f"mysql://{ep.user}@{ep.host}:{ep.port}/{ep.schema}"


def run_cli(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def ordered_hash(conn: Conn, table: str, columns: list[str], where: str = "1") -> str:
    """SHA-256 over every row in key order (NULL distinct from ''): a lost value shows."""
    conn.execute("SET SESSION group_concat_max_len = 1073741824")
    cols = ", ".join(f"COALESCE({quote_ident(c)}, '')" for c in columns)
    nulls = ", ".join(f"ISNULL({quote_ident(c)})" for c in columns)
    return str(
        conn.scalar(
            f"SELECT SHA2(GROUP_CONCAT(CONCAT_WS('#', {cols}, {nulls}) ORDER BY id "
            f"SEPARATOR '\\n'), 256) FROM {quote_ident(table)} WHERE {where}"
        )
    )


def seed_orders(conn: Conn, rows: int = N) -> None:
    conn.execute(ORDERS)
    # MariaDB's Sequence engine: rows without a client round trip per row.
    conn.execute(
        "INSERT INTO orders (id, customer, amount, note) "
        f"SELECT seq, CONCAT('cust-', seq % 977), (seq * 37 % 9999991) / 10, "
        f"IF(seq % 7 = 0, NULL, REPEAT(CHAR(65 + seq % 26), seq % 30)) FROM seq_1_to_{rows}"
    )


def seed_audit(conn: Conn, rows: int = 2000) -> None:
    conn.execute(AUDIT)
    conn.execute(
        "INSERT INTO audit_log (id, msg, at) "
        "SELECT seq, CONCAT('event ', seq), '2026-01-01' + INTERVAL seq MINUTE "
        f"FROM seq_1_to_{rows}"
    )


def write(tmp_path: Path, name: str, sql: str) -> str:
    p = tmp_path / name
    p.write_text(sql, encoding="utf-8")
    return str(p)


def history_of(ep: Endpoint) -> History:
    return History(connect(replace(ep, schema="")), schema="_myshift", audit_path=None)


ORDERS_NO_NOTE = """CREATE TABLE orders (
  id INT NOT NULL PRIMARY KEY,
  customer VARCHAR(40) NOT NULL,
  amount DECIMAL(12,2) NOT NULL
);
"""


# --------------------------------------------------------------------------- acceptance


def test_cli_drop_column_and_table_then_rollback_brings_every_value_back(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    seed_orders(conn)
    seed_audit(conn)
    before_orders = ordered_hash(conn, "orders", ["id", "customer", "amount", "note"])
    before_audit = ordered_hash(conn, "audit_log", ["id", "msg", "at"])
    desired = write(tmp_path, "desired.sql", ORDERS_NO_NOTE)

    # The plan says what is kept before anything runs.
    shown = run_cli(
        "plan",
        "--to",
        url(fresh_schema),
        "--desired",
        desired,
        "--allow-drop",
        "--keep-data",
        "--format",
        "json",
    )
    assert shown.exit_code == 0, shown.output
    pf = PlanFile.from_json(shown.output)
    kept = {s.subject: (s.keep_table, s.keep_columns) for s in pf.runnable}
    assert kept == {"orders": (False, ("note",)), "audit_log": (True, ())}

    applied = run_cli(
        "apply",
        "--to",
        url(fresh_schema),
        "--desired",
        desired,
        "--allow-drop",
        "--keep-data",
        "--yes",
    )
    assert applied.exit_code == 0, applied.output
    apply_id = history_of(fresh_schema).latest_apply(fresh_schema.schema).id  # type: ignore[union-attr]
    assert (
        conn.scalar(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = 'audit_log'",
            (fresh_schema.schema,),
        )
        == 0
    )
    held = held_for_apply(conn, apply_id)
    assert sorted(h.kind for h in held) == ["columns", "table"]
    listing = run_cli("trash", "list", "--to", url(fresh_schema))
    assert f"{fresh_schema.schema}.audit_log" in listing.output
    assert f"{fresh_schema.schema}.orders" in listing.output

    # Life goes on after the apply: new rows, without the dropped column.
    conn.execute(
        f"INSERT INTO orders (id, customer, amount) SELECT {N} + seq, 'late', seq FROM seq_1_to_500"
    )

    back = run_cli("rollback", "--to", url(fresh_schema), "--yes")
    assert back.exit_code == 0, back.output
    assert f"Rolled back apply #{apply_id}" in back.output

    assert ordered_hash(conn, "orders", ["id", "customer", "amount", "note"], f"id <= {N}") == (
        before_orders
    )
    assert ordered_hash(conn, "audit_log", ["id", "msg", "at"]) == before_audit
    # Rows written after the apply get the re-added column's default.
    assert conn.scalar(f"SELECT COUNT(*) FROM orders WHERE id > {N} AND note IS NULL") == 500
    assert conn.scalar("SELECT COUNT(*) FROM orders") == N + 500

    h = history_of(fresh_schema)
    last = h.latest_apply(fresh_schema.schema)
    assert last is not None and last.kind == "rollback" and last.undoes_apply_id == apply_id
    assert last.outcome == "ok"
    assert held_for_apply(conn, apply_id) == []  # nothing of it left to restore
    # The same apply cannot be rolled back twice.
    again = run_cli("rollback", str(apply_id), "--to", url(fresh_schema), "--yes")
    assert again.exit_code != 0 and "already rolled back" in again.output


def test_narrowing_decimal_with_keep_data_restores_original_values(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    conn.execute("CREATE TABLE prices (id INT NOT NULL PRIMARY KEY, price DECIMAL(12,2) NOT NULL)")
    conn.execute("INSERT INTO prices SELECT seq, (seq * 7919 % 99999999) / 100 FROM seq_1_to_20000")
    before = ordered_hash(conn, "prices", ["id", "price"])
    desired = write(
        tmp_path,
        "d.sql",
        "CREATE TABLE prices (id INT NOT NULL PRIMARY KEY, price DECIMAL(8,2) NOT NULL);",
    )
    pf = build_planfile(fresh_schema, desired, PlanOptions(allow_drop=True, keep_data=True))
    (st,) = pf.runnable
    assert st.keep_columns == ("price",) and st.risk.value == "destructive"
    res = apply(
        fresh_schema,
        desired,
        ApplyCommandOptions(plan=PlanOptions(allow_drop=True), keep_data=True, yes=True),
    )
    assert res.apply_id is not None
    assert (
        conn.scalar(
            "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = 'prices' AND COLUMN_NAME = 'price'",
            (fresh_schema.schema,),
        )
        == "decimal(8,2)"
    )

    back = build_rollback_planfile(fresh_schema)
    assert back.kind == "rollback" and back.undoes_apply_id == res.apply_id
    restore = [s for s in back.statements if s.restore_held]
    assert len(restore) == 1 and restore[0].subject == "prices"
    assert "decimal(12,2)" in back.runnable[0].sql
    rollback(fresh_schema, None, RollbackOptions(yes=True))

    assert ordered_hash(conn, "prices", ["id", "price"]) == before
    assert (
        conn.scalar(
            "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = 'prices' AND COLUMN_NAME = 'price'",
            (fresh_schema.schema,),
        )
        == "decimal(12,2)"
    )
    restored = conn.scalar(
        f"SELECT COUNT(*) FROM {DEFAULT_HOLDING}._held WHERE apply_id = %s "
        "AND restored_at IS NOT NULL",
        (str(res.apply_id),),
    )
    assert restored == 1


@pytest.fixture
def other_schema(server: LocalServer, fresh_schema: Endpoint) -> Iterator[str]:
    name = fresh_schema.schema + "_o"
    admin = connect(replace(fresh_schema, schema=""))
    admin.execute(f"CREATE DATABASE {quote_ident(name)}")
    try:
        yield name
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
        admin.close()


def test_soft_drop_of_a_referenced_table_is_refused_with_the_referencing_tables(
    conn: Conn, fresh_schema: Endpoint, other_schema: str, tmp_path: Path
) -> None:
    conn.execute("CREATE TABLE customers (id INT NOT NULL PRIMARY KEY, name VARCHAR(20))")
    conn.execute("CREATE TABLE keep_me (id INT NOT NULL PRIMARY KEY)")
    conn.execute(
        f"CREATE TABLE {quote_ident(other_schema)}.invoices (id INT PRIMARY KEY, cid INT, "
        f"CONSTRAINT inv_cust FOREIGN KEY (cid) REFERENCES "
        f"{quote_ident(fresh_schema.schema)}.customers (id))"
    )
    desired = write(tmp_path, "d.sql", "CREATE TABLE keep_me (id INT NOT NULL PRIMARY KEY);")
    with pytest.raises(UnsafeError) as exc:
        build_planfile(fresh_schema, desired, PlanOptions(allow_drop=True, keep_data=True))
    assert f"`{other_schema}`.`invoices` (inv_cust)" in str(exc.value)
    assert "customers" in str(exc.value)
    # Through the CLI it is one sentence and a non-zero exit, no traceback.
    out = run_cli(
        "apply",
        "--to",
        url(fresh_schema),
        "--desired",
        desired,
        "--allow-drop",
        "--keep-data",
        "--yes",
    )
    assert out.exit_code != 0 and "invoices" in out.output and "Traceback" not in out.output
    assert conn.scalar("SELECT COUNT(*) FROM customers") == 0  # still there


def test_rollback_refused_after_a_later_apply_touched_the_same_table(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    seed_orders(conn, 3000)
    before = ordered_hash(conn, "orders", ["id", "customer", "amount", "note"])
    first = apply(
        fresh_schema,
        write(tmp_path, "a.sql", ORDERS_NO_NOTE),
        ApplyCommandOptions(plan=PlanOptions(allow_drop=True), keep_data=True, yes=True),
    )
    with_index = ORDERS_NO_NOTE.replace(
        "amount DECIMAL(12,2) NOT NULL",
        "amount DECIMAL(12,2) NOT NULL,\n  KEY by_customer (customer)",
    )
    second = apply(
        fresh_schema, write(tmp_path, "b.sql", with_index), ApplyCommandOptions(yes=True)
    )
    assert first.apply_id and second.apply_id

    with pytest.raises(RollbackRefused) as exc:
        build_rollback_planfile(fresh_schema, first.apply_id)
    msg = str(exc.value)
    assert f"Apply #{first.apply_id} cannot be rolled back" in msg
    assert "table `orders`" in msg and f"#{second.apply_id}" in msg
    assert f"Roll back #{second.apply_id} first" in msg

    # Rolling back in order works, the second through a reviewed plan file.
    out = run_cli("rollback", "--to", url(fresh_schema), "--plan-only", "-o", "back.json")
    assert out.exit_code == 0, out.output
    back = PlanFile.read("back.json")
    assert back.undoes_apply_id == second.apply_id
    res = run_cli("apply", "--to", url(fresh_schema), "--plan", "back.json", "--yes")
    assert res.exit_code == 0, res.output
    rollback(fresh_schema, first.apply_id, RollbackOptions(yes=True))
    assert ordered_hash(conn, "orders", ["id", "customer", "amount", "note"]) == before
    kinds = [
        (r.kind, r.undoes_apply_id)
        for r in history_of(fresh_schema).list_applies(fresh_schema.schema)
    ]
    assert kinds[:2] == [("rollback", first.apply_id), ("rollback", second.apply_id)]


def test_protected_targets_keep_data_by_default(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    conn.execute(AUDIT)
    conn.execute("CREATE TABLE t (id INT NOT NULL PRIMARY KEY)")
    desired = write(tmp_path, "d.sql", "CREATE TABLE t (id INT NOT NULL PRIMARY KEY);")
    prod = replace(fresh_schema, protected=True)
    plan(prod, desired, PlanCommandOptions(PlanOptions(allow_drop=True), output="p.json"))
    (st,) = PlanFile.read("p.json").runnable
    assert st.keep_table
    # A plan made elsewhere without keep-data is refused for the protected target.
    plan(
        fresh_schema, desired, PlanCommandOptions(PlanOptions(allow_drop=True), output="bare.json")
    )
    with pytest.raises(Exception) as exc:
        apply(
            prod,
            None,
            ApplyCommandOptions(plan_path="bare.json", yes=True, skip_rehearsal=True),
        )
    assert "without --keep-data" in str(exc.value)


def test_a_reference_added_after_the_plan_refuses_the_apply_before_anything_runs(
    conn: Conn, fresh_schema: Endpoint, other_schema: str, tmp_path: Path
) -> None:
    conn.execute("CREATE TABLE customers (id INT NOT NULL PRIMARY KEY)")
    conn.execute("CREATE TABLE orders (id INT NOT NULL PRIMARY KEY, note TEXT)")
    desired = write(tmp_path, "d.sql", "CREATE TABLE orders (id INT NOT NULL PRIMARY KEY);")
    plan(
        fresh_schema,
        desired,
        PlanCommandOptions(PlanOptions(allow_drop=True, keep_data=True), output="p.json"),
    )
    conn.execute(
        f"CREATE TABLE {quote_ident(other_schema)}.invoices (id INT PRIMARY KEY, cid INT, "
        f"CONSTRAINT inv_cust FOREIGN KEY (cid) REFERENCES "
        f"{quote_ident(fresh_schema.schema)}.customers (id))"
    )
    with pytest.raises(UnsafeError, match=r"`customers` is referenced by .*`invoices`"):
        apply(fresh_schema, None, ApplyCommandOptions(plan_path="p.json", yes=True))
    # Nothing ran: the column drop listed before the table drop did not happen either.
    assert conn.scalar(
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
        "AND TABLE_NAME = 'orders' AND COLUMN_NAME = 'note'",
        (fresh_schema.schema,),
    )
