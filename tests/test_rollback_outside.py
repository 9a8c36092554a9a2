"""Issue 12, class 13: rollback does not silently undo changes made outside myshift.

An apply changes a table; afterwards someone adds an index by hand and widens
a column of that same table.  A rollback that puts the table back as it was
before the apply would take both back without a word.  It must name each
outside change and refuse, unless told ``--take-back-outside-changes``; an
outside change to an object the apply did not touch is no reason to refuse
(and stays).  All through the CLI, on a real server.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from myshift.cli import cli
from myshift.db.connect import Conn, Endpoint, connect
from myshift.exitcodes import ExitCode
from myshift.workflows.history import History
from myshift.workflows.planfile import PlanFile

BEFORE = """CREATE TABLE orders (
  id INT NOT NULL PRIMARY KEY,
  customer VARCHAR(40) NOT NULL
);
CREATE TABLE notes (id INT NOT NULL PRIMARY KEY, body VARCHAR(20) NOT NULL);
"""
DESIRED = """CREATE TABLE orders (
  id INT NOT NULL PRIMARY KEY,
  customer VARCHAR(40) NOT NULL,
  status VARCHAR(10) NOT NULL DEFAULT 'new',
  KEY ix_status (status)
);
CREATE TABLE notes (id INT NOT NULL PRIMARY KEY, body VARCHAR(20) NOT NULL);
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Config and the audit log come from the working directory: keep them private."""
    monkeypatch.chdir(tmp_path)


def url(ep: Endpoint) -> str:
    return f"mysql://{ep.user}@{ep.host}:{ep.port}/{ep.schema}"


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def show_create(conn: Conn, table: str) -> str:
    return str(conn.query(f"SHOW CREATE TABLE {table}")[0][1])


def applied(conn: Conn, ep: Endpoint, tmp_path: Path) -> int:
    """BEFORE loaded, DESIRED applied through the CLI; the apply's id."""
    for stmt in BEFORE.split(";"):
        if stmt.strip():
            conn.execute(stmt)
    conn.execute("INSERT INTO orders VALUES (1, 'ann'), (2, 'bob')")
    desired = tmp_path / "desired.sql"
    desired.write_text(DESIRED, encoding="utf-8")
    result = run_cli("apply", "--to", url(ep), "--desired", str(desired), "--yes")
    assert result.exit_code == 0, result.output
    h = History(connect(replace(ep, schema="")), schema="_myshift", audit_path=None)
    last = h.latest_apply(ep.schema)
    assert last is not None and last.kind == "apply"
    return last.id


def by_hand(conn: Conn) -> None:
    """What a DBA does after the apply, outside myshift, on the table it touched."""
    conn.execute("ALTER TABLE orders ADD INDEX ix_customer (customer)")
    conn.execute("ALTER TABLE orders MODIFY customer VARCHAR(80) NOT NULL")


def test_rollback_refuses_naming_each_outside_change(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    apply_id = applied(conn, fresh_schema, tmp_path)
    by_hand(conn)
    live = show_create(conn, "orders")

    for args in ((), ("--plan-only",)):
        refused = run_cli("rollback", "--to", url(fresh_schema), "--yes", *args)
        assert refused.exit_code == ExitCode.UNSAFE, refused.output
        out = " ".join(refused.output.split())
        assert f"Apply #{apply_id} cannot be rolled back" in out
        assert "table `orders`: add index ix_customer" in out
        assert "table `orders`: modify column customer varchar(40) -> varchar(80)" in out
        assert "--take-back-outside-changes" in out
    # Nothing ran: the hand-made changes and the apply's own are all still there.
    assert show_create(conn, "orders") == live
    assert "`status`" in live and "ix_customer" in live


def test_take_back_outside_changes_undoes_them_with_the_apply(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    apply_id = applied(conn, fresh_schema, tmp_path)
    by_hand(conn)
    # Outside the apply's objects: not a reason to refuse, and it stays.
    conn.execute("ALTER TABLE notes ADD INDEX ix_body (body)")

    shown = run_cli(
        "rollback", "--to", url(fresh_schema), "--plan-only", "--take-back-outside-changes"
    )
    assert shown.exit_code == 0, shown.output
    assert "takes back, made outside myshift: table `orders`: add index ix_customer" in (
        shown.output
    )

    back = run_cli("rollback", "--to", url(fresh_schema), "--yes", "--take-back-outside-changes")
    assert back.exit_code == 0, back.output
    assert f"Rolled back apply #{apply_id}" in back.output
    orders = show_create(conn, "orders")
    assert "ix_customer" not in orders and "`status`" not in orders
    assert "varchar(40)" in orders
    assert "ix_body" in show_create(conn, "notes")
    assert conn.query("SELECT id, customer FROM orders ORDER BY id") == [(1, "ann"), (2, "bob")]


def test_reviewed_rollback_plan_file_names_what_it_takes_back(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    applied(conn, fresh_schema, tmp_path)
    by_hand(conn)
    plan = tmp_path / "rollback.json"
    made = run_cli(
        "rollback",
        "--to",
        url(fresh_schema),
        "--plan-only",
        "-o",
        str(plan),
        "--take-back-outside-changes",
    )
    assert made.exit_code == 0, made.output
    pf = PlanFile.from_json(plan.read_text(encoding="utf-8"))
    assert pf.derivation is not None
    assert "table `orders`: add index ix_customer" in pf.derivation.take_back
    done = run_cli("apply", "--to", url(fresh_schema), "--plan", str(plan), "--yes")
    assert done.exit_code == 0, done.output
    assert "ix_customer" not in show_create(conn, "orders")


def test_no_outside_change_rolls_back_as_before(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    applied(conn, fresh_schema, tmp_path)
    # Rows written since are data, not an outside change to the schema.
    conn.execute("INSERT INTO orders VALUES (3, 'cy', 'paid')")
    back = run_cli("rollback", "--to", url(fresh_schema), "--yes")
    assert back.exit_code == 0, back.output
    assert "`status`" not in show_create(conn, "orders")


def test_a_history_from_before_after_snapshots_still_reads_and_rolls_back(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """A history written by an older myshift has no after_snapshots table: it still
    lists its applies, their rollback says it cannot tell outside changes apart, and
    the next apply creates the table."""
    apply_id = applied(conn, fresh_schema, tmp_path)
    conn.execute("DROP TABLE `_myshift`.`after_snapshots`")
    listed = run_cli("history", "--to", url(fresh_schema))
    assert listed.exit_code == 0 and str(apply_id) in listed.output, listed.output
    by_hand(conn)
    shown = run_cli("rollback", "--to", url(fresh_schema), "--plan-only", "--format", "human")
    assert shown.exit_code == 0, shown.output
    assert f"apply #{apply_id} recorded no state of its objects after it" in " ".join(
        shown.output.split()
    )
    back = run_cli("rollback", "--to", url(fresh_schema), "--yes")
    assert back.exit_code == 0, back.output
    assert (
        conn.scalar(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '_myshift' "
            "AND TABLE_NAME = 'after_snapshots'"
        )
        == 1
    )
