"""Pure: a schema's rows in, the model out (tables via build_table, then the rest)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from myshift.engine import ddl
from myshift.engine.introspect.build_table import _build_table, _Shared, strip_auto_increment
from myshift.engine.introspect.rows import _TABLE_TYPES, CompactRows, IntrospectionRows, Row, Rows
from myshift.engine.introspect.twin import Twin
from myshift.engine.lexer import Dialect, mode_of, squeeze
from myshift.model.flavor import Flavor
from myshift.model.schema import Event, Routine, Schema, Table, Trigger, View


def _group_rows(rows: Rows, key: str = "table_name") -> dict[str, Rows]:
    if isinstance(rows, CompactRows):
        return dict(rows.group(key))
    return dict(_group(rows, key))


def _group(rows: Iterable[Row], key: str = "table_name") -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return out


def _strip_qualifier(text: str, schema: str) -> str:
    """Drop ``schema``. qualifiers so a workspace copy compares equal to the target."""
    return text.replace(ddl.quote(schema) + ".", "")


def _split_params(create_sql: str, kind: str, name: str) -> tuple[str, str | None]:
    """Parameter list and RETURNS type from SHOW CREATE PROCEDURE/FUNCTION."""
    head = f"{kind} {ddl.quote(name)}("
    start = create_sql.find(head)
    if start < 0:
        return "", None
    i = start + len(head)
    depth, quote_ch = 1, ""
    while i < len(create_sql):
        ch = create_sql[i]
        if quote_ch:
            if ch == quote_ch:
                quote_ch = ""
        elif ch in "'\"`":
            quote_ch = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                break
        i += 1
    params = create_sql[start + len(head) : i]
    returns = None
    rest = create_sql[i + 1 :]
    if rest.startswith(" RETURNS "):
        returns = rest[len(" RETURNS ") :].split("\n", 1)[0]
    return params, returns


def _definer(raw: Any) -> str:
    return str(raw or "")


# information_schema is utf8mb3: a 4-byte character in a body reads as "?"s.
_LOST = re.compile(r"\?+")


def _body(raw: Any, exact: str, schema: str) -> str:
    """A stored body as the server keeps it: the catalogue's text, with what its
    utf8mb3 lost (4-byte characters read as ``?``) taken from ``exact`` (the
    SHOW CREATE text, which holds the body verbatim), and schema-unqualified."""
    body = str(raw or "")
    if "?" in body and exact:
        pattern = _LOST.sub(
            lambda _: "[?\U00010000-\U0010ffff]+?", re.escape(body).replace("\\?", "?")
        )
        m = re.search(pattern, exact)
        if m is not None:
            body = m.group(0)
    return _strip_qualifier(body, schema)


def _squeezed(body: str, dialect: Dialect, sql_mode: str) -> str:
    return squeeze(body, dialect, mode_of(sql_mode))


def build_schema(
    rows: IntrospectionRows,
    flavor: Flavor,
    *,
    borrow: Twin | None = None,
    lend: Twin | None = None,
) -> Schema:
    """Pure: turn introspection rows into the model (and self-check every table).

    ``rows.borrowed`` tables come from ``borrow``; ``lend`` gets the tables.
    """
    tables = _build_tables(rows, flavor, _Shared(), borrow)
    if lend is not None:
        lend.offer_tables(tables)
    return _build_rest(rows, flavor, tables)


def _build_tables(
    rows: IntrospectionRows, flavor: Flavor, shared: _Shared, borrow: Twin | None
) -> list[Table]:
    """The tables of ``rows`` (all of them, or one chunk: see _introspect_in_chunks)."""
    schema = rows.schema
    borrowed = set(rows.borrowed)
    if borrowed and borrow is None:
        raise ValueError("rows name borrowed tables but no twin lends them")
    cols, stats = _group_rows(rows.columns), _group_rows(rows.statistics)
    fks, checks, parts = _group(rows.foreign_keys), _group(rows.checks), _group(rows.partitions)
    tables = []
    for t in sorted(rows.tables, key=lambda r: r["name"]):
        if t["type"] == "VIEW":
            continue
        name = t["name"]
        if name in borrowed:
            assert borrow is not None
            twin_table = borrow.table(name)
            own = rows.create_tables.get(name, "")
            if own != twin_table.create_sql:  # only AUTO_INCREMENT can differ
                twin_table = replace(
                    twin_table, auto_increment=strip_auto_increment(own)[1], create_sql=own
                )
            tables.append(twin_table)
            continue
        if t["type"] not in _TABLE_TYPES:
            # e.g. a MariaDB SEQUENCE: listed so it is reported, never silently dropped.
            tables.append(
                Table(
                    name=name,
                    columns=(),
                    engine=t["engine"] or "",
                    create_sql=rows.create_tables.get(name, ""),
                    unsupported=f"{str(t['type']).lower()} objects are not supported",
                )
            )
            continue
        t_cols, t_stats = cols.get(name, []), stats.get(name, [])
        t_fks, t_checks, t_parts = fks.get(name, []), checks.get(name, []), parts.get(name, [])
        create_sql = rows.create_tables.get(name, "")
        tables.append(
            _build_table(
                t, t_cols, t_stats, t_fks, t_checks, t_parts, create_sql, schema, flavor, shared
            )
        )
    return tables


def _build_rest(rows: IntrospectionRows, flavor: Flavor, tables: list[Table]) -> Schema:
    """The schema around its built ``tables``: views, routines, triggers, events."""
    return Schema(
        name=rows.schema,
        charset=rows.charset,
        collation=rows.collation,
        tables=tuple(tables),
        views=tuple(_build_views(rows, flavor)),
        routines=tuple(_build_routines(rows, Dialect.of(flavor))),
        triggers=tuple(_build_triggers(rows, Dialect.of(flavor))),
        events=tuple(_build_events(rows, Dialect.of(flavor))),
    )


def _view_select(v: Row, create_sql: str | None) -> str:
    """The SELECT of SHOW CREATE VIEW, else VIEW_DEFINITION.

    VIEW_DEFINITION (utf8mb3, re-printed) loses charset introducers
    (``_utf8mb3' '`` becomes ``' '``) and 4-byte characters; SHOW CREATE VIEW
    keeps the text the server stored.  Its head is fixed (``CREATE ALGORITHM=..
    DEFINER=.. SQL SECURITY .. VIEW `name` AS``) and its tail is the CHECK
    OPTION the catalogue names: the SELECT is what lies between.
    """
    fallback = str(v["definition"] or "")
    if not create_sql:
        return fallback
    head = f" VIEW {ddl.quote(v['name'])} AS "
    at = create_sql.find(head)
    if not create_sql.startswith("CREATE ") or at < 0:
        return fallback
    text = create_sql[at + len(head) :]
    option = str(v["check_option"] or "NONE")
    if option != "NONE":
        tail = f" WITH {option} CHECK OPTION"
        if not text.endswith(tail):
            return fallback
        text = text[: -len(tail)]
    return text


def _build_views(rows: IntrospectionRows, flavor: Flavor) -> list[View]:
    views = []
    for v in sorted(rows.views, key=lambda r: r["name"]):
        select = _view_select(v, rows.create_views.get(v["name"]))
        view = View(
            name=v["name"],
            definition=_strip_qualifier(select, rows.schema),
            algorithm=v["algorithm"] or "UNDEFINED",
            security=v["security"] or "DEFINER",
            check_option=v["check_option"] or "NONE",
            definer=_definer(v["definer"]),
        )
        views.append(replace(view, create_sql=ddl.create_view(view, flavor)))
    return views


def _build_routines(rows: IntrospectionRows, dialect: Dialect) -> list[Routine]:
    routines = []
    for r in sorted(rows.routines, key=lambda r: (r["kind"], r["name"])):
        create_sql = rows.create_routines.get(f"{r['kind']} {r['name']}", "")
        params, returns = _split_params(create_sql, r["kind"], r["name"])
        sql_mode = r["sql_mode"] or ""
        routines.append(
            Routine(
                name=r["name"],
                kind=r["kind"],
                params=params,
                body=_squeezed(_body(r["body"], create_sql, rows.schema), dialect, sql_mode),
                returns=returns,
                deterministic=r["deterministic"] == "YES",
                data_access=r["data_access"] or "CONTAINS SQL",
                security=r["security"] or "DEFINER",
                comment=r["comment"] or "",
                sql_mode=r["sql_mode"] or "",
                definer=_definer(r["definer"]),
                create_sql=create_sql,
            )
        )
    return routines


def _build_triggers(rows: IntrospectionRows, dialect: Dialect) -> list[Trigger]:
    out = []
    for tr in sorted(rows.triggers, key=lambda r: r["name"]):
        create_sql = rows.create_triggers.get(tr["name"], "")
        sql_mode = tr["sql_mode"] or ""
        out.append(
            Trigger(
                name=tr["name"],
                table=tr["table_name"],
                timing=tr["timing"],
                event=tr["event"],
                body=_squeezed(_body(tr["body"], create_sql, rows.schema), dialect, sql_mode),
                order=int(tr["action_order"] or 1),
                sql_mode=sql_mode,
                definer=_definer(tr["definer"]),
                create_sql=_strip_qualifier(create_sql, rows.schema),
            )
        )
    return out


def _build_events(rows: IntrospectionRows, dialect: Dialect) -> list[Event]:
    events = []
    for e in sorted(rows.events, key=lambda r: r["name"]):
        if e["type"] == "ONE TIME":
            schedule = f"AT '{e['execute_at']}'"
        else:
            value = str(e["interval_value"])
            if not value.isdigit():
                value = "'" + value + "'"
            schedule = f"EVERY {value} {e['interval_field']}"
        create_sql = rows.create_events.get(e["name"], "")
        body = _body(e["body"], create_sql, rows.schema)
        events.append(
            Event(
                name=e["name"],
                schedule=schedule,
                body=_squeezed(body, dialect, e["sql_mode"] or ""),
                status=e["status"] or "ENABLED",
                on_completion=e["on_completion"] or "NOT PRESERVE",
                comment=e["comment"] or "",
                starts=str(e["starts"]) if e["starts"] is not None else None,
                ends=str(e["ends"]) if e["ends"] is not None else None,
                sql_mode=e["sql_mode"] or "",
                definer=_definer(e["definer"]),
                create_sql=create_sql,
                body_text=body,
            )
        )
    return events
