"""Partition-list changes plan the targeted statement, not a re-partition (real server).

Adding next month's RANGE partition, splitting the MAXVALUE catch-all,
dropping an old partition, changing a HASH partition count: each goes
through ``apply`` and a re-plan as a user would, and the untouched partitions
keep their InnoDB table ids (no copy).
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from myshift.config.settings import OnlinePolicy, OnlineSettings
from myshift.db.connect import Conn, Endpoint, connect
from myshift.engine.changes import (
    AddPartitions,
    AlterTable,
    ChangePartitioning,
    DropPartitions,
    ReorganizePartitions,
    ResizeHashPartitions,
    partition_clause,
)
from myshift.engine.online import osc_alter
from myshift.model import Flavor
from myshift.model.schema import Partition, Partitioning, Table
from myshift.workflows.apply import ApplyCommandOptions, apply
from myshift.workflows.online import PT_OSC
from myshift.workflows.plan import PlanOptions, build_planfile
from myshift.workflows.planmodel import held_lines
from myshift.workflows.rollback import RollbackOptions, rollback
from myshift.workflows.rollbackchoice import RollbackRefused

MONTHS = [202501 + i for i in range(12)]


def ranges(months: list[int], maxvalue: bool = False) -> str:
    parts = [f"PARTITION p{m} VALUES LESS THAN ({m + 1})" for m in months]
    parts += ["PARTITION pmax VALUES LESS THAN MAXVALUE"] * maxvalue
    return "PARTITION BY RANGE (month) (" + ", ".join(parts) + ")"


def events(partitioning: str) -> str:
    return (
        "CREATE TABLE events (id int NOT NULL AUTO_INCREMENT, month int NOT NULL, "
        f"payload varchar(64), PRIMARY KEY (id, month)) {partitioning};"
    )


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def write(tmp: Path, sql: str) -> str:
    p = tmp / "desired.sql"
    p.write_text(sql)
    return str(p)


def seed(conn: Conn, partitioning: str, rows: int) -> None:
    conn.execute(events(partitioning).rstrip(";"))
    conn.execute(
        f"INSERT INTO events (month, payload) SELECT {MONTHS[0]} + seq % 12, md5(seq) "
        f"FROM seq_1_to_{rows}"
    )


def part_ids(conn: Conn, schema: str) -> dict[str, int]:
    return {
        str(n).split("#")[-1]: int(i)
        for n, i in conn.query(
            "SELECT NAME, TABLE_ID FROM information_schema.INNODB_SYS_TABLES WHERE NAME LIKE %s",
            (f"{schema}/events#P#%",),
        )
    }


def partitions(conn: Conn) -> list[str]:
    return [
        str(r[0])
        for r in conn.query(
            "SELECT PARTITION_NAME FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = "
            "DATABASE() AND TABLE_NAME = 'events' ORDER BY PARTITION_ORDINAL_POSITION"
        )
    ]


class Writer:
    """One autocommit writer inserting every 5 ms; its worst latency."""

    def __init__(self, ep: Endpoint) -> None:
        self.ep, self.stop, self.lat = ep, threading.Event(), [0.0]
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        with connect(self.ep, lock_wait_timeout=60) as w:
            while not self.stop.is_set():
                t0 = time.perf_counter()
                w.execute("INSERT INTO events (month, payload) VALUES (%s, 'w')", (MONTHS[5],))
                self.lat.append(time.perf_counter() - t0)
                time.sleep(0.005)

    def __enter__(self) -> Writer:
        self.thread.start()
        time.sleep(0.3)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def replan(ep: Endpoint, desired: str, allow_drop: bool = False) -> list[str]:
    return [s.sql for s in build_planfile(ep, desired, PlanOptions(allow_drop=allow_drop)).runnable]


# --------------------------------------------------------------------------- pure diff


def _p(method: str, *parts: Partition) -> Partitioning:
    return Partitioning(method, "`month`", parts)


P0, P1, P2 = (Partition(f"p{i}", f"{(i + 1) * 10}") for i in range(3))
PMAX = Partition("pmax", "MAXVALUE")


def test_the_targeted_clause_for_each_kind_of_partition_list_change() -> None:
    fl, t = Flavor.from_string("mariadb:10.11.19"), Table("t", ())
    add = partition_clause(_p("RANGE", P0), _p("RANGE", P0, P1))
    assert isinstance(add, AddPartitions)
    assert (
        add.render(fl, t) == "ADD PARTITION (PARTITION `p1` VALUES LESS THAN (20) ENGINE = InnoDB)"
    )
    split = partition_clause(_p("RANGE", P0, PMAX), _p("RANGE", P0, P1, PMAX))
    assert isinstance(split, ReorganizePartitions)
    assert split.render(fl, t).startswith("REORGANIZE PARTITION `pmax` INTO (PARTITION `p1`")
    # A range inserted in the middle splits the next one.
    mid = partition_clause(_p("RANGE", P0, P2), _p("RANGE", P0, P1, P2))
    assert isinstance(mid, ReorganizePartitions) and [p.name for p in mid.old] == ["p2"]
    drop = partition_clause(_p("RANGE", P0, P1, P2), _p("RANGE", P1, P2))
    assert isinstance(drop, DropPartitions) and drop.render(fl, t) == "DROP PARTITION `p0`"
    assert drop.assess(fl).risk.value == "destructive"
    # Extending the last range, changing the method: a re-partition.
    longer = Partition("p1", "25")
    assert partition_clause(_p("RANGE", P0, P1), _p("RANGE", P0, longer)) is None
    assert partition_clause(_p("RANGE", P0), _p("LIST", Partition("p0", "1"))) is None
    # LIST: appended is ADD, inserted in the middle re-partitions.
    a, b, c = (Partition(n, v) for n, v in (("a", "1"), ("b", "2"), ("c", "3")))
    assert isinstance(partition_clause(_p("LIST", a), _p("LIST", a, b)), AddPartitions)
    assert partition_clause(_p("LIST", a, c), _p("LIST", a, b, c)) is None
    h4 = Partitioning("HASH", "`id`", tuple(Partition(f"p{i}") for i in range(4)))
    h6 = Partitioning("HASH", "`id`", tuple(Partition(f"p{i}") for i in range(6)))
    grow, shrink = partition_clause(h4, h6), partition_clause(h6, h4)
    assert isinstance(grow, ResizeHashPartitions) and isinstance(shrink, ResizeHashPartitions)
    assert grow.render(fl, t) == "ADD PARTITION PARTITIONS 2"
    assert shrink.render(fl, t) == "COALESCE PARTITION 2"
    assert not isinstance(grow.reverse(), ChangePartitioning)


# --------------------------------------------------------------------------- live


def test_add_partition_under_a_writer_copies_nothing_and_rolls_back(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    seed(conn, ranges(MONTHS), 200_000)
    ids = part_ids(conn, fresh_schema.schema)
    desired = write(tmp_path, events(ranges([*MONTHS, 202601])))
    pf = build_planfile(fresh_schema, desired, PlanOptions())
    (st,) = pf.runnable
    assert st.sql.startswith("ALTER TABLE `events` ADD PARTITION (PARTITION `p202601`")
    with Writer(fresh_schema) as w:
        t0 = time.perf_counter()
        res = apply(fresh_schema, desired, ApplyCommandOptions(yes=True))
        took = time.perf_counter() - t0
    assert res.apply_id is not None
    after = part_ids(conn, fresh_schema.schema)
    assert all(after[k] == v for k, v in ids.items())  # no partition rebuilt
    assert max(w.lat) < 0.5, (max(w.lat), took)
    assert replan(fresh_schema, desired) == []
    # Rollback drops the added partition, but not while rows written since are in it.
    conn.execute("INSERT INTO events (month) VALUES (202601)")
    held = r"deleting the 1 row\(s\) it holds now \(rows of events in partition p202601"
    with pytest.raises(RollbackRefused, match=held):
        rollback(fresh_schema, None, RollbackOptions(yes=True, keep_data=False))
    conn.execute("DELETE FROM events WHERE month = 202601")
    rollback(fresh_schema, None, RollbackOptions(yes=True, keep_data=False))
    assert partitions(conn) == [f"p{m}" for m in MONTHS]
    assert conn.scalar("SELECT COUNT(*) FROM events") == 200_000 + len(w.lat) - 1


def test_splitting_maxvalue_reorganizes_only_that_partition(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    # 120,000 rows: over [online] min_rows, where a statement blocking writes on the
    # whole table is refused; this one rewrites only pmax (two rows).
    seed(conn, ranges(MONTHS, maxvalue=True), 120_000)
    conn.execute("INSERT INTO events (month) VALUES (202601), (202705)")
    conn.execute("ANALYZE TABLE events")
    ids = part_ids(conn, fresh_schema.schema)
    desired = write(tmp_path, events(ranges([*MONTHS, 202601], maxvalue=True)))
    (st,) = build_planfile(fresh_schema, desired, PlanOptions()).runnable
    assert "REORGANIZE PARTITION `pmax` INTO (PARTITION `p202601`" in st.sql
    assert st.path == "server" and "~2 rows" in st.path_reason, st.path_reason
    with Writer(fresh_schema) as w:
        apply(fresh_schema, desired, ApplyCommandOptions(yes=True))
    assert max(w.lat) < 0.5
    after = part_ids(conn, fresh_schema.schema)
    assert all(after[k] == v for k, v in ids.items() if k != "pmax")
    assert conn.scalar("SELECT COUNT(*) FROM events PARTITION (p202601)") == 1
    total = 120_002 + len(w.lat) - 1
    assert conn.scalar("SELECT COUNT(*) FROM events") == total
    assert replan(fresh_schema, desired) == []
    # Rollback merges p202601 back into pmax: its row stays (no DROP PARTITION).
    rollback(fresh_schema, None, RollbackOptions(yes=True, keep_data=False))
    assert partitions(conn)[-1] == "pmax" and "p202601" not in partitions(conn)
    assert conn.scalar("SELECT COUNT(*) FROM events") == total


def test_drop_partition_needs_allow_drop_and_says_what_it_deletes(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    seed(conn, ranges(MONTHS, maxvalue=True), 12_000)
    desired = write(tmp_path, events(ranges(MONTHS[1:], maxvalue=True)))
    pf = build_planfile(fresh_schema, desired, PlanOptions())
    assert pf.runnable == []
    (held,) = [s for s in pf.statements if s.skipped]
    assert held.sql == "ALTER TABLE `events` DROP PARTITION `p202501`"
    assert "drops partition p202501 of events" in held.reason
    (count,) = held.preflight
    assert count.deletes and count.violations == 1000  # 12,000 rows over 12 months
    held_text = " ".join(held_lines(pf.statements, width=200))
    assert "it deletes 1,000 row(s) now: rows of events in partition p202501" in held_text
    apply(fresh_schema, desired, ApplyCommandOptions(yes=True))
    assert conn.scalar("SELECT COUNT(*) FROM events") == 12_000  # nothing dropped
    # With the flag: the count is shown, and is no reason to refuse.
    (st,) = build_planfile(fresh_schema, desired, PlanOptions(allow_drop=True)).runnable
    assert [(p.deletes, p.violations) for p in st.preflight] == [(True, 1000)]
    apply(fresh_schema, desired, ApplyCommandOptions(plan=PlanOptions(allow_drop=True), yes=True))
    assert conn.scalar("SELECT COUNT(*) FROM events") == 11_000
    assert replan(fresh_schema, desired, allow_drop=True) == []
    # Rollback re-creates the range (split off p202502); the deleted rows stay deleted.
    rollback(fresh_schema, None, RollbackOptions(yes=True, keep_data=False))
    assert partitions(conn)[0] == "p202501"
    assert conn.scalar("SELECT COUNT(*) FROM events") == 11_000


def test_hash_partition_count_change_and_back(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    seed(conn, "PARTITION BY HASH (id) PARTITIONS 4", 20_000)
    desired = write(tmp_path, events("PARTITION BY HASH (id) PARTITIONS 6"))
    (st,) = build_planfile(fresh_schema, desired, PlanOptions()).runnable
    assert st.sql == "ALTER TABLE `events` ADD PARTITION PARTITIONS 2"
    apply(fresh_schema, desired, ApplyCommandOptions(yes=True))
    assert len(partitions(conn)) == 6 and replan(fresh_schema, desired) == []
    rollback(fresh_schema, None, RollbackOptions(yes=True, keep_data=False))
    assert len(partitions(conn)) == 4
    assert conn.scalar("SELECT COUNT(*) FROM events") == 20_000


@pytest.mark.skipif(shutil.which("pt-online-schema-change") is None, reason="no pt-osc")
def test_a_blocking_repartition_of_a_big_table_goes_online(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """HASH 4 -> 6 blocks writes for the whole copy on MariaDB: above [online] min_rows
    it runs through pt-online-schema-change (it was refused: "changes partitioning");
    a DROP PARTITION never does (the copy would keep the rows it must delete)."""
    seed(conn, "PARTITION BY HASH (id) PARTITIONS 4", 20_000)
    before = conn.query(
        "SELECT COUNT(*), SUM(CRC32(CONCAT_WS(',', id, month, payload))) FROM events"
    )
    desired = write(tmp_path, events("PARTITION BY HASH (id) PARTITIONS 6"))
    online = PlanOptions(online=OnlinePolicy(settings=OnlineSettings(min_rows=5_000)))
    (st,) = build_planfile(fresh_schema, desired, online).runnable
    assert st.path == PT_OSC, (st.path, st.path_reason)
    said: list[str] = []
    apply(fresh_schema, desired, ApplyCommandOptions(plan=online, yes=True), say=said.append)
    assert any("Successfully altered" in s for s in said), said
    assert len(partitions(conn)) == 6 and replan(fresh_schema, desired) == []
    assert (
        conn.query("SELECT COUNT(*), SUM(CRC32(CONCAT_WS(',', id, month, payload))) FROM events")
        == before
    )
    # DROP PARTITION is never handed to the tool, whatever its lock: a copy into the
    # shadow table would keep the dropped partition's rows in the next range.
    drop = partition_clause(_p("RANGE", P0, P1, P2), _p("RANGE", P1, P2))
    assert isinstance(drop, DropPartitions)
    t = Table("events", ())
    change = AlterTable("events", (drop,), t, t)
    assert osc_alter(change, Flavor.from_string("mariadb:10.11.19"))[1].startswith(
        "it drops partitions"
    )


def test_a_partition_clause_with_other_changes_runs_as_its_own_statement(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    # Neither grammar takes ADD/DROP PARTITION beside other clauses (1064).
    seed(conn, ranges(MONTHS), 1200)
    with_note = events(ranges([*MONTHS, 202601])).replace(
        "payload varchar(64),", "payload varchar(64), note int,"
    )
    desired = write(tmp_path, with_note)
    sqls = replan(fresh_schema, desired)
    assert len(sqls) == 2 and sqls[1].startswith("ALTER TABLE `events` ADD PARTITION")
    apply(fresh_schema, desired, ApplyCommandOptions(yes=True))
    assert replan(fresh_schema, desired) == []
    # Dropping a partition and a column change together, without --allow-drop: the
    # column change runs, the DROP PARTITION is held back.
    narrower = write(
        tmp_path,
        with_note.replace("note int,", "note bigint,").replace(
            "PARTITION p202501 VALUES LESS THAN (202502), ", ""
        ),
    )
    pf = build_planfile(fresh_schema, narrower, PlanOptions())
    assert [s.sql for s in pf.runnable] == [
        "ALTER TABLE `events` MODIFY COLUMN `note` bigint(20) DEFAULT NULL"
    ]
    assert [s.sql for s in pf.statements if s.skipped] == [
        "ALTER TABLE `events` DROP PARTITION `p202501`"
    ]
    apply(fresh_schema, narrower, ApplyCommandOptions(yes=True))
    assert conn.scalar("SELECT COUNT(*) FROM events") == 1200
    assert replan(fresh_schema, narrower) == []
