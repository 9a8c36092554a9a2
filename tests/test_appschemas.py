"""Release-by-release schemas of real applications, migrated as a user would (issue 12).

tests/data/appschemas/<app>/<version>.sql are the MySQL schema files that
open-source applications ship, copied unchanged (tests/data/appschemas/SOURCES.md
names repository, path, commit and licence).  For every app, every
consecutive upgrade, one long jump (oldest -> newest) and one downgrade
(newest -> oldest) runs through the CLI in-process (click's runner: option
parsing, endpoint resolution, error handling, exit codes):

1. load the old version into a fresh schema and a few generated rows into
   every table that takes them (``seed``);
2. ``myshift plan`` without ``--allow-drop`` must exit 0 (the seed's default
   invocation: destructive changes are held back, not fatal);
3. ``myshift apply --allow-drop --yes`` must exit 0;
4. ``myshift plan --check --allow-drop`` must exit 0 (nothing left);
5. the server's own ``SHOW CREATE`` of every table, view and routine must equal that of a
   fresh load of the new version (AUTO_INCREMENT counters aside, and the order
   of keys and constraints, which myshift does not rebuild indexes to keep:
   see ``Schema.canonical``);
6. the rows of every column the change left alone (same table, same name,
   same type, nullability and collation in both versions) are unchanged,
   compared by an ordered checksum.

One adaptation, mechanical: the apps' files also seed rows (``INSERT``, and
Ranger's ``CALL`` of its own seeding procedures), and myshift refuses anything
but schema-defining statements in desired SQL by design (a schema file is
data, not a script), so top-level INSERT/REPLACE/UPDATE/DELETE/CALL statements
are removed before loading (``schema_only``); everything else is the file as
published, including ``CREATE DATABASE``/``USE``/``DROP ... IF EXISTS``,
``DELIMITER`` and the procedures themselves.

The set of failing cases must equal tests/appschema_failures.txt (``case:
class N: reason`` lines, N the issue-12 class the failure falls in), so a
regression and a silently fixed case both fail; regenerate with
``MYSHIFT_UPDATE_APPSCHEMAS=1`` and classify the new lines by hand.
"""

from __future__ import annotations

import itertools
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import endpoint_of
from myshift.cli import cli
from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.load import load_sql
from myshift.engine.split import split_sql

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "appschemas"
FAILURES_FILE = HERE / "appschema_failures.txt"
# In a failures line, "<why this is the right outcome>; seen: <reason>": the case must
# fail with exactly that reason (a refusal kept on purpose, not a bug left).
SEEN = "; seen: "
ROWS = 3
# The database default charset each app's install instructions create (Ranger's
# x_portal_user does not fit a row under utf8mb4: error 1118).
CHARSET = {"ranger": "utf8mb3"}

_DATA = re.compile(r"^\s*(?:INSERT|REPLACE|UPDATE|DELETE|CALL)\b", re.IGNORECASE)
_AUTO_INC = re.compile(r" AUTO_INCREMENT=\d+")


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", name))


def versions(app: str) -> list[Path]:
    return sorted((DATA / app).glob("*.sql"), key=lambda p: _version_key(p.stem))


def apps() -> list[str]:
    return sorted(p.name for p in DATA.iterdir() if p.is_dir())


def schema_only(path: Path) -> str:
    """The file with its top-level data statements blanked out, line for line (see the
    module docstring); line numbers stay those of the published file."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    for st in split_sql(text, str(path)):
        if not _DATA.match(st.sql):
            continue
        first, last = st.line - 1, st.line - 1 + st.sql.count("\n")
        head, tail = st.sql.split("\n")[0].strip(), st.sql.split("\n")[-1].strip()
        # Only whole lines holding nothing but the statement are blanked.
        if lines[first].strip().startswith(head) and lines[last].strip().rstrip(";") == tail:
            for i in range(first, last + 1):
                lines[i] = ""
    return "\n".join(lines)


@dataclass(frozen=True)
class Case:
    app: str
    old: Path
    new: Path
    kind: str  # upgrade | jump | downgrade

    @property
    def name(self) -> str:
        return f"{self.app} {self.old.stem} -> {self.new.stem}"


def cases() -> list[Case]:
    out: list[Case] = []
    for app in apps():
        vs = versions(app)
        out += [Case(app, a, b, "upgrade") for a, b in itertools.pairwise(vs)]
        if len(vs) > 2:
            out.append(Case(app, vs[0], vs[-1], "jump"))
        if len(vs) > 1:
            out.append(Case(app, vs[-1], vs[0], "downgrade"))
    return out


# ------------------------------------------------------------------------------- rows


def _value(col: dict[str, Any], n: int, nulls: bool) -> object:
    dt = col["DATA_TYPE"]
    if nulls and col["NULL_FK"]:
        return None
    if dt in ("tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float", "double"):
        return n
    if dt == "bit":
        return 1
    if dt in ("date",):
        return f"2020-01-0{n}"
    if dt in ("datetime", "timestamp"):
        return f"2020-01-01 00:00:0{n}"
    if dt == "time":
        return f"00:00:0{n}"
    if dt == "year":
        return 2000 + n
    if dt in ("enum", "set"):
        return 1
    if dt == "json":
        return "{}"
    limit = col["CHARACTER_MAXIMUM_LENGTH"] or 8
    return f"{col['COLUMN_NAME'][: max(0, int(limit) - 2)]}{n}"[-int(limit) :]


def seed(conn: Conn, schema: str) -> list[str]:
    """ROWS generated rows into every table that takes them; the tables that do."""
    # Nullable foreign-key columns get NULL (self references, cycles); the rest n.
    fk_cols = {
        (str(r[0]), str(r[1]))
        for r in conn.query(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
            "WHERE TABLE_SCHEMA = %s AND REFERENCED_TABLE_NAME IS NOT NULL",
            (schema,),
        )
    }
    cols: dict[str, list[dict[str, Any]]] = {}
    for row in conn.query(
        "SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.CHARACTER_MAXIMUM_LENGTH, c.EXTRA, "
        "c.IS_NULLABLE "
        "FROM information_schema.COLUMNS c JOIN information_schema.TABLES t "
        "ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME "
        "WHERE c.TABLE_SCHEMA = %s AND t.TABLE_TYPE = 'BASE TABLE' "
        "ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION",
        (schema,),
    ):
        names = ("TABLE_NAME", "COLUMN_NAME", "DATA_TYPE", "CHARACTER_MAXIMUM_LENGTH", "EXTRA")
        col = dict(zip(names, row[:5], strict=True))
        col["NULL_FK"] = row[5] == "YES" and (str(row[0]), str(row[1])) in fk_cols
        extra = str(col["EXTRA"]).lower()
        if "auto_increment" in extra or "generated" in extra or "virtual" in extra:
            continue
        cols.setdefault(str(col["TABLE_NAME"]), []).append(col)
    seeded: list[str] = []
    pending = sorted(cols)

    def insert(table: str, nulls: bool) -> bool:
        cs = cols[table]
        sql = (
            f"INSERT INTO {quote_ident(schema)}.{quote_ident(table)} "
            f"({', '.join(quote_ident(c['COLUMN_NAME']) for c in cs)}) "
            f"VALUES ({', '.join(['%s'] * len(cs))})"
        )
        try:
            for n in range(1, ROWS + 1):
                conn.execute(sql, tuple(_value(c, n, nulls) for c in cs))
        except Exception:
            # Failed inserts use up AUTO_INCREMENT values: children refer to ids 1..ROWS.
            conn.execute(f"DELETE FROM {quote_ident(schema)}.{quote_ident(table)}")
            conn.execute(f"ALTER TABLE {quote_ident(schema)}.{quote_ident(table)} AUTO_INCREMENT=1")
            return False
        pending.remove(table)
        seeded.append(table)
        return True

    # Parents before children, whatever the order; NULL in a nullable foreign key
    # column (self references, cycles) only for a table that takes no rows otherwise.
    while pending:
        # A list, not a generator: every pending table gets its try in each pass.
        progress = any([insert(t, False) for t in list(pending)])
        if not progress and not any(insert(t, True) for t in list(pending)):
            break
    return seeded


def _columns(conn: Conn, schema: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        (str(r[0]), str(r[1]).lower()): tuple(r[2:])
        for r in conn.query(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLLATION_NAME "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s",
            (schema,),
        )
    }


def untouched(conn: Conn, old: str, new: str) -> dict[str, list[str]]:
    """Per table, the columns with the same definition in both versions."""
    a, b = _columns(conn, old), _columns(conn, new)
    out: dict[str, list[str]] = {}
    for (t, c), d in sorted(a.items()):
        if b.get((t, c)) == d:
            out.setdefault(t, []).append(c)
    return out


def checksums(conn: Conn, schema: str, tables: dict[str, list[str]]) -> dict[str, str]:
    conn.execute("SET SESSION group_concat_max_len = 1073741824")
    out = {}
    for table, cs in tables.items():
        row = ", ".join(f"COALESCE(HEX({quote_ident(c)}), 'NULL')" for c in cs)
        out[table] = str(
            conn.scalar(
                f"SELECT MD5(GROUP_CONCAT(r ORDER BY r SEPARATOR '\\n')) FROM "
                f"(SELECT CONCAT_WS('#', {row}) r FROM {quote_ident(schema)}.{quote_ident(table)})"
                " x"
            )
        )
    return out


def _comparable(create: str) -> tuple[list[str], list[str]]:
    """SHOW CREATE TABLE as (column lines in order + table options, other lines sorted).

    The order of secondary keys, foreign keys and CHECKs is not compared: the
    server lists them in creation order and myshift, by design, does not
    rebuild indexes to reproduce it (``Schema.canonical``).
    """
    lines = [x.strip().rstrip(",") for x in _AUTO_INC.sub("", create).splitlines()]
    ordered = [x for x in lines if x.startswith("`") or not x.startswith(("KEY", "UNIQUE",
               "CONSTRAINT", "FULLTEXT", "SPATIAL", "INDEX", "PRIMARY"))]  # fmt: skip
    return ordered, sorted(x for x in lines if x not in ordered)


def show_creates(conn: Conn, schema: str) -> dict[str, str]:
    names = [
        str(r[0])
        for r in conn.query(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "AND TABLE_TYPE = 'BASE TABLE'",
            (schema,),
        )
    ]
    return {
        n: _AUTO_INC.sub(
            "", str(conn.query(f"SHOW CREATE TABLE {quote_ident(schema)}.{quote_ident(n)}")[0][1])
        )
        for n in names
    }


def other_objects(conn: Conn, schema: str) -> dict[str, str]:
    """Views and routines as the server shows them (SHOW CREATE), the schema's own
    name blanked out (views name it in their text)."""
    out: dict[str, str] = {}
    found = [
        ("VIEW", str(r[0]))
        for r in conn.query(
            "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s", (schema,)
        )
    ]
    found += [
        (str(r[0]), str(r[1]))
        for r in conn.query(
            "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES "
            "WHERE ROUTINE_SCHEMA = %s",
            (schema,),
        )
    ]
    for kind, name in found:
        row = conn.query(f"SHOW CREATE {kind} {quote_ident(schema)}.{quote_ident(name)}")[0]
        text = str(row[1] if kind == "VIEW" else row[2])
        out[f"{kind.lower()} {name}"] = text.replace(quote_ident(schema), "`S`")
    return out


# ------------------------------------------------------------------------------- running


def one_line(text: object, width: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def url(ep: Endpoint) -> str:
    return f"mysql://{ep.user}@{ep.host}:{ep.port}/{ep.schema}"


def myshift(*args: str) -> tuple[int, str]:
    """Exit code and output; when it failed, the error lines only (not the progress)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    out = result.output
    if result.exit_code != 0:
        errors = [x for x in out.splitlines() if not re.match(r"\[\d+/\d+\] ", x)]
        out = "\n".join(errors) or out
    return result.exit_code, out


def run_case(case: Case, server: LocalServer, admin: Conn, work: Path) -> str:
    """'' when the case passes, else one line saying where it failed."""
    old_ep = endpoint_of(server, f"a_{uuid.uuid4().hex[:10]}")
    ref_ep = endpoint_of(server, f"r_{uuid.uuid4().hex[:10]}")
    desired = work / f"{case.app}-{case.new.stem}.sql"
    desired.write_text(schema_only(case.new), encoding="utf-8")
    try:
        for ep, path in ((old_ep, case.old), (ref_ep, case.new)):
            cs = CHARSET.get(case.app, "utf8mb4")
            admin.execute(f"CREATE DATABASE {quote_ident(ep.schema)} DEFAULT CHARACTER SET {cs}")
            load_sql(split_sql(schema_only(path), str(path)), ep, target_schema=ep.schema)
        seed(admin, old_ep.schema)
        keep = untouched(admin, old_ep.schema, ref_ep.schema)
        before = checksums(admin, old_ep.schema, keep)
        to = url(old_ep)
        code, out = myshift("plan", "--to", to, "--desired", str(desired), "--format", "sql")
        if code != 0:
            return f"plan without --allow-drop: exit {code}: {one_line(out)}"
        code, out = myshift("apply", "--to", to, "--desired", str(desired), "--allow-drop", "--yes")
        if code != 0:
            return f"apply --allow-drop: exit {code}: {one_line(out)}"
        code, out = myshift(
            "plan", "--to", to, "--desired", str(desired), "--allow-drop", "--check",
            "--format", "sql",
        )  # fmt: skip
        if code != 0:
            return f"re-plan: exit {code}: {one_line(out)}"
        got, want = show_creates(admin, old_ep.schema), show_creates(admin, ref_ep.schema)
        if set(got) != set(want):
            return f"tables differ: {sorted(set(got) ^ set(want))}"
        for t in sorted(want):
            if _comparable(got[t]) != _comparable(want[t]):
                g, w = got[t].splitlines(), want[t].splitlines()
                gone = [x.strip() for x in g if x not in w]
                wanted = [x.strip() for x in w if x not in g]
                return f"SHOW CREATE TABLE {t}: has {gone}, not {wanted}"
        got, want = other_objects(admin, old_ep.schema), other_objects(admin, ref_ep.schema)
        if set(got) != set(want):
            return f"views/routines differ: {sorted(set(got) ^ set(want))}"
        for name in sorted(want):
            if got[name] != want[name]:
                return f"SHOW CREATE {name} differs: {one_line(got[name], 120)}"
        after = checksums(admin, old_ep.schema, keep)
        changed = sorted(t for t in before if before[t] != after[t])
        if changed:
            return f"rows of untouched columns changed in {changed}"
        return ""
    finally:
        for ep in (old_ep, ref_ep):
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(ep.schema)}")


@dataclass
class Outcome:
    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def read_expected(path: Path) -> dict[str, str]:
    expected: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, reason = line.partition(": ")
                expected[name.strip()] = reason.strip()
    return expected


def write_expected(path: Path, out: Outcome, old: dict[str, str]) -> None:
    lines = [
        "# Application-schema cases (tests/test_appschemas.py) that do not pass on MariaDB 10.11.",
        "# One `app old -> new: class N: reason` per line, N the issue-12 class; the test",
        "# requires this exact set. Regenerate with MYSHIFT_UPDATE_APPSCHEMAS=1 and classify.",
        "# `class N: <why it is right>; seen: <reason>`: a kept refusal: it must fail so.",
    ]
    for name, reason in sorted(out.failed.items()):
        cls, _, why = old.get(name, "class ?: ").partition(": ")
        note, seen, _ = why.partition(SEEN)
        lines.append(f"{name}: {cls}: {note + seen if seen else ''}{reason}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Config and the audit log come from the working directory: keep them private."""
    monkeypatch.chdir(tmp_path)


def test_application_schema_histories(
    server: LocalServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    all_cases = cases()
    assert len(all_cases) >= 20, "the application corpus is missing"
    out = Outcome()
    with connect(endpoint_of(server)) as admin:
        for case in all_cases:
            why = run_case(case, server, admin, tmp_path)
            # Stable reasons: no per-run schema or temporary table names.
            why = re.sub(r"`[ar]_[0-9a-f]{10}`", "`S`", why)
            why = re.sub(r"#sql-alter-[0-9a-f-]+", "#sql-alter", why)
            if why:
                out.failed[case.name] = why
            else:
                out.passed.append(case.name)
    expected = read_expected(FAILURES_FILE)
    by_class: dict[str, int] = {}
    for name in out.failed:
        cls = expected.get(name, "class ?").split(":", 1)[0]
        by_class[cls] = by_class.get(cls, 0) + 1
    summary = [
        f"application schemas: {len(all_cases)} cases ({', '.join(apps())}), "
        f"{len(out.passed)} passed, {len(out.failed)} failed"
        + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(by_class.items()))})" if by_class else ""),
        *(f"  FAILED {n}: {r}" for n, r in sorted(out.failed.items())),
    ]

    class _Report:
        def pytest_terminal_summary(self, terminalreporter: Any) -> None:
            terminalreporter.section("application schemas")
            for line in summary:
                terminalreporter.write_line(line)

    request.config.pluginmanager.register(_Report(), "myshift-appschemas-summary")
    if os.environ.get("MYSHIFT_UPDATE_APPSCHEMAS"):
        write_expected(FAILURES_FILE, out, expected)
        expected = read_expected(FAILURES_FILE)
    problems = [f"new failure {n}: {r}" for n, r in sorted(out.failed.items()) if n not in expected]
    # A case kept as the right outcome ("...; seen: <reason>") must fail exactly so.
    problems += [
        f"{n} no longer fails as expected ({expected[n].partition(SEEN)[2]}): {r}"
        for n, r in sorted(out.failed.items())
        if SEEN in expected.get(n, "") and expected[n].partition(SEEN)[2] != r
    ]
    problems += [f"{n} is listed as failing but now passes" for n in expected if n in out.passed]
    assert not problems, "\n".join([summary[0], *problems])


def test_checksums_see_a_changed_value(server: LocalServer) -> None:
    """The row comparison can fail: one changed value changes the table's checksum."""
    ep = endpoint_of(server, f"k_{uuid.uuid4().hex[:10]}")
    with connect(endpoint_of(server)) as admin:
        admin.execute(f"CREATE DATABASE {quote_ident(ep.schema)}")
        try:
            admin.execute(f"CREATE TABLE {quote_ident(ep.schema)}.t (a INT, b VARCHAR(5))")
            admin.execute(f"INSERT INTO {quote_ident(ep.schema)}.t VALUES (1, 'x'), (2, NULL)")
            cols = {"t": ["a", "b"]}
            before = checksums(admin, ep.schema, cols)
            admin.execute(f"UPDATE {quote_ident(ep.schema)}.t SET b = '' WHERE a = 2")
            assert checksums(admin, ep.schema, cols) != before
        finally:
            admin.execute(f"DROP DATABASE {quote_ident(ep.schema)}")
