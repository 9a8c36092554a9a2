"""What MySQL's SHOW CREATE TABLE text says that its catalogue does not.

Pure.  The server's text is compared with renderings of the model, never
parsed, except for the table options after the closing parenthesis, where
``unsupported_feature`` looks for what myshift keeps out of every plan.
"""

from __future__ import annotations

import re
from dataclasses import replace

from myshift.engine import ddl
from myshift.model.flavor import Flavor
from myshift.model.schema import Table

_TABLESPACE_RE = re.compile(r"/\*!50100 TABLESPACE (`(?:[^`]|``)*`)")
_SECONDARY_RE = re.compile(r" SECONDARY_ENGINE=(`(?:[^`]|``)*`|\S+)")


def unsupported_feature(create_sql: str) -> str | None:
    """Why a table is kept out of every plan whatever the self-check says, naming it.

    In the table options after the closing parenthesis (sql/sql_show.cc
    store_create_info(),
    MySQL 8.0.41 tree as imported in enhancedformysql/mysql-8.0.41 @
    45d7407ae7a3609d6cea57d5215415b0aaa79766: ``/*!50100 TABLESPACE `ts` */``
    only for an explicit tablespace, lines 2334-2350; ``SECONDARY_ENGINE=`` line 2556):
    myshift would not carry either into the statements it plans, so such a
    table is never diffed.
    """
    cut = create_sql.rfind("\n)")
    options = create_sql[cut:] if cut >= 0 else ""
    m = _TABLESPACE_RE.search(options)
    if m:
        return (
            f"it names TABLESPACE {m.group(1)}: tables with an explicit TABLESPACE are not "
            "supported (the statements myshift plans would not keep it)"
        )
    m = _SECONDARY_RE.search(options)
    if m:
        return (
            f"it has SECONDARY_ENGINE={m.group(1)}: tables with a secondary engine are not "
            "supported (ALTER TABLE ... SECONDARY_ENGINE=NULL first)"
        )
    return None


def without_gipk(table: Table, flavor: Flavor) -> Table:
    """The table with its generated invisible primary key taken out (``Table.gipk``).

    MySQL 8.0.30+ with sql_generate_invisible_primary_key=ON gives a table
    created without a PRIMARY KEY a first column ``my_row_id`` (COLUMNS.EXTRA
    ``auto_increment INVISIBLE``; SHOW CREATE ``/*!80023 INVISIBLE */``) and a
    PRIMARY KEY on it.  Recognised as the server does (sql/sql_gipk.cc of the
    MySQL 8.0.41 tree as imported in enhancedformysql/mysql-8.0.41 @
    45d7407ae7a3609d6cea57d5215415b0aaa79766: generate_invisible_primary_key()
    lines 153-184 makes the pair; is_generated_invisible_primary_key_column()
    lines 448-465: first column, my_row_id, bigint unsigned NOT NULL
    AUTO_INCREMENT, hidden by user; the key a single-part PRIMARY; never on a
    partitioned table, lines 484-487).  The server keeps it first itself when
    columns are added before it (lines 191-243).
    """
    if (
        not flavor.min_mysql(8, 0, 30)
        or not table.columns
        or not table.indexes
        or table.partitioning is not None
    ):
        return table
    first, pk = table.columns[0], table.indexes[0]
    if (
        first != ddl.GIPK_COLUMN
        or not pk.is_primary
        or [(p.column, p.length, p.descending) for p in pk.parts] != [("my_row_id", None, False)]
    ):
        return table
    return replace(table, columns=table.columns[1:], indexes=table.indexes[1:], gipk=True)


def with_written_collations(table: Table, flavor: Flavor) -> Table:
    """The table with each column's ``explicit_collation`` learnt from the server's text.

    MySQL 8 prints CHARACTER SET and COLLATE for every column whose collation
    was written in its definition (dd::Column::is_explicit_collation(), read by
    sql_show.cc store_create_info() lines 2078-2082 of 8.0.41, see
    spelling.charset_spec), which no catalogue table exposes.  For each string
    column whose line the model renders differently, the written variant is
    tried: the server's text is compared, never parsed.  Columns are the
    lines that start with a backtick, in order; any other count leaves the
    table as it is (the self-check then says what differs).
    """
    if not flavor.shows_written_column_charset:
        return table
    lines = [
        line.strip().rstrip(",") for line in table.create_sql.split("\n") if line.startswith("  `")
    ][1 if table.gipk else 0 :]
    if len(lines) != len(table.columns):
        return table
    columns = list(table.columns)
    changed = False
    for n, (col, line) in enumerate(zip(columns, lines, strict=True)):
        if col.charset is None or col.explicit_collation:
            continue
        if ddl.column_definition(col, table, flavor) == line:
            continue
        written = replace(col, explicit_collation=True)
        if ddl.column_definition(written, table, flavor) == line:
            columns[n], changed = written, True
    return replace(table, columns=tuple(columns)) if changed else table
