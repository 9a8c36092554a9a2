"""Render SQL fragments from the model, exactly as each flavor's server prints them.

Pure functions of (model object, Flavor): no driver import, no server access.
``create_table`` must reproduce the server's own ``SHOW CREATE TABLE`` byte for
byte; introspection relies on that to check itself (a table whose text we
cannot regenerate is marked unsupported rather than guessed at).

Flavor differences live in the small helpers below, one per concern:
which FK rule is hidden, where INVISIBLE goes, whether partitioning is wrapped
in a version comment, when COLLATE is shown.  Reference: Skeema's tengo
package and the MySQL/MariaDB ``sql_show.cc`` behaviour they document.
"""

from __future__ import annotations

import re
from dataclasses import replace

from myshift.engine.definers import account, with_definer
from myshift.engine.lexer import Dialect, LexError, lex, mode_of
from myshift.engine.spelling import MYSQL_DEFAULT_COLLATION, charset_spec
from myshift.model.flavor import Flavor
from myshift.model.schema import (
    Check,
    Column,
    Event,
    ForeignKey,
    Index,
    IndexKind,
    IndexPart,
    Partitioning,
    Routine,
    Table,
    Trigger,
    View,
)

__all__ = [
    "check_definition",
    "column_definition",
    "create_event",
    "create_routine",
    "create_table",
    "create_trigger",
    "create_view",
    "escape_string",
    "foreign_key_definition",
    "index_definition",
    "partition_clause",
    "quote",
    "strip_definer",
    "table_options",
]


def quote(name: str) -> str:
    """Backtick-quote an identifier, doubling embedded backticks."""
    if "`" not in name:  # the usual case: ~10^5 calls per self-checked 10k schema
        return f"`{name}`"
    return "`" + name.replace("`", "``") + "`"


# The server's append_unescaped(): how string values (comments, partition
# comments) are printed inside single quotes in SHOW CREATE output.
_ESCAPES = {
    "\\": "\\\\",
    "\0": "\\0",
    "\n": "\\n",
    "\r": "\\r",
    "\032": "\\Z",
    "'": "''",
}
_ESCAPE_RE = re.compile(r"[\\\0\n\r\032']")


def escape_string(value: str) -> str:
    """Escape a value for a single-quoted literal the way SHOW CREATE prints it."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], value)


def _lit(value: str) -> str:
    return "'" + escape_string(value) + "'"


# --------------------------------------------------------------------- columns

_BASE_TYPES: dict[str, str] = {}


def _base_type(col_type: str) -> str:
    # Memoised: a schema repeats a few dozen column types ~10^5 times.
    base = _BASE_TYPES.get(col_type)
    if base is None:
        base = re.split(r"[\s(]", col_type, maxsplit=1)[0].lower()
        if len(_BASE_TYPES) < 4096:
            _BASE_TYPES[col_type] = base
    return base


def base_type(col_type: str) -> str:
    """A column type's name alone, e.g. ``int`` for ``int(10) unsigned``."""
    return _base_type(col_type)


def _has_null_default_clause(col: Column, flavor: Flavor) -> bool:
    """Whether the server prints ``DEFAULT NULL`` for a nullable column without default."""
    if flavor.shows_default_null_on_blobs:
        return True
    # MySQL never prints DEFAULT NULL for BLOB/TEXT columns.
    base = _base_type(col.type)
    return not (base.endswith("blob") or base.endswith("text"))


def column_definition(col: Column, table: Table, flavor: Flavor) -> str:
    """One column line of SHOW CREATE TABLE (without indentation or trailing comma)."""
    shown = col.shown_type if col.shown_type and flavor.shows_integer_display_width else col.type
    out = [quote(col.name), shown]
    if col.compressed and flavor.has_compressed_columns:
        out[1] += " /*M!100301 COMPRESSED*/"
    if col.charset and col.collation:
        spec = charset_spec(col, table, flavor)
        if spec:
            out.append(spec)
    if col.generated is not None:
        out.append(f"GENERATED ALWAYS AS ({col.generated}) {'STORED' if col.stored else 'VIRTUAL'}")
    if not col.nullable:
        out.append("NOT NULL")
    elif _base_type(col.type) == "timestamp":
        # TIMESTAMP is the one type whose nullability is always printed.
        out.append("NULL")
    if col.srid is not None and flavor.has_column_srid:
        out.append(f"/*!80003 SRID {col.srid} */")
    if col.invisible and flavor.shows_invisible_before_default:
        out.append("INVISIBLE")
    if col.default is not None:
        out.append(f"DEFAULT {col.default}")
    if col.on_update is not None:
        out.append(f"ON UPDATE {col.on_update}")
    if col.auto_increment:
        out.append("AUTO_INCREMENT")
    if col.invisible and not flavor.shows_invisible_before_default:
        out.append("/*!80023 INVISIBLE */" if flavor.is_mysql else "INVISIBLE")
    if col.comment:
        out.append(f"COMMENT {_lit(col.comment)}")
    for chk in table.checks:
        if chk.column == col.name:
            out.append(f"CHECK ({chk.clause})")
    return " ".join(out)


# --------------------------------------------------------------------- indexes


def _part(p: IndexPart) -> str:
    base = quote(p.column) if p.column is not None else f"({p.expression})"
    if p.length:
        base += f"({p.length})"
    if p.descending:
        base += " DESC"
    return base


def index_definition(ix: Index, flavor: Flavor) -> str:
    if ix.kind is IndexKind.PRIMARY:
        head = "PRIMARY KEY"
    elif ix.kind is IndexKind.UNIQUE:
        head = f"UNIQUE KEY {quote(ix.name)}"
    elif ix.kind is IndexKind.INDEX:
        head = f"KEY {quote(ix.name)}"
    else:
        head = f"{ix.kind.value} KEY {quote(ix.name)}"
    text = f"{head} ({','.join(_part(p) for p in ix.parts)})"
    if ix.using:
        text += f" USING {ix.using}"
    if flavor.is_mariadb and ix.parser:
        text += f" WITH PARSER `{ix.parser}`"
    if ix.comment:
        text += f" COMMENT {_lit(ix.comment)}"
    if ix.invisible:
        text += " IGNORED" if flavor.is_mariadb else " /*!80000 INVISIBLE */"
    if flavor.is_mysql and ix.parser:
        # The trailing space is part of MySQL's output for this clause.
        text += f" /*!50100 WITH PARSER `{ix.parser}` */ "
    return text


def foreign_key_definition(fk: ForeignKey, flavor: Flavor) -> str:
    cols = ", ".join(quote(c) for c in fk.columns)
    ref_cols = ", ".join(quote(c) for c in fk.ref_columns)
    ref = quote(fk.ref_table)
    if fk.ref_schema:
        ref = f"{quote(fk.ref_schema)}.{ref}"
    hidden = flavor.hidden_fk_action
    text = f"CONSTRAINT {quote(fk.name)} FOREIGN KEY ({cols}) REFERENCES {ref} ({ref_cols})"
    if fk.on_delete != hidden:
        text += f" ON DELETE {fk.on_delete}"
    if fk.on_update != hidden:
        text += f" ON UPDATE {fk.on_update}"
    return text


def check_definition(chk: Check, flavor: Flavor) -> str:
    """A table-level CHECK line (column-level MariaDB checks print inline on the column)."""
    text = f"CONSTRAINT {quote(chk.name)} CHECK ({chk.clause})"
    if not chk.enforced and flavor.has_unenforced_checks:
        text += " /*!80016 NOT ENFORCED */"
    return text


# ------------------------------------------------------------------ partitions


def partition_clause(p: Partitioning, flavor: Flavor, engine: str = "InnoDB") -> str:
    """The partitioning tail of SHOW CREATE TABLE, starting with its newline."""
    mysql = flavor.is_mysql

    def pname(name: str) -> str:
        # MariaDB backticks partition names; MySQL prints them bare.
        return name if mysql else quote(name)

    def method_expr(method: str, expr: str, algorithm: int | None) -> str:
        if mysql and (method.endswith("COLUMNS") or method.endswith("KEY")):
            expr = expr.replace("`", "")
        algo = f"ALGORITHM = {algorithm} " if algorithm is not None else ""
        if method.endswith(" COLUMNS"):
            return method.replace(" COLUMNS", "  COLUMNS") + algo + f"({expr})"
        return f"{method} {algo}({expr})"

    hashlike = not (p.method.startswith("RANGE") or p.method.startswith("LIST"))
    default_names = all(
        part.name == f"p{n}" and part.values is None and not part.comment
        for n, part in enumerate(p.partitions)
    )
    sub_default = p.sub_method is not None and all(
        part.subpartitions == tuple(f"{part.name}sp{i}" for i in range(len(part.subpartitions)))
        for part in p.partitions
    )
    text = "PARTITION BY " + method_expr(p.method, p.expression, p.algorithm)
    if p.sub_method is not None:
        text += "\nSUBPARTITION BY " + method_expr(p.sub_method, p.sub_expression or "", None)
        if sub_default and p.partitions:
            text += f"\nSUBPARTITIONS {len(p.partitions[0].subpartitions)}"
    if hashlike and default_names and not p.listed:
        # A single default partition prints no count at all.
        if len(p.partitions) > 1:
            text += f"\nPARTITIONS {len(p.partitions)}"
    else:
        defs = []
        for part in p.partitions:
            d = f"PARTITION {pname(part.name)} "
            if part.values is not None:
                if p.method.startswith("RANGE"):
                    # Only plain RANGE prints a bare MAXVALUE; RANGE COLUMNS
                    # parenthesises it even for one column: (MAXVALUE).
                    d += (
                        "VALUES LESS THAN MAXVALUE "
                        if part.values == "MAXVALUE" and p.method == "RANGE"
                        else f"VALUES LESS THAN ({part.values}) "
                    )
                else:
                    d += f"VALUES IN ({part.values}) "
            if part.comment:
                d += f"COMMENT = {_lit(part.comment)} "
            eng = part.engine or engine
            if part.subpartitions and not sub_default:
                subs = ",\n  ".join(
                    f"SUBPARTITION {pname(s)} ENGINE = {eng}" for s in part.subpartitions
                )
                d = d.rstrip(" ") + f"\n ({subs})"
            else:
                d += f"ENGINE = {eng}"
            defs.append(d)
        text += "\n(" + ",\n ".join(defs) + ")"
    if mysql:
        opener = "/*!50500" if p.method.endswith("COLUMNS") else "/*!50100"
        return f"\n{opener} {text} */"
    return f"\n {text}"


# -------------------------------------------------------------- table options

# The order in which sql_show.cc prints table options after COLLATE.
# Options the list does not know go last; the self-check catches a wrong guess.
_OPTION_ORDER = (
    "MIN_ROWS",
    "MAX_ROWS",
    "AVG_ROW_LENGTH",
    "PACK_KEYS",
    "STATS_PERSISTENT",
    "STATS_AUTO_RECALC",
    "STATS_SAMPLE_PAGES",
    "CHECKSUM",
    "PAGE_CHECKSUM",
    "DELAY_KEY_WRITE",
    "ROW_FORMAT",
    "TRANSACTIONAL",
    "KEY_BLOCK_SIZE",
    "COMPRESSION",
    "ENCRYPTION",
)


def option_sort_key(name: str) -> int:
    """Position of a table option in SHOW CREATE TABLE output."""
    try:
        return _OPTION_ORDER.index(name.upper())
    except ValueError:
        return len(_OPTION_ORDER)


def _show_table_collation(table: Table, flavor: Flavor) -> bool:
    if flavor.always_shows_table_collation:
        return True
    if table.charset == "utf8mb4":
        return True  # MySQL 8 always prints it for utf8mb4
    return MYSQL_DEFAULT_COLLATION.get(table.charset) != table.collation


def table_options(table: Table, flavor: Flavor, *, with_auto_increment: bool = False) -> str:
    parts = [f"ENGINE={table.engine}"]
    if with_auto_increment and table.auto_increment is not None and table.auto_increment > 1:
        parts.append(f"AUTO_INCREMENT={table.auto_increment}")
    parts.append(f"DEFAULT CHARSET={table.charset}")
    if _show_table_collation(table, flavor):
        parts.append(f"COLLATE={table.collation}")
    opts = list(table.options)
    if table.row_format is not None:
        opts.append(("ROW_FORMAT", table.row_format))
    opts.sort(key=lambda kv: option_sort_key(kv[0]))
    parts.extend(f"{k}={v}" for k, v in opts)
    if table.comment:
        parts.append(f"COMMENT={_lit(table.comment)}")
    return " ".join(parts)


class RenderMemo:
    """Column and index lines already rendered, for many tables sharing objects.

    Introspection shares equal Column and Index objects between tables (most
    schemas repeat ``id``, ``tenant_id``, ``created_at``, ``PRIMARY KEY
    (id)``...), so the self-check renders each once.  Keyed by identity; the
    values keep the objects alive, so an id is never reused while cached.
    """

    __slots__ = ("columns", "indexes")

    def __init__(self) -> None:
        self.columns: dict[tuple[int, str], tuple[Column, str]] = {}
        self.indexes: dict[int, tuple[Index, str]] = {}

    def column(self, col: Column, table: Table, flavor: Flavor) -> str:
        key = (id(col), table.collation)
        hit = self.columns.get(key)
        if hit is None:
            hit = self.columns[key] = (col, column_definition(col, table, flavor))
        return hit[1]

    def index(self, ix: Index, flavor: Flavor) -> str:
        hit = self.indexes.get(id(ix))
        if hit is None:
            hit = self.indexes[id(ix)] = (ix, index_definition(ix, flavor))
        return hit[1]


# The generated invisible primary key of MySQL 8.0.30+ (sql_generate_invisible_primary_key),
# as sql_show.cc prints it (first column, first key): manual "Generated Invisible Primary
# Keys": "my_row_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT INVISIBLE", PRIMARY KEY on it.
GIPK_COLUMN = Column(
    "my_row_id", "bigint unsigned", nullable=False, auto_increment=True, invisible=True
)
GIPK_INDEX = Index("PRIMARY", IndexKind.PRIMARY, (IndexPart("my_row_id"),))


def create_table(
    table: Table,
    flavor: Flavor,
    *,
    with_auto_increment: bool = False,
    memo: RenderMemo | None = None,
    gipk: bool = False,
) -> str:
    """The flavor's SHOW CREATE TABLE text for this table (``memo``: one flavor only).

    ``gipk``: with the generated invisible primary key the table has (``Table.gipk``),
    as SHOW CREATE TABLE prints it; statements leave it to the server.
    """
    if gipk and table.gipk:
        table = replace(
            table,
            columns=(GIPK_COLUMN, *table.columns),
            indexes=(GIPK_INDEX, *table.indexes),
            gipk=False,
        )
        memo = None
    if memo is not None and not any(ch.column is not None for ch in table.checks):
        # (A column-level CHECK prints on its column line: no sharing then.)
        lines = [memo.column(c, table, flavor) for c in table.columns]
        lines += [memo.index(ix, flavor) for ix in table.indexes]
    else:
        lines = [column_definition(c, table, flavor) for c in table.columns]
        lines += [index_definition(ix, flavor) for ix in table.indexes]
    lines += [foreign_key_definition(fk, flavor) for fk in table.foreign_keys]
    lines += [check_definition(ch, flavor) for ch in table.checks if ch.column is None]
    text = f"CREATE TABLE {quote(table.name)} (\n  " + ",\n  ".join(lines) + "\n) "
    text += table_options(table, flavor, with_auto_increment=with_auto_increment)
    if table.partitioning is not None:
        text += partition_clause(table.partitioning, flavor, table.engine)
    return text


# ------------------------------------------------------ views, routines, ...

_DEFINER_RE = re.compile(
    r"\bDEFINER=(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|\w+)@(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w.%-]+) "
)


def strip_definer(create_sql: str) -> str:
    """Remove the first ``DEFINER=user@host`` clause of a CREATE statement.

    The model's ``definer`` field says whose the object is; the renderers put
    it back where a plan sends it (engine.definers).
    """
    head, sep, rest = create_sql.partition(" ")
    return head + sep + _DEFINER_RE.sub("", rest, count=1)


def create_view(v: View, flavor: Flavor, *, definer: bool = False) -> str:
    """CREATE VIEW; ``definer``: with the view's DEFINER (when it has one)."""
    who = f"DEFINER={account(v.definer)} " if definer and v.definer else ""
    text = (
        f"CREATE ALGORITHM={v.algorithm} {who}SQL SECURITY {v.security} "
        f"VIEW {quote(v.name)} AS {v.definition}"
    )
    if v.check_option and v.check_option != "NONE":
        text += f" WITH {v.check_option} CHECK OPTION"
    return text


def create_routine(r: Routine, flavor: Flavor, *, definer: bool = False) -> str:
    """The server's own CREATE PROCEDURE/FUNCTION text; ``definer``: with the routine's."""
    if definer and r.definer:
        return with_definer(create_routine(r, flavor), r.definer)
    if r.create_sql:
        return strip_definer(r.create_sql)
    text = f"CREATE {r.kind} {quote(r.name)}({r.params})"
    if r.returns is not None:
        text += f" RETURNS {r.returns}"
    if r.data_access != "CONTAINS SQL":
        text += f"\n    {r.data_access}"
    if r.deterministic:
        text += "\n    DETERMINISTIC"
    if r.security != "DEFINER":
        text += f"\n    SQL SECURITY {r.security}"
    if r.comment:
        text += f"\n    COMMENT {_lit(r.comment)}"
    return text + "\n" + r.body


def create_trigger(
    t: Trigger,
    flavor: Flavor,
    *,
    follows: str | None = None,
    precedes: str | None = None,
    definer: bool = False,
) -> str:
    """CREATE TRIGGER: the server's own text (the user's, without DEFINER), else the model's.

    The server forgets FOLLOWS/PRECEDES once the trigger exists (only
    ACTION_ORDER remains), so a trigger with ``order > 1`` is either created
    after its predecessors, or given ``follows`` = the name of the trigger
    just before it (see ``trigger_predecessor``); a FOLLOWS/PRECEDES in the
    stored text gives way to that.  ``definer``: with the trigger's DEFINER.
    """
    if definer and t.definer:
        sql = create_trigger(t, flavor, follows=follows, precedes=precedes)
        return with_definer(sql, t.definer)
    if t.create_sql:
        text = _anchored(strip_definer(t.create_sql), flavor, t.sql_mode, follows, precedes)
        if text is not None:
            return text
    text = f"CREATE TRIGGER {quote(t.name)} {t.timing} {t.event} ON {quote(t.table)} FOR EACH ROW "
    if follows:
        text += f"FOLLOWS {quote(follows)} "
    elif precedes:
        text += f"PRECEDES {quote(precedes)} "
    return text + t.body


def _anchored(
    text: str, flavor: Flavor, sql_mode: str, follows: str | None, precedes: str | None
) -> str | None:
    """``text`` with its FOLLOWS/PRECEDES (after FOR EACH ROW) set to the given one, or none.

    Tokens from the lexer: the clause sits right after ``FOR EACH ROW``.
    None when the text has no such tokens (render from the model instead).
    """
    try:
        lx = lex(text, Dialect.of(flavor), mode_of(sql_mode))
    except LexError:
        return None
    words = lx.ups
    k = next(
        (i + 3 for i in range(len(words) - 2) if words[i : i + 3] == ["FOR", "EACH", "ROW"]),
        None,
    )
    if k is None or k >= len(words):
        return None
    clause = f"FOLLOWS {quote(follows)} " if follows else ""
    clause = clause or (f"PRECEDES {quote(precedes)} " if precedes else "")
    if words[k] in ("FOLLOWS", "PRECEDES") and k + 1 < len(words):
        lx.replace(k, k + 1, clause or " ")
    elif clause:
        lx.insert_before(k, clause)
    return lx.text()


def trigger_predecessor(triggers: tuple[Trigger, ...] | list[Trigger], t: Trigger) -> str | None:
    """Name of the trigger ordered just before ``t`` on the same table/timing/event."""
    if t.order <= 1:
        return None
    for other in triggers:
        if (
            other.table == t.table
            and other.timing == t.timing
            and other.event == t.event
            and other.order == t.order - 1
        ):
            return other.name
    return None


def create_event(e: Event, flavor: Flavor, *, definer: bool = False) -> str:
    """The server's own CREATE EVENT text; ``definer``: with the event's DEFINER."""
    if definer and e.definer:
        return with_definer(create_event(e, flavor), e.definer)
    if e.create_sql:
        return strip_definer(e.create_sql)
    text = f"CREATE EVENT {quote(e.name)} ON SCHEDULE {e.schedule}"
    if e.starts and e.schedule.startswith("EVERY"):
        text += f" STARTS '{e.starts}'"
    if e.ends:
        text += f" ENDS '{e.ends}'"
    status = {"ENABLED": "ENABLE", "DISABLED": "DISABLE"}.get(e.status, "DISABLE ON SLAVE")
    text += f" ON COMPLETION {e.on_completion} {status}"
    if e.comment:
        text += f" COMMENT {_lit(e.comment)}"
    return text + " DO " + e.body
