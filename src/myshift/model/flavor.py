"""Server vendor and version as one value, passed to every renderer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Vendor(StrEnum):
    MYSQL = "mysql"
    MARIADB = "mariadb"


@dataclass(frozen=True, order=True)
class Flavor:
    """Server vendor and version: every renderer and every online-DDL fact depends on it."""

    vendor: Vendor
    version: tuple[int, int, int]

    @classmethod
    def parse(cls, version: str, comment: str = "") -> Flavor:
        """Build from ``SELECT @@version, @@version_comment``."""
        m = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
        if not m:
            raise ValueError(f"unrecognised server version {version!r}")
        ver = (int(m[1]), int(m[2]), int(m[3]))
        is_maria = "mariadb" in version.lower() or "mariadb" in comment.lower()
        return cls(Vendor.MARIADB if is_maria else Vendor.MYSQL, ver)

    @classmethod
    def from_string(cls, text: str) -> Flavor:
        """Parse ``mariadb:10.11.6`` / ``mysql:8.0.36`` (as written in plan files)."""
        vendor, _, ver = text.partition(":")
        parts = [int(p) for p in ver.split(".")] + [0, 0, 0]
        return cls(Vendor(vendor), (parts[0], parts[1], parts[2]))

    def __str__(self) -> str:
        return f"{self.vendor.value}:{'.'.join(map(str, self.version))}"

    @property
    def is_mariadb(self) -> bool:
        return self.vendor is Vendor.MARIADB

    @property
    def is_mysql(self) -> bool:
        return self.vendor is Vendor.MYSQL

    def min(self, major: int, minor: int = 0, patch: int = 0) -> bool:
        return self.version >= (major, minor, patch)

    def min_mysql(self, major: int, minor: int = 0, patch: int = 0) -> bool:
        return self.is_mysql and self.min(major, minor, patch)

    def min_mariadb(self, major: int, minor: int = 0, patch: int = 0) -> bool:
        return self.is_mariadb and self.min(major, minor, patch)

    @property
    def version_id(self) -> int:
        """The server's MYSQL_VERSION_ID (10.11.19 -> 101119): what ``/*!NNNNN`` compares."""
        major, minor, patch = self.version
        return major * 10000 + minor * 100 + patch

    # ------------------------------------------------------------------------
    # What differs, by name.  Each predicate answers one question the engine
    # asks, with its source; callers never test vendor or version themselves
    # except to pick between two spellings of the same thing (IGNORED vs
    # INVISIBLE, MASTER_GTID_WAIT vs WAIT_FOR_EXECUTED_GTID_SET...).  Values
    # below myshift's floor (MySQL 8.0, MariaDB 10.11) follow the code they
    # replaced, so behaviour there is unchanged too.

    # -- how SHOW CREATE TABLE spells a table ---------------------------------

    @property
    def shows_default_null_on_blobs(self) -> bool:
        """SHOW CREATE prints ``DEFAULT NULL`` on nullable BLOB/TEXT too (MariaDB; MySQL never)."""
        return self.is_mariadb

    @property
    def shows_invisible_before_default(self) -> bool:
        """An invisible column's INVISIBLE comes before DEFAULT: MariaDB < 11.7 (MDEV-35308)."""
        return self.is_mariadb and not self.min(11, 7)

    @property
    def hidden_fk_action(self) -> str:
        """The FK action SHOW CREATE leaves out: NO ACTION on MySQL 8, RESTRICT on MariaDB."""
        return "NO ACTION" if self.is_mysql else "RESTRICT"

    @property
    def always_shows_table_collation(self) -> bool:
        """SHOW CREATE prints ``COLLATE=`` for every table: MariaDB since 10.3.37 / 10.11.1."""
        return self.is_mariadb

    @property
    def shows_collation_unless_primary(self) -> bool:
        """A column's COLLATE is printed unless it is its charset's default (MySQL 8).

        sql/sql_show.cc store_create_info() lines 2078-2105 of 8.0.41 (see
        spelling.charset_spec): CHARACTER SET when the column's
        collation differs from the table's (or was written), COLLATE when it
        is not the charset's primary collation (or was written, or is
        utf8mb4_0900_ai_ci in a table of another collation).  MariaDB prints
        both exactly when the collation differs from the table's.
        """
        return self.is_mysql

    @property
    def shows_integer_display_width(self) -> bool:
        """Integer types keep their display width (``int(11)``): MariaDB, MySQL < 8.0.19.

        MySQL 8.0.19 release notes: statements that print a data type no longer
        show the display width of integer types (deprecated in 8.0.17), except
        TINYINT(1) and ZEROFILL columns; YEAR(4) prints as YEAR.
        """
        return self.is_mariadb or not self.min(8, 0, 19)

    @property
    def shows_written_column_charset(self) -> bool:
        """SHOW CREATE repeats a column charset as written, even the table's own (MySQL 8)."""
        return self.is_mysql

    # -- what the server's catalogue holds ---------------------------------

    @property
    def catalog_default_is_show_create_text(self) -> bool:
        """I_S COLUMN_DEFAULT is spelled as SHOW CREATE prints it: MariaDB 10.2.7 (MDEV-13132)."""
        return self.is_mariadb

    @property
    def catalog_escapes_quotes(self) -> bool:
        """I_S expressions write ``\\'`` for ``'`` (MySQL 8: mysql-test default_as_expr.result)."""
        return self.is_mysql

    @property
    def has_character_set_collations(self) -> bool:
        """``@@character_set_collations`` exists: MariaDB 11.2 (KB "Changing Default Collation")."""
        return self.min_mariadb(11, 2)

    @property
    def has_ordered_json_arrayagg(self) -> bool:
        """``JSON_ARRAYAGG(x ORDER BY y)``: MariaDB 10.5.0 (KB JSON_ARRAYAGG); not MySQL."""
        return self.min_mariadb(10, 5)

    # -- what a table can have -------------------------------------------------

    @property
    def has_compressed_columns(self) -> bool:
        """Columns can be COMPRESSED: MariaDB 10.3 (``/*M!100301 COMPRESSED*/``, MDEV-11371)."""
        return self.is_mariadb

    @property
    def has_column_srid(self) -> bool:
        """Spatial columns carry an SRID attribute: MySQL 8.0.3+ (``/*!80003 SRID``)."""
        return self.is_mysql

    @property
    def has_functional_indexes(self) -> bool:
        """Index parts can be expressions (STATISTICS.EXPRESSION): MySQL 8.0.13+."""
        return self.is_mysql

    @property
    def has_ignorable_indexes(self) -> bool:
        """Indexes can be hidden from the optimizer: MySQL 8.0 INVISIBLE, MariaDB 10.6 IGNORED."""
        return self.is_mysql or self.min(10, 6)

    @property
    def has_unenforced_checks(self) -> bool:
        """CHECK constraints can be NOT ENFORCED: MySQL 8.0.16+; MariaDB always enforces them."""
        return self.is_mysql

    @property
    def has_drop_check(self) -> bool:
        """``ALTER TABLE ... DROP CHECK``: MySQL 8.0.16+; MariaDB only knows DROP CONSTRAINT."""
        return self.is_mysql

    @property
    def has_rename_column(self) -> bool:
        """``ALTER TABLE ... RENAME COLUMN``: MySQL 8.0+, MariaDB 10.5.2+ (MDEV-16290)."""
        return self.is_mysql or self.min(10, 5, 2)

    @property
    def replaces_generated_fk_index(self) -> bool:
        """A new FK replaces its generated index (MariaDB; sqldef case ModifyUnnamedForeignKey)."""
        return self.is_mariadb

    @property
    def child_alter_opens_fk_parents(self) -> bool:
        """A child ALTER may open its FK parents (MySQL: assumed; MariaDB: no, test_plan_verify)."""
        return not self.is_mariadb

    # -- online DDL (refining engine/risk.py's per-vendor tables) --------------

    @property
    def has_instant_add_column_anywhere(self) -> bool:
        """ADD COLUMN anywhere is INSTANT: MySQL 8.0.29 (before: last only); MariaDB, MDEV-15562."""
        return self.is_mariadb or self.min(8, 0, 29)

    @property
    def has_instant_add_column_last(self) -> bool:
        """ADD COLUMN as the last column is INSTANT: MySQL 8.0.12 (WL#11250, manual "Online
        DDL Operations": "INSTANT is the default algorithm as of MySQL 8.0.12"), MariaDB
        10.3.2 (MDEV-11369)."""
        return self.min(10, 3, 2) if self.is_mariadb else self.min(8, 0, 12)

    @property
    def instant_row_version_limit(self) -> int | None:
        """Instant ADD/DROP COLUMNs a table takes before InnoDB must rebuild it.

        MySQL 8.0.29 release notes: "Up to 64 row versions are permitted", counted
        in INFORMATION_SCHEMA.INNODB_TABLES.TOTAL_ROW_VERSIONS (MAX_ROW_VERSION = 64,
        storage/innobase/include/dict0mem.h line 323 of 8.0.41); 255 from MySQL
        9.1.0 (release notes); ha_innobase::check_if_supported_inplace_alter()
        falls back to INPLACE (or refuses ALGORITHM=INSTANT with
        ER_INNODB_MAX_ROW_VERSION) when ``!is_valid_row_version(
        current_row_version + 1)`` (handler0alter.cc lines 1059-1070 of 8.0.41).
        MariaDB keeps no such count.  None: no limit (or no instant ADD/DROP).
        """
        if not self.min_mysql(8, 0, 29):
            return None
        return 255 if self.min(9, 1) else 64

    @property
    def has_instant_drop_column(self) -> bool:
        """DROP COLUMN is INSTANT: MySQL 8.0.29+, MariaDB 10.4+ (MDEV-15562)."""
        return self.min(10, 4) if self.is_mariadb else self.min(8, 0, 29)

    @property
    def has_instant_reorder_column(self) -> bool:
        """Moving a column is INSTANT: MariaDB 10.4+ (MDEV-15562); MySQL rebuilds the table."""
        return self.min_mariadb(10, 4)

    @property
    def has_instant_rename_column(self) -> bool:
        """RENAME COLUMN is INSTANT: MySQL 8.0.28 (release notes); MariaDB in supported versions."""
        return self.is_mariadb or self.min(8, 0, 28)

    # -- sessions, servers, replication ----------------------------------------

    @property
    def has_max_statement_time(self) -> bool:
        """``max_statement_time`` bounds every statement (MariaDB 10.1); MySQL's only SELECTs."""
        return self.is_mariadb

    @property
    def has_server_uuid(self) -> bool:
        """``@@server_uuid`` exists: MySQL 5.6+; MariaDB has none."""
        return self.is_mysql

    @property
    def has_super_read_only(self) -> bool:
        """``super_read_only`` exists: MySQL 5.7.8+; MariaDB has only read_only."""
        return self.is_mysql

    @property
    def has_metadata_lock_info_plugin(self) -> bool:
        """Metadata locks are readable from the METADATA_LOCK_INFO plugin (MariaDB KB page)."""
        return self.is_mariadb

    @property
    def has_replica_syntax(self) -> bool:
        """``SHOW/STOP/RESET REPLICA`` and its column names: MySQL 8.0.22+, MariaDB 10.5.1+."""
        return self.min_mysql(8, 0, 22) or self.min_mariadb(10, 5, 1)


MARIADB_10_11 = Flavor(Vendor.MARIADB, (10, 11, 0))
MYSQL_8_0 = Flavor(Vendor.MYSQL, (8, 0, 36))
MYSQL_8_4 = Flavor(Vendor.MYSQL, (8, 4, 0))
