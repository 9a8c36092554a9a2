"""Keep-data keeps a dropped partition's rows, and rollback brings them back (real server).

``DROP PARTITION`` with keep-data swaps the partition's rows into the holding
schema first (``EXCHANGE PARTITION``, no row copied); the rollback re-creates
the partition and swaps them back.  Each test goes through plan, apply, a
re-plan, ``myshift trash`` and rollback, as a user would.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from myshift.db.connect import Conn, DriverError, Endpoint, connect
from myshift.engine.changes import AlterTable, DropPartitions, partition_clause
from myshift.engine.keeppolicy import keep_marks, kept_partitions
from myshift.engine.risk import Algorithm, Lock, Risk
from myshift.errors import MyshiftError
from myshift.model.schema import Partition, Partitioning
from myshift.workflows.apply import ApplyCommandOptions, apply
from myshift.workflows.emergency import EmergencyFacts, format_emergency
from myshift.workflows.history import History
from myshift.workflows.keepdata import (
    DEFAULT_HOLDING,
    exchange_sql,
    refuse_unknown_row_formats,
)
from myshift.workflows.keepdata.rowformat import (
    RowFormatMismatch,
    RowFormatUnknown,
    held_row_formats,
    stored_row_formats,
)
from myshift.workflows.plan import PlanCommandOptions, PlanOptions, build_planfile, plan
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


def row_formats(conn: Conn, like: str) -> dict[str, str]:
    rows = conn.query(
        "SELECT NAME, ROW_FORMAT FROM information_schema.INNODB_SYS_TABLES WHERE NAME LIKE %s",
        (like,),
    )
    return {str(n).split("/")[-1]: str(f) for n, f in rows}


@pytest.fixture
def default_row_format(conn: Conn) -> Iterator[Callable[[str], object]]:
    """Set the server's innodb_default_row_format (GLOBAL only: SET SESSION is
    1229 on MariaDB 10.11); the throwaway server gets its own back afterwards."""
    was = conn.scalar("SELECT @@GLOBAL.innodb_default_row_format")
    yield lambda fmt: conn.execute("SET GLOBAL innodb_default_row_format = %s", (fmt,))
    conn.execute("SET GLOBAL innodb_default_row_format = %s", (was,))


def test_partitions_made_under_another_default_row_format_are_kept_and_come_back(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path, default_row_format: Callable[[str], object]
) -> None:
    # The table was made when the default was DYNAMIC; then it became COMPACT and
    # p202502 was reorganized (COMPACT: partitions follow the default of their
    # day).  A held table made now would be COMPACT, and EXCHANGE of the DYNAMIC
    # p202501 refused it (1731 "Non matching attribute 'ROW_FORMAT'") after the
    # plan's earlier statements ran.  Each held table is made in its partition's
    # own format instead, and the rollback (which re-creates the partition under
    # today's default) rebuilds the held table to match before swapping back.
    schema = fresh_schema.schema
    default_row_format("dynamic")
    seed(conn, ranges(MONTHS), 1200)
    conn.execute("CREATE TABLE other (id int PRIMARY KEY, v int)")
    default_row_format("compact")
    conn.execute(
        "ALTER TABLE events REORGANIZE PARTITION p202502 INTO "
        "(PARTITION p202502 VALUES LESS THAN (202503))"
    )
    assert row_formats(conn, f"{schema}/events#P#p20250_") == {
        **{f"events#P#p20250{i}": "Dynamic" for i in range(1, 10)},
        "events#P#p202502": "Compact",
    }
    total = sums(conn, "events")
    for part, default, other in (("p202501", "compact", ""), ("p202502", "dynamic", "v")):
        default_row_format(default)
        kept = sums(conn, f"events PARTITION ({part})")
        fmt = row_formats(conn, f"{schema}/events#P#{part}")[f"events#P#{part}"]
        # An index on another table first: before, it ran and then the swap failed.
        desired = write(
            tmp_path, f"CREATE TABLE other (id int PRIMARY KEY, v int, KEY {other}x (v));\n"
            + events(ranges([m for m in MONTHS if f"p{m}" != part]))
        )  # fmt: skip
        pf = build_planfile(fresh_schema, desired, PlanOptions(allow_drop=True, keep_data=True))
        assert sorted(s.keep_partitions for s in pf.runnable) == [(), (part,)]
        apply(fresh_schema, desired, KEEP)
        assert part not in partitions(conn)
        (held,) = [e for e in list_trash(conn, DEFAULT_HOLDING) if e.original_schema == schema]
        assert (held.partition, held.rows) == (part, 100)
        assert row_formats(conn, f"{DEFAULT_HOLDING}/{held.held_name}") == {held.held_name: fmt}
        assert conn.query(f"SHOW INDEX FROM other WHERE Key_name = '{other}x'")
        # Rolled back under the same default: the partition comes back in it, and
        # the held table is rebuilt (ROW_FORMAT=DEFAULT) to match before the swap.
        said: list[str] = []
        rollback(fresh_schema, None, RollbackOptions(yes=True, keep_data=True), say=said.append)
        rebuilt = f"{fmt} -> {'Compact' if fmt == 'Dynamic' else 'Dynamic'}"
        assert any(f"the held table rebuilt {rebuilt}" in line for line in said), said
        assert partitions(conn) == [f"p{m}" for m in MONTHS]
        assert sums(conn, f"events PARTITION ({part})") == kept
        assert sums(conn, "events") == total
        assert entries_of(conn, schema) == []
        assert not conn.query(f"SHOW INDEX FROM other WHERE Key_name = '{other}x'")
        assert row_formats(conn, f"{schema}/events#P#{part}")[f"events#P#{part}"] != fmt
    # Each rollback re-made the dropped partition and the next one (REORGANIZE of
    # the next into both) in the default of that moment.
    fmts = row_formats(conn, f"{schema}/events#P#p20250_")
    assert [fmts[f"events#P#p20250{i}"] for i in range(1, 5)] == [
        "Compact", "Dynamic", "Dynamic", "Dynamic"
    ]  # fmt: skip


NUMS = (
    "CREATE TABLE nums (id int NOT NULL, m int NOT NULL, PRIMARY KEY (id, m)) "
    "PARTITION BY RANGE (m) ({})"
)


def test_a_swap_no_held_table_can_match_is_refused_before_anything_runs(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path, default_row_format: Callable[[str], object]
) -> None:
    # No VARCHAR/BLOB column: naming ROW_FORMAT=DYNAMIC on the held table changes
    # its options ("packed"), and EXCHANGE says 1736.  Refused at plan time, and
    # for a plan made before the default changed, at the start of apply, with
    # nothing run (not even the index on `other` planned before it).
    default_row_format("dynamic")
    conn.execute(NUMS.format(
        "PARTITION p1 VALUES LESS THAN (10), PARTITION p2 VALUES LESS THAN (20)"))  # fmt: skip
    conn.execute("INSERT INTO nums VALUES (1, 1), (2, 11)")
    conn.execute("CREATE TABLE other (id int PRIMARY KEY, v int)")
    desired = write(
        tmp_path, "CREATE TABLE other (id int PRIMARY KEY, v int, KEY v (v));\n"
        + NUMS.format("PARTITION p2 VALUES LESS THAN (20)") + ";"
    )  # fmt: skip
    keep = PlanOptions(allow_drop=True, keep_data=True)
    plan(fresh_schema, desired, PlanCommandOptions(keep, output="p.json"))
    default_row_format("compact")
    with pytest.raises(RowFormatMismatch) as exc:
        build_planfile(fresh_schema, desired, keep)
    said = " ".join(str(exc.value).split())
    for part in ("partition p1 of", ".`nums`", "stored ROW_FORMAT=DYNAMIC", "(1736)",
                 "would be ROW_FORMAT=COMPACT", "nothing was run", "ALTER TABLE `nums` FORCE",
                 "--no-keep-data"):  # fmt: skip
        assert part in said
    with pytest.raises(RowFormatMismatch):
        apply(fresh_schema, None, replace(KEEP, plan_path="p.json", skip_rehearsal=True))
    assert not conn.query("SHOW INDEX FROM other WHERE Key_name = 'v'")
    assert [str(r[0]) for r in conn.query(
        "SELECT PARTITION_NAME FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = 'nums' ORDER BY 1")] == ["p1", "p2"]  # fmt: skip
    assert entries_of(conn, fresh_schema.schema) == []
    # The fix it names: rebuilt, every partition is COMPACT, and the swap works.
    conn.execute("ALTER TABLE nums FORCE")
    assert held_row_formats(conn, fresh_schema.schema, "nums", ["p1"]) == {"p1": ""}
    apply(fresh_schema, desired, KEEP)
    assert entries_of(conn, fresh_schema.schema) == [
        f"partition {fresh_schema.schema}.nums partition p1 1"
    ]


def test_an_unreadable_row_format_refuses_the_kept_drop_before_anything_runs(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    # Without PROCESS (information_schema.INNODB_SYS_TABLES needs it) the format
    # is not known: refused with the fix.  Plan (whose grants lack PROCESS) lets
    # it through; apply, which needs PROCESS anyway, reads it again first.
    seed(conn, ranges(MONTHS), 120)
    user = f"np_{fresh_schema.schema}"[:32]
    conn.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'")
    try:
        conn.execute(f"GRANT SELECT ON `{fresh_schema.schema}`.* TO '{user}'@'%'")
        with connect(replace(fresh_schema, user=user, password="pw")) as limited:
            with pytest.raises(RowFormatUnknown, match="needs PROCESS") as exc:
                stored_row_formats(limited, fresh_schema.schema, "events", ["p202501"])
            assert exc.value.privilege and "--no-keep-data" in str(exc.value.fix)
            refuse_unknown_row_formats(
                limited, fresh_schema.schema, [("events", ["p202501"])], planning=True
            )
            with pytest.raises(RowFormatUnknown):
                refuse_unknown_row_formats(
                    limited, fresh_schema.schema, [("events", ["p202501"])], planning=False
                )
    finally:
        conn.execute(f"DROP USER '{user}'@'%'")
    # A partition InnoDB does not know of: refused, also at plan time.
    with pytest.raises(RowFormatUnknown, match="no entry in InnoDB"):
        stored_row_formats(conn, fresh_schema.schema, "events", ["p209901"])
    assert stored_row_formats(conn, fresh_schema.schema, "events", ["P202501"]) == {
        "P202501": "DYNAMIC"
    }


def test_names_are_found_in_innodb_dictionary_as_the_server_spells_them(conn: Conn) -> None:
    conn.execute(
        "CREATE TABLE `Év-1` (id int NOT NULL, m int NOT NULL, PRIMARY KEY (id, m)) "
        "PARTITION BY RANGE (m) (PARTITION `p-ü` VALUES LESS THAN (10), "
        "PARTITION `P_Jan` VALUES LESS THAN (20))"
    )
    schema = str(conn.scalar("SELECT DATABASE()"))
    fmts = stored_row_formats(conn, schema, "Év-1", ["p-ü", "p_jan"])
    assert fmts == {"p-ü": "DYNAMIC", "p_jan": "DYNAMIC"}
    conn.execute("CREATE TABLE plain (id int PRIMARY KEY) ENGINE=MyISAM "
                 "PARTITION BY HASH (id) PARTITIONS 2")  # fmt: skip
    assert stored_row_formats(conn, schema, "plain", ["p0"]) == {"p0": ""}


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
