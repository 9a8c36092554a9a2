"""What a change costs: how risky it is for the data, and how the server runs it.

Two questions, answered separately:

* **Risk** is about the rows: can the statement lose data (``DESTRUCTIVE``), or
  fail because of data that is already there (``DATA_DEPENDENT``)?
* **Algorithm / Lock** is about the server: will InnoDB change only metadata
  (``INSTANT``), work in place while writes continue (``INPLACE``), or copy the
  whole table while blocking writes (``COPY``)?

The online-DDL facts live in ONE table per vendor (``_MYSQL`` / ``_MARIADB``),
taken from the MySQL 8.0 manual "Online DDL Operations" and the MariaDB KB
pages "InnoDB Online DDL Operations with the INSTANT / INPLACE / NOCOPY Alter
Algorithm". Version-dependent rows are refined by ``_INSTANT_SINCE``, whose
versions are named predicates on ``Flavor``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from myshift.model.flavor import Flavor


class Risk(StrEnum):
    SAFE = "safe"
    # Can fail on rows that already exist (new UNIQUE, NOT NULL, FK, CHECK...).
    DATA_DEPENDENT = "data-dependent"
    # Loses data: dropped tables/columns, narrowed types, charset conversions.
    DESTRUCTIVE = "destructive"

    @property
    def rank(self) -> int:
        return _RISK_RANK[self]


class Algorithm(StrEnum):
    INSTANT = "INSTANT"
    INPLACE = "INPLACE"
    COPY = "COPY"

    @property
    def rank(self) -> int:
        return _ALGO_RANK[self]


class Lock(StrEnum):
    NONE = "NONE"
    SHARED = "SHARED"
    EXCLUSIVE = "EXCLUSIVE"

    @property
    def rank(self) -> int:
        return _LOCK_RANK[self]


_RISK_RANK = {Risk.SAFE: 0, Risk.DATA_DEPENDENT: 1, Risk.DESTRUCTIVE: 2}
_ALGO_RANK = {Algorithm.INSTANT: 0, Algorithm.INPLACE: 1, Algorithm.COPY: 2}
_LOCK_RANK = {Lock.NONE: 0, Lock.SHARED: 1, Lock.EXCLUSIVE: 2}


@dataclass(frozen=True)
class Assessment:
    """A statement's risk class, expected algorithm and lock, and why."""

    risk: Risk
    algorithm: Algorithm
    lock: Lock
    # One sentence a reviewer can read: why this risk / this algorithm.
    reason: str

    def worst(self, other: Assessment) -> Assessment:
        """Combine two clauses run in one statement: worst risk, costliest algorithm/lock."""
        risk = max(self.risk, other.risk, key=lambda r: r.rank)
        algo = max(self.algorithm, other.algorithm, key=lambda a: a.rank)
        lock = max(self.lock, other.lock, key=lambda lk: lk.rank)
        reasons = [r for r in (self.reason, other.reason) if r]
        return Assessment(risk, algo, lock, "; ".join(dict.fromkeys(reasons)))


def combine(assessments: Iterable[Assessment]) -> Assessment:
    """The assessment of several clauses run as one ALTER TABLE."""
    result = Assessment(Risk.SAFE, Algorithm.INSTANT, Lock.NONE, "")
    for a in assessments:
        result = result.worst(a)
    return result


class Op(StrEnum):
    """ALTER TABLE operations whose online-DDL behaviour the tables below describe."""

    ADD_COLUMN = "add column"
    DROP_COLUMN = "drop column"
    REORDER_COLUMN = "reorder column"
    RENAME_COLUMN = "rename column"
    SET_DEFAULT = "set/drop column default"
    COLUMN_METADATA = "column comment / enum-set append"
    EXTEND_VARCHAR = "extend varchar within its length-byte class"
    CHANGE_TYPE = "change column type"
    MAKE_NULL = "make column NULL"
    MAKE_NOT_NULL = "make column NOT NULL"
    ADD_AUTO_INCREMENT = "add AUTO_INCREMENT column"
    ADD_INDEX = "add secondary index"
    ADD_FULLTEXT = "add FULLTEXT index"
    ADD_SPATIAL = "add SPATIAL index"
    DROP_INDEX = "drop index"
    RENAME_INDEX = "rename index"
    INDEX_VISIBILITY = "change index visibility"
    ADD_PRIMARY = "add primary key"
    DROP_PRIMARY = "drop primary key"
    ADD_FOREIGN_KEY = "add foreign key"
    # With foreign_key_checks=0 in the session: no rows are validated, so no copy
    # (MySQL manual "Online DDL Operations", MariaDB KB "InnoDB Online DDL
    # Operations with the INPLACE Alter Algorithm"; measured on MariaDB 10.11).
    ADD_FOREIGN_KEY_UNCHECKED = "add foreign key with foreign_key_checks=0"
    DROP_FOREIGN_KEY = "drop foreign key"
    ADD_CHECK = "add check constraint"
    # MySQL's NOT ENFORCED checks validate no rows (mysql-test check_constraints.result
    # records ALGORITHM=INPLACE succeeding for them).
    ADD_CHECK_NOT_ENFORCED = "add unenforced check constraint"
    DROP_CHECK = "drop check constraint"
    CONVERT_CHARSET = "convert table character set"
    DEFAULT_CHARSET = "change default character set"
    ROW_FORMAT = "change row format"
    CHANGE_ENGINE = "change storage engine"
    TABLE_COMMENT = "change table comment"
    TABLE_OPTIONS = "change table options"
    PARTITION = "repartition"
    REMOVE_PARTITIONING = "remove partitioning"
    # Partition maintenance that leaves the other partitions alone
    # (engine.changes.partitions).
    ADD_PARTITION = "add range/list partition"
    DROP_PARTITION = "drop partition"
    REORGANIZE_PARTITION = "reorganize partitions"
    RESIZE_HASH_PARTITIONS = "add/coalesce hash partitions"
    RENAME_TABLE = "rename table"


_I, _P, _C = Algorithm.INSTANT, Algorithm.INPLACE, Algorithm.COPY
_N, _S, _X = Lock.NONE, Lock.SHARED, Lock.EXCLUSIVE

# MySQL 8.0 / 8.4, "Online DDL Operations". Rows that depend on the patch
# version (instant ADD/DROP COLUMN anywhere since 8.0.29, instant RENAME COLUMN
# since 8.0.28) are adjusted in online_ddl().
_MYSQL: dict[Op, tuple[Algorithm, Lock]] = {
    Op.ADD_COLUMN: (_I, _N),
    Op.DROP_COLUMN: (_I, _N),
    Op.REORDER_COLUMN: (_P, _N),  # rebuilds the table
    Op.RENAME_COLUMN: (_I, _N),
    Op.SET_DEFAULT: (_I, _N),
    Op.COLUMN_METADATA: (_I, _N),
    Op.EXTEND_VARCHAR: (_P, _N),  # metadata only, but not INSTANT in MySQL
    Op.CHANGE_TYPE: (_C, _S),
    Op.MAKE_NULL: (_P, _N),  # rebuilds
    Op.MAKE_NOT_NULL: (_P, _N),  # rebuilds; needs STRICT mode, fails on NULL rows
    Op.ADD_AUTO_INCREMENT: (_P, _S),
    Op.ADD_INDEX: (_P, _N),
    Op.ADD_FULLTEXT: (_P, _S),  # the first FULLTEXT index rebuilds (FTS_DOC_ID)
    Op.ADD_SPATIAL: (_P, _S),
    Op.DROP_INDEX: (_P, _N),
    # Manual "Online DDL Operations", index table: renaming an index is In Place
    # (metadata only), not Instant: RENAME_INDEX is in INNOBASE_ALTER_NOREBUILD,
    # not INNOBASE_INSTANT_ALLOWED (handler0alter.cc lines 148-166 of 8.0.41).
    Op.RENAME_INDEX: (_P, _N),
    Op.INDEX_VISIBILITY: (_I, _N),
    Op.ADD_PRIMARY: (_P, _N),  # rebuilds; COPY if columns must become NOT NULL
    Op.DROP_PRIMARY: (_C, _S),  # only INPLACE when a new PK is added in the same ALTER
    Op.ADD_FOREIGN_KEY: (_C, _S),  # INPLACE only with foreign_key_checks=0
    Op.ADD_FOREIGN_KEY_UNCHECKED: (_P, _N),
    Op.DROP_FOREIGN_KEY: (_P, _N),
    Op.ADD_CHECK: (_C, _S),  # rows are validated by a table copy
    Op.ADD_CHECK_NOT_ENFORCED: (_P, _N),
    # Only ALGORITHM=INPLACE is recorded for DROP CHECK on MySQL 8.0.
    Op.DROP_CHECK: (_P, _N),
    Op.CONVERT_CHARSET: (_C, _S),
    Op.DEFAULT_CHARSET: (_P, _N),
    Op.ROW_FORMAT: (_P, _N),  # rebuilds
    Op.CHANGE_ENGINE: (_C, _S),
    Op.TABLE_COMMENT: (_P, _N),
    Op.TABLE_OPTIONS: (_P, _N),
    Op.PARTITION: (_C, _S),
    Op.REMOVE_PARTITIONING: (_C, _S),
    # Manual "Online DDL for Partitioning Operations": ADD/DROP PARTITION of
    # RANGE/LIST do not copy data, LOCK=NONE; REORGANIZE and HASH/KEY ADD or
    # COALESCE are INPLACE with at least LOCK=SHARED (risk_sources cites both).
    Op.ADD_PARTITION: (_P, _N),
    Op.DROP_PARTITION: (_P, _N),
    Op.REORGANIZE_PARTITION: (_P, _S),
    Op.RESIZE_HASH_PARTITIONS: (_P, _S),
    Op.RENAME_TABLE: (_I, _X),  # a metadata swap under a brief exclusive MDL
}

# MariaDB 10.11, KB "InnoDB Online DDL Operations with the INSTANT/NOCOPY/INPLACE
# Alter Algorithm". NOCOPY is folded into INPLACE (both keep DML running).
_MARIADB: dict[Op, tuple[Algorithm, Lock]] = {
    Op.ADD_COLUMN: (_I, _N),  # anywhere since 10.4 (last position since 10.3.2)
    Op.DROP_COLUMN: (_I, _N),  # since 10.4
    Op.REORDER_COLUMN: (_I, _N),  # since 10.4
    Op.RENAME_COLUMN: (_I, _N),
    Op.SET_DEFAULT: (_I, _N),
    Op.COLUMN_METADATA: (_I, _N),
    Op.EXTEND_VARCHAR: (_I, _N),
    Op.CHANGE_TYPE: (_C, _S),  # int->bigint too (instant only for ROW_FORMAT=REDUNDANT)
    Op.MAKE_NULL: (_P, _N),  # instant only for ROW_FORMAT=REDUNDANT
    Op.MAKE_NOT_NULL: (_P, _N),
    Op.ADD_AUTO_INCREMENT: (_P, _S),
    Op.ADD_INDEX: (_P, _N),
    Op.ADD_FULLTEXT: (_P, _S),
    Op.ADD_SPATIAL: (_P, _S),
    Op.DROP_INDEX: (_P, _N),
    Op.RENAME_INDEX: (_I, _N),
    Op.INDEX_VISIBILITY: (_I, _N),
    Op.ADD_PRIMARY: (_P, _N),
    Op.DROP_PRIMARY: (_C, _S),
    Op.ADD_FOREIGN_KEY: (_C, _S),  # INPLACE only with foreign_key_checks=0
    Op.ADD_FOREIGN_KEY_UNCHECKED: (_P, _N),
    Op.DROP_FOREIGN_KEY: (_I, _N),
    Op.ADD_CHECK: (_C, _S),
    Op.ADD_CHECK_NOT_ENFORCED: (_C, _S),  # MariaDB has no NOT ENFORCED
    Op.DROP_CHECK: (_I, _N),
    Op.CONVERT_CHARSET: (_C, _S),
    Op.DEFAULT_CHARSET: (_I, _N),
    Op.ROW_FORMAT: (_P, _N),
    Op.CHANGE_ENGINE: (_C, _S),
    Op.TABLE_COMMENT: (_I, _N),
    Op.TABLE_OPTIONS: (_P, _N),
    Op.PARTITION: (_C, _S),
    Op.REMOVE_PARTITIONING: (_C, _S),
    # Measured on 10.11.19 (200,000 rows, one writer; the RANGE cases under load
    # and HASH on --only hash are now bench/partition_live.py):
    # ADD / DROP PARTITION of RANGE/LIST change no row (0 affected, the other
    # partitions keep their InnoDB table ids) and hold writes for 3-9 ms, under
    # the exclusive MDL of fast_alter_partition_table; REORGANIZE moves only
    # the named partitions' rows, writes held meanwhile; ADD PARTITION
    # PARTITIONS / COALESCE re-hash every row (200,084 affected, 0.31 s vs
    # 0.71 s for the re-partition) with writes held.
    Op.ADD_PARTITION: (_I, _X),
    Op.DROP_PARTITION: (_I, _X),
    Op.REORGANIZE_PARTITION: (_P, _S),
    Op.RESIZE_HASH_PARTITIONS: (_C, _S),
    Op.RENAME_TABLE: (_I, _X),
}

# Rows above that are INSTANT only from some version on (MySQL never moves a
# column instantly): where the flavor lacks it, INPLACE.  The versions are
# facts of the flavor (model/flavor.py, with their sources).
_INSTANT_SINCE: dict[Op, Callable[[Flavor], bool]] = {
    Op.ADD_COLUMN: lambda f: f.has_instant_add_column_anywhere,
    Op.DROP_COLUMN: lambda f: f.has_instant_drop_column,
    Op.REORDER_COLUMN: lambda f: f.has_instant_reorder_column,
    Op.RENAME_COLUMN: lambda f: f.has_instant_rename_column,
}


def online_ddl(flavor: Flavor, op: Op) -> tuple[Algorithm, Lock]:
    """The cheapest algorithm and least lock ``flavor`` supports for ``op``."""
    algo, lock = (_MARIADB if flavor.is_mariadb else _MYSQL)[op]
    instant = _INSTANT_SINCE.get(op)
    if instant is not None and not instant(flavor):
        algo = Algorithm.INPLACE
    return algo, lock


def assess_op(flavor: Flavor, op: Op, risk: Risk = Risk.SAFE, reason: str = "") -> Assessment:
    algo, lock = online_ddl(flavor, op)
    return Assessment(risk, algo, lock, reason or op.value)


# ---------------------------------------------------------------------------
# Type changes


class TypeChange(StrEnum):
    SAME = "same"
    # Only metadata changes: VARCHAR longer within its length-byte class,
    # ENUM/SET members appended at the end.
    METADATA = "metadata"
    # Every old value fits, but the rows are rewritten (int -> bigint).
    WIDENING = "widening"
    # Some old values may not fit any more: truncated, rounded or rejected.
    NARROWING = "narrowing"
    # A different family (varchar -> int): fits or not depending on the rows.
    CONVERSION = "conversion"


_INT_BYTES = {"tinyint": 1, "smallint": 2, "mediumint": 3, "int": 4, "integer": 4, "bigint": 8}
_TEXT_SIZES = {"tiny": 1, "": 2, "medium": 3, "long": 4}
_CHARSET_MAXLEN = {
    "utf8mb4": 4,
    "utf8mb3": 3,
    "utf8": 3,
    "ucs2": 2,
    "utf16": 4,
    "utf16le": 4,
    "utf32": 4,
    "binary": 1,
    "latin1": 1,
    "ascii": 1,
}
_FAMILY = {
    **dict.fromkeys(_INT_BYTES, "int"),
    "decimal": "decimal",
    "numeric": "decimal",
    "float": "float",
    "double": "float",
    "char": "char",
    "varchar": "char",
    "binary": "binary",
    "varbinary": "binary",
    **{f"{p}text": "char" for p in _TEXT_SIZES},
    **{f"{p}blob": "binary" for p in _TEXT_SIZES},
    "enum": "enum",
    "set": "set",
    "datetime": "datetime",
    "timestamp": "datetime",
    "time": "time",
    "date": "date",
    "year": "year",
    "bit": "bit",
}

_TYPE_RE = re.compile(r"^\s*([a-z]+)\s*(?:\((.*)\))?\s*(.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class _Type:
    """A column type taken apart for the online-DDL rules (base, length, signedness...)."""

    base: str
    args: str
    unsigned: bool
    zerofill: bool

    @classmethod
    def parse(cls, text: str) -> _Type:
        """Split a catalogue ``COLUMNS.COLUMN_TYPE`` value (server-normalised)."""
        m = _TYPE_RE.match(text)
        if not m:
            return cls(text.lower(), "", False, False)
        rest = m[3].lower()
        return cls(m[1].lower(), m[2] or "", "unsigned" in rest, "zerofill" in rest)

    def nums(self) -> tuple[int, ...]:
        try:
            return tuple(int(x) for x in self.args.split(",") if x.strip())
        except ValueError:
            return ()

    def members(self) -> tuple[str, ...]:
        """ENUM/SET members, as the quoted literals the server prints."""
        return tuple(re.findall(r"'(?:[^']|'')*'", self.args))

    def family(self) -> str:
        return _FAMILY.get(self.base, self.base)


def _fsp(t: _Type) -> int:
    n = t.nums()
    return n[0] if n else 0


def _text_rank(base: str) -> int | None:
    for prefix, rank in _TEXT_SIZES.items():
        if base in (f"{prefix}text", f"{prefix}blob"):
            return rank
    return None


def _length_bytes(chars: int, charset: str | None) -> int:
    """Number of bytes InnoDB uses to store the length of a VARCHAR(chars)."""
    maxlen = _CHARSET_MAXLEN.get((charset or "utf8mb4").lower(), 4)
    return 1 if chars * maxlen <= 255 else 2


def classify_type_change(old: str, new: str, charset: str | None = None) -> tuple[TypeChange, str]:
    """Classify ``old -> new`` COLUMN_TYPE and say why in a short phrase.

    ``charset`` is the column's character set (it decides whether a VARCHAR
    length change stays within its length-byte class).
    """
    a, b = _Type.parse(old), _Type.parse(new)
    if old.strip().lower() == new.strip().lower():
        return TypeChange.SAME, ""
    what = f"{old} -> {new}"
    if a.family() != b.family():
        # Moving between a fixed-size string/blob and text/blob of the same kind
        # is in the family table; anything else converts values.
        return TypeChange.CONVERSION, f"{what} converts values between types"
    rule = _FAMILY_RULES.get(a.family())
    if rule is None:
        return TypeChange.CONVERSION, f"{what} changes the type"
    return rule(a, b, what, charset)


# One rule per type family: (old, new, "old -> new", charset) -> change and why.
_Rule = Callable[[_Type, _Type, str, str | None], tuple[TypeChange, str]]


def _int_change(a: _Type, b: _Type, what: str, charset: str | None) -> tuple[TypeChange, str]:
    old_bytes, new_bytes = _INT_BYTES[a.base], _INT_BYTES[b.base]
    if a.unsigned and not b.unsigned:
        narrow = new_bytes <= old_bytes
    elif b.unsigned and not a.unsigned:
        narrow = True  # negative values no longer fit
    else:
        narrow = new_bytes < old_bytes
    if narrow:
        return TypeChange.NARROWING, f"{what} narrows the integer range"
    if old_bytes == new_bytes and a.unsigned == b.unsigned:
        # Only display width / zerofill differ.
        return TypeChange.METADATA, f"{what} changes display attributes only"
    return TypeChange.WIDENING, f"{what} widens the integer (rows are rewritten)"


def _string_change(a: _Type, b: _Type, what: str, charset: str | None) -> tuple[TypeChange, str]:
    """CHAR/VARCHAR/TEXT and BINARY/VARBINARY/BLOB (the family is one kind of the two)."""
    ra, rb = _text_rank(a.base), _text_rank(b.base)
    if ra is not None or rb is not None:
        if ra is None:
            return TypeChange.WIDENING, f"{what} moves to a larger text type"
        if rb is None or rb < ra:
            return TypeChange.NARROWING, f"{what} may truncate long values"
        return TypeChange.WIDENING, f"{what} moves to a larger text type"
    la, lb = (a.nums() or (1,))[0], (b.nums() or (1,))[0]
    if lb < la:
        return TypeChange.NARROWING, f"{what} may truncate values longer than {lb}"
    if a.base != b.base:
        return TypeChange.WIDENING, f"{what} changes fixed/variable length storage"
    if a.base.startswith("var") and _length_bytes(la, charset) == _length_bytes(lb, charset):
        return TypeChange.METADATA, f"{what} extends the length in place"
    return TypeChange.WIDENING, f"{what} extends the length (rows are rewritten)"


def _decimal_change(a: _Type, b: _Type, what: str, charset: str | None) -> tuple[TypeChange, str]:
    pa, sa = _precision_scale(a)
    pb, sb = _precision_scale(b)
    if pb - sb < pa - sa:
        return TypeChange.NARROWING, f"{what} has fewer integer digits"
    if sb < sa:
        return TypeChange.NARROWING, f"{what} rounds away decimal places"
    if a.unsigned != b.unsigned and b.unsigned:
        return TypeChange.NARROWING, f"{what} rejects negative values"
    return TypeChange.WIDENING, f"{what} widens the decimal"


def _float_change(a: _Type, b: _Type, what: str, charset: str | None) -> tuple[TypeChange, str]:
    if a.base == "double" and b.base == "float":
        return TypeChange.NARROWING, f"{what} loses precision"
    if b.unsigned and not a.unsigned:
        return TypeChange.NARROWING, f"{what} rejects negative values"
    return TypeChange.WIDENING, f"{what} widens the floating point type"


def _members_change(a: _Type, b: _Type, what: str, charset: str | None) -> tuple[TypeChange, str]:
    """ENUM and SET: stored as member indexes, so only the order of old members matters."""
    ma, mb = a.members(), b.members()
    removed = [m for m in ma if m not in mb]
    if removed:
        return TypeChange.NARROWING, f"{what} removes member(s) {', '.join(removed)}"
    if mb[: len(ma)] == ma:
        # Appending at the end keeps every stored index: metadata only, unless
        # the storage size grows (ENUM past 255 members, SET past 8/16/...).
        fam = a.family()
        if _enum_bytes(fam, len(ma)) == _enum_bytes(fam, len(mb)):
            return TypeChange.METADATA, f"{what} appends member(s)"
        return TypeChange.WIDENING, f"{what} appends member(s) and grows storage"
    return TypeChange.WIDENING, f"{what} reorders members (rows are rewritten, sort changes)"


def _temporal_change(a: _Type, b: _Type, what: str, charset: str | None) -> tuple[TypeChange, str]:
    if _fsp(b) < _fsp(a):
        return TypeChange.NARROWING, f"{what} rounds fractional seconds"
    if a.base != b.base:
        return TypeChange.CONVERSION, f"{what} converts between DATETIME and TIMESTAMP"
    return TypeChange.WIDENING, f"{what} adds fractional-second precision"


def _bit_change(a: _Type, b: _Type, what: str, charset: str | None) -> tuple[TypeChange, str]:
    if (b.nums() or (1,))[0] < (a.nums() or (1,))[0]:
        return TypeChange.NARROWING, f"{what} drops bits"
    return TypeChange.WIDENING, f"{what} widens the bit field"


# Families without a rule (date, year, unknown types) change the type: CONVERSION.
_FAMILY_RULES: dict[str, _Rule] = {
    "int": _int_change,
    "char": _string_change,
    "binary": _string_change,
    "decimal": _decimal_change,
    "float": _float_change,
    "enum": _members_change,
    "set": _members_change,
    "datetime": _temporal_change,
    "time": _temporal_change,
    "bit": _bit_change,
}


def _precision_scale(t: _Type) -> tuple[int, int]:
    n = t.nums()
    return (n[0] if n else 10, n[1] if len(n) > 1 else 0)


def _enum_bytes(family: str, count: int) -> int:
    if family == "enum":
        return 1 if count <= 255 else 2
    return (count + 7) // 8 if count <= 32 else 8
