"""Issue 13 item 5: the rehearsal clone's progress moves with rows, and its ETA is sane
from the start (none until the rate is known, then rows left at the rows-per-second rate).

The accounting is driven with an explicit clock; the real copy reports through the same
callback on two real servers; the display is rich's bar on a terminal, lines otherwise.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import pytest

from conftest import endpoint_of
from myshift.db.connect import Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.workflows.clone import CloneProgress, DataMode, Progress, clone_schema_data
from myshift.workflows.clone_progress import Tracker

BIG = 200_000


def test_no_eta_until_the_rate_is_known_then_rows_left_at_that_rate() -> None:
    now = [100.0]
    seen: list[Progress] = []
    tr = Tracker({"big": 100_000, "small": 10}, seen.append, every=0, clock=lambda: now[0])
    assert tr.rows_total == 100_010
    now[0] = 100.5
    tr.add(500, 1000, "big")  # half a second in: nothing to go on
    now[0] = 102.0
    tr.add(5_000, 1000, "big")  # 2 s in
    assert [p.eta_seconds for p in seen] == [None, None]
    now[0] = 103.5
    tr.add(5_000, 1000, "big")  # 3.5 s, 10,500 rows: 3,000 rows/s, 89,510 left
    assert seen[-1].rows == 10_500 and seen[-1].eta_seconds == pytest.approx(89_510 / 3_000)
    assert [p.rows for p in seen] == [500, 5_500, 10_500]
    # A table overtaking its estimate raises the total; finishing sets it to the rows copied.
    tr.add(50, 10, "small")
    assert seen[-1].rows_total == 100_050
    tr.add(0, 0, "small", finished=True)
    assert (seen[-1].tables_done, seen[-1].rows_total) == (1, 100_050)
    now[0] = 110.0
    tr.add(9_500, 10, "big", finished=True)  # big had 20,000 rows, not 100,000
    last = seen[-1]
    assert (last.tables_done, last.rows, last.rows_total) == (2, 20_050, 20_050)
    assert last.eta_seconds is None  # nothing left


def test_progress_is_reported_at_most_every_interval_and_whenever_a_table_ends() -> None:
    now = [0.0]
    seen: list[Progress] = []
    tr = Tracker({"a": 1000, "b": 1000}, seen.append, every=0.2, clock=lambda: now[0])
    for i in range(10):
        now[0] = i * 0.05
        tr.add(10, 10, "a")
    assert [p.rows for p in seen] == [10, 50, 90]  # at 0, 0.2, 0.4 s
    tr.add(0, 0, "a", finished=True)
    assert seen[-1].tables_done == 1


@pytest.fixture(scope="module")
def big_source(server: LocalServer) -> Iterator[Endpoint]:
    name = f"bigsrc_{uuid.uuid4().hex[:6]}"
    with connect(endpoint_of(server)) as admin:
        admin.execute(f"CREATE DATABASE {quote_ident(name)}")
        with connect(endpoint_of(server, name)) as c:
            c.execute("CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(60) NOT NULL)")
            c.execute(f"INSERT INTO big SELECT seq, REPEAT('x', 40) FROM seq_1_to_{BIG}")
            c.execute("CREATE TABLE small (id INT PRIMARY KEY)")
            c.execute("INSERT INTO small SELECT seq FROM seq_1_to_50")
            c.execute("ANALYZE TABLE big, small")
        try:
            yield endpoint_of(server, name)
        finally:
            admin.execute(f"DROP DATABASE {quote_ident(name)}")


@pytest.mark.parametrize("chunk_rows", [20_000, 10 * BIG])  # in PK ranges; in one range
def test_a_big_table_reports_growing_row_counts_before_it_finishes(
    big_source: Endpoint, dest: Endpoint, chunk_rows: int
) -> None:
    seen: list[Progress] = []
    stats = clone_schema_data(
        big_source,
        dest,
        mode=DataMode.parse("full"),
        workers=1,
        chunk_rows=chunk_rows,
        batch_bytes=64 * 1024,
        progress=seen.append,
        progress_every=0,
    )
    assert stats.rows == BIG + 50
    # The biggest table goes first; everything reported before its end is about it.
    end = next(i for i, p in enumerate(seen) if p.tables_done == 1)
    during = seen[:end]
    assert all(p.table == "big" for p in during)
    counts = [p.rows for p in during]
    assert counts == sorted(counts) and len(set(counts)) >= 5
    assert 0 < counts[0] < BIG and counts[-1] <= BIG
    # The total is the catalogue's estimate from the first report on (InnoDB's is close).
    assert 0.5 * BIG < during[0].rows_total < 1.5 * BIG + 50
    assert during[0].eta_seconds is None
    last = seen[-1]
    assert (last.tables_done, last.tables_total) == (2, 2)
    assert last.rows == last.rows_total == BIG + 50


def test_display_is_lines_off_a_terminal_and_a_bar_on_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p1 = Progress(0, 2, 1234, 2048, None, "t", 10_000)
    p2 = Progress(1, 2, 5000, 4096, 75.0, "t", 10_000)
    assert CloneProgress().render(p2) == (
        "5,000 of ~10,000 rows (50%)  1/2 tables  4.0 KB  ETA 1m15s"
    )
    # A pipe: nothing in the first seconds, then one line per interval.
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    buf = io.StringIO()
    quiet = CloneProgress(buf)
    quiet(p1)
    assert buf.getvalue() == ""
    buf = io.StringIO()
    lines = CloneProgress(buf, first=0, every=3600)
    lines(p1)
    lines(p2)  # within the interval: not written
    lines.close()
    (line,) = buf.getvalue().splitlines()
    assert line.startswith("Copying rows: 1,234 of ~10,000 rows (12%)  0/2 tables  2.0 KB (")
    assert "\x1b[" not in line
    # A terminal (forced, as rich allows): rich's bar, the text moving with the rows.
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("NO_COLOR", raising=False)
    buf = io.StringIO()
    bar = CloneProgress(buf)
    bar(p1)
    bar(p2)
    bar.close()
    out = buf.getvalue()
    assert "━" in out and "1,234 of ~10,000 rows" in out and "ETA 1m15s" in out
