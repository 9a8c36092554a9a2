"""Read a whole schema from a server into the model, in bulk, and check the result.

Two halves, kept apart so the MySQL path can be tested from recorded rows:

* ``fetch_rows(conn, schema) -> IntrospectionRows`` talks to the server: one
  information_schema query per object kind for the WHOLE schema (the two
  biggest on connections of their own for a big schema), plus the server's
  SHOW CREATE texts sent in ``;``-separated batches over another,
  multi-statement connection (a few round trips for thousands of tables).
  With a ``Twin`` to borrow from, the tables whose text equals the twin's
  are not asked about (the second side of a plan reads only what differs).
* ``build_schema(rows, flavor) -> Schema`` is pure: rows in, model out.  Every
  flavor difference in how information_schema spells things is handled in one
  helper here (``_column_default``, ``_index_visibility`` ...).

Self-check (as Skeema does): for every table, ``ddl.create_table(model)`` must
equal the server's SHOW CREATE TABLE (AUTO_INCREMENT removed).  If it does not,
``Table.unsupported`` names the first differing line; such a table is reported
and never diffed — we never guess.

The server's text is only read for things information_schema does not expose
(display order of indexes/foreign keys/checks, an explicit ``USING`` clause,
routine parameter lists), and compared whole to tell equal tables apart;
never to learn structure.
"""

from __future__ import annotations

import contextlib
import gc
import json
import operator
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from myshift.engine import ddl
from myshift.model.flavor import Flavor
from myshift.model.schema import (
    Check,
    Column,
    Event,
    ForeignKey,
    Index,
    IndexKind,
    IndexPart,
    Partition,
    Partitioning,
    Routine,
    Schema,
    Table,
    Trigger,
    View,
)

if TYPE_CHECKING:
    from myshift.db.connect import Conn

__all__ = [
    "IntrospectionRows",
    "Twin",
    "TwinUnavailable",
    "build_schema",
    "fetch_rows",
    "gc_paused",
    "introspect",
    "self_check",
]

Row = dict[str, Any]


class CompactRows:
    """Rows as tuples sharing one tuple of names; iterating yields one dict at a time.

    A dict per row costs ~650 bytes for a 12-column query, a tuple ~150: the
    ~10^5 column and index rows of a 10,000-table schema, held for both sides
    of a plan at once, were the plan's peak memory (178 MB per side).  The
    dicts are made only while ``build_schema`` models their table.
    """

    __slots__ = ("names", "tuples")

    def __init__(self, names: tuple[str, ...], tuples: list[tuple[Any, ...]]) -> None:
        self.names = names
        self.tuples = tuples

    def __iter__(self) -> Iterator[Row]:
        names = self.names
        return (dict(zip(names, t, strict=True)) for t in self.tuples)

    def __len__(self) -> int:
        return len(self.tuples)

    def group(self, key: str) -> dict[str, CompactRows]:
        """The rows by the value of column ``key`` (in order)."""
        i = self.names.index(key)
        by: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for t in self.tuples:
            by[t[i]].append(t)
        return {k: CompactRows(self.names, v) for k, v in by.items()}


# What build_schema accepts: plain dict rows (fixtures, tests) or compact ones.
Rows = list[Row] | CompactRows

# How many SHOW CREATE statements travel in one round trip.
SHOW_CREATE_CHUNK = 500


@dataclass
class IntrospectionRows:
    """Everything the server told us about one schema, before modelling.

    Row dicts use the lower-case aliases selected by the queries below, so a
    recorded fixture (``to_json``) reads the same for every flavor.
    """

    schema: str
    charset: str = "utf8mb4"
    collation: str = "utf8mb4_general_ci"
    tables: list[Row] = field(default_factory=list)
    columns: Rows = field(default_factory=list)
    statistics: Rows = field(default_factory=list)
    foreign_keys: list[Row] = field(default_factory=list)
    checks: list[Row] = field(default_factory=list)
    partitions: list[Row] = field(default_factory=list)
    views: list[Row] = field(default_factory=list)
    routines: list[Row] = field(default_factory=list)
    triggers: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    # SHOW CREATE texts: table name -> text; "PROCEDURE name"/"FUNCTION name" -> text ...
    create_tables: dict[str, str] = field(default_factory=dict)
    create_routines: dict[str, str] = field(default_factory=dict)
    create_events: dict[str, str] = field(default_factory=dict)
    # Tables not asked about because a Twin has them (their SHOW CREATE text is equal).
    borrowed: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        data = {
            f.name: list(v) if isinstance(v, CompactRows) else v
            for f in fields(self)
            for v in (getattr(self, f.name),)
        }
        return json.dumps(data, indent=1, default=str, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> IntrospectionRows:
        return cls(**json.loads(text))

    @classmethod
    def load(cls, path: str | Path) -> IntrospectionRows:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the queries


def _queries(flavor: Flavor) -> dict[str, str]:
    """One query per object kind, for the whole schema (``%s`` = schema name)."""
    if flavor.is_mariadb:
        ignored = "IF(s.IGNORED = 'YES', 'YES', 'NO')" if flavor.min(10, 6) else "'NO'"
        expr = "NULL"
        srid = "NULL"
        checks = """
            SELECT TABLE_NAME AS table_name, CONSTRAINT_NAME AS name, CHECK_CLAUSE AS clause,
                   'YES' AS enforced, LEVEL AS `level`
            FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s{only}"""
    else:
        ignored = "IF(s.IS_VISIBLE = 'NO', 'YES', 'NO')"
        expr = "s.EXPRESSION"
        srid = "c.SRS_ID"
        checks = """
            SELECT tc.TABLE_NAME AS table_name, tc.CONSTRAINT_NAME AS name,
                   cc.CHECK_CLAUSE AS clause, tc.ENFORCED AS enforced, 'Table' AS level
            FROM information_schema.TABLE_CONSTRAINTS tc
            JOIN information_schema.CHECK_CONSTRAINTS cc
              ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA
             AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
            WHERE tc.TABLE_SCHEMA = %s AND tc.CONSTRAINT_TYPE = 'CHECK'{only:tc}"""
    return {
        "tables": """
            SELECT TABLE_NAME AS name, TABLE_TYPE AS type, ENGINE AS engine,
                   TABLE_COLLATION AS collation, CREATE_OPTIONS AS create_options,
                   TABLE_COMMENT AS comment
            FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s{only}""",
        "columns": f"""
            SELECT c.TABLE_NAME AS table_name, c.COLUMN_NAME AS name, c.COLUMN_TYPE AS type,
                   c.IS_NULLABLE AS nullable, c.COLUMN_DEFAULT AS `default`, c.EXTRA AS extra,
                   c.CHARACTER_SET_NAME AS charset, c.COLLATION_NAME AS collation,
                   c.COLUMN_COMMENT AS comment, c.GENERATION_EXPRESSION AS generation,
                   {srid} AS srid, c.ORDINAL_POSITION AS ordinal
            FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = %s{{only:c}}""",
        "statistics": f"""
            SELECT s.TABLE_NAME AS table_name, s.INDEX_NAME AS name, s.NON_UNIQUE AS non_unique,
                   s.SEQ_IN_INDEX AS seq, s.COLUMN_NAME AS column_name, s.COLLATION AS direction,
                   s.SUB_PART AS sub_part, s.INDEX_TYPE AS index_type,
                   s.INDEX_COMMENT AS comment, {ignored} AS ignored, {expr} AS expression
            FROM information_schema.STATISTICS s WHERE s.TABLE_SCHEMA = %s{{only:s}}""",
        # KEY_COLUMN_USAGE joined to REFERENTIAL_CONSTRAINTS inside the server
        # costs ~6x the two queries apart (information_schema joins open every
        # table once per row); fetch_rows joins them in Python.
        "foreign_keys": """
            SELECT k.TABLE_NAME AS table_name, k.CONSTRAINT_NAME AS name,
                   k.COLUMN_NAME AS column_name, k.REFERENCED_TABLE_SCHEMA AS ref_schema,
                   k.REFERENCED_TABLE_NAME AS ref_table,
                   k.REFERENCED_COLUMN_NAME AS ref_column, k.ORDINAL_POSITION AS ordinal
            FROM information_schema.KEY_COLUMN_USAGE k
            WHERE k.TABLE_SCHEMA = %s AND k.REFERENCED_COLUMN_NAME IS NOT NULL{only:k}""",
        "fk_rules": """
            SELECT TABLE_NAME AS table_name, CONSTRAINT_NAME AS name,
                   UPDATE_RULE AS on_update, DELETE_RULE AS on_delete
            FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s{only}""",
        "checks": checks,
        "partitions": """
            SELECT TABLE_NAME AS table_name, PARTITION_NAME AS name,
                   SUBPARTITION_NAME AS sub_name, PARTITION_METHOD AS method,
                   SUBPARTITION_METHOD AS sub_method, PARTITION_EXPRESSION AS expression,
                   SUBPARTITION_EXPRESSION AS sub_expression,
                   PARTITION_DESCRIPTION AS description, PARTITION_COMMENT AS comment,
                   PARTITION_ORDINAL_POSITION AS ordinal,
                   SUBPARTITION_ORDINAL_POSITION AS sub_ordinal
            FROM information_schema.PARTITIONS
            WHERE TABLE_SCHEMA = %s AND PARTITION_NAME IS NOT NULL{only}""",
        "views": """
            SELECT TABLE_NAME AS name, VIEW_DEFINITION AS definition, CHECK_OPTION AS check_option,
                   DEFINER AS definer, SECURITY_TYPE AS security, ALGORITHM AS algorithm
            FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s{only}""",
        "routines": """
            SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS kind, ROUTINE_DEFINITION AS body,
                   IS_DETERMINISTIC AS `deterministic`, SQL_DATA_ACCESS AS data_access,
                   SECURITY_TYPE AS security, ROUTINE_COMMENT AS comment, SQL_MODE AS sql_mode,
                   DEFINER AS definer
            FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s""",
        # A trigger lives in its table's schema.  MariaDB looks up only that
        # schema for EVENT_OBJECT_SCHEMA; TRIGGER_SCHEMA = x scans every schema
        # on the server (~45 ms per 10,000 tables, whatever x holds).
        "triggers": """
            SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS table_name,
                   ACTION_TIMING AS timing, EVENT_MANIPULATION AS `event`,
                   ACTION_STATEMENT AS body, ACTION_ORDER AS action_order,
                   SQL_MODE AS sql_mode, DEFINER AS definer
            FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = %s""",
        "events": """
            SELECT EVENT_NAME AS name, EVENT_DEFINITION AS body, EVENT_TYPE AS `type`,
                   EXECUTE_AT AS execute_at, INTERVAL_VALUE AS interval_value,
                   INTERVAL_FIELD AS interval_field, STARTS AS starts, ENDS AS ends,
                   STATUS AS `status`, ON_COMPLETION AS on_completion, EVENT_COMMENT AS comment,
                   SQL_MODE AS sql_mode, DEFINER AS definer
            FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s""",
    }


def _plain(row: dict[str, Any]) -> Row:
    """Rows as JSON-able values (bytes -> str, datetimes -> str), so fixtures round-trip."""
    out: Row = {}
    for k, v in row.items():
        if isinstance(v, bytes | bytearray):
            v = v.decode("utf-8", "replace")
        elif v is not None and not isinstance(v, str | int | float):
            v = str(v)
        out[k] = v
    return out


def _show_create_batches(
    conn: Conn, schema: str, stmts: list[tuple[str, str]], col: int
) -> dict[str, str]:
    """Run ``SHOW CREATE ...`` statements in ``;``-separated batches: key -> text.

    A second connection with multi-statements on carries the batches, so one
    round trip returns hundreds of CREATE texts.  A batch that fails (an object
    dropped meanwhile) is retried one statement at a time, skipping the missing.
    """
    if not stmts:
        return {}
    import pymysql  # only the server-facing half needs the driver

    from myshift.db.connect import connect

    out: dict[str, str] = {}
    multi = connect(conn.endpoint, schema=schema, multi=True)
    try:
        for chunk_start in range(0, len(stmts), SHOW_CREATE_CHUNK):
            chunk = stmts[chunk_start : chunk_start + SHOW_CREATE_CHUNK]
            try:
                texts = multi.multi_column(";\n".join(sql for _, sql in chunk), col)
                for (key, _), text in zip(chunk, texts, strict=True):
                    if text is not None:
                        out[key] = text
            except pymysql.err.MySQLError:  # fall back to one statement at a time
                multi.close()
                multi = connect(conn.endpoint, schema=schema, multi=True)
                for key, sql in chunk:
                    try:
                        rows = multi.query(sql)
                    except pymysql.err.MySQLError:  # the object vanished: skip it
                        continue
                    if rows:
                        out[key] = str(rows[0][col])
    finally:
        multi.close()
    return out


# The big per-column queries come back as JSON (JSON_ARRAYAGG) on MariaDB
# 10.5+: the server serialises, json.loads (C) parses, instead of PyMySQL
# decoding ~10^5 fields in Python -- about 3x faster for those queries.  The
# rows come in _JSON_BUCKETS values (tables grouped by a hash of their name),
# not one for the schema: json.loads makes a fresh string for every value, so
# parsing 10^6 values at once held ~100 MB of duplicates before they could be
# shared; a 64th at a time they are shared at once.  (One value per table did
# the same for memory but cost PyMySQL a row per table.)
# The rows of a query are in the order of its keys in _ORDER (all selected):
# the plain query sorts by them, and, as the derived table drops ORDER BY, the
# aggregate too (the server sorts faster than a Python key function); a result too
# large for group_concat_max_len comes back NULL and the plain query is used.
# MySQL's JSON_ARRAYAGG would do too, but without a MySQL server to test on,
# MySQL stays on the plain path.  The first key names the table (the buckets
# split by it).  The per-table queries with a row or so per table come this
# way too: PyMySQL's per-row decoding cost more than the server's JSON.
_ORDER = {
    "columns": ("table_name", "ordinal"),
    "statistics": ("table_name", "name", "seq"),
    "foreign_keys": ("table_name", "name", "ordinal"),
    "tables": ("name",),
    "fk_rules": ("table_name", "name"),
    "checks": ("table_name", "name"),
    "partitions": ("table_name", "ordinal", "sub_ordinal"),
}
_JSON_BUCKETS = 64
_ALIAS = re.compile(r"\bAS\s+`?(\w+)`?", re.IGNORECASE)


def _json_rows(
    conn: Conn, kind: str, sql: str, params: tuple[str, ...], aliases: list[str]
) -> CompactRows | None:
    cols = ", ".join(f"q.{ddl.quote(a)}" for a in aliases)
    order = ", ".join(f"q.{ddl.quote(k)}" for k in _ORDER[kind])
    with conn.raw.cursor() as cur:
        cur.execute("SET SESSION group_concat_max_len = 1073741824")
        cur.execute(
            f"SELECT JSON_ARRAYAGG(JSON_ARRAY({cols}) ORDER BY {order}) FROM ({sql}) q "
            f"GROUP BY MOD(CRC32(q.{ddl.quote(_ORDER[kind][0])}), {_JSON_BUCKETS})",
            params,
        )
        groups = cur.fetchall()
    if any(text is None for (text,) in groups):
        return None
    data: list[tuple[Any, ...]] = []
    add = data.append
    if sum(len(text) for (text,) in groups) < _SHARE_FROM_BYTES:
        for (text,) in groups:
            data += map(tuple, json.loads(text))
        return CompactRows(tuple(aliases), data)
    # One object per distinct value: types, collations, table names repeat
    # endlessly, and the model keeps many of them.  (Twice the parsing time,
    # so only where memory is at stake.)
    seen: dict[Any, Any] = {}
    share = seen.setdefault
    for (text,) in groups:
        for values in json.loads(text):
            add(tuple(map(share, values, values)))
    return CompactRows(tuple(aliases), data)


# Below this much JSON (~2,000 tables of columns), rows keep their own strings.
_SHARE_FROM_BYTES = 8 << 20


_ONLY = re.compile(r"\{only(?::(\w+))?\}")


# Tables per query when a query is restricted to some tables (see _scoped).
SCOPED_CHUNK = 500


def _scoped(
    sql: str, schema: str, names: list[str] | None, kind: str = ""
) -> tuple[str, tuple[str, ...]]:
    """A whole-schema query, or the same restricted to ``names``; with its parameters.

    Restricted, it is a UNION ALL of one branch per table, each with
    ``TABLE_SCHEMA = s AND TABLE_NAME = t``: for those two equalities the
    server opens just that table, while any other condition on TABLE_NAME
    (``IN (...)`` included) is tested against every table of the schema
    first -- ~0.4 s per query at 10,000 tables, however few are wanted.
    Measured there for 1,000 of 10,000 tables: 82 ms instead of 378 ms for
    REFERENTIAL_CONSTRAINTS, 196 instead of 532 for STATISTICS.
    """
    # Ordered by the keys of _ORDER (selected aliases), whole or restricted.
    order = " ORDER BY " + ", ".join(map(ddl.quote, _ORDER[kind])) if kind in _ORDER else ""
    if names is None or "{only" not in sql:
        return _ONLY.sub("", sql) + order, (schema,)

    def cond(m: re.Match[str]) -> str:
        return f" AND {m[1]}.TABLE_NAME = %s" if m[1] else " AND TABLE_NAME = %s"

    branch = _ONLY.sub(cond, sql)
    text = "SELECT * FROM (" + " UNION ALL ".join(f"({branch})" for _ in names) + ") u"
    return text + order, tuple(p for name in names for p in (schema, name))


def _query_rows(
    conn: Conn, sql: str, schema: str, kind: str = "", only: list[str] | None = None
) -> Rows:
    """Rows as dicts keyed by the query's aliases (a plain cursor: DictCursor is slower).

    ``only``: just these tables (see ``_scoped``); an empty list asks nothing.
    """
    if only is not None and "{only" in sql:
        if not only:
            return []
        if len(only) > SCOPED_CHUNK:
            parts = [
                _query_rows(conn, sql, schema, kind, only[i : i + SCOPED_CHUNK])
                for i in range(0, len(only), SCOPED_CHUNK)
            ]
            if all(isinstance(p, CompactRows) for p in parts):
                first = parts[0]
                assert isinstance(first, CompactRows)
                tuples = [t for p in parts if isinstance(p, CompactRows) for t in p.tuples]
                return CompactRows(first.names, tuples)
            return [row for p in parts for row in p]
    aliases = _ALIAS.findall(sql)
    sql, params = _scoped(sql, schema, only, kind)
    if kind in _ORDER and conn.flavor.min_mariadb(10, 5):
        rows = _json_rows(conn, kind, sql, params, aliases)
        if rows is not None:
            return rows
    with conn.raw.cursor() as cur:
        cur.execute(sql, params)
        names = [d[0] for d in cur.description or ()]
        out = []
        for raw in cur.fetchall():
            row = dict(zip(names, raw, strict=True))
            if not all(v is None or type(v) in (str, int) for v in raw):
                row = _plain(row)
            out.append(row)
        return out


# sql_mode flags known NOT to change how SHOW CREATE TABLE spells a table
# (strictness, dates, GROUP BY and expression rules).  Dev and prod often
# differ in these; any other flag (ANSI_QUOTES, NO_*_OPTIONS, ORACLE,
# NO_BACKSLASH_ESCAPES, one we do not know...) must agree for two texts to
# be compared (see Twin).
_NOT_DISPLAY_MODES = frozenset(
    {
        "ALLOW_INVALID_DATES",
        "EMPTY_STRING_IS_NULL",
        "ERROR_FOR_DIVISION_BY_ZERO",
        "HIGH_NOT_PRECEDENCE",
        "IGNORE_BAD_TABLE_OPTIONS",
        "IGNORE_SPACE",
        "NO_AUTO_CREATE_USER",
        "NO_AUTO_VALUE_ON_ZERO",
        "NO_DIR_IN_CREATE",
        "NO_ENGINE_SUBSTITUTION",
        "NO_UNSIGNED_SUBTRACTION",
        "NO_ZERO_DATE",
        "NO_ZERO_IN_DATE",
        "ONLY_FULL_GROUP_BY",
        "PAD_CHAR_TO_FULL_LENGTH",
        "PIPES_AS_CONCAT",
        "REAL_AS_FLOAT",
        "SIMULTANEOUS_ASSIGNMENT",
        "STRICT_ALL_TABLES",
        "STRICT_TRANS_TABLES",
        "TIME_ROUND_FRACTIONAL",
        "TIME_TRUNCATE_FRACTIONAL",
        "TRADITIONAL",
    }
)


def _display_modes(sql_mode: Any) -> tuple[str, ...]:
    """The sql_mode flags that may change SHOW CREATE TABLE's text."""
    flags = str(sql_mode or "").upper().split(",")
    return tuple(sorted(f for f in flags if f and f not in _NOT_DISPLAY_MODES))


def _meta(conn: Conn, schema: str, rows: IntrospectionRows) -> tuple[Any, ...]:
    """The schema's default charset and collation into ``rows``; the texts' context (Twin)."""
    flavor = conn.flavor
    meta = conn.query(
        # The SHOW CREATE texts come from new sessions: the global sql_mode.
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME, @@GLOBAL.sql_mode, "
        + ("@@character_set_collations" if flavor.min_mariadb(11, 2) else "NULL")
        + " FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
        (schema,),
    )
    if not meta:
        return (flavor, None, None)
    rows.charset, rows.collation = str(meta[0][0]), str(meta[0][1])
    return (flavor, _display_modes(meta[0][2]), meta[0][3])


def _show_create_tables(
    conn: Conn,
    schema: str,
    types: dict[str, str],
    lend: Twin | None = None,
    context: tuple[Any, ...] = (),
) -> dict[str, str]:
    """SHOW CREATE TABLE of every table in ``types`` (name -> TABLE_TYPE); offered to ``lend``."""
    qs = ddl.quote(schema)
    names = [n for n, t in types.items() if t != "VIEW"]
    texts = _show_create_batches(
        conn, schema, [(t, f"SHOW CREATE TABLE {qs}.{ddl.quote(t)}") for t in names], 1
    )
    if lend is not None:
        lend.offer_texts(context, {n: x for n, x in texts.items() if types[n] in _TABLE_TYPES})
    return texts


def _table_rows(
    conn: Conn,
    schema: str,
    rows: IntrospectionRows,
    only: list[str] | None,
    aside: frozenset[str] = frozenset(),
    meanwhile: Callable[[], None] | None = None,
    first: Callable[[], None] | None = None,
) -> None:
    """Columns, indexes, foreign keys, checks and partitions of ``only`` (None: all tables).

    ``rows.tables`` must hold those tables' TABLES rows (for the partition
    test) once ``first`` has run.  The ``aside`` kinds (columns, statistics)
    run on connections of their own, started before ``first``; ``meanwhile``
    runs on this one before they are waited for.
    """
    q = _queries(conn.flavor)
    got: dict[str, Rows] = {}
    with ThreadPoolExecutor(max_workers=max(1, len(aside))) as pool:
        futures = {
            kind: pool.submit(_query_aside, conn, q[kind], schema, kind, only)
            for kind in ("columns", "statistics")
            if kind in aside
        }
        if first is not None:
            first()
        kinds = ["fk_rules", "foreign_keys", "checks", "columns", "statistics"]
        if any("partitioned" in (t.get("create_options") or "").lower() for t in rows.tables):
            # PARTITIONS opens every table (~0.25 s per 10,000) to say "none";
            # TABLES.CREATE_OPTIONS already says "partitioned" for those that are.
            kinds.append("partitions")
        for kind in kinds:
            if kind not in aside:
                got[kind] = _query_rows(conn, q[kind], schema, kind, only=only)
        if meanwhile is not None:
            meanwhile()
        for kind, future in futures.items():
            got[kind] = future.result()
    rules = {(r["table_name"], r["name"]): r for r in got.pop("fk_rules")}
    rows.foreign_keys = list(got.pop("foreign_keys"))
    for fk in rows.foreign_keys:
        rule = rules.get((fk["table_name"], fk["name"]), {})
        fk["on_update"] = rule.get("on_update", "RESTRICT")
        fk["on_delete"] = rule.get("on_delete", "RESTRICT")
    rows.checks = list(got.pop("checks"))
    rows.columns, rows.statistics = got.pop("columns"), got.pop("statistics")
    rows.partitions = list(got.pop("partitions", []))


def _schema_rows(conn: Conn, schema: str, rows: IntrospectionRows, types: dict[str, str]) -> None:
    """Views, routines, triggers and events, with the SHOW CREATE texts they need.

    ``types`` (name -> TABLE_TYPE, the schema's listing) names the views: VIEWS
    is asked about just those (see _scoped), not made to look at every table.
    """
    q = _queries(conn.flavor)
    qs = ddl.quote(schema)
    views = sorted(n for n, t in types.items() if t == "VIEW")
    rows.views = list(_query_rows(conn, q["views"], schema, "views", only=views))
    for kind in ("routines", "triggers", "events"):
        setattr(rows, kind, list(_query_rows(conn, q[kind], schema, kind)))
    rows.create_routines = _show_create_batches(
        conn,
        schema,
        [
            (f"{r['kind']} {r['name']}", f"SHOW CREATE {r['kind']} {qs}.{ddl.quote(r['name'])}")
            for r in rows.routines
        ],
        2,
    )
    rows.create_events = _show_create_batches(
        conn,
        schema,
        [(e["name"], f"SHOW CREATE EVENT {qs}.{ddl.quote(e['name'])}") for e in rows.events],
        3,
    )


def fetch_rows(
    conn: Conn, schema: str, *, borrow: Twin | None = None, lend: Twin | None = None
) -> IntrospectionRows:
    """Query the server: a handful of whole-schema queries plus batched SHOW CREATE.

    The SHOW CREATE TABLE batches run on their own connection in a thread while
    this connection reads information_schema: the two overlap on the server.
    With ``borrow``, the tables whose text equals the twin's are not asked
    about again (see Twin); ``lend`` is offered this schema's texts.
    """
    rows = IntrospectionRows(schema=schema)
    context = _meta(conn, schema, rows)
    q = _queries(conn.flavor)
    # The names first (no table is opened for them): they start the SHOW
    # CREATE batches, and say whether the schema is big enough to borrow
    # from a twin (a small one is read whole: borrowing only adds round trips).
    listing = conn.query(
        "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
        (schema,),
    )
    types = {str(n): str(t) for n, t in listing}
    if borrow is not None and len(types) >= Twin.MIN_TABLES:
        # The texts, then information_schema for only the tables the twin
        # does not have.
        rows.create_tables = _show_create_tables(conn, schema, types, lend, context)
        # Views, routines...: nothing to borrow, read while the twin's texts
        # may still be on their way.
        _schema_rows(conn, schema, rows, types)
        same = borrow.same_tables(context, rows.create_tables, types)
        only: list[str] | None = None
        if same:
            rows.borrowed = sorted(same)
            only = sorted(n for n in types if n not in same)
            rows.tables = list(_query_rows(conn, q["tables"], schema, "tables", only=only))
        else:
            rows.tables = list(_query_rows(conn, q["tables"], schema, "tables"))
        _table_rows(conn, schema, rows, only)
        rows.tables += [{"name": n, "type": types[n]} for n in rows.borrowed]
        return rows

    # TABLES, which opens every table, runs beside the texts and the big scans.
    def read_tables() -> None:
        rows.tables = list(_query_rows(conn, q["tables"], schema, "tables"))

    with ThreadPoolExecutor(max_workers=1) as pool:
        created = pool.submit(_show_create_tables, conn, schema, types, lend, context)
        big = len(types) >= _ASIDE_MIN_TABLES
        _table_rows(
            conn,
            schema,
            rows,
            None,
            _ASIDE if big else frozenset(),
            meanwhile=lambda: _schema_rows(conn, schema, rows, types),
            first=read_tables,
        )
        rows.create_tables = created.result()
    return rows


# For a big schema, the two biggest scans run on connections of their own,
# beside the other queries (the server works on them at once): 310 -> 230 ms
# for 1,000 tables.  (Reading the tables in chunks, to model one while the
# next is read, was slower: every information_schema query has a fixed cost
# of ~5 ms per 1,000 tables, whatever it selects.)
_ASIDE = frozenset({"columns", "statistics"})
_ASIDE_MIN_TABLES = 200


def _query_aside(conn: Conn, sql: str, schema: str, kind: str, only: list[str] | None) -> Rows:
    with conn.sibling() as other:
        return _query_rows(other, sql, schema, kind, only=only)


_gc_lock = threading.Lock()
_gc_pauses = 0  # how many gc_paused() blocks are open, in any thread
_gc_resume = False  # whether the collector was on when the first one opened


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a big model is built or compared.

    Introspecting 10,000 tables allocates millions of long-lived, acyclic
    objects (row dicts, frozen dataclasses, tuples); every full collection
    walks all of them, so the collector alone made the work superlinear (10x
    the tables cost ~16x the build time).  Reference counting still frees
    everything; the collector resumes, as it was, when the last open block
    (in any thread: the two sides of a plan are read concurrently) closes.
    """
    global _gc_pauses, _gc_resume
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_resume = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_resume:
                gc.enable()


class TwinUnavailable(Exception):
    """The twin an introspection borrows from failed before it built its tables.

    Internal: the twin's own error is the one to report (see make_plan).
    """


class Twin:
    """One introspection's tables, lent to another whose SHOW CREATE TABLE texts match.

    The second side of a plan is mostly the first side's tables.  Skeema
    decides that two tables are the same when their SHOW CREATE TABLE texts
    are; so does a borrower here: a table whose text (AUTO_INCREMENT removed)
    equals the lender's, read in the same context (flavor, sql_mode,
    character_set_collations: what the text's spelling depends on), is the
    lender's Table, and information_schema is asked only about the other
    tables (one ``TABLE_NAME = t`` branch each, see _scoped).  That skips
    most of the second side's modelling and, but for a per-query cost that
    grows with the schema, its server work.  Sound because every structural field of a
    Table is spelled in its text (the self-check renders it back from the
    model; tests/test_twin.py checks that different tables render
    differently), so equal texts cannot hide different tables.

    The lender offers its texts as soon as it has them and its tables once
    built; ``close`` (always called, on failure too) releases a waiting
    borrower: with no texts it reads everything itself, with texts but no
    tables it raises TwinUnavailable.
    """

    # Below this share of equal tables, restricting the queries is not worth it.
    MIN_SHARE = 0.5
    # Nor for a schema of fewer tables than this.
    MIN_TABLES = 100

    def __init__(self) -> None:
        self._texts_ready = threading.Event()
        self._tables_ready = threading.Event()
        self._compared = threading.Event()
        self._context: tuple[Any, ...] | None = None
        self._texts: dict[str, str] = {}
        self._tables: dict[str, Table] | None = None
        self._differing: set[str] | None = None

    # -- lender side
    def offer_texts(self, context: tuple[Any, ...], texts: dict[str, str]) -> None:
        if self._texts_ready.is_set():
            return
        self._texts = {name: strip_auto_increment(text)[0] for name, text in texts.items()}
        self._context = context
        self._texts_ready.set()

    def offer_tables(self, tables: Iterable[Table]) -> None:
        self._tables = {t.name: t for t in tables}
        self._tables_ready.set()

    def close(self) -> None:
        """The lender is done (or failed): a borrower waits no longer."""
        self._texts_ready.set()
        self._tables_ready.set()

    def end_borrowing(self) -> None:
        """The borrower is done (whether it compared the texts or not)."""
        self._compared.set()

    def differing(self) -> dict[str, str] | None:
        """The lender's tables the borrower did not borrow, with their texts.

        Known as soon as the borrower has compared the texts, long before
        either side is modelled (the plan starts its verification copy then);
        None when the borrower borrowed nothing.  Waits for that moment (or
        for ``end_borrowing``).
        """
        self._compared.wait()
        if self._differing is None:
            return None
        return {name: self._texts[name] for name in sorted(self._differing)}

    # -- borrower side
    def same_tables(
        self, context: tuple[Any, ...], texts: dict[str, str], types: dict[str, str]
    ) -> set[str]:
        """Names of the borrower's tables that are the twin's (waits for its texts)."""
        self._texts_ready.wait()
        if self._context is None or self._context != context:
            return set()
        mine = self._texts
        same = {
            name
            for name, text in texts.items()
            if types.get(name) in _TABLE_TYPES and mine.get(name) == strip_auto_increment(text)[0]
        }
        if len(same) < self.MIN_SHARE * max(1, len(texts)):
            same = set()
        else:
            self._differing = set(mine) - same
        self._compared.set()
        return same

    def table(self, name: str) -> Table:
        """The twin's table ``name`` (waits until the twin has built its tables)."""
        self._tables_ready.wait()
        if self._tables is None or name not in self._tables:
            raise TwinUnavailable(name)
        return self._tables[name]


def introspect(
    conn: Conn,
    schema: str,
    *,
    borrow: Twin | None = None,
    lend: Twin | None = None,
) -> Schema:
    """The model of ``schema`` on ``conn``'s server (flavor from the connection).

    ``borrow`` takes equal tables from another introspection, ``lend`` offers
    this one's (see Twin).
    """
    try:
        with gc_paused():
            rows = fetch_rows(conn, schema, borrow=borrow, lend=lend)
            return build_schema(rows, conn.flavor, borrow=borrow, lend=lend)
    finally:
        if lend is not None:
            lend.close()


# ------------------------------------------------------------ rows -> model


def _group_rows(rows: Rows, key: str = "table_name") -> dict[str, Rows]:
    if isinstance(rows, CompactRows):
        return dict(rows.group(key))
    return dict(_group(rows, key))


def _group(rows: Iterable[Row], key: str = "table_name") -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return out


def _column_default(r: Row, flavor: Flavor, generated: bool, auto_inc: bool) -> str | None:
    """The text after DEFAULT in SHOW CREATE TABLE, from COLUMNS.COLUMN_DEFAULT."""
    raw: str | None = r["default"]
    nullable = r["nullable"] == "YES"
    if generated or auto_inc:
        return None
    if flavor.is_mariadb:
        # Since 10.2.7 MariaDB stores the SHOW CREATE spelling already ('abc',
        # NULL, current_timestamp()); no default at all is SQL NULL.
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
    mariadb = flavor.is_mariadb
    marker = " /*M!100301 COMPRESSED*/"
    name, typ, nullable, default, extra, charset, collation, comment, generation, srid = values
    extra = extra or ""
    extra_u = extra.upper()
    raw_type: str = typ
    compressed = False
    if mariadb and marker in typ:
        typ = typ.replace(marker, "")
        compressed = True
    gen = generation if "GENERATED" in extra_u and generation else None
    if gen is not None and not mariadb and "\\'" in gen:
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
    elif mariadb:
        col_default = default  # see _column_default
    else:
        row = {"default": default, "nullable": nullable, "type": raw_type, "extra": extra}
        col_default = _column_default(row, flavor, False, False)
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


def _cosmetic(create_sql: str, table: Table, flavor: Flavor) -> str:
    """Erase differences that are cosmetic and invisible to information_schema.

    MySQL 8 prints a column's CHARACTER SET/COLLATE whenever they were written
    in the original CREATE, even when equal to the table default; the model
    (effective charset only) renders them only when they differ.
    """
    if flavor.is_mysql:
        create_sql = create_sql.replace(
            f" CHARACTER SET {table.charset} COLLATE {table.collation}", ""
        )
    return create_sql


def self_check(table: Table, flavor: Flavor, memo: ddl.RenderMemo | None = None) -> str | None:
    """None when the model reproduces the server's SHOW CREATE TABLE, else why not."""
    if not table.create_sql:
        return "SHOW CREATE TABLE returned nothing"
    want = _cosmetic(strip_auto_increment(table.create_sql)[0], table, flavor)
    got = ddl.create_table(table, flavor, memo=memo)
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
    if flavor.is_mysql:
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
    )
    why = self_check(table, flavor, shared.render if shared is not None else None)
    return table if why is None else replace(table, unsupported=why)


def _strip_qualifier(text: str, schema: str) -> str:
    """Drop ``schema``. qualifiers so a workspace copy compares equal to the target."""
    return text.replace(ddl.quote(schema) + ".", "")


def _split_params(create_sql: str, kind: str, name: str) -> tuple[str, str | None]:
    """Parameter list and RETURNS type from SHOW CREATE PROCEDURE/FUNCTION."""
    head = f"{kind} {ddl.quote(name)}("
    start = create_sql.find(head)
    if start < 0:
        return "", None
    i = start + len(head)
    depth, quote_ch = 1, ""
    while i < len(create_sql):
        ch = create_sql[i]
        if quote_ch:
            if ch == quote_ch:
                quote_ch = ""
        elif ch in "'\"`":
            quote_ch = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                break
        i += 1
    params = create_sql[start + len(head) : i]
    returns = None
    rest = create_sql[i + 1 :]
    if rest.startswith(" RETURNS "):
        returns = rest[len(" RETURNS ") :].split("\n", 1)[0]
    return params, returns


def _definer(raw: Any) -> str:
    return str(raw or "")


# SYSTEM VERSIONED tables are modelled like any table; the self-check marks
# them unsupported (the model has no WITH SYSTEM VERSIONING) instead of hiding them.
_TABLE_TYPES = ("BASE TABLE", "SYSTEM VERSIONED")


def build_schema(
    rows: IntrospectionRows,
    flavor: Flavor,
    *,
    borrow: Twin | None = None,
    lend: Twin | None = None,
) -> Schema:
    """Pure: turn introspection rows into the model (and self-check every table).

    ``rows.borrowed`` tables come from ``borrow``; ``lend`` gets the tables.
    """
    tables = _build_tables(rows, flavor, _Shared(), borrow)
    if lend is not None:
        lend.offer_tables(tables)
    return _build_rest(rows, flavor, tables)


def _build_tables(
    rows: IntrospectionRows, flavor: Flavor, shared: _Shared, borrow: Twin | None
) -> list[Table]:
    """The tables of ``rows`` (all of them, or one chunk: see _introspect_in_chunks)."""
    schema = rows.schema
    borrowed = set(rows.borrowed)
    if borrowed and borrow is None:
        raise ValueError("rows name borrowed tables but no twin lends them")
    cols, stats = _group_rows(rows.columns), _group_rows(rows.statistics)
    fks, checks, parts = _group(rows.foreign_keys), _group(rows.checks), _group(rows.partitions)
    tables = []
    for t in sorted(rows.tables, key=lambda r: r["name"]):
        if t["type"] == "VIEW":
            continue
        name = t["name"]
        if name in borrowed:
            assert borrow is not None
            twin_table = borrow.table(name)
            own = rows.create_tables.get(name, "")
            if own != twin_table.create_sql:  # only AUTO_INCREMENT can differ
                twin_table = replace(
                    twin_table, auto_increment=strip_auto_increment(own)[1], create_sql=own
                )
            tables.append(twin_table)
            continue
        if t["type"] not in _TABLE_TYPES:
            # e.g. a MariaDB SEQUENCE: listed so it is reported, never silently dropped.
            tables.append(
                Table(
                    name=name,
                    columns=(),
                    engine=t["engine"] or "",
                    create_sql=rows.create_tables.get(name, ""),
                    unsupported=f"{str(t['type']).lower()} objects are not supported",
                )
            )
            continue
        t_cols, t_stats = cols.get(name, []), stats.get(name, [])
        t_fks, t_checks, t_parts = fks.get(name, []), checks.get(name, []), parts.get(name, [])
        create_sql = rows.create_tables.get(name, "")
        tables.append(
            _build_table(
                t, t_cols, t_stats, t_fks, t_checks, t_parts, create_sql, schema, flavor, shared
            )
        )
    return tables


def _build_rest(rows: IntrospectionRows, flavor: Flavor, tables: list[Table]) -> Schema:
    """The schema around its built ``tables``: views, routines, triggers, events."""
    schema = rows.schema
    views = []
    for v in sorted(rows.views, key=lambda r: r["name"]):
        view = View(
            name=v["name"],
            definition=_strip_qualifier(v["definition"] or "", schema),
            algorithm=v["algorithm"] or "UNDEFINED",
            security=v["security"] or "DEFINER",
            check_option=v["check_option"] or "NONE",
            definer=_definer(v["definer"]),
        )
        views.append(replace(view, create_sql=ddl.create_view(view, flavor)))

    routines = []
    for r in sorted(rows.routines, key=lambda r: (r["kind"], r["name"])):
        create_sql = rows.create_routines.get(f"{r['kind']} {r['name']}", "")
        params, returns = _split_params(create_sql, r["kind"], r["name"])
        routines.append(
            Routine(
                name=r["name"],
                kind=r["kind"],
                params=params,
                body=_strip_qualifier(r["body"] or "", schema),
                returns=returns,
                deterministic=r["deterministic"] == "YES",
                data_access=r["data_access"] or "CONTAINS SQL",
                security=r["security"] or "DEFINER",
                comment=r["comment"] or "",
                sql_mode=r["sql_mode"] or "",
                definer=_definer(r["definer"]),
                create_sql=create_sql,
            )
        )

    triggers = [
        Trigger(
            name=tr["name"],
            table=tr["table_name"],
            timing=tr["timing"],
            event=tr["event"],
            body=_strip_qualifier(tr["body"] or "", schema),
            order=int(tr["action_order"] or 1),
            sql_mode=tr["sql_mode"] or "",
            definer=_definer(tr["definer"]),
        )
        for tr in sorted(rows.triggers, key=lambda r: r["name"])
    ]

    events = []
    for e in sorted(rows.events, key=lambda r: r["name"]):
        if e["type"] == "ONE TIME":
            schedule = f"AT '{e['execute_at']}'"
        else:
            value = str(e["interval_value"])
            if not value.isdigit():
                value = "'" + value + "'"
            schedule = f"EVERY {value} {e['interval_field']}"
        events.append(
            Event(
                name=e["name"],
                schedule=schedule,
                body=_strip_qualifier(e["body"] or "", schema),
                status=e["status"] or "ENABLED",
                on_completion=e["on_completion"] or "NOT PRESERVE",
                comment=e["comment"] or "",
                starts=str(e["starts"]) if e["starts"] is not None else None,
                ends=str(e["ends"]) if e["ends"] is not None else None,
                sql_mode=e["sql_mode"] or "",
                definer=_definer(e["definer"]),
                create_sql=rows.create_events.get(e["name"], ""),
            )
        )

    return Schema(
        name=schema,
        charset=rows.charset,
        collation=rows.collation,
        tables=tuple(tables),
        views=tuple(views),
        routines=tuple(routines),
        triggers=tuple(triggers),
        events=tuple(events),
    )
