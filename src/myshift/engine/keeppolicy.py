"""What keep-data keeps, and what it calls what it keeps: the policy, no server.

``workflows.keepdata`` does the keeping against a live connection (soft drop,
verified column backup, restore); the decisions it acts on are here, as pure
functions of the plan and of catalogue facts already read:

* which planned changes keep data (``keep_marks``): a dropped table is
  soft-dropped; a dropped column, or one changed in a way that can lose or
  alter values (``lossy_column_change``, built on ``risk.classify_type_change``),
  is backed up first; a dropped partition's rows are moved out first
  (``kept_partitions``);
* how a held object is named in the holding schema (``held_name``);
* which row key matches backed-up values to their rows (``choose_row_key``),
  and which columns a backup holds (``columns_to_back_up``);
* which foreign keys stop a table from being moved away
  (``blocking_references`` at plan time, ``foreign_references`` at run time).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from myshift.engine.changes import (
    AlterTable,
    Change,
    DropColumn,
    DropPartitions,
    DropTable,
    ModifyColumn,
)
from myshift.engine.risk import TypeChange, classify_type_change

if TYPE_CHECKING:
    from myshift.engine.introspect.heldcatalog import ColumnRow, Referencing, UniqueKeyPart
    from myshift.model import Column, Schema

# Where kept tables and column backups go unless configured otherwise.
DEFAULT_HOLDING = "_myshift_trash"
# The table in the holding schema recording every held object.
CATALOG = "_held"
MAX_IDENT = 64  # MySQL/MariaDB identifier limit


# --------------------------------------------------------------------------- what is kept


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


def kept_partitions(change: Change) -> tuple[str, ...]:
    """The partitions whose rows keep-data moves out before ``DROP PARTITION`` runs."""
    if not isinstance(change, AlterTable):
        return ()
    names = [p.name for c in change.clauses if isinstance(c, DropPartitions) for p in c.dropped]
    return tuple(names)


def one_drop_per_kept_partition(changes: Sequence[Change]) -> list[Change]:
    """``DROP PARTITION a, b`` split into ``DROP PARTITION a`` then ``DROP PARTITION b``.

    Keep-data swaps each partition's rows out under ``LOCK TABLES t WRITE,
    h WRITE``; with two held tables locked, MariaDB 10.11.19's ``EXCHANGE
    PARTITION`` waits on its own session until innodb_lock_wait_timeout (1205
    after 50 s, the application's table locked all along).  One statement per
    partition takes one held table per lock, and the plan shows what runs.
    """
    out: list[Change] = []
    for ch in changes:
        drop = ch.clauses[0] if isinstance(ch, AlterTable) and len(ch.clauses) == 1 else None
        if not isinstance(drop, DropPartitions) or len(drop.dropped) < 2:
            out.append(ch)
            continue
        assert isinstance(ch, AlterTable)
        parts, table = drop.before, ch.before
        for n, gone in enumerate(drop.dropped, 1):
            nxt = replace(parts, partitions=tuple(p for p in parts.partitions if p != gone))
            last = n == len(drop.dropped)
            after = ch.after if last or table is None else replace(table, partitioning=nxt)
            one = DropPartitions(parts, drop.after if last else nxt, (gone,))
            out.append(replace(ch, clauses=(one,), before=table, after=after))
            parts, table = nxt, after
    return out


# --------------------------------------------------------------------------- naming


def apply_prefix(apply_id: str | int) -> str:
    """``a42``: the prefix of everything kept by apply 42 (an identifier-safe id)."""
    return "a" + re.sub(r"[^0-9A-Za-z_]", "_", str(apply_id))


def held_name(
    taken: Collection[str], apply_id: str | int, schema: str, table: str, suffix: str = ""
) -> str | None:
    """``a42__orders`` — or, when too long for 64 characters or already taken, the
    name truncated plus a short hash of where it came from (the catalog keeps the
    mapping).  ``taken`` are the lower-cased names in use; None when nothing is free.
    """
    base = f"{apply_prefix(apply_id)}__{table}{suffix}"
    if len(base) <= MAX_IDENT and base.lower() not in taken:
        return base
    for n in range(1000):
        digest = hashlib.sha1(f"{schema}.{table}{suffix}#{n}".encode()).hexdigest()[:8]
        name = base[: MAX_IDENT - 9] + "_" + digest
        if name.lower() not in taken:
            return name
    return None  # pragma: no cover - a thousand collisions means something is very wrong


# --------------------------------------------------------------------------- column backups


def choose_row_key(parts: Iterable[UniqueKeyPart]) -> tuple[str, ...] | None:
    """The first unique key (PRIMARY first) whose columns are whole and NOT NULL.

    A prefix unique key does not identify the full value: usable as a row key
    only if whole columns are indexed.
    """
    keys: dict[str, list[UniqueKeyPart]] = {}
    for part in parts:
        keys.setdefault(part.index, []).append(part)
    for key in keys.values():
        if all(p.whole_not_null for p in key):
            return tuple(p.column for p in key)
    return None


def columns_to_back_up(
    columns: Sequence[str], table_columns: Sequence[ColumnRow], key: Collection[str]
) -> list[ColumnRow]:
    """The columns whose values a backup holds, besides the row key: each once, in
    the order asked.  Key columns are already in the backup; generated columns are
    skipped, as their values come back from their expression when the reverse DDL
    re-adds them (and cannot be assigned)."""
    by_name = {c.name.lower(): c for c in table_columns}
    key_lower = {k.lower() for k in key}
    kept: list[ColumnRow] = []
    for name in columns:
        col = by_name[name.lower()]
        if name.lower() not in key_lower and not col.generated and col not in kept:
            kept.append(col)
    return kept


def untouched_on_update(
    table_columns: Iterable[ColumnRow], restoring: Collection[str]
) -> list[str]:
    """``ON UPDATE CURRENT_TIMESTAMP`` columns a restore must not let the server bump."""
    restoring_l = {c.lower() for c in restoring}
    return [
        c.name
        for c in table_columns
        if c.name.lower() not in restoring_l and not c.generated and "on update" in c.extra.lower()
    ]


# --------------------------------------------------------------------------- soft drops


def foreign_references(
    references: Iterable[Referencing], schema: str, table: str, co_dropped: Collection[str]
) -> list[str]:
    """The foreign keys that stop ``schema.table`` from being moved away at run time.

    Its own and those of tables of ``schema`` dropped by the same apply do not.
    """
    skip = {table.lower(), *(t.lower() for t in co_dropped)}
    return [
        f"`{r.schema}`.`{r.table}` ({r.constraint})"
        for r in references
        if not (r.schema == schema and r.table.lower() in skip)
    ]


def blocking_references(
    references: Iterable[Referencing],
    schema: str,
    table: str,
    dropped: Collection[str],
    desired: Schema,
) -> list[str]:
    """At plan time: the foreign keys that would still reference a kept dropped table.

    A reference is harmless when the referencing table is dropped by the same
    plan, or is in this schema and loses the foreign key in the desired schema
    (the plan drops the key before the table).  Anything else — typically a
    table in another schema — would make the soft drop fail halfway through an
    apply.
    """
    dropped_l = {t.lower() for t in dropped}
    desired_tables = {t.name.lower(): t for t in desired.tables}
    blocking = []
    for ref in references:
        if ref.schema == schema:
            if ref.table.lower() in dropped_l:
                continue
            keeps = desired_tables.get(ref.table.lower())
            if keeps is None or not any(
                fk.ref_table.lower() == table.lower() and fk.ref_schema in (None, schema)
                for fk in keeps.foreign_keys
            ):
                continue
        blocking.append(f"`{ref.schema}`.`{ref.table}` ({ref.constraint})")
    return blocking
