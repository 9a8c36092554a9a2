"""The row format of a kept partition's held table: EXCHANGE needs the partition's own.

``EXCHANGE PARTITION`` compares the row format InnoDB really stores each side
in (MariaDB ``compare_table_with_partition``: 1731 "Non matching attribute
'ROW_FORMAT' between partition and table"; MySQL manual, ``sql.MANUAL_EXCHANGE``:
"both tables must use the same row format ... query
INFORMATION_SCHEMA.INNODB_TABLES").  A partition keeps the
``innodb_default_row_format`` of the day it was made, while ``CREATE TABLE
... LIKE`` + ``REMOVE PARTITIONING`` gives the held table today's (or the
table's declared ROW_FORMAT).  That variable is GLOBAL only (``SET SESSION``:
1229 on MariaDB 10.11), and a GLOBAL is never changed on a live server.

So the held table names the partition's format explicitly when it would
otherwise differ.  The declared format is not compared, with one exception
(measured on MariaDB 10.11.19, every pair of Redundant/Compact/Dynamic):
``ROW_FORMAT=DYNAMIC`` marks the table's options "packed"
(``HA_OPTION_PACK_RECORD``), which a table with a VARCHAR or BLOB/TEXT column
is anyway; on a table with neither, the held table's options then differ
and EXCHANGE says 1736 "Tables have different definitions".  That case
(a DYNAMIC partition of such a table, on a server whose default is no longer
DYNAMIC) is refused before anything runs (``RowFormatMismatch``).

On the way back (rollback) the partition was re-created under the default of
that moment: the held table is rebuilt to match first (``match_row_format``;
``ROW_FORMAT=DEFAULT`` when that is the default's, which never trips 1736).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from myshift.db.connect import DriverError
from myshift.db.privileges import PRIVILEGE_CODES
from myshift.engine.introspect.heldcatalog import (
    filename_spelling,
    innodb_row_formats,
    table_columns,
)
from myshift.errors import UnsafeError
from myshift.workflows.keepdata.sql import qualified

if TYPE_CHECKING:
    from myshift.db.connect import Conn
    from myshift.workflows.keepdata.records import HeldPartition

ROW_FORMATS = frozenset({"REDUNDANT", "COMPACT", "DYNAMIC", "COMPRESSED"})

# Columns that make a table "packed" whatever its ROW_FORMAT (VARCHAR, BLOB/TEXT
# and what is stored as them); an unknown type counts as not packed (refused).
_PACKED = frozenset(
    {
        "varchar",
        "varbinary",
        "tinyblob",
        "blob",
        "mediumblob",
        "longblob",
        "tinytext",
        "text",
        "mediumtext",
        "longtext",
        "json",
        "geometry",
        "point",
        "linestring",
        "polygon",
        "multipoint",
        "multilinestring",
        "multipolygon",
        "geometrycollection",
    }
)


class RowFormatUnknown(UnsafeError):
    """The row format a kept partition is stored in could not be read."""

    def __init__(self, what: str, reason: str, *, privilege: bool = False) -> None:
        super().__init__(
            f"Cannot keep the rows of {what}: the row format InnoDB stores them in could not "
            f"be read ({reason}), and the table they are swapped into must have the same; "
            "nothing was run.",
            "Grant PROCESS to the applying user, or plan without --keep-data (--no-keep-data; "
            "--allow-drop then drops those rows for good).",
        )
        self.privilege = privilege


class RowFormatMismatch(UnsafeError):
    """No held table can have the partition's row format (see the module doc)."""

    def __init__(self, schema: str, table: str, part: str, stored: str, held: str) -> None:
        super().__init__(
            f"Cannot keep the rows of partition {part} of `{schema}`.`{table}`: it is stored "
            f"ROW_FORMAT={stored} (the server's default when it was made), a table made now "
            f"would be ROW_FORMAT={held} (innodb_default_row_format), and naming {stored} "
            "on a table without VARCHAR or BLOB/TEXT columns makes the server refuse the swap "
            "(1736); nothing was run.",
            f"Rebuild the table first (ALTER TABLE `{table}` FORCE, in its own apply: every "
            f"partition then becomes {held}), or plan without --keep-data for it "
            "(--no-keep-data; --allow-drop then drops those rows for good).",
        )


def stored_row_formats(
    conn: Conn, schema: str, table: str, partitions: Sequence[str]
) -> dict[str, str]:
    """The row format each of ``partitions`` is stored in (upper case; '' when the
    table is not InnoDB).  Raises ``RowFormatUnknown`` when it cannot be read."""
    what = f"partition {', '.join(partitions)} of `{schema}`.`{table}`"
    try:
        stored = innodb_row_formats(conn, schema, table)
    except DriverError as exc:
        if exc.args and exc.args[0] in PRIVILEGE_CODES:
            reason = "reading information_schema.INNODB_SYS_TABLES / INNODB_TABLES needs PROCESS"
            raise RowFormatUnknown(what, reason, privilege=True) from None
        raise RowFormatUnknown(what, str(exc.args[1] if len(exc.args) > 1 else exc)) from None
    if stored is None:
        return dict.fromkeys(partitions, "")
    out: dict[str, str] = {}
    for part in partitions:
        fmt = stored.get(filename_spelling(conn, part).lower(), "").upper()
        if fmt not in ROW_FORMATS:
            said = f"InnoDB's dictionary says {fmt!r}" if fmt else "no entry in InnoDB's dictionary"
            raise RowFormatUnknown(f"partition {part} of `{schema}`.`{table}`", said)
        out[part] = fmt
    return out


def _made_now(conn: Conn, schema: str, table: str) -> str:
    """The row format a table made now LIKE ``table`` gets: its declared one, else
    the server's current default (upper case)."""
    options = conn.scalar(
        "SELECT CREATE_OPTIONS FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
        (schema, table),
    )
    declared = re.search(r"\brow_format=(\w+)", str(options or ""), re.IGNORECASE)
    if declared:
        return declared.group(1).upper()
    return str(conn.scalar("SELECT @@GLOBAL.innodb_default_row_format")).upper()


def held_row_formats(
    conn: Conn, schema: str, table: str, partitions: Sequence[str]
) -> dict[str, str]:
    """The ROW_FORMAT each partition's held table must name ('' = none needed).

    Raises ``RowFormatUnknown`` / ``RowFormatMismatch`` (before anything runs).
    """
    stored = stored_row_formats(conn, schema, table, partitions)
    out = dict.fromkeys(partitions, "")
    if not any(stored.values()):
        return out
    now = _made_now(conn, schema, table)
    packed = any(c.data_type.lower() in _PACKED for c in table_columns(conn, schema, table))
    for part, fmt in stored.items():
        if fmt in ("", now, "COMPRESSED"):  # COMPRESSED comes from declared options LIKE copies
            continue
        if fmt == "DYNAMIC" and not packed:
            raise RowFormatMismatch(schema, table, part, fmt, now)
        out[part] = fmt
    return out


def match_row_format(conn: Conn, held: HeldPartition, dest: str) -> str:
    """Rebuild the held table in the row format of its (re-created) partition when
    they differ; returns what changed ("Dynamic -> Compact", '' for nothing).
    Unreadable: left as is (the swap then says what differs)."""
    try:
        (part,) = stored_row_formats(conn, dest, held.table, [held.partition]).values()
        mine = (innodb_row_formats(conn, held.holding, held.held_name) or {}).get("", "").upper()
    except (DriverError, UnsafeError):
        return ""
    if not part or not mine or part == mine:
        return ""
    option = "DEFAULT" if _made_now(conn, dest, held.table) == part else part
    conn.execute(f"ALTER TABLE {qualified(held.holding, held.held_name)} ROW_FORMAT={option}")
    return f"{mine.capitalize()} -> {part.capitalize()}"
