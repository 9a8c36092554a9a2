"""Talk to the server: its catalogue rows and SHOW CREATE texts for one schema."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from myshift.engine import ddl
from myshift.engine.introspect.catalog import _fs_name, row_versions
from myshift.engine.introspect.queries import _LISTING, _meta_query, _queries, _query_rows
from myshift.engine.introspect.rows import _TABLE_TYPES, IntrospectionRows, Rows
from myshift.engine.introspect.twin import Twin, _display_modes

if TYPE_CHECKING:
    from myshift.db.connect import Conn


# How many SHOW CREATE statements travel in one round trip.
SHOW_CREATE_CHUNK = 500


def _show_create_batches(
    conn: Conn, schema: str, stmts: list[tuple[str, str]], col: int
) -> dict[str, str]:
    """Run ``SHOW CREATE ...`` statements in ``;``-separated batches: key -> text.

    A second connection with multi-statements on carries the batches, so one
    round trip returns hundreds of CREATE texts.  A batch that fails (an object
    dropped meanwhile) is retried one statement at a time, skipping the missing.
    """
    if not stmts:
        return {}
    from myshift.db.connect import DriverError, connect

    out: dict[str, str] = {}
    multi = connect(conn.endpoint, schema=schema, multi=True)
    try:
        for chunk_start in range(0, len(stmts), SHOW_CREATE_CHUNK):
            chunk = stmts[chunk_start : chunk_start + SHOW_CREATE_CHUNK]
            try:
                texts = multi.multi_column(";\n".join(sql for _, sql in chunk), col)
                for (key, _), text in zip(chunk, texts, strict=True):
                    if text is not None:
                        out[key] = text
            except DriverError:  # fall back to one statement at a time
                multi.close()
                multi = connect(conn.endpoint, schema=schema, multi=True)
                for key, sql in chunk:
                    try:
                        rows = multi.query(sql)
                    except DriverError:  # the object vanished: skip it
                        continue
                    if rows:
                        out[key] = str(rows[0][col])
    finally:
        multi.close()
    return out


def _meta(conn: Conn, schema: str, rows: IntrospectionRows) -> tuple[Any, ...]:
    """The schema's default charset and collation into ``rows``; the texts' context (Twin)."""
    flavor = conn.flavor
    meta = conn.query(_meta_query(flavor), (schema,))
    if not meta:
        return (flavor, None, None)
    rows.charset, rows.collation = str(meta[0][0]), str(meta[0][1])
    return (flavor, _display_modes(meta[0][2]), meta[0][3])


def _show_create_tables(
    conn: Conn,
    schema: str,
    types: dict[str, str],
    lend: Twin | None = None,
    context: tuple[Any, ...] = (),
) -> dict[str, str]:
    """SHOW CREATE TABLE of every table in ``types`` (name -> TABLE_TYPE); offered to ``lend``."""
    qs = ddl.quote(schema)
    names = [n for n, t in types.items() if t != "VIEW"]
    texts = _show_create_batches(
        conn, schema, [(t, f"SHOW CREATE TABLE {qs}.{ddl.quote(t)}") for t in names], 1
    )
    if lend is not None:
        lend.offer_texts(context, {n: x for n, x in texts.items() if types[n] in _TABLE_TYPES})
    return texts


def _table_rows(
    conn: Conn,
    schema: str,
    rows: IntrospectionRows,
    only: list[str] | None,
    aside: frozenset[str] = frozenset(),
    meanwhile: Callable[[], None] | None = None,
    first: Callable[[], None] | None = None,
) -> None:
    """Columns, indexes, foreign keys, checks and partitions of ``only`` (None: all tables).

    ``rows.tables`` must hold those tables' TABLES rows (for the partition
    test) once ``first`` has run.  The ``aside`` kinds (columns, statistics)
    run on connections of their own, started before ``first``; ``meanwhile``
    runs on this one before they are waited for.
    """
    q = _queries(conn.flavor)
    got: dict[str, Rows] = {}
    with ThreadPoolExecutor(max_workers=max(1, len(aside))) as pool:
        futures = {
            kind: pool.submit(_query_aside, conn, q[kind], schema, kind, only)
            for kind in ("columns", "statistics")
            if kind in aside
        }
        if first is not None:
            first()
        kinds = ["fk_rules", "foreign_keys", "checks", "columns", "statistics"]
        if any("partitioned" in (t.get("create_options") or "").lower() for t in rows.tables):
            # PARTITIONS opens every table (~0.25 s per 10,000) to say "none";
            # TABLES.CREATE_OPTIONS already says "partitioned" for those that are.
            kinds.append("partitions")
        for kind in kinds:
            if kind not in aside:
                got[kind] = _query_rows(conn, q[kind], schema, kind, only=only)
        if meanwhile is not None:
            meanwhile()
        for kind, future in futures.items():
            got[kind] = future.result()
    rules = {(r["table_name"], r["name"]): r for r in got.pop("fk_rules")}
    rows.foreign_keys = list(got.pop("foreign_keys"))
    for fk in rows.foreign_keys:
        rule = rules.get((fk["table_name"], fk["name"]), {})
        fk["on_update"] = rule.get("on_update", "RESTRICT")
        fk["on_delete"] = rule.get("on_delete", "RESTRICT")
    rows.checks = list(got.pop("checks"))
    rows.columns, rows.statistics = got.pop("columns"), got.pop("statistics")
    rows.partitions = list(got.pop("partitions", []))


def _schema_rows(conn: Conn, schema: str, rows: IntrospectionRows, types: dict[str, str]) -> None:
    """Views, routines, triggers and events, with the SHOW CREATE texts they need.

    ``types`` (name -> TABLE_TYPE, the schema's listing) names the views: VIEWS
    is asked about just those (see _scoped), not made to look at every table.
    """
    q = _queries(conn.flavor)
    qs = ddl.quote(schema)
    views = sorted(n for n, t in types.items() if t == "VIEW")
    # The SHOW CREATE VIEW / TRIGGER batches (one per object, each on its
    # own connection) overlap the catalogue reads and the other batches:
    # 1,000 views and 1,000 triggers cost ~0.25 s more one after the other.
    with ThreadPoolExecutor(max_workers=2) as pool:
        view_texts = pool.submit(
            _show_create_batches,
            conn,
            schema,
            [(v, f"SHOW CREATE VIEW {qs}.{ddl.quote(v)}") for v in views],
            1,
        )
        rows.views = list(_query_rows(conn, q["views"], schema, "views", only=views))
        for kind in ("routines", "triggers", "events"):
            setattr(rows, kind, list(_query_rows(conn, q[kind], schema, kind)))
        trigger_texts = pool.submit(
            _show_create_batches,
            conn,
            schema,
            [
                (t["name"], f"SHOW CREATE TRIGGER {qs}.{ddl.quote(t['name'])}")
                for t in rows.triggers
            ],
            2,
        )
        rows.create_routines = _show_create_batches(
            conn,
            schema,
            [
                (
                    f"{r['kind']} {r['name']}",
                    f"SHOW CREATE {r['kind']} {qs}.{ddl.quote(r['name'])}",
                )
                for r in rows.routines
            ],
            2,
        )
        rows.create_events = _show_create_batches(
            conn,
            schema,
            [(e["name"], f"SHOW CREATE EVENT {qs}.{ddl.quote(e['name'])}") for e in rows.events],
            3,
        )
        rows.create_views = view_texts.result()
        rows.create_triggers = trigger_texts.result()


def fetch_rows(
    conn: Conn, schema: str, *, borrow: Twin | None = None, lend: Twin | None = None
) -> IntrospectionRows:
    """Query the server: a handful of whole-schema queries plus batched SHOW CREATE.

    The SHOW CREATE TABLE batches run on their own connection in a thread while
    this connection reads information_schema: the two overlap on the server.
    With ``borrow``, the tables whose text equals the twin's are not asked
    about again (see Twin); ``lend`` is offered this schema's texts.
    """
    rows = IntrospectionRows(schema=schema)
    context = _meta(conn, schema, rows)
    q = _queries(conn.flavor)
    # The names first (no table is opened for them): they start the SHOW
    # CREATE batches, and say whether the schema is big enough to borrow
    # from a twin (a small one is read whole: borrowing only adds round trips).
    listing = conn.query(_LISTING, (schema,))
    types = {str(n): str(t) for n, t in listing}
    if borrow is not None and len(types) >= Twin.MIN_TABLES:
        # The texts, then information_schema for only the tables the twin
        # does not have.
        rows.create_tables = _show_create_tables(conn, schema, types, lend, context)
        # Views, routines...: nothing to borrow, read while the twin's texts
        # may still be on their way.
        _schema_rows(conn, schema, rows, types)
        same = borrow.same_tables(context, rows.create_tables, types)
        only: list[str] | None = None
        if same:
            rows.borrowed = sorted(same)
            only = sorted(n for n in types if n not in same)
            rows.tables = list(_query_rows(conn, q["tables"], schema, "tables", only=only))
        else:
            rows.tables = list(_query_rows(conn, q["tables"], schema, "tables"))
        _table_rows(conn, schema, rows, only)
        _add_row_versions(conn, schema, rows)
        rows.tables += [{"name": n, "type": types[n]} for n in rows.borrowed]
        return rows

    # TABLES, which opens every table, runs beside the texts and the big scans.
    def read_tables() -> None:
        rows.tables = list(_query_rows(conn, q["tables"], schema, "tables"))

    with ThreadPoolExecutor(max_workers=1) as pool:
        created = pool.submit(_show_create_tables, conn, schema, types, lend, context)
        big = len(types) >= _ASIDE_MIN_TABLES
        _table_rows(
            conn,
            schema,
            rows,
            None,
            _ASIDE if big else frozenset(),
            meanwhile=lambda: _schema_rows(conn, schema, rows, types),
            first=read_tables,
        )
        rows.create_tables = created.result()
    _add_row_versions(conn, schema, rows)
    return rows


def _add_row_versions(conn: Conn, schema: str, rows: IntrospectionRows) -> None:
    """Each TABLES row gets ``row_versions`` where InnoDB counts them (catalog.row_versions)."""
    counts = row_versions(conn, schema)
    if not counts:
        return
    for t in rows.tables:
        n = counts.get(_fs_name(str(t["name"])))
        if n is not None:
            t["row_versions"] = n


# For a big schema, the two biggest scans run on connections of their own,
# beside the other queries (the server works on them at once): 310 -> 230 ms
# for 1,000 tables.  (Reading the tables in chunks, to model one while the
# next is read, was slower: every information_schema query has a fixed cost
# of ~5 ms per 1,000 tables, whatever it selects.)
_ASIDE = frozenset({"columns", "statistics"})
_ASIDE_MIN_TABLES = 200


def _query_aside(conn: Conn, sql: str, schema: str, kind: str, only: list[str] | None) -> Rows:
    with conn.sibling() as other:
        return _query_rows(other, sql, schema, kind, only=only)
