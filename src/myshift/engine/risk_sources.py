"""Where each row of the MySQL online-DDL facts table (``risk._MYSQL``) comes from.

Kept beside risk.py rather than in it, so the prediction logic and its
evidence can change separately.  Every ``Op`` of the table has one entry:

* ``recorded``: an outcome a MySQL server recorded, harvested into
  tests/data/mysql_recorded/ (``<fixture>:<line>``, the line of the
  statement in the cited ``.result`` file) or tests/data/mysql/ (``<fixture>#<key>``);
* ``manual``: a row of the MySQL 8.0/8.4 manual page "Online DDL
  Operations" (the row named in ``what``);
* ``vitess``: a case of Vitess's TestAlterTableCapableOfInstantDDL
  (tests/data/vitess/capability_cases.json);
* ``unverified``: nothing recorded or cited yet backs the row.

``agrees`` says whether the source supports the row as written; a ``False``
is a known contradiction the facts table still carries (the tests list them).
tests/test_risk_sources.py checks every row has an entry and every recorded
reference exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from myshift.engine.risk import Op

MANUAL = "https://dev.mysql.com/doc/refman/8.0/en/innodb-online-ddl-operations.html"
MANUAL_PARTITIONING = "https://dev.mysql.com/doc/refman/8.4/en/online-ddl-partitioning.html"
MANUAL_84 = "https://dev.mysql.com/doc/refman/8.4/en/innodb-online-ddl-operations.html"


@dataclass(frozen=True)
class Citation:
    kind: str  # recorded | manual | vitess | unverified
    ref: str  # fixture id, manual URL, Vitess case name
    what: str  # what the source says, in one phrase
    agrees: bool = True


def _rec(ref: str, what: str, agrees: bool = True) -> Citation:
    return Citation("recorded", ref, what, agrees)


def _man(what: str, agrees: bool = True) -> Citation:
    return Citation("manual", MANUAL, what, agrees)


def _part(what: str) -> Citation:
    """A row of the manual's "Online DDL for Partitioning Operations" table."""
    return Citation("manual", MANUAL_PARTITIONING, what)


def _vit(case: str, what: str, agrees: bool = True) -> Citation:
    return Citation("vitess", case, what, agrees)


def _unv(what: str) -> Citation:
    return Citation("unverified", "", what)


MYSQL_CITATIONS: dict[Op, tuple[Citation, ...]] = {
    Op.ADD_COLUMN: (
        _rec("instant_ddl_misc:87", "ADD COLUMN ... AFTER, ALGORITHM=INSTANT accepted (8.0.29+)"),
        _rec(
            "instant_add_column_limitations:20",
            "last-position ADD COLUMN INSTANT accepted on 8.0.17: the row gives INPLACE "
            "before 8.0.29 (pessimistic)",
            agrees=False,
        ),
        _rec(
            "instant_add_column_limitations:16",
            "mid-table ADD COLUMN INSTANT refused on 8.0.17 (version rule of _INSTANT_SINCE)",
        ),
        _rec(
            "instant_ddl_limitations-8.0-polardbx:7",
            "INSTANT refused on ROW_FORMAT=COMPRESSED: the row ignores the table",
            agrees=False,
        ),
        _rec(
            "instant_ddl_limitations-8.0-polardbx:63",
            "INSTANT refused on a table with a FULLTEXT index",
            agrees=False,
        ),
        _rec(
            "innodb-alter:484",
            "INPLACE refused too on a table keeping a FULLTEXT index (ER_INNODB_FT_LIMIT): "
            "instant.fulltext_rebuild_refused predicts COPY",
            agrees=False,
        ),
        _rec(
            "instant_ddl_limitations-8.0-polardbx:18",
            "INSTANT refused for a POINT NOT NULL column",
            agrees=False,
        ),
        _rec(
            "instant_ddl_limitations-8.0-polardbx:170",
            "INSTANT refused at TOTAL_ROW_VERSIONS=64 (8.0)",
            agrees=False,
        ),
        _man("Adding a column: Instant Yes (8.0.29+ any position; 8.0.12+ last only)"),
    ),
    Op.DROP_COLUMN: (
        _rec("instant_ddl_misc:93", "DROP COLUMN, ALGORITHM=INSTANT accepted (8.0.29+)"),
        _rec(
            "instant_ddl_limitations-8.0-polardbx:89",
            "INSTANT refused when the column is indexed",
            agrees=False,
        ),
        _rec(
            "instant_ddl_limitations-8.0-polardbx:9",
            "INSTANT refused on ROW_FORMAT=COMPRESSED",
            agrees=False,
        ),
        _man("Dropping a column: Instant Yes from 8.0.29"),
    ),
    Op.REORDER_COLUMN: (
        _rec("instant_ddl_misc:269", "CHANGE c2 c2 INT AFTER c1, ALGORITHM=INPLACE accepted"),
        _vit("rearrange column after", "not instant-capable"),
        _man("Reordering columns: In Place Yes, Rebuilds Yes"),
    ),
    Op.RENAME_COLUMN: (
        _rec("innodb-alter:514", "CHANGE c1 FTS_DOC_ïD INT, ALGORITHM=INPLACE accepted (8.0.19)"),
        _man("Renaming a column: Instant Yes from 8.0.28 (_INSTANT_SINCE)"),
    ),
    Op.SET_DEFAULT: (
        _vit("set a default column value", "instant-capable"),
        _vit("change a default column value", "instant-capable"),
        _man("Setting or dropping a column default value: Instant Yes"),
    ),
    Op.COLUMN_METADATA: (
        _vit("enum append", "instant-capable"),
        _vit("fail set append when over threshold", "not instant past a storage-size step"),
        _man("Modifying the definition of an ENUM or SET column: Instant Yes (append only)"),
    ),
    Op.EXTEND_VARCHAR: (
        _man("Extending VARCHAR column size: In Place Yes, Rebuilds No (same length bytes)"),
    ),
    Op.CHANGE_TYPE: (
        _rec("innodb-alter:500", "INPLACE refused: Cannot change column type INPLACE"),
        _rec("innodb-alter:576", "INPLACE refused: Cannot change column type INPLACE"),
        _vit(
            "fail because on top of changing the default value, the datatype is changed, too",
            "not instant-capable",
        ),
    ),
    Op.MAKE_NULL: (_man("Making a column NULL: In Place Yes, Rebuilds Yes"),),
    Op.MAKE_NOT_NULL: (_man("Making a column NOT NULL: In Place Yes, Rebuilds Yes"),),
    Op.ADD_AUTO_INCREMENT: (
        _man("Adding a column: concurrent DML is not permitted for an AUTO_INCREMENT column"),
    ),
    Op.ADD_INDEX: (
        _rec("instant_ddl_misc:252", "ADD INDEX, ALGORITHM=INSTANT refused"),
        _rec("instant_ddl_misc:254", "ADD INDEX, ALGORITHM=INPLACE accepted"),
        _rec("innodb-alter:546", "ADD INDEX with CHANGE, ALGORITHM=INPLACE accepted"),
    ),
    Op.ADD_FULLTEXT: (
        _rec("innodb-alter:417", "LOCK=NONE refused: Fulltext index creation requires a lock"),
        _rec("innodb-alter:421", "ADD FULLTEXT, ALGORITHM=INPLACE, LOCK=SHARED accepted"),
        _rec("innodb-alter:582", "ADD FULLTEXT INDEX, ALGORITHM=INPLACE accepted"),
    ),
    Op.ADD_SPATIAL: (_man("Adding a SPATIAL index: In Place Yes, Permits Concurrent DML No"),),
    Op.DROP_INDEX: (
        _rec("innodb-alter:794", "DROP INDEX, algorithm=inplace accepted"),
        _rec(
            "innodb-index-online-fk-8.4-villagesql:686",
            "drop key t (another index serves the FK), algorithm=inplace accepted (8.4.6)",
        ),
        _man("Dropping an index: In Place Yes, Rebuilds No"),
    ),
    Op.RENAME_INDEX: (
        _man("Renaming an index: Instant No, In Place Yes, Only Modifies Metadata Yes"),
    ),
    Op.INDEX_VISIBILITY: (_unv("no recorded ALTER INDEX ... ALGORITHM=INSTANT harvested yet"),),
    Op.ADD_PRIMARY: (
        _rec(
            "instant_ddl_limitations-8.0-polardbx:79",
            "DROP COLUMN + ADD PRIMARY KEY, INSTANT refused",
        ),
        _rec(
            "innodb-index-online-fk-8.4-villagesql:386",
            "ADD PRIMARY KEY with an unchecked FK add, ALGORITHM=INPLACE accepted (8.4.6)",
        ),
        _man("Adding a primary key: In Place Yes, Rebuilds Yes"),
    ),
    Op.DROP_PRIMARY: (
        _rec(
            "instant_ddl_limitations-8.0-polardbx:77",
            "INSTANT refused: dropping a primary key needs a new one in the same ALTER",
        ),
        _man("Dropping a primary key: In Place No"),
    ),
    Op.ADD_FOREIGN_KEY: (
        _rec(
            "innodb-index-online-fk-8.4-villagesql:11",
            "ADD FOREIGN KEY, ALGORITHM=INPLACE refused with foreign_key_checks=1: "
            "Adding foreign keys needs foreign_key_checks=OFF (8.4.6)",
        ),
        _man("Adding a foreign key constraint: INPLACE only with foreign_key_checks=0"),
    ),
    Op.ADD_FOREIGN_KEY_UNCHECKED: (
        _rec(
            "innodb-index-online-fk-8.4-villagesql:15",
            "ADD CONSTRAINT ... FOREIGN KEY, ALGORITHM=INPLACE accepted with "
            "foreign_key_checks=0 (8.4.6)",
        ),
        _man("Adding a foreign key constraint with foreign_key_checks=0: In Place Yes"),
    ),
    Op.DROP_FOREIGN_KEY: (_man("Dropping a foreign key constraint: In Place Yes"),),
    Op.ADD_CHECK: (
        _rec(
            "recorded-check-constraints-8.0.json#add_check_copy_only",
            "INPLACE and INSTANT refused: Try ALGORITHM=COPY",
        ),
    ),
    Op.ADD_CHECK_NOT_ENFORCED: (
        _rec(
            "recorded-check-constraints-8.0.json#add_not_enforced_inplace",
            "NOT ENFORCED CHECK, ALGORITHM=INPLACE accepted",
        ),
    ),
    Op.DROP_CHECK: (
        _rec(
            "recorded-check-constraints-8.0.json#drop_check_inplace",
            "DROP CHECK, ALGORITHM=INPLACE accepted",
        ),
    ),
    Op.CONVERT_CHARSET: (_man("Converting a character set: In Place No"),),
    Op.DEFAULT_CHARSET: (
        _man("Specifying a character set: In Place Yes, Rebuilds Yes if the encoding differs"),
    ),
    Op.ROW_FORMAT: (
        _rec("innodb-alter:684", "ROW_FORMAT=REDUNDANT, ALGORITHM=INPLACE accepted"),
        _man("Changing the row format: In Place Yes, Rebuilds Yes"),
    ),
    Op.CHANGE_ENGINE: (_unv("ENGINE= changes are not in the online-DDL table; copy assumed"),),
    Op.TABLE_COMMENT: (_unv("no recorded table-comment ALTER harvested yet"),),
    Op.TABLE_OPTIONS: (_unv("other table options vary by option; INPLACE assumed"),),
    Op.PARTITION: (_man("Partitioning: most partition operations copy (ALGORITHM=COPY)"),),
    Op.REMOVE_PARTITIONING: (_man("REMOVE PARTITIONING: copies the table"),),
    Op.ADD_PARTITION: (
        _rec("partition_autoinc-8.4-villagesql:44", "RANGE ADD PARTITION, ALGORITHM=INPLACE"),
        _rec("partition_autoinc-8.4-villagesql:87", "RANGE ADD PARTITION, ALGORITHM=INPLACE"),
        _part("ADD PARTITION: In Place Yes, LOCK=NONE for RANGE and LIST, no data copied"),
    ),
    Op.DROP_PARTITION: (
        _rec("partition_autoinc-8.4-villagesql:196", "DROP PARTITION, ALGORITHM=INPLACE"),
        _rec("partition_autoinc-8.4-villagesql:341", "DROP PARTITION, ALGORITHM=INPLACE"),
        _part("DROP PARTITION: In Place Yes, LOCK=NONE; deletes the partition's rows"),
    ),
    Op.REORGANIZE_PARTITION: (
        _rec("partition_autoinc-8.4-villagesql:638", "REORGANIZE PARTITION, ALGORITHM=INPLACE"),
        _part("REORGANIZE PARTITION: In Place Yes, LOCK={DEFAULT|SHARED|EXCLUSIVE}"),
    ),
    Op.RESIZE_HASH_PARTITIONS: (
        _rec("partition_autoinc-8.4-villagesql:397", "HASH ADD PARTITION PARTITIONS 2, INPLACE"),
        _rec("partition_autoinc-8.4-villagesql:512", "HASH COALESCE PARTITION 2, INPLACE"),
        _part("ADD PARTITION (HASH/KEY) and COALESCE PARTITION: In Place Yes, LOCK=SHARED"),
    ),
    Op.RENAME_TABLE: (_man("Renaming a table: Instant Yes, Only Modifies Metadata Yes"),),
}
