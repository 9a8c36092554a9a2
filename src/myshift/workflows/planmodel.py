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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from myshift.engine.risk import Algorithm, Lock, Risk
from myshift.model import Flavor, Schema

if TYPE_CHECKING:
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


@dataclass(frozen=True)
class Preflight:
    """A query proving a data-dependent statement will succeed: it counts violating rows."""

    description: str
    sql: str
    violations: int | None = None


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
    # Rollback: this step restores these held objects (held names in the
    # holding schema) instead of running ``sql`` as written; ``sql`` shows what
    # the restore does.
    restore_held: tuple[str, ...] = ()

    @property
    def keep_marker(self) -> bytes:
        """What plan_hash adds for keep/restore steps (nothing for plain statements,
        so plan files made before keep-data hash as they did)."""
        if not (self.keep_table or self.keep_columns or self.restore_held):
            return b""
        parts = ["T" if self.keep_table else "", ",".join(self.keep_columns)]
        parts.append(",".join(self.restore_held))
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
    # A rollback plan only: the changes made outside myshift that the operator
    # told it to take back (``--take-back-outside-changes``), as it named them.
    take_back: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "keep_data": self.keep_data,
            "rename_tables": [list(r) for r in self.rename_tables],
            "rename_columns": [list(r) for r in self.rename_columns],
        }
        if self.take_back:  # only when set, so other plans hash as they did
            data["take_back_outside_changes"] = list(self.take_back)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Derivation:
        tables = tuple((str(a), str(b)) for a, b in data.get("rename_tables", ()))
        columns = tuple((str(t), str(a), str(b)) for t, a, b in data.get("rename_columns", ()))
        take_back = tuple(str(x) for x in data.get("take_back_outside_changes", ()))
        return cls(bool(data.get("keep_data")), tables, columns, take_back)


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
        out = []
        for st in self.statements:
            if st.skipped:
                out.append(f"-- skipped ({st.risk.value}): {st.sql};")
            else:
                out.append(f"{st.sql};")
        return "\n".join(out) + ("\n" if out else "")


# --------------------------------------------------------------------------- deriving


def planned(changes: Iterable[Change], flavor: Flavor, opts: PlanOptions) -> list[PlannedStatement]:
    """The changes rendered for ``flavor`` and assessed (risk, algorithm, lock, reason)."""
    out = []
    for ch in changes:
        a = ch.assess(flavor)
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
            )
        )
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
    from myshift.engine.keeppolicy import keep_marks
    from myshift.engine.preflight import preflight_checks

    out = []
    for st, ch in zip(statements, changes, strict=True):
        keep_table, keep_columns = keep_marks(ch) if keep_data and not st.skipped else (False, ())
        kept = ""
        if keep_table:
            kept = " — keep-data: table moved to the holding schema, restorable by rollback"
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
                preflight=tuple(
                    Preflight(desc, sql) for desc, sql in preflight_checks(ch, current)
                ),
                keep_table=keep_table,
                keep_columns=keep_columns,
            )
        )
    return out


def derivation_of(changes: Sequence[Change], keep_data: bool) -> Derivation:
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
    return Derivation(keep_data, tuple(tables), tuple(columns))


__all__ = [
    "Derivation",
    "Plan",
    "PlanOptions",
    "PlannedStatement",
    "Preflight",
    "derivation_of",
    "file_statements",
    "planned",
]
