"""Freeze a plan into the reviewable plan file, with what only the server knows.

The statements are the ones apply will derive again (workflows.planmodel,
workflows.plancheck); the server adds its identity, the refusals keep-data
makes at plan time and the pre-flight counts on the target's current data.
``plan`` and ``rollback`` both freeze their plans here.
"""

from __future__ import annotations

from dataclasses import replace

from myshift.db.connect import Conn, DriverError, Endpoint, connected
from myshift.db.identity import server_identity
from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import Plan, PlanOptions, Preflight, derivation_of, file_statements


def to_planfile(plan: Plan, target: Endpoint, opts: PlanOptions) -> PlanFile:
    """Freeze a plan into the reviewable artefact, running its pre-flight checks.

    With ``opts.keep_data`` the statements that lose data are marked to keep
    it (soft drop / verified column backup, see workflows.keepdata), and a
    dropped table that something outside the plan still references is
    refused now.
    """
    keep_data = opts.keep_data
    # The statements as apply will derive them again (workflows.plancheck),
    # then what only the server knows: refusals and the pre-flight counts.
    statements = file_statements(plan.statements, plan.changes, plan.current, keep_data)
    with connected(target) as conn:
        identity = server_identity(conn)
        if keep_data:
            from myshift.workflows.keepdata import (
                refuse_keyless_backups,
                refuse_referenced_soft_drops,
                refuse_unknown_row_formats,
            )

            dropped = [st.subject for st in statements if st.keep_table]
            if dropped:
                refuse_referenced_soft_drops(conn, target.schema, dropped, plan.desired)
            backed_up = [st.subject for st in statements if st.keep_columns]
            if backed_up:
                refuse_keyless_backups(conn, target.schema, backed_up)
            kept_parts = [(s.subject, s.keep_partitions) for s in statements if s.keep_partitions]
            refuse_unknown_row_formats(conn, target.schema, kept_parts, planning=True)
        statements = [
            replace(st, preflight=tuple(_counted(conn, p) for p in st.preflight))
            if st.preflight
            else st
            for st in statements
        ]
        # For review only: apply decides the paths again from live sizes.
        from myshift.workflows.online import OnlinePolicy, live_paths

        statements = live_paths(conn, target.schema, statements, opts.online or OnlinePolicy())
    return PlanFile(
        target=target.redacted(),
        schema=target.schema,
        flavor=str(plan.flavor),
        identity=identity,
        from_fingerprint=plan.from_fingerprint,
        to_fingerprint=plan.to_fingerprint,
        statements=statements,
        current=plan.current,
        desired=plan.desired,
        allow_drop=opts.allow_drop,
        warnings=list(plan.warnings),
        derivation=derivation_of(plan.changes, keep_data, opts.definer != "ignore"),
    )


def _counted(conn: Conn, check: Preflight) -> Preflight:
    """A pre-flight check with the violating rows it counts now (None: the server
    cannot run it, reported as such)."""
    if not check.runnable:
        return check
    try:
        return replace(check, violations=int(conn.scalar(check.sql) or 0))
    except DriverError:
        return replace(check, violations=None)


__all__ = ["to_planfile"]
