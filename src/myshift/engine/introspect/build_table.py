"""Pure: one table's rows and SHOW CREATE text in, its model out, self-checked."""

from __future__ import annotations

import operator
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from myshift.engine import ddl, spelling
from myshift.engine.introspect.mysql_text import (
    unsupported_feature,
    with_written_collations,
    without_gipk,
)
from myshift.engine.introspect.rows import CompactRows, Row, Rows
from myshift.model.flavor import Flavor
from myshift.model.schema import (
    Check,
    Column,
    ForeignKey,
    Index,
    IndexKind,
    IndexPart,
    Partition,
    Partitioning,
    Table,
)


def _column_default(r: Row, flavor: Flavor, generated: bool, auto_inc: bool) -> str | None:
    """The text after DEFAULT in SHOW CREATE TABLE, from COLUMNS.COLUMN_DEFAULT."""
    raw: str | None = r["default"]
    nullable = r["nullable"] == "YES"
    if generated or auto_inc:
        return None
    if flavor.catalog_default_is_show_create_text:
        # MariaDB stores the SHOW CREATE spelling already ('abc', NULL,
        # current_timestamp()); no default at all is SQL NULL.
        return raw
    if raw is None:
        if not nullable:
            return None
        base = ddl._base_type(r["type"])
        if base.endswith("blob") or base.endswith("text"):
            return None  # MySQL prints no DEFAULT NULL for BLOB/TEXT
        return "NULL"
    extra = r["extra"] or ""
    typ = r["type"]
    if raw.upper().startswith("CURRENT_TIMESTAMP") and typ.startswith(("timestamp", "datetime")):
        return raw
    if typ.startswith("bit") and raw.startswith("b'"):
        return raw
    if "DEFAULT_GENERATED" in extra:
        # MySQL 8.0.13+ expression defaults print in parentheses.
        return "(" + raw.replace("\\'", "'") + ")"
    # MySQL prints every literal default quoted, numbers included.
    return "'" + ddl.escape_string(raw) + "'"


_ON_UPDATE_RE = re.compile(r"on update (current_timestamp(?:\(\d*\))?)", re.IGNORECASE)


_COLUMN_FIELDS = (
    "name",
    "type",
    "nullable",
    "default",
    "extra",
    "charset",
    "collation",
    "comment",
    "generation",
    "srid",
)


def _column_values(cols: Rows) -> Iterable[tuple[Any, ...]]:
    """The _COLUMN_FIELDS of each row, straight from compact tuples (no dict per row)."""
    if isinstance(cols, CompactRows):
        pick = operator.itemgetter(*(cols.names.index(f) for f in _COLUMN_FIELDS))
        return map(pick, cols.tuples)
    return (tuple(r.get(f) for f in _COLUMN_FIELDS) for r in cols)


class _Shared:
    """Equal parts of different tables, built (and rendered) once per schema.

    A real schema repeats its conventions in every table (``id``,
    ``tenant_id``, ``created_at``, ``PRIMARY KEY (id)``): 13,256 columns of
    the 1,000-table benchmark are 827 distinct ones.  The model is immutable,
    so equal rows can share one object.
    """

    __slots__ = ("columns", "indexes", "render")

    def __init__(self) -> None:
        self.columns: dict[tuple[Any, ...], Column] = {}
        self.indexes: dict[tuple[Any, ...], Index] = {}
        self.render = ddl.RenderMemo()


def _build_columns(cols: Rows, flavor: Flavor, shared: _Shared | None = None) -> list[Column]:
    out = []
    seen = shared.columns if shared is not None else {}
    for values in _column_values(cols):
        col = seen.get(values)
        if col is None:
            col = seen[values] = _build_column(values, flavor)
        out.append(col)
    return out


def _build_column(values: tuple[Any, ...], flavor: Flavor) -> Column:
    marker = " /*M!100301 COMPRESSED*/"
    name, typ, nullable, default, extra, charset, collation, comment, generation, srid = values
    extra = extra or ""
    extra_u = extra.upper()
    raw_type: str = typ
    compressed = False
    if flavor.has_compressed_columns and marker in typ:
        typ = typ.replace(marker, "")
        compressed = True
    gen = generation if "GENERATED" in extra_u and generation else None
    if gen is not None and flavor.catalog_escapes_quotes and "\\'" in gen:
        gen = gen.replace("\\'", "'")  # see _mysql_unescape
    auto_inc = "auto_increment" in extra
    on_update = None
    m = _ON_UPDATE_RE.search(extra) if "ON UPDATE" in extra_u else None
    if m:
        on_update = m.group(1)
        if "(" not in on_update and "(" in typ:
            on_update += typ[typ.index("(") :]  # some versions drop the precision
    if gen is not None or auto_inc:
        col_default = None
    elif flavor.catalog_default_is_show_create_text:
        col_default = default  # see _column_default
    else:
        row = {"default": default, "nullable": nullable, "type": raw_type, "extra": extra}
        col_default = _column_default(row, flavor, False, False)
    shown_type = None
    if flavor.is_mysql and flavor.shows_integer_display_width:
        # int(11) on < 8.0.19 and int on 8.0.19+ are one type (spelling.width_free_type).
        bare = spelling.width_free_type(typ)
        if bare != typ:
            typ, shown_type = bare, typ
    return Column(
        name=name,
        type=typ,
        nullable=nullable == "YES",
        default=col_default,
        on_update=on_update,
        auto_increment=auto_inc,
        charset=charset if collation else None,
        collation=collation or None,
        comment=comment or "",
        generated=gen,
        stored="STORED GENERATED" in extra_u,
        invisible="INVISIBLE" in extra_u,
        srid=int(srid) if srid is not None else None,
        compressed=compressed,
        shown_type=shown_type,
    )


def _ident_at(text: str, start: int) -> str | None:
    """The backtick-quoted identifier starting at ``text[start]``."""
    if start >= len(text) or text[start] != "`":
        return None
    i, name = start + 1, []
    while True:
        j = text.find("`", i)
        if j < 0:
            return None
        if text.startswith("``", j):  # a doubled backtick is one in the name
            name.append(text[i : j + 1])
            i = j + 2
            continue
        name.append(text[i:j])
        return "".join(name)


_USING_RE = re.compile(r"\) USING (BTREE|HASH|RTREE)\b")


@dataclass
class _CreateLines:
    """Where each index / FK / CHECK sits in SHOW CREATE TABLE (display order only)."""

    index_pos: dict[str, int] = field(default_factory=dict)
    index_using: dict[str, str] = field(default_factory=dict)
    fk_pos: dict[str, int] = field(default_factory=dict)
    check_pos: dict[str, int] = field(default_factory=dict)

    @classmethod
    def scan(cls, create_sql: str) -> _CreateLines:
        out = cls()
        for n, raw in enumerate(create_sql.split("\n")):
            if raw.startswith("  `"):
                continue  # a column line
            line = raw.strip()
            name: str | None = None
            if line.startswith("PRIMARY KEY "):
                name = "PRIMARY"
            elif line.startswith("CONSTRAINT `"):
                cname = _ident_at(line, len("CONSTRAINT "))
                if cname is not None:
                    after = line[len("CONSTRAINT ") + len(ddl.quote(cname)) :]
                    if after.startswith(" FOREIGN KEY"):
                        out.fk_pos[cname] = n
                    elif after.startswith(" CHECK"):
                        out.check_pos[cname] = n
                continue
            else:
                for head in ("KEY ", "UNIQUE KEY ", "FULLTEXT KEY ", "SPATIAL KEY ", "VECTOR KEY "):
                    if line.startswith(head + "`"):
                        name = _ident_at(line, len(head))
                        break
            if name is not None:
                out.index_pos[name] = n
                m = _USING_RE.search(line) if ") USING " in line else None
                if m:
                    out.index_using[name] = m.group(1)
        return out


def _index_kind(name: str, non_unique: Any, index_type: str | None) -> IndexKind:
    if name == "PRIMARY":
        return IndexKind.PRIMARY
    itype = (index_type or "").upper()
    if itype == "FULLTEXT":
        return IndexKind.FULLTEXT
    if itype == "SPATIAL":
        return IndexKind.SPATIAL
    if not int(non_unique):
        return IndexKind.UNIQUE
    return IndexKind.INDEX


_STAT_FIELDS = (
    "name",
    "non_unique",
    "seq",
    "column_name",
    "direction",
    "sub_part",
    "index_type",
    "comment",
    "ignored",
    "expression",
)


def _stat_values(stats: Rows) -> Iterable[tuple[Any, ...]]:
    """The _STAT_FIELDS of each row, straight from compact tuples (no dict per row)."""
    if isinstance(stats, CompactRows):
        pick = operator.itemgetter(*(stats.names.index(f) for f in _STAT_FIELDS))
        return map(pick, stats.tuples)
    return (tuple(r.get(f) for f in _STAT_FIELDS) for r in stats)


def _build_indexes(stats: Rows, lines: _CreateLines, shared: _Shared | None = None) -> list[Index]:
    by_name: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for values in _stat_values(stats):
        by_name[values[0]].append(values)
    out = []
    seen = shared.indexes if shared is not None else {}
    for name, parts in by_name.items():
        if len(parts) > 1:
            parts.sort(key=lambda v: int(v[2]))
        key = (*parts, lines.index_using.get(name))
        index = seen.get(key)
        if index is None:
            index = seen[key] = _build_index(name, parts, lines)
        out.append(index)
    big = 1 << 30
    out.sort(key=lambda ix: (lines.index_pos.get(ix.name, big), ix.name))
    return out


def _build_index(name: str, parts: list[tuple[Any, ...]], lines: _CreateLines) -> Index:
    first = parts[0]
    kind = _index_kind(name, first[1], first[6])
    # SPATIAL reports a SUB_PART (32) that SHOW CREATE never prints.
    spatial = kind is IndexKind.SPATIAL
    ix_parts = tuple(
        IndexPart(
            column=column,
            expression=expression if column is None else None,
            length=int(sub_part) if sub_part is not None and not spatial else None,
            descending=direction == "D",
        )
        for _, _, _, column, direction, sub_part, _, _, _, expression in parts
    )
    return Index(
        name=name,
        kind=kind,
        parts=ix_parts,
        comment=first[7] or "",
        invisible=first[8] == "YES",
        using=lines.index_using.get(name),
    )


def _build_fks(rows: list[Row], schema: str, lines: _CreateLines) -> list[ForeignKey]:
    by_name: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_name[r["name"]].append(r)
    out = []
    for name, parts in by_name.items():
        first = parts[0]
        ref_schema = first["ref_schema"]
        out.append(
            ForeignKey(
                name=name,
                columns=tuple(p["column_name"] for p in parts),
                ref_table=first["ref_table"],
                ref_columns=tuple(p["ref_column"] for p in parts),
                ref_schema=ref_schema if ref_schema and ref_schema != schema else None,
                on_delete=first["on_delete"],
                on_update=first["on_update"],
            )
        )
    big = 1 << 30
    out.sort(key=lambda fk: (lines.fk_pos.get(fk.name, big), fk.name))
    return out


def _build_checks(rows: list[Row], lines: _CreateLines) -> list[Check]:
    out = []
    for r in rows:
        column = r["name"] if r.get("level") == "Column" else None
        out.append(
            Check(
                name=r["name"],
                clause=r["clause"],
                enforced=str(r["enforced"]).upper() != "NO",
                column=column,
            )
        )
    big = 1 << 30
    # Column-level checks print inline; their order is the columns'.
    out.sort(key=lambda c: (c.column is None, lines.check_pos.get(c.name, big), c.name))
    return out


def _build_partitioning(rows: list[Row], create_sql: str) -> Partitioning | None:
    if not rows:
        return None
    first = rows[0]
    parts: list[Partition] = []
    subs: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if not parts or parts[-1].name != r["name"]:
            values = r["description"]
            parts.append(Partition(name=r["name"], values=values, comment=r["comment"] or ""))
        if r["sub_name"]:
            subs[r["name"]].append(r["sub_name"])
    parts = [replace(p, subpartitions=tuple(subs.get(p.name, ()))) for p in parts]
    method: str = first["method"]
    algorithm = None
    if method.endswith("KEY"):
        # KEY ALGORITHM=n is in SHOW CREATE TABLE only (MySQL; MariaDB drops it).
        m = re.search(r"PARTITION BY (?:LINEAR )?KEY ALGORITHM = (\d+)", create_sql)
        if m:
            algorithm = int(m.group(1))
    return Partitioning(
        method=method,
        expression=first["expression"] or "",
        partitions=tuple(parts),
        sub_method=first["sub_method"],
        sub_expression=first["sub_expression"],
        algorithm=algorithm,
    )


def _table_options(create_options: str | None) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """Split TABLES.CREATE_OPTIONS into (ROW_FORMAT, other options in print order)."""
    row_format = None
    opts: list[tuple[str, str]] = []
    for tok in (create_options or "").split():
        if "=" not in tok:
            continue  # "partitioned"
        key, _, value = tok.partition("=")
        if key.lower() == "row_format":
            row_format = value
            continue
        opts.append((key if key.startswith("`") else key.upper(), value))
    opts.sort(key=lambda kv: ddl.option_sort_key(kv[0]))
    return row_format, tuple(opts)


_AUTO_INC_RE = re.compile(r"(\n\) ENGINE=\S+) AUTO_INCREMENT=(\d+)")


def strip_auto_increment(create_sql: str) -> tuple[str, int | None]:
    m = _AUTO_INC_RE.search(create_sql)
    if not m:
        return create_sql, None
    return create_sql[: m.start()] + m.group(1) + create_sql[m.end() :], int(m.group(2))


def self_check(table: Table, flavor: Flavor, memo: ddl.RenderMemo | None = None) -> str | None:
    """None when the model reproduces the server's SHOW CREATE TABLE, else why not."""
    if not table.create_sql:
        return "SHOW CREATE TABLE returned nothing"
    want = strip_auto_increment(table.create_sql)[0]
    got = ddl.create_table(table, flavor, memo=memo, gipk=True)
    if got == want:
        return None
    w, g = want.split("\n"), got.split("\n")
    for n in range(max(len(w), len(g))):
        a = w[n] if n < len(w) else "<end>"
        b = g[n] if n < len(g) else "<end>"
        if a != b:
            return f"line {n + 1}: server has {a.strip()!r}, model renders {b.strip()!r}"
    return "texts differ"  # pragma: no cover — lines equal means texts equal


def _mysql_unescape(rows: Iterable[Row], key: str) -> list[Row]:
    """MySQL 8 writes a quote inside I_S expression text as ``\\'`` where SHOW CREATE
    TABLE prints ``'`` (COLUMN_DEFAULT, GENERATION_EXPRESSION, STATISTICS.EXPRESSION,
    CHECK_CLAUSE; recorded in mysql-test/r/default_as_expr.result, and Skeema's
    fixGenerationExpr/fixChecks).  Other differences (4-byte characters, literal
    introducers) are left to the self-check."""
    rows = list(rows)
    if not any("\\'" in (r.get(key) or "") for r in rows):
        return rows
    return [
        {**r, key: r[key].replace("\\'", "'")} if "\\'" in (r.get(key) or "") else r for r in rows
    ]


def _build_table(
    t: Row,
    cols: Rows,
    stats: Rows,
    fks: list[Row],
    checks: list[Row],
    parts: list[Row],
    create_sql: str,
    schema: str,
    flavor: Flavor,
    shared: _Shared | None = None,
) -> Table:
    collation: str = t["collation"] or ""
    charset = collation.split("_", 1)[0] if collation else ""
    if collation == "binary":
        charset = "binary"
    row_format, options = _table_options(t["create_options"])
    if flavor.catalog_escapes_quotes:
        stats, checks = _mysql_unescape(stats, "expression"), _mysql_unescape(checks, "clause")
    lines = _CreateLines.scan(create_sql)
    _, auto_inc = strip_auto_increment(create_sql)
    table = Table(
        name=t["name"],
        columns=tuple(_build_columns(cols, flavor, shared)),
        indexes=tuple(_build_indexes(stats, lines, shared)),
        foreign_keys=tuple(_build_fks(fks, schema, lines)),
        checks=tuple(_build_checks(checks, lines)),
        partitioning=_build_partitioning(parts, create_sql),
        engine=t["engine"] or "",
        charset=charset,
        collation=collation,
        row_format=row_format,
        comment=t["comment"] or "",
        options=options,
        auto_increment=auto_inc,
        create_sql=create_sql,
        row_versions=t.get("row_versions"),
    )
    kept_out = unsupported_feature(create_sql)
    if kept_out is not None:
        return replace(table, unsupported=kept_out)
    table = without_gipk(table, flavor)
    why = self_check(table, flavor, shared.render if shared is not None else None)
    if why is not None and flavor.shows_written_column_charset:
        written = with_written_collations(table, flavor)
        if written is not table:
            table, why = written, self_check(written, flavor)
    if why is not None and table.partitioning is not None and not table.partitioning.listed:
        # Partitions named p0, p1, ... in the CREATE: nothing in the catalogue
        # tells them from default names; the server's text does.
        listed = replace(table, partitioning=replace(table.partitioning, listed=True))
        if self_check(listed, flavor) is None:
            return listed
    if why is not None and "?" in why:
        repaired = recover_lossy_text(table, flavor)
        if repaired is not None:
            return repaired
    return table if why is None else replace(table, unsupported=why)


# information_schema is utf8mb3 (MariaDB, MySQL): a 4-byte character in a
# default, comment, enum value or expression reads back as one "?" per byte
# (or one "?"), while SHOW CREATE TABLE (utf8mb4) keeps it.  The model then
# cannot reproduce the server's text and the table was refused (issue 12).
_LOST = re.compile(r"\?+")
# What a run of "?" in the catalogue stood for: characters outside the BMP
# (or real question marks).
_LOST_TEXT = "([?\U00010000-\U0010ffff]+?)"
_MARK = 0xE000  # private-use code points: never escaped by the renderer
_PRIVATE = re.compile("[\ue000-\uf8ff]")


def _marked(value: str, runs: list[str]) -> str:
    def mark(m: re.Match[str]) -> str:
        runs.append(m.group(0))
        return chr(_MARK + len(runs) - 1)

    return _LOST.sub(mark, value)


def _column_marked(col: Column, runs: list[str]) -> Column:
    return replace(
        col,
        type=_marked(col.type, runs),
        default=None if col.default is None else _marked(col.default, runs),
        comment=_marked(col.comment, runs),
        generated=None if col.generated is None else _marked(col.generated, runs),
    )


def _unmarked(value: str, found: list[str]) -> str:
    return _PRIVATE.sub(lambda m: found[ord(m.group(0)) - _MARK], value)


def recover_lossy_text(table: Table, flavor: Flavor) -> Table | None:
    """The table with its lost 4-byte characters taken back from SHOW CREATE TABLE.

    Every run of ``?`` in the catalogue's strings becomes a placeholder, the
    model is rendered, and the server's text must match that rendering with
    each placeholder standing for characters outside the BMP (or ``?``).  The
    server's text is never parsed: it only fills the holes the catalogue left.
    None when that does not reproduce the server's text exactly.
    """
    runs: list[str] = []
    marked = replace(
        table,
        columns=tuple(_column_marked(c, runs) for c in table.columns),
        checks=tuple(replace(c, clause=_marked(c.clause, runs)) for c in table.checks),
        comment=_marked(table.comment, runs),
    )
    if not runs or len(runs) > 200 or _PRIVATE.search(table.create_sql):
        return None
    got = ddl.create_table(marked, flavor, gipk=True)
    want = strip_auto_increment(table.create_sql)[0]
    pattern = _PRIVATE.sub(lambda _: _LOST_TEXT, re.escape(got))
    m = re.fullmatch(pattern, want)
    if m is None:
        return None
    found = list(m.groups())

    def fix(value: str | None) -> str | None:
        return None if value is None else _unmarked(value, found)

    fixed = replace(
        marked,
        columns=tuple(
            replace(
                c,
                type=_unmarked(c.type, found),
                default=fix(c.default),
                comment=_unmarked(c.comment, found),
                generated=fix(c.generated),
            )
            for c in marked.columns
        ),
        checks=tuple(replace(c, clause=_unmarked(c.clause, found)) for c in marked.checks),
        comment=_unmarked(marked.comment, found),
    )
    return fixed if self_check(fixed, flavor) is None else None
