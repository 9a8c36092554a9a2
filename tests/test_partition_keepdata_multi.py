"""Keep-data dropping two or more partitions: one lock, swap and drop per partition.

On MariaDB 10.11.19 ``EXCHANGE PARTITION`` under ``LOCK TABLES t WRITE, h1
WRITE, h2 WRITE`` waits on its own session's lock until
innodb_lock_wait_timeout (1205), holding the application's table all along.
So keep-data plans one ``DROP PARTITION`` per kept partition, each run under
its own ``LOCK TABLES t WRITE, h WRITE`` (real server, plan + apply + re-plan
+ rollback, under a writer).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from myshift.db.connect import Conn, Endpoint, connect
from myshift.engine.changes import DropPartitions, partition_clause
from myshift.errors import MyshiftError
from myshift.model.schema import Partition, Partitioning
from myshift.workflows.apply import ApplyCommandOptions, apply
from myshift.workflows.history import History
from myshift.workflows.keepdata import DEFAULT_HOLDING
from myshift.workflows.keepdata.partitions import keep_partitions
from myshift.workflows.plan import PlanCommandOptions, PlanOptions, build_planfile, plan
from myshift.workflows.rollback import RollbackOptions, rollback
from myshift.workflows.trash import list_trash
from test_partition_keepdata import KEEP, sums
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


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _rng(*bounds: str) -> Partitioning:
    return Partitioning(
        "RANGE",
        "`m`",
        partitions=tuple(Partition(f"p{i}", b) for i, b in enumerate(bounds)),
        listed=True,
    )


def test_dropping_the_first_and_the_last_range_partition_is_drop_partition() -> None:
    before = _rng("10", "20", "30", "40")
    after = Partitioning("RANGE", "`m`", partitions=before.partitions[1:3], listed=True)
    clause = partition_clause(before, after)
    assert isinstance(clause, DropPartitions)
    assert [p.name for p in clause.dropped] == ["p0", "p3"]
    # Merging (a rollback's diff) cannot merge p0 and drop p3 in one clause.
    assert partition_clause(before, after, merge=True) is None


@pytest.mark.parametrize("dropped", [(1, 2), (0, 3, 11)])
def test_several_kept_partitions_each_drop_alone_without_stalling_writers(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path, dropped: tuple[int, ...]
) -> None:
    schema = fresh_schema.schema
    seed(conn, ranges(MONTHS, maxvalue=True), 60_000)
    names = [f"p{MONTHS[i]}" for i in dropped]
    before = {n: sums(conn, f"events PARTITION ({n})") for n in names}
    total = sums(conn, "events")
    assert all(s[0] == 5_000 for s in before.values())
    kept = [m for i, m in enumerate(MONTHS) if i not in dropped]
    desired = write(tmp_path, events(ranges(kept, maxvalue=True)))
    pf = build_planfile(fresh_schema, desired, PlanOptions(allow_drop=True, keep_data=True))
    assert [s.sql for s in pf.runnable] == [
        f"ALTER TABLE `events` DROP PARTITION `{n}`" for n in names
    ]
    assert [s.keep_partitions for s in pf.runnable] == [(n,) for n in names]
    # Without keep-data the plan is unchanged: one statement.
    plain = build_planfile(fresh_schema, desired, PlanOptions(allow_drop=True))
    assert [s.sql for s in plain.runnable] == [
        "ALTER TABLE `events` DROP PARTITION " + ", ".join(f"`{n}`" for n in names)
    ]
    with Writer(fresh_schema) as w:
        t0 = time.perf_counter()
        res = apply(fresh_schema, desired, KEEP)
        took = time.perf_counter() - t0
    worst = max(w.lat)
    print(f"{len(names)} kept: apply {took:.2f}s, writer worst {worst * 1000:.0f} ms")
    assert worst < 1.0
    assert partitions(conn) == [f"p{m}" for m in kept] + ["pmax"]
    held = {
        e.partition: e for e in list_trash(conn, DEFAULT_HOLDING) if e.original_schema == schema
    }
    assert sorted(n or "" for n in held) == sorted(names)
    for n in names:
        assert held[n].rows == 5_000
        assert sums(conn, f"`{DEFAULT_HOLDING}`.`{held[n].held_name}`") == before[n]
    with History.open(fresh_schema, schema="_myshift", audit_path=None) as h:
        detail = h.get_apply(res.apply_id or 0)
    assert [s.rows_affected for s in detail.statements] == [5_000] * len(names)
    assert replan(fresh_schema, desired, allow_drop=True) == []
    with Writer(fresh_schema) as w2:
        rollback(fresh_schema, None, RollbackOptions(yes=True, keep_data=True))
    print(f"rollback writer worst {max(w2.lat) * 1000:.0f} ms")
    assert partitions(conn) == [f"p{m}" for m in MONTHS] + ["pmax"]
    for n in names:
        assert sums(conn, f"events PARTITION ({n})") == before[n]
    assert sums(conn, "events WHERE payload <> 'w'") == total
    assert [e for e in list_trash(conn, DEFAULT_HOLDING) if e.original_schema == schema] == []


def test_a_statement_keeping_two_partitions_is_refused_before_any_lock(
    conn: Conn, fresh_schema: Endpoint
) -> None:
    """Should a statement still keep two partitions (plans split them), it is refused
    before anything is locked: under one lock the swap would wait on its own session
    until lock_wait_timeout with the table locked, then fail (1205)."""
    seed(conn, ranges(MONTHS, maxvalue=True), 24_000)
    total = sums(conn, "events")
    names = [f"p{MONTHS[1]}", f"p{MONTHS[2]}"]
    with connect(fresh_schema, lock_wait_timeout=2) as ddl, Writer(fresh_schema) as w:
        t0 = time.perf_counter()
        with pytest.raises(MyshiftError, match="keep-data swaps them out one per statement"):
            keep_partitions(
                ddl,
                fresh_schema.schema,
                "events",
                names,
                "t1",
                DEFAULT_HOLDING,
                lambda: ddl.execute("ALTER TABLE events DROP PARTITION " + ", ".join(names)),
            )
        took = time.perf_counter() - t0
        assert ddl.scalar("SELECT @@SESSION.innodb_lock_wait_timeout") == 50
    print(
        f"2 kept in one statement: refused in {took:.3f}s, writer worst {max(w.lat) * 1000:.0f} ms"
    )
    assert took < 1 and max(w.lat) < 1
    assert partitions(conn) == [f"p{m}" for m in MONTHS] + ["pmax"]
    assert sums(conn, "events WHERE payload <> 'w'") == total
    assert [
        e for e in list_trash(conn, DEFAULT_HOLDING) if e.original_schema == fresh_schema.schema
    ] == []


def test_a_reviewed_plan_file_dropping_two_kept_partitions_applies_as_shown(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    seed(conn, ranges(MONTHS), 12_000)
    desired = write(tmp_path, events(ranges(MONTHS[2:])))
    keep = PlanOptions(allow_drop=True, keep_data=True)
    plan(fresh_schema, desired, PlanCommandOptions(keep, output="p.json"))
    res = apply(
        fresh_schema, None, ApplyCommandOptions(plan_path="p.json", keep_data=True, yes=True)
    )
    assert res.apply_id
    assert partitions(conn)[0] == f"p{MONTHS[2]}"
    held = [
        e for e in list_trash(conn, DEFAULT_HOLDING) if e.original_schema == fresh_schema.schema
    ]
    assert sorted((e.partition or "", e.rows) for e in held) == [
        (f"p{MONTHS[0]}", 1_000),
        (f"p{MONTHS[1]}", 1_000),
    ]


def test_a_keep_data_rollback_drops_two_added_partitions_one_by_one(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    seed(conn, ranges(MONTHS), 1_200)
    desired = write(tmp_path, events(ranges([*MONTHS, 202601, 202602])))
    apply(fresh_schema, desired, ApplyCommandOptions(yes=True))
    t0 = time.perf_counter()
    back = rollback(fresh_schema, None, RollbackOptions(yes=True, keep_data=True))
    took = time.perf_counter() - t0
    print(f"rollback of two added partitions with keep-data: {took:.2f}s")
    with History.open(fresh_schema, schema="_myshift", audit_path=None) as h:
        undo = h.get_apply(back.apply_id or 0)
    assert [s.sql for s in undo.statements] == [
        "ALTER TABLE `events` DROP PARTITION `p202601`",
        "ALTER TABLE `events` DROP PARTITION `p202602`",
    ]
    assert took < 10
    assert partitions(conn) == [f"p{m}" for m in MONTHS]
    assert conn.scalar("SELECT COUNT(*) FROM events") == 1_200


def test_one_drop_per_kept_partition_steps_through_the_partition_lists() -> None:
    from myshift.engine.changes import AlterTable
    from myshift.engine.keeppolicy import one_drop_per_kept_partition

    before = _rng("10", "20", "30", "40")
    after = Partitioning("RANGE", "`m`", partitions=before.partitions[1:3], listed=True)
    clause = partition_clause(before, after)
    assert clause is not None
    split = one_drop_per_kept_partition([AlterTable("t", (clause,))])
    drops = [ch.clauses[0] for ch in split if isinstance(ch, AlterTable)]
    assert all(isinstance(d, DropPartitions) for d in drops)
    assert [[p.name for p in d.dropped] for d in drops if isinstance(d, DropPartitions)] == [
        ["p0"],
        ["p3"],
    ]
    assert drops[0].after == drops[1].before and drops[1].after == after  # type: ignore[attr-defined]
