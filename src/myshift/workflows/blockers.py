"""Who holds (or may hold) a table's metadata lock, and which myshift statements still run.

An ALTER needs the table's exclusive metadata lock (MDL).  While it waits for
it, every new query on the table queues behind it, so apply looks for the
holders *before* sending the statement and waits for them (bounded), naming
the real thread when it gives up.  Where the holders come from, best first:

1. MariaDB's ``METADATA_LOCK_INFO`` view (the
   ``metadata_lock_info`` plugin; installed on first use when the user may,
   never required): the granted MDLs by schema and table, with how long each
   has been held (``LOCK_TIME_MS``, 10.5+);
2. ``performance_schema.metadata_locks`` (MySQL 5.7+/8.0 with the
   ``wait/lock/metadata/sql/mdl`` instrument enabled, the 8.0 default;
   MariaDB with performance_schema on): ``OBJECT_TYPE='TABLE'``,
   ``LOCK_STATUS='GRANTED'``, owner mapped to a connection through
   ``performance_schema.threads.PROCESSLIST_ID``;
3. otherwise InnoDB transactions (``INNODB_TRX`` joined to ``PROCESSLIST``)
   and running statements whose text names the table -- qualified with the
   schema, or unqualified from a session whose default schema is the target's.
   A transaction that shows no statement on the table *may* hold it; it is
   not waited for (the DDL's lock_wait_timeout bounds the queue), and if the
   statement then times out it is named for what it is -- "a transaction
   open since ... (its tables unknown)" -- never as the table's holder
   (``explain``).

Holders younger than ``min_age`` (1 s) are ignored: at ~1,000 short
transactions per second some transaction always holds the table for a
millisecond, and the DDL simply waits that millisecond.

The SQL is in ``db.sessions``; here the rows become ``Blocker`` values
(``parse_*``, pure, so they can be tested without a server of each flavor).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from myshift.db.connect import Conn
from myshift.db.sessions import (
    SOURCE_MDL_INFO,
    SOURCE_NONE,
    SOURCE_PERFORMANCE_SCHEMA,
    busy_thread_rows,
    lock_rows,
    mdl_source,
    statement_rows,
    thread_rows,
)
from myshift.errors import LockTimeout

# The comment every statement myshift runs on a target starts with, so a DBA
# (and the next myshift) can tell it in the processlist after its process died.
TAG_PREFIX = "/* myshift "


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Blocker:
    """A connection that holds (``certain``) or may hold the table's metadata lock."""

    thread_id: int
    user_host: str
    db: str | None
    seconds: float  # how long it has held the lock / been in its transaction (lower bound)
    command: str  # PROCESSLIST.COMMAND: Query, Sleep, ...
    info: str | None  # the statement it runs, if any
    in_transaction: bool = False
    lock_mode: str = ""
    certain: bool = True
    since: str = ""  # when its transaction started (HH:MM:SS, server clock), if known

    def describe(self) -> str:
        """``thread 12 (app@10.0.0.5:4711, db shop, idle in transaction for 14s)``.

        One that only *may* hold the lock (no MDL view) is described as what it is:
        ``a transaction open since 10:41:07 (thread 12, ...; its tables unknown)``.
        """
        secs = f"{self.seconds:.0f}s" if self.seconds >= 1 else f"{self.seconds:.1f}s"
        if not self.certain:
            since = f"since {self.since}" if self.since else f"for {secs}"
            now = (
                f"now running: {_one_line(self.info, 120)}"
                if self.info and self.command != "Sleep"
                else "idle"
            )
            return (
                f"a transaction open {since} (thread {self.thread_id}, {self.user_host}, "
                f"db {self.db or '(none)'}, {now}; its tables unknown)"
            )
        if self.info and self.command != "Sleep":
            what = f"running for {secs}: {_one_line(self.info, 120)}"
        elif self.in_transaction or self.lock_mode:
            what = f"idle in transaction for {secs}"
        else:
            what = f"idle for {secs}"
        held = f", holds {self.lock_mode}" if self.lock_mode else ""
        return f"thread {self.thread_id} ({self.user_host}, db {self.db or '(none)'}, {what}{held})"


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _thread(row: Mapping[str, Any]) -> Blocker:
    """A processlist(+INNODB_TRX) row as a Blocker; ``seconds`` is a lower bound.

    TIME_MS (MariaDB) is exact; TIME is whole seconds; trx_started has
    one-second resolution, so its age is known only to within a second.
    """
    time_ms = _num(row.get("TIME_MS"))
    state = time_ms / 1000 if time_ms is not None else float(row.get("TIME") or 0)
    trx = _num(row.get("TRX_SECONDS"))
    trx_lower = max(trx - 1, 0.0) if trx is not None else 0.0
    host = str(row.get("HOST") or "")
    started = row.get("TRX_STARTED")
    return Blocker(
        thread_id=int(row["ID"]),
        user_host=f"{row.get('USER') or '?'}@{host}" if host else str(row.get("USER") or "?"),
        db=row.get("DB"),
        seconds=max(state, trx_lower),
        command=str(row.get("COMMAND") or ""),
        info=row.get("INFO"),
        in_transaction=trx is not None,
        since=started.strftime("%H:%M:%S") if isinstance(started, datetime) else "",
    )


def parse_holders(
    locks: Iterable[Mapping[str, Any]], threads: Iterable[Mapping[str, Any]]
) -> list[Blocker]:
    """Join lock rows (``THREAD_ID``, ``LOCK_MODE``, optional ``LOCK_TIME_MS``) to thread rows.

    The same rows shape comes from METADATA_LOCK_INFO and from
    performance_schema.metadata_locks (``SQL_PS_HOLDERS`` renames its columns).
    A lock's own age, when the server says it, wins over the thread's.
    """
    by_id = {int(t["ID"]): _thread(t) for t in threads}
    out: dict[int, Blocker] = {}
    for lk in locks:
        tid = int(lk["THREAD_ID"])
        base = by_id.get(tid)
        if base is None:  # ended between the two queries
            continue
        held_ms = _num(lk.get("LOCK_TIME_MS"))
        seconds = held_ms / 1000 if held_ms is not None else base.seconds
        mode = str(lk.get("LOCK_MODE") or "")
        prev = out.get(tid)
        if prev is not None and prev.seconds >= seconds:
            continue
        out[tid] = Blocker(
            thread_id=tid,
            user_host=base.user_host,
            db=base.db,
            seconds=seconds,
            command=base.command,
            info=base.info,
            in_transaction=base.in_transaction or base.command == "Sleep",
            lock_mode=mode,
        )
    return sorted(out.values(), key=lambda b: -b.seconds)


def _ident(name: str) -> str:
    """A regex for one identifier, bare or backquoted (case-insensitive)."""
    return rf"(?:`{re.escape(name.replace('`', '``'))}`|(?<![\w$`]){re.escape(name)}(?![\w$`]))"


def statement_touches(info: str | None, db: str | None, schema: str, table: str) -> bool:
    """Whether a running statement's text names ``schema.table``.

    Qualified names count from any session; an unqualified name counts when
    the session's default schema is ``schema``.  A heuristic on the text of
    someone else's query (never used to learn structure): it can only make
    apply wait for, or name, one more thread.
    """
    if not info:
        return False
    sep = r"\s*\.\s*"
    if re.search(_ident(schema) + sep + _ident(table), info, re.IGNORECASE):
        return True
    if db is not None and db == schema:
        return bool(re.search(r"(?<![.\w$])\s*" + _ident(table), info, re.IGNORECASE))
    return False


def parse_fallback(rows: Iterable[Mapping[str, Any]], schema: str, table: str) -> list[Blocker]:
    """Without an MDL view: statements on the table (certain), other open transactions (maybe)."""
    out = []
    for row in rows:
        b = _thread(row)
        touches = b.command != "Sleep" and statement_touches(b.info, b.db, schema, table)
        if touches:
            out.append(b)
        elif b.in_transaction:
            out.append(replace(b, in_transaction=True, lock_mode="", certain=False))
    return sorted(out, key=lambda b: (not b.certain, -b.seconds))


def explain(found: Sequence[Blocker], table: str, *, listed: int = 3) -> str:
    """Who blocked a DDL that timed out on ``table``, as far as the server tells.

    Certain holders are named as such.  Without a view of metadata locks the
    open transactions are listed for what they are -- any of them may hold
    the table, or none -- and the view that would tell is named.
    """
    certain = [b for b in found if b.certain]
    if certain:
        more = f" and {len(certain) - 1} more" if len(certain) > 1 else ""
        return f"blocked by {certain[0].describe()}{more}"
    if not found:
        return "no blocking transaction visible now"
    shown = "; ".join(b.describe() for b in found[:listed])
    more = f"; and {len(found) - listed} more" if len(found) > listed else ""
    return (
        f"which session holds {table} is unknown, as this server shows no metadata locks "
        "(the metadata_lock_info plugin on MariaDB, performance_schema's MDL instrument on "
        f"MySQL, would); transactions open now: {shown}{more}"
    )


def table_holders(
    conn: Conn, schema: str, table: str, *, source: str | None = None
) -> list[Blocker]:
    """Connections that hold (or, without an MDL view, may hold) ``schema.table``'s MDL.

    Oldest first, certain ones before maybes.  ``source`` forces a path (tests).
    """
    src = source or mdl_source(conn)
    if src in (SOURCE_MDL_INFO, SOURCE_PERFORMANCE_SCHEMA):
        locks = lock_rows(conn, src, schema, table)
        if locks is not None:  # else: fall back below
            ids = sorted({int(r["THREAD_ID"]) for r in locks})
            return parse_holders(locks, thread_rows(conn, ids))
    rows = busy_thread_rows(conn)
    if rows is None:  # no PROCESS privilege: nothing to see (lock_wait_timeout still bounds)
        return []
    return parse_fallback(rows, schema, table)


def tagged_statements(conn: Conn, schema: str) -> list[Blocker]:
    """myshift statements running on the server for ``schema`` (not this connection's)."""
    found = [_thread(r) for r in statement_rows(conn, TAG_PREFIX)]
    return [b for b in found if b.db == schema or (b.info and f"`{schema}`" in b.info)]


def thread_info(conn: Conn, thread_id: int) -> Blocker | None:
    rows = thread_rows(conn, [thread_id])
    return _thread(rows[0]) if rows else None


def tag(kind: str, apply_id: int | None, seq: int, total: int) -> str:
    """``/* myshift apply 14, statement 2/5 */ `` -- prefixed to each statement run."""
    ident = f"{kind} {apply_id}" if apply_id is not None else kind
    return f"{TAG_PREFIX}{ident}, statement {seq}/{total} */ "


# ----------------------------------------------------------------------------- waiting


def blocking_transactions(
    conn: Conn, schema: str, table: str, *, min_age: float = 1.0
) -> list[Blocker]:
    """Connections that hold ``schema.table``'s metadata lock, open for ``min_age`` or more.

    From what actually holds the lock where the server shows it (see
    workflows.blockers), whatever their default schema; sub-second holders
    (short OLTP transactions) are left out: the DDL waits them out.  Without
    an MDL view, only statements that name the table are certain; other open
    transactions are left out here and named if the DDL times out.
    """
    found = []
    for name in tables_of(table):
        found += table_holders(conn, schema, name)
    return [b for b in found if b.certain and b.seconds >= min_age]


def tables_of(subject: str) -> list[str]:
    """The tables of a statement's subject (a restore step's lists several: "a, b")."""
    return [t.strip() for t in subject.split(", ") if t.strip()] or [subject]


def wait_for_blockers(
    conn: Conn,
    schema: str,
    table: str,
    deadline: float,
    on_wait: Callable[[str], None] | None,
    *,
    then: str = "apply the same plan again",
) -> None:
    """Wait with backoff while connections hold the table's MDL; refuse naming the oldest.

    ``then`` is the next step the refusal gives once the holder is gone (a
    rollback is run again rather than its plan applied).
    """
    start = time.monotonic()
    delay = 0.1
    told: set[int] = set()
    while True:
        found = blocking_transactions(conn, schema, table)
        if not found:
            return
        if time.monotonic() - start >= deadline:
            b = found[0]
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise LockTimeout(
                f"Table `{schema}`.`{table}` is held by {b.describe()}{more}; gave up after "
                f"{deadline:.0f}s without sending the statement.",
                f"Let it finish or end it (KILL {b.thread_id}), then {then}.",
            )
        if on_wait and found[0].thread_id not in told:
            told.add(found[0].thread_id)
            on_wait(f"waiting for {found[0].describe()}, which holds {table}")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


__all__ = [
    "SOURCE_MDL_INFO",
    "SOURCE_NONE",
    "SOURCE_PERFORMANCE_SCHEMA",
    "TAG_PREFIX",
    "Blocker",
    "blocking_transactions",
    "explain",
    "mdl_source",
    "parse_fallback",
    "parse_holders",
    "statement_touches",
    "table_holders",
    "tables_of",
    "tag",
    "tagged_statements",
    "thread_info",
    "wait_for_blockers",
]
