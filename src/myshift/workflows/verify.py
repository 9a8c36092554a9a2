"""Verify a plan: replay it on a structure-only copy of what it touches, diff again.

A plan that does not converge in the workspace is never shown as final
(``verify_plan`` raises VerificationFailed).  The copy holds only the plan's
scope (``_scope``: the objects it touches plus what the server validates
them against), so verification stays cheap on 10,000 tables, and it may be
started early, while the two schemas are still being read (``_EarlyCopy``).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace

from myshift.db.connect import Conn, DriverError, Endpoint, connected, quote_ident
from myshift.engine import ddl
from myshift.engine.definers import inert_definer
from myshift.engine.eventstatus import inert_event
from myshift.engine.introspect import Twin, introspect
from myshift.engine.lexer import Dialect, Mode
from myshift.engine.load import load_sql, restore_event_status
from myshift.engine.split import Statement
from myshift.engine.workspace import Workspace, make_inert, open_workspace, target_defaults
from myshift.errors import MyshiftError, SQLLoadError, UnsupportedError, VerificationFailed
from myshift.model import Flavor, Schema
from myshift.model.schema import ForeignKey
from myshift.workflows.planmodel import Plan, PlannedStatement, PlanOptions


def workspace_for(kind: str, target: Endpoint, target_conn: Conn) -> Workspace:
    """The workspace named by --workspace, with the target's charset, collation, sql_mode."""
    d = target_defaults(target_conn, target.schema)
    return open_workspace(
        kind,
        server=replace(target, schema=""),
        charset=d.charset,
        collation=d.collation,
        sql_mode=d.sql_mode,
        schema_name=target.schema if kind == "local" else None,
    )


@dataclass(frozen=True)
class _Scope:
    """The objects a verification copy needs: what the plan touches, plus what
    the server validates those against when they are created or altered."""

    tables: frozenset[str]
    views: frozenset[str]
    routines: frozenset[tuple[str, str]]
    triggers: frozenset[str]
    events: frozenset[str]


def _affected_columns(cur: Schema, des: Schema, name: str) -> set[str] | None:
    """Columns of table ``name`` whose definition or indexes the plan changes.

    None means "the whole table" (created, dropped, renamed, or its engine,
    charset or partitioning changes): every FK pointing at it is validated.
    """
    a, b = cur.table_map.get(name), des.table_map.get(name)
    if a is None or b is None:
        return None
    if (a.engine, a.charset, a.collation, a.partitioning) != (
        b.engine,
        b.charset,
        b.collation,
        b.partitioning,
    ):
        return None
    out = {c.name for c in a.columns if b.column_map.get(c.name) != c}
    out |= {c.name for c in b.columns if a.column_map.get(c.name) != c}
    for x, y in ((a, b), (b, a)):
        for ix in x.indexes:
            if y.index_map.get(ix.name) != ix:
                out |= {p.column for p in ix.parts if p.column is not None}
    return out


def _validates_parent(
    cur: Schema,
    des: Schema,
    name: str,
    fk: ForeignKey,
    affected: dict[str, set[str] | None],
) -> bool:
    """Whether changing table ``name`` makes the server look at ``fk``'s parent table.

    It does when the table is created (or renamed) with the FK, when the FK
    itself is added or changed, or when the plan changes the FK's columns.
    Other changes to a child (columns, indexes, options, even a table copy)
    do not open its parents: MariaDB allows them with foreign_key_checks=1
    and the parent missing (tests/test_plan_verify.py holds it to that).
    MySQL is not known to, so verify_plan copies every parent there.
    """
    a, b = cur.table_map.get(name), des.table_map.get(name)
    if a is None or b is None:
        return True
    if a.fk_map.get(fk.name) != b.fk_map.get(fk.name):
        return True
    if name not in affected:
        affected[name] = _affected_columns(cur, des, name)
    hit = affected[name]
    return hit is None or not hit.isdisjoint(fk.columns)


def _touched(plan: Plan) -> set[str]:
    """Every name the plan's changes are about (a RenameTable touches its old name too)."""
    touched: set[str] = set()
    for ch in plan.changes:
        touched.add(ch.subject)
        old = getattr(ch, "old", None)
        if isinstance(old, str):
            touched.add(old)
    return touched


def _fk_tables(plan: Plan, touched: set[str]) -> set[str]:
    """The touched tables plus their neighbours by foreign key that the server validates.

    Parents of a touched table where ``_validates_parent`` says so (all of
    them where the flavor opens parents on any child ALTER); children whose
    foreign keys reference what the plan changes in a touched table.
    """
    cur, des = plan.current, plan.desired
    tables = touched & (set(cur.table_map) | set(des.table_map))
    affected: dict[str, set[str] | None] = {}  # touched table -> _affected_columns
    every_parent = plan.flavor.child_alter_opens_fk_parents
    for schema in (cur, des):
        for t in schema.tables:
            for fk in t.foreign_keys:
                if t.name in touched and (
                    every_parent or _validates_parent(cur, des, t.name, fk, affected)
                ):
                    tables.add(fk.ref_table)
                if fk.ref_table in touched and t.name not in tables:
                    # A child that is not changed itself only matters when the
                    # plan changes what its FK points at (the server then
                    # validates the FK); most children of altered tables don't.
                    ref = fk.ref_table
                    if ref not in affected:
                        affected[ref] = _affected_columns(cur, des, ref)
                    hit = affected[ref]
                    if hit is None or not hit.isdisjoint(fk.ref_columns):
                        tables.add(t.name)
    return tables


def _view_closure(cur: Schema, des: Schema, views: set[str]) -> tuple[set[str], set[str]]:
    """``views`` plus the views their definitions name, transitively, in both versions;
    and the tables those definitions name (CREATE VIEW validates them all)."""
    from myshift.engine.diff import names_in_definition

    all_tables = set(cur.table_map) | set(des.table_map)
    all_views = set(cur.view_map) | set(des.view_map)
    views, tables = set(views), set()
    pending = list(views)
    while pending:
        name = pending.pop()
        for schema in (cur, des):
            v = schema.view_map.get(name)
            if v is None:
                continue
            for ref in names_in_definition(v.definition, all_tables | all_views):
                if ref in all_views and ref not in views:
                    views.add(ref)
                    pending.append(ref)
                elif ref in all_tables:
                    tables.add(ref)
    return views, tables


def _called_functions(cur: Schema, des: Schema, views: set[str]) -> set[str]:
    """The stored functions ``views`` call (CREATE VIEW validates them too)."""
    from myshift.engine.diff import names_in_definition

    functions = {r.name for schema in (cur, des) for r in schema.routines if r.kind == "FUNCTION"}
    called: set[str] = set()
    for name in views:
        for schema in (cur, des):
            v = schema.view_map.get(name)
            if v is not None:
                called |= names_in_definition(v.definition, functions)
    return called


def _scope(plan: Plan) -> _Scope:
    """Copy only what the plan touches, so verification stays cheap on 10,000 tables.

    * tables the plan changes, renames, creates or drops, the tables their
      foreign keys reference where the server validates those (see
      ``_validates_parent``), and the tables whose foreign keys reference
      columns (or indexes over columns) the plan changes (an ALTER or CREATE
      validates FKs in both directions);
    * views it changes, and (transitively) the tables and views their
      definitions name, in both versions (CREATE VIEW validates them);
    * routines and events it changes (their bodies are not validated when
      created, so they need nothing else), and the stored functions the
      views in scope call;
    * triggers on tables in scope (they move with their table).
    """
    cur, des = plan.current, plan.desired
    touched = _touched(plan)
    tables = _fk_tables(plan, touched)
    views, named = _view_closure(cur, des, touched & (set(cur.view_map) | set(des.view_map)))
    tables |= named
    called = _called_functions(cur, des, views)
    routines = {
        key
        for schema in (cur, des)
        for key, r in schema.routine_map.items()
        if r.name in touched or (r.kind == "FUNCTION" and r.name in called)
    }
    triggers = {t.name for schema in (cur, des) for t in schema.triggers if t.table in tables}
    events = touched & (set(cur.event_map) | set(des.event_map))
    return _Scope(
        frozenset(tables),
        frozenset(views),
        frozenset(routines),
        frozenset(triggers),
        frozenset(events),
    )


def _restrict(schema: Schema, scope: _Scope) -> Schema:
    return replace(
        schema,
        tables=tuple(t for t in schema.tables if t.name in scope.tables),
        views=tuple(v for v in schema.views if v.name in scope.views),
        routines=tuple(r for r in schema.routines if r.key in scope.routines),
        triggers=tuple(t for t in schema.triggers if t.name in scope.triggers),
        events=tuple(e for e in schema.events if e.name in scope.events),
    )


def _copy_statements(schema: Schema, flavor: Flavor) -> list[Statement]:
    """The structure of ``schema`` as statements for the batched loader.

    The loader runs tables with foreign_key_checks=0 and retries views that
    come before the views they select from.
    """
    sql: list[str] = [ddl.create_table(t, flavor) for t in schema.tables]
    # Routines before views: CREATE VIEW validates the functions it calls.
    sql += [ddl.create_routine(r, flavor) for r in schema.routines]
    sql += [ddl.create_view(v, flavor) for v in schema.views]
    sql += [
        ddl.create_trigger(t, flavor)
        for t in sorted(schema.triggers, key=lambda t: (t.table, t.timing, t.event, t.order))
    ]
    sql += [ddl.create_event(e, flavor) for e in schema.events]
    return [Statement(sql=text, path="<target copy>", line=i + 1) for i, text in enumerate(sql)]


@contextlib.contextmanager
def _closing_in_background(ws: Workspace) -> Iterator[None]:
    """Close (drop) a workspace in a thread; wait for it, and raise its error, on exit.

    Dropping a workspace of a few thousand tables takes the server ~0.5 s that
    the client only waits for.
    """
    failure: list[BaseException] = []

    def close() -> None:
        try:
            ws.__exit__(None, None, None)
        except BaseException as exc:  # handed to the waiting thread
            failure.append(exc)

    thread = threading.Thread(target=close, name="myshift-workspace-drop")
    thread.start()
    try:
        yield
    finally:
        thread.join()
    if failure:
        raise failure[0]


@dataclass
class _Prepared:
    """A verification workspace with some of the target's tables already in it."""

    workspace: Workspace
    endpoint: Endpoint
    tables: frozenset[str]


class _EarlyCopy:
    """Start the verification copy while the two schemas are still being read.

    The tables the plan will touch are, but for a few neighbours, the
    target's tables whose SHOW CREATE TABLE text the desired side does not
    share -- known as soon as the desired side has compared the texts (see
    Twin.differing), long before the models are built and diffed.  A thread
    then opens the workspace and runs those texts there (the server's own
    DDL, AUTO_INCREMENT removed), while the client models the schemas; the
    verification adds what else its scope needs.  Nothing happens when the
    sides were not compared (small schemas, other flavors).  An early copy
    that fails is dropped and verification copies everything itself.
    """

    def __init__(self, target: Endpoint, opts: PlanOptions, twin: Twin) -> None:
        self._target, self._opts, self._twin = target, opts, twin
        self._prepared: _Prepared | None = None
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="myshift-early-copy", daemon=True)

    def __enter__(self) -> _EarlyCopy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._twin.end_borrowing()  # never leave the thread waiting
        prepared = self.take()
        if prepared is not None:  # not used: an error, or nothing to verify
            prepared.workspace.__exit__(None, None, None)

    def _run(self) -> None:
        texts = self._twin.differing()
        if not texts:
            return
        try:
            with connected(self._target) as tconn:
                workspace = workspace_for(self._opts.workspace, self._target, tconn)
            ws = workspace.__enter__()
        except BaseException as exc:  # verification will report it, copying itself
            self._failed = exc
            return
        self._prepared = _Prepared(workspace, ws, frozenset(texts))
        try:
            statements = [
                Statement(sql=text, path="<target copy>", line=n + 1)
                for n, text in enumerate(texts.values())
            ]
            load_sql(statements, ws)
        except BaseException as exc:
            self._failed = exc

    def take(self) -> _Prepared | None:
        """The prepared workspace (now the caller's), or None; waits for the copy."""
        self._thread.join()
        prepared, self._prepared = self._prepared, None
        if prepared is not None and self._failed is not None:
            prepared.workspace.__exit__(None, None, None)
            return None
        return prepared


def verify_plan(
    plan: Plan,
    target: Endpoint,
    opts: PlanOptions,
    *,
    later: contextlib.ExitStack | None = None,
    twin: Twin | None = None,
    prepared: _Prepared | None = None,
) -> None:
    """Replay the plan on a structure-only copy in a workspace; re-diff must be empty.

    With ``later``, the workspace is dropped in the background and waited for
    when ``later`` closes (the caller's remaining work overlaps the drop).
    ``twin``: the desired side's tables, lent to the re-read of the workspace.
    ``prepared``: a workspace already holding some of the target's tables
    (see _EarlyCopy); it is used, and dropped, here.
    """
    from myshift.engine.diff import DiffOptions, diff_schemas

    if plan.reached is not None and plan.reached is not plan.desired:
        # Without --allow-drop the runnable statements reach ``reached``, not
        # ``desired`` (engine.holdback): that is what the replay must equal.
        runs = [not s.skipped for s in plan.statements]
        plan = replace(
            plan,
            desired=plan.reached,
            changes=[c for c, r in zip(plan.changes, runs, strict=True) if r],
            statements=[s for s in plan.statements if not s.skipped],
        )
    scope = _scope(plan)
    current = _restrict(plan.current, scope)
    desired = _restrict(plan.desired, scope)
    flavor = plan.flavor
    present: frozenset[str] = frozenset()
    if prepared is not None:
        workspace, ws, present = prepared.workspace, prepared.endpoint, prepared.tables
    else:
        with connected(target) as tconn:
            workspace = workspace_for(opts.workspace, target, tconn)
        ws = workspace.__enter__()
    try:
        result = _replay(plan, current, ws, twin, present)
    except BaseException:
        workspace.__exit__(*sys.exc_info())
        raise
    if later is None:
        workspace.__exit__(None, None, None)
    else:
        later.enter_context(_closing_in_background(workspace))
    remaining = diff_schemas(
        replace(result, name=desired.name),
        desired,
        options=DiffOptions(skip_unsupported=True, or_replace=flavor.is_mariadb),
    )
    skipped = {s.sql for s in plan.statements if s.skipped}
    leftover = [c for c in remaining if c.render(flavor, opts.render) not in skipped]
    if leftover:
        names = sorted({c.subject for c in leftover})
        detail = "; ".join(c.render(flavor, opts.render)[:200] for c in leftover[:5])
        raise VerificationFailed(
            f"verification failed: after replaying the plan, {', '.join(names)} still differ "
            f"from the desired schema ({detail}).",
            "This is a myshift bug; please report it with both schemas.",
        )


def _replay(
    plan: Plan,
    current: Schema,
    ws: Endpoint,
    twin: Twin | None,
    present: frozenset[str] = frozenset(),
) -> Schema:
    """Copy ``current`` into the workspace, run the plan there, and introspect the result.

    ``present``: tables already copied (see _EarlyCopy); those outside the
    scope are dropped first, so the workspace holds exactly ``current``.
    """
    extra = sorted(present - {t.name for t in current.tables})
    missing = replace(current, tables=tuple(t for t in current.tables if t.name not in present))
    try:
        # One loader session for both: the early copy's extra tables out, the rest in.
        drops = [
            Statement(sql=f"DROP TABLE IF EXISTS {quote_ident(name)}", path="<target copy>")
            for name in extra
        ]
        load_sql(drops + _copy_statements(missing, plan.flavor), ws)
    except SQLLoadError as exc:
        if not exc.server_message.startswith("refused"):
            raise VerificationFailed(
                f"verification failed: could not copy the target's structure ({exc}).",
                "This is a myshift bug; please report it with the schema.",
            ) from None
        # A table that reaches outside its schema (FEDERATED, DATA DIRECTORY...)
        # is never created in a workspace, not even as a copy.
        raise UnsupportedError(
            "The plan cannot be verified: the target holds an object myshift never creates"
            f" in a workspace ({exc.server_message}).",
            "Run plan with --no-verify after reviewing the statements yourself.",
        ) from None
    except MyshiftError as exc:
        raise VerificationFailed(
            f"verification failed: could not copy the target's structure ({exc}).",
            "This is a myshift bug; please report it with the schema.",
        ) from None
    # Events are created DISABLE in any workspace (the copy's by load_sql, the
    # plan's here); their real status is tracked and put back after reading.
    status = {e.name: e.status for e in current.events}
    runnable = []
    for st in plan.statements:
        if st.skipped:
            continue
        sql, event, event_status = inert_event(st.sql, Dialect.of(plan.flavor), Mode())
        if event and event_status is not None:
            status[event] = event_status
        # Objects in a workspace belong to the loading user (engine.definers).
        sql = inert_definer(sql, Dialect.of(plan.flavor), Mode())
        runnable.append(replace(st, sql=sql) if sql != st.sql else st)
    with connected(ws, multi=True) as wconn:
        make_inert(wconn)
        wconn.execute("SET SESSION foreign_key_checks = 1")
        _run_batched(wconn, runnable)
        return restore_event_status(introspect(wconn, ws.schema, borrow=twin), status)


# Statements per round trip when a plan is replayed (the server runs them in order).
REPLAY_BATCH = 50


def _run_batched(conn: Conn, statements: list[PlannedStatement]) -> None:
    """Run ``statements`` in ``;``-separated batches on a multi-statement session.

    The server stops a batch at its first failing statement; the results read
    before the error say which one it was.
    """
    for start in range(0, len(statements), REPLAY_BATCH):
        batch = statements[start : start + REPLAY_BATCH]
        done = 0  # results read: the statement after them is the one that failed
        try:
            # "\n;\n": a statement may end in a `-- comment` that would swallow a `;`.
            for _ in conn.multi_query("\n;\n".join(st.sql for st in batch)):
                done += 1
        except DriverError as exc:
            st = batch[done]
            raise VerificationFailed(
                f"verification failed: {st.subject}: the statement ({st.description}) "
                f"failed in the workspace: {exc}.",
                "This is a myshift bug; please report it with both schemas.",
            ) from None


__all__ = ["REPLAY_BATCH", "verify_plan", "workspace_for"]
