"""Keeping data so that a rollback can bring it back.

Three mechanisms, all against a live connection:

* **Soft drop** — instead of ``DROP TABLE`` the table is *moved* into a holding
  schema (``_myshift_trash`` by default) with ``RENAME TABLE``.  That is a
  metadata-only operation: no data is copied, and restoring is another rename.
* **Column backup** — before ``DROP COLUMN`` or a narrowing/lossy ``MODIFY``,
  the key columns and the affected columns are copied into a backup table in
  the holding schema and *verified* (row count and a checksum on both sides, in
  one transaction) before anything destructive is allowed to run.  A rollback
  re-adds the columns with their original definitions, then ``restore_columns``
  writes the kept values back with one set-based ``UPDATE``.

* **Partition swap** — before ``DROP PARTITION`` the partition's rows are
  swapped into an empty table of the same structure in the holding schema
  (``EXCHANGE PARTITION``, metadata only); a rollback re-creates the
  partition and swaps them back.

Every held object is recorded in ``<holding>._held`` so that ``myshift
rollback`` and ``myshift trash`` can find it again.

The package, by seam (import the public names from here):

* ``records``: what is held (``HeldTable``, ``HeldColumns`` ...), as JSON too.
* ``sql``: the statement text (holding schema, checksums, backup, restore).
* ``catalog``: the ``_held`` table: record, find, forget held objects.
* ``session``: sql_mode, transactions, trigger re-creation.
* ``softdrop``: ``soft_drop_table`` (and the server quirks it works around).
* ``backup``: ``backup_columns``, the verified copy, and ``row_key``.
* ``restore``: ``restore_tables`` / ``restore_columns``.
* ``partitions``: ``keep_partitions`` / ``restore_partition``: a dropped
  partition's rows swapped out (``EXCHANGE PARTITION``) and back.
* ``hook``: the apply's per-statement runner and the plan-time refusals.

What is kept, which changes are lossy and how held objects are named is pure
policy, in ``engine.keeppolicy``; the catalogue questions about one table are
in ``engine.introspect.heldcatalog``.
"""

from __future__ import annotations

from myshift.engine.keeppolicy import (
    CATALOG,
    DEFAULT_HOLDING,
    MAX_IDENT,
    keep_marks,
    lossy_column_change,
)
from myshift.workflows.keepdata.backup import backup_columns, row_key
from myshift.workflows.keepdata.catalog import ensure_holding, held_for_apply, held_name_for
from myshift.workflows.keepdata.hook import (
    apply_hook,
    refuse_keyless_backups,
    refuse_referenced_soft_drops,
    refuse_unknown_row_formats,
)
from myshift.workflows.keepdata.records import (
    ColumnInfo,
    ColumnsRestored,
    Held,
    HeldColumns,
    HeldForeignKey,
    HeldPartition,
    HeldTable,
    HeldTrigger,
)
from myshift.workflows.keepdata.restore import restore_columns, restore_table, restore_tables
from myshift.workflows.keepdata.softdrop import soft_drop_table
from myshift.workflows.keepdata.sql import (
    backup_columns_sql,
    checksum_sql,
    create_holding_sql,
    exchange_sql,
    restore_columns_sql,
    row_hash_expr,
    soft_drop_table_sql,
)

__all__ = [
    "CATALOG",
    "DEFAULT_HOLDING",
    "MAX_IDENT",
    "ColumnInfo",
    "ColumnsRestored",
    "Held",
    "HeldColumns",
    "HeldForeignKey",
    "HeldPartition",
    "HeldTable",
    "HeldTrigger",
    "apply_hook",
    "backup_columns",
    "backup_columns_sql",
    "checksum_sql",
    "create_holding_sql",
    "ensure_holding",
    "exchange_sql",
    "held_for_apply",
    "held_name_for",
    "keep_marks",
    "lossy_column_change",
    "refuse_keyless_backups",
    "refuse_referenced_soft_drops",
    "refuse_unknown_row_formats",
    "restore_columns",
    "restore_columns_sql",
    "restore_table",
    "restore_tables",
    "row_hash_expr",
    "row_key",
    "soft_drop_table",
    "soft_drop_table_sql",
]
