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

``create_to_show`` / ``apply_alter`` derive the text a server would show for
the simple CREATE and ALTER statements of the instant-DDL test files, which
never print SHOW CREATE TABLE: the before-table of a recorded refusal.  Every
such text is marked derived wherever it is used.
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
_NO_DEFAULT_NULL = ("blob", "text", "geometry", "point", "linestring", "polygon", "json")


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
    out, i = [], 0
    while i < len(text):
        name, i = _ident(text, i)
        out.append(name)
        i += 1
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


def rows_from_show_create(text: str, schema: str = "test") -> IntrospectionRows:
    """The catalogue rows of the table ``text`` shows (see the module docstring)."""
    lines = text.split("\n")
    if not lines[0].startswith("CREATE TABLE `") or not lines[0].endswith(" ("):
        raise Underivable("not a CREATE TABLE text")
    name, _ = _ident(lines[0], len("CREATE TABLE "))
    end = next((k for k, ln in enumerate(lines) if ln.startswith(") ")), None)
    if end is None:
        raise Underivable("no table options line")
    if end != len(lines) - 1:
        raise Underivable("partitioned (the harness derives no partition rows)")
    table = _options(lines[end])
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
        create_tables={name: text},
    )


# ---------------------------------------------------------------------------
# Simple CREATE / ALTER statements -> the text a server shows (derived)

_KNOWN_TYPES = frozenset(
    [
        "tinyint",
        "smallint",
        "mediumint",
        "int",
        "bigint",
        "decimal",
        "float",
        "double",
        "bit",
        "char",
        "varchar",
        "binary",
        "varbinary",
        "tinytext",
        "text",
        "mediumtext",
        "longtext",
        "tinyblob",
        "blob",
        "mediumblob",
        "longblob",
        "date",
        "datetime",
        "timestamp",
        "time",
        "year",
        "json",
        "enum",
        "set",
        "geometry",
        "point",
        "linestring",
        "polygon",
        "multipoint",
        "multilinestring",
        "multipolygon",
        "geometrycollection",
    ]
)
_WIDTH = {"tinyint": 4, "smallint": 6, "mediumint": 9, "int": 11, "integer": 11, "bigint": 20}


def _split_top(text: str) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


def _q(name: str) -> str:
    return "`" + name.strip("`") + "`"


@dataclass
class DerivedColumn:
    name: str
    type: str
    not_null: bool
    default: str | None
    auto_increment: bool = False

    def line(self) -> str:
        out = f"{_q(self.name)} {self.type}"
        if self.not_null:
            out += " NOT NULL"
        if self.auto_increment:
            out += " AUTO_INCREMENT"
        elif self.default is not None:
            out += f" DEFAULT '{self.default}'"
        elif not self.not_null and not self.type.split("(")[0].endswith(_NO_DEFAULT_NULL):
            out += " DEFAULT NULL"
        return out


@dataclass
class Derived:
    """A table as a server would show it, derived from simple statements."""

    name: str
    columns: list[DerivedColumn]
    primary: list[str]
    keys: list[tuple[str, str]]  # (name, rendered line), non-primary
    options: str

    def text(self) -> str:
        body = [c.line() for c in self.columns]
        if self.primary:
            body.append("PRIMARY KEY (" + ",".join(_q(c) for c in self.primary) + ")")
        order = {"UNIQUE": 0, "KEY": 1, "FULLTEXT": 2, "SPATIAL": 2}
        keys = sorted(self.keys, key=lambda k: order[k[1].split(" ", 1)[0]])
        body += [line for _, line in keys]
        inner = ",\n".join("  " + b for b in body)
        return f"CREATE TABLE {_q(self.name)} (\n{inner}\n) {self.options}"


_COLDEF = re.compile(
    r"^(`[^`]+`|\w+)\s+([A-Za-z]+)(\s*\([^)]*\))?((?:\s+UNSIGNED)?)(.*)$", re.IGNORECASE | re.DOTALL
)


def _coldef(spec: str, width: bool) -> tuple[DerivedColumn, str | None]:
    """The column a simple definition makes, and the key kind it adds (or None)."""
    m = _COLDEF.match(spec.strip())
    if not m:
        raise Underivable(f"column definition {spec!r}")
    name, base, args, unsigned, rest = m.groups()
    name = name.strip("`")
    base = base.lower()
    if base not in _KNOWN_TYPES:
        raise Underivable(f"column {name}: type {base} (an alias or unknown)")
    typ = base + (args.replace(" ", "").lower() if args else "")
    if base in _WIDTH and not args and width:
        typ += f"({_WIDTH[base] - (1 if unsigned else 0)})"
    if unsigned:
        typ += " unsigned"
    rest_u = " ".join(rest.split()).upper()
    key = None
    for word, kind in (("UNIQUE KEY", "UNIQUE"), ("PRIMARY KEY", "PRIMARY"), ("KEY", "PRIMARY")):
        if rest_u.endswith(word):
            key, rest_u = kind, rest_u[: -len(word)].strip()
            break
    auto_inc = " AUTO_INCREMENT" in f" {rest_u}"
    rest_u = " ".join(rest_u.replace("AUTO_INCREMENT", "").split())
    not_null = "NOT NULL" in rest_u or key == "PRIMARY"
    rest_u = rest_u.replace("NOT NULL", "").strip()
    default = None
    if rest_u:
        lit = re.search(
            r"DEFAULT\s+(?:'([^']*)'|\"([^\"]*)\"|(-?\d+))\s*$",
            " ".join(rest.split()),
            re.IGNORECASE,
        )
        if lit is None or not rest_u.startswith("DEFAULT"):
            raise Underivable(f"column {name}: {rest_u!r}")
        default = next(g for g in lit.groups() if g is not None)
    return DerivedColumn(name, typ, not_null, default, auto_inc), key


def create_to_show(sql: str, width: bool) -> Derived:
    """The table a simple ``CREATE TABLE`` makes (8.0 display rules; ``width``:
    integer display widths, printed before 8.0.19)."""
    m = re.match(
        r"^CREATE\s+TABLE\s+(`[^`]+`|\w+)\s*\((.*)\)\s*([^()]*?)\s*;?\s*$", sql, re.I | re.S
    )
    if not m:
        raise Underivable("not a simple CREATE TABLE")
    name, body, opts = m.group(1).strip("`"), m.group(2), m.group(3)
    t = Derived(name, [], [], [], "")
    for spec in _split_top(body):
        _add_spec(t, spec, width)
    options = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci"
    for opt in re.findall(r"(\w+)\s*=\s*(\w+)", opts):
        key = opt[0].upper()
        if key == "ENGINE":
            if opt[1].upper() != "INNODB":
                raise Underivable(f"engine {opt[1]}")
        elif key == "ROW_FORMAT":
            options += f" ROW_FORMAT={opt[1].upper()}"
        else:
            raise Underivable(f"table option {key}")
    t.options = options
    return t


def _add_spec(t: Derived, spec: str, width: bool, position: str = "") -> None:
    m = re.match(
        r"^(PRIMARY KEY|UNIQUE(?: KEY| INDEX)?|KEY|INDEX|FULLTEXT(?: KEY| INDEX)?)"
        r"\s*(`?\w*`?)\s*\((.*)\)$",
        spec.strip(),
        re.IGNORECASE | re.DOTALL,
    )
    if m:
        kind = m.group(1).upper().split()[0]
        cols = [c.strip().strip("`") for c in m.group(3).split(",")]
        if any(not re.fullmatch(r"\w+", c) for c in cols):
            raise Underivable(f"index {spec!r}")
        if kind == "PRIMARY":
            t.primary = cols
            for c in t.columns:
                if c.name in cols:
                    c.not_null = True
            return
        name = m.group(2).strip("`") or _free_name(t, cols[0])
        head = {"UNIQUE": "UNIQUE KEY", "KEY": "KEY", "INDEX": "KEY", "FULLTEXT": "FULLTEXT KEY"}
        t.keys.append((name, f"{head[kind]} {_q(name)} (" + ",".join(_q(c) for c in cols) + ")"))
        return
    if spec.upper().startswith(("CONSTRAINT", "FOREIGN", "CHECK", "SPATIAL")):
        raise Underivable(f"definition {spec!r}")
    col, key = _coldef(spec, width)
    if position.upper() == "FIRST":
        t.columns.insert(0, col)
    elif position:
        after = position.split()[1].strip("`")
        idx = [c.name for c in t.columns].index(after)
        t.columns.insert(idx + 1, col)
    else:
        t.columns.append(col)
    if key == "PRIMARY":
        t.primary = [col.name]
    elif key == "UNIQUE":
        t.keys.append((col.name, f"UNIQUE KEY {_q(col.name)} ({_q(col.name)})"))


def _free_name(t: Derived, col: str) -> str:
    taken = {n for n, _ in t.keys}
    name, k = col, 2
    while name in taken:
        name, k = f"{col}_{k}", k + 1
    return name


def apply_alter(t: Derived, sql: str, width: bool) -> Derived:
    """The table after a simple ALTER (ADD/DROP COLUMN, ADD INDEX/PRIMARY KEY)."""
    m = re.match(r"^ALTER\s+TABLE\s+(`[^`]+`|\w+)\s+(.*?);?\s*$", sql, re.I | re.S)
    if not m:
        raise Underivable("not a simple ALTER TABLE")
    cols = [
        DerivedColumn(c.name, c.type, c.not_null, c.default, c.auto_increment) for c in t.columns
    ]
    out = Derived(t.name, cols, list(t.primary), list(t.keys), t.options)
    for clause in _split_top(m.group(2)):
        c = " ".join(clause.split())
        cu = c.upper()
        if cu.startswith(("ALGORITHM", "LOCK")):
            continue
        if cu.startswith("ADD COLUMN ") or (
            cu.startswith("ADD ")
            and not re.match(r"ADD (PRIMARY|UNIQUE|KEY|INDEX|FULLTEXT|CONSTRAINT|SPATIAL)", cu)
        ):
            spec = c[len("ADD COLUMN ") :] if cu.startswith("ADD COLUMN ") else c[4:]
            if spec.startswith("(") and spec.endswith(")"):
                for one in _split_top(spec[1:-1]):
                    _add_spec(out, one, width)
                continue
            pos = ""
            mm = re.search(r"\s+(FIRST|AFTER\s+`?\w+`?)$", spec, re.IGNORECASE)
            if mm:
                pos, spec = mm.group(1), spec[: mm.start()]
            _add_spec(out, spec, width, pos)
        elif cu.startswith("ADD "):
            _add_spec(out, c[4:], width)
        elif cu.startswith("DROP COLUMN "):
            col = c[len("DROP COLUMN ") :].strip("`")
            if col in out.primary:
                out.primary = []
            out.columns = [x for x in out.columns if x.name != col]
            out.keys = [(n, ln) for n, ln in out.keys if f"`{col}`" not in ln.split("(", 1)[1]]
        else:
            raise Underivable(f"clause {c!r}")
    return out
