"""The mysql-test ``.result`` files tools/harvest_mysql_results.py harvests.

One entry per file: repository, path, pinned commit, the characters read,
the cached read chunks, and the MySQL version it records with the evidence
for it.  Kept apart from the harvester so the list of sources (data) and the
reading of the mysqltest format (code) change separately.  Licence of every
file: GPL-2.0-only with the Universal FOSS Exception (mysql-server's test
suite, or a fork of it that keeps the test files).
"""

from __future__ import annotations

from typing import Any

# One entry per .result file.  ``version`` is the MySQL version whose
# behaviour the file records: the one the file itself shows, else the one
# known for the commit; ``version_evidence`` says which.
SOURCES: list[dict[str, Any]] = [
    {
        "id": "innodb-alter",
        "repo": "mysql/mysql-server",
        "path": "mysql-test/suite/innodb/r/innodb-alter.result",
        "commit": "045af147eb32a657c0c7a8d10abb08dcd6055332",
        "total_chars": 32250,
        "chunks": ["innodb-alter.0.json", "innodb-alter.1.json", "innodb-alter.2.json"],
        "version": "8.0.19-dev",
        "flavor": "mysql:8.0.18",
        "version_evidence": (
            "8.0.19 development tree: the file shows table-qualified duplicate-key "
            "names ('t1.uidx', new in 8.0.19) while SHOW CREATE still prints int(11) "
            "(display widths left SHOW CREATE in the 8.0.19 release); modelled as "
            "8.0.18, the last release that prints them"
        ),
    },
    {
        "id": "invisible_columns",
        "repo": "mysql/mysql-server",
        "path": "mysql-test/r/invisible_columns.result",
        "commit": "09484384365c5a255a53e68527e8f9f264a5709b",
        "total_chars": 43335,
        "chunks": [f"invisible_columns.{i}.json" for i in range(3)],
        "version": "8.0.23+",
        "flavor": "mysql:8.0.23",
        "version_evidence": (
            "prints /*!80023 INVISIBLE */ (invisible columns arrived in 8.0.23); "
            "tests/data/mysql/recorded-invisible-columns-8.0.json pins this commit "
            "as 8.0.23"
        ),
    },
    {
        "id": "generated_invisible_primary_key",
        "repo": "mysql/mysql-server",
        "path": "mysql-test/r/generated_invisible_primary_key.result",
        "commit": "c008bd3259a7019b74df6fb8b1de2945fb709dda",
        "total_chars": 80236,
        "chunks": [
            "generated_invisible_primary_key.0.json",
            "generated_invisible_primary_key.13621.json",
            "generated_invisible_primary_key.22152.json",
        ],
        "version": "9.4.0+",
        "flavor": "mysql:9.4.0",
        "version_evidence": (
            "a 9.4+ tree: the same commit carries mysql-test/suite/jdv/r/*.result "
            "(jdv_ddl_cs, jdv_types, jdv_dml_bugs, ... are stored at c008bd32), the "
            "tests of JSON duality views, which the reference manual says MySQL 9.4.0 "
            "added (refman 9.4, section 27.7); the file itself shows only the 8.0.30 "
            "feature it tests (my_row_id, sql_generate_invisible_primary_key); prefix "
            "of 38,120 characters (up to '# my_row_id column alter is not "
            "permitted.'), its three read windows checked at their joins; the third "
            "window's repeated SHOW CREATE shapes were rebuilt from the read text and "
            "its length checked against the window (15,968 + the 32-character "
            "partial line that follows)"
        ),
    },
    {
        "id": "instant_ddl_misc",
        "repo": "mysql/mysql-server",
        "path": "mysql-test/suite/innodb/r/instant_ddl_misc.result",
        "commit": "0a5bb67d1903d47a9f99c5cf9a32bdf14d4f6543",
        "total_chars": 201126,
        "chunks": ["instant_ddl_misc.0.json"],
        "version": "8.0.29+",
        "flavor": "mysql:8.0.29",
        "version_evidence": (
            "instant DROP COLUMN and the INITIAL/CURRENT/TOTAL_COLUMN_COUNTS columns of "
            "INNODB_TABLES, both new in 8.0.29; prefix up to scenario 22 (line 302)"
        ),
    },
    {
        "id": "check_constraints",
        "repo": "mysql/mysql-server",
        "path": "mysql-test/r/check_constraints.result",
        "commit": "018fcd505e485c10a0510043536950e3ed11d6e7",
        "total_chars": 155502,
        "chunks": ["check_constraints.0.json", "check_constraints.8900.json"],
        "version": "8.0.19+",
        "flavor": "mysql:8.0.19",
        "version_evidence": (
            "CHECK constraints (8.0.16) printed without integer display widths "
            "(8.0.19); the exact release of this commit is not shown by the file; "
            "prefix of 22,622 characters (the part up to the CREATE TABLE LIKE tests)"
        ),
    },
    {
        "id": "instant_add_column_limitations",
        "repo": "mysql/mysql-server",
        "path": "mysql-test/suite/innodb/r/instant_add_column_limitations.result",
        "commit": "35d4a04a297f07b48b2fd6605d249307bd51249c",
        "total_chars": 3308,
        "chunks": ["instant_add_column_limitations.0.json"],
        "version": "8.0.17",
        "flavor": "mysql:8.0.17",
        "version_evidence": (
            "8.0.12-8.0.28 behaviour: INSTANT ADD COLUMN is refused anywhere but last "
            "(scenario 2); commit 35d4a04a also carries functional_index.result, "
            "which tests/data/mysql/recorded-functional-index-8.0.json pins as 8.0.17"
        ),
    },
    {
        "id": "instant_ddl_limitations-9",
        "repo": "mysql/mysql-server",
        "path": "mysql-test/suite/innodb/r/instant_ddl_limitations.result",
        "commit": "e64e2171b25ed15624163432a71dfbe9e3050556",
        "total_chars": 29254,
        "chunks": ["instant_ddl_limitations.0.json"],
        "version": "9.1.0",
        "flavor": "mysql:9.1.0",
        "version_evidence": (
            "the file shows MAX_ROW_VERSION 255 (raised from 64 in 9.1.0): an "
            "8.4-era or later trunk commit"
        ),
    },
    {
        "id": "instant_ddl_limitations-8.0-polardbx",
        "repo": "polardb/polardbx-engine",
        "path": "mysql-test/suite/innodb/r/instant_ddl_limitations.result",
        "commit": "5633cb96dea68910fcdb67a78f1076d0508f10f2",
        "total_chars": 12065,
        "chunks": ["polardbx_instant_ddl_limitations.0.json"],
        "version": "8.0.32",
        "flavor": "mysql:8.0.32",
        "version_evidence": (
            "PolarDB-X engine is a GPL-2.0 fork of mysql-server 8.0.32 that keeps "
            "MySQL's test files; the file shows MAX_ROW_VERSION 64 (8.0.29-9.0): the "
            "8.0 row-version limit, recorded"
        ),
    },
    {
        "id": "ctype_utf8mb4_innodb",
        "repo": "mysql/mysql-server",
        "path": "mysql-test/r/ctype_utf8mb4_innodb.result",
        "commit": "629e2c5d1670133e40d017eeac625d0c09f5b785",
        "total_chars": 86668,
        "chunks": ["ctype_utf8mb4_innodb.0.json", "ctype_utf8mb4_innodb.13687.json"],
        "version": "8.0.19+",
        "flavor": "mysql:8.0.19",
        "version_evidence": (
            "duplicate-key errors name the key table-qualified ('t1.c', new in "
            "8.0.19) and InnoDB tables default to utf8mb4_0900_ai_ci (8.0); the exact "
            "release of this commit is not shown by the file; prefix of 23,193 "
            "characters (714 lines, up to the DROP after the utf8mb4_bin 'using "
            "btree' table), read in two windows joined at 13,687; its SELECT HEX "
            "rows of repeated bytes and its repeated INSERT/SELECT blocks were "
            "rebuilt from their pattern, every DDL and SHOW CREATE line is as read"
        ),
    },
    {
        "id": "default_row_format_16k-9.7-villagesql",
        "repo": "villagesql/villagesql-server",
        "path": "mysql-test/suite/innodb/r/default_row_format_16k.result",
        "commit": "1557820bdd98f317ec93fadd381f1815e7f8476e",
        "total_chars": 19510,
        "chunks": ["villagesql_default_row_format_16k.0.json"],
        "version": "9.7.2",
        "flavor": "mysql:9.7.2",
        "version_evidence": (
            "VillageSQL Server is a GPL-2.0 tracking fork of mysql-server (its README: "
            "of MySQL 8.4.6 LTS; Docs/merging/recurring-conflicts-9.7.md: since merged "
            "with 9.7) that keeps MySQL's test files; MYSQL_VERSION stored at this same "
            "commit reads 9.7.2 (LTS), so the file is the 9.7.2 tree's; whole file, its "
            "repeated column and key lines rebuilt from their pattern and checked "
            "against both read windows (19,510 characters, the join at 16,000 exact)"
        ),
    },
    {
        "id": "ctype_collate-2025-villagesql",
        "repo": "villagesql/villagesql-server",
        "path": "mysql-test/r/ctype_collate.result",
        "commit": "8395e27001153bd3c7f7504ea3ea07a3a4751b8f",
        "total_chars": 19386,
        "chunks": ["villagesql_ctype_collate.0.json"],
        "version": "8.0.42+ (2025 tree, branch not shown)",
        "flavor": "mysql:8.0.42",
        "version_evidence": (
            "stored in VillageSQL Server (GPL-2.0 fork of mysql-server, see the "
            "default_row_format_16k entry); the file carries the test for "
            "Bug#37412963 (an Oracle bug number of late 2024) and utf8mb3_* collation "
            "names (8.0.30+), so the tree is from 2025 or later, but whether 8.0, 8.4 "
            "or 9.x is not shown: modelled as 8.0.42, the oldest it can be; whole file "
            "(19,386 characters, the join at 16,000 exact), its one-letter sort rows "
            "rebuilt from the read text"
        ),
    },
    {
        "id": "jdv_charset-9.4",
        "repo": "mysql/mysql-server",
        "path": "mysql-test/suite/jdv/r/jdv_charset.result",
        "commit": "7a98d1d1864fe280392b6bb0327cf8789a5639d4",
        "total_chars": 2107,
        "chunks": ["jdv_charset.0.json"],
        "version": "9.4.0+",
        "flavor": "mysql:9.4.0",
        "version_evidence": (
            "a JSON duality view test (CREATE JSON DUALITY VIEW): the reference "
            "manual says MySQL 9.4.0 added JSON duality views (refman 9.4, section "
            "27.7); whole file"
        ),
    },
    {
        "id": "alter_rename_self_referencing_fk-9.4",
        "repo": "mysql/mysql-server",
        "path": "mysql-test/suite/innodb/r/alter_rename_self_referencing_fk.result",
        "commit": "04a3d2e37e13c7224f76008de620ed99c7d242d6",
        "total_chars": 675,
        "chunks": ["alter_rename_self_referencing_fk.0.json"],
        "version": "9.4.0+",
        "flavor": "mysql:9.4.0",
        "version_evidence": (
            "a 9.4+ tree: the same commit carries "
            "mysql-test/suite/jdv/r/jdv_etag_select.result, a JSON duality view test "
            "(views added in MySQL 9.4.0, refman 9.4 section 27.7); whole file"
        ),
    },
    {
        "id": "innodb-index-online-fk-8.4-villagesql",
        "repo": "eatonphil/villagesql-server",
        "path": "mysql-test/suite/innodb/r/innodb-index-online-fk.result",
        "commit": "f8a26b8c9db39d83e781ca3511dbacfd3cf2ef9c",
        "total_chars": 29430,
        "chunks": [
            "villagesql84_innodb-index-online-fk.0.json",
            "villagesql84_innodb-index-online-fk.16000.json",
        ],
        "version": "8.4.6",
        "flavor": "mysql:8.4.6",
        "version_evidence": (
            "an 8.4.6 tree: MYSQL_VERSION stored at this same commit reads 8.4.6 (LTS); "
            "eatonphil/villagesql-server is a copy of VillageSQL Server (GPL-2.0 "
            "tracking fork of mysql-server, see the default_row_format_16k entry) that "
            "keeps MySQL's test files; the file shows 8.4 behaviour "
            "(restrict_fk_on_non_standard_key, new in 8.4.0, and its warning 6124 on "
            "foreign keys over non-unique keys); whole file (29,430 characters, the "
            "join at 16,000 exact)"
        ),
    },
    {
        "id": "partition_autoinc-8.4-villagesql",
        "repo": "eatonphil/villagesql-server",
        "path": "mysql-test/suite/innodb/r/partition_autoinc.result",
        "commit": "f8a26b8c9db39d83e781ca3511dbacfd3cf2ef9c",
        "total_chars": 43708,
        "chunks": [
            "villagesql84_partition_autoinc.0.json",
            "villagesql84_partition_autoinc.16000.json",
        ],
        "version": "8.4.6",
        "flavor": "mysql:8.4.6",
        "version_evidence": (
            "the same 8.4.6 tree as innodb-index-online-fk-8.4-villagesql "
            "(MYSQL_VERSION stored at f8a26b8c reads 8.4.6 LTS); prefix of 31,863 "
            "characters (two read windows, the join at 16,000 exact, the second up to "
            "its last whole SHOW CREATE, in the EXCHANGE PARTITION test), every line "
            "as read"
        ),
    },
    {
        "id": "show_check_ci-8.4-villagesql",
        "repo": "eatonphil/villagesql-server",
        "path": "mysql-test/r/show_check_ci.result",
        "commit": "f8a26b8c9db39d83e781ca3511dbacfd3cf2ef9c",
        "total_chars": 77699,
        "chunks": ["villagesql84_show_check_ci.0.json"],
        "version": "8.4.6",
        "flavor": "mysql:8.4.6",
        "version_evidence": (
            "the same 8.4.6 tree as innodb-index-online-fk-8.4-villagesql "
            "(MYSQL_VERSION stored at f8a26b8c reads 8.4.6 LTS); prefix of 15,923 "
            "characters (the first read window up to its last whole statement, before "
            "the HEAP table t2), every line as read; its SHOW CREATE texts under "
            "sql_quote_show_create=OFF or ANSI_QUOTES are not harvested"
        ),
    },
]
