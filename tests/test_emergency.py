"""Issue 15, "emergency runbooks": ``myshift runbook --emergency`` for this plan and place.

The runbook is made through the real CLI for a plan that alters a table,
drops a column and a table with keep-data; then its SQL is run, as an
operator would paste it, against the session's MariaDB: the processlist
queries find a really stuck ALTER and the transaction that blocks it, the
KILLs free them, the by-hand rollback (kept table renamed back, reverse
statements, kept values written back) gives back the schema and rows as
they were, and the pt-online-schema-change clean-up removes leftovers the
tool would leave.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pymysql
import pytest

from clitools import run_cli
from myshift.config.settings import Settings
from myshift.db.connect import Conn, Endpoint, connect
from myshift.exitcodes import ExitCode
from myshift.model import Flavor
from myshift.workflows.emergency import EmergencyFacts, environment_facts, format_emergency
from myshift.workflows.emergency_sql import lock_holders_sql
from myshift.workflows.planfile import PlanFile

SCHEMA_SQL = [
    "CREATE TABLE parent (id INT PRIMARY KEY)",
    "CREATE TABLE orders (id INT PRIMARY KEY, parent_id INT, note VARCHAR(20), "
    "legacy VARCHAR(20), CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES parent (id))",
    "CREATE TABLE gone (id INT PRIMARY KEY, parent_id INT, v INT, "
    "CONSTRAINT fk_gone FOREIGN KEY (parent_id) REFERENCES parent (id))",
    "INSERT INTO parent VALUES (1), (2)",
    "INSERT INTO orders VALUES (1, 1, 'a', 'old-1'), (2, 2, 'b', NULL), (3, 1, 'c', 'old-3')",
    "INSERT INTO gone VALUES (10, 1, 100), (11, 2, 110)",
]
DESIRED = """
CREATE TABLE parent (id INT PRIMARY KEY);
CREATE TABLE orders (id INT PRIMARY KEY, parent_id INT, note VARCHAR(20), b INT,
  KEY ix_note (note),
  CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES parent (id));
"""


def sections(text: str) -> dict[str, str]:
    """``## N. title`` -> its text."""
    parts = re.split(r"^## (\d)\. .*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def blocks(text: str, lang: str = "sql") -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)\n```", text, flags=re.S)


def statements(block: str) -> list[str]:
    body = "\n".join(ln for ln in block.splitlines() if not ln.startswith("--"))
    return [s.strip() for s in re.split(r";\s*(?:\n|$)", body) if s.strip()]


def run_block(conn: Conn, block: str) -> list[list[tuple[object, ...]]]:
    results = []
    for st in statements(block):
        assert "<ID>" not in st and "<key column>" not in st, st
        if st.upper().startswith(("SELECT", "SHOW")):
            results.append([tuple(r) for r in conn.query(st)])
        else:
            conn.execute(st)
    return results


def snapshot(conn: Conn) -> dict[str, object]:
    out: dict[str, object] = {}
    for (name,) in conn.query("SHOW TABLES"):
        out[f"ddl {name}"] = conn.query(f"SHOW CREATE TABLE `{name}`")[0][1]
        out[f"rows {name}"] = [tuple(r) for r in conn.query(f"SELECT * FROM `{name}` ORDER BY 1")]
    return out


@pytest.fixture
def prod(fresh_schema: Endpoint, tmp_path: Path) -> Endpoint:
    with connect(fresh_schema) as c:
        for st in SCHEMA_SQL:
            c.execute(st)
    (tmp_path / "myshift.toml").write_text(
        f"""lock_wait_timeout = 7

[env.prod]
host = "{fresh_schema.host}"
port = {fresh_schema.port}
user = "root"
schema = "{fresh_schema.schema}"
notify = ["team-slack", "dba-mail"]

[notify.team-slack]
type = "slack"
url_env = "SLACK_URL"

[notify.dba-mail]
type = "email"
smtp_host = "127.0.0.1"
from = "myshift@example.test"
to = ["dba@example.test"]

[online]
min_rows = 1000000000
min_bytes = 1000000000000
"""
    )
    return fresh_schema


def emergency(tmp_path: Path, *extra: str) -> str:
    r = run_cli("runbook", "--emergency", "--plan", "plan.json", "--to", "prod", *extra,
                cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_emergency_runbook_commands_work_on_a_real_server(prod: Endpoint, tmp_path: Path) -> None:
    (tmp_path / "desired.sql").write_text(DESIRED)
    r = run_cli("plan", "--to", "prod", "--desired", "desired.sql", "--allow-drop", "--keep-data",
                "-o", "plan.json", cwd=tmp_path)  # fmt: skip
    assert r.returncode in (0, ExitCode.CHANGES_PENDING), r.stderr
    conn = connect(prod)
    before = snapshot(conn)

    # Before the apply: the plan's names, the environment's, placeholders for the id.
    text = emergency(tmp_path)
    assert text.startswith(f"# Emergency runbook: `{prod.schema}` on prod")
    for name in ("`orders`", "`gone`", "team-slack (slack)", "dba-mail (email to dba@example"):
        assert name in text
    assert "after 7 s" in text and "myshift rollback <ID> --to prod --plan-only" in text
    assert "a<ID>__gone" in text and "a<ID>__orders__cols" in text

    r = run_cli("apply", "--plan", "plan.json", "--to", "prod", "--yes", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    apply_id = int(re.findall(r"history id (\d+)", r.stdout)[0])
    text = emergency(tmp_path)
    assert f"- The apply: history id {apply_id} (ok" in text
    assert f"myshift rollback {apply_id} --to prod --plan-only" in text
    assert "<ID>" not in text  # every id and held name filled in
    part = sections(text)

    _stuck_alter_is_found_and_killed(prod, part["2"])
    _online_leftovers_are_cleaned(prod, part["3"])

    # 4: the myshift commands run as written.
    cmds = blocks(part["4"], "sh")[1].splitlines()
    assert cmds[0] == f"myshift rollback {apply_id} --to prod --plan-only"
    r = run_cli(*cmds[0].split()[1:], "-o", "back.json", cwd=tmp_path)
    assert r.returncode in (0, ExitCode.CHANGES_PENDING), r.stderr
    assert "gone" in r.stdout
    # A rollback plan file has its emergency runbook too (its reverse re-applies).
    r = run_cli("runbook", "--emergency", "--plan", "back.json", "--to", "prod", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "`gone`" in r.stdout and "## 5. Roll back without myshift" in r.stdout

    # 5 and 6, by hand: kept table back, reverse statements, kept values back.
    table_back, columns_back = blocks(part["6"])[1:3]
    run_block(conn, table_back)
    (reverse,) = blocks(part["5"])
    run_block(conn, reverse)
    run_block(conn, columns_back)
    assert snapshot(conn) == before
    conn.close()


def _stuck_alter_is_found_and_killed(prod: Endpoint, part: str) -> None:
    """A transaction holds orders' metadata lock; myshift-like ALTER waits behind it."""
    find, waits, holders = blocks(part)
    blocker = connect(prod)
    blocker.execute("BEGIN")
    blocker.query("SELECT * FROM orders")
    blocker_id = int(blocker.scalar("SELECT CONNECTION_ID()"))
    alter = connect(prod)
    alter_id = int(alter.scalar("SELECT CONNECTION_ID()"))
    errors: list[BaseException] = []

    def run_alter() -> None:
        try:
            alter.execute("SET SESSION lock_wait_timeout = 60")
            alter.execute("/* myshift apply 1, statement 1/1 */ ALTER TABLE orders ADD z INT")
        except BaseException as exc:  # the KILL QUERY below
            errors.append(exc)

    thread = threading.Thread(target=run_alter)
    thread.start()
    with connect(prod.with_schema("")) as op:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = run_block(op, find)[0]
            if any(int(str(r[0])) == alter_id for r in found):
                break
            time.sleep(0.1)
        assert any(int(str(r[0])) == alter_id for r in found), found
        mdl, trx = run_block(op, waits)
        assert [int(str(r[0])) for r in mdl] == [alter_id]
        assert blocker_id in [int(str(r[0])) for r in trx]
        try:
            run_block(op, holders)  # MariaDB: needs the metadata_lock_info plugin
        except pymysql.err.OperationalError as exc:
            assert exc.args[0] in (1109,), exc  # unknown table: the plugin is not loaded
        # MySQL's variant (performance_schema): its tables and columns exist here too.
        mysql = lock_holders_sql(Flavor.from_string("mysql:8.0.36"), prod.schema, ["orders"])
        assert len(run_block(op, mysql)) == 1
        op.execute(f"KILL QUERY {alter_id}")
        thread.join(10)
        assert errors and "interrupted" in str(errors[0]).lower()
        op.execute(f"KILL {blocker_id}")
        time.sleep(0.2)
        ids = [int(str(r[0])) for r in op.query("SELECT ID FROM information_schema.PROCESSLIST")]
        assert blocker_id not in ids
    alter.close()


def _online_leftovers_are_cleaned(prod: Endpoint, part: str) -> None:
    """What a pt-online-schema-change run stopped without its clean-up leaves on orders."""
    s = prod.schema
    with connect(prod) as c:
        c.execute("CREATE TABLE `_orders_new` LIKE orders")
        for op, event in (("ins", "INSERT"), ("upd", "UPDATE"), ("del", "DELETE")):
            c.execute(f"CREATE TRIGGER `pt_osc_{s}_orders_{op}` AFTER {event} ON orders "
                      "FOR EACH ROW SET @x = 1")  # fmt: skip
        left, *per_table = blocks(part)
        triggers, tables = run_block(c, left)
        found = sorted(str(r[0]) for r in triggers)
        assert found == [f"pt_osc_{s}_orders_{op}" for op in ("del", "ins", "upd")]
        assert [str(r[0]) for r in tables] == ["_orders_new"]
        sessions, moved, cleanup, _old_back = per_table
        assert run_block(c, sessions) == [[]]  # no copy runs
        assert run_block(c, moved) == [[]]
        run_block(c, cleanup)
        assert run_block(c, left) == [[], []]
        assert c.scalar("SELECT COUNT(*) FROM orders") == 3


def test_spanish_and_without_a_server(prod: Endpoint, tmp_path: Path) -> None:
    (tmp_path / "desired.sql").write_text(DESIRED)
    r = run_cli("plan", "--to", "prod", "--desired", "desired.sql", "--allow-drop", "--keep-data",
                "-o", "plan.json", cwd=tmp_path)  # fmt: skip
    assert r.returncode in (0, ExitCode.CHANGES_PENDING), r.stderr
    text = emergency(tmp_path, "--lang", "es")
    assert text.startswith(f"# Runbook de emergencia: `{prod.schema}` en prod")
    assert "## 6. Recuperar a mano una tabla conservada" in text and "`gone`" in text
    en = emergency(tmp_path)
    # The SQL is the same in every language (only its comments are translated).
    assert [statements(b) for b in blocks(text)] == [statements(b) for b in blocks(en)]

    # No server, no environment: the plan's own target; RDS kills when it is RDS.
    pf = PlanFile.read(tmp_path / "plan.json")
    assert environment_facts(Settings(), None).channels == ()
    facts = EmergencyFacts(target=pf.target, server=pf.target, rds=True)
    text = format_emergency(pf, facts, plan_path="plan.json")
    assert f"myshift rollback <ID> --to {pf.target}" in text
    assert "mysql.rds_kill_query(<processlist ID>)" in text
    assert "No notification channel is configured" in text
