"""Every row of the MySQL online-DDL facts table cites its evidence (issue 16).

``risk_sources.MYSQL_CITATIONS`` names, per ``Op``, the recorded outcome,
manual row or Vitess case behind the row of ``risk._MYSQL``, or says it is
unverified.  Recorded citations are checked against the harvested outcomes:
one marked as agreeing must not contradict the row (for the version it was
recorded on), one marked as a contradiction must really be one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from myshift.engine import risk
from myshift.engine.risk_sources import MANUAL, MANUAL_PARTITIONING, MYSQL_CITATIONS
from myshift.model import Flavor

DATA = Path(__file__).parent / "data"
_RANK = {"INSTANT": 0, "INPLACE": 1, "COPY": 2}


def _harvested(ref: str) -> tuple[dict[str, Any], Flavor]:
    name, line = ref.rsplit(":", 1)
    fx = json.loads((DATA / "mysql_recorded" / f"{name}.json").read_text(encoding="utf-8"))
    outcome = next(o for o in fx["outcomes"] if o["line"] == int(line))
    return outcome, Flavor.from_string(fx["source"]["flavor"])


def test_every_row_cites_a_source_or_is_marked_unverified() -> None:
    assert set(MYSQL_CITATIONS) == set(risk._MYSQL)
    for op, cites in MYSQL_CITATIONS.items():
        assert cites, op
        kinds = {c.kind for c in cites}
        assert kinds <= {"recorded", "manual", "vitess", "unverified"}, op
        # An unverified row says so alone: it has no other citation.
        assert "unverified" not in kinds or kinds == {"unverified"}, op
        for c in cites:
            assert c.what, op
            if c.kind == "manual":
                assert c.ref in (MANUAL, MANUAL_PARTITIONING)


def test_recorded_citations_exist_and_say_what_they_claim() -> None:
    checked = 0
    for op, cites in MYSQL_CITATIONS.items():
        for c in (c for c in cites if c.kind == "recorded"):
            if "#" in c.ref:
                name, key = c.ref.split("#")
                fx = json.loads((DATA / "mysql" / name).read_text(encoding="utf-8"))
                assert key in fx["recorded_statements"], c.ref
                continue
            oc, flavor = _harvested(c.ref)
            row, lock = risk.online_ddl(flavor, op)
            server = _RANK[oc["algorithm"]]
            if oc["outcome"] == "lock-refused":
                # LOCK=NONE refused: the row must not promise concurrent writes.
                assert (lock is not risk.Lock.NONE) is c.agrees, (op, c.ref)
            elif oc["outcome"] == "refused":
                # Agreeing: the row (for that version) is costlier than the refusal;
                # a contradiction: the row predicts what the server refused.
                assert (row.rank > server) is c.agrees, (op, c.ref)
            else:
                # Agreeing: the row is no costlier than what the server did;
                # a contradiction: the row is pessimistic.
                assert oc["outcome"] == "accepted", (op, c.ref)
                assert (row.rank <= server) is c.agrees, (op, c.ref)
            checked += 1
    assert checked >= 20


def test_vitess_citations_name_ported_cases() -> None:
    cases = json.loads((DATA / "vitess" / "capability_cases.json").read_text(encoding="utf-8"))
    names = {c["name"] for c in cases["cases"]}
    for cites in MYSQL_CITATIONS.values():
        for c in cites:
            if c.kind == "vitess":
                assert c.ref in names, c.ref


def test_known_contradictions_are_listed() -> None:
    """The rows the recorded truth contradicts today (the mysql-fixes work of issue 16)."""
    bad = sorted(
        {op.name for op, cites in MYSQL_CITATIONS.items() if not all(c.agrees for c in cites)}
    )
    assert bad == ["ADD_COLUMN", "DROP_COLUMN"]


def test_manual_citations_say_what_the_row_says() -> None:
    """A manual citation quotes the row's Instant / In Place columns; a row that is
    INPLACE must not be backed by a quote saying "Instant Yes", nor an INSTANT one
    by "Instant No" (the RENAME_INDEX citation once contradicted its fixed row)."""
    for op, cites in MYSQL_CITATIONS.items():
        algo, _ = risk.online_ddl(risk_flavor(), op)
        for c in (c for c in cites if c.kind == "manual" and c.agrees):
            if "Instant No" in c.what:
                assert algo is not risk.Algorithm.INSTANT, (op, c.what)
            if "Instant Yes" in c.what and "8.0.29" not in c.what and "8.0.28" not in c.what:
                assert algo is risk.Algorithm.INSTANT, (op, c.what)


def risk_flavor() -> Flavor:
    return Flavor.from_string("mysql:8.4.0")
