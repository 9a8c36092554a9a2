"""The history's tables on the server: their layout version and their DDL.

Layout versioning: ``layout`` holds the layout version; a history written by a
newer myshift is refused instead of being misread.  Changes to the tables are
additive (new nullable columns) and bump ``LAYOUT_VERSION``.  A new table that
older versions may ignore (``after_snapshots``) needs no bump: ``History.ensure``
creates the missing tables of an existing history, and an apply recorded
without one reads as "no state recorded after it".
"""

from __future__ import annotations

from myshift.db.connect import quote_ident

LAYOUT_VERSION = 1


def history_ddl(schema: str) -> list[str]:
    """The statements creating the history schema and its tables (idempotent)."""
    q = quote_ident(schema)
    return [
        f"CREATE DATABASE IF NOT EXISTS {q} DEFAULT CHARACTER SET utf8mb4",
        f"""CREATE TABLE IF NOT EXISTS {q}.`layout` (
  `id` TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  `version` INT UNSIGNED NOT NULL,
  `updated_at` DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
        f"""CREATE TABLE IF NOT EXISTS {q}.`applies` (
  `id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  `kind` VARCHAR(16) NOT NULL,
  `target_schema` VARCHAR(64) NOT NULL,
  `target` VARCHAR(512) NOT NULL,
  `operator_user` VARCHAR(128) NOT NULL,
  `operator_host` VARCHAR(255) NOT NULL,
  `tool_version` VARCHAR(32) NOT NULL,
  `plan_hash` VARCHAR(100) NULL,
  `from_fingerprint` VARCHAR(100) NULL,
  `to_fingerprint` VARCHAR(100) NULL,
  `snapshot` LONGTEXT NULL,
  `started_at` DATETIME(6) NOT NULL,
  `finished_at` DATETIME(6) NULL,
  `outcome` VARCHAR(16) NOT NULL,
  `error` TEXT NULL,
  `undoes_apply_id` BIGINT UNSIGNED NULL,
  `notes` LONGTEXT NULL,
  KEY `by_schema` (`target_schema`, `id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
        # `sql` is a reserved word, hence sql_text.
        f"""CREATE TABLE IF NOT EXISTS {q}.`statements` (
  `apply_id` BIGINT UNSIGNED NOT NULL,
  `seq` INT UNSIGNED NOT NULL,
  `sql_text` LONGTEXT NOT NULL,
  `risk` VARCHAR(32) NULL,
  `started_at` DATETIME(6) NOT NULL,
  `finished_at` DATETIME(6) NULL,
  `outcome` VARCHAR(16) NOT NULL,
  `error` TEXT NULL,
  `rows_affected` BIGINT NULL,
  `duration` DOUBLE NULL,
  PRIMARY KEY (`apply_id`, `seq`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
        # The objects an apply touched as they were right after it ended well
        # (schema_to_json), so a rollback can tell changes made outside myshift
        # since.  Its own table: list_applies never reads it.
        f"""CREATE TABLE IF NOT EXISTS {q}.`after_snapshots` (
  `apply_id` BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  `snapshot` LONGTEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    ]


# The columns of an ApplyRecord, in its order (``{q}`` = the history schema).
APPLY_COLS = (
    "a.id, a.kind, a.target_schema, a.target, a.operator_user, a.operator_host, "
    "a.tool_version, a.plan_hash, a.from_fingerprint, a.to_fingerprint, a.started_at, "
    "a.finished_at, a.outcome, a.error, a.undoes_apply_id, a.notes, "
    "(SELECT COUNT(*) FROM {q}.statements s WHERE s.apply_id = a.id), "
    "(SELECT COUNT(*) FROM {q}.statements s WHERE s.apply_id = a.id AND s.outcome = 'ok')"
)
