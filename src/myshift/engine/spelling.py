"""How SHOW CREATE TABLE spells a column's type and character set, per flavor.

Pure functions of (model object, Flavor), used by engine/ddl.py's column lines
and by introspection (the type MySQL 8.0.19+ would print).
"""

from __future__ import annotations

import re

from myshift.model.flavor import Flavor
from myshift.model.schema import Column, Table

# Default collation of each character set on MySQL 8 (MariaDB always prints
# COLLATE, so it needs no table).  An unknown charset makes us print COLLATE;
# if the server did not, the self-check flags the table instead of guessing.
MYSQL_DEFAULT_COLLATION = {
    "armscii8": "armscii8_general_ci",
    "ascii": "ascii_general_ci",
    "big5": "big5_chinese_ci",
    "binary": "binary",
    "cp1250": "cp1250_general_ci",
    "cp1251": "cp1251_general_ci",
    "cp1256": "cp1256_general_ci",
    "cp1257": "cp1257_general_ci",
    "cp850": "cp850_general_ci",
    "cp852": "cp852_general_ci",
    "cp866": "cp866_general_ci",
    "cp932": "cp932_japanese_ci",
    "dec8": "dec8_swedish_ci",
    "eucjpms": "eucjpms_japanese_ci",
    "euckr": "euckr_korean_ci",
    "gb18030": "gb18030_chinese_ci",
    "gb2312": "gb2312_chinese_ci",
    "gbk": "gbk_chinese_ci",
    "geostd8": "geostd8_general_ci",
    "greek": "greek_general_ci",
    "hebrew": "hebrew_general_ci",
    "hp8": "hp8_english_ci",
    "keybcs2": "keybcs2_general_ci",
    "koi8r": "koi8r_general_ci",
    "koi8u": "koi8u_general_ci",
    "latin1": "latin1_swedish_ci",
    "latin2": "latin2_general_ci",
    "latin5": "latin5_turkish_ci",
    "latin7": "latin7_general_ci",
    "macce": "macce_general_ci",
    "macroman": "macroman_general_ci",
    "sjis": "sjis_japanese_ci",
    "swe7": "swe7_swedish_ci",
    "tis620": "tis620_thai_ci",
    "ucs2": "ucs2_general_ci",
    "ujis": "ujis_japanese_ci",
    "utf16": "utf16_general_ci",
    "utf16le": "utf16le_general_ci",
    "utf32": "utf32_general_ci",
    "utf8": "utf8_general_ci",  # utf8mb3's name before 8.0.30
    "utf8mb3": "utf8mb3_general_ci",
    "utf8mb4": "utf8mb4_0900_ai_ci",
}


_UTF8MB4_0900 = "utf8mb4_0900_ai_ci"


def charset_spec(col: Column, table: Table, flavor: Flavor) -> str:
    """The CHARACTER SET / COLLATE words of a string column's SHOW CREATE line.

    MariaDB (since 10.3.37/10.11.1) prints both exactly when the column's
    collation differs from the table's.  MySQL 8 follows its own rule, ported
    from sql/sql_show.cc store_create_info(), lines 2078-2105 of the
    MySQL 8.0.41 tree as imported in enhancedformysql/mysql-8.0.41 @
    45d7407ae7a3609d6cea57d5215415b0aaa79766
    (the same text is in mysql/mysql-server at
    6b977a8984a97984019be707b3a9c83c8621bc41, 8.0.12 era):

        if (field->charset() != share->table_charset ||
            column_has_explicit_collation)            -> " CHARACTER SET cs"
        if (!(field->charset()->state & MY_CS_PRIMARY) ||
            column_has_explicit_collation ||
            (field->charset() == &my_charset_utf8mb4_0900_ai_ci &&
             share->table_charset != &my_charset_utf8mb4_0900_ai_ci))
                                                      -> " COLLATE coll"

    (``field->charset()`` is a collation; ``MY_CS_PRIMARY`` marks a charset's
    default collation, the MYSQL_DEFAULT_COLLATION table above.)  So a
    ``utf8mb4_bin`` column of a ``utf8mb4_bin`` table prints ``COLLATE
    utf8mb4_bin`` alone.  ``col.explicit_collation`` is the DD's
    is_explicit_collation(), learnt from the server's text by introspection.
    An unknown charset counts as non-primary: COLLATE is printed, and the
    self-check refuses the table if the server did not.
    """
    if not flavor.shows_collation_unless_primary:
        if col.collation != table.collation:
            return f"CHARACTER SET {col.charset} COLLATE {col.collation}"
        return ""
    explicit = col.explicit_collation
    words = []
    if col.collation != table.collation or explicit:
        words.append(f"CHARACTER SET {col.charset}")
    primary = MYSQL_DEFAULT_COLLATION.get(col.charset or "") == col.collation
    if (
        not primary
        or explicit
        or (col.collation == _UTF8MB4_0900 and table.collation != _UTF8MB4_0900)
    ):
        words.append(f"COLLATE {col.collation}")
    return " ".join(words)


_DISPLAY_WIDTH = re.compile(r"^(tinyint|smallint|mediumint|int|bigint|year)\((\d+)\)(.*)$")


def width_free_type(col_type: str) -> str:
    """``int(11) unsigned`` -> ``int unsigned``: how MySQL 8.0.19+ prints the type.

    Release notes 8.0.19: integer display widths are no longer shown, except
    TINYINT(1) and ZEROFILL columns; YEAR(4) is shown as YEAR.
    """
    m = _DISPLAY_WIDTH.match(col_type)
    if m is None or "zerofill" in m.group(3) or (m.group(1), m.group(2)) == ("tinyint", "1"):
        return col_type
    return m.group(1) + m.group(3)
