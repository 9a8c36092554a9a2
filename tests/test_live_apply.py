"""Issue 11's acceptance: a routine release applied under load takes nothing offline.

The scenario of ``bench/live.py`` (``make bench ONLY=live`` runs it at 1M rows
next to plain ALTER and pt-online-schema-change) at a small size: ``orders``
with an FK to ``customers``, a tagging trigger and a procedure; the release
changes a column type (COPY), widens the index that serves the FK, changes the
trigger and procedure bodies and adds a column; ``myshift apply`` runs with
default flags while 4 threads write, read and call the procedure.

At 60,000 rows the exit code, re-plan, error and trigger-tag assertions bite
(on 23c1374^, which dropped the trigger and procedure at the start of the plan
and re-created them at the end: 79 calls failed with a missing routine and 4
rows went untagged).  The 2 s stall bound is the issue's figure for 1M rows:
at this size even a blocking COPY stalls writers only ~0.3 s, so the stall is
really judged by the bench (or by this test with ``MYSHIFT_LIVE_ROWS``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from myshift.db.connect import Endpoint, connect, quote_ident
from myshift.db.server import LocalServer

# MYSHIFT_LIVE_ROWS=1000000 runs the test at the bench's size.
ROWS = int(os.environ.get("MYSHIFT_LIVE_ROWS", "60000"))

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load_live() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_live", BENCH / "live.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_live"] = mod  # dataclasses need the module registered
    spec.loader.exec_module(mod)
    return mod


live = _load_live()


@pytest.mark.skipif(
    shutil.which("pt-online-schema-change") is None, reason="percona-toolkit not installed"
)
def test_release_under_load_with_default_flags(server: LocalServer, tmp_path: Path) -> None:
    ep = Endpoint(server.host, server.port, "root", "", schema="live_accept")
    # The default threshold (100,000 rows) scaled to the test's table, so the
    # COPY statement takes the online path here as it does at 1M rows.
    (tmp_path / "myshift.toml").write_text(f"[online]\nmin_rows = {ROWS // 3}\n")
    try:
        r = live.run_method(ep, "myshift", ROWS, timeout=300, cwd=tmp_path)
    finally:
        with connect(ep, schema="") as c:
            c.execute(f"DROP DATABASE IF EXISTS {quote_ident(ep.schema)}")
    summary = (
        f"exit {r.exit_code}, wall {r.wall_s:.2f} s, max stall {r.max_stall_s:.2f} s, "
        f"p99 {r.p99_ms:.1f} ms, errors {r.errors_text()} in {r.writes} writes, "
        f"untagged {r.untagged} of {r.inserts_during}\n{r.output}"
    )
    print(summary)
    assert r.writes > 100, summary  # the load really ran
    assert r.exit_code == 0, summary
    assert r.replan_empty, summary
    assert r.errors.get("missing routine", 0) == 0, summary
    others = {k: n for k, n in r.errors.items() if k != "deadlock"}
    assert others == {}, summary
    assert r.deadlocks <= 0.005 * r.writes, summary
    assert r.untagged == 0, summary
    assert r.max_stall_s <= 2.0, summary
    # How: the copy went through the online tool, and the FK was never dropped
    # (the widened index still serves it: one ALTER, the key kept).
    assert "pt-online-schema-change" in r.output, summary
    assert "Successfully altered" in r.output, summary
