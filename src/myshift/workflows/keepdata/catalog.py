"""The catalogue of held objects: ``<holding>._held``, one row per kept table or backup.

Every held object is recorded with its apply id, kind, where it came from, its
columns, row count, checksum, foreign keys and triggers (JSON), so that
``myshift rollback`` and ``myshift trash`` can find it again.  The row of a
column backup is written in the same transaction as the verified copy: it
exists iff the copy does.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from myshift.engine import keeppolicy
from myshift.engine.introspect.heldcatalog import table_columns, table_exists, table_names
from myshift.engine.keeppolicy import CATALOG, DEFAULT_HOLDING
from myshift.errors import ApplyFailed
from myshift.workflows.keepdata.records import (
    ColumnInfo,
    Held,
    HeldColumns,
    HeldForeignKey,
    HeldPartition,
    HeldTable,
    HeldTrigger,
)
from myshift.workflows.keepdata.sql import ADD_PARTITION_NAME, create_holding_sql, qualified

if TYPE_CHECKING:
    from myshift.db.connect import Conn


def ensure_holding(conn: Conn, holding: str = DEFAULT_HOLDING) -> None:
    for stmt in create_holding_sql(holding):
        conn.execute(stmt)
    # A catalog made before partitions were kept: one column more (instant on both).
    if not any(c.name == "partition_name" for c in table_columns(conn, holding, CATALOG)):
        conn.execute(f"ALTER TABLE {qualified(holding, CATALOG)} {ADD_PARTITION_NAME}")


def _taken_names(conn: Conn, holding: str) -> set[str]:
    """Names in use in the holding schema, or recorded in its catalog (lower case)."""
    names = {n.lower() for n in table_names(conn, holding)}
    rows = conn.query(f"SELECT held_name FROM {qualified(holding, CATALOG)}")
    names |= {str(r[0]).lower() for r in rows}
    return names


def held_name_for(
    conn: Conn, holding: str, apply_id: str | int, schema: str, table: str, suffix: str = ""
) -> str:
    """A free name in ``holding`` for what apply ``apply_id`` keeps of ``schema.table``
    (``keeppolicy.held_name``: ``a42__orders``, or truncated plus a hash)."""
    name = keeppolicy.held_name(_taken_names(conn, holding), apply_id, schema, table, suffix)
    if name is None:  # pragma: no cover - a thousand collisions means something is very wrong
        raise ApplyFailed(
            f"No free name for `{schema}`.`{table}` in holding schema `{holding}`.",
            "Purge old entries with `myshift trash purge`.",
        )
    return name


def insert_catalog(conn: Conn, held: Held) -> None:
    """Record a held object in its holding schema's catalog."""
    key_columns = (
        json.dumps([c.to_json() for c in held.key]) if isinstance(held, HeldColumns) else None
    )
    fks = (
        json.dumps([fk.to_json() for fk in held.foreign_keys])
        if isinstance(held, HeldTable)
        else None
    )
    trg = json.dumps([t.to_json() for t in held.triggers]) if isinstance(held, HeldTable) else None
    checksum = held.checksum if isinstance(held, HeldColumns | HeldPartition) else None
    partition = held.partition if isinstance(held, HeldPartition) else None
    conn.execute(
        f"INSERT INTO {qualified(held.holding, CATALOG)} "
        "(apply_id, kind, original_schema, original_table, held_name, `columns`, "
        "key_columns, foreign_keys, triggers, row_count, checksum, partition_name) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
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
            partition,
        ),
    )


def update_counts(conn: Conn, held: HeldPartition) -> None:
    """Record the exact row count and checksum of held partition rows, once swapped out."""
    conn.execute(
        f"UPDATE {qualified(held.holding, CATALOG)} SET row_count = %s, checksum = %s "
        "WHERE held_name = %s",
        (held.row_count, held.checksum, held.held_name),
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
    if row["kind"] == "partition":
        return HeldPartition(
            apply_id=str(row["apply_id"]),
            schema=str(row["original_schema"]),
            table=str(row["original_table"]),
            holding=holding,
            held_name=str(row["held_name"]),
            partition=str(row["partition_name"]),
            columns=columns,
            row_count=int(row["row_count"]),
            checksum=int(row["checksum"] or 0),
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


def held_for_apply(
    conn: Conn,
    apply_id: str | int,
    *,
    holding: str = DEFAULT_HOLDING,
    include_restored: bool = False,
) -> list[Held]:
    """Everything kept for one apply, in the order it was kept."""
    if not table_exists(conn, holding, CATALOG):
        return []
    rows = conn.query_dicts(
        f"SELECT * FROM {qualified(holding, CATALOG)} WHERE apply_id = %s "
        + ("" if include_restored else "AND restored_at IS NULL ")
        + "ORDER BY id",
        (str(apply_id),),
    )
    return [_from_catalog(r, holding) for r in rows]


def held_table_origins(conn: Conn, holding: str) -> dict[str, tuple[str, str]]:
    """held name -> (original schema, original table) of every soft-dropped table."""
    return {
        str(name): (str(osch), str(otab))
        for name, osch, otab in conn.query(
            f"SELECT held_name, original_schema, original_table "
            f"FROM {qualified(holding, CATALOG)} WHERE kind = 'table'"
        )
    }


def forget(conn: Conn, holding: str, held_name: str) -> None:
    """Remove a held object's catalog row (it was restored by renaming it back)."""
    conn.execute(f"DELETE FROM {qualified(holding, CATALOG)} WHERE held_name = %s", (held_name,))


def mark_restored(conn: Conn, holding: str, held_name: str) -> None:
    """Note that a column backup's values were written back (the backup stays)."""
    conn.execute(
        f"UPDATE {qualified(holding, CATALOG)} SET restored_at = NOW(6) WHERE held_name = %s",
        (held_name,),
    )
