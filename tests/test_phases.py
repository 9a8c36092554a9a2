"""Long steps say what they are doing (issue 13, item 5): `Phases` and `plan` on a terminal."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import time
from pathlib import Path

import pytest

from clitools import MYSHIFT
from myshift.db.connect import Endpoint, connected
from myshift.workflows import phases as phases_mod
from myshift.workflows.execute import execute_planfile
from myshift.workflows.phases import Phases, minutes
from myshift.workflows.plan import PlanOptions, build_planfile
from myshift.workflows.runner import ApplyOptions
from myshift.workflows.statementprogress import PlainDisplay


def test_on_a_terminal_each_phase_is_said_at_once() -> None:
    said: list[str] = []
    with Phases(said.append, immediate=True) as phases:
        phases.start("Reading...")
        assert said == ["Reading..."]
        phases.start("Verifying...")
    assert said == ["Reading...", "Verifying..."]


def test_elsewhere_only_a_phase_longer_than_the_delay_is_said() -> None:
    said: list[str] = []
    with Phases(said.append, immediate=False, delay=0.3) as phases:
        phases.start("quick")
        phases.start("slow")  # ends "quick" long before its 0.3 s
        time.sleep(1.5)
        phases.start("quick again")
    time.sleep(0.6)  # "quick again" ended at __exit__: never said
    assert said == ["slow"]


def test_a_stamped_step_says_its_time_and_when_a_slow_one_is_done() -> None:
    """The sandboxes' form: "[ m:ss] text..." and "done in" after a step of 1 s or more."""
    said: list[str] = []
    phases = Phases(said.append, immediate=True, stamp=minutes)
    with phases.step("Quick"):
        pass
    with phases.step("Slow"):
        time.sleep(1.1)
    phases.note("Finished.")
    assert said == [
        "[ 0:00] Quick...",
        "[ 0:00] Slow...",
        "[ 0:01]   done in 1s",
        "[ 0:01] Finished.",
    ]


def test_plan_on_a_terminal_says_what_it_reads_and_verifies(
    fresh_schema: Endpoint, tmp_path: Path
) -> None:
    desired = tmp_path / "desired.sql"
    desired.write_text("CREATE TABLE t (id int PRIMARY KEY, v int);\n", encoding="utf-8")
    url = f"mysql://root@{fresh_schema.host}:{fresh_schema.port}/{fresh_schema.schema}"
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [*MYSHIFT, "plan", "--to", url, "--desired", str(desired)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=slave,
            stdin=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if k != "MYSQL_PWD"},
            text=True,
            timeout=120,
            check=False,
        )
        os.close(slave)
        err = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the writer side is closed
                break
            if not chunk:
                break
            err += chunk
    finally:
        os.close(master)
    text = err.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "CREATE TABLE" in proc.stdout
    reading = text.find("Reading the target schema")
    verifying = text.find("Verifying the plan (1 statement(s)) in a workspace")
    assert 0 <= reading < verifying, text


def test_apply_says_what_it_checks_when_a_check_is_slow(
    fresh_schema: Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Apply (and so rehearse and rollback) announce the drift check and the final
    check once they run longer than the delay (here 0 s, so always)."""
    desired = tmp_path / "desired.sql"
    desired.write_text("CREATE TABLE t (id int PRIMARY KEY, v int);\n", encoding="utf-8")
    pf = build_planfile(fresh_schema, str(desired), PlanOptions())
    said: list[str] = []
    execute_planfile(fresh_schema, pf, ApplyOptions(audit_path=None), say=said.append)
    assert not any(s.startswith("Checking") for s in said), said  # 2 s: a small plan is quiet
    monkeypatch.setattr(phases_mod, "DELAY", 0.0)
    desired.write_text("CREATE TABLE t (id int PRIMARY KEY, v int, w int);\n", encoding="utf-8")
    pf = build_planfile(fresh_schema, str(desired), PlanOptions())
    said.clear()
    execute_planfile(fresh_schema, pf, ApplyOptions(audit_path=None), say=said.append)
    checks = [s for s in said if s.startswith("Checking")]
    assert checks == [
        "Checking the target against the plan (drift, pre-flight checks)...",
        "Checking the result is what the plan reaches...",
    ], said


def test_a_kept_column_backup_reports_its_rows_on_the_display(
    fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """Dropping a kept column first backs it up (minutes on a big table): the
    statement's display hears how far the backup is."""
    with connected(fresh_schema) as c:
        c.execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
        c.execute("INSERT INTO t VALUES (1, 10), (2, 20), (3, 30)")
    desired = tmp_path / "desired.sql"
    desired.write_text("CREATE TABLE t (id int PRIMARY KEY);\n", encoding="utf-8")
    pf = build_planfile(fresh_schema, str(desired), PlanOptions(allow_drop=True, keep_data=True))
    assert any(s.keep_columns for s in pf.runnable)
    out = io.StringIO()
    display = PlainDisplay(out, first=0.0, every=0.0)
    execute_planfile(fresh_schema, pf, ApplyOptions(audit_path=None), display=display)
    assert "backup of t: 3 of ~3 rows" in out.getvalue(), out.getvalue()
