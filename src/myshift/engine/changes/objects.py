"""Views, routines, triggers, events: metadata only, no rows at stake."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from myshift.engine import ddl
from myshift.engine.changes.base import (
    DEFAULT_OPTIONS,
    NO_SESSION,
    Change,
    RenderOptions,
    Session,
    _literal,
    q,
)
from myshift.engine.definers import account
from myshift.engine.risk import Algorithm, Assessment, Lock, Risk
from myshift.model.flavor import Flavor
from myshift.model.schema import Event, Routine, Trigger, View

UNLOCK_TABLES = "UNLOCK TABLES"
_META = Assessment(Risk.SAFE, Algorithm.INSTANT, Lock.NONE, "")


def _meta(reason: str) -> Assessment:
    return replace(_META, reason=reason)


# Where a re-created trigger goes in its (table, timing, event) group:
# ("FOLLOWS", name) or ("PRECEDES", name). Without it, it goes last.
Anchor = tuple[Literal["FOLLOWS", "PRECEDES"], str] | None


def _create_trigger(t: Trigger, flavor: Flavor, anchor: Anchor, definer: bool) -> str:
    if anchor is None:
        return ddl.create_trigger(t, flavor, definer=definer)
    if anchor[0] == "FOLLOWS":
        return ddl.create_trigger(t, flavor, follows=anchor[1], definer=definer)
    return ddl.create_trigger(t, flavor, precedes=anchor[1], definer=definer)


@dataclass(frozen=True)
class CreateView(Change):
    """CREATE VIEW."""

    view: View

    @property
    def subject(self) -> str:
        return self.view.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return ddl.create_view(self.view, flavor, definer=opts.definers)

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"creates view {self.view.name}")

    def reverse(self) -> Change:
        return DropView(self.view)

    def describe(self) -> str:
        return f"create view {self.view.name}"


@dataclass(frozen=True)
class DropView(Change):
    """DROP VIEW."""

    view: View

    @property
    def subject(self) -> str:
        return self.view.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return f"DROP VIEW {'IF EXISTS ' * opts.if_exists}{q(self.view.name)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"drops view {self.view.name}")

    def reverse(self) -> Change:
        return CreateView(self.view)

    def describe(self) -> str:
        return f"drop view {self.view.name}"


@dataclass(frozen=True)
class AlterView(Change):
    """CREATE OR REPLACE VIEW: one atomic statement, dependants stay valid."""

    before: View
    after: View

    @property
    def subject(self) -> str:
        return self.after.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        sql = ddl.create_view(self.after, flavor, definer=opts.definers)
        if sql.startswith("CREATE ") and not sql.startswith("CREATE OR REPLACE "):
            sql = "CREATE OR REPLACE " + sql[len("CREATE ") :]
        return sql

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"replaces view {self.after.name}")

    def reverse(self) -> Change:
        return AlterView(self.after, self.before)

    def describe(self) -> str:
        return f"replace view {self.after.name}"


@dataclass(frozen=True)
class CreateRoutine(Change):
    """CREATE PROCEDURE / FUNCTION."""

    routine: Routine

    @property
    def subject(self) -> str:
        return self.routine.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return ddl.create_routine(self.routine, flavor, definer=opts.definers)

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"creates {self.routine.kind.lower()} {self.routine.name}")

    def reverse(self) -> Change:
        return DropRoutine(self.routine)

    def describe(self) -> str:
        return f"create {self.routine.kind.lower()} {self.routine.name}"


@dataclass(frozen=True)
class DropRoutine(Change):
    """DROP PROCEDURE / FUNCTION."""

    routine: Routine

    @property
    def subject(self) -> str:
        return self.routine.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        exists = "IF EXISTS " * opts.if_exists
        return f"DROP {self.routine.kind.upper()} {exists}{q(self.routine.name)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"drops {self.routine.kind.lower()} {self.routine.name}")

    def reverse(self) -> Change:
        return CreateRoutine(self.routine)

    def describe(self) -> str:
        return f"drop {self.routine.kind.lower()} {self.routine.name}"


@dataclass(frozen=True)
class CreateTrigger(Change):
    """CREATE TRIGGER (at ``anchor`` in its group when re-created in place)."""

    trigger: Trigger
    anchor: Anchor = None
    # Second half of a swap (see DropTrigger.swap): UNLOCK TABLES after it.
    swap: bool = False

    @property
    def subject(self) -> str:
        return self.trigger.table

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return _create_trigger(self.trigger, flavor, self.anchor, opts.definers)

    def session(self, flavor: Flavor) -> Session:
        return ((), (UNLOCK_TABLES,)) if self.swap else NO_SESSION

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"creates trigger {self.trigger.name}")

    def reverse(self) -> Change:
        return DropTrigger(self.trigger, self.anchor, self.swap)

    def describe(self) -> str:
        return f"create trigger {self.trigger.name} on {self.trigger.table}"


@dataclass(frozen=True)
class DropTrigger(Change):
    """DROP TRIGGER (``anchor``: where its reverse re-creates it).

    ``swap``: first half of a trigger swap where the server has no CREATE OR
    REPLACE TRIGGER (MySQL): ``LOCK TABLES t WRITE`` before it, and the
    CreateTrigger right after it ends with ``UNLOCK TABLES``, so no row is
    written to ``t`` between the drop and the create. The lock also takes the
    tables the old trigger body writes (WRITE) or reads (READ) implicitly;
    DROP and CREATE TRIGGER need only ``t`` locked (checked on MariaDB 10.11,
    whose LOCK TABLES rules are MySQL's here; a MySQL server was not at hand).
    """

    trigger: Trigger
    anchor: Anchor = None
    swap: bool = False

    @property
    def subject(self) -> str:
        return self.trigger.table

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return f"DROP TRIGGER {'IF EXISTS ' * opts.if_exists}{q(self.trigger.name)}"

    def session(self, flavor: Flavor) -> Session:
        return ((f"LOCK TABLES {q(self.trigger.table)} WRITE",), ()) if self.swap else NO_SESSION

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"drops trigger {self.trigger.name}")

    def reverse(self) -> Change:
        return CreateTrigger(self.trigger, self.anchor, self.swap)

    def describe(self) -> str:
        return f"drop trigger {self.trigger.name} on {self.trigger.table}"


@dataclass(frozen=True)
class CreateEvent(Change):
    """CREATE EVENT."""

    event: Event

    @property
    def subject(self) -> str:
        return self.event.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return ddl.create_event(self.event, flavor, definer=opts.definers)

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"creates event {self.event.name}")

    def reverse(self) -> Change:
        return DropEvent(self.event)

    def describe(self) -> str:
        return f"create event {self.event.name}"


@dataclass(frozen=True)
class DropEvent(Change):
    """DROP EVENT."""

    event: Event

    @property
    def subject(self) -> str:
        return self.event.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return f"DROP EVENT {'IF EXISTS ' * opts.if_exists}{q(self.event.name)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"drops event {self.event.name}")

    def reverse(self) -> Change:
        return CreateEvent(self.event)

    def describe(self) -> str:
        return f"drop event {self.event.name}"


@dataclass(frozen=True)
class AlterEvent(Change):
    """A changed event, kept in place: ``CREATE OR REPLACE EVENT`` on MariaDB (the
    server's own CREATE text, one atomic statement), ``ALTER EVENT`` restating
    every attribute on MySQL (no CREATE OR REPLACE EVENT there). Never a drop
    and a create: the event is never missing."""

    before: Event
    after: Event

    @property
    def subject(self) -> str:
        return self.after.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        if flavor.is_mariadb:
            return _or_replace(
                ddl.create_event(self.after, flavor, definer=opts.definers), flavor, "events"
            )
        e = self.after
        sched = f"ON SCHEDULE {e.schedule}"
        if e.starts and e.schedule.upper().startswith("EVERY"):
            sched += f" STARTS {_literal(e.starts)}"
        if e.ends and e.schedule.upper().startswith("EVERY"):
            sched += f" ENDS {_literal(e.ends)}"
        status = {
            "ENABLED": "ENABLE",
            "DISABLED": "DISABLE",
            "SLAVESIDE_DISABLED": "DISABLE ON SLAVE",
        }.get(e.status.upper(), "ENABLE")
        who = f"DEFINER={account(e.definer)} " if opts.definers and e.definer else ""
        return (
            f"ALTER {who}EVENT {q(e.name)} {sched} ON COMPLETION {e.on_completion} {status}"
            f" COMMENT {_literal(e.comment)} DO {e.body_text or e.body}"
        )

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"alters event {self.after.name}")

    def reverse(self) -> Change:
        return AlterEvent(self.after, self.before)

    def describe(self) -> str:
        return f"alter event {self.after.name}"


def _or_replace(sql: str, flavor: Flavor, what: str) -> str:
    """``CREATE …`` as ``CREATE OR REPLACE …`` (MariaDB only for triggers and routines)."""
    if not flavor.is_mariadb:
        raise ValueError(
            f"{flavor} has no CREATE OR REPLACE for {what}: the diff emits an adjacent "
            "drop + create there (DiffOptions.or_replace=False)"
        )
    # The user's own text may spell it "create".
    head = sql[: len("CREATE OR REPLACE ")].upper()
    if head.startswith("CREATE ") and not head.startswith("CREATE OR REPLACE "):
        sql = "CREATE OR REPLACE " + sql[len("CREATE ") :]
    return sql


@dataclass(frozen=True)
class ReplaceRoutine(Change):
    """CREATE OR REPLACE PROCEDURE / FUNCTION (MariaDB): a body change with no gap.

    Callers never see the routine missing, unlike DROP + CREATE. MySQL has no
    such statement; there the diff emits DropRoutine + CreateRoutine adjacent.
    """

    before: Routine
    after: Routine
    mariadb_only = True

    @property
    def subject(self) -> str:
        return self.after.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        sql = ddl.create_routine(self.after, flavor, definer=opts.definers)
        return _or_replace(sql, flavor, "routines")

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"replaces {self.after.kind.lower()} {self.after.name}")

    def reverse(self) -> Change:
        return ReplaceRoutine(self.after, self.before)

    def describe(self) -> str:
        return f"replace {self.after.kind.lower()} {self.after.name}"


@dataclass(frozen=True)
class ReplaceTrigger(Change):
    """CREATE OR REPLACE TRIGGER (MariaDB): no row is written without a trigger.

    MySQL has no such statement; there the diff emits DropTrigger +
    CreateTrigger adjacent.
    """

    before: Trigger
    after: Trigger
    # MariaDB moves a replaced trigger to the end of its group: pin it.
    anchor: Anchor = None
    mariadb_only = True

    @property
    def subject(self) -> str:
        return self.after.table

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        sql = _create_trigger(self.after, flavor, self.anchor, opts.definers)
        return _or_replace(sql, flavor, "triggers")

    def assess(self, flavor: Flavor) -> Assessment:
        return _meta(f"replaces trigger {self.after.name}")

    def reverse(self) -> Change:
        return ReplaceTrigger(self.after, self.before, self.anchor)

    def describe(self) -> str:
        return f"replace trigger {self.after.name} on {self.after.table}"
