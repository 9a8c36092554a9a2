"""Small catalogue facts the model does not carry: object lists, sizes, schema defaults.

``introspect()`` reads a schema's *structure* into the model; the workflows
also need a few facts about the catalogue that are not structure -- how big
a table is, which objects a schema lists in which order, whether a schema
exists.  They ask these functions instead of querying information_schema
themselves, so that every catalogue query lives in the engine's
introspection.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from myshift.model.schema import ForeignKey

if TYPE_CHECKING:
    from myshift.db.connect import Conn


@dataclass(frozen=True, slots=True)
class TableSize:
    """One entry of a schema's listing, with the server's size estimates."""

    name: str
    # TABLE_TYPE: BASE TABLE, VIEW, SEQUENCE (MariaDB), SYSTEM VERSIONED (MariaDB).
    type: str
    # TABLE_ROWS: exact for MyISAM, an estimate for InnoDB (ANALYZE TABLE refreshes it).
    rows: int
    data_bytes: int
    index_bytes: int


def table_sizes(conn: Conn, schema: str) -> dict[str, TableSize]:
    """Every table, view and sequence of ``schema`` with its estimates, by name.

    Opens every table (for the statistics): costlier than ``schema_objects``.
    """
    return {
        str(name): TableSize(str(name), str(ttype), int(rows or 0), int(data or 0), int(idx or 0))
        for name, ttype, rows, data, idx in conn.query(
            "SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH "
            "FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME",
            (schema,),
        )
    }


def partition_sizes(conn: Conn, schema: str) -> dict[tuple[str, str], tuple[int, int]]:
    """``(table, partition) -> (rows, bytes)`` estimates of every partition of ``schema``."""
    return {
        (str(t), str(p)): (int(rows or 0), int(size or 0))
        for t, p, rows, size in conn.query(
            "SELECT TABLE_NAME, PARTITION_NAME, SUM(TABLE_ROWS), "
            "SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.PARTITIONS "
            "WHERE TABLE_SCHEMA = %s AND PARTITION_NAME IS NOT NULL "
            "GROUP BY TABLE_NAME, PARTITION_NAME",
            (schema,),
        )
    }


def schema_objects(conn: Conn, schema: str) -> list[tuple[str, str]]:
    """``(name, TABLE_TYPE)`` of every table, view and sequence of ``schema``, by name."""
    return [
        (str(name), str(ttype))
        for name, ttype in conn.query(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME",
            (schema,),
        )
    ]


def table_count(conn: Conn, schema: str) -> int | None:
    """How many tables and views ``schema`` holds; None when there is no such schema."""
    rows = conn.query(
        "SELECT COUNT(t.TABLE_NAME) FROM information_schema.SCHEMATA sc "
        "LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = sc.SCHEMA_NAME "
        "WHERE sc.SCHEMA_NAME = %s GROUP BY sc.SCHEMA_NAME",
        (schema,),
    )
    return int(rows[0][0]) if rows else None


def schema_defaults(conn: Conn, schema: str) -> tuple[str, str] | None:
    """``(character set, collation)`` new tables of ``schema`` get; None: no such schema."""
    rows = conn.query(
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
        "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
        (schema,),
    )
    return (str(rows[0][0]), str(rows[0][1])) if rows else None


def schemas_starting_with(conn: Conn, prefix: str) -> list[str]:
    """Names of the schemas whose name starts with ``prefix`` (taken literally)."""
    pattern = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"
    rows = conn.query(
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE %s",
        (pattern,),
    )
    return [str(r[0]) for r in rows]


def routine_names(conn: Conn, schema: str) -> list[tuple[str, str]]:
    """``(name, PROCEDURE|FUNCTION)`` of the stored routines of ``schema``, by name."""
    return [
        (str(name), str(kind))
        for name, kind in conn.query(
            "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES "
            "WHERE ROUTINE_SCHEMA = %s ORDER BY ROUTINE_NAME",
            (schema,),
        )
    ]


def trigger_names(conn: Conn, schema: str) -> list[str]:
    """The triggers of ``schema`` in an order that re-creates each table's own order.

    (Per table, timing and event, by ACTION_ORDER: created in this order
    elsewhere, they fire in the same order.)
    """
    return [
        str(name)
        for (name,) in conn.query(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s "
            "ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER",
            (schema,),
        )
    ]


def event_names(conn: Conn, schema: str) -> list[str]:
    """The scheduled events of ``schema``."""
    return [
        str(name)
        for (name,) in conn.query(
            "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s",
            (schema,),
        )
    ]


def table_triggers(conn: Conn, schema: str, table: str) -> list[str]:
    """The names of the triggers on ``schema.table``."""
    return [
        str(name)
        for (name,) in conn.query(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = %s AND EVENT_OBJECT_TABLE = %s ORDER BY TRIGGER_NAME",
            (schema, table),
        )
    ]


def existing_tables(conn: Conn, schema: str, names: Iterable[str]) -> set[str]:
    """Which of ``names`` are tables (or views) of ``schema`` now."""
    wanted = list(names)
    if not wanted:
        return set()
    marks = ", ".join(["%s"] * len(wanted))
    rows = conn.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES "
        f"WHERE TABLE_SCHEMA = %s AND TABLE_NAME IN ({marks})",
        (schema, *wanted),
    )
    return {str(r[0]) for r in rows}


def foreign_keys_around(conn: Conn, schema: str, table: str) -> list[tuple[str, ForeignKey]]:
    """``(child table, foreign key)`` for every foreign key of ``schema.table`` and every
    foreign key of ``schema`` that references it."""
    rows = conn.query(
        "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, "
        "k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE "
        "FROM information_schema.KEY_COLUMN_USAGE k "
        "JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
        "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        "AND r.TABLE_NAME = k.TABLE_NAME "
        "WHERE k.TABLE_SCHEMA = %s AND k.REFERENCED_TABLE_NAME IS NOT NULL "
        "AND (k.TABLE_NAME = %s "
        "OR (k.REFERENCED_TABLE_SCHEMA = %s AND k.REFERENCED_TABLE_NAME = %s)) "
        "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        (schema, table, schema, table),
    )
    found: dict[tuple[str, str], list[tuple[object, ...]]] = {}
    for row in rows:
        found.setdefault((str(row[0]), str(row[1])), []).append(row)
    out = []
    for (child, name), parts in found.items():
        first = parts[0]
        ref_schema = str(first[3])
        out.append(
            (
                child,
                ForeignKey(
                    name=name,
                    columns=tuple(str(p[2]) for p in parts),
                    ref_table=str(first[4]),
                    ref_columns=tuple(str(p[5]) for p in parts),
                    ref_schema=None if ref_schema == schema else ref_schema,
                    on_delete=str(first[6]),
                    on_update=str(first[7]),
                ),
            )
        )
    return out


def schema_exists(conn: Conn, schema: str) -> bool:
    """Whether the server has a schema (database) named ``schema``."""
    return bool(
        conn.scalar(
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (schema,)
        )
    )


def base_table_rows(conn: Conn, schema: str) -> dict[str, int]:
    """TABLE_ROWS of every base table of ``schema`` (InnoDB: an estimate), by name."""
    rows = conn.query(
        "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE'",
        (schema,),
    )
    return {str(n): int(c or 0) for n, c in rows}


def _fs_name(name: str) -> str:
    """How InnoDB spells a schema or table name in its dictionary (``multi-prod`` ->
    ``multi@002dprod``): the server's filename encoding, exact for ASCII names."""
    return "".join(
        c if (c.isascii() and (c.isalnum() or c == "_")) else f"@{ord(c):04x}" for c in name
    )


@dataclass(frozen=True, slots=True)
class InnodbIds:
    """InnoDB's table ids of a schema: a new id after a statement means a rebuild.

    ``tables``: one id per unpartitioned table.  ``partitions``: per
    partitioned table, each partition's ids (one per subpartition, in
    subpartition-name order), by partition name in lower case -- InnoDB
    names them ``db/t#P#p0`` on MariaDB and ``db/t#p#p0`` (``#sp#`` for a
    subpartition, names lower-cased) on MySQL 8.0+ (mysql-test
    partition_innodb_tablespace.result: ``test/t1#p#p0``); both are read.
    """

    tables: dict[str, int]
    partitions: dict[str, dict[str, tuple[int, ...]]]


def innodb_ids(conn: Conn, schema: str) -> InnodbIds:
    """The InnoDB table ids of ``schema``'s tables and partitions (two queries).

    Names InnoDB spells differently from ``_fs_name`` (non-ASCII) are absent,
    and so is everything when the dictionary is not visible (privileges,
    another engine): empty then.
    """
    view = "INNODB_TABLES" if conn.flavor.is_mysql else "INNODB_SYS_TABLES"
    try:
        tables = [
            str(r[0])
            for r in conn.query(
                "SELECT TABLE_NAME FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE'",
                (schema,),
            )
        ]
        rows = conn.query(f"SELECT NAME, TABLE_ID FROM information_schema.{view}")
    except Exception:  # not visible (privileges, another engine): not observable
        return InnodbIds({}, {})
    return innodb_ids_of(rows, schema, tables)


def innodb_table_ids(conn: Conn, schema: str) -> dict[str, int]:
    """InnoDB's table id per unpartitioned table (``innodb_ids``)."""
    return innodb_ids(conn, schema).tables


_FS_CHAR = re.compile(r"@([0-9a-f]{4})")


def innodb_ids_of(rows: Iterable[Sequence[Any]], schema: str, tables: Iterable[str]) -> InnodbIds:
    """(NAME, TABLE_ID) rows of InnoDB's dictionary -> ``InnodbIds`` of ``tables``."""
    prefix = _fs_name(schema) + "/"
    by_fs = {_fs_name(t): t for t in tables}
    out = InnodbIds({}, {})
    subs: dict[str, dict[str, list[tuple[str, int]]]] = {}
    for name, tid in rows:
        text = str(name)
        if not text.startswith(prefix):
            continue
        table, sep, part = text[len(prefix) :].partition("#P#")
        if not sep:
            table, sep, part = table.partition("#p#")
        if table not in by_fs:
            continue
        if not sep:
            out.tables[by_fs[table]] = int(tid)
            continue
        head, _, sub = part.lower().partition("#sp#")
        key = _FS_CHAR.sub(lambda m: chr(int(m.group(1), 16)), head)
        subs.setdefault(by_fs[table], {}).setdefault(key, []).append((sub, int(tid)))
    for table, parts in subs.items():
        out.partitions[table] = {p: tuple(i for _, i in sorted(v)) for p, v in parts.items()}
    return out


def row_versions(conn: Conn, schema: str) -> dict[str, int]:
    """TOTAL_ROW_VERSIONS per table (MySQL 8.0.29+): instant ADD/DROP COLUMNs since the
    table was last rebuilt (engine.risk predicts INPLACE at the flavor's limit).

    A partitioned table has one row per partition (``t#p#p0``): the highest
    counts.  Without PROCESS (INNODB_TABLES needs it) or before 8.0.29: {}.
    Names InnoDB spells differently from ``_fs_name`` are absent (not read).
    """
    if conn.flavor.instant_row_version_limit is None:
        return {}
    prefix = _fs_name(schema) + "/"
    try:
        found = conn.query(
            "SELECT NAME, TOTAL_ROW_VERSIONS FROM information_schema.INNODB_TABLES "
            "WHERE NAME LIKE %s",
            (prefix.replace("_", "\\_") + "%",),
        )
    except Exception:  # no PROCESS privilege, or no such column: not read
        return {}
    return row_versions_of(found, prefix)


def row_versions_of(rows: Iterable[Sequence[Any]], prefix: str) -> dict[str, int]:
    """(NAME, TOTAL_ROW_VERSIONS) rows -> the highest count per table (``prefix`` = ``db/``)."""
    out: dict[str, int] = {}
    for name, count in rows:
        text = str(name)
        if not text.startswith(prefix) or count is None:
            continue
        table = text[len(prefix) :].split("#p#", 1)[0].split("#P#", 1)[0]
        out[table] = max(out.get(table, 0), int(count))
    return out
