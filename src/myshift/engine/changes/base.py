"""What every change and ALTER TABLE clause is, and the rendering switches they share.

The helpers with a leading underscore are private to the ``changes`` package.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from myshift.engine import ddl
from myshift.engine.risk import Algorithm, Assessment, Lock, Risk
from myshift.model.flavor import Flavor
from myshift.model.schema import Table


@dataclass(frozen=True)
class RenderOptions:
    """Every rendering / safety switch, in one place (tengo's StatementModifiers)."""

    # Append ``, ALGORITHM=...`` / ``, LOCK=...`` to ALTER TABLE so the server
    # refuses (instead of silently copying / locking) when it cannot comply.
    algorithm: str | None = None
    lock: str | None = None
    # ``DROP ... IF EXISTS`` / ``CREATE TABLE IF NOT EXISTS``: for re-runnable scripts.
    if_exists: bool = False
    if_not_exists: bool = False
    # DEFINER= for views, routines, triggers and events that carry one (the
    # plan decides which do: engine.definers).  Off for workspaces.
    definers: bool = True


DEFAULT_OPTIONS = RenderOptions()

_SAFE_INSTANT = Assessment(Risk.SAFE, Algorithm.INSTANT, Lock.NONE, "")


def q(name: str) -> str:
    return ddl.quote(name)


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


# ---------------------------------------------------------------------------
# Base classes


class Change(ABC):
    """A top-level statement of a plan."""

    @property
    @abstractmethod
    def subject(self) -> str:
        """The table or object this change touches (for grouping and locks)."""

    @abstractmethod
    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str: ...

    @abstractmethod
    def assess(self, flavor: Flavor) -> Assessment: ...

    @abstractmethod
    def reverse(self) -> Change: ...

    @abstractmethod
    def describe(self) -> str: ...

    def session(self, flavor: Flavor) -> Session:
        """Statements to run on the DDL session right before and right after this one
        (``foreign_key_checks=0`` around an unchecked FK add, ``LOCK TABLES`` around
        a MySQL trigger swap). The runner runs them (workflows.guarded)."""
        return NO_SESSION

    @property
    def rechecks(self) -> bool:
        """Whether its pre-flight checks must run again right before and right after
        it on the DDL session (the server validates no row: see AddForeignKey)."""
        return False


# (before, after): session statements around a change's own statement.
Session = tuple[tuple[str, ...], tuple[str, ...]]
NO_SESSION: Session = ((), ())


@dataclass(frozen=True)
class TableStates:
    """The table right before and right after the ALTER a clause belongs to (None:
    unknown).  What a clause costs can depend on the table (engine.risk: FULLTEXT,
    ROW_FORMAT=COMPRESSED, row versions on MySQL) and on where a column lands."""

    before: Table | None = None
    after: Table | None = None
    # Columns of ``before`` that foreign keys (of any table) point at during the ALTER.
    referenced: frozenset[str] = frozenset()


NO_TABLES = TableStates()


class Clause(ABC):
    """One clause of an ALTER TABLE. ``table`` is the table state the clause builds
    towards (column definitions need its charset and column-level checks)."""

    @abstractmethod
    def render(self, flavor: Flavor, table: Table) -> str: ...

    @abstractmethod
    def assess(self, flavor: Flavor, tables: TableStates = NO_TABLES) -> Assessment: ...

    @abstractmethod
    def reverse(self) -> Clause: ...

    @abstractmethod
    def describe(self) -> str: ...


@dataclass(frozen=True)
class Position:
    """``FIRST`` (after is None) or ``AFTER `after```."""

    after: str | None = None

    def render(self) -> str:
        return " FIRST" if self.after is None else f" AFTER {q(self.after)}"


def _pos(p: Position | None) -> str:
    return p.render() if p is not None else ""
