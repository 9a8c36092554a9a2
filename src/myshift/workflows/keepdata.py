"""Keeping data so that a rollback can bring it back.

Two mechanisms, both against a live connection:

* **Soft drop** — instead of ``DROP TABLE`` the table is *moved* into a holding
  schema (``_myshift_trash`` by default) with ``RENAME TABLE``.  That is a
  metadata-only operation: no data is copied, and restoring is another rename.
* **Column backup** — before ``DROP COLUMN`` or a narrowing/lossy ``MODIFY``,
  the key columns and the affected columns are copied into a backup table in
  the holding schema and *verified* (row count and a checksum on both sides, in
  one transaction) before anything destructive is allowed to run.  A rollback
  re-adds the columns with their original definitions, then ``restore_columns``
  writes the kept values back with one set-based ``UPDATE ... JOIN``.

Every held object is recorded in ``<holding>._held`` (apply id, kind, where it
came from, its columns, row count, checksum, foreign keys and triggers) so that
``myshift rollback`` and ``myshift trash`` can find it again.

Server quirks handled here (checked on MariaDB 10.11 and MySQL 8):

* ``RENAME TABLE`` across schemas keeps the table's own foreign keys, which then
  still reference the original schema by name — so the held table would block
  deletes in production.  Worse, InnoDB foreign key names are unique per
  schema, so two held tables with the same constraint name collide with a
  misleading "Table ... already exists".  Outgoing foreign keys are therefore
  dropped *before* the move and recorded; restore re-adds them.
* ``RENAME TABLE`` to another schema fails with "Trigger in wrong schema" when
  the table has triggers: they are recorded (``SHOW CREATE TRIGGER``, the
  server's own text, with its sql_mode and charset) and dropped before the move,
  and re-created on restore.
* ``CONCAT_WS`` skips NULLs and mixes collations badly, so checksums hash
  ``HEX()`` of string values plus an ``ISNULL`` marker per column.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from myshift.db.connect import quote_ident as q
from myshift.engine.changes import AlterTable, Change, DropColumn, DropTable, ModifyColumn
from myshift.engine.risk import TypeChange, classify_type_change
from myshift.errors import ApplyFailed, UnsafeError, UsageError, VerificationFailed

if TYPE_CHECKING:
    from myshift.db.connect import Conn
    from myshift.model import Column, Schema
    from myshift.workflows.apply import StatementHook, StatementToRun
    from myshift.workflows.planfile import FileStatement

DEFAULT_HOLDING = "_myshift_trash"
CATALOG = "_held"
MAX_IDENT = 64  # MySQL/MariaDB identifier limit

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


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class ColumnInfo:
    """One column as the server describes it (enough to re-create its type)."""

    name: str
    column_type: str  # information_schema.COLUMNS.COLUMN_TYPE, e.g. "decimal(12,2) unsigned"
    data_type: str
    charset: str | None = None
    collation: str | None = None

    def definition(self, *, not_null: bool) -> str:
        parts = [q(self.name), self.column_type]
        if self.charset:
            parts.append(f"CHARACTER SET {self.charset}")
        if self.collation:
            parts.append(f"COLLATE {self.collation}")
        parts.append("NOT NULL" if not_null else "NULL")
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.column_type,
            "data_type": self.data_type,
            "charset": self.charset,
            "collation": self.collation,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ColumnInfo:
        return cls(d["name"], d["type"], d["data_type"], d.get("charset"), d.get("collation"))


@dataclass(frozen=True)
class HeldForeignKey:
    """An outgoing foreign key of a soft-dropped table, to re-add on restore."""

    name: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]
    on_update: str = "RESTRICT"
    on_delete: str = "RESTRICT"

    def add_clause(self) -> str:
        cols = ", ".join(q(c) for c in self.columns)
        refs = ", ".join(q(c) for c in self.ref_columns)
        return (
            f"ADD CONSTRAINT {q(self.name)} FOREIGN KEY ({cols}) "
            f"REFERENCES {q(self.ref_schema)}.{q(self.ref_table)} ({refs}) "
            f"ON DELETE {self.on_delete} ON UPDATE {self.on_update}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "columns": list(self.columns),
            "ref_schema": self.ref_schema,
            "ref_table": self.ref_table,
            "ref_columns": list(self.ref_columns),
            "on_update": self.on_update,
            "on_delete": self.on_delete,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> HeldForeignKey:
        return cls(
            d["name"],
            tuple(d["columns"]),
            d["ref_schema"],
            d["ref_table"],
            tuple(d["ref_columns"]),
            d.get("on_update", "RESTRICT"),
            d.get("on_delete", "RESTRICT"),
        )


@dataclass(frozen=True)
class HeldTrigger:
    """A trigger of a soft-dropped table: the server's own CREATE text and its session."""

    name: str
    create: str
    sql_mode: str
    charset_client: str
    collation_connection: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "create": self.create,
            "sql_mode": self.sql_mode,
            "charset_client": self.charset_client,
            "collation_connection": self.collation_connection,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> HeldTrigger:
        return cls(
            d["name"], d["create"], d["sql_mode"], d["charset_client"], d["collation_connection"]
        )


@dataclass(frozen=True)
class HeldTable:
    """A table moved to the holding schema instead of being dropped."""

    apply_id: str
    schema: str  # where it came from
    table: str
    holding: str
    held_name: str
    columns: tuple[ColumnInfo, ...]
    row_count: int
    foreign_keys: tuple[HeldForeignKey, ...] = ()
    triggers: tuple[HeldTrigger, ...] = ()
    created_at: datetime | None = None
    restored_at: datetime | None = None

    kind = "table"


@dataclass(frozen=True)
class HeldColumns:
    """A verified copy of some columns' values (with the row key) in the holding schema."""

    apply_id: str
    schema: str
    table: str
    holding: str
    held_name: str
    key: tuple[ColumnInfo, ...]  # the row key (PRIMARY or NOT NULL UNIQUE) columns
    columns: tuple[ColumnInfo, ...]  # the backed-up (non-key) columns
    row_count: int
    checksum: int
    created_at: datetime | None = None
    restored_at: datetime | None = None

    kind = "columns"

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.key)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


Held = HeldTable | HeldColumns


@dataclass(frozen=True)
class ColumnsRestored:
    """What ``restore_columns`` did: rows written back, and backed-up rows now gone."""

    held: HeldColumns
    rows_restored: int
    rows_missing: int  # rows deleted since the apply: nothing to write back to


# --------------------------------------------------------------------------- SQL (one place)


def _qualified(schema: str, table: str) -> str:
    return f"{q(schema)}.{q(table)}"


def create_holding_sql(holding: str) -> list[str]:
    """Statements that create the holding schema and its catalog (idempotent)."""
    return [
        f"CREATE DATABASE IF NOT EXISTS {q(holding)} DEFAULT CHARACTER SET utf8mb4",
        f"""CREATE TABLE IF NOT EXISTS {_qualified(holding, CATALOG)} (
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
  `created_at` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  `restored_at` DATETIME(6) NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `held_name` (`held_name`),
  KEY `apply_id` (`apply_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    ]


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


def _join_on(key_columns: Sequence[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{q(k)} = {right}.{q(k)}" for k in key_columns)


def backup_columns_sql(
    schema: str,
    table: str,
    holding: str,
    held_name: str,
    key: Sequence[ColumnInfo],
    columns: Sequence[ColumnInfo],
) -> list[str]:
    """CREATE the backup table (same column types) and copy key + columns into it."""
    defs = [c.definition(not_null=True) for c in key]
    defs += [c.definition(not_null=False) for c in columns]
    defs.append("PRIMARY KEY (" + ", ".join(q(c.name) for c in key) + ")")
    names = ", ".join(q(c.name) for c in (*key, *columns))
    return [
        f"CREATE TABLE {_qualified(holding, held_name)} (\n  "
        + ",\n  ".join(defs)
        + "\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        f"INSERT INTO {_qualified(holding, held_name)} ({names}) "
        f"SELECT {names} FROM {_qualified(schema, table)}",
    ]


def soft_drop_table_sql(
    schema: str,
    table: str,
    holding: str,
    held_name: str,
    foreign_keys: Sequence[HeldForeignKey] = (),
    triggers: Sequence[HeldTrigger] = (),
) -> list[str]:
    """What a soft drop runs instead of ``DROP TABLE`` (the dry-run twin)."""
    stmts = [f"DROP TRIGGER {_qualified(schema, t.name)}" for t in triggers]
    if foreign_keys:
        drops = ", ".join(f"DROP FOREIGN KEY {q(fk.name)}" for fk in foreign_keys)
        stmts.append(f"ALTER TABLE {_qualified(schema, table)} {drops}")
    stmts.append(f"RENAME TABLE {_qualified(schema, table)} TO {_qualified(holding, held_name)}")
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
    backup = f"{_qualified(held.holding, held.held_name)} AS b"
    match = _join_on(held.key_columns, "b", "t")
    sets = [f"t.{q(c)} = (SELECT b.{q(c)} FROM {backup} WHERE {match})" for c in held.column_names]
    sets += [f"t.{q(c)} = t.{q(c)}" for c in keep_unchanged]
    return (
        f"UPDATE {_qualified(schema, held.table)} AS t SET {', '.join(sets)} "
        f"WHERE EXISTS (SELECT 1 FROM {backup} WHERE {match})"
    )


# --------------------------------------------------------------------------- helpers


def _apply_prefix(apply_id: str | int) -> str:
    return "a" + re.sub(r"[^0-9A-Za-z_]", "_", str(apply_id))


def ensure_holding(conn: Conn, holding: str = DEFAULT_HOLDING) -> None:
    for stmt in create_holding_sql(holding):
        conn.execute(stmt)


def _holding_names(conn: Conn, holding: str) -> set[str]:
    rows = conn.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (holding,)
    )
    names = {str(r[0]).lower() for r in rows}
    rows = conn.query(f"SELECT held_name FROM {_qualified(holding, CATALOG)}")
    names |= {str(r[0]).lower() for r in rows}
    return names


def held_name_for(
    conn: Conn, holding: str, apply_id: str | int, schema: str, table: str, suffix: str = ""
) -> str:
    """``a42__orders`` — or, when too long for 64 characters or already taken, the
    name truncated plus a short hash of where it came from (the catalog keeps the mapping)."""
    base = f"{_apply_prefix(apply_id)}__{table}{suffix}"
    taken = _holding_names(conn, holding)
    if len(base) <= MAX_IDENT and base.lower() not in taken:
        return base
    for n in range(1000):
        digest = hashlib.sha1(f"{schema}.{table}{suffix}#{n}".encode()).hexdigest()[:8]
        name = base[: MAX_IDENT - 9] + "_" + digest
        if name.lower() not in taken:
            return name
    raise ApplyFailed(  # pragma: no cover - a thousand collisions means something is very wrong
        f"No free name for `{schema}`.`{table}` in holding schema `{holding}`.",
        "Purge old entries with `myshift trash purge`.",
    )


def _columns(conn: Conn, schema: str, table: str) -> list[dict[str, Any]]:
    return conn.query_dicts(
        "SELECT COLUMN_NAME AS name, COLUMN_TYPE AS column_type, DATA_TYPE AS data_type, "
        "CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation, "
        "IS_NULLABLE AS nullable, EXTRA AS extra, "
        "COALESCE(GENERATION_EXPRESSION, '') <> '' AS generated "
        "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
        "ORDER BY ORDINAL_POSITION",
        (schema, table),
    )


def _column_info(row: dict[str, Any]) -> ColumnInfo:
    return ColumnInfo(
        name=str(row["name"]),
        column_type=str(row["column_type"]),
        data_type=str(row["data_type"]),
        charset=str(row["charset"]) if row["charset"] else None,
        collation=str(row["collation"]) if row["collation"] else None,
    )


def _table_exists(conn: Conn, schema: str, table: str) -> bool:
    return bool(
        conn.scalar(
            "SELECT COUNT(*) FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            (schema, table),
        )
    )


def row_key(conn: Conn, schema: str, table: str) -> tuple[str, ...] | None:
    """The PRIMARY KEY columns, else those of a UNIQUE key whose columns are all NOT NULL."""
    rows = conn.query(
        "SELECT s.INDEX_NAME, s.COLUMN_NAME, c.IS_NULLABLE, s.SUB_PART "
        "FROM information_schema.STATISTICS s "
        "JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = s.TABLE_SCHEMA "
        "  AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME "
        "WHERE s.TABLE_SCHEMA = %s AND s.TABLE_NAME = %s AND s.NON_UNIQUE = 0 "
        "ORDER BY s.INDEX_NAME = 'PRIMARY' DESC, s.INDEX_NAME, s.SEQ_IN_INDEX",
        (schema, table),
    )
    keys: dict[str, list[tuple[str, bool]]] = {}
    for index, column, nullable, sub_part in rows:
        # A prefix unique key does not identify the full value: usable as a row
        # key only if whole columns are indexed.
        keys.setdefault(str(index), []).append((str(column), nullable == "NO" and not sub_part))
    for parts in keys.values():
        if all(ok for _, ok in parts):
            return tuple(c for c, _ in parts)
    return None


@contextmanager
def _session_sql_mode(conn: Conn, mode: str) -> Iterator[None]:
    """Copying values between identical types must not trip strict-mode checks
    (zero dates and the like); the checksum proves the copy is exact."""
    old = conn.scalar("SELECT @@SESSION.sql_mode")
    conn.execute("SET SESSION sql_mode = %s", (mode,))
    try:
        yield
    finally:
        conn.execute("SET SESSION sql_mode = %s", (old,))


@contextmanager
def _transaction(conn: Conn) -> Iterator[None]:
    # REPEATABLE READ: INSERT ... SELECT then takes shared next-key locks on the
    # rows it reads (under READ COMMITTED it would not), so a later locking read
    # in the same transaction sees exactly what was copied.
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    conn.execute("START TRANSACTION")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _outgoing_fks(conn: Conn, schema: str, table: str, holding: str) -> list[HeldForeignKey]:
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
    # A co-dropped parent already moved to the holding schema is referenced by
    # its held name: record where it will be restored to instead.
    held_origin: dict[str, tuple[str, str]] = {}
    if any(str(r[0][2]) == holding for r in grouped.values()):
        for name, osch, otab in conn.query(
            f"SELECT held_name, original_schema, original_table "
            f"FROM {_qualified(holding, CATALOG)} WHERE kind = 'table'"
        ):
            held_origin[str(name)] = (str(osch), str(otab))
    fks = []
    for name, parts in grouped.items():
        ref_schema, ref_table = str(parts[0][2]), str(parts[0][3])
        if ref_schema == holding and ref_table in held_origin:
            ref_schema, ref_table = held_origin[ref_table]
        fks.append(
            HeldForeignKey(
                name=name,
                columns=tuple(str(p[1]) for p in parts),
                ref_schema=ref_schema,
                ref_table=ref_table,
                ref_columns=tuple(str(p[4]) for p in parts),
                on_update=str(parts[0][5]),
                on_delete=str(parts[0][6]),
            )
        )
    return fks


def _triggers(conn: Conn, schema: str, table: str) -> list[HeldTrigger]:
    names = conn.query(
        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
        "WHERE EVENT_OBJECT_SCHEMA = %s AND EVENT_OBJECT_TABLE = %s "
        "ORDER BY ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER",
        (schema, table),
    )
    out = []
    for (name,) in names:
        row = conn.query_dicts(f"SHOW CREATE TRIGGER {_qualified(schema, str(name))}")[0]
        out.append(
            HeldTrigger(
                name=str(name),
                create=str(row["SQL Original Statement"]),
                sql_mode=str(row["sql_mode"]),
                charset_client=str(row["character_set_client"]),
                collation_connection=str(row["collation_connection"]),
            )
        )
    return out


def _create_trigger(conn: Conn, schema: str, trig: HeldTrigger) -> None:
    # SHOW CREATE TRIGGER gives the text as written, without a schema
    # qualifier: run it with the right default schema and the session
    # settings it was created under.
    old = conn.query("SELECT DATABASE(), @@SESSION.sql_mode, @@character_set_client")[0]
    conn.execute(f"USE {q(schema)}")
    conn.execute("SET SESSION sql_mode = %s", (trig.sql_mode,))
    try:
        conn.execute(f"SET NAMES {trig.charset_client}")
        conn.execute(trig.create)
    finally:
        conn.execute("SET NAMES utf8mb4")
        conn.execute("SET SESSION sql_mode = %s", (old[1],))
        if old[0]:
            conn.execute(f"USE {q(str(old[0]))}")


def _referencing_rows(conn: Conn, schema: str, table: str) -> list[tuple[str, str, str]]:
    """(schema, table, constraint) of every foreign key referencing ``schema.table``."""
    rows = conn.query(
        "SELECT DISTINCT TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME "
        "FROM information_schema.KEY_COLUMN_USAGE "
        "WHERE REFERENCED_TABLE_SCHEMA = %s AND REFERENCED_TABLE_NAME = %s "
        "ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME",
        (schema, table),
    )
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def _referencing_tables(
    conn: Conn, schema: str, table: str, co_dropped: Collection[str]
) -> list[str]:
    skip = {table.lower(), *(t.lower() for t in co_dropped)}
    out = []
    for sch, tab, con in _referencing_rows(conn, schema, table):
        if sch == schema and tab.lower() in skip:
            continue
        out.append(f"`{sch}`.`{tab}` ({con})")
    return out


def _insert_catalog(conn: Conn, held: Held) -> None:
    key_columns = (
        json.dumps([c.to_json() for c in held.key]) if isinstance(held, HeldColumns) else None
    )
    fks = (
        json.dumps([fk.to_json() for fk in held.foreign_keys])
        if isinstance(held, HeldTable)
        else None
    )
    trg = json.dumps([t.to_json() for t in held.triggers]) if isinstance(held, HeldTable) else None
    checksum = held.checksum if isinstance(held, HeldColumns) else None
    conn.execute(
        f"INSERT INTO {_qualified(held.holding, CATALOG)} "
        "(apply_id, kind, original_schema, original_table, held_name, `columns`, "
        "key_columns, foreign_keys, triggers, row_count, checksum) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            held.apply_id,
            held.kind,
            held.schema,
            held.table,
            held.held_name,
            json.dumps([c.to_json() for c in held.columns]),
            key_columns,
            fks,
            trg,
            held.row_count,
            checksum,
        ),
    )


def _from_catalog(row: dict[str, Any], holding: str) -> Held:
    columns = tuple(ColumnInfo.from_json(d) for d in json.loads(row["columns"]))
    if row["kind"] == "table":
        return HeldTable(
            apply_id=str(row["apply_id"]),
            schema=str(row["original_schema"]),
            table=str(row["original_table"]),
            holding=holding,
            held_name=str(row["held_name"]),
            columns=columns,
            row_count=int(row["row_count"]),
            foreign_keys=tuple(
                HeldForeignKey.from_json(d) for d in json.loads(row["foreign_keys"] or "[]")
            ),
            triggers=tuple(HeldTrigger.from_json(d) for d in json.loads(row["triggers"] or "[]")),
            created_at=row["created_at"],
            restored_at=row["restored_at"],
        )
    return HeldColumns(
        apply_id=str(row["apply_id"]),
        schema=str(row["original_schema"]),
        table=str(row["original_table"]),
        holding=holding,
        held_name=str(row["held_name"]),
        key=tuple(ColumnInfo.from_json(d) for d in json.loads(row["key_columns"] or "[]")),
        columns=columns,
        row_count=int(row["row_count"]),
        checksum=int(row["checksum"] or 0),
        created_at=row["created_at"],
        restored_at=row["restored_at"],
    )


# --------------------------------------------------------------------------- soft drop


def soft_drop_table(
    conn: Conn,
    schema: str,
    table: str,
    apply_id: str | int,
    holding: str = DEFAULT_HOLDING,
    *,
    co_dropped: Collection[str] = (),
) -> HeldTable:
    """Move ``schema.table`` into the holding schema instead of dropping it.

    ``co_dropped`` names the other tables of ``schema`` dropped by the same
    apply: foreign keys from them do not block the drop.  Any other table
    referencing this one does: ``UnsafeError`` lists them.
    """
    kind = conn.scalar(
        "SELECT TABLE_TYPE FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
        (schema, table),
    )
    if kind is None:
        raise UsageError(
            f"Table `{schema}`.`{table}` does not exist, so it cannot be soft-dropped.",
            "Check the plan against the live schema.",
        )
    if kind != "BASE TABLE":
        raise UsageError(
            f"`{schema}`.`{table}` is a {str(kind).lower()}, not a base table, so it cannot "
            "be soft-dropped.",
            "Drop it normally; its definition is in the pre-apply snapshot.",
        )
    referencing = _referencing_tables(conn, schema, table, co_dropped)
    if referencing:
        raise UnsafeError(
            f"Table `{schema}`.`{table}` is referenced by foreign keys from "
            f"{', '.join(referencing)}, so it cannot be dropped with its data kept.",
            "Drop those foreign keys (or those tables) in the same change, then run again.",
        )
    ensure_holding(conn, holding)
    columns = tuple(_column_info(r) for r in _columns(conn, schema, table))
    fks = _outgoing_fks(conn, schema, table, holding)
    triggers = _triggers(conn, schema, table)
    row_count = int(conn.scalar(f"SELECT COUNT(*) FROM {_qualified(schema, table)}"))
    held_name = held_name_for(conn, holding, apply_id, schema, table)
    stmts = soft_drop_table_sql(schema, table, holding, held_name, fks, triggers)
    done: list[str] = []
    try:
        for stmt in stmts:
            conn.execute(stmt)
            done.append(stmt)
    except Exception as exc:
        _undo_partial_soft_drop(conn, schema, table, fks, triggers, done)
        raise ApplyFailed(
            f"Could not move table `{schema}`.`{table}` to `{holding}`.`{held_name}`: {exc}.",
            "Nothing was dropped; fix the cause and run again.",
        ) from exc
    held = HeldTable(
        apply_id=str(apply_id),
        schema=schema,
        table=table,
        holding=holding,
        held_name=held_name,
        columns=columns,
        row_count=row_count,
        foreign_keys=tuple(fks),
        triggers=tuple(triggers),
    )
    _insert_catalog(conn, held)
    return held


def _undo_partial_soft_drop(
    conn: Conn,
    schema: str,
    table: str,
    fks: Sequence[HeldForeignKey],
    triggers: Sequence[HeldTrigger],
    done: Sequence[str],
) -> None:
    """Best effort: put back what a failed soft drop removed before the rename.

    Failures here are swallowed on purpose: the caller raises the original error.
    """
    if fks and any(s.startswith("ALTER TABLE") for s in done):
        with contextlib.suppress(Exception):
            conn.execute(
                f"ALTER TABLE {_qualified(schema, table)} "
                + ", ".join(fk.add_clause() for fk in fks)
            )
    for trig in triggers:
        if any(s.startswith("DROP TRIGGER") and q(trig.name) in s for s in done):
            with contextlib.suppress(Exception):
                _create_trigger(conn, schema, trig)


# --------------------------------------------------------------------------- column backup


def backup_columns(
    conn: Conn,
    schema: str,
    table: str,
    columns: Sequence[str],
    apply_id: str | int,
    holding: str = DEFAULT_HOLDING,
) -> HeldColumns:
    """Copy the row key and ``columns`` of ``schema.table`` to the holding schema, verified.

    The copy and both checksums run in one transaction whose locking reads keep
    the rows still, so the source and the copy are compared at the same point.
    On any mismatch the copy is dropped and ``VerificationFailed`` is raised:
    the caller must not run the destructive statement.
    """
    rows = _columns(conn, schema, table)
    all_cols = {str(r["name"]).lower(): _column_info(r) for r in rows}
    if not all_cols:
        raise UsageError(
            f"Table `{schema}`.`{table}` does not exist, so its columns cannot be backed up.",
            "Check the plan against the live schema.",
        )
    missing = [c for c in columns if c.lower() not in all_cols]
    if missing:
        raise UsageError(
            f"Table `{schema}`.`{table}` has no column {', '.join(f'`{c}`' for c in missing)}.",
            "Check the plan against the live schema.",
        )
    key_names = row_key(conn, schema, table)
    if key_names is None:
        raise UnsafeError(
            f"Table `{schema}`.`{table}` has no PRIMARY KEY or NOT NULL UNIQUE key, so the values "
            f"of {', '.join(f'`{c}`' for c in columns)} cannot be kept and matched back to rows.",
            "Add a primary key first, or re-run without keeping data for this change.",
        )
    key = [all_cols[k.lower()] for k in key_names]
    key_lower = {k.lower() for k in key_names}
    # Generated columns are skipped: their values come back from their
    # expression when the reverse DDL re-adds them (and cannot be assigned).
    generated = {str(r["name"]).lower() for r in rows if r["generated"]}
    kept: list[ColumnInfo] = []
    for c in columns:
        info = all_cols[c.lower()]
        if c.lower() not in key_lower and c.lower() not in generated and info not in kept:
            kept.append(info)
    ensure_holding(conn, holding)
    held_name = held_name_for(conn, holding, apply_id, schema, table, "__cols")
    create, insert = backup_columns_sql(schema, table, holding, held_name, key, kept)
    conn.execute(create)
    everything = [*key, *kept]
    try:
        with _session_sql_mode(conn, "NO_ENGINE_SUBSTITUTION"), _transaction(conn):
            conn.execute(insert)
            src = conn.query(
                checksum_sql("s", everything, f"{_qualified(schema, table)} AS s", lock=True)
            )[0]
            dst = conn.query(
                checksum_sql("b", everything, f"{_qualified(holding, held_name)} AS b")
            )[0]
            if (int(src[0]), int(src[1])) != (int(dst[0]), int(dst[1])):
                raise VerificationFailed(
                    f"The backup of `{schema}`.`{table}` ({', '.join(c.name for c in kept)}) "
                    f"does not match the table: {src[0]} rows/checksum {src[1]} vs "
                    f"{dst[0]} rows/checksum {dst[1]}.",
                    "Nothing destructive was run; investigate and run again.",
                )
            held = HeldColumns(
                apply_id=str(apply_id),
                schema=schema,
                table=table,
                holding=holding,
                held_name=held_name,
                key=tuple(key),
                columns=tuple(kept),
                row_count=int(src[0]),
                checksum=int(src[1]),
            )
            # Same transaction: the catalog row exists iff the verified copy does.
            _insert_catalog(conn, held)
    except BaseException:
        conn.execute(f"DROP TABLE IF EXISTS {_qualified(holding, held_name)}")
        raise
    return held


# --------------------------------------------------------------------------- restore


def restore_table(conn: Conn, held: HeldTable, schema: str | None = None) -> None:
    """Rename a soft-dropped table back and re-add its foreign keys and triggers."""
    restore_tables(conn, [held], schema)


def restore_tables(conn: Conn, helds: Sequence[HeldTable], schema: str | None = None) -> None:
    """Restore several soft-dropped tables: all renames first, then foreign keys.

    Renaming every table back before re-adding any foreign key means tables
    that reference each other can be restored in any order.  Everything is
    checked first (name free, held table present, no orphan rows for the
    foreign keys) so a refusal changes nothing.
    """
    if not helds:
        return
    target = {h.held_name: schema or h.schema for h in helds}
    # Where each table referenced by a foreign key lives *right now*: still
    # held (restored in this batch) or already back in its schema.
    now_at: dict[tuple[str, str], tuple[str, str]] = {
        (target[h.held_name], h.table): (h.holding, h.held_name) for h in helds
    }
    for h in helds:
        dest = target[h.held_name]
        if not _table_exists(conn, h.holding, h.held_name):
            raise UsageError(
                f"The held copy of `{h.schema}`.`{h.table}` (`{h.holding}`.`{h.held_name}`) "
                "no longer exists (purged?), so it cannot be restored.",
                "Restore from a backup instead.",
            )
        if _table_exists(conn, dest, h.table):
            raise UnsafeError(
                f"Table `{dest}`.`{h.table}` exists again, so the soft-dropped table cannot be "
                "renamed back over it.",
                "Rename or drop the new table, then run the rollback again.",
            )
        for fk in h.foreign_keys:
            ref_schema = dest if fk.ref_schema == h.schema else fk.ref_schema
            ref_sch, ref_tab = now_at.get((ref_schema, fk.ref_table), (ref_schema, fk.ref_table))
            if not _table_exists(conn, ref_sch, ref_tab):
                raise UnsafeError(
                    f"Table `{dest}`.`{h.table}` has foreign key `{fk.name}` to "
                    f"`{ref_schema}`.`{fk.ref_table}`, which does not exist.",
                    "Restore that table first (or in the same rollback).",
                )
            orphans = _orphan_count(conn, h.holding, h.held_name, fk, ref_sch, ref_tab)
            if orphans:
                raise UnsafeError(
                    f"Table `{dest}`.`{h.table}`: {orphans} rows no longer match foreign key "
                    f"`{fk.name}` to `{ref_schema}`.`{fk.ref_table}` (parent rows were deleted "
                    "since the apply).",
                    f"Fix the rows in `{h.holding}`.`{h.held_name}` or re-create the parent "
                    "rows, then run the rollback again.",
                )
    renames = ", ".join(
        f"{_qualified(h.holding, h.held_name)} TO {_qualified(target[h.held_name], h.table)}"
        for h in helds
    )
    conn.execute(f"RENAME TABLE {renames}")  # one atomic statement for the whole batch
    for h in helds:
        dest = target[h.held_name]
        fks = [
            HeldForeignKey(
                fk.name,
                fk.columns,
                dest if fk.ref_schema == h.schema else fk.ref_schema,
                fk.ref_table,
                fk.ref_columns,
                fk.on_update,
                fk.on_delete,
            )
            for fk in h.foreign_keys
        ]
        if fks:
            conn.execute(
                f"ALTER TABLE {_qualified(dest, h.table)} "
                + ", ".join(fk.add_clause() for fk in fks)
            )
        for trig in h.triggers:
            _create_trigger(conn, dest, trig)
        conn.execute(
            f"DELETE FROM {_qualified(h.holding, CATALOG)} WHERE held_name = %s", (h.held_name,)
        )


def _orphan_count(
    conn: Conn, holding: str, held_name: str, fk: HeldForeignKey, ref_sch: str, ref_tab: str
) -> int:
    on = " AND ".join(
        f"p.{q(rc)} = c.{q(cc)}" for cc, rc in zip(fk.columns, fk.ref_columns, strict=True)
    )
    not_null = " AND ".join(f"c.{q(cc)} IS NOT NULL" for cc in fk.columns)
    return int(
        conn.scalar(
            f"SELECT COUNT(*) FROM {_qualified(holding, held_name)} AS c "
            f"LEFT JOIN {_qualified(ref_sch, ref_tab)} AS p ON {on} "
            f"WHERE {not_null} AND p.{q(fk.ref_columns[0])} IS NULL"
        )
    )


def restore_columns(conn: Conn, held: HeldColumns, schema: str | None = None) -> ColumnsRestored:
    """Write kept column values back, after the reverse DDL re-added the columns.

    Rows inserted after the apply are not in the backup and keep the column
    default; rows deleted since are counted in ``rows_missing``.  The written
    values are verified against the backup (same transaction) — a mismatch,
    e.g. a column re-added with a narrower type, rolls the update back and
    raises ``VerificationFailed``.  Triggers on the table fire for the UPDATE.
    """
    dest = schema or held.schema
    if not _table_exists(conn, held.holding, held.held_name):
        raise UsageError(
            f"The backup of `{held.schema}`.`{held.table}` (`{held.holding}`.`{held.held_name}`) "
            "no longer exists (purged?), so its values cannot be restored.",
            "Restore from a backup instead.",
        )
    live = {str(r["name"]).lower(): r for r in _columns(conn, dest, held.table)}
    missing = [c for c in (*held.key_columns, *held.column_names) if c.lower() not in live]
    if missing:
        raise UsageError(
            f"Table `{dest}`.`{held.table}` has no column "
            f"{', '.join(f'`{c}`' for c in missing)} to restore values into.",
            "Re-add the columns with their original definitions first (the reverse plan does).",
        )
    restoring = {c.lower() for c in held.column_names}
    keep_unchanged = [
        str(r["name"])
        for name, r in live.items()
        if name not in restoring and not r["generated"] and "on update" in str(r["extra"]).lower()
    ]
    # Same shape as the checksum recorded at backup time: key, then columns.
    target_cols = [*held.key, *(_column_info(live[c.lower()]) for c in held.column_names)]
    backup_cols = [*held.key, *held.columns]
    join = (
        f"{_qualified(dest, held.table)} AS t JOIN {_qualified(held.holding, held.held_name)} "
        f"AS b ON {_join_on(held.key_columns, 't', 'b')}"
    )
    with _session_sql_mode(conn, "NO_ENGINE_SUBSTITUTION"), _transaction(conn):
        if held.columns:
            conn.execute(restore_columns_sql(held, dest, keep_unchanged))
        mine = conn.query(checksum_sql("t", target_cols, join, lock=True))[0]
        kept = conn.query(checksum_sql("b", backup_cols, join))[0]
        rows = int(kept[0])
        if (int(mine[0]), int(mine[1])) != (rows, int(kept[1])):
            raise VerificationFailed(
                f"Restoring {', '.join(f'`{c}`' for c in held.column_names)} of "
                f"`{dest}`.`{held.table}` did not reproduce the kept values "
                f"(checksum {mine[1]} vs {kept[1]} over {rows} rows); the update was rolled back.",
                "Check that the columns were re-added with their original types, then run again.",
            )
        if rows == held.row_count and int(kept[1]) != held.checksum:
            raise VerificationFailed(
                f"The backup `{held.holding}`.`{held.held_name}` no longer matches the checksum "
                "recorded when it was taken; the update was rolled back.",
                "Inspect the backup table before restoring by hand.",
            )
        conn.execute(
            f"UPDATE {_qualified(held.holding, CATALOG)} SET restored_at = NOW(6) "
            "WHERE held_name = %s",
            (held.held_name,),
        )
    return ColumnsRestored(held, rows_restored=rows, rows_missing=held.row_count - rows)


# --------------------------------------------------------------------------- catalog queries


def held_for_apply(
    conn: Conn,
    apply_id: str | int,
    *,
    holding: str = DEFAULT_HOLDING,
    include_restored: bool = False,
) -> list[Held]:
    """Everything kept for one apply, in the order it was kept."""
    if not _table_exists(conn, holding, CATALOG):
        return []
    rows = conn.query_dicts(
        f"SELECT * FROM {_qualified(holding, CATALOG)} WHERE apply_id = %s "
        + ("" if include_restored else "AND restored_at IS NULL ")
        + "ORDER BY id",
        (str(apply_id),),
    )
    return [_from_catalog(r, holding) for r in rows]


# --------------------------------------------------------------------------- planning


def lossy_column_change(before: Column, after: Column) -> bool:
    """Whether MODIFY from ``before`` to ``after`` can lose or alter stored values.

    Narrowing and converting types (``risk.classify_type_change``), converting
    to a charset other than utf8mb4, and NULL -> NOT NULL (in a non-strict
    session NULLs become the type's zero value) all qualify.
    """
    kind, _ = classify_type_change(before.type, after.type, after.charset or before.charset)
    if kind in (TypeChange.NARROWING, TypeChange.CONVERSION):
        return True
    if before.charset and after.charset and before.charset != after.charset:
        return after.charset != "utf8mb4"
    return before.nullable and not after.nullable


def keep_marks(change: Change) -> tuple[bool, tuple[str, ...]]:
    """What keep-data keeps for one planned change: (soft-drop the table, columns to back up)."""
    if isinstance(change, DropTable):
        return True, ()
    if isinstance(change, AlterTable):
        cols: list[str] = []
        for clause in change.clauses:
            if isinstance(clause, DropColumn):
                cols.append(clause.column.name)
            elif isinstance(clause, ModifyColumn) and lossy_column_change(
                clause.before, clause.after
            ):
                cols.append(clause.before.name)
        return False, tuple(dict.fromkeys(cols))
    return False, ()


def refuse_referenced_soft_drops(
    conn: Conn, schema: str, dropped: Collection[str], desired: Schema
) -> None:
    """At plan time: refuse keeping a dropped table that something will still reference.

    A reference is harmless when the referencing table is dropped by the same
    plan, or is in this schema and loses the foreign key in the desired schema
    (the plan drops the key before the table).  Anything else — typically a
    table in another schema — would make the soft drop fail halfway through an
    apply, so the plan is refused now, with the referencing tables named.
    """
    dropped_l = {t.lower() for t in dropped}
    desired_tables = {t.name.lower(): t for t in desired.tables}
    problems: list[str] = []
    for table in dropped:
        blocking = []
        for sch, tab, con in _referencing_rows(conn, schema, table):
            if sch == schema:
                if tab.lower() in dropped_l:
                    continue
                keeps = desired_tables.get(tab.lower())
                if keeps is None or not any(
                    fk.ref_table.lower() == table.lower() and fk.ref_schema in (None, schema)
                    for fk in keeps.foreign_keys
                ):
                    continue
            blocking.append(f"`{sch}`.`{tab}` ({con})")
        if blocking:
            problems.append(f"`{schema}`.`{table}` is referenced by {', '.join(blocking)}")
    if problems:
        raise UnsafeError(
            "Cannot keep the data of dropped tables: "
            + "; ".join(problems)
            + " (a soft drop moves the table away, which would break those foreign keys).",
            "Drop those foreign keys (or those tables) first, or plan without --keep-data.",
        )


def refuse_keyless_backups(conn: Conn, schema: str, tables: Collection[str]) -> None:
    """At plan time: column values can only be kept for tables with a row key."""
    keyless = [t for t in tables if row_key(conn, schema, t) is None]
    if keyless:
        raise UnsafeError(
            f"Cannot keep the dropped or narrowed column values of "
            f"{', '.join(f'`{schema}`.`{t}`' for t in keyless)}: no PRIMARY KEY or NOT NULL "
            "UNIQUE key to match them back to their rows on rollback.",
            "Add a primary key first (in an earlier apply), or plan without --keep-data.",
        )


# --------------------------------------------------------------------------- apply hook


def apply_hook(
    statements: Sequence[FileStatement],
    schema: str,
    apply_id: str | int,
    *,
    holding: str = DEFAULT_HOLDING,
    undoes_apply_id: int | None = None,
    say: Callable[[str], None] = lambda s: None,
) -> StatementHook:
    """The per-statement runner for ``run_statements`` that keeps and restores data.

    ``statements`` are the runnable plan statements, in the order run
    (``seq`` is 1-based into them).  A kept ``DROP TABLE`` becomes a soft drop;
    a statement with ``keep_columns`` first takes a verified backup (and does
    not run if that fails); a rollback restore step renames held tables back
    and writes kept column values back by key.
    """
    co_dropped = [s.subject for s in statements if s.keep_table]

    def hook(conn: Conn, seq: int, st: StatementToRun) -> int | None:
        fs = statements[seq - 1]
        if fs.keep_table:
            held = soft_drop_table(
                conn, schema, fs.subject, apply_id, holding, co_dropped=co_dropped
            )
            say(f"kept table {fs.subject} ({held.row_count} rows) as {holding}.{held.held_name}")
            return held.row_count
        if fs.restore_held:
            return _restore_step(conn, fs, schema, holding, undoes_apply_id, say)
        if fs.keep_columns:
            held_cols = backup_columns(conn, schema, fs.subject, fs.keep_columns, apply_id, holding)
            say(
                f"kept {', '.join(held_cols.column_names) or 'no stored'} column(s) of "
                f"{fs.subject} ({held_cols.row_count} rows, verified) as "
                f"{holding}.{held_cols.held_name}"
            )
        return conn.execute(st.sql)

    return hook


def _restore_step(
    conn: Conn,
    fs: FileStatement,
    schema: str,
    holding: str,
    undoes_apply_id: int | None,
    say: Callable[[str], None],
) -> int:
    if undoes_apply_id is None:
        raise UsageError(
            f"The plan restores held data ({', '.join(fs.restore_held)}) but does not say which "
            "apply it undoes.",
            "Make the plan with `myshift rollback --plan-only`.",
        )
    by_name = {h.held_name: h for h in held_for_apply(conn, undoes_apply_id, holding=holding)}
    missing = [n for n in fs.restore_held if n not in by_name]
    if missing:
        raise UsageError(
            f"Held data {', '.join(f'`{holding}`.`{n}`' for n in missing)} of apply "
            f"#{undoes_apply_id} is no longer in the trash (restored or purged).",
            "Make a new rollback plan.",
        )
    wanted = [by_name[n] for n in fs.restore_held]
    tables = [h for h in wanted if isinstance(h, HeldTable)]
    restore_tables(conn, tables, schema)
    rows = sum(h.row_count for h in tables)
    for h in tables:
        say(f"restored table {h.table} ({h.row_count} rows) from {holding}.{h.held_name}")
    for hc in wanted:
        if isinstance(hc, HeldColumns):
            done = restore_columns(conn, hc, schema)
            rows += done.rows_restored
            say(
                f"restored {', '.join(hc.column_names)} of {hc.table}: {done.rows_restored} rows"
                + (f", {done.rows_missing} deleted since" if done.rows_missing else "")
            )
    return rows
