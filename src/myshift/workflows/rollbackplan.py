"""The reverse plan of an apply: from the target now back to its pre-apply snapshot.

``myshift rollback`` (workflows.rollback) shows and applies it; apply derives
it again from history before running a rollback plan file (workflows.plancheck).

History keeps, for every apply, the model of the target *before* it ran
(``ApplyDetail.snapshot()``) and, in its notes, the objects it changed
(``touched``).  A rollback of apply N:

1. refuses when a later apply changed one of those objects again (its own
   rollback would have to come first — undoing N over it would silently
   revert that later change too);
2. builds the desired schema as *the target now* with only the objects N
   touched put back as they were in the snapshot — later, unrelated changes
   stay;
3. restores held data instead of re-creating empty objects: tables N
   soft-dropped are renamed back (one step, before anything else, so the
   diff treats them as present), and column values N backed up are written
   back by key once the reverse DDL has re-added the columns (last steps);
4. refuses when the objects N touched were changed outside myshift since N
   ended (an index added by hand, a column widened): rolling back would take
   those changes back silently.  Each is named (workflows.outside compares
   the live objects with the state recorded right after N); with
   ``--take-back-outside-changes`` the rollback takes them back, and the plan
   names them;
5. is frozen into an ordinary plan file (``kind='rollback'``,
   ``undoes_apply_id=N``) with the same risk classes and pre-flight checks
   as ``plan``, and applied through the same path as ``apply`` (lock, drift,
   history), so it is itself an apply in history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from myshift.db.connect import Endpoint, connected
from myshift.db.connect import quote_ident as q
from myshift.engine.definers import for_mode
from myshift.engine.diff import DiffOptions, diff_schemas
from myshift.engine.introspect import introspect
from myshift.engine.keeppolicy import one_drop_per_kept_partition
from myshift.engine.risk import Algorithm, Lock, Risk
from myshift.errors import UsageError
from myshift.model import Flavor, Schema, Table
from myshift.model.serialize import fingerprint
from myshift.workflows.freeze import to_planfile
from myshift.workflows.history import History
from myshift.workflows.keepdata import (
    DEFAULT_HOLDING,
    HeldColumns,
    HeldPartition,
    HeldTable,
    exchange_sql,
    held_for_apply,
    restore_columns_sql,
)
from myshift.workflows.outside import outside_taken_back
from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import (
    Derivation,
    Plan,
    PlannedStatement,
    PlanOptions,
    planned,
    with_fk_checks,
)

# Object kinds as recorded in history notes ("touched").
from myshift.workflows.rollbackchoice import (
    KINDS,
    RollbackRefused,
    RollbackTarget,
    choose_apply,
    partly_rolled_back,
    restore_objects,
    touched_objects,
)
from myshift.workflows.verify import verify_plan


def _restore_table_step(held: Sequence[HeldTable], schema: str, apply_id: int) -> PlannedStatement:
    renames = ", ".join(
        f"{q(h.holding)}.{q(h.held_name)} TO {q(schema)}.{q(h.table)}" for h in held
    )
    extras = sum(len(h.foreign_keys) for h in held), sum(len(h.triggers) for h in held)
    what = ", ".join(f"{h.table} ({h.row_count:,} rows)" for h in held)
    return PlannedStatement(
        sql=f"RENAME TABLE {renames}",
        subject=", ".join(h.table for h in held),
        description=f"restore table(s) {what} kept by apply #{apply_id}",
        risk=Risk.SAFE,
        algorithm=Algorithm.INSTANT,
        lock=Lock.EXCLUSIVE,
        reason=(
            "renames the held tables back with all their rows"
            + (f"; re-adds {extras[0]} foreign key(s)" if extras[0] else "")
            + (f"; re-creates {extras[1]} trigger(s)" if extras[1] else "")
        ),
        restore_held=tuple(h.held_name for h in held),
    )


def _restore_columns_step(held: HeldColumns, schema: str, apply_id: int) -> PlannedStatement:
    return PlannedStatement(
        sql=restore_columns_sql(held, schema),
        subject=held.table,
        description=(
            f"restore the values of {', '.join(held.column_names) or 'no stored column'} of "
            f"{held.table} ({held.row_count:,} rows kept by apply #{apply_id})"
        ),
        risk=Risk.SAFE,
        algorithm=Algorithm.INSTANT,
        lock=Lock.NONE,
        reason=(
            "writes the kept values back by key, verified by checksum; rows inserted since the "
            "apply keep the column default"
        ),
        restore_held=(held.held_name,),
    )


def _restore_partition_step(held: HeldPartition, schema: str, apply_id: int) -> PlannedStatement:
    return PlannedStatement(
        sql=exchange_sql(schema, held.table, held.partition, held.holding, held.held_name),
        subject=held.table,
        description=(
            f"restore the rows of partition {held.partition} of {held.table} "
            f"({held.row_count:,} rows kept by apply #{apply_id})"
        ),
        risk=Risk.SAFE,
        algorithm=Algorithm.INSTANT,
        lock=Lock.EXCLUSIVE,
        reason=(
            "swaps the kept rows back into the re-created partition (metadata only, under "
            "LOCK TABLES); rows written since into its range stay, beside them"
        ),
        restore_held=(held.held_name,),
    )


def _as_held(snapshot_table: Table, held: HeldTable) -> Table:
    """The snapshot's table as it will be once renamed back: only the foreign keys
    it still had when it was moved (the apply may have dropped some first)."""
    names = {fk.name for fk in held.foreign_keys}
    return replace(
        snapshot_table,
        foreign_keys=tuple(fk for fk in snapshot_table.foreign_keys if fk.name in names),
    )


def _restorable(
    held: Sequence[HeldTable | HeldColumns | HeldPartition],
    current: Schema,
    desired: Schema,
    holding: str,
    warnings: list[str],
) -> tuple[list[HeldTable], list[HeldColumns | HeldPartition]]:
    """The held tables to rename back and the held columns and partition rows to
    write back (a held table whose name exists again stays in the trash, with a
    warning; so do partition rows whose partition the rollback does not re-create)."""
    now_tables = {t.name.lower() for t in current.tables}
    wanted = {t.name.lower(): t for t in desired.tables}
    tables_back: list[HeldTable] = []
    columns_back: list[HeldColumns | HeldPartition] = []
    for h in held:
        if isinstance(h, HeldPartition):
            t = wanted.get(h.table.lower())
            split = t.partitioning if t is not None else None
            if split is not None and h.partition.lower() in {
                p.name.lower() for p in split.partitions
            }:
                columns_back.append(h)
            else:
                warnings.append(
                    f"rows of partition {h.partition} of {h.table} kept as {holding}.{h.held_name} "
                    "are not restored (the rollback does not re-create the partition); they stay "
                    "in the trash"
                )
        elif isinstance(h, HeldTable):
            if h.table.lower() in wanted and h.table.lower() not in now_tables:
                tables_back.append(h)
            else:
                warnings.append(
                    f"table {h.table} kept as {holding}.{h.held_name} is not restored "
                    "(a table of that name exists again); it stays in the trash"
                )
        elif h.table.lower() in wanted:
            have = {c.name.lower() for c in wanted[h.table.lower()].columns}
            if all(c.lower() in have for c in h.column_names):
                columns_back.append(h)
    return tables_back, columns_back


def _after_renames(current: Schema, snapshot: Schema, tables_back: Sequence[HeldTable]) -> Schema:
    """The target as it will be once the held tables are renamed back (with their
    foreign keys and triggers as they were moved)."""
    snap_tables = {t.name.lower(): t for t in snapshot.tables}
    held_names = {h.table.lower() for h in tables_back}
    restored = [_as_held(snap_tables[h.table.lower()], h) for h in tables_back]
    held_triggers = {t.name for h in tables_back for t in h.triggers}
    return replace(
        current,
        tables=tuple(sorted((*current.tables, *restored), key=lambda t: t.name)),
        triggers=current.triggers
        + tuple(
            t
            for t in snapshot.triggers
            if t.table.lower() in held_names and t.name in held_triggers
        ),
    )


def build_rollback_planfile(
    target: Endpoint,
    apply_id: int | None = None,
    *,
    history_schema: str = "_myshift",
    holding: str = DEFAULT_HOLDING,
    keep_data: bool = False,
    verify: bool = True,
    workspace: str = "temp",
    own_lock: int | None = None,
    take_back_outside: bool = False,
    reviewed_outside: Sequence[str] = (),
) -> PlanFile:
    """The reverse plan of one apply, as a plan file ``apply`` can run.

    ``own_lock``: the connection id through which the caller already holds the
    schema lock (apply re-deriving this plan), not a sign of a live apply.
    ``take_back_outside`` / ``reviewed_outside``: see ``check_outside``.
    """
    if not target.schema:
        raise UsageError(
            f"No schema given for the target {target.redacted()}.",
            "Add it to the URL (mysql://user@host/schema) or the environment.",
        )
    with connected(target) as conn, connected(target, schema="") as hconn:
        flavor = conn.flavor
        current = introspect(conn, target.schema)
        history = History(hconn, schema=history_schema, audit_path=None)
        chosen = choose_apply(
            history, target.schema, apply_id, current, probe=conn, own_lock=own_lock
        )
        undo_id = chosen.record.id
        snapshot = replace(chosen.snapshot, name=current.name)
        desired = restore_objects(current, snapshot, chosen.touched)
        held = held_for_apply(conn, undo_id, holding=holding)
        after = history.after_snapshot(undo_id)
        partly = after is not None and partly_rolled_back(history, target.schema, undo_id)

    warnings: list[str] = []
    taken_back = outside_taken_back(
        undo_id, after, current, chosen.touched, snapshot if partly else None,
        take_back_outside, reviewed_outside, warnings,
    )  # fmt: skip
    warnings += [f"takes back a change made outside myshift: {o}" for o in taken_back]
    tables_back, columns_back = _restorable(held, current, desired, holding, warnings)
    pf = _reverse_planfile(
        target, flavor, current, snapshot, desired, tables_back,
        verify=verify, workspace=workspace, keep_data=keep_data,
    )  # fmt: skip
    _refuse_filled_partitions(pf.statements, undo_id)
    warnings += _data_loss_warnings(pf.statements, undo_id, keep_data)
    pf.statements = [
        *([_restore_table_step(tables_back, target.schema, undo_id)] if tables_back else []),
        *pf.statements,
        *(
            _restore_partition_step(h, target.schema, undo_id)
            if isinstance(h, HeldPartition)
            else _restore_columns_step(h, target.schema, undo_id)
            for h in columns_back
        ),
    ]
    pf.current = current
    pf.kind = "rollback"
    pf.undoes_apply_id = undo_id
    if taken_back:
        pf.derivation = replace(pf.derivation or Derivation(keep_data), take_back=taken_back)
    pf.warnings = [*pf.warnings, *warnings]
    return pf


def _reverse_planfile(
    target: Endpoint,
    flavor: Flavor,
    current: Schema,
    snapshot: Schema,
    desired: Schema,
    tables_back: Sequence[HeldTable],
    *,
    verify: bool,
    workspace: str,
    keep_data: bool,
) -> PlanFile:
    """The planned, verified statements from the target (after the renames back of
    kept tables) to the apply's before-snapshot."""
    # The diff runs from the target as it will be after the renames back.
    after_renames = _after_renames(current, snapshot, tables_back)
    # A rollback re-creates objects as the applying user (definer = "ignore"):
    # restoring each snapshot's DEFINER would need SET USER for every undo.
    after_renames, desired = for_mode(after_renames, desired, "ignore", "")
    changes = diff_schemas(
        after_renames,
        desired,
        options=DiffOptions(skip_unsupported=True, or_replace=flavor.is_mariadb, merge_ranges=True),
    )
    if keep_data:
        changes = one_drop_per_kept_partition(changes)
    opts = PlanOptions(
        allow_drop=True, verify=verify, workspace=workspace, keep_data=keep_data, definer="ignore"
    )
    # An FK to a table the snapshot lacks comes back as it was (engine.dangling).
    statements = with_fk_checks(changes, planned(changes, flavor, opts), desired, flavor)
    plan = Plan(
        target=target.redacted(),
        flavor=flavor,
        statements=statements,
        from_fingerprint=fingerprint(current),
        to_fingerprint=fingerprint(desired),
        current=after_renames,
        desired=desired,
        changes=changes,
    )
    if verify and changes:
        verify_plan(plan, target, opts)
    return to_planfile(plan, target, opts)


def _refuse_filled_partitions(statements: Sequence[PlannedStatement], undo_id: int) -> None:
    """Refuse a rollback whose DROP PARTITION would take away rows written since the
    apply into a partition it added.  Even with keep-data: the rows would leave the
    application's view for the trash, and a rollback cannot itself be rolled back
    to bring them back.  (A row written between this check and the DROP is kept
    by keep-data, when on.)"""
    for st in statements:
        for pre in st.preflight:
            if pre.deletes and pre.violations and not st.skipped:
                raise RollbackRefused(
                    f"Rolling back apply #{undo_id} would run `{st.sql}`, deleting the "
                    f"{pre.violations:,} row(s) it holds now ({pre.description}, written "
                    "since the apply); nothing was run.",
                    "Move those rows out of the partition (or delete them if they are not "
                    "needed), then roll back again.",
                )


def _data_loss_warnings(
    statements: Sequence[PlannedStatement], undo_id: int, keep_data: bool
) -> list[str]:
    """One warning per destructive rollback step whose data is not kept."""
    return [
        f"{st.subject}: {st.description} loses data written since apply #{undo_id}"
        + ("" if keep_data else " (use --keep-data to keep it)")
        for st in statements
        if st.risk is Risk.DESTRUCTIVE and not st.keeps
    ]


__all__ = [
    "KINDS",
    "RollbackRefused",
    "RollbackTarget",
    "build_rollback_planfile",
    "choose_apply",
    "restore_objects",
    "touched_objects",
]
