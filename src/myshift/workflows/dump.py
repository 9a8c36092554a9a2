"""`myshift dump`: the schema as SQL (no data), like
``mysqldump --no-data --routines --events --triggers --single-transaction``.

Rendered from the introspected model with the same renderer that plans use,
so a dump loads back and re-plans empty.  ``--dir`` writes one file per object
(schema as code): ``tables/T.sql`` (the table and its triggers),
``views/V.sql``, ``routines/R.sql``, ``events/E.sql``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from myshift.db.connect import Endpoint, connected
from myshift.engine import ddl
from myshift.engine.diff import toposort, view_deps
from myshift.engine.introspect import introspect
from myshift.errors import UsageError
from myshift.model import Flavor, Schema, View

HEADER = "-- myshift dump of {schema} ({flavor})\n"


def views_in_dependency_order(views: tuple[View, ...]) -> list[View]:
    """Views over views: a view comes after every view its definition names.

    The same dependency reading and ordering as the diff's CREATE VIEW order
    (name order where free, cycles broken as the diff breaks them).
    """
    by_name = {v.name: v for v in views}
    order, _ = toposort(sorted(by_name), view_deps(views))
    return [by_name[n] for n in order]


def _delimited(sql: str) -> str:
    return f"DELIMITER ;;\n{sql};;\nDELIMITER ;\n"


def render_objects(schema: Schema, flavor: Flavor) -> dict[str, str]:
    """Map of relative file path -> SQL, one entry per object."""
    files: dict[str, str] = {}
    triggers_by_table: dict[str, list[str]] = {}
    for trg in sorted(schema.triggers, key=lambda t: (t.table, t.timing, t.event, t.order)):
        triggers_by_table.setdefault(trg.table, []).append(
            _delimited(ddl.create_trigger(trg, flavor))
        )
    for t in schema.tables:
        body = ddl.create_table(t, flavor) + ";\n"
        for trig in triggers_by_table.get(t.name, []):
            body += "\n" + trig
        files[f"tables/{_fname(t.name)}.sql"] = body
    for i, v in enumerate(views_in_dependency_order(schema.views)):
        files[f"views/{i:04d}-{_fname(v.name)}.sql"] = ddl.create_view(v, flavor) + ";\n"
    for r in schema.routines:
        files[f"routines/{r.kind.lower()}-{_fname(r.name)}.sql"] = _delimited(
            ddl.create_routine(r, flavor)
        )
    for e in schema.events:
        files[f"events/{_fname(e.name)}.sql"] = _delimited(ddl.create_event(e, flavor))
    return files


def _fname(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def render_dump(schema: Schema, flavor: Flavor) -> str:
    """One file, in load order: tables, routines, views, triggers, events."""
    parts = [HEADER.format(schema=schema.name, flavor=flavor), "SET foreign_key_checks = 0;\n"]
    for t in schema.tables:
        parts.append("\n" + ddl.create_table(t, flavor) + ";\n")
    # Routines before views: CREATE VIEW validates the functions it calls.
    for r in schema.routines:
        parts.append("\n" + _delimited(ddl.create_routine(r, flavor)))
    for v in views_in_dependency_order(schema.views):
        parts.append("\n" + ddl.create_view(v, flavor) + ";\n")
    for trg in sorted(schema.triggers, key=lambda t: (t.table, t.timing, t.event, t.order)):
        parts.append("\n" + _delimited(ddl.create_trigger(trg, flavor)))
    for e in schema.events:
        parts.append("\n" + _delimited(ddl.create_event(e, flavor)))
    parts.append("\nSET foreign_key_checks = 1;\n")
    return "".join(parts)


def _counts(schema: Schema) -> str:
    parts = [
        (len(schema.tables), "table"),
        (len(schema.views), "view"),
        (len(schema.routines), "routine"),
        (len(schema.triggers), "trigger"),
        (len(schema.events), "event"),
    ]
    return ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in parts)


def dump(
    ep: Endpoint,
    *,
    output: str | None = None,
    directory: str | None = None,
    say: Callable[[str], None] | None = None,
) -> str | None:
    """Dump to stdout (returned), a file, or a directory of one file per object.

    A dump to a file or directory tells ``say`` what it wrote (nothing on stdout).
    """
    if not ep.schema:
        raise UsageError("No schema to dump.", "Give it in the URL, the environment or as SCHEMA.")
    with connected(ep) as conn:
        # One consistent view of the data dictionary, as --single-transaction does.
        conn.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        schema = introspect(conn, ep.schema)
        conn.execute("COMMIT")
        flavor = conn.flavor
    unsupported = schema.unsupported_tables
    if unsupported:
        names = ", ".join(t.name for t in unsupported)
        raise UsageError(
            f"Cannot dump {names}: myshift cannot reproduce their definition "
            f"({unsupported[0].unsupported}).",
            "Use mysqldump for these tables and report the case.",
        )
    if directory:
        root = Path(directory)
        written = 0
        for rel, text in render_objects(schema, flavor).items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written += 1
        if say is not None:
            say(f"Wrote {ep.schema} ({_counts(schema)}) to {written} files under {root}/.")
        return None
    text = render_dump(schema, flavor)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        if say is not None:
            say(f"Wrote {ep.schema} ({_counts(schema)}) to {output}.")
        return None
    return text
