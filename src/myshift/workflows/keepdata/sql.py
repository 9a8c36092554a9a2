"""The statements keep-data sends, as text: one place, and the dry-run's twin.

``CONCAT_WS`` skips NULLs and mixes collations badly, so checksums hash
``HEX()`` of string values plus an ``ISNULL`` marker per column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from myshift.db.connect import quote_ident as q
from myshift.engine.keeppolicy import CATALOG
from myshift.workflows.keepdata.records import ColumnInfo, HeldColumns, HeldForeignKey, HeldTrigger

# Data types whose values are hashed as HEX(bytes): exact, and immune to
# "Illegal mix of collations" when columns of different collations meet.
_STRINGISH = frozenset(
    {
        "char",
        "varchar",
        "tinytext",
        "text",
        "mediumtext",
        "longtext",
        "binary",
        "varbinary",
        "tinyblob",
        "blob",
        "mediumblob",
        "longblob",
        "enum",
        "set",
        "json",
    }
)


def qualified(schema: str, table: str) -> str:
    return f"{q(schema)}.{q(table)}"


def create_holding_sql(holding: str) -> list[str]:
    """Statements that create the holding schema and its catalog (idempotent)."""
    return [
        f"CREATE DATABASE IF NOT EXISTS {q(holding)} DEFAULT CHARACTER SET utf8mb4",
        f"""CREATE TABLE IF NOT EXISTS {qualified(holding, CATALOG)} (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  `apply_id` VARCHAR(64) NOT NULL,
  `kind` VARCHAR(16) NOT NULL,
  `original_schema` VARCHAR(64) NOT NULL,
  `original_table` VARCHAR(64) NOT NULL,
  `held_name` VARCHAR(64) NOT NULL,
  `columns` LONGTEXT NOT NULL,
  `key_columns` LONGTEXT NULL,
  `foreign_keys` LONGTEXT NULL,
  `triggers` LONGTEXT NULL,
  `row_count` BIGINT UNSIGNED NOT NULL,
  `checksum` BIGINT UNSIGNED NULL,
  `partition_name` VARCHAR(64) NULL,
  `created_at` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  `restored_at` DATETIME(6) NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `held_name` (`held_name`),
  KEY `apply_id` (`apply_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    ]


# Catalogs created before partitions were kept lack the column (create_holding_sql
# adds it to new ones): keepdata.catalog.ensure_holding adds it when missing.
ADD_PARTITION_NAME = "ADD COLUMN `partition_name` VARCHAR(64) NULL AFTER `checksum`"


def _value_expr(alias: str, col: ColumnInfo) -> str:
    ref = f"{alias}.{q(col.name)}"
    if col.data_type.lower() in _STRINGISH:
        return f"HEX({ref})"
    return f"CAST({ref} AS CHAR)"


def row_hash_expr(alias: str, columns: Sequence[ColumnInfo]) -> str:
    """A 64-bit hash of one row's values; NULL is distinct from '' (ISNULL markers)."""
    parts = [_value_expr(alias, c) for c in columns]
    parts += [f"ISNULL({alias}.{q(c.name)})" for c in columns]
    joined = ", ".join(parts)
    return f"CAST(CONV(SUBSTRING(MD5(CONCAT_WS('#', {joined})), 1, 16), 16, 10) AS UNSIGNED)"


def checksum_sql(
    alias: str,
    columns: Sequence[ColumnInfo],
    from_clause: str,
    *,
    lock: bool = False,
) -> str:
    """``SELECT COUNT(*), BIT_XOR(row hash)`` — order-independent and set-based."""
    tail = " LOCK IN SHARE MODE" if lock else ""
    return (
        f"SELECT COUNT(*), COALESCE(BIT_XOR({row_hash_expr(alias, columns)}), 0) "
        f"FROM {from_clause}{tail}"
    )


def join_on(key_columns: Sequence[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{q(k)} = {right}.{q(k)}" for k in key_columns)


def backup_columns_sql(
    schema: str,
    table: str,
    holding: str,
    held_name: str,
    key: Sequence[ColumnInfo],
    columns: Sequence[ColumnInfo],
    where: str = "",
) -> list[str]:
    """CREATE the backup table (same column types) and copy key + columns into it.

    ``where`` (over alias ``s``, with ``%s`` placeholders) limits the copy to one
    chunk of rows (``key_range_sql``); without it the statement copies the whole table.
    """
    defs = [c.definition(not_null=True) for c in key]
    defs += [c.definition(not_null=False) for c in columns]
    defs.append("PRIMARY KEY (" + ", ".join(q(c.name) for c in key) + ")")
    names = ", ".join(q(c.name) for c in (*key, *columns))
    return [
        f"CREATE TABLE {qualified(holding, held_name)} (\n  "
        + ",\n  ".join(defs)
        + "\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        f"INSERT INTO {qualified(holding, held_name)} ({names}) "
        f"SELECT {names} FROM {qualified(schema, table)} AS s"
        + (f" WHERE {where}" if where else ""),
    ]


KeyValues = tuple[Any, ...]


def _key_compare(alias: str, key: Sequence[str], op: str, last: str) -> str:
    """Lexicographic ``(k1, k2, ...) op (v1, v2, ...)`` spelled with AND/OR.

    Written out rather than as a row constructor, which MariaDB does not turn
    into an index range: ``k1 > v1 OR (k1 = v1 AND (k2 > v2 OR ...))``.
    """
    ref = f"{alias}.{q(key[-1])}"
    expr = f"{ref} {last} %s"
    for k in reversed(key[:-1]):
        ref = f"{alias}.{q(k)}"
        expr = f"{ref} {op} %s OR ({ref} = %s AND ({expr}))"
    return expr


def key_range_sql(
    alias: str, key: Sequence[str], lo: KeyValues | None, hi: KeyValues | None
) -> tuple[str, list[Any]]:
    """``WHERE`` text and arguments for the rows with ``lo < key <= hi`` (None: unbounded)."""
    parts: list[str] = []
    args: list[Any] = []
    for bound, op, last in ((lo, ">", ">"), (hi, "<", "<=")):
        if bound is None:
            continue
        parts.append(f"({_key_compare(alias, key, op, last)})")
        # Placeholder order of k1 op v1 OR (k1 = v1 AND (k2 op v2 ...)): v1, v1, v2, v2, ..., vn.
        for v in bound[:-1]:
            args += [v, v]
        args.append(bound[-1])
    return (" AND ".join(parts) or "1"), args


def chunk_end_sql(schema: str, table: str, key: Sequence[str], where: str, size: int) -> str:
    """The key of the ``size``-th row after the previous chunk (none: this chunk is the last)."""
    cols = ", ".join(f"s.{q(k)}" for k in key)
    return (
        f"SELECT {cols} FROM {qualified(schema, table)} AS s WHERE {where} "
        f"ORDER BY {cols} LIMIT 1 OFFSET {int(size) - 1}"
    )


def soft_drop_table_sql(
    schema: str,
    table: str,
    holding: str,
    held_name: str,
    foreign_keys: Sequence[HeldForeignKey] = (),
    triggers: Sequence[HeldTrigger] = (),
) -> list[str]:
    """What a soft drop runs instead of ``DROP TABLE`` (the dry-run twin)."""
    stmts = [f"DROP TRIGGER {qualified(schema, t.name)}" for t in triggers]
    if foreign_keys:
        drops = ", ".join(f"DROP FOREIGN KEY {q(fk.name)}" for fk in foreign_keys)
        stmts.append(f"ALTER TABLE {qualified(schema, table)} {drops}")
    stmts.append(f"RENAME TABLE {qualified(schema, table)} TO {qualified(holding, held_name)}")
    return stmts


def restore_columns_sql(held: HeldColumns, schema: str, keep_unchanged: Sequence[str] = ()) -> str:
    """The single-table ``UPDATE`` writing the kept values back, row by key.

    Not ``UPDATE t JOIN backup``: MariaDB's multi-table UPDATE buffers the new
    values in a temporary table, on disk (Aria, in tmpdir) as soon as a TEXT/BLOB
    column is involved — three times slower on 100k rows, and a failure when
    tmpdir is unreliable.  One primary-key lookup per column per row is cheaper.

    ``keep_unchanged`` are ``ON UPDATE CURRENT_TIMESTAMP`` columns: assigning
    them to themselves stops the server from bumping them.
    """
    backup = f"{qualified(held.holding, held.held_name)} AS b"
    match = join_on(held.key_columns, "b", "t")
    sets = [f"t.{q(c)} = (SELECT b.{q(c)} FROM {backup} WHERE {match})" for c in held.column_names]
    sets += [f"t.{q(c)} = t.{q(c)}" for c in keep_unchanged]
    return (
        f"UPDATE {qualified(schema, held.table)} AS t SET {', '.join(sets)} "
        f"WHERE EXISTS (SELECT 1 FROM {backup} WHERE {match})"
    )


# MySQL: "ALTER TABLE pt EXCHANGE PARTITION p WITH TABLE nt [{WITH|WITHOUT}
# VALIDATION]" -- nt not partitioned, same structure, no foreign keys in or
# out, same MAX_ROWS/MIN_ROWS as the partition; WITH VALIDATION (the default)
# checks every row of nt fits p; DROP privilege needed besides ALTER
# (https://dev.mysql.com/doc/refman/8.4/en/partitioning-management-exchange.html).
# MariaDB 10.11 has no {WITH|WITHOUT} VALIDATION (1064, measured on 10.11.19)
# and always checks the rows of nt (0.44 s per 1,000,000 rows, writes blocked).
# nt in another schema (the holding one): run on MariaDB 10.11.19; MySQL's
# grammar takes a qualified tbl_name, not yet run on a MySQL server here.
MANUAL_EXCHANGE = "https://dev.mysql.com/doc/refman/8.4/en/partitioning-management-exchange.html"


def hold_partition_table_sql(
    schema: str, table: str, holding: str, held_name: str, row_format: str = ""
) -> list[str]:
    """An empty, non-partitioned table with ``table``'s structure in the holding schema.

    ``row_format``: the one InnoDB stores the partition in (EXCHANGE needs the
    same); without it the held table takes the table's declared one, or the
    server's current default.  (``ALTER ... REMOVE PARTITIONING, ROW_FORMAT=``
    is a syntax error on MariaDB 10.11: the option comes first.)
    """
    held = qualified(holding, held_name)
    fmt = f"ROW_FORMAT={row_format} " if row_format else ""
    return [
        f"CREATE TABLE {held} LIKE {qualified(schema, table)}",
        f"ALTER TABLE {held} {fmt}REMOVE PARTITIONING",
    ]


def exchange_sql(
    schema: str,
    table: str,
    partition: str,
    holding: str,
    held_name: str,
    *,
    skip_validation: bool = False,
) -> str:
    """Swap the rows of ``partition`` with those of the held table (metadata only).

    ``skip_validation`` (MySQL only: the caller proved the rows fit) adds
    WITHOUT VALIDATION, which MariaDB 10.11's grammar lacks.
    """
    return (
        f"ALTER TABLE {qualified(schema, table)} EXCHANGE PARTITION {q(partition)} "
        f"WITH TABLE {qualified(holding, held_name)}"
        + (" WITHOUT VALIDATION" if skip_validation else "")
    )


def lock_tables_sql(*tables: tuple[str, str]) -> str:
    return "LOCK TABLES " + ", ".join(f"{qualified(s, t)} WRITE" for s, t in tables)
