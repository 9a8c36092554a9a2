"""The catalogue questions keep-data (and the history) ask about single tables.

``introspect()`` reads a whole schema in bulk; keep-data needs a few precise
facts about ONE table at the moment it is soft-dropped, backed up or
restored (does it exist, its columns, its row key candidates, its foreign
keys in and out, its triggers).  Those questions live here, as small typed
functions returning plain records, so the information_schema SQL stays in
the engine's introspection and ``workflows.keepdata`` only asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from myshift.db.connect import DriverError
from myshift.engine.ddl import quote as q

if TYPE_CHECKING:
    from myshift.db.connect import Conn


@dataclass(frozen=True, slots=True)
class ColumnRow:
    """One column of a table as information_schema.COLUMNS states it."""

    name: str
    # COLUMN_TYPE verbatim, e.g. "decimal(12,2) unsigned".
    column_type: str
    # DATA_TYPE, e.g. "decimal" (lower case).
    data_type: str
    # CHARACTER_SET_NAME / COLLATION_NAME, None for non-string types.
    charset: str | None
    collation: str | None
    # IS_NULLABLE = 'YES'.
    nullable: bool
    # EXTRA verbatim, e.g. "on update current_timestamp()".
    extra: str
    # A generated (virtual or stored) column: its value comes from an expression.
    generated: bool


@dataclass(frozen=True, slots=True)
class UniqueKeyPart:
    """One column of a UNIQUE (or PRIMARY) key, in key order."""

    index: str
    column: str
    # The whole column is indexed (no prefix) and it is NOT NULL.
    whole_not_null: bool


@dataclass(frozen=True, slots=True)
class ForeignKeyRef:
    """An outgoing foreign key of a table, with its rules."""

    name: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]
    on_update: str
    on_delete: str


@dataclass(frozen=True, slots=True)
class Referencing:
    """A foreign key (by constraint name) of some table that references another."""

    schema: str
    table: str
    constraint: str


@dataclass(frozen=True, slots=True)
class TriggerText:
    """A trigger as SHOW CREATE TRIGGER gives it: the text and the session it needs."""

    name: str
    # The CREATE statement as written (no schema qualifier).
    create: str
    sql_mode: str
    charset_client: str
    collation_connection: str


def table_names(conn: Conn, schema: str) -> list[str]:
    """The names of every table and view in ``schema``."""
    rows = conn.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (schema,)
    )
    return [str(r[0]) for r in rows]


def table_type(conn: Conn, schema: str, table: str) -> str | None:
    """``BASE TABLE``, ``VIEW``, ``SYSTEM VIEW``..., or None when there is no such table."""
    kind = conn.scalar(
        "SELECT TABLE_TYPE FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
        (schema, table),
    )
    return None if kind is None else str(kind)


def table_exists(conn: Conn, schema: str, table: str) -> bool:
    """Whether ``schema.table`` exists (a table or a view)."""
    return bool(
        conn.scalar(
            "SELECT COUNT(*) FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            (schema, table),
        )
    )


def table_columns(conn: Conn, schema: str, table: str) -> list[ColumnRow]:
    """The columns of ``schema.table`` in table order (empty when it does not exist)."""
    rows = conn.query_dicts(
        "SELECT COLUMN_NAME AS name, COLUMN_TYPE AS column_type, DATA_TYPE AS data_type, "
        "CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation, "
        "IS_NULLABLE AS nullable, EXTRA AS extra, "
        "COALESCE(GENERATION_EXPRESSION, '') <> '' AS generated "
        "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
        "ORDER BY ORDINAL_POSITION",
        (schema, table),
    )
    return [_column_row(r) for r in rows]


def partition_names(conn: Conn, schema: str, table: str) -> list[str]:
    """The partitions of ``schema.table`` in order (empty: not partitioned, or no table)."""
    rows = conn.query(
        "SELECT PARTITION_NAME FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = %s "
        "AND TABLE_NAME = %s AND PARTITION_NAME IS NOT NULL ORDER BY PARTITION_ORDINAL_POSITION",
        (schema, table),
    )
    return [str(r[0]) for r in rows]


def _column_row(row: dict[str, Any]) -> ColumnRow:
    return ColumnRow(
        name=str(row["name"]),
        column_type=str(row["column_type"]),
        data_type=str(row["data_type"]),
        charset=str(row["charset"]) if row["charset"] else None,
        collation=str(row["collation"]) if row["collation"] else None,
        nullable=row["nullable"] == "YES",
        extra=str(row["extra"] or ""),
        generated=bool(row["generated"]),
    )


def unique_key_parts(conn: Conn, schema: str, table: str) -> list[UniqueKeyPart]:
    """The columns of every unique key of ``schema.table``: PRIMARY first, then by name."""
    rows = conn.query(
        "SELECT s.INDEX_NAME, s.COLUMN_NAME, c.IS_NULLABLE, s.SUB_PART "
        "FROM information_schema.STATISTICS s "
        "JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = s.TABLE_SCHEMA "
        "  AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME "
        "WHERE s.TABLE_SCHEMA = %s AND s.TABLE_NAME = %s AND s.NON_UNIQUE = 0 "
        "ORDER BY s.INDEX_NAME = 'PRIMARY' DESC, s.INDEX_NAME, s.SEQ_IN_INDEX",
        (schema, table),
    )
    return [
        UniqueKeyPart(str(index), str(column), nullable == "NO" and not sub_part)
        for index, column, nullable, sub_part in rows
    ]


def outgoing_foreign_keys(conn: Conn, schema: str, table: str) -> list[ForeignKeyRef]:
    """The foreign keys of ``schema.table``, by constraint name, columns in key order."""
    rows = conn.query(
        "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, "
        "k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE "
        "FROM information_schema.KEY_COLUMN_USAGE k "
        "JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
        "  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        "  AND r.TABLE_NAME = k.TABLE_NAME "
        "WHERE k.TABLE_SCHEMA = %s AND k.TABLE_NAME = %s "
        "AND k.REFERENCED_TABLE_NAME IS NOT NULL "
        "ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        (schema, table),
    )
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        grouped.setdefault(str(row[0]), []).append(row)
    return [
        ForeignKeyRef(
            name=name,
            columns=tuple(str(p[1]) for p in parts),
            ref_schema=str(parts[0][2]),
            ref_table=str(parts[0][3]),
            ref_columns=tuple(str(p[4]) for p in parts),
            on_update=str(parts[0][5]),
            on_delete=str(parts[0][6]),
        )
        for name, parts in grouped.items()
    ]


def referencing_keys(conn: Conn, schema: str, table: str) -> list[Referencing]:
    """Every foreign key (of any schema) that references ``schema.table``."""
    rows = conn.query(
        "SELECT DISTINCT TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME "
        "FROM information_schema.KEY_COLUMN_USAGE "
        "WHERE REFERENCED_TABLE_SCHEMA = %s AND REFERENCED_TABLE_NAME = %s "
        "ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME",
        (schema, table),
    )
    return [Referencing(str(a), str(b), str(c)) for a, b, c in rows]


def table_triggers(conn: Conn, schema: str, table: str) -> list[TriggerText]:
    """The triggers of ``schema.table`` in firing order, with the server's own text."""
    names = conn.query(
        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
        "WHERE EVENT_OBJECT_SCHEMA = %s AND EVENT_OBJECT_TABLE = %s "
        "ORDER BY ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER",
        (schema, table),
    )
    out = []
    for (name,) in names:
        row = conn.query_dicts(f"SHOW CREATE TRIGGER {q(schema)}.{q(str(name))}")[0]
        out.append(
            TriggerText(
                name=str(name),
                create=str(row["SQL Original Statement"]),
                sql_mode=str(row["sql_mode"]),
                charset_client=str(row["character_set_client"]),
                collation_connection=str(row["collation_connection"]),
            )
        )
    return out


def tables_present_sql(schema: str, names: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The query (and its arguments) counting how many of ``names`` exist in ``schema``.

    Given as text for a caller that runs it on its own terms: ``History``
    reads through its retrying session, which must see the driver's errors.
    """
    marks = ", ".join(["%s"] * len(names))
    return (
        "SELECT COUNT(*) FROM information_schema.TABLES "
        f"WHERE TABLE_SCHEMA = %s AND TABLE_NAME IN ({marks})",
        (schema, *names),
    )


def innodb_row_formats(conn: Conn, schema: str, table: str) -> dict[str, str] | None:
    """The row format InnoDB really stores each partition of ``schema.table`` in.

    Keyed by the partition name as InnoDB spells it, lower case (``''`` for an
    unpartitioned table; subpartitions as ``p0#sp#p0sp0``); values as the
    dictionary says them (``Dynamic``, ``Compact``, ``Redundant``,
    ``Compressed``).  Read from INFORMATION_SCHEMA.INNODB_SYS_TABLES (MariaDB) /
    INNODB_TABLES (MySQL), which need PROCESS: without it the driver's error
    propagates.  The table's own ROW_FORMAT (information_schema.TABLES) cannot
    stand in: for a partitioned table it is one partition's, and partitions
    made after ``innodb_default_row_format`` changed differ (MariaDB 10.11.19).
    None: not an InnoDB table (no such question), or no such table.
    """
    engine = conn.scalar(
        "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
        (schema, table),
    )
    if str(engine or "").lower() != "innodb":
        return None
    view = "INNODB_TABLES" if conn.flavor.is_mysql else "INNODB_SYS_TABLES"
    prefix = f"{filename_spelling(conn, schema)}/{filename_spelling(conn, table)}"
    like = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"
    rows = conn.query(
        f"SELECT NAME, ROW_FORMAT FROM information_schema.{view} WHERE NAME LIKE %s", (like,)
    )
    out: dict[str, str] = {}
    for name, fmt in rows:
        text = str(name)
        if text == prefix:
            out[""] = str(fmt)
        elif text[len(prefix) : len(prefix) + 3].lower() == "#p#":
            out[text[len(prefix) + 3 :].lower()] = str(fmt)
    return out


def filename_spelling(conn: Conn, name: str) -> str:
    """How the server spells ``name`` in file names and InnoDB's dictionary
    (``my-db`` -> ``my@002ddb``, ``ü`` -> ``@1o``): its own ``filename`` charset
    (run on MariaDB 10.11.19).  Where the server cannot say, ``@xxxx`` per
    character, exact for ASCII names."""
    if name.isascii() and name.replace("_", "").isalnum():
        return name
    try:
        spelled = conn.scalar("SELECT CAST(CONVERT(%s USING filename) AS BINARY)", (name,))
    except DriverError:
        return "".join(c if c.isascii() and (c.isalnum() or c == "_") else f"@{ord(c):04x}"
                       for c in name)  # fmt: skip
    return spelled.decode("ascii") if isinstance(spelled, bytes) else str(spelled)
