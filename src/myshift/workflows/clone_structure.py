"""The clone's structure half: every object of the source schema, re-created on the copy.

Steps 1, 2, 4 and 5 of ``workflows.clone`` (see its docstring): tables and
sequences, then routines, then views (retried until their dependencies
exist), and -- once the rows are in -- triggers and events.  Each object is
created from the source server's own ``SHOW CREATE`` text, DEFINER removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from myshift.db.connect import Conn, DriverError, Endpoint, connect, quote_ident
from myshift.db.privileges import from_driver_error
from myshift.db.stream import error_text
from myshift.engine.ddl import strip_definer
from myshift.engine.introspect import catalog
from myshift.errors import MyshiftError, UsageError
from myshift.exitcodes import ExitCode


class CloneError(MyshiftError):
    """The sandbox server refused an object of the source (usually a flavor difference)."""

    exit_code = ExitCode.REHEARSAL_FAILED


# (what, CREATE text, the sql_mode it was defined under), e.g. ("trigger `t`", ..., ...).
Deferred = tuple[str, str, str]


@dataclass
class Structure:
    """What ``copy_structure`` created, and the triggers and events it left for later."""

    tables: int = 0
    routines: int = 0
    views: int = 0
    triggers: list[Deferred] = field(default_factory=list)
    events: list[Deferred] = field(default_factory=list)


def exec_ddl(dst: Conn, sql: str, what: str, sql_mode: str | None = None) -> None:
    """Run one copied CREATE; a refusal is a ``CloneError`` naming the object."""
    try:
        if sql_mode is not None:
            dst.execute("SET SESSION sql_mode = %s", (sql_mode,))
        dst.execute(sql)
    except DriverError as exc:
        raise CloneError(
            f"The sandbox {dst.endpoint.redacted()} refused {what} copied from the target: "
            f"{error_text(exc)}.",
            "If the sandbox runs another server flavor or version than the target, rehearse "
            "with --sandbox server:URL on a server like production.",
        ) from None


def copy_structure(src: Conn, dst: Conn, src_schema: str, dst_schema: str) -> Structure:
    """Create tables, routines and views; list the triggers and events to create later."""
    s = quote_ident(src_schema)
    done = Structure()
    dst.execute("SET SESSION foreign_key_checks = 0")
    dst.execute(f"USE {quote_ident(dst_schema)}")
    views: list[str] = []
    for name, ttype in catalog.schema_objects(src, src_schema):
        if ttype == "VIEW":
            views.append(name)
            continue
        kind = "SEQUENCE" if ttype == "SEQUENCE" else "TABLE"  # MariaDB sequences
        ddl = str(src.query(f"SHOW CREATE {kind} {s}.{quote_ident(name)}")[0][1])
        exec_ddl(dst, ddl, f"{kind.lower()} `{name}`")
        done.tables += ttype != "SEQUENCE"
    orig_mode = dst.scalar("SELECT @@SESSION.sql_mode")
    for rname, rtype in catalog.routine_names(src, src_schema):
        row = src.query(f"SHOW CREATE {rtype} {s}.{quote_ident(rname)}")[0]
        exec_ddl(dst, strip_definer(str(row[2])), f"{rtype.lower()} `{rname}`", str(row[1]))
        done.routines += 1
    dst.execute("SET SESSION sql_mode = %s", (orig_mode,))
    done.views = _copy_views(src, dst, src_schema, dst_schema, views)
    for tname in catalog.trigger_names(src, src_schema):
        row = src.query(f"SHOW CREATE TRIGGER {s}.{quote_ident(tname)}")[0]
        done.triggers.append((f"trigger `{tname}`", strip_definer(str(row[2])), str(row[1])))
    for ename in catalog.event_names(src, src_schema):
        row = src.query(f"SHOW CREATE EVENT {s}.{quote_ident(ename)}")[0]
        done.events.append((f"event `{ename}`", strip_definer(str(row[3])), str(row[1])))
    return done


def _copy_views(src: Conn, dst: Conn, src_schema: str, dst_schema: str, views: list[str]) -> int:
    """Views may use views: create what can be created, retry the rest; how many were made."""
    s = quote_ident(src_schema)
    made = 0
    pending = views
    last_err: Exception | None = None
    while pending:
        failed: list[str] = []
        for v in pending:
            ddl = strip_definer(str(src.query(f"SHOW CREATE VIEW {s}.{quote_ident(v)}")[0][1]))
            if src_schema != dst_schema:
                ddl = ddl.replace(f"{s}.", f"{quote_ident(dst_schema)}.")
            try:
                dst.execute(ddl)
                made += 1
            except DriverError as exc:
                failed.append(v)
                last_err = exc
        if len(failed) == len(pending):
            if last_err is not None and (denied := from_driver_error(last_err, dst.endpoint.user)):
                raise denied from None  # a missing privilege, named with its GRANT
            raise UsageError(
                f"Cannot create view {failed[0]!r} in the sandbox: {last_err}.",
                "Check that the view's dependencies exist in the schema.",
            )
        pending = failed
    return made


def create_later(dst: Endpoint, structure: Structure) -> tuple[int, int]:
    """Triggers, then events, once the rows are in: neither may act on the copied rows.

    Returns how many triggers and events were created.
    """
    done = [0, 0]
    with connect(dst) as d:
        orig_mode = d.scalar("SELECT @@SESSION.sql_mode")
        for i, objs in enumerate((structure.triggers, structure.events)):
            for what, ddl, sql_mode in objs:
                exec_ddl(d, ddl, what, sql_mode)
                done[i] += 1
        d.execute("SET SESSION sql_mode = %s", (orig_mode,))
    return done[0], done[1]
