"""Recorded MySQL output -> the rows ``build_schema`` reads (test support for test_mysql_truth).

A recorded ``SHOW CREATE TABLE`` text is all the harvested fixtures hold.
``rows_from_show_create`` derives from it the information_schema rows MySQL 8
would have returned for that table (COLUMNS, STATISTICS, foreign keys,
CHECKs, TABLES), following the catalogue's own conventions (quotes escaped
as ``\\'`` in expressions, expression defaults without their parentheses,
the effective charset/collation of every string column, ...), so the table
goes through the same ``build_schema`` + self-check path a live MySQL server's
rows take.  What it cannot derive (partitions, unknown syntax) it says, in one
phrase, instead of guessing: such tables are counted as not checked.

(mysqlderive.py derives the text a server would show for simple CREATE and
ALTER statements, for the files that never print SHOW CREATE TABLE.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from myshift.engine.introspect import IntrospectionRows

# The default collation MySQL 8 gives a character set named without COLLATE.
DEFAULT_COLLATION = {
    "utf8mb4": "utf8mb4_0900_ai_ci",
    "utf8mb3": "utf8mb3_general_ci",
    "utf8": "utf8_general_ci",
    "latin1": "latin1_swedish_ci",
    "latin2": "latin2_general_ci",
    "latin5": "latin5_turkish_ci",
    "latin7": "latin7_general_ci",
    "koi8r": "koi8r_general_ci",
    "gb2312": "gb2312_chinese_ci",
    "gb18030": "gb18030_chinese_ci",
    "ujis": "ujis_japanese_ci",
    "ascii": "ascii_general_ci",
    "binary": "binary",
    "ucs2": "ucs2_general_ci",
    "utf16": "utf16_general_ci",
    "utf32": "utf32_general_ci",
    "gbk": "gbk_chinese_ci",
    "big5": "big5_chinese_ci",
    "sjis": "sjis_japanese_ci",
    "cp1251": "cp1251_general_ci",
}
_STRING = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set")


class Underivable(Exception):
    """The harness cannot derive catalogue rows from this text (not a myshift verdict)."""


def _ident(text: str, i: int) -> tuple[str, int]:
    """The backtick-quoted identifier at text[i] and the index after it."""
    if text[i] != "`":
        raise Underivable(f"expected an identifier at {text[i : i + 20]!r}")
    out, j = [], i + 1
    while True:
        k = text.find("`", j)
        if k < 0:
            raise Underivable("unterminated identifier")
        if text.startswith("``", k):
            out.append(text[j : k + 1])
            j = k + 2
            continue
        out.append(text[j:k])
        return "".join(out), k + 1


def _balanced(text: str, i: int) -> int:
    """Index just after the parenthesis group that opens at text[i]."""
    depth, quote = 0, ""
    j = i
    while j < len(text):
        ch = text[j]
        if quote:
            if ch == "\\":
                j += 2
                continue
            if ch == quote:
                if text.startswith(quote * 2, j):
                    j += 2
                    continue
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise Underivable("unbalanced parentheses")


def _string(text: str, i: int) -> tuple[str, int]:
    """The value of the single-quoted SQL string at text[i] and the index after it."""
    if text[i] != "'":
        raise Underivable(f"expected a string at {text[i : i + 20]!r}")
    out, j = [], i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\" and j + 1 < len(text):
            out.append({"n": "\n", "t": "\t", "0": "\0", "r": "\r"}.get(text[j + 1], text[j + 1]))
            j += 2
            continue
        if ch == "'":
            if text.startswith("''", j):
                out.append("'")
                j += 2
                continue
            return "".join(out), j + 1
        out.append(ch)
        j += 1
    raise Underivable("unterminated string")


def _catalog_expr(expr: str) -> str:
    """An expression as information_schema prints it: quotes escaped."""
    return expr.replace("'", "\\'")


@dataclass
class _Table:
    charset: str
    collation: str


def column_row(table: str, name: str, col_type: str, n: int, **kw: Any) -> dict[str, Any]:
    """An information_schema COLUMNS row as ``build_schema`` reads it: a nullable column
    with no default, charset or comment, unless ``kw`` says otherwise."""
    row: dict[str, Any] = {
        "table_name": table,
        "name": name,
        "type": col_type,
        "nullable": "YES",
        "default": None,
        "extra": "",
        "charset": None,
        "collation": None,
        "comment": "",
        "generation": "",
        "srid": None,
        "ordinal": n,
    }
    row.update(kw)
    return row


_TYPE = re.compile(
    r"([a-z]+(?: precision)?)(\((?:[^()']|'(?:[^']|'')*')*\))?((?: unsigned)?(?: zerofill)?)"
)


def _column(line: str, table: str, n: int, tdef: _Table) -> dict[str, Any]:
    name, i = _ident(line, 0)
    m = _TYPE.match(line, i + 1)
    if not m:
        raise Underivable(f"column {name}: unknown type")
    col_type = m.group(0)
    base = m.group(1)
    rest = line[m.end() :]
    row = column_row(table, name, col_type, n)
    extra: list[str] = []
    charset = collation = None
    j = 0
    while j < len(rest):
        if rest.startswith(" CHARACTER SET ", j):
            k = rest.find(" ", j + 15)
            charset = rest[j + 15 : k if k > 0 else None]
            j = k if k > 0 else len(rest)
        elif rest.startswith(" COLLATE ", j):
            k = rest.find(" ", j + 9)
            collation = rest[j + 9 : k if k > 0 else None]
            j = k if k > 0 else len(rest)
        elif rest.startswith(" GENERATED ALWAYS AS ", j):
            start = j + len(" GENERATED ALWAYS AS ")
            end = _balanced(rest, start)
            row["generation"] = _catalog_expr(rest[start + 1 : end - 1])
            kind = rest[end:].split(" ", 2)[1]
            extra.append(f"{kind} GENERATED")
            j = end + 1 + len(kind)
        elif rest.startswith(" NOT NULL", j):
            row["nullable"] = "NO"
            j += 9
        elif rest.startswith(" NULL", j):
            j += 5
        elif rest.startswith(" DEFAULT ", j):
            j = _default(rest, j + 9, row, extra)
        elif rest.startswith(" ON UPDATE ", j):
            m2 = re.match(r"CURRENT_TIMESTAMP(?:\(\d*\))?", rest[j + 11 :])
            if not m2:
                raise Underivable(f"column {name}: ON UPDATE {rest[j + 11 : j + 30]}")
            extra.append(f"on update {m2.group(0)}")
            j += 11 + m2.end()
        elif rest.startswith(" AUTO_INCREMENT", j):
            extra.append("auto_increment")
            j += 15
        elif rest.startswith(" COMMENT ", j):
            row["comment"], j = _string(rest, j + 9)
        elif rest.startswith(" /*!80023 INVISIBLE */", j):
            extra.append("INVISIBLE")
            j += len(" /*!80023 INVISIBLE */")
        elif rest.startswith(" /*!80003 SRID ", j):
            k = rest.index(" */", j)
            row["srid"] = int(rest[j + 15 : k])
            j = k + 3
        else:
            raise Underivable(f"column {name}: cannot read {rest[j : j + 30]!r}")
    if base in _STRING:
        if charset is None and collation is None:
            charset, collation = tdef.charset, tdef.collation
        elif collation is None:
            collation = DEFAULT_COLLATION.get(str(charset))
            if collation is None:
                raise Underivable(f"column {name}: default collation of {charset}")
        elif charset is None:
            charset = collation.split("_", 1)[0]
    row["charset"], row["collation"] = charset, collation
    row["extra"] = " ".join(extra)
    return row


def _default(rest: str, j: int, row: dict[str, Any], extra: list[str]) -> int:
    if rest.startswith("'", j):
        row["default"], j = _string(rest, j)
        return j
    if rest.startswith("NULL", j):
        return j + 4
    if rest.startswith("(", j):
        end = _balanced(rest, j)
        row["default"] = _catalog_expr(rest[j + 1 : end - 1])
        extra.insert(0, "DEFAULT_GENERATED")
        return end
    m = re.match(r"CURRENT_TIMESTAMP(?:\(\d*\))?|b'[01]*'|-?\d+(?:\.\d+)?", rest[j:])
    if not m:
        raise Underivable(f"default {rest[j : j + 20]!r}")
    row["default"] = m.group(0)
    if m.group(0).startswith("CURRENT_TIMESTAMP"):
        extra.insert(0, "DEFAULT_GENERATED")
    return j + m.end()


def _index(line: str, table: str) -> list[dict[str, Any]]:
    kinds = (
        ("PRIMARY KEY ", "BTREE", 0),
        ("UNIQUE KEY ", "BTREE", 0),
        ("KEY ", "BTREE", 1),
        ("FULLTEXT KEY ", "FULLTEXT", 1),
        ("SPATIAL KEY ", "SPATIAL", 1),
    )
    found = [k for k in kinds if line.startswith(k[0])]
    if not found:
        raise Underivable(f"cannot read {line[:30]!r}")
    head, itype, non_unique = found[0]
    i = len(head)
    if head == "PRIMARY KEY ":
        name = "PRIMARY"
    else:
        name, i = _ident(line, i)
        i += 1
    end = _balanced(line, i)
    parts = _parts(line[i + 1 : end - 1])
    rest = line[end:]
    comment, invisible = "", False
    while rest:
        if rest.startswith(" USING "):
            rest = (
                rest[len(" USING BTREE") :] if rest[7:12] == "BTREE" else rest[len(" USING HASH") :]
            )
        elif rest.startswith(" COMMENT "):
            comment, k = _string(rest, 9)
            rest = rest[k:]
        elif rest.startswith(" /*!80000 INVISIBLE */"):
            invisible, rest = True, rest[len(" /*!80000 INVISIBLE */") :]
        else:
            raise Underivable(f"index {name}: cannot read {rest[:30]!r}")
    out = []
    for seq, (column, expr, length, desc) in enumerate(parts, 1):
        out.append(
            {
                "table_name": table,
                "name": name,
                "non_unique": non_unique,
                "seq": seq,
                "column_name": column,
                "direction": None if itype in ("FULLTEXT", "SPATIAL") else ("D" if desc else "A"),
                "sub_part": 32 if itype == "SPATIAL" else length,
                "index_type": itype,
                "comment": comment,
                "ignored": "YES" if invisible else "NO",
                "expression": _catalog_expr(expr) if expr is not None else None,
            }
        )
    return out


def _parts(text: str) -> list[tuple[str | None, str | None, int | None, bool]]:
    out: list[tuple[str | None, str | None, int | None, bool]] = []
    i = 0
    while i < len(text):
        if text[i] == "(":
            end = _balanced(text, i)
            expr, column, length = text[i + 1 : end - 1], None, None
            i = end
        else:
            column, i = _ident(text, i)
            expr, length = None, None
            if text.startswith("(", i):
                end = text.index(")", i)
                length, i = int(text[i + 1 : end]), end + 1
        desc = text.startswith(" DESC", i)
        i += 5 if desc else 0
        out.append((column, expr, length, desc))
        if text.startswith(",", i):
            i += 1
        elif i < len(text):
            raise Underivable(f"index part {text[i : i + 20]!r}")
    return out


_QN = r"`(?:[^`]|``)+`"
_FK = re.compile(
    rf"CONSTRAINT ({_QN}) FOREIGN KEY \((.*?)\) REFERENCES ({_QN}(?:\.{_QN})?)"
    r" \((.*?)\)((?: ON (?:DELETE|UPDATE) (?:CASCADE|SET NULL|SET DEFAULT|RESTRICT|NO ACTION))*)$"
)


def _names(text: str) -> list[str]:
    """Backticked names separated by ',' (index parts) or ', ' (foreign key lists:
    sql_show.cc prints `a1`, `a2` there)."""
    out, i = [], 0
    while i < len(text):
        name, i = _ident(text, i)
        out.append(name)
        i += 2 if text.startswith(", ", i) else 1
    return out


def _constraint(line: str, table: str, schema: str) -> tuple[str, list[dict[str, Any]]]:
    m = _FK.match(line)
    if m:
        name = _ident(m.group(1), 0)[0]
        ref = m.group(3)
        ref_schema, ref_table = schema, _ident(ref, 0)[0]
        if "`.`" in ref:
            ref_schema, k = _ident(ref, 0)
            ref_table = _ident(ref, k + 1)[0]
        actions = m.group(5)
        on_delete = re.search(
            r"ON DELETE (CASCADE|SET NULL|SET DEFAULT|RESTRICT|NO ACTION)", actions
        )
        on_update = re.search(
            r"ON UPDATE (CASCADE|SET NULL|SET DEFAULT|RESTRICT|NO ACTION)", actions
        )
        rows = [
            {
                "table_name": table,
                "name": name,
                "column_name": col,
                "ref_schema": ref_schema,
                "ref_table": ref_table,
                "ref_column": rcol,
                "ordinal": k,
                "on_delete": on_delete.group(1) if on_delete else "NO ACTION",
                "on_update": on_update.group(1) if on_update else "NO ACTION",
            }
            for k, (col, rcol) in enumerate(
                zip(_names(m.group(2)), _names(m.group(4)), strict=True), 1
            )
        ]
        return "fk", rows
    name, i = _ident(line, len("CONSTRAINT "))
    if not line.startswith(" CHECK (", i):
        raise Underivable(f"constraint {name}: cannot read")
    end = _balanced(line, i + 7)
    rest = line[end:]
    if rest not in ("", " /*!80016 NOT ENFORCED */"):
        raise Underivable(f"check {name}: cannot read {rest!r}")
    clause = _catalog_expr(line[i + 8 : end - 1])
    enforced = "NO" if rest else "YES"
    row = {"table_name": table, "name": name, "clause": clause, "enforced": enforced}
    return "check", [row | {"level": "Table"}]


_OPTS = re.compile(r"([A-Z_]+)=('(?:[^']|'')*'|\S+)")


def _options(line: str) -> dict[str, Any]:
    """The TABLES row from the ``) ENGINE=...`` line."""
    engine, charset, collation, comment = "", "", "", ""
    create_options: list[str] = []
    text = line[2:]
    while text:
        text = text.lstrip(" ")
        if text.startswith("DEFAULT CHARSET="):
            text = text[len("DEFAULT ") :]
        m = _OPTS.match(text)
        if not m:
            raise Underivable(f"table option {text[:30]!r}")
        key, value = m.group(1), m.group(2)
        text = text[m.end() :]
        if key == "ENGINE":
            engine = value
        elif key == "CHARSET":
            charset = value
        elif key == "COLLATE":
            collation = value
        elif key == "COMMENT":
            comment = _string(value, 0)[0]
        elif key == "AUTO_INCREMENT":
            continue
        else:
            create_options.append(f"{key.lower()}={value}")
    if not collation:
        collation = DEFAULT_COLLATION.get(charset, "")
        if not collation:
            raise Underivable(f"default collation of {charset}")
    return {
        "type": "BASE TABLE",
        "engine": engine,
        "collation": collation,
        "charset": charset,
        "create_options": " ".join(create_options),
        "comment": comment,
    }


_PART_BY = re.compile(r"^/\*!50100 PARTITION BY (LINEAR )?(RANGE|LIST|HASH|KEY) \((.*)\)$")
_PART_DEF = re.compile(
    r"^[( ]PARTITION (\w+) (?:VALUES (LESS THAN \((.*)\)|LESS THAN MAXVALUE|IN \((.*)\)) )?"
    r"ENGINE = InnoDB(?:,|\) \*/)$"
)


def _partitions(tail: list[str], table: str) -> list[dict[str, Any]]:
    """INFORMATION_SCHEMA.PARTITIONS rows of a simply partitioned table (one
    RANGE / LIST / HASH / KEY level, no COLUMNS, no subpartitions): the method,
    the expression as the server keeps it (backticks, ``year(`b`)``, '' for
    ``KEY ()``), the partitions' names and VALUES text, no comment."""
    m = _PART_BY.match(tail[0])
    if m is None:
        raise Underivable(f"partitioning {tail[0][:40]!r}")
    method = (m.group(1) or "") + m.group(2)
    parts: list[tuple[str, str | None]] = []
    count = re.fullmatch(r"PARTITIONS (\d+) \*/", tail[1]) if len(tail) == 2 else None
    if count is not None:
        parts = [(f"p{n}", None) for n in range(int(count.group(1)))]
    else:
        for line in tail[1:]:
            d = _PART_DEF.match(line)
            if d is None:
                raise Underivable(f"partition {line[:40]!r}")
            values = d.group(3) or d.group(4)
            parts.append((d.group(1), "MAXVALUE" if d.group(2) == "LESS THAN MAXVALUE" else values))
    return [
        {
            "table_name": table,
            "name": name,
            "sub_name": None,
            "method": method,
            "sub_method": None,
            "expression": m.group(3),
            "sub_expression": None,
            "description": values,
            "comment": "",
            "ordinal": n,
            "sub_ordinal": None,
        }
        for n, (name, values) in enumerate(parts, 1)
    ]


def rows_from_show_create(text: str, schema: str = "test") -> IntrospectionRows:
    """The catalogue rows of the table ``text`` shows (see the module docstring)."""
    lines = text.split("\n")
    if not lines[0].startswith("CREATE TABLE `") or not lines[0].endswith(" ("):
        raise Underivable("not a CREATE TABLE text")
    name, _ = _ident(lines[0], len("CREATE TABLE "))
    end = next((k for k, ln in enumerate(lines) if ln.startswith(") ")), None)
    if end is None:
        raise Underivable("no table options line")
    table = _options(lines[end])
    partitions = _partitions(lines[end + 1 :], name) if end != len(lines) - 1 else []
    if partitions:
        table["create_options"] = " ".join(["partitioned", table["create_options"]]).strip()
    tdef = _Table(table["charset"], table["collation"])
    columns: list[dict[str, Any]] = []
    stats: list[dict[str, Any]] = []
    fks: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    for raw in lines[1:end]:
        line = raw.strip().removesuffix(",")
        if line.startswith("`"):
            columns.append(_column(line, name, len(columns) + 1, tdef))
        elif line.startswith("CONSTRAINT "):
            kind, rows = _constraint(line, name, schema)
            (fks if kind == "fk" else checks).extend(rows)
        else:
            stats.extend(_index(line, name))
    return IntrospectionRows(
        schema=schema,
        charset=tdef.charset,
        collation=tdef.collation,
        tables=[{"name": name, **table}],
        columns=columns,
        statistics=stats,
        foreign_keys=fks,
        checks=checks,
        partitions=partitions,
        create_tables={name: text},
    )
