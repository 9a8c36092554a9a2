#!/usr/bin/env python3
"""Harvest recorded MySQL server behaviour from mysql-test ``.result`` files.

MySQL's own test suite records exactly what the server printed: every
statement is echoed as written, result sets follow as a tab-separated header
and rows, errors as ``ERROR <sqlstate>: <message>``.  ``SHOW CREATE TABLE``
prints ``Table\\tCreate Table`` and then ``t1\\tCREATE TABLE ...`` with the
table text's own newlines.  From those files this tool keeps only the minimal
facts the tests need, each with its source path, commit and line:

* **tables**: every ``SHOW CREATE TABLE`` text, with the DDL statements that
  made the table (its CREATE and the successful ALTERs since);
* **outcomes**: every ``ALTER TABLE ... ALGORITHM=X`` (and CREATE/DROP INDEX
  with one), accepted or refused, with the server's error line, the table
  text shown just before / after it when the file shows one, the last
  ``TOTAL_ROW_VERSIONS`` read for the table, and the DDL history of the table
  (and, for one that adds a foreign key, the session's ``foreign_key_checks``).

Sources and licences
--------------------
The ``.result`` files are part of mysql/mysql-server (GPL-2.0-only, with the
Universal FOSS Exception); forks keep the same licence and are named as
such.  The files are NOT copied into this repository: ``SOURCES`` (in
harvest_sources.py) names each one (repository, path, commit, the MySQL version it shows and why),
and the harvester reads local copies from a cache directory (default
``.cache/mysql-results``, git-ignored).  The copies were taken with the
project's code-search tool (``read_file`` at the pinned commit; each chunk is
stored as the JSON string it returned, 16,000 characters each).  A fixture
may cover only a prefix of its file (``chars`` < ``total_chars``): line
numbers stay exact because a prefix is never cut in the middle.

Run: ``python tools/harvest_mysql_results.py [--cache DIR] [--out DIR] [--only ID]``
(writes tests/data/mysql_recorded/<id>.json, one per source file; ``--only``
re-harvests the named sources when the cache holds only theirs).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harvest_sources import SOURCES as _SOURCES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LICENSE = "GPL-2.0-only (mysql-server test suite, Universal FOSS Exception)"

# The sources (one entry per .result file) live in harvest_sources.py.
SOURCES: list[dict[str, Any]] = _SOURCES

_KEYWORDS = (
    "ALTER",
    "ANALYZE",
    "BEGIN",
    "CALL",
    "CHECK",
    "COMMIT",
    "CREATE",
    "DELETE",
    "DROP",
    "EXPLAIN",
    "FLUSH",
    "INSERT",
    "LOCK",
    "OPTIMIZE",
    "RENAME",
    "REPLACE",
    "ROLLBACK",
    "SELECT",
    "SET",
    "SHOW",
    "TRUNCATE",
    "UNLOCK",
    "UPDATE",
    "USE",
    "WITH",
)
_STMT_START = re.compile(r"^(?:" + "|".join(_KEYWORDS) + r")\b", re.IGNORECASE)
_ERROR = re.compile(r"^ERROR (\w{5}): (.*)$")
_ALGO = re.compile(r"\bALGORITHM\s*=\s*(INSTANT|INPLACE|COPY|DEFAULT)\b", re.IGNORECASE)
_LOCK = re.compile(r"\bLOCK\s*=\s*(NONE|SHARED|EXCLUSIVE|DEFAULT)\b", re.IGNORECASE)
_IDENT = r"(?:`(?:[^`]|``)+`|[\w$\u0080-\U0010ffff]+)"
_QNAME = rf"({_IDENT}(?:\.{_IDENT})?)"
_ALTER = re.compile(rf"^ALTER\s+(?:ONLINE\s+|IGNORE\s+)?TABLE\s+{_QNAME}", re.IGNORECASE)
_CREATE = re.compile(
    rf"^CREATE\s+(TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{_QNAME}", re.IGNORECASE
)
_DROP = re.compile(r"^DROP\s+(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+EXISTS\s+)?(.*?);?$", re.I | re.S)
_RENAME = re.compile(rf"^RENAME\s+TABLES?\s+{_QNAME}\s+TO\s+{_QNAME}", re.IGNORECASE)
_RENAME_TO = re.compile(rf"\bRENAME\s+(?:TO\s+|AS\s+)?{_QNAME}\s*(?:,|;|$)", re.IGNORECASE)
_INDEX_ON = re.compile(
    rf"^(?:CREATE\s+(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX|DROP\s+INDEX)\s+{_IDENT}\s+ON\s+"
    rf"{_QNAME}",
    re.IGNORECASE,
)
_USE = re.compile(rf"^USE\s+({_IDENT})\s*;", re.IGNORECASE)
_GIPK = re.compile(
    r"^SET\s+(?:SESSION\s+)?sql_generate_invisible_primary_key\s*=\s*(ON|OFF|1|0)\b", re.I
)
_FK_CHECKS = re.compile(
    r"^SET\s+(?:SESSION\s+)?foreign_key_checks\s*=\s*(ON|OFF|1|0)\b", re.IGNORECASE
)
_ADDS_FK = re.compile(r"\bADD\s+(?:CONSTRAINT\b.*?)?FOREIGN\s+KEY\b", re.IGNORECASE | re.DOTALL)
_QUOTE_SHOW = re.compile(r"(?<![@\w])sql_quote_show_create\s*=\s*([^\s,;]+)", re.IGNORECASE)
_SQL_MODE = re.compile(r"(?<![@\w])sql_mode\s*=\s*('[^']*'|\"[^\"]*\"|[^\s,;]+)", re.IGNORECASE)
_SHOW_CREATE = re.compile(rf"^SHOW\s+CREATE\s+TABLE\s+{_QNAME}\s*;", re.IGNORECASE)


def _unquote(name: str) -> str:
    return name[1:-1].replace("``", "`") if name.startswith("`") else name


def _key(qname: str, db: str) -> tuple[str, str]:
    parts = re.findall(_IDENT, qname)
    names = [_unquote(p) for p in parts]
    if len(names) == 2:
        return names[0].lower(), names[1].lower()
    return db.lower(), names[0].lower()


@dataclass
class Statement:
    line: int  # 1-based line of the statement's first line
    sql: str
    output: list[str] = field(default_factory=list)
    output_line: int = 0

    @property
    def error(self) -> tuple[str, str] | None:
        for text in self.output:
            m = _ERROR.match(text)
            if m:
                return m.group(1), m.group(2)
        return None


def split_statements(text: str) -> list[Statement]:
    """The statements of a .result file, each with the output lines after it."""
    lines = text.split("\n")
    out: list[Statement] = []
    cur: Statement | None = None
    i = 0
    while i < len(lines):
        raw = lines[i]
        if cur is not None and not _ends(cur.sql):
            cur.sql += "\n" + raw
            i += 1
            continue
        if raw.startswith("#") or raw == "":
            i += 1
            continue
        if "\t" not in raw and _STMT_START.match(raw):
            cur = Statement(i + 1, raw)
            out.append(cur)
            i += 1
            if cur.sql.upper().startswith("SHOW CREATE TABLE") and _ends(cur.sql):
                i = _take_show_create(lines, i, cur)
            continue
        if cur is not None:
            if not cur.output:
                cur.output_line = i + 1
            cur.output.append(raw)
        i += 1
    return out


def _ends(sql: str) -> bool:
    s = sql.rstrip()
    return s.endswith(";") or s.endswith("|")


def _take_show_create(lines: list[str], i: int, st: Statement) -> int:
    """Consume a SHOW CREATE TABLE result (header, then the text over several lines)."""
    if i >= len(lines) or lines[i] != "Table\tCreate Table":
        return i
    st.output_line = i + 1
    st.output.append(lines[i])
    i += 1
    if i >= len(lines) or "\tCREATE TABLE " not in lines[i]:
        return i
    st.output_line = i + 1
    body = [lines[i]]
    i += 1
    while i < len(lines):
        body.append(lines[i])
        i += 1
        if body[-1].startswith(")") and (" ENGINE=" in body[-1] or body[-1] == ")"):
            break
    if i < len(lines) and lines[i].startswith("/*!50"):
        while i < len(lines):
            body.append(lines[i])
            i += 1
            if body[-1].endswith("*/"):
                break
    st.output.append("\n".join(body))
    return i


@dataclass
class _TableState:
    history: list[dict[str, Any]] = field(default_factory=list)
    shown: dict[str, Any] | None = None  # the last SHOW CREATE, while still true
    row_versions: int | None = None


def _algo(sql: str) -> tuple[str | None, str | None]:
    a, lk = _ALGO.search(sql), _LOCK.search(sql)
    return (a.group(1).upper() if a else None), (lk.group(1).upper() if lk else None)


def _outcome_kind(err: tuple[str, str] | None) -> str:
    if err is None:
        return "accepted"
    state, msg = err
    if state == "0A000" and msg.startswith("ALGORITHM="):
        return "refused"
    if msg.startswith("Maximum row versions reached"):
        return "refused"
    if state == "0A000" and msg.startswith("LOCK="):
        return "lock-refused"
    return "error"


def harvest(text: str, source: dict[str, Any]) -> dict[str, Any]:
    """The fixture of one .result file (see the module docstring)."""
    db = "test"
    state: dict[tuple[str, str], _TableState] = {}
    tables: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    pending: dict[tuple[str, str], list[dict[str, Any]]] = {}
    sid = source["id"]

    def touched(key: tuple[str, str]) -> None:
        st = state.setdefault(key, _TableState())
        st.shown = None
        pending.pop(key, None)

    session: dict[str, str] = {}
    fk_checks = "ON"  # the server's default
    plain = {"quote": True, "ansi": False}  # how SHOW CREATE quotes names now
    for stmt in split_statements(text):
        sql = stmt.sql
        err = stmt.error
        if err is None and sql.upper().startswith("SET ") and "GLOBAL" not in sql.upper():
            _quoting(sql, plain)
        m = _FK_CHECKS.match(sql)
        if m and err is None:
            fk_checks = "ON" if m.group(1).upper() in ("ON", "1") else "OFF"
            continue
        m = _GIPK.match(sql)
        if m and err is None:
            on = m.group(1).upper() in ("ON", "1")
            session["sql_generate_invisible_primary_key"] = "ON" if on else "OFF"
            continue
        m = _USE.match(sql)
        if m and err is None:
            db = _unquote(m.group(1))
            continue
        m = _SHOW_CREATE.match(sql)
        if m and (not plain["quote"] or plain["ansi"]):
            # sql_quote_show_create=OFF or ANSI_QUOTES: the text quotes names as no
            # tool's own session sees them; not harvested (no table is shown).
            continue
        if m and err is None and len(stmt.output) == 2:
            key = _key(m.group(1), db)
            create = stmt.output[1].split("\t", 1)[1]
            st = state.setdefault(key, _TableState())
            entry = {
                "id": f"{sid}:{stmt.output_line}",
                "line": stmt.output_line,
                "statement_line": stmt.line,
                "table": key[1],
                "show_create": create,
                "history": list(st.history),
            }
            tables.append(entry)
            st.shown = {"line": stmt.output_line, "text": create}
            for oc in pending.pop(key, []):
                slot = "after" if oc["outcome"] == "accepted" else "before"
                if oc.get(slot) is None:
                    oc[slot] = {"line": stmt.output_line, "text": create}
            continue
        n = len(outcomes)
        _ddl(stmt, db, state, outcomes, pending, touched, sid, dict(session))
        if len(outcomes) > n and _ADDS_FK.search(sql):
            # InnoDB adds a foreign key in place only with foreign_key_checks=0
            # ("Adding foreign keys needs foreign_key_checks=OFF"): the session
            # decides the outcome, so it is kept with it.
            outcomes[-1]["foreign_key_checks"] = fk_checks
        if "TOTAL_ROW_VERSIONS" in (stmt.output[0] if stmt.output else ""):
            _row_versions(stmt, state, db)
    return {
        "source": {k: v for k, v in source.items() if k != "chunks"}
        | {"license": LICENSE, "url": _url(source)},
        "tables": tables,
        "outcomes": outcomes,
    }


def _quoting(sql: str, plain: dict[str, bool]) -> None:
    """Track the session settings that change how SHOW CREATE quotes names: a saved
    value put back (``@old_...``) is taken as the default it saved."""
    m = _QUOTE_SHOW.search(sql)
    if m:
        plain["quote"] = m.group(1).strip("'\"").upper() not in ("0", "OFF")
    m = _SQL_MODE.search(sql)
    if m:
        modes = {x.strip() for x in m.group(1).strip("'\"").upper().split(",")}
        plain["ansi"] = bool(modes & {"ANSI_QUOTES", "ANSI"})


def _url(source: dict[str, Any]) -> str:
    return f"https://github.com/{source['repo']}/blob/{source['commit']}/{source['path']}"


def _row_versions(stmt: Statement, state: dict[tuple[str, str], _TableState], db: str) -> None:
    header = stmt.output[0].split("\t")
    col = header.index("TOTAL_ROW_VERSIONS")
    for row in stmt.output[1:]:
        cells = row.split("\t")
        if len(cells) != len(header) or "/" not in cells[0]:
            break
        sch, name = cells[0].split("/", 1)
        state.setdefault((sch.lower(), name.lower()), _TableState()).row_versions = int(cells[col])


def _ddl(
    stmt: Statement,
    db: str,
    state: dict[tuple[str, str], _TableState],
    outcomes: list[dict[str, Any]],
    pending: dict[tuple[str, str], list[dict[str, Any]]],
    touched: Any,
    sid: str,
    session: dict[str, str],
) -> None:
    sql, err = stmt.sql, stmt.error
    flat = " ".join(sql.split())
    m = _CREATE.match(flat)
    if m:
        if err is None:
            key = _key(m.group(2), db)
            entry: dict[str, Any] = {"line": stmt.line, "sql": sql, "temporary": bool(m.group(1))}
            if session:
                entry["session"] = session
            state[key] = _TableState(history=[entry])
            pending.pop(key, None)
        return
    m = _RENAME.match(flat)
    if m:
        if err is None:
            old, new = _key(m.group(1), db), _key(m.group(2), db)
            st = state.pop(old, _TableState())
            st.history.append({"line": stmt.line, "sql": sql})
            st.shown = None
            state[new] = st
            pending.pop(old, None)
        return
    m = _DROP.match(flat)
    if m and not flat.upper().startswith("DROP INDEX"):
        if err is None:
            for name in m.group(1).split(","):
                key = _key(name.strip(), db)
                state.pop(key, None)
                pending.pop(key, None)
        return
    m = _ALTER.match(flat) or _INDEX_ON.match(flat)
    if not m:
        return
    key = _key(m.group(1), db)
    st = state.setdefault(key, _TableState())
    algorithm, lock = _algo(flat)
    kind = _outcome_kind(err)
    if algorithm in ("INSTANT", "INPLACE", "COPY") and kind != "error":
        before = st.shown
        oc: dict[str, Any] = {
            "id": f"{sid}:{stmt.line}",
            "line": stmt.line,
            "table": key[1],
            "database": key[0],
            "sql": sql,
            "algorithm": algorithm,
            "lock": lock,
            "outcome": kind,
            "error": f"ERROR {err[0]}: {err[1]}" if err else None,
            "before": dict(before) if before else None,
            "after": None,
            "total_row_versions": st.row_versions,
            "history": list(st.history),
            "temporary": any(h.get("temporary") for h in st.history),
        }
        outcomes.append(oc)
    else:
        oc = {}
    if err is None:
        touched(key)
        st.history.append({"line": stmt.line, "sql": sql})
        rm = _RENAME_TO.search(flat)
        if rm and flat.upper().startswith("ALTER"):
            new = _key(rm.group(1), db)
            if new != key:
                state[new] = state.pop(key)
    if oc:
        pending.setdefault(key, []).append(oc)


def load_text(source: dict[str, Any], cache: Path) -> str:
    text = "".join(json.loads((cache / c).read_text(encoding="utf-8")) for c in source["chunks"])
    if len(text) > source["total_chars"]:
        raise SystemExit(f"{source['id']}: {len(text)} characters, more than the file has")
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--cache", type=Path, default=ROOT / ".cache" / "mysql-results")
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "mysql_recorded")
    ap.add_argument(
        "--only",
        action="append",
        metavar="ID",
        help="harvest only this source (repeatable); the others' fixtures stay as they are",
    )
    args = ap.parse_args(argv)
    unknown = set(args.only or ()) - {s["id"] for s in SOURCES}
    if unknown:
        ap.error(f"no source with id {', '.join(sorted(unknown))}: pick one from SOURCES")
    args.out.mkdir(parents=True, exist_ok=True)
    for source in SOURCES:
        if args.only and source["id"] not in args.only:
            continue
        text = load_text(source, args.cache)
        fixture = harvest(text, source)
        fixture["source"]["chars"] = len(text)
        fixture["source"]["lines"] = text.count("\n")
        path = args.out / f"{source['id']}.json"
        path.write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n", "utf-8")
        n_t, n_o = len(fixture["tables"]), len(fixture["outcomes"])
        print(f"{path.name}: {n_t} tables, {n_o} outcomes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
