"""Keep-data keeps a dropped partition's rows, and rollback brings them back (real server).

``DROP PARTITION`` with keep-data swaps the partition's rows into the holding
schema first (``EXCHANGE PARTITION``, no row copied); the rollback re-creates
the partition and swaps them back.  Each test goes through plan, apply, a
re-plan, ``myshift trash`` and rollback, as a user would.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from myshift.db.connect import Conn, DriverError, Endpoint, connect
from myshift.engine.changes import AlterTable, DropPartitions, partition_clause
from myshift.engine.keeppolicy import keep_marks, kept_partitions
from myshift.engine.risk import Algorithm, Lock, Risk
from myshift.errors import MyshiftError, UnsafeError
from myshift.model.schema import Partition, Partitioning
from myshift.workflows.apply import ApplyCommandOptions, apply
from myshift.workflows.emergency import EmergencyFacts, format_emergency
from myshift.workflows.history import History
from myshift.workflows.keepdata import DEFAULT_HOLDING, exchange_sql
from myshift.workflows.plan import PlanOptions, build_planfile
from myshift.workflows.planmodel import PlannedStatement
from myshift.workflows.report import format_human
from myshift.workflows.rollback import RollbackOptions, rollback
from myshift.workflows.rollbackchoice import RollbackRefused
from myshift.workflows.trash import format_trash, list_trash
from test_partition_maintenance import (
    MONTHS,
    Writer,
    events,
    partitions,
    ranges,
    replan,
    seed,
    write,
)

DROP = PlanOptions(allow_drop=True)
KEEP = ApplyCommandOptions(plan=DROP, keep_data=True, yes=True)

# Order-independent: count and XOR of a per-row CRC of every column.
SUM = "SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('#', id, month, payload))) FROM "


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def sums(conn: Conn, source: str) -> tuple[int, int]:
    row = conn.query(SUM + source)[0]
    return int(row[0]), int(row[1] or 0)


def entries_of(conn: Conn, schema: str) -> list[str]:
    return [
        f"{e.kind} {e.original} {e.rows}"
        for e in list_trash(conn, DEFAULT_HOLDING)
        if e.original_schema == schema
    ]


def test_dropped_partition_rows_are_kept_and_rollback_brings_them_back(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    schema = fresh_schema.schema
    seed(conn, ranges(MONTHS, maxvalue=True), 120_000)
    first = sums(conn, "events PARTITION (p202501)")
    others = sums(conn, "events WHERE month > 202501")
    assert first[0] == 10_000
    desired = write(tmp_path, events(ranges(MONTHS[1:], maxvalue=True)))
    pf = build_planfile(fresh_schema, desired, PlanOptions(allow_drop=True, keep_data=True))
    (st,) = pf.runnable
    assert st.sql == "ALTER TABLE `events` DROP PARTITION `p202501`"
    assert st.keep_partitions == ("p202501",) and "moved to the holding schema" in st.description
    shown = " ".join(format_human(pf, color=False, width=200).split())
    assert "10,000 row(s), moved to the holding schema (keep-data)" in shown
    by_hand = format_emergency(pf, EmergencyFacts(target="prod", server=pf.target))
    assert "(c) Rows of partition p202501 of `events`" in by_hand
    assert "EXCHANGE PARTITION `p202501` WITH TABLE `_myshift_trash`.`a<ID>__events__p202501`" in (
        by_hand
    )
    with Writer(fresh_schema) as w:
        t0 = time.perf_counter()
        res = apply(fresh_schema, desired, KEEP)
        took = time.perf_counter() - t0
    print(f"apply {took:.2f}s, writer worst {max(w.lat) * 1000:.0f} ms over {len(w.lat)} inserts")
    assert max(w.lat) < 0.5
    written = len(w.lat) - 1
    assert partitions(conn)[0] == "p202502"
    assert conn.scalar("SELECT COUNT(*) FROM events") == 110_000 + written
    # The rows are in the trash, as they were; listed as the partition they were.
    (held,) = [e for e in list_trash(conn, DEFAULT_HOLDING) if e.original_schema == schema]
    assert (held.kind, held.partition, held.rows) == ("partition", "p202501", 10_000)
    assert f"{schema}.events partition p202501" in format_trash([held])
    assert sums(conn, f"`{DEFAULT_HOLDING}`.`{held.held_name}`") == first
    # History: the statement's rows and what the apply kept.
    with History.open(fresh_schema, schema="_myshift", audit_path=None) as h:
        detail = h.get_apply(res.apply_id or 0)
    assert detail.statements[0].rows_affected == 10_000
    assert detail.record.notes["keep_data"]["objects"] == ["events partition p202501"]
    assert replan(fresh_schema, desired, allow_drop=True) == []
    # Meanwhile: a row in the dropped range (now in p202502) and more elsewhere.
    conn.execute("INSERT INTO events (month, payload) VALUES (202501, 'since')")
    conn.execute("INSERT INTO events (month, payload) VALUES (202507, 'elsewhere')")
    elsewhere = sums(conn, "events WHERE month > 202501")
    with Writer(fresh_schema) as w2:
        rollback(fresh_schema, None, RollbackOptions(yes=True, keep_data=True))
    print(f"rollback writer worst {max(w2.lat) * 1000:.0f} ms")
    assert partitions(conn)[:2] == ["p202501", "p202502"]
    # Every kept row is back in its partition, beside the one written since.
    assert sums(conn, "events PARTITION (p202501) WHERE payload <> 'since'") == first
    assert conn.scalar("SELECT COUNT(*) FROM events PARTITION (p202501)") == 10_001
    # Rows elsewhere, including those written during the apply and the rollback, intact.
    after = sums(conn, "events WHERE month > 202501")
    assert after[0] == elsewhere[0] + len(w2.lat) - 1
    assert conn.scalar("SELECT COUNT(*) FROM events WHERE payload NOT IN ('w', 'since')") == (
        120_001
    )
    assert sums(conn, "events WHERE month > 202501 AND payload NOT IN ('w', 'elsewhere')") == (
        others
    )
    assert entries_of(conn, schema) == []  # swapped back: nothing left in the trash
    original = write(tmp_path, events(ranges(MONTHS, maxvalue=True)))
    assert replan(fresh_schema, original) == []


class RangeWriter(Writer):
    """Inserts into the very range being dropped, every 2 ms."""

    def run(self) -> None:
        with connect(self.ep, lock_wait_timeout=60) as w:
            while not self.stop.is_set():
                t0 = time.perf_counter()
                w.execute("INSERT INTO events (month, payload) VALUES (202501, 'race')")
                self.lat.append(time.perf_counter() - t0)
                time.sleep(0.002)


def test_rows_written_into_the_dropped_range_during_the_apply_are_not_lost(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    # Before the swap they go to the trash with the partition; after the drop the
    # next partition takes them (RANGE); between the two, LOCK TABLES holds them off.
    seed(conn, ranges(MONTHS), 12_000)
    desired = write(tmp_path, events(ranges(MONTHS[1:])))
    with RangeWriter(fresh_schema) as w:
        apply(fresh_schema, desired, KEEP)
        time.sleep(0.1)  # and some more after the drop
    inserted = len(w.lat) - 1
    (held,) = [
        e for e in list_trash(conn, DEFAULT_HOLDING) if e.original_schema == fresh_schema.schema
    ]
    in_table = conn.scalar("SELECT COUNT(*) FROM events WHERE month = 202501")
    assert in_table > 0 and held.rows > 1000  # the writer wrote on both sides
    assert held.rows + in_table == 1000 + inserted
    assert max(w.lat) < 0.5


def test_a_transaction_on_the_table_stops_the_apply_fast_with_nothing_moved(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    # An application transaction holding the table: apply waits at most about
    # lock_wait_timeout for it, then stops before swapping or dropping anything.
    seed(conn, ranges(MONTHS), 1200)
    before = sums(conn, "events")
    desired = write(tmp_path, events(ranges(MONTHS[1:])))
    with connect(fresh_schema) as app:
        app.execute("BEGIN")
        app.query("SELECT COUNT(*) FROM events")
        t0 = time.perf_counter()
        with pytest.raises(MyshiftError, match="events") as exc:
            apply(fresh_schema, desired, replace(KEEP, lock_wait_timeout=1))
        took = time.perf_counter() - t0
        app.execute("ROLLBACK")
    print(f"stopped after {took:.1f}s: {exc.value}")
    assert took < 10
    assert partitions(conn)[0] == "p202501" and sums(conn, "events") == before
    assert entries_of(conn, fresh_schema.schema) == []


def test_a_partition_the_server_cannot_swap_is_refused_and_nothing_is_dropped(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    # The server's default row format changed since the table was made: the held
    # table gets the new one, and EXCHANGE refuses (1731 "Non matching attribute
    # 'ROW_FORMAT' between partition and table").
    seed(conn, ranges(MONTHS), 1200)
    before = sums(conn, "events")
    desired = write(tmp_path, events(ranges(MONTHS[1:])))
    default = conn.scalar("SELECT @@GLOBAL.innodb_default_row_format")
    conn.execute("SET GLOBAL innodb_default_row_format = 'compact'")
    try:
        with pytest.raises(UnsafeError, match="Cannot keep the rows of partition p202501") as exc:
            apply(fresh_schema, desired, KEEP)
    finally:
        conn.execute("SET GLOBAL innodb_default_row_format = %s", (default,))
    assert "ROW_FORMAT" in str(exc.value) and "nothing was dropped" in str(exc.value)
    assert partitions(conn)[0] == "p202501" and sums(conn, "events") == before
    assert entries_of(conn, fresh_schema.schema) == []  # the empty held table is gone
    # Without keep-data it is the plain DROP PARTITION, its rows counted as deleted.
    apply(fresh_schema, desired, ApplyCommandOptions(plan=DROP, keep_data=False, yes=True))
    assert conn.scalar("SELECT COUNT(*) FROM events") == 1100


def test_partitioned_tables_cannot_have_foreign_keys(conn: Conn) -> None:
    # Why no foreign-key check guards the swap: neither server lets a
    # partitioned table have one, in or out (MariaDB 1506 / 150; MySQL manual,
    # "Partitioning Limitations Relating to Storage Engines").
    conn.execute("CREATE TABLE parent (id int PRIMARY KEY)")
    with pytest.raises(DriverError, match="1506"):
        conn.execute(
            "CREATE TABLE child (id int PRIMARY KEY, pid int, FOREIGN KEY (pid) "
            "REFERENCES parent (id)) PARTITION BY HASH (id) PARTITIONS 2"
        )
    conn.execute("CREATE TABLE pp (id int PRIMARY KEY) PARTITION BY HASH (id) PARTITIONS 2")
    with pytest.raises(DriverError, match="150"):
        conn.execute(
            "CREATE TABLE c2 (id int PRIMARY KEY, pid int, FOREIGN KEY (pid) REFERENCES pp (id))"
        )


def test_rolling_back_an_added_empty_partition_with_keep_data(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    # Rows written since into the added partition: refused even with keep-data
    # (they would vanish into the trash, and a rollback cannot be rolled back).
    seed(conn, ranges(MONTHS), 1200)
    desired = write(tmp_path, events(ranges([*MONTHS, 202601])))
    apply(fresh_schema, desired, ApplyCommandOptions(yes=True))
    conn.execute("INSERT INTO events (month, payload) VALUES (202601, 'a'), (202601, 'b')")
    with pytest.raises(RollbackRefused, match="deleting the 2 row"):
        rollback(fresh_schema, None, RollbackOptions(yes=True, keep_data=True))
    conn.execute("DELETE FROM events WHERE month = 202601")
    # Empty: dropped, and nothing left in the trash.
    rollback(fresh_schema, None, RollbackOptions(yes=True, keep_data=True))
    assert "p202601" not in partitions(conn)
    assert conn.scalar("SELECT COUNT(*) FROM events") == 1200
    assert entries_of(conn, fresh_schema.schema) == []


# --------------------------------------------------------------------------- pure


def test_keep_marks_sql_and_plan_hash_of_a_kept_partition() -> None:
    p = [Partition(f"p{i}", f"{(i + 1) * 10}") for i in range(3)]
    before, after = (Partitioning("RANGE", "`m`", tuple(x)) for x in (p, p[1:]))
    drop = partition_clause(before, after)
    assert isinstance(drop, DropPartitions)
    assert kept_partitions(AlterTable("t", (drop,))) == ("p0",)
    assert keep_marks(AlterTable("t", (drop,))) == (False, ())
    plain = PlannedStatement("ALTER TABLE `t` DROP PARTITION `p0`", "t", "", Risk.DESTRUCTIVE,
                             Algorithm.INPLACE, Lock.NONE, "")  # fmt: skip
    # A plan without kept partitions hashes as before; one with them, differently.
    assert plain.keep_marker == b"" and not plain.keeps
    kept = replace(plain, keep_partitions=("p0",))
    assert kept.keeps and kept.keep_marker == b"\x01|||Pp0"
    assert exchange_sql("s", "t", "p0", "h", "a1__t__p0") == (
        "ALTER TABLE `s`.`t` EXCHANGE PARTITION `p0` WITH TABLE `h`.`a1__t__p0`"
    )
    assert exchange_sql("s", "t", "p0", "h", "x", skip_validation=True).endswith(
        " WITHOUT VALIDATION"
    )


def test_a_list_partition_dropped_from_the_middle_comes_back(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    # LIST keeps its definition order: the rollback re-partitions (no targeted
    # clause re-creates a middle LIST partition), then swaps the rows back.
    def regions(*names: str) -> str:
        parts = ", ".join(f"PARTITION r{n} VALUES IN ({n})" for n in names)
        return (
            "CREATE TABLE events (id int NOT NULL AUTO_INCREMENT, month int NOT NULL, "
            f"payload varchar(64), PRIMARY KEY (id, month)) PARTITION BY LIST (month) ({parts});"
        )

    conn.execute(regions("1", "2", "3").rstrip(";"))
    conn.execute(
        "INSERT INTO events (month, payload) SELECT 1 + seq % 3, md5(seq) FROM seq_1_to_3000"
    )
    middle, total = sums(conn, "events PARTITION (r2)"), sums(conn, "events")
    desired = write(tmp_path, regions("1", "3"))
    apply(fresh_schema, desired, KEEP)
    assert partitions(conn) == ["r1", "r3"] and conn.scalar("SELECT COUNT(*) FROM events") == 2000
    assert entries_of(conn, fresh_schema.schema) == [
        f"partition {fresh_schema.schema}.events partition r2 1000"
    ]
    rollback(fresh_schema, None, RollbackOptions(yes=True, keep_data=True))
    assert partitions(conn) == ["r1", "r2", "r3"]
    assert sums(conn, "events PARTITION (r2)") == middle and sums(conn, "events") == total
    assert entries_of(conn, fresh_schema.schema) == []
