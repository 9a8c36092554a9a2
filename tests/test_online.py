"""The online path: blocking ALTERs on big tables through pt-online-schema-change.

Real servers, small tables (20k rows) with the threshold set low.  Goldens:
tests/golden/online_ptosc_<flavor>.txt hold the plan line and the command
line chosen for a type change (regenerate with MYSHIFT_UPDATE_GOLDEN=1 and
review the diff).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from myshift.config.settings import OnlineSettings
from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.engine.changes import AlterTable, ModifyColumn
from myshift.engine.introspect.catalog import table_triggers
from myshift.errors import ApplyFailed, UnsafeError
from myshift.model import MARIADB_10_11, MYSQL_8_0, Column, Flavor, Index, IndexKind, Table
from myshift.model.schema import ForeignKey, IndexPart
from myshift.workflows.apply import ApplyCommandOptions, apply
from myshift.workflows.online import OnlinePolicy, live_paths
from myshift.workflows.online.decide import (
    PT_OSC,
    REFUSED,
    SERVER,
    Size,
    decide_paths,
    refuse_blocked,
)
from myshift.workflows.online.ptosc import (
    DEFAULTS_PLACEHOLDER,
    clean_up,
    command,
    run_statement,
    shadow_names,
)
from myshift.workflows.plan import build_planfile
from myshift.workflows.planmodel import PlanOptions, planned
from myshift.workflows.report import format_human

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MYSHIFT_UPDATE_GOLDEN") == "1"
TOOL = shutil.which("pt-online-schema-change")
needs_tool = pytest.mark.skipif(TOOL is None, reason="percona-toolkit not installed")

ROWS = 20_000
LOW = OnlineSettings(min_rows=5_000, chunk_time=0.2)
PASSWORD = "Osc-S3cret-pw!"

BASE = """
CREATE TABLE customers (id int PRIMARY KEY, name varchar(40));
CREATE TABLE orders (
  id int AUTO_INCREMENT PRIMARY KEY,
  customer_id int NOT NULL,
  amount int NOT NULL,
  tag varchar(10) DEFAULT NULL,
  KEY customer_id (customer_id),
  CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
);
CREATE TRIGGER orders_tag BEFORE INSERT ON orders FOR EACH ROW SET NEW.tag = 'trig';
"""
DESIRED = BASE.replace("amount int NOT NULL", "amount bigint NOT NULL")


def _load(conn: Conn, rows: int = ROWS) -> None:
    for stmt in BASE.split(";\n"):
        if stmt.strip():
            conn.execute(stmt)
    conn.execute("INSERT INTO customers SELECT seq, concat('c', seq) FROM seq_1_to_100")
    conn.execute(
        f"INSERT INTO orders (customer_id, amount) SELECT 1 + seq % 100, seq FROM seq_1_to_{rows}"
    )
    conn.execute("ANALYZE TABLE orders")


def _checksum(conn: Conn) -> tuple[int, int]:
    n, s = conn.query(
        "SELECT COUNT(*), SUM(CRC32(CONCAT_WS(',', id, customer_id, amount, tag))) FROM orders"
    )[0]
    return int(n), int(s)


@pytest.fixture
def shop(conn: Conn, fresh_schema: Endpoint, tmp_path: Path) -> Iterator[tuple[Endpoint, Path]]:
    _load(conn)
    desired = tmp_path / "desired.sql"
    desired.write_text(DESIRED)
    yield fresh_schema, desired


def _opts(mode: str = "auto", settings: OnlineSettings = LOW, **kw: object) -> ApplyCommandOptions:
    policy = OnlinePolicy(mode=mode, settings=settings)
    return ApplyCommandOptions(
        plan=PlanOptions(online=policy),
        yes=True,
        audit_log=None,
        **kw,  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- pure


def _orders() -> Table:
    cols = (
        Column("id", "int(11)", nullable=False),
        Column("customer_id", "int(11)", nullable=False),
        Column("amount", "int(11)", nullable=False),
    )
    return Table(
        "orders",
        cols,
        indexes=(
            Index("PRIMARY", IndexKind.PRIMARY, (IndexPart("id"),)),
            Index("customer_id", IndexKind.INDEX, (IndexPart("customer_id"),)),
        ),
        foreign_keys=(ForeignKey("orders_customer_fk", ("customer_id",), "customers", ("id",)),),
    )


@pytest.mark.parametrize("flavor", [MARIADB_10_11, MYSQL_8_0], ids=["mariadb", "mysql"])
def test_chosen_command_golden(flavor: Flavor) -> None:
    """Per flavor: the plan's path line and the exact command line, with no password."""
    before = _orders()
    new_col = Column("amount", "bigint(20)", nullable=False)
    after = replace(before, columns=(*before.columns[:2], new_col))
    change = AlterTable("orders", (ModifyColumn(before.columns[2], new_col),), before, after)
    [st] = planned([change], flavor, PlanOptions())
    assert st.online_alter
    [decided] = decide_paths(
        [st], {"orders": Size(250_000, 20 << 20)}, OnlinePolicy(), "pt-online-schema-change"
    )
    assert decided.path == PT_OSC
    argv = command(
        "pt-online-schema-change",
        "shop",
        "orders",
        decided.online_alter,
        OnlineSettings(),
        DEFAULTS_PLACEHOLDER,
        replicas=False,
        children=False,
    )
    text = f"-- path: {decided.path} — {decided.path_reason}\n" + "\n".join(argv) + "\n"
    assert PASSWORD not in text and "password" not in text.lower()
    golden = GOLDEN / f"online_ptosc_{'mariadb' if flavor.is_mariadb else 'mysql'}.txt"
    if UPDATE:
        golden.write_text(text)
    assert text == golden.read_text()


def test_paths_by_size_and_mode() -> None:
    """Below the threshold a plain ALTER; never / unfit / no tool: refused."""
    before = _orders()
    new_col = Column("amount", "bigint(20)", nullable=False)
    after = replace(before, columns=(*before.columns[:2], new_col))
    change = AlterTable("orders", (ModifyColumn(before.columns[2], new_col),), before, after)
    [st] = planned([change], MARIADB_10_11, PlanOptions())
    small, big = {"orders": Size(1_000, 1 << 20)}, {"orders": Size(1_000, 100 << 20)}
    tool = "pt-online-schema-change"
    assert decide_paths([st], small, OnlinePolicy(), tool)[0].path == SERVER
    assert decide_paths([st], big, OnlinePolicy(), tool)[0].path == PT_OSC  # bytes count too
    assert decide_paths([st], small, OnlinePolicy(mode="always"), tool)[0].path == PT_OSC
    assert decide_paths([st], big, OnlinePolicy(mode="never"), tool)[0].path == REFUSED
    missing = decide_paths([st], big, OnlinePolicy(), None)[0]
    assert missing.path == REFUSED and "percona-toolkit" in missing.path_reason
    iam = decide_paths([st], big, OnlinePolicy(), tool, "an IAM token login")[0]
    assert iam.path == REFUSED and iam.path_reason.endswith("an IAM token login")
    assert decide_paths([st], small, OnlinePolicy(), tool, "an IAM token login")[0].path == SERVER
    keyless = replace(before, indexes=before.indexes[1:])
    change = AlterTable("orders", change.clauses, keyless, replace(after, indexes=keyless.indexes))
    [st] = planned([change], MARIADB_10_11, PlanOptions())
    unfit = decide_paths([st], big, OnlinePolicy(), tool)[0]
    assert unfit.path == REFUSED and "no PRIMARY KEY" in unfit.path_reason
    # The refusal names the clause, not the statement cut off at 150 characters.
    with pytest.raises(UnsafeError) as err:
        refuse_blocked([unfit], OnlinePolicy())
    assert "Statement 1 on 'orders' (alter table orders: modify column amount" in str(err.value)
    assert "`ALTER TABLE" not in str(err.value)


# --------------------------------------------------------------------------- plan


@needs_tool
def test_plan_shows_path(shop: tuple[Endpoint, Path]) -> None:
    ep, desired = shop
    pf = build_planfile(ep, str(desired), PlanOptions(online=OnlinePolicy(settings=LOW)))
    [st] = pf.runnable
    assert st.path == PT_OSC
    assert "path: pt-online-schema-change — COPY, lock SHARED on ~" in format_human(pf)
    high = OnlinePolicy(settings=OnlineSettings())
    pf = build_planfile(ep, str(desired), PlanOptions(online=high))
    assert pf.runnable[0].path == SERVER
    assert "below [online] min_rows 100,000" in format_human(pf, width=1000)


# --------------------------------------------------------------------------- apply


def _user(admin: Conn, name: str) -> None:
    admin.execute(f"CREATE OR REPLACE USER '{name}'@'%' IDENTIFIED BY '{PASSWORD}'")
    admin.execute(f"GRANT ALL ON *.* TO '{name}'@'%'")


def _ps_lines(stop: threading.Event, seen: list[str]) -> None:
    while not stop.is_set():
        out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        seen += [ln for ln in out.splitlines() if "pt-online-schema-change" in ln]
        time.sleep(0.05)


@needs_tool
def test_apply_through_ptosc(shop: tuple[Endpoint, Path], admin: Conn, tmp_path: Path) -> None:
    """Converges, triggers kept and firing, FK name kept, no password anywhere."""
    ep, desired = shop
    _user(admin, "osc_user")
    ep = replace(ep, user="osc_user", password=PASSWORD)
    before = _checksum(connect(ep))
    said: list[str] = []
    seen: list[str] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_ps_lines, args=(stop, seen))
    watcher.start()
    audit = tmp_path / "audit.jsonl"
    try:
        result = apply(ep, str(desired), replace(_opts(), audit_log=str(audit)), say=said.append)
    finally:
        stop.set()
        watcher.join()
    assert any("Successfully altered" in s for s in said)
    assert seen, "pt-online-schema-change never showed in the process list"
    assert all(PASSWORD not in line for line in seen)
    assert all(PASSWORD not in s for s in said) and PASSWORD not in result.text
    assert PASSWORD not in audit.read_text()
    with connect(ep) as c:
        assert (
            c.query(
                "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE "
                "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'orders' "
                "AND COLUMN_NAME = 'amount'"
            )[0][0]
            == "bigint"
        )
        assert _checksum(c) == before
        assert table_triggers(c, ep.schema, "orders") == ["orders_tag"]
        c.execute("INSERT INTO orders (customer_id, amount) VALUES (1, 5)")
        assert c.scalar("SELECT tag FROM orders ORDER BY id DESC LIMIT 1") == "trig"
        assert "CONSTRAINT `orders_customer_fk`" in c.query("SHOW CREATE TABLE orders")[0][1]
        assert not {t for (t,) in c.query("SHOW TABLES")} & set(shadow_names("orders"))
        from myshift.workflows.history import History

        with History.open(ep, audit_path=None) as h:
            [note] = h.get_apply(result.apply_id or 0).record.notes["online"]
    assert note["outcome"] == "ok" and note["path"] == PT_OSC
    assert note["command"][-1].endswith(f"F={DEFAULTS_PLACEHOLDER}")
    assert PASSWORD not in str(note)
    pf = build_planfile(ep, str(desired), PlanOptions(online=OnlinePolicy(settings=LOW)))
    assert not pf.runnable  # re-plan empty


@needs_tool
def test_online_never_refuses_before_anything_ran(shop: tuple[Endpoint, Path]) -> None:
    ep, desired = shop
    with pytest.raises(UnsafeError) as err:
        apply(ep, str(desired), _opts("never"))
    assert "--online never" in err.value.message and "Nothing was run" in err.value.message
    assert "--online auto" in str(err.value.fix)
    with connect(ep) as c:
        assert "`amount` int(11)" in c.query("SHOW CREATE TABLE orders")[0][1]
        assert not c.scalar(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '_myshift' "
            "AND TABLE_NAME = 'applies'"
        ) or not c.scalar(
            "SELECT COUNT(*) FROM _myshift.applies WHERE target_schema = %s", (ep.schema,)
        )


def test_tool_missing_refused(
    shop: tuple[Endpoint, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ep, desired = shop
    monkeypatch.setenv("PATH", str(tmp_path))  # no pt-online-schema-change on it
    with pytest.raises(UnsafeError) as err:
        apply(ep, str(desired), _opts())
    assert "not installed" in err.value.message and "Nothing was run" in err.value.message
    assert "percona-toolkit" in str(err.value.fix)
    with connect(ep) as c:
        assert "`amount` int(11)" in c.query("SHOW CREATE TABLE orders")[0][1]


# --------------------------------------------------------------------------- failures


def _leftovers(c: Conn, schema: str) -> list[str]:
    tables = {t for (t,) in c.query("SHOW TABLES")} & set(shadow_names("orders"))
    triggers = [t for t in table_triggers(c, schema, "orders") if t.startswith("pt_osc_")]
    return sorted(tables) + triggers


def _my_tool_pids() -> list[int]:
    """pt-online-schema-change processes this test process started (its children)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (d / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and b"pt-online-schema-change" in cmd:
            pids.append(int(d.name))
    return pids


@needs_tool
def test_killed_mid_copy_leaves_table_intact(shop: tuple[Endpoint, Path]) -> None:
    """SIGKILL the tool while it copies (held paused by its own --max-load): the apply
    fails, the table is intact and nothing of the copy is left behind."""
    ep, desired = shop
    with connect(ep) as c:
        before = _checksum(c)
    # One busy connection keeps Threads_running at 2: the tool pauses between chunks.
    hold = connect(ep)

    def busy() -> None:
        with contextlib.suppress(Exception):  # ended by KILL QUERY below
            hold.scalar("SELECT SLEEP(60)")

    holder = threading.Thread(target=busy, daemon=True)
    holder.start()
    paused = replace(LOW, max_threads_running=1, chunk_time=0.05)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            apply(ep, str(desired), _opts(settings=paused))
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    with connect(ep) as c:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            made = "_orders_new" in {t for (t,) in c.query("SHOW TABLES")}
            if made and c.scalar("SELECT COUNT(*) FROM `_orders_new`"):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the copy never started")
        assert _leftovers(c, ep.schema)  # mid-copy: shadow table and triggers exist
        for pid in _my_tool_pids():
            os.kill(pid, signal.SIGKILL)
        worker.join(30)
        with connect(replace(ep, schema="")) as k:
            k.execute(f"KILL QUERY {hold.thread_id()}")
        holder.join(10)
        hold.close()
        assert errors and isinstance(errors[0], ApplyFailed), errors
        assert "Cleaned up" in errors[0].message and "_orders_new" in errors[0].message
        assert _leftovers(c, ep.schema) == []
        assert _checksum(c) == before
        assert "`amount` int(11)" in c.query("SHOW CREATE TABLE orders")[0][1]
        assert table_triggers(c, ep.schema, "orders") == ["orders_tag"]


@needs_tool
def test_interrupt_stops_and_cleans_up(shop: tuple[Endpoint, Path]) -> None:
    """Ctrl-C (KeyboardInterrupt) while the tool runs: stopped, cleaned, re-raised."""
    ep, _ = shop
    said: list[str] = []

    def progress(percent: float, detail: str) -> None:
        if "triggers" in detail:
            raise KeyboardInterrupt

    with connect(ep) as c:
        before = _checksum(c)
        assert TOOL is not None
        with pytest.raises(KeyboardInterrupt):
            run_statement(
                c,
                ep,
                "orders",
                "MODIFY COLUMN `amount` bigint(20) NOT NULL",
                LOW,
                TOOL,
                on_progress=progress,
                say=said.append,
            )
        assert _leftovers(c, ep.schema) == []
        assert _checksum(c) == before
        assert table_triggers(c, ep.schema, "orders") == ["orders_tag"]
    assert said and "online copy of orders" in said[-1]


def test_clean_up_spares_what_existed(conn: Conn, fresh_schema: Endpoint) -> None:
    """A table named like the tool's copy that was there before is not the tool's."""
    conn.execute("CREATE TABLE orders (id int PRIMARY KEY)")
    conn.execute("CREATE TABLE _orders_new (id int PRIMARY KEY)")
    assert clean_up(conn, fresh_schema.schema, "orders", {"_orders_new"}) == []
    assert clean_up(conn, fresh_schema.schema, "orders", set()) == ["table _orders_new"]
    assert quote_ident("x") == "`x`"


def test_clean_up_recreates_a_trigger_the_tool_had_dropped(
    conn: Conn, fresh_schema: Endpoint
) -> None:
    """The tool drops each of the table's triggers before creating it on its copy
    (names are unique per schema): stopped in between, the trigger is nowhere.
    Clean-up creates it again from what the table had before the run."""
    from myshift.workflows.online.ptosc import _own_triggers

    conn.execute("CREATE TABLE orders (id int PRIMARY KEY, tag varchar(10))")
    conn.execute("CREATE TRIGGER orders_tag BEFORE INSERT ON orders FOR EACH ROW SET NEW.tag='t'")
    own = _own_triggers(conn, fresh_schema.schema, "orders")
    conn.execute("CREATE TABLE _orders_new LIKE orders")  # the tool's copy, mid-run
    conn.execute("DROP TRIGGER orders_tag")  # ... and the gap before it re-creates it
    done = clean_up(conn, fresh_schema.schema, "orders", set(), None, own)
    assert done == ["table _orders_new", "trigger orders_tag created again on orders"]
    assert table_triggers(conn, fresh_schema.schema, "orders") == ["orders_tag"]
    conn.execute("INSERT INTO orders (id) VALUES (1)")
    assert conn.scalar("SELECT tag FROM orders WHERE id = 1") == "t"


# --------------------------------------------------------------------------- rehearse


@needs_tool
def test_rehearse_takes_production_path(shop: tuple[Endpoint, Path], tmp_path: Path) -> None:
    """The sandbox holds a sample; the path is production's, so the timing is too."""
    from myshift.workflows.rehearse import RehearseOptions, rehearse

    ep, desired = shop
    policy = OnlinePolicy(settings=LOW)
    pf = build_planfile(ep, str(desired), PlanOptions(online=policy))
    plan_path = tmp_path / "plan.json"
    pf.write(plan_path)
    report = rehearse(
        plan_path,
        ep,
        RehearseOptions(data="sample:100", online=policy, audit_log=None, progress=False),
    )
    assert report.passed, report.error
    assert [s.path for s in report.statements] == [PT_OSC]
    assert report.statements[0].observed == PT_OSC


def test_live_paths_reads_no_sizes_without_blocking(conn: Conn, fresh_schema: Endpoint) -> None:
    assert live_paths(conn, fresh_schema.schema, [], OnlinePolicy()) == []


@needs_tool
def test_forged_path_and_alter_in_plan_file_are_ignored(
    shop: tuple[Endpoint, Path], tmp_path: Path
) -> None:
    """The path and the tool's --alter come from the re-derived statement, never the
    file (neither is in plan_hash): a forged --alter does not run."""
    import json

    ep, desired = shop
    policy = OnlinePolicy(settings=LOW)
    pf = build_planfile(ep, str(desired), PlanOptions(online=policy))
    data = json.loads(pf.to_json())
    data["statements"][0]["online_alter"] = "ADD COLUMN evil int"
    data["statements"][0]["path"] = "server"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data))
    said: list[str] = []
    apply(ep, None, replace(_opts(), plan_path=str(forged)), say=said.append)
    assert any("online schema change" in s for s in said)  # live sizes decided, not the file
    with connect(ep) as c:
        create = c.query("SHOW CREATE TABLE orders")[0][1]
    assert "evil" not in create and "`amount` bigint(20)" in create


def test_online_settings_in_myshift_toml(tmp_path: Path) -> None:
    from myshift.config.settings import load_settings
    from myshift.errors import UsageError

    (tmp_path / "myshift.toml").write_text("[online]\nmin_rows = 5000\nchunk_time = 1\n")
    s = load_settings(tmp_path).online
    assert (s.min_rows, s.min_bytes, s.chunk_time) == (5000, 64 << 20, 1.0)
    (tmp_path / "myshift.toml").write_text("[online]\nmin_row = 5000\n")
    with pytest.raises(UsageError, match="unknown key"):
        load_settings(tmp_path)


def test_command_for_a_referenced_table_with_replicas() -> None:
    """Children referencing the table: rebuild_constraints; replicas: lag is watched."""
    argv = command(
        "pt-online-schema-change",
        "shop",
        "customers",
        "MODIFY COLUMN `name` varchar(80)",
        OnlineSettings(),
        DEFAULTS_PLACEHOLDER,
        replicas=True,
        children=True,
    )
    assert "--alter-foreign-keys-method=rebuild_constraints" in argv
    assert "--recursion-method=none" not in argv


@needs_tool
def test_referenced_table_keeps_child_fk_names(shop: tuple[Endpoint, Path]) -> None:
    """A parent table (orders references customers) goes through rebuild_constraints;
    the child's foreign key gets its name back after the swap."""
    ep, desired = shop
    desired.write_text(BASE.replace("name varchar(40))", "name text)"))
    said: list[str] = []
    apply(ep, str(desired), _opts("always"), say=said.append)
    assert any("online schema change" in s for s in said)
    with connect(ep) as c:
        assert "`name` text" in c.query("SHOW CREATE TABLE customers")[0][1]
        assert "CONSTRAINT `orders_customer_fk`" in c.query("SHOW CREATE TABLE orders")[0][1]
        c.execute("INSERT INTO orders (customer_id, amount) VALUES (1, 5)")
    pf = build_planfile(ep, str(desired), PlanOptions(online=OnlinePolicy(settings=LOW)))
    assert not pf.runnable


def test_cli_reads_online_settings_and_flag(shop: tuple[Endpoint, Path], tmp_path: Path) -> None:
    """`[online]` in myshift.toml and `--online` reach plan and apply through the CLI."""
    from clitools import run_cli

    ep, desired = shop
    (tmp_path / "myshift.toml").write_text("[online]\nmin_rows = 5000\n")
    url = f"mysql://root@127.0.0.1:{ep.port}/{ep.schema}"
    r = run_cli("plan", "--to", url, "--desired", str(desired), "--online", "never", cwd=tmp_path)
    assert "--   path: REFUSED at apply" in r.stdout and "apply would refuse 1" in r.stderr
    r = run_cli(
        "apply", "--to", url, "--desired", str(desired), "--online", "never", "--yes",
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode != 0 and "--online never" in r.stderr and "Nothing was run" in r.stderr


@needs_tool
@pytest.mark.parametrize(
    ("sig", "by", "to_tool"),
    [
        (signal.SIGINT, "by user", False),
        (signal.SIGTERM, "by SIGTERM", False),
        (signal.SIGTERM, "by SIGTERM", True),  # systemd: every process of the unit
    ],
    ids=["SIGINT", "SIGTERM", "SIGTERM-to-all"],
)
def test_ctrl_c_on_the_cli_stops_the_tool_and_cleans_up(
    shop: tuple[Endpoint, Path], tmp_path: Path, sig: signal.Signals, by: str, to_tool: bool
) -> None:
    """SIGINT (or SIGTERM) to `myshift apply` while the tool copies (held paused by
    --max-load): exit 128 + the signal within a few seconds, nothing of the copy left,
    the table intact, history says interrupted by user (by SIGTERM).  ``to_tool``: the
    tool gets the SIGTERM at the same moment (systemd's KillMode=control-group) and
    dies at once; myshift still removes what it left."""
    ep, desired = shop
    with connect(ep) as c:
        before = _checksum(c)
    (tmp_path / "myshift.toml").write_text(
        "[online]\nmin_rows = 5000\nmax_threads_running = 1\nchunk_time = 0.05\n"
    )
    hold = connect(ep)

    def busy() -> None:
        with contextlib.suppress(Exception):  # ended by KILL QUERY in the end
            hold.scalar("SELECT SLEEP(60)")

    holder = threading.Thread(target=busy, daemon=True)
    holder.start()
    url = f"mysql://root@127.0.0.1:{ep.port}/{ep.schema}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "myshift", "apply", "--to", url, "--desired", str(desired), "--yes"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with connect(ep) as c:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                made = "_orders_new" in {t for (t,) in c.query("SHOW TABLES")}
                if made and c.scalar("SELECT COUNT(*) FROM `_orders_new`"):
                    break
                time.sleep(0.05)
            else:
                pytest.fail(f"the copy never started: {proc.communicate()}")
            t0 = time.monotonic()
            tools = _tool_pids_for(ep.schema) if to_tool else []
            assert tools or not to_tool
            proc.send_signal(sig)
            for pid in tools:
                os.kill(pid, sig)
            out, err = proc.communicate(timeout=30)
            took = time.monotonic() - t0
            print(f"{sig.name} -> exit {proc.returncode} in {took:.3f}s")
            assert proc.returncode == 128 + sig, (out, err)
            assert took < 5, took
            assert _leftovers(c, ep.schema) == []
            assert _checksum(c) == before
            assert "`amount` int(11)" in c.query("SHOW CREATE TABLE orders")[0][1]
            assert table_triggers(c, ep.schema, "orders") == ["orders_tag"]
            assert not _tool_pids_for(ep.schema)
            status = c.query(
                "SELECT outcome, error FROM `_myshift`.`applies` WHERE target_schema = %s "
                "ORDER BY id DESC LIMIT 1",
                (ep.schema,),
            )
            assert status and "interrupted" in str(status[0]), status
            assert f"interrupted {by}" in str(status[0]), status
            assert f"interrupted {by}".lower() in err.lower(), err
            assert "Cleaned up what the online copy of orders left behind" in err, err
    finally:
        if proc.poll() is None:
            proc.kill()
        with connect(replace(ep, schema="")) as k:
            k.execute(f"KILL QUERY {hold.thread_id()}")
        holder.join(10)
        hold.close()


def _tool_pids_for(schema: str) -> list[int]:
    """pt-online-schema-change processes still alive for this test's schema."""
    out = subprocess.run(["pgrep", "-f", f"D={schema},t="], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]
