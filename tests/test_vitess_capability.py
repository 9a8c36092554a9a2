"""Vitess's instant-DDL capability cases as a second oracle for myshift's predictions.

tests/data/vitess/capability_cases.json holds the cases of
``TestAlterTableCapableOfInstantDDL`` (vitessio/vitess,
go/vt/schemadiff/capability_test.go, Apache-2.0, commit in the file):
a CREATE, an ALTER and whether MySQL 8.0.29+ runs it INSTANT.  For each,
the before/after tables are derived (tests/mysqlderive.py) and myshift's
plan predicts an algorithm; where it predicts INSTANT for a case Vitess
calls not instant-capable (or the reverse), the line is listed in
tests/vitess_capability_failures.txt (``MYSHIFT_UPDATE_MYSQL_TRUTH=1``
rewrites it).

Vitess is a model of the server, not the server: where it disagrees with an
outcome the server recorded (tests/data/mysql_recorded), the recorded outcome
wins.  ``_CROSS`` pairs Vitess cases with recorded outcomes of the same
change and says which way each pair goes.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from myshift.engine.risk import Algorithm
from myshift.model import Flavor
from mysqlderive import apply_alter, create_to_show
from mysqltruth import Underivable
from test_mysql_truth import check_failures_list, predicted, rename_hints

HERE = Path(__file__).parent
CASES = HERE / "data" / "vitess" / "capability_cases.json"
RECORDED = HERE / "data" / "mysql_recorded"
FAILURES_FILE = HERE / "vitess_capability_failures.txt"

# (Vitess case, recorded outcome id, how they relate).  "agree": the server
# recorded what Vitess says.  Anything else names why they differ and that
# the recorded outcome wins.
_CROSS: list[tuple[str, str, str]] = [
    ("add column fails on COMPRESSED tables", "instant_ddl_limitations-8.0-polardbx:7", "agree"),
    ("fail due to row_format=compressed", "instant_ddl_limitations-8.0-polardbx:9", "agree"),
    (
        "add column fails on table with FULLTEXT index",
        "instant_ddl_limitations-8.0-polardbx:63",
        "agree",
    ),
    (
        "drop column fail due to fulltext index in table",
        "instant_ddl_limitations-8.0-polardbx:65",
        "agree",
    ),
    ("drop column fail due to index", "instant_ddl_limitations-8.0-polardbx:89", "agree"),
    ("add mid column", "instant_ddl_misc:87", "agree"),
    ("make a column invisible via SET", "invisible_columns:1111", "agree"),
    ("make a column visible", "invisible_columns:1118", "agree"),
    (
        "add mid column",
        "instant_add_column_limitations:16",
        "version: refused on 8.0.17, before instant ADD COLUMN anywhere (8.0.29); "
        "Vitess's case assumes 8.0.29+",
    ),
    (
        "add column",
        "instant_ddl_limitations-8.0-polardbx:170",
        "recorded wins: at TOTAL_ROW_VERSIONS=64 the server refuses INSTANT; "
        "Vitess's capability check does not read the row-version count",
    ),
]


# Disagreements no recorded outcome covers, each settled by the server's source:
# (Vitess case, why myshift's prediction stands).  Every line of the failures
# file must be settled here or in _CROSS.
_SETTLED: dict[str, str] = {
    "make a column visible with rename": (
        "server source wins: capability.go refuses INSTANT for every CHANGE that renames "
        "by its own policy ('We do not support INSTANT for renaming a column ... We "
        "discourage column rename'); InnoDB's innobase_support_instant() makes a "
        "rename-only ALTER INSTANT_COLUMN_RENAME (8.0.28+) unless a foreign key points "
        "at the column (ok_to_rename_column(), which myshift checks: "
        "test_rename_of_a_referenced_column_is_inplace_on_mysql)"
    ),
}


@cache
def _cases() -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads(CASES.read_text(encoding="utf-8"))
    cases: list[dict[str, Any]] = data["cases"]
    return cases


def _outcome(oid: str) -> dict[str, Any]:
    name, line = oid.rsplit(":", 1)
    fx = json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))
    return next(o for o in fx["outcomes"] if o["line"] == int(line))


def case_verdict(case: dict[str, Any]) -> tuple[str, str]:
    """(kind, detail): agree / vitess-* deviation / not-checked."""
    flavor = Flavor.from_string("mysql:8.0.11" if "incapable" in case["name"] else "mysql:8.0.29")
    try:
        before = create_to_show(case["create"], width=False)
        # The ALTER's table name is not read (one Vitess case names t1 for table t).
        after = apply_alter(before, case["alter"], False)
        hints = rename_hints(before.name, case["alter"])
        algo, reason = predicted(before.text(), after.text(), flavor, hints)
    except Underivable as e:
        return "not-checked", str(e)
    if "algorithm=copy" in case["alter"].lower():
        return "not-applicable", "Vitess tests its own reading of an explicit ALGORITHM=COPY"
    if case["instant_capable"] and algo is not Algorithm.INSTANT:
        return "vitess-instant-predicted-costlier", f"predicted {algo} ({reason})"
    if not case["instant_capable"] and algo is Algorithm.INSTANT:
        return "vitess-not-instant-predicted-instant", f"predicted INSTANT ({reason})"
    return "agree", f"predicted {algo}"


def _failure_lines() -> list[str]:
    out = []
    for case in _cases():
        kind, detail = case_verdict(case)
        if kind.startswith("vitess-"):
            out.append(" ".join(f"{kind} {case['name']!r}: {detail}".split()))
    return sorted(out)


def test_cases_are_ported_with_attribution() -> None:
    data = json.loads(CASES.read_text(encoding="utf-8"))
    src = data["source"]
    assert src["repo"] == "vitessio/vitess" and "Apache-2.0" in src["license"]
    assert len(src["commit"]) == 40 and src["url"].endswith(src["path"])
    assert len(_cases()) == 58
    assert {c["instant_capable"] for c in _cases()} == {True, False}


def test_predictions_match_the_failures_list() -> None:
    header = [
        "# myshift's predictions against Vitess's instant-DDL capability cases",
        "# (tests/test_vitess_capability.py). The test requires this exact set;",
        "# regenerate with MYSHIFT_UPDATE_MYSQL_TRUTH=1. Recorded server outcomes",
        "# outrank Vitess (see _CROSS in the test).",
    ]
    check_failures_list(FAILURES_FILE, _failure_lines(), header)


def test_enough_cases_are_checked() -> None:
    kinds = [case_verdict(c)[0] for c in _cases()]
    assert sum(k != "not-checked" for k in kinds) >= 30


def test_vitess_against_recorded_outcomes() -> None:
    """Where both oracles speak of the same change, they agree, or the pair names
    why not (and the recorded outcome is the one the failures list follows)."""
    names = {c["name"]: c for c in _cases()}
    for case_name, oid, relation in _CROSS:
        case, oc = names[case_name], _outcome(oid)
        server_instant = oc["outcome"] == "accepted" and oc["algorithm"] == "INSTANT"
        server_refused_instant = oc["outcome"] == "refused" and oc["algorithm"] == "INSTANT"
        assert server_instant or server_refused_instant, oid
        if relation == "agree":
            assert case["instant_capable"] == server_instant, (case_name, oid)
        else:
            assert case["instant_capable"] != server_instant, (case_name, oid, relation)


def test_every_disagreement_is_settled() -> None:
    """Issue 16: disagreements between the oracles are settled, by a recorded outcome
    (_CROSS) or, where none was recorded, by the server source (_SETTLED)."""
    crossed = {name for name, _, relation in _CROSS if relation != "agree"}
    for line in _failure_lines():
        name = line.split("'")[1]
        assert name in _SETTLED or name in crossed, line
    names = {c["name"] for c in _cases()}
    assert set(_SETTLED) <= names
