"""Convergence on the sqldef test corpus (MIT, copied unchanged into shared/corpus/sqldef).

sqldef's own oracle is the exact ``up``/``down`` text; ours is convergence, the
contract myshift actually promises: for every case whose ``current`` and
``desired`` SQL both load on the session MariaDB, ``apply --allow-drop`` current ->
desired SQL through the real apply path (the desired SQL loaded by myshift,
pre-flight checks, runner, verification), and then ``plan --check`` must find
nothing pending and the two schemas must hold the same objects. Then the same
from the live desired schema back to a pristine current (DB -> DB).

Three schemas per case on the one session server (no per-case server start):
``A`` and ``C`` get ``current``, ``B`` gets ``desired``. Forward migrates A to
B; reverse migrates B (a pristine desired) back to C (a pristine current).

Two mechanical adaptations make sqldef's SQL mysql-client SQL (``adapt_sql``):
sqldef runs every case in a database named ``mysqldef_test`` and some views
qualify tables with it, so that qualifier is removed; and sqldef's own parser
accepts compound ``CREATE TRIGGER/EVENT/PROCEDURE/FUNCTION ... BEGIN ... END;``
without ``DELIMITER``, which the mysql client (and myshift's splitter, which
follows it) does not, so such statements are wrapped in ``DELIMITER //``.
sqldef's ``-- @renamed from=old`` on a column or table line becomes myshift's
``-- myshift:renamed-from `old```, and the hints go to the plan (inverted for
the way back), so the corpus's rename cases plan renames, not drop + add.

Cases are classified, none silently dropped:

* not applicable -- ``flavor`` or ``min_version``/``max_version`` exclude
  MariaDB 10.11 (MySQL-only, TiDB-only, 5.7-only);
* not loadable -- MariaDB rejects ``current`` or ``desired``;
* passed / failed -- both directions converge, or not.

The set of failed and of not-loadable cases must equal tests/corpus_failures.txt
(``Case: reason`` lines; not-loadable reasons start with ``not loadable``), so a
regression and a silently fixed case both fail the test. Regenerate the file
with ``MYSHIFT_UPDATE_CORPUS=1``.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import endpoint_of
from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.load import load_sql
from myshift.engine.split import RenameHints, Statement, rename_hints, split_sql
from myshift.errors import MyshiftError, SQLLoadError
from myshift.workflows.apply import ApplyCommandOptions, apply
from myshift.workflows.plan import PlanOptions, build_planfile

HERE = Path(__file__).resolve().parent
FAILURES_FILE = HERE / "corpus_failures.txt"
MIN_PASS_RATE = 0.97
NOT_LOADABLE = "not loadable"


def corpus_dir() -> Path | None:
    """``$MYSHIFT_CORPUS``, else the first ``shared/corpus/sqldef`` walking up from here.

    In CI the repository is cloned elsewhere with a copy of ``shared/`` beside
    it, i.e. ``<repo>/../shared/corpus/sqldef``; walking up covers that too.
    """
    env = os.environ.get("MYSHIFT_CORPUS")
    if env:
        return Path(env)
    for d in HERE.parents:
        candidate = d / "shared" / "corpus" / "sqldef"
        if candidate.is_dir():
            return candidate
    return None


# ------------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    name: str
    current: str
    desired: str
    raw: dict[str, Any]


def load_cases(directory: Path) -> list[Case]:
    cases: list[Case] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, body in data.items():
            # Case names are unique across sqldef's files today; qualify if that changes.
            key = name if name not in seen else f"{path.stem}.{name}"
            seen.add(key)
            cases.append(
                Case(key, body.get("current") or "", body.get("desired") or "", dict(body))
            )
    return cases


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", str(text)))


def not_applicable(case: Case, vendor: str, version: tuple[int, ...]) -> str | None:
    """Why the case does not apply to this server (sqldef's flavor/version rules), or None."""
    flavor = case.raw.get("flavor")
    if flavor:
        flavor = str(flavor)
        if flavor.startswith("!"):
            if flavor[1:] == vendor:
                return f"flavor {flavor}"
        elif flavor != vendor:
            return f"flavor {flavor}"
    lo, hi = case.raw.get("min_version"), case.raw.get("max_version")
    if lo and version < _version(lo):
        return f"min_version {lo}"
    if hi and version[: len(_version(hi))] > _version(hi):
        return f"max_version {hi}"
    return None


# ------------------------------------------------------------------------------- adapting

_QUALIFIER = re.compile(r"`?mysqldef_test`?\.")
_COMPOUND_HEAD = re.compile(
    r"^\s*CREATE\b[^;]*?\b(?:TRIGGER|EVENT|PROCEDURE|FUNCTION)\b", re.IGNORECASE
)
_BEGIN = re.compile(r"\bBEGIN\b", re.IGNORECASE)
# END that closes a BEGIN block, not END IF / END LOOP / END WHILE / END CASE / END REPEAT.
_END = re.compile(r"\bEND\b(?!\s+(?:IF|LOOP|WHILE|CASE|REPEAT)\b)", re.IGNORECASE)


# sqldef's rename annotation, on a column or CREATE TABLE line. On index lines it
# names an index rename, which myshift detects by itself: those are left alone.
_RENAMED = re.compile(r"@renamed\s+from=(?:\"([^\"]*)\"|([^\s*]+))")
_INDEX_LINE = re.compile(r"^\s*(?:UNIQUE\b|INDEX\b|KEY\b|CREATE\s+(?:UNIQUE\s+)?INDEX\b)", re.I)


def _hint(m: re.Match[str]) -> str:
    old = m.group(1) if m.group(1) is not None else m.group(2)
    return "myshift:renamed-from " + quote_ident(old)


def adapt_sql(text: str) -> str:
    """sqldef's SQL as the mysql client would need it (see the module docstring)."""
    text = _QUALIFIER.sub("", text)
    text = "\n".join(
        line if _INDEX_LINE.match(line) else _RENAMED.sub(_hint, line) for line in text.splitlines()
    ) + ("\n" if text.endswith("\n") else "")
    if "DELIMITER" in text.upper() or not _BEGIN.search(text):
        return text
    out: list[str] = []
    depth = 0
    in_compound = False
    for line in text.splitlines():
        if not in_compound and _COMPOUND_HEAD.match(line):
            in_compound = True
            out.append("DELIMITER //")
        if in_compound:
            depth += len(_BEGIN.findall(line)) - len(_END.findall(line))
            if depth <= 0 and line.rstrip().endswith(";"):
                out.append(line.rstrip()[:-1] + "//")
                out.append("DELIMITER ;")
                in_compound = False
                depth = 0
                continue
        out.append(line)
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------- running


def one_line(text: object, width: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


class CaseFailed(Exception):
    """One line saying why a loadable case did not converge."""


def migrate(
    target: Endpoint,
    source: Endpoint | list[Statement],
    direction: str,
    hints: RenameHints | None = None,
) -> None:
    """Apply target -> source as a user would, then ``plan --check``; raise CaseFailed.

    ``apply --allow-drop --yes`` in-process (a subprocess per case would
    double the corpus's time): a fresh plan, verified in a workspace (which
    exercises ddl.create_table on every touched table), frozen with its
    pre-flight counts, then the executor with the pre-flight checks, the
    runner and the check that the target now is the plan's ``to``.  Then
    ``plan --check --allow-drop`` must find nothing pending, and the two
    schemas must hold the same objects.
    """
    # allow_empty: --allow-empty, which a user whose desired SQL is empty on
    # purpose (drop everything) passes.
    opts = ApplyCommandOptions(
        plan=PlanOptions(allow_drop=True, verify=True, hints=hints, allow_empty=True),
        yes=True,
        audit_log=None,
    )
    try:
        apply(target, source, opts)
    except MyshiftError as exc:
        raise CaseFailed(f"{direction}: apply: {one_line(exc)}") from None
    except Exception as exc:
        raise CaseFailed(f"{direction}: apply: {type(exc).__name__}: {one_line(exc)}") from None
    # What `plan --check` runs (workflows.plan.plan): pending = runnable statements.
    try:
        again = build_planfile(
            target, source, PlanOptions(allow_drop=True, verify=True, allow_empty=True)
        )
    except MyshiftError as exc:
        raise CaseFailed(f"{direction}: plan --check: {one_line(exc)}") from None
    if again.runnable:
        raise CaseFailed(
            f"{direction}: plan --check: changes pending: `{one_line(again.runnable[0].sql, 100)}`"
        )
    if not again.current.same_objects(again.desired):
        raise CaseFailed(f"{direction}: objects differ though plan --check is empty")


@dataclass
class Outcome:
    not_applicable: dict[str, str] = field(default_factory=dict)
    not_loadable: dict[str, str] = field(default_factory=dict)
    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def loadable(self) -> int:
        return len(self.passed) + len(self.failed)


class Schemas:
    """Create/drop the per-case schemas on the session server."""

    def __init__(self, server: LocalServer, admin: Conn) -> None:
        self.server, self.admin = server, admin

    def create(self) -> Endpoint:
        name = f"c_{uuid.uuid4().hex[:12]}"
        self.admin.execute(f"CREATE DATABASE {quote_ident(name)} DEFAULT CHARACTER SET utf8mb4")
        return endpoint_of(self.server, name)

    def drop(self, ep: Endpoint) -> None:
        self.admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(ep.schema)}")


def run_case(case: Case, schemas: Schemas) -> tuple[str, str]:
    """("passed" | "failed" | "not loadable", reason)."""
    a, b, c = schemas.create(), schemas.create(), schemas.create()
    try:
        for label, sql, eps in (("current", case.current, (a, c)), ("desired", case.desired, (b,))):
            for ep in eps:
                try:
                    load_sql(split_sql(adapt_sql(sql), f"{case.name}.{label}"), ep)
                except SQLLoadError as exc:
                    why = f"{label} line {exc.line}: {one_line(exc.server_message, 100)}"
                    return NOT_LOADABLE, f"{NOT_LOADABLE}: {why}"
        try:
            hints = rename_hints(split_sql(adapt_sql(case.desired), f"{case.name}.desired"))
        except SQLLoadError as exc:
            return "failed", f"rename hints: {one_line(exc.server_message, 100)}"
        back = RenameHints(
            {old: new for new, old in hints.tables.items()},
            {
                ({o: n for n, o in hints.tables.items()}.get(t, t), old): new
                for (t, new), old in hints.columns.items()
            },
        )
        try:
            # Forward from the desired SQL (loaded by myshift, as `--desired
            # file.sql`), back from the live desired schema (DB -> DB).
            desired = split_sql(adapt_sql(case.desired), f"{case.name}.desired")
            migrate(a, desired, "forward", hints)
            migrate(b, c, "reverse", back)
        except CaseFailed as exc:
            return "failed", str(exc)
        return "passed", ""
    finally:
        for ep in (a, b, c):
            schemas.drop(ep)


def run_corpus(cases: list[Case], server: LocalServer) -> Outcome:
    out = Outcome()
    with connect(endpoint_of(server)) as admin:
        flavor = admin.flavor
        vendor = flavor.vendor.value
        version = tuple(flavor.version)
        schemas = Schemas(server, admin)
        for case in cases:
            why = not_applicable(case, vendor, version)
            if why:
                out.not_applicable[case.name] = why
                continue
            status, reason = run_case(case, schemas)
            if status == "passed":
                out.passed.append(case.name)
            elif status == NOT_LOADABLE:
                out.not_loadable[case.name] = reason
            else:
                out.failed[case.name] = reason
    return out


# ------------------------------------------------------------------------------- the test


def read_expected(path: Path) -> dict[str, str]:
    expected: dict[str, str] = {}
    if not path.exists():
        return expected
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, reason = line.partition(":")
        expected[name.strip()] = reason.strip()
    return expected


def write_expected(path: Path, out: Outcome) -> None:
    lines = [
        "# sqldef corpus cases that do not converge (or do not load) on MariaDB 10.11.",
        "# One `Case: reason` per line; tests/test_corpus.py requires this exact set.",
        "# Regenerate with MYSHIFT_UPDATE_CORPUS=1 .venv/bin/pytest tests/test_corpus.py",
    ]
    lines += [f"{n}: {r}" for n, r in sorted(out.failed.items())]
    lines += [f"{n}: {r}" for n, r in sorted(out.not_loadable.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def corpus() -> Iterator[list[Case]]:
    d = corpus_dir()
    if d is not None and not d.is_dir():
        pytest.fail(f"MYSHIFT_CORPUS={d} is not a directory")
    if d is None:
        msg = (
            f"sqldef corpus not found (set MYSHIFT_CORPUS, or put shared/corpus/sqldef "
            f"beside the repository; looked upwards from {HERE})"
        )
        print(msg)
        pytest.skip(msg)
    cases = load_cases(d)
    assert cases, f"no *.yml cases in {d}"
    yield cases


def test_sqldef_corpus_converges(
    corpus: list[Case], server: LocalServer, request: pytest.FixtureRequest
) -> None:
    out = run_corpus(corpus, server)
    summary = [
        f"sqldef corpus: {len(corpus)} cases, {len(out.not_applicable)} not applicable to "
        f"MariaDB, {len(out.not_loadable)} not loadable, {out.loadable} loadable",
        f"{len(out.passed)} passed, {len(out.failed)} failed",
    ]
    summary += [f"  FAILED {n}: {r}" for n, r in sorted(out.failed.items())]

    class _Report:
        def pytest_terminal_summary(self, terminalreporter: Any) -> None:
            terminalreporter.section("sqldef corpus")
            for line in summary:
                terminalreporter.write_line(line)

    request.config.pluginmanager.register(_Report(), "myshift-corpus-summary")

    if os.environ.get("MYSHIFT_UPDATE_CORPUS"):
        write_expected(FAILURES_FILE, out)

    assert out.loadable > 0, "no corpus case loaded: the loader or the server is broken"
    expected = read_expected(FAILURES_FILE)
    exp_failed = {n for n, r in expected.items() if not r.startswith(NOT_LOADABLE)}
    exp_unloadable = {n for n, r in expected.items() if r.startswith(NOT_LOADABLE)}
    problems: list[str] = []
    for n in sorted(set(out.failed) - exp_failed):
        problems.append(f"new failure {n}: {out.failed[n]}")
    for n in sorted(exp_failed - set(out.failed)):
        problems.append(f"{n} is listed as failing but now passes (or no longer loads)")
    for n in sorted(set(out.not_loadable) - exp_unloadable):
        problems.append(f"{n} no longer loads: {out.not_loadable[n]}")
    for n in sorted(exp_unloadable - set(out.not_loadable)):
        problems.append(f"{n} is listed as not loadable but now loads")
    assert not problems, "\n".join([*summary[:2], *problems])
    rate = len(out.passed) / out.loadable
    assert rate >= MIN_PASS_RATE, f"pass rate {rate:.1%} < {MIN_PASS_RATE:.0%}: " + summary[1]
