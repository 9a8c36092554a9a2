"""The apply history against a live server, and its JSONL mirror."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import endpoint_of
from myshift.db.connect import Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.errors import UnsupportedError, UsageError
from myshift.model.schema import Column, Index, IndexKind, IndexPart, Schema, Table, View
from myshift.model.serialize import fingerprint
from myshift.workflows.history import (
    History,
    HistoryError,
    format_apply_detail,
    format_history_table,
)

SNAPSHOT = Schema(
    name="shop",
    tables=(
        Table(
            name="orders",
            columns=(
                Column("id", "bigint(20) unsigned", nullable=False, auto_increment=True),
                Column("total", "decimal(12,2)", default="0.00", comment="it's €"),
            ),
            indexes=(Index("PRIMARY", IndexKind.PRIMARY, (IndexPart(column="id"),)),),
            auto_increment=42,
        ),
    ),
    views=(View("big_orders", "select `id` from `orders` where `total` > 100"),),
)


@pytest.fixture
def audit(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "audit.jsonl"


@pytest.fixture
def history(server: LocalServer, audit: Path) -> Iterator[History]:
    schema = f"_myshift_{uuid.uuid4().hex[:8]}"
    h = History.open(endpoint_of(server), schema=schema, audit_path=audit)
    try:
        yield h
    finally:
        h.close()
        with connect(endpoint_of(server)) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(schema)}")


def audit_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_lifecycle(history: History) -> None:
    fp = fingerprint(SNAPSHOT)
    apply_id = history.begin_apply(
        kind="apply",
        target_schema="shop",
        plan_hash="sha256:plan",
        from_fingerprint=fp,
        to_fingerprint="sha256:to",
        snapshot=SNAPSHOT,
        notes={"skip_rehearsal": False, "rehearsal_id": 7},
    )
    history.statement_started(apply_id, 1, "ALTER TABLE orders ADD COLUMN x INT", "safe")
    history.statement_finished(apply_id, 1, "ok", rows=0)
    history.statement_started(apply_id, 2, "ALTER TABLE orders ADD UNIQUE (x)", "data-dependent")
    history.statement_finished(apply_id, 2, "failed", error="Duplicate entry '1' for key 'x'")
    history.finish_apply(apply_id, "failed", error="statement 2 failed")

    d = history.get_apply(apply_id)
    r = d.record
    assert (r.kind, r.target_schema, r.outcome, r.error) == (
        "apply",
        "shop",
        "failed",
        "statement 2 failed",
    )
    assert (r.plan_hash, r.from_fingerprint, r.to_fingerprint) == ("sha256:plan", fp, "sha256:to")
    assert r.notes == {"skip_rehearsal": False, "rehearsal_id": 7}
    assert r.finished_at is not None and r.finished_at >= r.started_at
    assert (r.statements_total, r.statements_ok) == (2, 1)
    assert [s.outcome for s in d.statements] == ["ok", "failed"]
    assert d.statements[0].rows_affected == 0
    assert d.statements[0].duration is not None and d.statements[0].duration >= 0
    assert d.statements[1].risk == "data-dependent"
    assert d.statements[1].error == "Duplicate entry '1' for key 'x'"
    assert d.stopped_at is not None and d.stopped_at.seq == 2
    assert r.target.startswith("mysql://root@127.0.0.1:") and r.target.endswith("/shop")


def test_snapshot_round_trips(history: History) -> None:
    apply_id = history.begin_apply(kind="apply", target_schema="shop", snapshot=SNAPSHOT)
    snap = history.get_apply(apply_id).snapshot()
    assert snap == SNAPSHOT
    assert snap is not None and snap.tables[0].auto_increment == 42  # non-compared fields too
    assert fingerprint(snap) == fingerprint(SNAPSHOT)
    no_snap = history.begin_apply(kind="rehearsal", target_schema="shop")
    assert history.get_apply(no_snap).snapshot() is None


def test_crash_leaves_running_on_the_statement(server: LocalServer, history: History) -> None:
    apply_id = history.begin_apply(kind="apply", target_schema="shop")
    history.statement_started(apply_id, 1, "CREATE TABLE a (id INT PRIMARY KEY)", "safe")
    history.statement_finished(apply_id, 1, "ok", rows=0)
    history.statement_started(apply_id, 2, "ALTER TABLE a ADD COLUMN b INT", "safe")
    # The process dies here: drop the history connection without finishing anything.
    history.close()

    with History.open(endpoint_of(server), schema=history.schema, audit_path=None) as fresh:
        d = fresh.get_apply(apply_id)
        assert d.record.outcome == "running"
        assert [(s.seq, s.outcome) for s in d.statements] == [(1, "ok"), (2, "running")]
        assert d.stopped_at is not None and d.stopped_at.seq == 2
        assert d.statements[1].finished_at is None
        text = format_apply_detail(d)
        assert "Statement 2 was running" in text
        assert "ALTER TABLE a ADD COLUMN b INT" in text


def test_list_ordering_and_filters(history: History) -> None:
    a1 = history.begin_apply(kind="apply", target_schema="shop")
    history.finish_apply(a1, "ok")
    a2 = history.begin_apply(kind="apply", target_schema="other")
    history.finish_apply(a2, "ok")
    a3 = history.begin_apply(kind="rollback", target_schema="shop", undoes_apply_id=a1)
    history.finish_apply(a3, "interrupted")
    a4 = history.begin_apply(kind="rehearsal", target_schema="shop")

    assert [r.id for r in history.list_applies()] == [a4, a3, a2, a1]
    assert [r.id for r in history.list_applies("shop")] == [a4, a3, a1]
    assert [r.id for r in history.list_applies("shop", limit=2)] == [a4, a3]
    assert history.list_applies("shop")[1].undoes_apply_id == a1
    latest = history.latest_apply("shop")
    assert latest is not None and latest.id == a4
    ok = history.latest_apply("shop", kinds=["apply"], outcome="ok")
    assert ok is not None and ok.id == a1
    assert history.latest_apply("nothing-here") is None

    table = format_history_table(history.list_applies())
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["ID", "KIND", "SCHEMA"]
    assert lines[1].split()[:3] == [str(a4), "rehearsal", "shop"]
    assert f"undoes #{a1}" in lines[2]
    # Aligned: every row's OUTCOME column starts at the header's offset.
    col = lines[0].index("OUTCOME")
    assert [ln[col:].split()[0] for ln in lines[1:]] == ["running", "interrupted", "ok", "ok"]


def test_explicit_operator_and_string_target(history: History) -> None:
    apply_id = history.begin_apply(
        kind="apply",
        target_schema="shop",
        target="mysql://bob:leaky-pw@db1:3306/shop",
        operator_user="bob",
        operator_host="laptop",
        tool_version="9.9.9",
    )
    r = history.get_apply(apply_id).record
    assert (r.operator_user, r.operator_host, r.tool_version) == ("bob", "laptop", "9.9.9")
    assert r.target == "mysql://bob:***@db1:3306/shop"


def test_add_notes_merges(history: History) -> None:
    apply_id = history.begin_apply(kind="apply", target_schema="shop", notes={"a": 1})
    history.add_notes(apply_id, {"rehearsal_id": 9})
    assert history.get_apply(apply_id).record.notes == {"a": 1, "rehearsal_id": 9}


def test_jsonl_mirror(history: History, audit: Path) -> None:
    apply_id = history.begin_apply(
        kind="apply", target_schema="shop", snapshot=SNAPSHOT, notes={"skip_rehearsal": True}
    )
    history.statement_started(apply_id, 1, "DROP TABLE t", "destructive")
    history.statement_finished(apply_id, 1, "ok", rows=0)
    history.finish_apply(apply_id, "ok")

    lines = audit_lines(audit)
    assert [ln["event"] for ln in lines] == [
        "apply_started",
        "statement_started",
        "statement_finished",
        "apply_finished",
    ]
    assert all(ln["apply_id"] == apply_id for ln in lines)
    assert all(ln["history_schema"] == history.schema for ln in lines)
    first = lines[0]
    assert first["kind"] == "apply" and first["target_schema"] == "shop"
    assert first["notes"] == {"skip_rehearsal": True}
    assert first["snapshot"]["tables"][0]["name"] == "orders"
    assert lines[1]["sql"] == "DROP TABLE t" and lines[1]["risk"] == "destructive"
    assert lines[2]["outcome"] == "ok" and lines[2]["rows_affected"] == 0
    assert lines[3]["outcome"] == "ok"


def test_password_never_stored(server: LocalServer, audit: Path) -> None:
    secret = "Sekr3t-" + uuid.uuid4().hex
    user = f"h_{uuid.uuid4().hex[:8]}"
    schema = f"_myshift_{uuid.uuid4().hex[:8]}"
    with connect(endpoint_of(server)) as admin:
        admin.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (secret,))
        admin.execute(f"GRANT ALL ON *.* TO '{user}'@'%'")
        try:
            ep = Endpoint(host=server.host, port=server.port, user=user, password=secret)
            with History.open(ep, schema=schema, audit_path=audit) as h:
                apply_id = h.begin_apply(kind="apply", target_schema="shop", target=ep)
                h.statement_started(apply_id, 1, "SELECT 1", None)
                h.statement_finished(apply_id, 1, "ok")
                h.finish_apply(apply_id, "ok")
                detail = h.get_apply(apply_id)
                stored = admin.query(
                    f"SELECT * FROM {quote_ident(schema)}.applies WHERE id = %s", (apply_id,)
                )
            assert detail.record.target == f"mysql://{user}@{server.host}:{server.port}/shop"
            assert secret not in repr(stored)
            assert secret not in audit.read_text()
            assert secret not in format_apply_detail(detail)
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(schema)}")
            admin.execute(f"DROP USER '{user}'@'%'")


def test_reads_do_not_create_the_schema(server: LocalServer) -> None:
    schema = f"_myshift_{uuid.uuid4().hex[:8]}"
    with History.open(endpoint_of(server), schema=schema, audit_path=None) as h:
        assert h.list_applies() == []
        assert h.latest_apply("shop") is None
        with pytest.raises(UsageError, match="No apply #3"):
            h.get_apply(3)
    with connect(endpoint_of(server)) as admin:
        assert (
            admin.scalar(
                "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (schema,)
            )
            == 0
        )


def test_newer_layout_is_refused(history: History, server: LocalServer) -> None:
    history.ensure()
    with connect(endpoint_of(server)) as admin:
        admin.execute(f"UPDATE {quote_ident(history.schema)}.layout SET version = 99")
    with (
        History.open(endpoint_of(server), schema=history.schema, audit_path=None) as h,
        pytest.raises(UnsupportedError, match="v99"),
    ):
        h.begin_apply(kind="apply", target_schema="shop")


def test_bad_outcomes_are_programming_errors(history: History) -> None:
    apply_id = history.begin_apply(kind="apply", target_schema="shop")
    with pytest.raises(ValueError):
        history.finish_apply(apply_id, "done")
    with pytest.raises(ValueError):
        history.begin_apply(kind="deploy", target_schema="shop")


def test_empty_table_format() -> None:
    assert format_history_table([]) == "No applies recorded."


def test_unwritable_audit_log_records_nothing(server: LocalServer, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    schema = f"_myshift_{uuid.uuid4().hex[:8]}"
    try:
        with History.open(endpoint_of(server), schema=schema, audit_path=blocker / "a") as h:
            with pytest.raises(UsageError, match="audit log"):
                h.begin_apply(kind="apply", target_schema="shop")
            assert h.list_applies() == []
    finally:
        with connect(endpoint_of(server)) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(schema)}")


def test_failed_apply_closes_its_history_connection(fresh_schema: Endpoint, tmp_path: Path) -> None:
    """Every connection an apply opens is closed when it fails, even while the error lives on."""
    import time

    from myshift.errors import MyshiftError
    from myshift.workflows.execute import execute_planfile
    from myshift.workflows.plan import PlanOptions, build_planfile
    from myshift.workflows.runner import ApplyOptions, StatementRun

    desired = tmp_path / "d.sql"
    desired.write_text("CREATE TABLE t (id int PRIMARY KEY);")
    pf = build_planfile(fresh_schema, str(desired), PlanOptions(verify=False))
    schema = f"_h_{uuid.uuid4().hex[:8]}"
    opts = ApplyOptions(history_schema=schema, audit_path=None)
    ids = "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()"
    with connect(fresh_schema) as admin:
        before = {r[0] for r in admin.query(ids)}
        during: set[Any] = set()

        def observe(_run: StatementRun) -> None:
            during.update(r[0] for r in admin.query(ids))
            raise MyshiftError("stop here", "")

        with pytest.raises(MyshiftError) as err:
            execute_planfile(fresh_schema, pf, opts, observe=observe)
        opened = during - before
        assert len(opened) >= 2  # the DDL session and the history connection
        left: set[Any] = opened
        for _ in range(100):  # the server drops a closed session asynchronously
            left = opened & {r[0] for r in admin.query(ids)}
            if not left:
                break
            time.sleep(0.05)
        assert err.value is not None and not left
        admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(schema)}")


def test_history_command_output_ends_with_a_newline(fresh_schema: Endpoint) -> None:
    from click.testing import CliRunner

    from myshift.cli import cli

    target = f"mysql://root@{fresh_schema.host}:{fresh_schema.port}/{fresh_schema.schema}"
    out = CliRunner().invoke(cli, ["history", "--to", target])
    assert out.exit_code == 0 and out.output == "No applies recorded.\n", out.output


def test_recorded_operator_is_what_the_runbook_announces(history: History) -> None:
    from myshift.workflows.history import operator

    apply_id = history.begin_apply(kind="apply", target_schema="shop")
    rec = history.get_apply(apply_id).record
    assert f"{rec.operator_user}@{rec.operator_host}" == operator()


def test_a_history_session_closed_by_the_server_is_reopened(
    server: LocalServer, history: History
) -> None:
    """An ALTER of hours leaves the history session idle; wait_timeout may close it. The
    statement's end must still be recorded, not turned into a failed apply."""
    apply_id = history.begin_apply(kind="apply", target_schema="shop")
    history.statement_started(apply_id, 1, "ALTER TABLE t ADD c INT", "safe")
    with connect(endpoint_of(server)) as admin:
        admin.execute(f"KILL CONNECTION {history._conn.thread_id()}")
    history.statement_finished(apply_id, 1, "ok", rows=0)
    history.finish_apply(apply_id, "ok")
    detail = history.get_apply(apply_id)
    assert detail.record.outcome == "ok" and detail.statements[0].outcome == "ok"


def test_history_errors_say_a_lost_server_is_lost_not_a_missing_grant(
    server: LocalServer, tmp_path: Path
) -> None:
    h = History(connect(endpoint_of(server)), schema="_myshift", audit_path=None)
    h.ensure()
    h._conn.raw.close()  # the session is gone and cannot be reopened: the port is wrong now
    h._conn.raw.port = 1
    with pytest.raises(HistoryError) as exc:
        h.begin_apply(kind="apply", target_schema="shop")
    text = str(exc.value)
    assert "lost the connection to the server" in text and "Grant" not in text
    assert not text.rstrip().endswith(": .")


def test_rehearsal_counts_its_sandbox_statements(history: History) -> None:
    """A rehearsal's statements ran in the sandbox: its OK/STMTS comes from its notes,
    not from the target's (empty) statement rows, which read 0/0."""
    r = history.begin_apply(kind="rehearsal", target_schema="shop")
    history.add_notes(
        r,
        {"statements": [{"seq": 1, "status": "ok"}, {"seq": 2, "status": "failed"}]},
    )
    history.finish_apply(r, "failed")
    early = history.begin_apply(kind="rehearsal", target_schema="shop")
    history.finish_apply(early, "failed")  # stopped before any statement ran
    rows = {
        line.split()[0]: line for line in format_history_table(history.list_applies()).splitlines()
    }
    col = rows["ID"].index("OK/STMTS")
    assert rows[str(r)][col:].split()[0] == "1/2"
    assert rows[str(early)][col:].split()[0] == "-"
