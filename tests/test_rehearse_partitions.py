"""Rehearse reports which partitions a partitioned table's statement rebuilt (real servers).

InnoDB keeps one table per partition, so the rehearsal compares each
partition's table id before and after the statement: targeted partition
maintenance must leave the partitions it does not name alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from myshift.db.connect import Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.changes import partitions_rebuilt_by
from myshift.engine.introspect.catalog import innodb_ids_of
from myshift.workflows.plan import PlanOptions, build_planfile
from myshift.workflows.planfile import PlanFile
from myshift.workflows.rehearse import RehearseOptions, rehearse
from myshift.workflows.rehearse_observe import observe_partitions
from myshift.workflows.rehearse_report import StatementReport

MONTHS = [202501 + i for i in range(12)]


def ranges(months: list[int]) -> str:
    parts = [f"PARTITION p{m} VALUES LESS THAN ({m + 1})" for m in months]
    return "PARTITION BY RANGE (month) (" + ", ".join(parts) + ")"


def events(partitioning: str) -> str:
    return (
        "CREATE TABLE events (id int NOT NULL, month int NOT NULL, payload varchar(64), "
        f"PRIMARY KEY (id, month)) {partitioning};"
    )


def _ep(srv: LocalServer, schema: str = "") -> Endpoint:
    return Endpoint(host="127.0.0.1", port=srv.port, user="root", password="", schema=schema)


@pytest.fixture
def prod(server: LocalServer) -> Iterator[Endpoint]:
    """12 monthly partitions and a MAXVALUE catch-all, 1,300 rows (100 in pmax)."""
    name = f"pprod_{time.monotonic_ns() % 10**9}"
    with connect(_ep(server)) as admin:
        admin.execute(f"CREATE DATABASE {quote_ident(name)}")
        admin.execute(f"USE {quote_ident(name)}")
        admin.execute(events(ranges(MONTHS)[:-1] + ", PARTITION pmax VALUES LESS THAN MAXVALUE)"))
        admin.execute(
            f"INSERT INTO events SELECT seq, {MONTHS[0]} + seq % 13 + (seq % 13 = 12) * 88, "
            "md5(seq) FROM seq_1_to_1300"
        )
    try:
        yield _ep(server, name)
    finally:
        with connect(_ep(server)) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")


def _rehearse(
    prod: Endpoint,
    server2: LocalServer,
    tmp_path: Path,
    desired: str,
    options: PlanOptions | None = None,
) -> StatementReport:
    f = tmp_path / "desired.sql"
    f.write_text(desired)
    path = tmp_path / "plan.json"
    build_planfile(prod, str(f), options or PlanOptions()).write(path)
    opts = RehearseOptions(
        sandbox=f"server:mysql://root@127.0.0.1:{server2.port}", progress=False, data="full"
    )
    r = rehearse(path, prod, opts)
    assert r.passed, r.to_text()
    (st,) = r.statements
    assert not st.warning, st.warning  # the server did what the plan predicted
    assert st.observed in r.to_text() and st.observed in r.to_markdown()
    return st


def _with_max(months: list[int]) -> str:
    return events(ranges(months)[:-1] + ", PARTITION pmax VALUES LESS THAN MAXVALUE)")


def test_add_partition_rebuilds_no_partition(
    server: LocalServer, server2: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    name = f"padd_{time.monotonic_ns() % 10**9}"
    with connect(_ep(server)) as admin:
        admin.execute(f"CREATE DATABASE {quote_ident(name)}")
        admin.execute(f"USE {quote_ident(name)}")
        admin.execute(events(ranges(MONTHS)).rstrip(";"))
        admin.execute(
            f"INSERT INTO events SELECT seq, {MONTHS[0]} + seq % 12, '' FROM seq_1_to_600"
        )
    try:
        st = _rehearse(_ep(server, name), server2, tmp_path, events(ranges([*MONTHS, 202601])))
    finally:
        with connect(_ep(server)) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
    assert "ADD PARTITION" in st.sql and partitions_rebuilt_by(st.sql) == frozenset()
    assert st.observed == "no partition rebuilt"
    assert (st.partitions_rebuilt, st.partitions_added) == ([], ["p202601"])


def test_reorganize_of_pmax_rebuilds_only_pmax(
    prod: Endpoint, server2: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    st = _rehearse(prod, server2, tmp_path, _with_max([*MONTHS, 202601]))
    assert partitions_rebuilt_by(st.sql) == frozenset({"pmax"})  # the prediction the report checks
    # 100 rows moved (rows affected > 0) is no copy: the 12 months kept their ids.
    assert (st.rows, st.observed) == (100, "rebuilt 1 of 13 partitions")
    assert (st.partitions_rebuilt, st.partitions_added) == (["pmax"], ["p202601"])


@pytest.mark.parametrize("keep_data", [False, True])
def test_drop_partition_rebuilds_no_partition(
    prod: Endpoint,
    server2: LocalServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keep_data: bool,
) -> None:
    # With keep-data the partition's rows are first exchanged into the holding
    # schema: the other partitions still keep their ids.
    monkeypatch.chdir(tmp_path)
    desired = _with_max(MONTHS[1:])
    options = PlanOptions(allow_drop=True, keep_data=keep_data)
    st = _rehearse(prod, server2, tmp_path, desired, options)
    assert partitions_rebuilt_by(st.sql) == frozenset()
    assert st.observed == "no partition rebuilt"
    assert (st.partitions_dropped, st.partitions_added) == (["p202501"], [])
    (planned,) = PlanFile.read(tmp_path / "plan.json").runnable
    assert planned.keep_partitions == (("p202501",) if keep_data else ())


def test_full_repartition_copies_the_table(
    prod: Endpoint, server2: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    st = _rehearse(prod, server2, tmp_path, events("PARTITION BY HASH (month) PARTITIONS 13"))
    assert "PARTITION BY HASH" in st.sql and st.planned_algorithm == "COPY"
    assert (st.rows, st.observed) == (1300, "table copied")


# --------------------------------------------------------------------------- pure parts


def test_innodb_names_of_both_flavors() -> None:
    rows = [
        ("db/t", 1),
        ("db/e#P#p0", 2),  # MariaDB
        ("db/e#P#pMax", 3),
        ("db/m#p#p0#sp#p0sp1", 5),  # MySQL 8.0+: lower case, subpartitions
        ("db/m#p#p0#sp#p0sp0", 4),
        ("db/m#p#p@002dx", 6),
        ("other/t", 9),
        ("db/gone#P#p0", 7),  # not a base table of the schema (a leftover)
    ]
    ids = innodb_ids_of(rows, "db", ["t", "e", "m"])
    assert ids.tables == {"t": 1}
    assert ids.partitions == {"e": {"p0": (2,), "pmax": (3,)}, "m": {"p0": (4, 5), "p-x": (6,)}}


def test_what_a_targeted_statement_rewrites() -> None:
    assert (
        partitions_rebuilt_by("ALTER TABLE `e` ADD PARTITION (PARTITION `p1` ...)") == frozenset()
    )
    assert partitions_rebuilt_by("ALTER TABLE `e` DROP PARTITION `p0`, `p1`") == frozenset()
    sql = "ALTER TABLE `e` REORGANIZE PARTITION `p1`, `PMax` INTO (PARTITION `p2` ...)"
    assert partitions_rebuilt_by(sql) == frozenset({"p1", "pmax"})
    assert partitions_rebuilt_by("ALTER TABLE `e` ADD PARTITION PARTITIONS 2") is None
    assert partitions_rebuilt_by("ALTER TABLE `e` PARTITION BY HASH (`m`) PARTITIONS 3") is None


def _rep(sql: str, algorithm: str) -> StatementReport:
    return StatementReport(1, "e", sql, "safe", algorithm)


def test_a_partition_rebuilt_against_the_prediction_is_flagged() -> None:
    before = {"p0": (1,), "p1": (2,), "pmax": (3,)}
    rep = _rep("ALTER TABLE `e` REORGANIZE PARTITION `pmax` INTO (...)", "INPLACE")
    observe_partitions(rep, 10, before, {"p0": (1,), "p1": (8,), "p2": (9,), "pmax": (10,)})
    assert rep.observed == "rebuilt 2 of 3 partitions"
    assert "only pmax" in rep.warning and "rebuilt p1, pmax" in rep.warning
    rep = _rep("ALTER TABLE `e` ADD PARTITION (PARTITION `p2` ...)", "INSTANT")
    observe_partitions(rep, 0, before, {"p0": (4,), "p1": (5,), "p2": (9,), "pmax": (6,)})
    assert rep.observed == "rebuilt 3 of 3 partitions" and "rewrite none" in rep.warning
    rep = _rep("ALTER TABLE `e` ADD COLUMN `x` int", "INPLACE")
    observe_partitions(rep, 30, before, {"p0": (4,), "p1": (5,), "pmax": (6,)})
    assert rep.observed == "table copied" and "copied `e`" in rep.warning
    rep = _rep("ALTER TABLE `e` ADD COLUMN `x` int", "INSTANT")
    observe_partitions(rep, 0, before, dict(before))
    assert (rep.observed, rep.warning) == ("no partition rebuilt", "")
