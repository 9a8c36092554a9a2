"""Verification drops its workspace in the background: never leaves it behind."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import pytest

from myshift.db.connect import Conn, Endpoint, connect
from myshift.engine.split import Statement
from myshift.engine.workspace import WS_PREFIX
from myshift.errors import VerificationFailed
from myshift.workflows.plan import PlanOptions, make_plan
from myshift.workflows.verify import verify_plan


def _workspaces(conn: Conn) -> list[str]:
    rows = conn.query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
    return [str(r[0]) for r in rows if str(r[0]).startswith(WS_PREFIX)]


def _setup(conn: Conn) -> None:
    conn.execute("CREATE TABLE a (id int PRIMARY KEY, v int)")
    conn.execute(
        "CREATE TABLE b (id int PRIMARY KEY, a_id int, FOREIGN KEY (a_id) REFERENCES a (id))"
    )


def test_plan_verifies_and_drops_the_workspace(conn: Conn, fresh_schema: Endpoint) -> None:
    _setup(conn)
    before = _workspaces(conn)
    desired = [
        "CREATE TABLE a (id int PRIMARY KEY, v int, w varchar(5))",
        "CREATE TABLE b (id int PRIMARY KEY, a_id int, FOREIGN KEY (a_id) REFERENCES a (id))",
    ]
    source = [Statement(sql=s, path="<test>", line=n + 1) for n, s in enumerate(desired)]
    plan = make_plan(fresh_schema, source)
    assert [s.sql for s in plan.runnable] == [
        "ALTER TABLE `a` ADD COLUMN `w` varchar(5) DEFAULT NULL AFTER `v`"
    ]
    assert "verify" in plan.timings
    assert (
        plan.from_fingerprint.startswith("sha256:") and plan.to_fingerprint != plan.from_fingerprint
    )
    assert _workspaces(conn) == before


def test_failed_verification_still_drops_the_workspace(conn: Conn, fresh_schema: Endpoint) -> None:
    _setup(conn)
    conn2_desired = "CREATE TABLE a (id int PRIMARY KEY, v bigint)"
    plan = make_plan(
        fresh_schema,
        [
            Statement(sql=conn2_desired, path="<test>", line=1),
            Statement(
                sql="CREATE TABLE b (id int PRIMARY KEY, a_id int, "
                "FOREIGN KEY (a_id) REFERENCES a (id))",
                path="<test>",
                line=2,
            ),
        ],
        PlanOptions(verify=False),
    )
    before = _workspaces(conn)
    # A statement that cannot run: replaying it in the workspace fails.
    plan.statements[0] = replace(plan.statements[0], sql="ALTER TABLE `nosuch` ADD COLUMN x int")
    with pytest.raises(VerificationFailed, match="nosuch"), contextlib.ExitStack() as later:
        verify_plan(plan, fresh_schema, PlanOptions(), later=later)
    assert _workspaces(conn) == before
    # The failing statement is named when others ran before it in its batch.
    plan.statements[:] = [
        replace(plan.statements[0], sql="ALTER TABLE `a` COMMENT 'first'", subject="a"),
        replace(
            plan.statements[0],
            sql="ALTER TABLE `gone` ADD COLUMN x int",
            subject="gone",
            description="alter table gone: add column x int",
        ),
    ]
    # Its clause, not its SQL cut at a length.
    named = r"gone: the statement \(alter table gone: add column x int\) failed in the workspace"
    with (
        pytest.raises(VerificationFailed, match=named),
        contextlib.ExitStack() as later,
    ):
        verify_plan(plan, fresh_schema, PlanOptions(), later=later)
    assert _workspaces(conn) == before
    plan.statements[:] = plan.statements[:1]
    # A statement that runs but does not converge: the background drop is waited for.
    plan.statements[0] = replace(plan.statements[0], sql="ALTER TABLE `a` COMMENT 'x'")
    with pytest.raises(VerificationFailed, match="still differ"), contextlib.ExitStack() as later:
        verify_plan(plan, fresh_schema, PlanOptions(), later=later)
    assert _workspaces(conn) == before


def test_mariadb_alters_a_child_whose_parent_is_missing(conn: Conn) -> None:
    """What _validates_parent relies on: with foreign_key_checks=1, MariaDB
    runs ALTERs that leave a child's FK alone without opening its parent, so
    the verification copy may leave such parents out."""
    conn.execute("SET SESSION foreign_key_checks = 0")
    conn.execute(
        "CREATE TABLE c (id int PRIMARY KEY, p int, KEY (p), "
        "CONSTRAINT fk FOREIGN KEY (p) REFERENCES missing_parent (id))"
    )
    conn.execute("SET SESSION foreign_key_checks = 1")
    for sql in (
        "ALTER TABLE c ADD COLUMN x int",
        "ALTER TABLE c ADD INDEX ix (x)",
        "ALTER TABLE c MODIFY x bigint",
        "ALTER TABLE c DROP INDEX ix",
        "ALTER TABLE c DROP COLUMN x",
        "ALTER TABLE c COMMENT 'copied', ALGORITHM=COPY",
    ):
        conn.execute(sql)
    # ... while what does touch the FK needs the parent (so it is copied).
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        conn.execute(
            "ALTER TABLE c ADD CONSTRAINT fk2 FOREIGN KEY (p) REFERENCES missing_parent (id)"
        )


# --- the early verification copy (see workflows.plan._EarlyCopy) ---------------------------

_CURRENT = [
    "CREATE TABLE a (id int PRIMARY KEY, v int)",
    "CREATE TABLE b (id int PRIMARY KEY, a_id int, FOREIGN KEY (a_id) REFERENCES a (id))",
    "CREATE TABLE c (id int PRIMARY KEY)",
    "CREATE TABLE gone (id int PRIMARY KEY)",
]
_DESIRED = [
    "CREATE TABLE a (id int PRIMARY KEY, v int, w varchar(5))",
    "CREATE TABLE b (id int PRIMARY KEY, a_id int, FOREIGN KEY (a_id) REFERENCES a (id))",
    "CREATE TABLE c (id int PRIMARY KEY)",
    "CREATE TABLE new_one (id int PRIMARY KEY)",
]


@pytest.fixture
def borrow_small(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Borrowing (hence the early copy) for these few tables; records what take() gave."""
    from myshift.engine.introspect import Twin
    from myshift.workflows import verify as plan_mod

    monkeypatch.setattr(Twin, "MIN_TABLES", 0)
    taken: list[object] = []
    original = plan_mod._EarlyCopy.take

    def take(self: plan_mod._EarlyCopy) -> object:
        got = original(self)
        taken.append(got)
        return got

    monkeypatch.setattr(plan_mod._EarlyCopy, "take", take)
    return taken


def _statements(sqls: list[str]) -> list[Statement]:
    return [Statement(sql=s, path="<test>", line=n + 1) for n, s in enumerate(sqls)]


def test_early_copy_holds_the_changed_tables(
    conn: Conn, fresh_schema: Endpoint, borrow_small: list[object]
) -> None:
    for sql in _CURRENT:
        conn.execute(sql)
    before = _workspaces(conn)
    plan = make_plan(fresh_schema, _statements(_DESIRED), PlanOptions(allow_drop=True))
    assert {s.subject for s in plan.runnable} == {"a", "gone", "new_one"}
    prepared = borrow_small[0]
    assert prepared is not None
    # The target's tables whose text the desired side does not share.
    assert prepared.tables == {"a", "gone"}  # type: ignore[attr-defined]
    assert _workspaces(conn) == before


def test_tables_copied_early_but_out_of_scope_are_dropped(
    conn: Conn, fresh_schema: Endpoint
) -> None:
    """A prepared workspace may hold a table the plan does not touch (its text
    differs only cosmetically): it is dropped before the replay."""
    from myshift.workflows.verify import _Prepared, workspace_for

    for sql in _CURRENT:
        conn.execute(sql)
    plan = make_plan(fresh_schema, _statements(_DESIRED), PlanOptions(verify=False))
    workspace = workspace_for("temp", fresh_schema, conn)
    ws = workspace.__enter__()
    with connect(ws) as wconn:
        wconn.execute("CREATE TABLE a (id int PRIMARY KEY, v int)")
        wconn.execute("CREATE TABLE junk (id int PRIMARY KEY, j text)")
    before = _workspaces(conn)
    prepared = _Prepared(workspace, ws, frozenset({"a", "junk"}))
    verify_plan(plan, fresh_schema, PlanOptions(), prepared=prepared)  # passes: junk is gone
    assert ws.schema not in _workspaces(conn) and len(_workspaces(conn)) == len(before) - 1


def test_a_failed_early_copy_falls_back(
    conn: Conn, fresh_schema: Endpoint, borrow_small: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    from myshift.engine.introspect import Twin

    for sql in _CURRENT:
        conn.execute(sql)
    real = Twin.differing

    def broken(self: Twin) -> dict[str, str] | None:
        texts = real(self)
        return None if texts is None else {**texts, "zz": "CREATE TABLE zz (nonsense"}

    monkeypatch.setattr(Twin, "differing", broken)
    before = _workspaces(conn)
    plan = make_plan(fresh_schema, _statements(_DESIRED), PlanOptions(allow_drop=True))
    assert borrow_small[0] is None  # the early copy failed: verification copied itself
    assert "verify" in plan.timings
    assert _workspaces(conn) == before
