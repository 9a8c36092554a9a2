"""What the table decides about INSTANT (MySQL): the rows of engine/risk.py say what an
operation costs on a plain table; these rules say when the table itself, or the new
column, makes InnoDB refuse INSTANT.  Sources, per rule, in each docstring; line
numbers are those of the
MySQL 8.0.41 tree as imported in enhancedformysql/mysql-8.0.41 @
45d7407ae7a3609d6cea57d5215415b0aaa79766
(the instant checks read the same in mysql/mysql-server's handler0alter.cc).
"""

from __future__ import annotations

from myshift.engine.risk import Algorithm, Assessment, Lock, Risk
from myshift.model.flavor import Flavor
from myshift.model.schema import Column, IndexKind, Table

# InnoDB refuse INSTANT.  Sources, per rule, where each is applied.


def instant_columns_refused(flavor: Flavor, before: Table | None) -> str | None:
    """Why ``before`` cannot take an instant ADD/DROP of a stored column, or None.

    dict_table_t::support_instant_add_drop() (storage/innobase/include/
    dict0dict.ic lines 1370-1375; required by innobase_support_instant() for
    INSTANT_ADD / INSTANT_DROP, handler0alter.cc line 896) is false for
    ROW_FORMAT=COMPRESSED (ZIP_SSIZE) and for tables with FULLTEXT (DICT_TF2_FTS,
    and DICT_TF2_FTS_HAS_DOC_ID: a hidden FTS_DOC_ID stays after the FULLTEXT
    index is dropped, which the catalogue does not show) (manual
    "Online DDL Operations", column operations: "INSTANT ... is not supported
    ... tables that use ROW_FORMAT=COMPRESSED ... tables with a FULLTEXT
    index"; Vitess schemadiff capability.go, PR #15725).  MariaDB refuses the
    same (KB "Instant ADD COLUMN for InnoDB", limitations: ROW_FORMAT=COMPRESSED,
    a hidden FTS_DOC_ID), for ADD, DROP and moving a column: measured on
    MariaDB 10.11.19 (tests/test_instant_live.py), INPLACE accepted.
    """
    if before is None:
        return None
    if (before.row_format or "").upper() == "COMPRESSED":
        return f"{before.name} is ROW_FORMAT=COMPRESSED, which rules out instant column changes"
    for ix in before.indexes:
        if ix.kind is IndexKind.FULLTEXT:
            return (
                f"{before.name} has FULLTEXT index {ix.name}, which rules out instant "
                "column changes"
            )
    return None


_GEOMETRY = frozenset(
    {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring"}
    | {"multipolygon", "geometrycollection", "geomcollection"}
)


def added_column_refusal(flavor: Flavor, column: Column) -> tuple[Algorithm, Risk, str] | None:
    """The algorithm and risk an ADD COLUMN of ``column`` needs because of the column
    itself, when that is worse than INSTANT (MySQL), else None.

    * An expression default is evaluated for every existing row, so the
      statement can fail on data (recorded: mysql-test/r/default_as_expr.result
      at e117a2b58bf4be4de145c3fdec550cea4890544c, ``ALTER TABLE t ADD COLUMN b
      BLOB DEFAULT (repeat('b', i))`` -> ``ERROR 22001: Data too long for column
      'b' at row 3``); MySQL refuses ALGORITHM=INSTANT for it (Vitess issue
      #16024: ERROR 1845).  COPY: sql_table.cc fill_alter_inplace_info() flags
      an added column with a default expression ADD_STORED_GENERATED_COLUMN
      (lines 12206-12208), which InnoDB does not support in place
      (handler0alter.cc lines 996-1011: HA_ALTER_INPLACE_NOT_SUPPORTED).
    * A NOT NULL geometry column without a default, or a NOT NULL DATE/DATETIME
      without one, sets Alter_table_ctx::error_if_not_empty
      (DATETIME_WITHOUT_DEFAULT / GEOMETRY_WITHOUT_DEFAULT, sql/sql_table.cc
      lines 14860-14895), and check_if_supported_inplace_alter() then falls
      back to INPLACE (handler0alter.cc lines 1084-1087: "it can't be instant
      because the table may not be empty"); the statement
      fails on a table with rows (DATE/DATETIME: in strict mode with
      NO_ZERO_DATE, the 8.0 default).
    """
    if not flavor.is_mysql or column.generated is not None:
        return None
    default = column.default
    if default is not None and default.startswith("("):
        why = (
            f"column {column.name}: its default {default} is evaluated for every existing "
            "row (can fail on data; no INSTANT)"
        )
        return Algorithm.COPY, Risk.DATA_DEPENDENT, why
    base = column.type.split("(", 1)[0].split(" ", 1)[0].lower()
    if not column.nullable and default is None:
        if base in _GEOMETRY:
            why = (
                f"column {column.name}: NOT NULL {base} without a default fails on a "
                "table with rows"
            )
            return Algorithm.INPLACE, Risk.DATA_DEPENDENT, why
        if base in ("date", "datetime"):
            why = (
                f"column {column.name}: NOT NULL {base} without a default fails on a table "
                "with rows (strict mode, NO_ZERO_DATE)"
            )
            return Algorithm.INPLACE, Risk.DATA_DEPENDENT, why
    return None


def row_versions_exhausted(flavor: Flavor, before: Table | None) -> str | None:
    """Why ``before`` takes no further instant ADD/DROP COLUMN (row-version limit), or None.

    ``check_if_supported_inplace_alter()``: ``!is_valid_row_version(
    current_row_version + 1)`` -> "INSTANT can't be done any more. Fall back to
    INPLACE" (or ER_INNODB_MAX_ROW_VERSION with ALGORITHM=INSTANT), handler0alter.cc
    lines 1059-1070; MAX_ROW_VERSION = 64, dict0mem.h line 323.  The
    count is INNODB_TABLES.TOTAL_ROW_VERSIONS (Table.row_versions).
    """
    limit = flavor.instant_row_version_limit
    if limit is None or before is None or before.row_versions is None:
        return None
    if before.row_versions < limit:
        return None
    return (
        f"{before.name} has had {before.row_versions} instant column changes, the most "
        f"{flavor.vendor.value} {'.'.join(map(str, flavor.version))} allows ({limit}): "
        "InnoDB rebuilds it in place instead"
    )


# InnoDB's limit on the columns of a table's internal representation after an
# instant ADD COLUMN: its own DB_ROW_ID, DB_TRX_ID and DB_ROLL_PTR count too.
_MAX_INSTANT_FIELDS = 1020  # REC_MAX_N_USER_FIELDS (1023 - 2 * 3) + DATA_N_SYS_COLS (3)
_SYSTEM_COLUMNS = 3


def column_count_exhausted(flavor: Flavor, after: Table | None) -> str | None:
    """Why an instant ADD COLUMN giving ``after`` is refused for its column count, or None.

    ha_innobase::check_if_supported_inplace_alter(), INSTANT_ADD_DROP_COLUMN:
    ``(n_def + get_num_cols_added()) <= REC_MAX_N_USER_FIELDS + DATA_N_SYS_COLS``
    or "INSTANT can't be done any more. Fall back to INPLACE"
    (ER_INNODB_INSTANT_ADD_NOT_SUPPORTED_MAX_FIELDS with ALGORITHM=INSTANT); 8.0.29
    trees test ``< REC_MAX_N_FIELDS`` (1023), one more.  ``n_def`` counts the three
    system columns and the columns dropped instantly before (kept inside, not
    shown).  Manual "Online DDL Operations": "The maximum number of columns in the
    internal representation of the table cannot exceed 1022 after column addition
    with the INSTANT algorithm"; Vitess schemadiff capability.go
    (maxColumnsForInstantAddColumn) and its case "add columns max capacity".
    The stricter bound is used: a table at 1018-1019 columns is predicted INPLACE.
    """
    if after is None or not flavor.is_mysql:
        return None
    stored = sum(1 for c in after.columns if c.generated is None or c.stored)
    stored += 1 if after.gipk else 0
    if stored + _SYSTEM_COLUMNS <= _MAX_INSTANT_FIELDS:
        return None
    return (
        f"{after.name} would have {stored} stored columns (and any dropped instantly "
        f"before): more than InnoDB adds instantly ({_MAX_INSTANT_FIELDS - _SYSTEM_COLUMNS})"
    )


def fulltext_rebuild_refused(
    flavor: Flavor, before: Table | None, after: Table | None
) -> str | None:
    """Why a statement that rebuilds ``before`` cannot run in place (MySQL), or None.

    ha_innobase::check_if_supported_inplace_alter() (mysql/mysql-server
    storage/innobase/handler/handler0alter.cc, 8.0.29+): when the change needs a
    rebuild (``ADD_PK_INDEX || innobase_need_rebuild()``: a stored column added
    or dropped other than instantly, a column moved or made NULL / NOT NULL, a
    new ROW_FORMAT, a new primary key) and a FULLTEXT index is to survive it,
    "If the table already contains fulltext indexes, refuse to rebuild the table
    natively altogether": HA_ALTER_INPLACE_NOT_SUPPORTED with ER_INNODB_FT_LIMIT,
    so the server copies.  ``table->fts`` also exists for a table with a visible
    FTS_DOC_ID column.  Recorded: mysql-test innodb-alter.result (8.0.19-dev)
    ``ADD COLUMN FTS_DOC_ID ..., ALGORITHM=INPLACE`` -> "ALGORITHM=INPLACE is not
    supported. Reason: InnoDB presently supports one FULLTEXT index creation at a
    time. Try ALGORITHM=COPY." (lines 481, 484); instant_ddl_limitations.result
    (8.0.32, 9.1) refuses ``ADD COLUMN c INT`` / ``DROP COLUMN b`` INSTANT on a
    FULLTEXT table with that reason (lines 63, 65).  MariaDB: unchanged here.
    """
    if not flavor.is_mysql or before is None or after is None:
        return None
    kept = next((ix for ix in after.indexes if ix.kind is IndexKind.FULLTEXT), None)
    had = any(ix.kind is IndexKind.FULLTEXT for ix in before.indexes) or any(
        c.name.upper() == "FTS_DOC_ID" for c in before.columns
    )
    if kept is None or not had:
        return None
    return (
        f"{before.name} keeps FULLTEXT index {kept.name}: InnoDB rebuilds such a table "
        "only by copying it (writes wait)"
    )


def downgraded(a: Assessment, algorithm: Algorithm, why: str) -> Assessment:
    """``a`` with at least ``algorithm`` (and the lock a rebuild needs), saying why."""
    if a.algorithm.rank >= algorithm.rank:
        return a
    lock = (
        a.lock if algorithm is Algorithm.INPLACE else max(a.lock, Lock.SHARED, key=lambda k: k.rank)
    )
    reason = f"{a.reason}; {why}" if a.reason else why
    return Assessment(a.risk, algorithm, lock, reason)
