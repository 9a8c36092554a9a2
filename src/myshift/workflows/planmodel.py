"""What a plan is made of: one statement record, the plan, and how both are derived.

``PlannedStatement`` is the one record of a statement from ``plan`` to the
plan file to the executor to history: ``planned`` renders and assesses the
diff's changes into it, ``file_statements`` adds what the plan file carries
besides (keep-data marks, pre-flight queries), ``PlanFile`` writes and reads
it as JSON (field for field, so plan files keep their format), and the
executor runs it (workflows.runner) and records its risk in history.

``file_statements`` and ``derivation_of`` are pure (no server): ``plan``
fills in the pre-flight counts afterwards, and ``apply`` derives the
statements again and compares (workflows.plancheck).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from myshift.engine.risk import Algorithm, Lock, Risk
from myshift.model import Flavor, Schema

if TYPE_CHECKING:
    from myshift.config.settings import OnlinePolicy
    from myshift.engine.changes import Change, RenderOptions
    from myshift.engine.load import RenameHints


def _render_options() -> RenderOptions:
    from myshift.engine.changes import RenderOptions

    return RenderOptions()


@dataclass(frozen=True)
class PlanOptions:
    """How a plan is made: drops, rename hints, workspace kind, verification, keep-data."""

    allow_drop: bool = False
    hints: RenameHints | None = None
    verify: bool = True
    # Where desired SQL is loaded and the plan verified: "temp" (a temporary
    # schema on the target's server, like Skeema), "local" (a throwaway local
    # server) or a mysql:// URL of a scratch server.
    workspace: str = "temp"
    skip_unsupported: bool = False
    render: RenderOptions = field(default_factory=_render_options)
    # Mark the statements that lose data to keep it (workflows.keepdata); the
    # plan file records it (Derivation).
    keep_data: bool = False
    # Accept desired SQL that defines no object (engine.load.allowing_empty).
    allow_empty: bool = False
    # How the plan shows each blocking statement's path (workflows.online);
    # None: --online auto with the default [online] settings.
    online: OnlinePolicy | None = None
    # How DEFINER is compared and sent: keep | ignore | current (engine.definers).
    definer: str = "keep"


@dataclass(frozen=True)
class Preflight:
    """A query proving a data-dependent statement will succeed: it counts violating rows.

    An empty ``sql``: the check cannot be made before the plan runs (the
    description says why); it is reported, never run.
    """

    description: str
    sql: str
    violations: int | None = None
    # Counts rows the statement deletes by design (DROP PARTITION,
    # engine.preflight.deleted_rows): shown, never a reason to refuse.
    deletes: bool = False

    @property
    def runnable(self) -> bool:
        return bool(self.sql)

    @property
    def fails(self) -> bool:
        """Rows were found that make the statement fail (a reason to refuse)."""
        return bool(self.violations) and not self.deletes


@dataclass(frozen=True)
class PlannedStatement:
    """One statement of a plan: SQL, risk, algorithm, lock, reason, pre-flight checks,
    keep-data marks.  The plan file stores exactly these fields, in this order."""

    sql: str
    subject: str
    description: str
    risk: Risk
    algorithm: Algorithm
    lock: Lock
    reason: str
    # Destructive statements are kept in the plan but not applied without --allow-drop.
    skipped: bool = False
    preflight: tuple[Preflight, ...] = ()
    # Keep-data (see workflows.keepdata): run a soft drop (rename into the
    # holding schema) instead of this DROP TABLE, or back up these columns
    # (with the row key, verified) before the statement runs.
    keep_table: bool = False
    keep_columns: tuple[str, ...] = ()
    # Keep-data for ``DROP PARTITION``: move these partitions' rows into the
    # holding schema (EXCHANGE PARTITION, keepdata.partitions) before it runs.
    keep_partitions: tuple[str, ...] = ()
    # Rollback: this step restores these held objects (held names in the
    # holding schema) instead of running ``sql`` as written; ``sql`` shows what
    # the restore does.
    restore_held: tuple[str, ...] = ()
    # Run on the DDL session right before / right after ``sql`` (Change.session):
    # ``SET SESSION foreign_key_checks = 0`` / ``= 1`` around an unchecked
    # foreign key add, ``LOCK TABLES t WRITE`` / ``UNLOCK TABLES`` around a
    # MySQL trigger swap. Derived, like everything here (workflows.plancheck).
    session_before: tuple[str, ...] = ()
    session_after: tuple[str, ...] = ()
    # Run ``preflight`` again on the DDL session right before ``sql`` and right
    # after it (the server validates no row: workflows.guarded).
    recheck: bool = False
    # The online path (workflows.online): for a statement that blocks writes,
    # the clauses an online schema change tool gets as its --alter, or why it
    # cannot run the statement -- both derived from the change, so apply
    # re-derives them like the SQL.  ``path`` ("server", "pt-osc" or
    # "refused") and ``path_reason`` say what the plan saw; apply decides the
    # path again from live table sizes and never reads them from a file.
    online_alter: str = ""
    online_unfit: str = ""
    path: str = "server"
    path_reason: str = ""

    @property
    def session_marker(self) -> bytes:
        """What plan_hash adds for session statements (nothing without them, so
        plan files made before them hash as they did)."""
        if not (self.session_before or self.session_after or self.recheck):
            return b""
        parts = ["\x1f".join(self.session_before), "\x1f".join(self.session_after)]
        return b"\x03" + "|".join(parts).encode() + (b"|R" if self.recheck else b"")

    @property
    def leaves_tables_locked(self) -> bool:
        """Its session holds LOCK TABLES after it (the first half of a trigger swap)."""
        return any(s.startswith("LOCK TABLES") for s in self.session_before) and not any(
            s == "UNLOCK TABLES" for s in self.session_after
        )

    def with_session(self) -> list[str]:
        """The statement with its session statements, in the order they run."""
        return [*self.session_before, self.sql, *self.session_after]

    @property
    def keeps(self) -> bool:
        """Keep-data keeps what this statement removes (table, column values, partition rows)."""
        return self.keep_table or bool(self.keep_columns) or bool(self.keep_partitions)

    @property
    def keep_marker(self) -> bytes:
        """What plan_hash adds for keep/restore steps (nothing for plain statements,
        so plan files made before keep-data hash as they did; the partition part only
        when set, likewise)."""
        if not (self.keeps or self.restore_held):
            return b""
        parts = ["T" if self.keep_table else "", ",".join(self.keep_columns)]
        parts.append(",".join(self.restore_held))
        if self.keep_partitions:
            parts.append("P" + ",".join(self.keep_partitions))
        return b"\x01" + "|".join(parts).encode()


@dataclass(frozen=True)
class Derivation:
    """The options besides the two snapshots that decided a plan's statements.

    ``apply`` re-derives the statements with exactly these (workflows.plancheck);
    the renames are the ones the diff used (from ``--rename`` and hint comments).
    """

    keep_data: bool = False
    rename_tables: tuple[tuple[str, str], ...] = ()  # (old, new)
    rename_columns: tuple[tuple[str, str, str], ...] = ()  # (table, old column, new column)
    # DiffOptions.definers: DEFINER compared (definer = "keep" / "current").
    # The snapshots already hold the definers the setting asked for.
    definers: bool = False
    # A rollback plan only: the changes made outside myshift that the operator
    # told it to take back (``--take-back-outside-changes``), as it named them.
    take_back: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "keep_data": self.keep_data,
            "rename_tables": [list(r) for r in self.rename_tables],
            "rename_columns": [list(r) for r in self.rename_columns],
            "definers": self.definers,
        }
        if self.take_back:  # only when set, so other plans hash as they did
            data["take_back_outside_changes"] = list(self.take_back)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Derivation:
        tables = tuple((str(a), str(b)) for a, b in data.get("rename_tables", ()))
        columns = tuple((str(t), str(a), str(b)) for t, a, b in data.get("rename_columns", ()))
        take_back = tuple(str(x) for x in data.get("take_back_outside_changes", ()))
        return cls(
            bool(data.get("keep_data")),
            tables,
            columns,
            definers=bool(data.get("definers")),
            take_back=take_back,
        )


@dataclass
class Plan:
    """A verified plan: statements, both models, their fingerprints and timings."""

    target: str
    flavor: Flavor
    statements: list[PlannedStatement]
    from_fingerprint: str
    to_fingerprint: str
    current: Schema
    desired: Schema
    changes: list[Change] = field(default_factory=list, repr=False)
    # What the runnable statements reach (``desired`` but for what is held
    # back without --allow-drop, see engine.holdback); None: ``desired``.
    reached: Schema | None = field(default=None, repr=False)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def runnable(self) -> list[PlannedStatement]:
        return [s for s in self.statements if not s.skipped]

    @property
    def empty(self) -> bool:
        return not self.runnable

    def sql_text(self) -> str:
        """The reviewable migration.sql: skipped statements stay visible as comments."""
        out = [sql + ";" for st in self.runnable for sql in st.with_session()]
        held = held_lines(self.statements)
        out += held[1:] if not out else held
        return "\n".join(out) + ("\n" if out else "")


HELD_HEADER = "-- held back (needs --allow-drop): {n} statement(s), not run by this plan"


def held_lines(statements: Sequence[PlannedStatement], width: int = 80) -> list[str]:
    """The held-back section: what a plan without --allow-drop leaves for later, and why
    (comment lines, after a blank one; the reasons wrapped to ``width``)."""

    held = [s for s in statements if s.skipped]
    if not held:
        return []
    header = HELD_HEADER.format(n=len(held))[3:]
    out = ["", *textwrap.wrap(header, width, initial_indent="-- ", subsequent_indent="--    ")]
    for st in held:
        why = f" — {st.reason}" if st.reason else ""
        text = f"[{st.risk.value}] {st.description}{why}"
        out += textwrap.wrap(text, width, initial_indent="--   ", subsequent_indent="--      ") or [
            "--"
        ]
        for pre in st.preflight:
            if pre.deletes and pre.violations is not None:
                line = f"it deletes {pre.violations:,} row(s) now: {pre.description}"
                out += textwrap.wrap(
                    line, width, initial_indent="--   ", subsequent_indent="--      "
                )
        out += [f"--   {line}" for line in f"{st.sql};".splitlines()]
    return out


# --------------------------------------------------------------------------- deriving


def planned(changes: Iterable[Change], flavor: Flavor, opts: PlanOptions) -> list[PlannedStatement]:
    """The changes rendered for ``flavor`` and assessed (risk, algorithm, lock, reason)."""
    from myshift.engine.online import blocks_writes, osc_alter

    out = []
    for ch in changes:
        a = ch.assess(flavor)
        before, after = ch.session(flavor)
        alter, unfit = osc_alter(ch, flavor) if blocks_writes(a.algorithm, a.lock) else ("", "")
        out.append(
            PlannedStatement(
                sql=ch.render(flavor, opts.render),
                subject=ch.subject,
                description=ch.describe(),
                risk=a.risk,
                algorithm=a.algorithm,
                lock=a.lock,
                reason=a.reason,
                skipped=a.risk is Risk.DESTRUCTIVE and not opts.allow_drop,
                session_before=before,
                session_after=after,
                online_alter=alter,
                online_unfit=unfit,
            )
        )
    return out


def derive(
    current: Schema,
    desired: Schema,
    flavor: Flavor,
    opts: PlanOptions,
    *,
    hints: RenameHints | None = None,
    skip_unsupported: bool = False,
    definers: bool = False,
) -> tuple[list[Change], list[PlannedStatement], Schema]:
    """The plan's changes, their statements and the schema the runnable ones reach.

    With --allow-drop: the diff. Without: only the destructive clauses and what
    needs them are held back (engine.holdback); they follow the runnable
    statements, marked ``skipped``, with the reason.  Pure (no server): plan and
    apply derive the same statements.
    """
    from myshift.engine.diff import DiffOptions, diff_schemas
    from myshift.engine.holdback import hold_back

    options = DiffOptions(
        skip_unsupported=skip_unsupported, or_replace=flavor.is_mariadb, definers=definers
    )
    from myshift.engine.keeppolicy import one_drop_per_kept_partition

    if opts.allow_drop:
        changes = diff_schemas(current, desired, hints=hints, options=options)
        if opts.keep_data:
            changes = one_drop_per_kept_partition(changes)
        return (
            changes,
            with_fk_checks(changes, planned(changes, flavor, opts), desired, flavor),
            desired,
        )
    hb = hold_back(current, desired, flavor, hints=hints, options=options)
    if opts.keep_data:  # what is held back is not kept: its statements stay as they are
        hb = replace(hb, runnable=one_drop_per_kept_partition(hb.runnable))
    held = []
    for st in with_fk_checks(hb.held, planned(hb.held, flavor, opts), desired, flavor):
        why = "; ".join(hb.reasons.get(st.subject, ()))
        if st.risk is not Risk.DESTRUCTIVE:
            st = replace(st, reason=why or f"goes with the held-back change of {st.subject}")
        elif why:  # what waits with the destructive clause, and why
            st = replace(st, reason=f"{st.reason}; {why}" if st.reason else why)
        held.append(replace(st, skipped=True))
    runnable = with_fk_checks(hb.runnable, planned(hb.runnable, flavor, opts), hb.reached, flavor)
    return hb.runnable + hb.held, runnable + held, hb.reached


def with_fk_checks(
    changes: Sequence[Change], statements: list[PlannedStatement], after: Schema, flavor: Flavor
) -> list[PlannedStatement]:
    """Statements that create an FK to a table ``after`` does not have (or drop a table
    such an FK points at) run with foreign_key_checks off for themselves (engine.dangling)."""
    from myshift.engine.changes import AlterTable, CreateTable, DropTable
    from myshift.engine.dangling import ChecksOff, with_checks_off

    if not any(isinstance(ch, CreateTable | AlterTable | DropTable) for ch in changes):
        return statements
    checks = ChecksOff(after)
    out = []
    for ch, st in zip(changes, statements, strict=True):
        why = checks.why(ch)
        if why is not None:
            st = replace(
                st,
                sql=with_checks_off(st.sql, why, flavor),
                reason=f"{st.reason}; {why}" if st.reason else why,
            )
        out.append(st)
    return out


def file_statements(
    statements: Sequence[PlannedStatement],
    changes: Sequence[Change],
    current: Schema,
    keep_data: bool,
) -> list[PlannedStatement]:
    """The plan-file statements of a plan: keep-data marks and pre-flight queries added.

    Pure (no server): ``plan`` fills in the pre-flight counts afterwards, and
    ``apply`` compares the file against this.
    """
    from myshift.engine.keeppolicy import keep_marks, kept_partitions
    from myshift.engine.preflight import deleted_rows, plan_preflights

    out = []
    # The checks follow the statements that run: a skipped one changes nothing.
    runs = [not st.skipped for st in statements]
    found = iter(plan_preflights([ch for ch, r in zip(changes, runs, strict=True) if r], current))
    checks = [next(found) if r else [] for r in runs]
    for st, ch, pre in zip(statements, changes, checks, strict=True):
        keep_table, keep_columns = keep_marks(ch) if keep_data and not st.skipped else (False, ())
        keep_parts = kept_partitions(ch) if keep_data and not st.skipped else ()
        kept = ""
        if keep_table:
            kept = " — keep-data: table moved to the holding schema, restorable by rollback"
        elif keep_parts:
            kept = (
                f" — keep-data: rows of {', '.join(keep_parts)} moved to the holding schema "
                "first (EXCHANGE PARTITION), restorable by rollback"
            )
        elif keep_columns:
            kept = (
                f" — keep-data: {', '.join(keep_columns)} backed up (verified), "
                "restorable by rollback"
            )
        out.append(
            PlannedStatement(
                sql=st.sql,
                subject=st.subject,
                description=st.description + kept,
                risk=st.risk,
                algorithm=st.algorithm,
                lock=st.lock,
                reason=st.reason,
                skipped=st.skipped,
                preflight=(
                    *(Preflight(desc, sql) for desc, sql in pre),
                    *(Preflight(desc, sql, deletes=True) for desc, sql in deleted_rows(ch)),
                ),
                keep_table=keep_table,
                keep_columns=keep_columns,
                keep_partitions=keep_parts,
                session_before=st.session_before,
                session_after=st.session_after,
                recheck=ch.rechecks and not st.skipped,
                online_alter=st.online_alter,
                online_unfit=st.online_unfit,
            )
        )
    return out


def derivation_of(changes: Sequence[Change], keep_data: bool, definers: bool) -> Derivation:
    """What to record so the statements can be derived again: keep-data and the
    renames the diff made (each came from a hint; the others had no effect)."""
    from myshift.engine.changes import AlterTable, RenameColumn, RenameTable

    tables: list[tuple[str, str]] = []
    columns: list[tuple[str, str, str]] = []
    for ch in changes:
        if isinstance(ch, RenameTable):
            tables.append((ch.old, ch.new))
        elif isinstance(ch, AlterTable):
            columns += [
                (ch.table, c.before.name, c.after.name)
                for c in ch.clauses
                if isinstance(c, RenameColumn)
            ]
    return Derivation(keep_data, tuple(tables), tuple(columns), definers)


__all__ = [
    "Derivation",
    "Plan",
    "PlanOptions",
    "PlannedStatement",
    "Preflight",
    "derivation_of",
    "derive",
    "file_statements",
    "held_lines",
    "planned",
    "with_fk_checks",
]
