"""Simple CREATE / ALTER statements -> the SHOW CREATE TABLE text a MySQL 8 server shows.

The instant-DDL test files (and Vitess's capability cases) never print SHOW
CREATE TABLE, so the before- and after-table of their ALTERs are derived
here from the statements, with MySQL 8's display rules.  Only simple
definitions are handled; anything else raises ``Underivable`` (the harness
declines, it never guesses).  test_mysql_truth checks the derivation
against every recorded text it can derive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from mysqltruth import Underivable

_NO_DEFAULT_NULL = ("blob", "text", "geometry", "point", "linestring", "polygon", "json")


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
    default: str | None  # the text after DEFAULT, as SHOW CREATE prints it
    auto_increment: bool = False
    invisible: bool = False
    generated: str | None = None  # "GENERATED ALWAYS AS (...) VIRTUAL|STORED"
    no_default: bool = False  # ALTER ... DROP DEFAULT on a nullable column

    def line(self) -> str:
        out = f"{_q(self.name)} {self.type}"
        if self.generated:
            out += " " + self.generated
        if self.not_null:
            out += " NOT NULL"
        if self.auto_increment:
            out += " AUTO_INCREMENT"
        elif self.default is not None:
            out += f" DEFAULT {self.default}"
        elif not (self.not_null or self.generated or self.no_default) and not self.type.split("(")[
            0
        ].endswith(_NO_DEFAULT_NULL):
            out += " DEFAULT NULL"
        if self.invisible:
            out += " /*!80023 INVISIBLE */"
        return out


@dataclass
class Derived:
    """A table as a server would show it, derived from simple statements."""

    name: str
    columns: list[DerivedColumn]
    primary: list[str]
    keys: list[tuple[str, str]]  # (name, rendered line), non-primary
    options: str
    fks: list[tuple[str, str]] = field(default_factory=list)  # (name, rendered line)

    def text(self) -> str:
        body = [c.line() for c in self.columns]
        if self.primary:
            body.append("PRIMARY KEY (" + ",".join(_q(c) for c in self.primary) + ")")
        order = {"UNIQUE": 0, "KEY": 1, "FULLTEXT": 2, "SPATIAL": 2}
        keys = sorted(self.keys, key=lambda k: order[k[1].split(" ", 1)[0]])
        body += [line for _, line in keys]
        # Foreign keys after the indexes, by name (fk_1, fk_10, fk_2 as recorded).
        body += [line for _, line in sorted(self.fks)]
        inner = ",\n".join("  " + b for b in body)
        return f"CREATE TABLE {_q(self.name)} (\n{inner}\n) {self.options}"


_COLDEF = re.compile(
    r"^(`[^`]+`|\w+)\s+([A-Za-z]+)(\s*\([^)]*\))?((?:\s+UNSIGNED)?)(.*)$", re.IGNORECASE | re.DOTALL
)


_GEN = re.compile(r"GENERATED ALWAYS AS \((\w+) ([-+*/]) (\d+)\) (VIRTUAL|STORED)", re.IGNORECASE)
_DEFAULT = re.compile(r"DEFAULT\s+(?:'([^']*)'|\"([^\"]*)\"|(-?\d+)|\((\d+)\)|(NULL))", re.I)


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
    typ = base + (_args(args) if args else "")
    if base in _WIDTH and not args and width:
        # One digit less unsigned (no sign), but bigint keeps 20: its unsigned
        # maximum has 20 digits (recorded: innodb-alter:602, `bigint(20) unsigned`).
        typ += f"({_WIDTH[base] - (1 if unsigned and base != 'bigint' else 0)})"
    if unsigned:
        typ += " unsigned"
    col = DerivedColumn(name, typ, False, None)
    rest = " ".join(rest.split())
    g = _GEN.search(rest)
    if g:
        col.generated = f"GENERATED ALWAYS AS ((`{g[1]}` {g[2]} {g[3]})) {g[4].upper()}"
        rest = rest[: g.start()] + rest[g.end() :]
    d = _DEFAULT.search(rest)
    if d:
        if d[1] is not None or d[2] is not None or d[3] is not None:
            col.default = "'" + next(x for x in d.groups()[:3] if x is not None) + "'"
        elif d[4] is not None:
            col.default = f"({d[4]})"
        rest = rest[: d.start()] + rest[d.end() :]
    words = rest.upper().split()
    key = None
    if words[-2:] == ["UNIQUE", "KEY"]:
        key, words = "UNIQUE", words[:-2]
    elif words[-2:] == ["PRIMARY", "KEY"]:
        key, words = "PRIMARY", words[:-2]
    elif words[-1:] == ["KEY"]:
        key, words = "PRIMARY", words[:-1]
    flags = " ".join(words)
    for word in ("AUTO_INCREMENT", "NOT NULL", "NULL", "INVISIBLE", "VISIBLE"):
        if f" {word} " in f" {flags} ":
            setattr(col, _FLAG[word], word != "VISIBLE" and (word != "NULL" or col.not_null))
            flags = f" {flags} ".replace(f" {word} ", " ").strip()
    if flags:
        raise Underivable(f"column {name}: {flags!r}")
    col.not_null = col.not_null or key == "PRIMARY" or col.auto_increment
    return col, key


_FLAG = {
    "AUTO_INCREMENT": "auto_increment",
    "NOT NULL": "not_null",
    "NULL": "not_null",
    "INVISIBLE": "invisible",
    "VISIBLE": "invisible",
}


def _args(args: str) -> str:
    """Type arguments as SHOW CREATE prints them: enum('a','b'), decimal(6,2)."""
    inner = args.strip()[1:-1]
    return "(" + ",".join(p.strip() for p in _split_top(inner)) + ")"


def create_to_show(sql: str, width: bool, recorded: bool = False) -> Derived:
    """The table a simple ``CREATE TABLE`` makes (8.0 display rules; ``width``:
    integer display widths, printed before 8.0.19).  Foreign keys only when
    ``recorded`` (a SHOW CREATE text the server printed): a key written in a
    CREATE statement names its parent as it was then, and a later RENAME of
    the parent (innodb-alter.result renames t1 to t3 under t1c's key) is no
    statement of this table."""
    m = re.match(
        r"^CREATE\s+TABLE\s+(`[^`]+`|\w+)\s*\((.*)\)\s*([^()]*?)\s*;?\s*$", sql, re.I | re.S
    )
    if not m:
        raise Underivable("not a simple CREATE TABLE")
    name, body, opts = m.group(1).strip("`"), m.group(2), m.group(3)
    t = Derived(name, [], [], [], "")
    specs = _split_top(body)
    # Foreign keys last: the index a key needs may be defined after it.
    for spec in [s for s in specs if not _FOREIGN.match(" ".join(s.split()))]:
        _add_spec(t, spec, width)
    for spec in [s for s in specs if _FOREIGN.match(" ".join(s.split()))]:
        if not recorded:
            raise Underivable("a foreign key in a CREATE statement (its parent may be renamed)")
        _add_foreign_key(t, " ".join(spec.split()))
    options = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci"
    # A SHOW CREATE text as the statement: its options line is the default one.
    opts = re.sub(
        r"DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci(?=\s|$)", "", opts, flags=re.I
    )
    leftover = re.sub(r"(\w+)\s*=\s*(\w+)", "", opts).strip()
    if leftover:
        raise Underivable(f"table options {leftover!r}")
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


_NAME = r"(`[^`]+`|\w+)"
_FOREIGN = re.compile(
    rf"^(?:CONSTRAINT(?: (?!FOREIGN\b){_NAME})? )?FOREIGN KEY ?(?:(?!\(){_NAME} ?)?\((.*?)\) ?"
    rf"REFERENCES {_NAME} ?\((.*?)\)((?: ON (?:DELETE|UPDATE) (?:CASCADE|SET NULL))*)$",
    re.IGNORECASE,
)


def _key_columns(line: str) -> list[str]:
    """The plain column names of a rendered index line (a prefix part ends the list)."""
    parts = _split_top(line.rpartition(" (")[2][:-1]) if "(" in line else []
    out = []
    for p in parts:
        if not re.fullmatch(r"`[^`]+`", p):
            break
        out.append(p.strip("`"))
    return out


def _add_foreign_key(t: Derived, spec: str) -> None:
    """[CONSTRAINT [sym]] FOREIGN KEY [idx] (cols) REFERENCES p (cols) [ON ...]: the
    constraint line, and the index InnoDB adds when no index starts with the key's
    columns (named after the constraint, as recorded: ADD CONSTRAINT fk_4 FOREIGN KEY
    (a2) shows KEY `fk_4` (`a2`); innodb-index-online-fk.result, 8.4.6)."""
    m = _FOREIGN.match(spec)
    if not m:
        raise Underivable(f"definition {spec!r}")
    sym, _idx, cols_s, parent, refs_s, actions = m.groups()
    cols = [c.strip().strip("`") for c in cols_s.split(",")]
    refs = [c.strip().strip("`") for c in refs_s.split(",")]
    if any(not re.fullmatch(r"\w+", c) for c in cols + refs) or len(cols) != len(refs):
        raise Underivable(f"foreign key {spec!r}")
    if any(c not in {x.name for x in t.columns} for c in cols):
        raise Underivable(f"foreign key over a missing column: {spec!r}")
    if sym:
        name = sym.strip("`")
    else:
        taken = [int(n.rsplit("_", 1)[1]) for n, _ in t.fks if n.startswith(f"{t.name}_ibfk_")]
        name = f"{t.name}_ibfk_{max(taken, default=0) + 1}"
    fk_names = {n for n, _ in t.fks}
    keys = [(n, _key_columns(ln)) for n, ln in t.keys if ln.startswith(("KEY", "UNIQUE"))]
    if any(n in fk_names and k[: len(cols)] == cols for n, k in keys):
        # An index named after a key is likely the one InnoDB generated for it; a new
        # key over its columns replaced it with its own (innodb-index-online-fk:529).
        raise Underivable("a foreign key over an index generated for another one")
    covering = [t.primary] + [k for _, k in keys]
    if not any(k[: len(cols)] == cols for k in covering):
        if not sym:
            raise Underivable("the index an unnamed foreign key would add")
        t.keys.append((name, f"KEY {_q(name)} (" + ",".join(_q(c) for c in cols) + ")"))
    on_delete = re.search(r"ON DELETE (CASCADE|SET NULL)", actions, re.I)
    on_update = re.search(r"ON UPDATE (CASCADE|SET NULL)", actions, re.I)
    line = (
        f"CONSTRAINT {_q(name)} FOREIGN KEY ("
        + ", ".join(_q(c) for c in cols)
        + f") REFERENCES {_q(parent)} ("
        + ", ".join(_q(c) for c in refs)
        + ")"
    )
    if on_delete:
        line += f" ON DELETE {on_delete.group(1).upper()}"
    if on_update:
        line += f" ON UPDATE {on_update.group(1).upper()}"
    if any(n == name for n, _ in t.fks):
        raise Underivable(f"foreign key {name} twice")
    t.fks.append((name, line))


def _drop_key(t: Derived, name: str) -> None:
    """DROP INDEX / DROP KEY name (not on a table with foreign keys: InnoDB refuses
    to drop an index one of them needs)."""
    if not any(n == name for n, _ in t.keys) or t.fks:
        raise Underivable(f"dropping index {name}")
    t.keys = [(n, ln) for n, ln in t.keys if n != name]


_CREATE_INDEX = re.compile(
    rf"^CREATE (UNIQUE )?INDEX {_NAME} ON {_NAME} ?(\(.*\));?$", re.IGNORECASE
)


def _free_name(t: Derived, col: str) -> str:
    taken = {n for n, _ in t.keys}
    name, k = col, 2
    while name in taken:
        name, k = f"{col}_{k}", k + 1
    return name


def _change(t: Derived, clause: str, width: bool) -> None:
    """MODIFY [COLUMN] c def [FIRST|AFTER x] / CHANGE [COLUMN] old new def [...]."""
    m = re.match(r"^(MODIFY|CHANGE)\s+(?:COLUMN\s+)?`?(\w+)`?\s+(.*)$", clause, re.I)
    assert m is not None
    old, spec = m.group(2), m.group(3)
    if m.group(1).upper() == "MODIFY":
        spec = f"{old} {spec}"  # CHANGE: the new name already leads the definition
    pos = ""
    mm = re.search(r"\s+(FIRST|AFTER\s+`?\w+`?)$", spec, re.IGNORECASE)
    if mm:
        pos, spec = mm.group(1), spec[: mm.start()]
    names = [c.name for c in t.columns]
    if old not in names:
        raise Underivable(f"no column {old}")
    at = names.index(old)
    col, key = _coldef(spec, width)
    if key:
        raise Underivable("a key in MODIFY/CHANGE")
    if col.name != old and any(old in ln for _, ln in t.keys):
        raise Underivable("renaming an indexed column")
    if old in t.primary:
        col.not_null = True
        t.primary = [col.name if p == old else p for p in t.primary]
    del t.columns[at]
    if pos.upper() == "FIRST":
        t.columns.insert(0, col)
    elif pos:
        after = pos.split()[1].strip("`")
        t.columns.insert([c.name for c in t.columns].index(after) + 1, col)
    else:
        t.columns.insert(at, col)


_ALTER_COLUMN = re.compile(
    r"^ALTER COLUMN `?(\w+)`? "
    r"(SET INVISIBLE|SET VISIBLE|DROP DEFAULT|SET DEFAULT (-?\d+|'[^']*'))$",
    re.I,
)


def _alter_column(t: Derived, clause: str) -> None:
    """ALTER COLUMN c SET/DROP DEFAULT, SET VISIBLE/INVISIBLE."""
    m = _ALTER_COLUMN.match(clause)
    if not m:
        raise Underivable(f"clause {clause!r}")
    col = next((c for c in t.columns if c.name == m.group(1)), None)
    if col is None:
        raise Underivable(f"no column {m.group(1)}")
    what = m.group(2).upper()
    if what == "SET INVISIBLE":
        col.invisible = True
    elif what == "SET VISIBLE":
        col.invisible = False
    elif what == "DROP DEFAULT":
        col.default, col.no_default = None, True
    else:
        lit = m.group(3)
        col.default, col.no_default = (lit if lit.startswith("'") else f"'{lit}'"), False


def _drop_column(t: Derived, col: str) -> None:
    """DROP COLUMN: the column leaves every index it is part of; an index left with
    no part is dropped (manual, ALTER TABLE: "If columns are dropped from a table,
    the columns are also removed from any index of which they are a part. If all
    columns that make up an index are dropped, the index is dropped as well")."""
    t.primary = [p for p in t.primary if p != col]
    t.columns = [x for x in t.columns if x.name != col]
    keys = []
    for name, line in t.keys:
        head, _, parts = line.partition(" (")
        kept = [p for p in _split_top(parts[:-1]) if p.split("(", 1)[0] != _q(col)]
        if kept:
            keys.append((name, f"{head} (" + ",".join(kept) + ")"))
    t.keys = keys


def apply_alter(t: Derived, sql: str, width: bool, fks: bool = True) -> Derived:
    """The table after a simple ALTER (ADD/DROP COLUMN, ADD INDEX/PRIMARY KEY, ADD
    FOREIGN KEY, DROP INDEX) or ``CREATE [UNIQUE] INDEX name ON t (cols)``.  ``fks``:
    whether a foreign key it adds may be derived (not for an earlier statement of
    the table's history: its parent may have been renamed since)."""
    ci = _CREATE_INDEX.match(" ".join(sql.split()))
    if ci:
        unique, name, table, cols = ci.groups()
        if table.strip("`") != t.name:
            raise Underivable(f"an index on {table}")
        sql = f"ALTER TABLE {_q(t.name)} ADD {unique or ''}KEY {name} {cols}"
    m = re.match(r"^ALTER\s+TABLE\s+(`[^`]+`|\w+)\s+(.*?);?\s*$", sql, re.I | re.S)
    if not m:
        raise Underivable("not a simple ALTER TABLE")
    cols = [replace(c) for c in t.columns]
    out = Derived(t.name, cols, list(t.primary), list(t.keys), t.options, list(t.fks))
    clauses = [" ".join(c.split()) for c in _split_top(m.group(2))]
    # Foreign keys last: InnoDB picks their index once the statement's own are added.
    fk_clauses = [c for c in clauses if c.upper().startswith("ADD ") and _FOREIGN.match(c[4:])]
    for c in [c for c in clauses if c not in fk_clauses]:
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
        elif cu.startswith(("MODIFY ", "CHANGE ")):
            _change(out, c, width)
        elif cu.startswith("ALTER COLUMN "):
            _alter_column(out, c)
        elif cu.startswith("DROP COLUMN "):
            _drop_column(out, c[len("DROP COLUMN ") :].strip("`"))
        elif re.fullmatch(r"DROP (?:INDEX|KEY) (`[^`]+`|\w+)", c, re.IGNORECASE):
            _drop_key(out, c.split()[-1].strip("`"))
        else:
            raise Underivable(f"clause {c!r}")
    if fk_clauses and not fks:
        raise Underivable("a foreign key added earlier (its parent may be renamed since)")
    for c in fk_clauses:
        _add_foreign_key(out, c[4:])
    return out
