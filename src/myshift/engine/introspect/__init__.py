"""Read a whole schema from a server into the model, in bulk, and check the result.

Two halves, kept apart so the MySQL path can be tested from recorded rows:

* ``fetch_rows(conn, schema) -> IntrospectionRows`` talks to the server: one
  information_schema query per object kind for the WHOLE schema (the two
  biggest on connections of their own for a big schema), plus the server's
  SHOW CREATE texts sent in ``;``-separated batches over another,
  multi-statement connection (a few round trips for thousands of tables).
  With a ``Twin`` to borrow from, the tables whose text equals the twin's
  are not asked about (the second side of a plan reads only what differs).
* ``build_schema(rows, flavor) -> Schema`` is pure: rows in, model out.  Every
  flavor difference in how information_schema spells things is handled in one
  helper of ``build_table`` (``_column_default``, ``_mysql_unescape`` ...).

Self-check (as Skeema does): for every table, ``ddl.create_table(model)`` must
equal the server's SHOW CREATE TABLE (AUTO_INCREMENT removed).  If it does not,
``Table.unsupported`` names the first differing line; such a table is reported
and never diffed — we never guess.

The server's text is only read for things information_schema does not expose
(display order of indexes/foreign keys/checks, an explicit ``USING`` clause,
routine parameter lists), and compared whole to tell equal tables apart;
never to learn structure.

The package, by seam (import the public names from here; a leading
underscore means private to the package):

* ``rows``: ``IntrospectionRows``, what the server said, before modelling.
* ``queries``: the catalogue SQL (information_schema) and how it is run.
* ``fetch``: ``fetch_rows``, the round trips (SHOW CREATE batches, threads).
* ``twin``: ``Twin``, the channel between the two introspections of a plan.
* ``build_table``: one table's rows to its model, and ``self_check``.
* ``build``: ``build_schema``, the whole schema's rows to the model.
* ``visibility``: ``check``, refusing a schema a missing read privilege hides in part.
* ``catalog``: catalogue facts that are not structure (sizes, listings,
  schema defaults), for the workflows that need them.
* ``health``: the server's status counters, deadlocks, statement digests and
  replica lag that the watch (workflows.watch) samples.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from myshift.engine.introspect import visibility
from myshift.engine.introspect.build import build_schema
from myshift.engine.introspect.build_table import self_check
from myshift.engine.introspect.fetch import fetch_rows
from myshift.engine.introspect.rows import IntrospectionRows
from myshift.engine.introspect.twin import Twin, TwinUnavailable

if TYPE_CHECKING:
    from myshift.db.connect import Conn
    from myshift.model.schema import Schema

__all__ = [
    "IntrospectionRows",
    "Twin",
    "TwinUnavailable",
    "build_schema",
    "fetch_rows",
    "gc_paused",
    "introspect",
    "self_check",
]


_gc_lock = threading.Lock()
_gc_pauses = 0  # how many gc_paused() blocks are open, in any thread
_gc_resume = False  # whether the collector was on when the first one opened


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a big model is built or compared.

    Introspecting 10,000 tables allocates millions of long-lived, acyclic
    objects (row dicts, frozen dataclasses, tuples); every full collection
    walks all of them, so the collector alone made the work superlinear (10x
    the tables cost ~16x the build time).  Reference counting still frees
    everything; the collector resumes, as it was, when the last open block
    (in any thread: the two sides of a plan are read concurrently) closes.
    """
    global _gc_pauses, _gc_resume
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_resume = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_resume:
                gc.enable()


def introspect(
    conn: Conn,
    schema: str,
    *,
    borrow: Twin | None = None,
    lend: Twin | None = None,
) -> Schema:
    """The model of ``schema`` on ``conn``'s server (flavor from the connection).

    ``borrow`` takes equal tables from another introspection, ``lend`` offers
    this one's (see Twin).
    """
    try:
        with gc_paused():
            rows = fetch_rows(conn, schema, borrow=borrow, lend=lend)
            visibility.check(conn, schema, rows)  # a missing read privilege hides objects
            return build_schema(rows, conn.flavor, borrow=borrow, lend=lend)
    finally:
        if lend is not None:
            lend.close()
