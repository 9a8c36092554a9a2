"""The bench generator's SQL must load on a real server, current and drifted alike.

The file is fed to the ``mariadb`` command-line client on purpose: it is the
reference reader of mysqldump-style files (``DELIMITER ;;`` blocks included).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from myshift.db.connect import Endpoint, connect

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load_gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gen", BENCH / "gen.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_gen"] = mod  # dataclasses need the module registered
    spec.loader.exec_module(mod)
    return mod


gen = _load_gen()
CLIENT = shutil.which("mariadb") or shutil.which("mysql")


def _load_file(ep: Endpoint, sql: str) -> None:
    assert CLIENT is not None
    res = subprocess.run(
        [CLIENT, "--no-defaults", "-h", ep.host, "-P", str(ep.port), "-u", ep.user, ep.schema],
        input=sql.encode(),
        capture_output=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr.decode()


def _counts(ep: Endpoint) -> dict[str, int]:
    with connect(ep) as c:
        q = {
            "tables": "SELECT COUNT(*) FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE'",
            "views": "SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s",
            "routines": "SELECT COUNT(*) FROM information_schema.ROUTINES "
            "WHERE ROUTINE_SCHEMA = %s",
            "triggers": "SELECT COUNT(*) FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = %s",
            "fks": "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS "
            "WHERE CONSTRAINT_SCHEMA = %s",
        }
        return {k: int(c.scalar(sql, (ep.schema,))) for k, sql in q.items()}


def _expected(s: Any) -> dict[str, int]:
    """What the generated schema says the server should now hold."""
    return {
        "tables": len(s.tables),
        "views": len(s.views),
        "routines": len(s.routines),
        "triggers": len(s.triggers),
        "fks": sum(len(t.fks) for t in s.tables),
    }


@pytest.mark.skipif(CLIENT is None, reason="the mariadb client is not installed")
def test_current_schema_loads_with_every_object(fresh_schema: Endpoint) -> None:
    current = gen.generate(120, seed=7)
    _load_file(fresh_schema, gen.render(current))
    counts = _counts(fresh_schema)
    assert counts == _expected(current)
    assert counts["views"] > counts["tables"] // 40  # views over views are included
    assert counts["fks"] > 0


@pytest.mark.skipif(CLIENT is None, reason="the mariadb client is not installed")
def test_drifted_schema_loads_and_differs_by_about_ten_percent(fresh_schema: Endpoint) -> None:
    current = gen.generate(200, seed=7)
    desired, summary = gen.drift(current, seed=8)
    _load_file(fresh_schema, gen.render(desired))
    assert _counts(fresh_schema) == _expected(desired)
    assert 15 <= summary.touched_tables() <= 25
    assert summary.dropped_tables >= 1 and summary.added_tables >= 1
    assert summary.changed_views == summary.changed_procedures == summary.changed_triggers == 1
    before = {t.name for t in current.tables}
    after = {t.name for t in desired.tables}
    assert len(before - after) == summary.dropped_tables
    assert len(after - before) == summary.added_tables


@pytest.mark.skipif(CLIENT is None, reason="the mariadb client is not installed")
def test_ref_drop_workload_loads_with_fks_to_dropped_tables(
    fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """The bench's ref-drop dev side (issue 12): tables dropped while others keep
    FKs to them; its file loads with the client (checks off, as mysqldump writes),
    and myshift plans it against the current side, exit 0, drops included."""
    current = gen.generate(150, seed=7)
    desired, summary = gen.drift_dropping_referenced(current, seed=8)
    assert summary.dropped_referenced_tables >= 1
    names = {t.name for t in desired.tables}
    dangling = [fk for t in desired.tables for fk in t.fks if fk.ref_table not in names]
    assert dangling
    sql = gen.render(desired)
    dev = replace(fresh_schema, schema=fresh_schema.schema + "_dev")
    with connect(replace(fresh_schema, schema="")) as admin:
        admin.execute(f"CREATE DATABASE `{dev.schema}`")
        try:
            _load_file(dev, sql)
            assert _counts(dev) == _expected(desired)
        finally:
            admin.execute(f"DROP DATABASE `{dev.schema}`")
    with connect(fresh_schema) as c:  # the target: the current side
        c.execute("SET foreign_key_checks = 0")
        for stmt in gen.statements(current)["tables"]:
            c.execute(stmt)
    src = tmp_path / "desired.sql"
    src.write_text(sql)
    target = f"mysql://root@127.0.0.1:{fresh_schema.port}/{fresh_schema.schema}"
    for extra in (["--allow-drop"], []):
        res = subprocess.run(
            [sys.executable, "-m", "myshift", "plan", target, "--desired", str(src), *extra],
            capture_output=True,
            text=True,
            check=False,
        )
        assert res.returncode == 0, res.stderr


def test_generation_is_deterministic_and_drift_leaves_current_alone() -> None:
    a = gen.render(gen.generate(60, seed=3))
    current = gen.generate(60, seed=3)
    gen.drift(current, seed=4)
    assert gen.render(current) == a
    assert gen.render(gen.generate(60, seed=4)) != a


def _load_peers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_peers", BENCH / "peers.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_peers"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_measure_reports_the_childs_own_peak_rss_and_kills_on_timeout() -> None:
    peers = _load_peers()
    ballast = bytearray(200 * 1024 * 1024)  # the bench process is big; the child is not
    ballast[::4096] = b"x" * len(ballast[::4096])
    small = peers.measure([sys.executable, "-c", "pass"], 60)
    big = peers.measure(
        [sys.executable, "-c", "b = bytearray(120 * 2**20); b[::4096] = b'x' * len(b[::4096])"], 60
    )
    assert small.returncode == 0 and big.returncode == 0
    assert small.peak_rss_mb is not None and big.peak_rss_mb is not None
    if os.access(peers.GNU_TIME, os.X_OK):  # the wait4() fallback inherits our high-water mark
        assert small.peak_rss_mb < 100  # not the parent's 200 MB
    assert big.peak_rss_mb >= 120
    failed = peers.measure([sys.executable, "-c", "raise SystemExit('boom: bad option')"], 60)
    assert failed.returncode == 1 and failed.stderr_error == "boom: bad option"
    hung = peers.measure(["sleep", "30"], 0.5)
    assert hung.timed_out and hung.returncode is None
    del ballast
