"""Two introspections of one plan: equal tables are read once (see ``Twin``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from myshift.engine.introspect.build_table import strip_auto_increment
from myshift.engine.introspect.rows import _TABLE_TYPES
from myshift.model.schema import Table

# sql_mode flags known NOT to change how SHOW CREATE TABLE spells a table
# (strictness, dates, GROUP BY and expression rules).  Dev and prod often
# differ in these; any other flag (ANSI_QUOTES, NO_*_OPTIONS, ORACLE,
# NO_BACKSLASH_ESCAPES, one we do not know...) must agree for two texts to
# be compared (see Twin).
_NOT_DISPLAY_MODES = frozenset(
    {
        "ALLOW_INVALID_DATES",
        "EMPTY_STRING_IS_NULL",
        "ERROR_FOR_DIVISION_BY_ZERO",
        "HIGH_NOT_PRECEDENCE",
        "IGNORE_BAD_TABLE_OPTIONS",
        "IGNORE_SPACE",
        "NO_AUTO_CREATE_USER",
        "NO_AUTO_VALUE_ON_ZERO",
        "NO_DIR_IN_CREATE",
        "NO_ENGINE_SUBSTITUTION",
        "NO_UNSIGNED_SUBTRACTION",
        "NO_ZERO_DATE",
        "NO_ZERO_IN_DATE",
        "ONLY_FULL_GROUP_BY",
        "PAD_CHAR_TO_FULL_LENGTH",
        "PIPES_AS_CONCAT",
        "REAL_AS_FLOAT",
        "SIMULTANEOUS_ASSIGNMENT",
        "STRICT_ALL_TABLES",
        "STRICT_TRANS_TABLES",
        "TIME_ROUND_FRACTIONAL",
        "TIME_TRUNCATE_FRACTIONAL",
        "TRADITIONAL",
    }
)


def _display_modes(sql_mode: Any) -> tuple[str, ...]:
    """The sql_mode flags that may change SHOW CREATE TABLE's text."""
    flags = str(sql_mode or "").upper().split(",")
    return tuple(sorted(f for f in flags if f and f not in _NOT_DISPLAY_MODES))


class TwinUnavailable(Exception):
    """The twin an introspection borrows from failed before it built its tables.

    Internal: the twin's own error is the one to report (see make_plan).
    """


class Twin:
    """One introspection's tables, lent to another whose SHOW CREATE TABLE texts match.

    The second side of a plan is mostly the first side's tables.  Skeema
    decides that two tables are the same when their SHOW CREATE TABLE texts
    are; so does a borrower here: a table whose text (AUTO_INCREMENT removed)
    equals the lender's, read in the same context (flavor, sql_mode,
    character_set_collations: what the text's spelling depends on), is the
    lender's Table, and information_schema is asked only about the other
    tables (one ``TABLE_NAME = t`` branch each, see _scoped).  That skips
    most of the second side's modelling and, but for a per-query cost that
    grows with the schema, its server work.  Sound because every structural field of a
    Table is spelled in its text (the self-check renders it back from the
    model; tests/test_twin.py checks that different tables render
    differently), so equal texts cannot hide different tables.

    The lender offers its texts as soon as it has them and its tables once
    built; ``close`` (always called, on failure too) releases a waiting
    borrower: with no texts it reads everything itself, with texts but no
    tables it raises TwinUnavailable.
    """

    # Below this share of equal tables, restricting the queries is not worth it.
    MIN_SHARE = 0.5
    # Nor for a schema of fewer tables than this.
    MIN_TABLES = 100

    def __init__(self) -> None:
        self._texts_ready = threading.Event()
        self._tables_ready = threading.Event()
        self._compared = threading.Event()
        self._context: tuple[Any, ...] | None = None
        self._texts: dict[str, str] = {}
        self._tables: dict[str, Table] | None = None
        self._differing: set[str] | None = None

    # -- lender side
    def offer_texts(self, context: tuple[Any, ...], texts: dict[str, str]) -> None:
        if self._texts_ready.is_set():
            return
        self._texts = {name: strip_auto_increment(text)[0] for name, text in texts.items()}
        self._context = context
        self._texts_ready.set()

    def offer_tables(self, tables: Iterable[Table]) -> None:
        self._tables = {t.name: t for t in tables}
        self._tables_ready.set()

    def close(self) -> None:
        """The lender is done (or failed): a borrower waits no longer."""
        self._texts_ready.set()
        self._tables_ready.set()

    def end_borrowing(self) -> None:
        """The borrower is done (whether it compared the texts or not)."""
        self._compared.set()

    def differing(self) -> dict[str, str] | None:
        """The lender's tables the borrower did not borrow, with their texts.

        Known as soon as the borrower has compared the texts, long before
        either side is modelled (the plan starts its verification copy then);
        None when the borrower borrowed nothing.  Waits for that moment (or
        for ``end_borrowing``).
        """
        self._compared.wait()
        if self._differing is None:
            return None
        return {name: self._texts[name] for name in sorted(self._differing)}

    # -- borrower side
    def same_tables(
        self, context: tuple[Any, ...], texts: dict[str, str], types: dict[str, str]
    ) -> set[str]:
        """Names of the borrower's tables that are the twin's (waits for its texts)."""
        self._texts_ready.wait()
        if self._context is None or self._context != context:
            return set()
        mine = self._texts
        same = {
            name
            for name, text in texts.items()
            if types.get(name) in _TABLE_TYPES and mine.get(name) == strip_auto_increment(text)[0]
        }
        if len(same) < self.MIN_SHARE * max(1, len(texts)):
            same = set()
        else:
            self._differing = set(mine) - same
        self._compared.set()
        return same

    def table(self, name: str) -> Table:
        """The twin's table ``name`` (waits until the twin has built its tables)."""
        self._tables_ready.wait()
        if self._tables is None or name not in self._tables:
            raise TwinUnavailable(name)
        return self._tables[name]
