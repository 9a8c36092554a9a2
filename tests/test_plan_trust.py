"""Issue 9 item 2: a plan file is checked, not trusted.

Apply runs only what the engine derives from the plan's own snapshots and
options; a protected environment's rehearsal gate reads the target's own
history; an optional team key signs plan files.  Each forgery below is what
an attacker with the file (and this source code) can do: edit, then
recompute ``plan_hash`` exactly as planfile.py does (``forged_hash``, written
out here independently).  Through the real CLI, against a real server.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pymysql.constants import CLIENT

from clitools import run_cli
from myshift.db.connect import Conn, Endpoint, connect
from myshift.db.server import LocalServer
from myshift.engine.risk import Algorithm, Lock, Risk
from myshift.errors import ApplyFailed
from myshift.exitcodes import ExitCode
from myshift.model import Schema
from myshift.model.serialize import fingerprint, from_dict, to_dict
from myshift.workflows.history import History
from myshift.workflows.keepdata import apply_hook, held_for_apply
from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import PlannedStatement
from myshift.workflows.runner import ApplyOptions, run_statements

BASE = "CREATE TABLE t1 (id int PRIMARY KEY, a int, note varchar(20));"
DESIRED = "CREATE TABLE t1 (id int PRIMARY KEY, a int, note varchar(20), b int);"
ROWS = 5


@pytest.fixture
def prod(fresh_schema: Endpoint, tmp_path: Path) -> Iterator[Endpoint]:
    """t1 with 5 rows, reached as the protected environment `prod` of tmp_path/myshift.toml."""
    with connect(fresh_schema) as c:
        c.execute(BASE)
        c.execute(f"INSERT INTO t1 SELECT seq, seq * 10, 'n' FROM seq_1_to_{ROWS}")
    write_toml(tmp_path, fresh_schema)
    (tmp_path / "desired.sql").write_text(DESIRED)
    yield replace(fresh_schema, env_name="prod", protected=True)


def write_toml(tmp_path: Path, ep: Endpoint, top: str = "", env_extra: str = "") -> None:
    (tmp_path / "myshift.toml").write_text(
        top
        + '[watch]\non_apply = "never"\n\n'  # the plan's trust is tested here, not the watch
        + f'[env.prod]\nhost = "{ep.host}"\nport = {ep.port}\nuser = "root"\n'
        f'schema = "{ep.schema}"\nprotected = true\n' + env_extra
    )


def cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return run_cli(*args, cwd=tmp_path, env={"MYSHIFT_PLAN_KEY": "", **(env or {})})


def make_plan(tmp_path: Path, out: str = "plan.json", *extra: str, **kw: Any) -> Path:
    r = cli(tmp_path, "plan", "--to", "prod", "--desired", "desired.sql", "-o", out, *extra, **kw)
    assert r.returncode == 0, r.stderr
    return tmp_path / out


def apply(tmp_path: Path, plan: Path, *extra: str, **kw: Any) -> Any:
    return cli(tmp_path, "apply", "--plan", str(plan), "--to", "prod", "--yes", *extra, **kw)


def forged_hash(data: dict[str, Any]) -> str:
    """plan_hash recomputed from the JSON, as planfile.PlanFile.plan_hash does."""
    h = hashlib.sha256()
    h.update(data["from"].encode())
    h.update(data["to"].encode())
    for st in data["statements"]:
        h.update(b"\x00" + (b"S" if st["skipped"] else b"R") + st["sql"].encode())
        if st["keep_table"] or st["keep_columns"] or st["restore_held"]:
            parts = ["T" if st["keep_table"] else "", ",".join(st["keep_columns"])]
            parts.append(",".join(st["restore_held"]))
            h.update(b"\x01" + "|".join(parts).encode())
    if "derivation" in data:
        options = {
            "allow_drop": data["allow_drop"],
            "flavor": data["flavor"],
            "kind": data["kind"],
            "undoes_apply_id": data["undoes_apply_id"],
            **data["derivation"],
        }
        h.update(b"\x02" + json.dumps(options, sort_keys=True).encode())
    return "sha256:" + h.hexdigest()


def forge(plan: Path, edit: Callable[[dict[str, Any]], None], *, fake_rehearsal: bool) -> str:
    """Edit the plan file, recompute its hash, optionally claim a passed rehearsal."""
    data = json.loads(plan.read_text())
    edit(data)
    data["plan_hash"] = forged_hash(data)
    if fake_rehearsal:
        data["rehearsals"].append(
            {"id": "r-fake", "result": "passed", "plan_hash": data["plan_hash"],
             "from": data["from"], "sandbox": "local", "data": "full"}
        )  # fmt: skip
    text = json.dumps(data, indent=2)
    plan.write_text(text)
    # The forgery is good enough to pass the file's own consistency check.
    assert PlanFile.from_json(text).plan_hash == data["plan_hash"]
    return str(data["plan_hash"])


def rows(ep: Endpoint) -> int:
    with connect(ep) as c:
        return int(c.scalar("SELECT COUNT(*) FROM t1"))


def columns(ep: Endpoint, table: str = "t1") -> list[str]:
    with connect(ep) as c:
        return [
            str(r[0])
            for r in c.query(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                "AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
                (ep.schema, table),
            )
        ]


def applies(ep: Endpoint, kinds: tuple[str, ...] = ("apply",)) -> list[Any]:
    with History.open(ep.with_schema(""), audit_path=None) as h:
        return h.list_applies(ep.schema, kinds=list(kinds))


def assert_untouched(ep: Endpoint) -> None:
    assert rows(ep) == ROWS
    assert columns(ep) == ["id", "a", "note"]
    assert applies(ep) == []  # nothing even started


def append_delete(data: dict[str, Any]) -> None:
    evil = dict(data["statements"][0], sql="DELETE FROM t1 WHERE id > 1", preflight=[])
    data["statements"].append(evil)


# --------------------------------------------------------------------------- (a) (b) (c)


def test_forged_plan_with_appended_delete_and_fake_rehearsal_is_refused(
    prod: Endpoint, tmp_path: Path
) -> None:
    """The acceptance check: statement appended, hash recomputed, fake rehearsal."""
    plan = make_plan(tmp_path)
    forge(plan, append_delete, fake_rehearsal=True)
    r = apply(tmp_path, plan)
    # The gate reads the target's history, which has no rehearsal of this plan.
    assert r.returncode == ExitCode.REHEARSAL_FAILED, r.stdout + r.stderr
    assert "history records no passed rehearsal" in r.stderr
    assert_untouched(prod)
    # Past the gate, the statement itself is refused before anything runs.
    r = apply(tmp_path, plan, "--skip-rehearsal")
    assert r.returncode == ExitCode.UNSAFE, r.stdout + r.stderr
    assert "statement 2 `DELETE FROM t1 WHERE id > 1`, which myshift would not produce" in r.stderr
    assert "myshift plan" in r.stderr and "Traceback" not in r.stderr
    assert_untouched(prod)
    # Nor can it be rehearsed into a real history row.
    r = cli(tmp_path, "rehearse", "--plan", str(plan), "--to", "prod", "--sandbox", "local")
    assert r.returncode == ExitCode.UNSAFE, r.stdout + r.stderr
    assert applies(prod, ("rehearsal",)) == []


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE `t1`",
        # A ';' inside the statement: refused here, and the DDL session could not
        # run a second statement anyway (test_apply_session_runs_one_statement).
        "ALTER TABLE `t1` ADD COLUMN `b` int(11) DEFAULT NULL; DELETE FROM t1",
    ],
)
def test_statement_edited_in_place_is_refused(prod: Endpoint, tmp_path: Path, sql: str) -> None:
    plan = make_plan(tmp_path)
    original = json.loads(plan.read_text())["statements"][0]["sql"]
    assert original.startswith("ALTER TABLE `t1` ADD COLUMN `b`")

    def edit(data: dict[str, Any]) -> None:
        data["statements"][0]["sql"] = sql

    forge(plan, edit, fake_rehearsal=True)
    r = apply(tmp_path, plan, "--skip-rehearsal")
    assert r.returncode == ExitCode.UNSAFE, r.stdout + r.stderr
    assert f"where myshift would produce `{original}`" in r.stderr
    assert_untouched(prod)


def test_preflight_query_comes_from_the_engine_not_the_file(prod: Endpoint, tmp_path: Path) -> None:
    """plan_hash does not cover pre-flight queries: on main a DELETE put there ran."""
    (tmp_path / "desired.sql").write_text(BASE.replace("note varchar(20)", "note varchar(20), "
                                                       "UNIQUE KEY uq_a (a)"))  # fmt: skip
    plan = make_plan(tmp_path)
    data = json.loads(plan.read_text())
    [check] = data["statements"][0]["preflight"]
    assert check["sql"].startswith("SELECT COUNT(*)") and check["violations"] == 0
    check["sql"] = "DELETE FROM t1 WHERE id > 1"
    plan.write_text(json.dumps(data))  # the hash still matches: nothing to recompute
    r = apply(tmp_path, plan, "--skip-rehearsal")
    assert r.returncode == ExitCode.UNSAFE, r.stdout + r.stderr
    assert "with another preflight" in r.stderr
    assert_untouched(prod)


def _forge_snapshots(data: dict[str, Any], *, from_live: bool) -> None:
    """A consistent forgery: `to` gains a column `evil`, the statement matches it,
    the fingerprints are recomputed; unless ``from_live``, `from` is forged too."""
    desired = from_dict(Schema, data["snapshots"]["to"])
    t1 = desired.tables[0]
    evil = replace(t1.columns[-1], name="evil")
    desired = replace(desired, tables=(replace(t1, columns=(*t1.columns, evil)),))
    data["snapshots"]["to"] = to_dict(desired)
    data["to"] = fingerprint(desired)
    data["statements"][0]["sql"] = data["statements"][0]["sql"].replace(
        "DEFAULT NULL", "DEFAULT NULL, ADD COLUMN `evil` int(11) DEFAULT NULL"
    )
    if not from_live:
        current = from_dict(Schema, data["snapshots"]["from"])
        current = replace(current, tables=(replace(current.tables[0], comment="x"),))
        data["snapshots"]["from"] = to_dict(current)
        data["from"] = fingerprint(current)


def test_consistent_forgery_from_another_from_is_refused_by_drift(
    prod: Endpoint, tmp_path: Path
) -> None:
    plan = make_plan(tmp_path)
    forge(plan, lambda d: _forge_snapshots(d, from_live=False), fake_rehearsal=True)
    r = apply(tmp_path, plan, "--skip-rehearsal")
    assert r.returncode == ExitCode.DRIFT, r.stdout + r.stderr
    assert "drifted" in r.stderr
    assert_untouched(prod)


def test_consistent_forgery_needs_a_rehearsal_of_its_own_hash_or_a_key(
    prod: Endpoint, tmp_path: Path
) -> None:
    """What re-derivation cannot catch (`to` and statements rewritten together, from
    the live `from`) has another hash: the gate has no rehearsal of it, and a team
    key refuses it outright."""
    plan = make_plan(tmp_path)
    honest = PlanFile.read(plan).plan_hash
    forged = forge(plan, lambda d: _forge_snapshots(d, from_live=True), fake_rehearsal=True)
    assert forged != honest
    r = apply(tmp_path, plan)
    assert r.returncode == ExitCode.REHEARSAL_FAILED, r.stdout + r.stderr
    assert_untouched(prod)
    r = apply(tmp_path, plan, env={"MYSHIFT_PLAN_KEY": "team-secret"})
    assert r.returncode == ExitCode.UNSAFE and "is not signed" in r.stderr
    assert_untouched(prod)


# --------------------------------------------------------------------------- (d) the gate


def test_rehearsal_gate_reads_the_targets_history(
    prod: Endpoint, server2: LocalServer, tmp_path: Path
) -> None:
    plan = make_plan(tmp_path)
    data = json.loads(plan.read_text())
    data["rehearsals"].append(
        {"id": "r-fake", "result": "passed", "plan_hash": data["plan_hash"], "from": data["from"]}
    )
    plan.write_text(json.dumps(data))  # rehearsals are not hashed: no forging needed
    r = apply(tmp_path, plan)
    assert r.returncode == ExitCode.REHEARSAL_FAILED, r.stdout + r.stderr
    assert "(the plan file claims one)" in r.stderr and "myshift rehearse" in r.stderr
    assert_untouched(prod)

    sandbox = f"server:mysql://root@127.0.0.1:{server2.port}"
    r = cli(tmp_path, "rehearse", "--plan", str(plan), "--to", "prod", "--sandbox", sandbox,
            "--data", "full")  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    [rehearsal] = applies(prod, ("rehearsal",))
    assert (rehearsal.outcome, rehearsal.plan_hash) == ("ok", data["plan_hash"])
    assert rehearsal.from_fingerprint == data["from"]
    r = apply(tmp_path, plan)
    assert r.returncode == 0, r.stdout + r.stderr
    assert columns(prod) == ["id", "a", "note", "b"] and rows(prod) == ROWS
    [applied] = applies(prod)
    gate = applied.notes["rehearsal"]
    assert gate["history_id"] == rehearsal.id
    assert gate["id"] == rehearsal.notes["rehearsal_id"] == PlanFile.read(plan).rehearsals[-1]["id"]


# --------------------------------------------------------------------------- (e) signing


def test_team_key_signs_plans_and_apply_refuses_the_rest(
    prod: Endpoint, server2: LocalServer, tmp_path: Path
) -> None:
    unsigned = make_plan(tmp_path, "unsigned.json")
    assert "signature" not in json.loads(unsigned.read_text())
    (tmp_path / "team.key").write_text("0123456789abcdef0123456789abcdef\n")
    write_toml(tmp_path, prod, top='plan_key_file = "team.key"\n')

    r = apply(tmp_path, unsigned, "--skip-rehearsal")
    assert r.returncode == ExitCode.UNSAFE, r.stdout + r.stderr
    assert "unsigned.json is not signed, and a plan key is configured" in r.stderr
    assert "team.key" in r.stderr
    r = cli(tmp_path, "rehearse", "--plan", str(unsigned), "--to", "prod", "--sandbox", "local")
    assert r.returncode == ExitCode.UNSAFE and "is not signed" in r.stderr

    r = cli(tmp_path, "plan", "--to", "prod", "--desired", "desired.sql", "-o", "plan.json")
    assert r.returncode == 0 and "signed with the team key" in r.stderr, r.stderr
    plan = tmp_path / "plan.json"
    good = plan.read_text()
    signature = json.loads(good)["signature"]
    assert signature.startswith("hmac-sha256:")

    # A tampered signature, and content the hash does not cover, with the signature kept.
    bad_sig = good.replace(signature, signature[:-1] + ("0" if signature[-1] != "0" else "1"))
    data = json.loads(good)
    data["warnings"] = ["reviewed and approved by the DBA"]
    for text in (bad_sig, json.dumps(data)):
        plan.write_text(text)
        r = apply(tmp_path, plan, "--skip-rehearsal")
        assert r.returncode == ExitCode.UNSAFE, r.stdout + r.stderr
        assert "signature that does not match the plan key" in r.stderr
    # Another key (the environment variable wins over the file) refuses a good plan.
    plan.write_text(good)
    r = apply(tmp_path, plan, "--skip-rehearsal", env={"MYSHIFT_PLAN_KEY": "not-the-team-key"})
    assert r.returncode == ExitCode.UNSAFE and "MYSHIFT_PLAN_KEY" in r.stderr
    assert_untouched(prod)

    # Rehearse writes its outcome back into the signed file: it stays valid.
    sandbox = f"server:mysql://root@127.0.0.1:{server2.port}"
    r = cli(tmp_path, "rehearse", "--plan", str(plan), "--to", "prod", "--sandbox", sandbox,
            "--data", "full")  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(plan.read_text())["signature"] == signature
    r = apply(tmp_path, plan)
    assert r.returncode == 0, r.stdout + r.stderr
    assert columns(prod) == ["id", "a", "note", "b"]


def test_key_file_per_environment(prod: Endpoint, tmp_path: Path) -> None:
    (tmp_path / "prod.key").write_text("prod-only-key")
    write_toml(tmp_path, prod, env_extra='plan_key_file = "prod.key"\n')
    plan = make_plan(tmp_path)
    assert "signature" in json.loads(plan.read_text())
    (tmp_path / "prod.key").write_text("rotated")
    r = apply(tmp_path, plan, "--skip-rehearsal")
    assert r.returncode == ExitCode.UNSAFE and "environment 'prod'" in r.stderr, r.stderr
    (tmp_path / "prod.key").write_text("prod-only-key\n")  # trailing newline ignored
    r = apply(tmp_path, plan, "--skip-rehearsal")
    assert r.returncode == 0, r.stdout + r.stderr
    (tmp_path / "prod.key").unlink()
    r = apply(tmp_path, plan, "--skip-rehearsal")
    assert r.returncode == ExitCode.USAGE and "Cannot read the plan key file" in r.stderr


# --------------------------------------------------------------------------- options


def test_recorded_renames_are_derived_again_and_cannot_be_dropped(
    prod: Endpoint, tmp_path: Path
) -> None:
    (tmp_path / "desired.sql").write_text(
        "CREATE TABLE t1 (id int PRIMARY KEY, amount int, note varchar(20));"
    )
    plan = make_plan(tmp_path, "plan.json", "--rename", "t1.a=amount")
    data = json.loads(plan.read_text())
    assert data["derivation"]["rename_columns"] == [["t1", "a", "amount"]]
    assert "RENAME COLUMN `a` TO `amount`" in data["statements"][0]["sql"]
    honest = plan.read_text()

    def no_renames(d: dict[str, Any]) -> None:  # would re-derive as DROP a + ADD amount
        d["derivation"]["rename_columns"] = []

    forge(plan, no_renames, fake_rehearsal=False)
    r = apply(tmp_path, plan, "--skip-rehearsal")
    assert r.returncode == ExitCode.UNSAFE, r.stdout + r.stderr
    assert_untouched(prod)
    plan.write_text(honest)
    r = apply(tmp_path, plan, "--skip-rehearsal")
    assert r.returncode == 0, r.stdout + r.stderr
    with connect(prod) as c:
        assert c.scalar("SELECT SUM(amount) FROM t1") == 150  # renamed, values kept


def test_plan_file_without_derivation_still_applies(prod: Endpoint, tmp_path: Path) -> None:
    """Plan files made before the options were recorded: keep-data is inferred."""
    plan = make_plan(tmp_path)

    def old_format(d: dict[str, Any]) -> None:
        del d["derivation"]

    forge(plan, old_format, fake_rehearsal=False)
    assert PlanFile.read(plan).derivation is None
    r = apply(tmp_path, plan, "--skip-rehearsal")
    assert r.returncode == 0, r.stdout + r.stderr
    assert columns(prod) == ["id", "a", "note", "b"]


# --------------------------------------------------------------------------- (f) rollback


def test_rollback_plan_file_applies_and_its_data_steps_are_not_read_from_it(
    prod: Endpoint, tmp_path: Path
) -> None:
    (tmp_path / "desired.sql").write_text("CREATE TABLE t1 (id int PRIMARY KEY, note varchar(20));")
    plan = make_plan(tmp_path, "plan.json", "--allow-drop")
    assert json.loads(plan.read_text())["statements"][0]["keep_columns"] == ["a"]  # protected
    r = apply(tmp_path, plan, "--skip-rehearsal", "--allow-drop")
    assert r.returncode == 0, r.stdout + r.stderr
    assert columns(prod) == ["id", "note"]
    [applied] = applies(prod)

    r = cli(tmp_path, "rollback", "--to", "prod", "--plan-only", "-o", "back.json")
    assert r.returncode in (0, ExitCode.CHANGES_PENDING), r.stdout + r.stderr
    back = tmp_path / "back.json"
    honest = back.read_text()
    data = json.loads(honest)
    assert data["kind"] == "rollback" and data["undoes_apply_id"] == applied.id
    restore = data["statements"][-1]
    assert restore["restore_held"] and restore["sql"].startswith("UPDATE")

    # The restore step's shown SQL swapped for a DELETE: refused.
    def evil_restore(d: dict[str, Any]) -> None:
        d["statements"][-1]["sql"] = "DELETE FROM t1"

    forge(back, evil_restore, fake_rehearsal=False)
    r = apply(tmp_path, back)
    assert r.returncode == ExitCode.UNSAFE, r.stdout + r.stderr
    assert rows(prod) == ROWS and columns(prod) == ["id", "note"]

    back.write_text(honest)
    r = apply(tmp_path, back)
    assert r.returncode == 0, r.stdout + r.stderr
    assert columns(prod) == ["id", "note", "a"] or columns(prod) == ["id", "a", "note"]
    with connect(prod) as c:
        assert c.scalar("SELECT SUM(a) FROM t1") == 150  # the kept values are back
    # The same rollback plan again: the target is no longer its `from`.
    r = apply(tmp_path, back)
    assert r.returncode == ExitCode.DRIFT, r.stdout + r.stderr


def test_keep_data_hook_never_runs_a_restore_steps_sql(fresh_schema: Endpoint) -> None:
    """Restores come from the trash catalog at run time; the step's SQL is only shown."""
    from myshift.engine.split import Statement
    from myshift.workflows.execute import execute_planfile
    from myshift.workflows.plan import PlanOptions, build_planfile
    from myshift.workflows.rollbackplan import build_rollback_planfile

    with connect(fresh_schema) as c:
        c.execute(BASE)
        c.execute(f"INSERT INTO t1 SELECT seq, seq * 10, 'n' FROM seq_1_to_{ROWS}")
    pf = build_planfile(
        fresh_schema,
        [Statement("CREATE TABLE t1 (id int PRIMARY KEY, note varchar(20))", "<t>", 1)],
        PlanOptions(allow_drop=True, keep_data=True),
    )
    apply_id = execute_planfile(fresh_schema, pf, ApplyOptions(audit_path=None))
    assert apply_id is not None
    back = build_rollback_planfile(fresh_schema, apply_id, keep_data=False)
    restore = back.statements[-1]
    assert restore.restore_held
    with connect(fresh_schema) as conn:
        for st in back.statements[:-1]:  # re-add column `a` first
            conn.execute(st.sql)
        evil = replace(restore, sql="DELETE FROM t1")
        hook = apply_hook([evil], fresh_schema.schema, "x", undoes_apply_id=apply_id)
        safe = (Risk.SAFE, Algorithm.INSTANT, Lock.NONE)
        hook(conn, 1, PlannedStatement("DELETE FROM t1", "t1", "", *safe, ""))
        assert conn.scalar("SELECT COUNT(*) FROM t1") == ROWS
        assert conn.scalar("SELECT SUM(a) FROM t1") == 150
        assert held_for_apply(conn, apply_id) == []  # restored from the catalog


# --------------------------------------------------------------------------- one statement


def test_apply_session_runs_one_statement(conn: Conn, fresh_schema: Endpoint) -> None:
    """The DDL session never has CLIENT_MULTI_STATEMENTS: a ';' cannot start a second one."""
    conn.execute(BASE)
    conn.execute("INSERT INTO t1 VALUES (1, 1, 'n'), (2, 2, 'n')")
    seen: list[int] = []

    def hook(ddl: Conn, seq: int, st: PlannedStatement) -> int | None:
        seen.append(ddl.raw.client_flag & CLIENT.MULTI_STATEMENTS)
        return ddl.execute(st.sql)

    smuggled = PlannedStatement(
        "ALTER TABLE t1 ADD COLUMN z int; DELETE FROM t1",
        "t1",
        "",
        Risk.SAFE,
        Algorithm.INSTANT,
        Lock.NONE,
        "",
    )
    with pytest.raises(ApplyFailed, match="SQL syntax"):
        run_statements(fresh_schema, [smuggled], ApplyOptions(record_history=False), hook=hook)
    assert seen == [0]
    assert conn.scalar("SELECT COUNT(*) FROM t1") == 2
    assert "z" not in [r[0] for r in conn.query("SHOW COLUMNS FROM t1")]
