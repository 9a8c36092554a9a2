"""The catalogue SQL: one information_schema query per object kind, and how it is run.

Every query reads the whole schema, or (see ``_scoped``) just some of its tables.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from myshift.engine import ddl
from myshift.engine.introspect.rows import CompactRows, Row, Rows
from myshift.model.flavor import Flavor

if TYPE_CHECKING:
    from myshift.db.connect import Conn


def _queries(flavor: Flavor) -> dict[str, str]:
    """One query per object kind, for the whole schema (``%s`` = schema name)."""
    ignored, expr, srid = _flavored_columns(flavor)
    checks = _checks_query(flavor)
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


def _flavored_columns(flavor: Flavor) -> tuple[str, str, str]:
    """STATISTICS' ignored and expression, and COLUMNS' SRID, as each flavor has them."""
    if not flavor.has_ignorable_indexes:
        ignored = "'NO'"
    elif flavor.is_mariadb:
        ignored = "IF(s.IGNORED = 'YES', 'YES', 'NO')"
    else:
        ignored = "IF(s.IS_VISIBLE = 'NO', 'YES', 'NO')"
    expression = "s.EXPRESSION" if flavor.has_functional_indexes else "NULL"
    return ignored, expression, "c.SRS_ID" if flavor.has_column_srid else "NULL"


def _checks_query(flavor: Flavor) -> str:
    if flavor.is_mariadb:
        return """
            SELECT TABLE_NAME AS table_name, CONSTRAINT_NAME AS name, CHECK_CLAUSE AS clause,
                   'YES' AS enforced, LEVEL AS `level`
            FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s{only}"""
    return """
            SELECT tc.TABLE_NAME AS table_name, tc.CONSTRAINT_NAME AS name,
                   cc.CHECK_CLAUSE AS clause, tc.ENFORCED AS enforced, 'Table' AS level
            FROM information_schema.TABLE_CONSTRAINTS tc
            JOIN information_schema.CHECK_CONSTRAINTS cc
              ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA
             AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
            WHERE tc.TABLE_SCHEMA = %s AND tc.CONSTRAINT_TYPE = 'CHECK'{only:tc}"""


# The schema's tables and their types: no table is opened for these.
_LISTING = "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s"


def _meta_query(flavor: Flavor) -> str:
    """The schema's defaults, and what the spelling of its SHOW CREATE texts depends on."""
    return (
        # The SHOW CREATE texts come from new sessions: the global sql_mode.
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME, @@GLOBAL.sql_mode, "
        + ("@@character_set_collations" if flavor.has_character_set_collations else "NULL")
        + " FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s"
    )


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
    if kind in _ORDER and conn.flavor.has_ordered_json_arrayagg:
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
