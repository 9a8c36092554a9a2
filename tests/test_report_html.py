"""Issue 15's HTML report, rendered in a real headless browser (Debian's chromium).

A real apply, watched under a bounded lookup load: the plan adds a column and
drops the index the load's query needs, so the watch flags the regression
after it.  ``myshift report --plan`` finds the apply by the plan's hash and
writes one self-contained page; chromium renders it (``--dump-dom``: the
charts' SVG elements are there after render) and takes a screenshot, kept
under ``.artifacts/`` (ignored by git) and printed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clitools import run_cli
from myshift.db.connect import Endpoint, connect
from myshift.db.server import LocalServer, free_port

ROWS = 20_000
SCHEMA = "shop"
BASE = (
    "CREATE TABLE orders (id INT PRIMARY KEY AUTO_INCREMENT, customer INT NOT NULL, "
    "total DECIMAL(10,2) NOT NULL, KEY by_customer (customer))"
)
# The release: a new column, and the index the load's lookups need is gone.
DESIRED = (
    "CREATE TABLE orders (id INT PRIMARY KEY AUTO_INCREMENT, customer INT NOT NULL, "
    "total DECIMAL(10,2) NOT NULL, note VARCHAR(40) NULL);\n"
)
ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def ps_server() -> Iterator[LocalServer]:
    srv = LocalServer.start(extra_args=("--performance-schema=ON",))
    try:
        yield srv
    finally:
        srv.stop()


def _load(ep: Endpoint, stop: threading.Event, counter: list[int]) -> None:
    end = time.monotonic() + 50  # bounded by time and count whatever happens
    with connect(ep) as c:
        while not stop.is_set() and time.monotonic() < end and counter[0] < 2_000_000:
            c.query("SELECT total FROM orders WHERE customer = %s", (counter[0] % ROWS,))
            counter[0] += 1


def _browser(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    chromium = _chromium()
    assert chromium is not None
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp / 'chromium-profile'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_report_renders_in_headless_chromium(ps_server: LocalServer, tmp_path: Path) -> None:
    if _chromium() is None:
        pytest.skip("chromium is not installed (`make browser-deps` installs it with apt)")
    ep = Endpoint(ps_server.host, ps_server.port, "root", "", schema=SCHEMA)
    url = f"mysql://root@127.0.0.1:{ps_server.port}/{SCHEMA}"
    with connect(ep, schema="") as c:
        c.execute(f"CREATE DATABASE {SCHEMA}")
        c.execute(f"USE {SCHEMA}")
        c.execute(BASE)
        c.execute(f"INSERT INTO orders (customer, total) SELECT seq, seq / 7 FROM seq_1_to_{ROWS}")
    (tmp_path / "desired.sql").write_text(DESIRED)
    (tmp_path / "myshift.toml").write_text('[watch]\nbaseline = "2s"\ninterval = "0.5s"\n')

    r = run_cli("plan", "--to", url, "--desired", "desired.sql", "-o", "plan.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run_cli("rehearse", "--plan", "plan.json", "--to", url, "--sandbox", "local",
                "--data", "none", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    stop, counter = threading.Event(), [0]
    load = threading.Thread(target=_load, args=(ep, stop, counter), daemon=True)
    load.start()
    try:
        time.sleep(0.5)
        r = run_cli(
            *("apply", "--plan", "plan.json", "--to", url, "--yes", "--watch"),
            *("--watch-after", "3s", "--metrics-port", str(free_port())),
            cwd=tmp_path,
        )
    finally:
        stop.set()
        load.join(timeout=10)
    assert r.returncode == 0, r.stderr
    found = re.search(r"history id (\d+)", r.stdout)
    assert found, r.stdout
    apply_id = found.group(1)  # the rehearsal has an id of its own in history, before it
    assert counter[0] > 500, counter
    assert "REGRESSION" in r.stderr, r.stderr  # the dropped index, seen by the watch
    assert "Metrics on http://127.0.0.1:" in r.stderr, r.stderr

    out = tmp_path / "report.html"
    r = run_cli("report", "--to", url, "--plan", "plan.json", "-o", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    page = out.read_text()
    # Self-contained: no script, no stylesheet or image from anywhere else.
    assert "<script" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "an external resource"
    assert "by_customer" in page  # the plan, with the index it drops
    assert "queries using it may scan the table" in page  # ... and its risk
    assert "myshift rollback" in page and "Regression at" in page
    rehearsal = page.split("<h2>The rehearsal</h2>", 1)[1].split("</section>", 1)[0]
    assert re.search(r"<p>Rehearsal \S+ <span class=\"pill ok\">ok</span>: passed", rehearsal)
    assert "<code>local</code>" in rehearsal and "<code>none</code>" in rehearsal, rehearsal
    runbook = page.split("<h2>Rollback runbook</h2>", 1)[1]
    assert f"myshift rollback {apply_id} --to {url}" in runbook
    assert '<pre class="runbook">' in runbook
    assert "## Rollback" in runbook and "reversed by DDL" in runbook

    shot = tmp_path / "report.png"
    r = _browser(f"--screenshot={shot}", "--window-size=1200,2000", out.as_uri(), tmp=tmp_path)
    assert shot.is_file() and shot.stat().st_size > 20_000, r.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = _browser("--dump-dom", out.as_uri(), tmp=tmp_path)
    dom = r.stdout
    assert r.returncode == 0 and "<main>" in dom, r.stderr[-2000:]
    charts = re.findall(r'<svg class="chart" data-figure="([a-z_]+)"', dom)
    assert {"threads_running", "queries_per_s", "no_index_per_s", "scans_per_s"} <= set(charts)
    assert dom.count('<polyline class="series"') >= len(charts)
    assert '<svg class="timeline"' in dom and 'class="bar bar-ok"' in dom
    for phase in ("baseline", "during", "after"):  # before, during and after on every chart
        assert dom.count(f'class="phase phase-{phase}"') == len(charts), phase
    assert '<circle class="flag"' in dom  # the regression, marked on its chart

    # From history alone (no plan file): the statements as recorded, the rollback.
    bare = tmp_path / "bare.html"
    r = run_cli("report", "--to", url, "--apply", apply_id, "-o", str(bare), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = bare.read_text()
    assert "DROP INDEX `by_customer`" in text and f"myshift rollback {apply_id} --to {url}" in text
    assert "Give --plan for the full runbook" in text

    ARTIFACTS.mkdir(exist_ok=True)
    kept = ARTIFACTS / "report.png"
    shutil.copyfile(shot, kept)
    shutil.copyfile(out, ARTIFACTS / "report.html")
    print(f"screenshot: {kept} (and {shot})")
