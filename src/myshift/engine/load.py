"""Load desired-state SQL into a workspace schema, so the server parses it.

``read_desired`` reads files / directories / stdin and splits them;
``load_sql`` executes the statements, in file order, in the workspace and
nowhere else; ``load_desired`` does both and collects rename hints.

Speed: statements travel in multi-statement round trips (up to
``BATCH_STATEMENTS`` per trip).  On a local server that halves the time of a
1,000-table dump compared with one round trip per statement, while keeping
file order and session semantics exact (mysqldump's ``SET character_set_client``
/ ``sql_mode`` around each object apply just as with the ``mysql`` client) —
which parallel connections would not.  When a statement of a batch fails, the
number of results already read says which one it was.
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from myshift.db.connect import Conn, DriverError, Endpoint, connected, friendly_error
from myshift.engine.lazyre import LazyRegex
from myshift.engine.split import (
    RenameHint,
    RenameHints,
    Statement,
    parse_rename_option,
    rename_hints,
    split_sql,
    unquote_ident,
)
from myshift.engine.workspace import WS_PREFIX, WorkspaceEndpoint, loader_session
from myshift.errors import SQLLoadError, UsageError

if TYPE_CHECKING:
    from myshift.model.schema import Schema

__all__ = [
    "LoadResult",
    "RenameHint",
    "RenameHints",
    "Statement",
    "desired_schema",
    "desired_statements_hints",
    "load_desired",
    "load_sql",
    "parse_rename_option",
    "read_desired",
]

log = logging.getLogger(__name__)

BATCH_STATEMENTS = 100
BATCH_BYTES = 1 << 20  # well under the 16 MiB default max_allowed_packet

ER_EMPTY_QUERY = 1065  # a statement that is only a comment, e.g. /*!99999 ... */
ER_BAD_DB_ERROR = 1049
ER_NO_SUCH_TABLE = 1146
_NAMED_SCHEMA = LazyRegex(r"'([^'.]+)\.[^']+'")  # "Table 'other.t' doesn't exist"


@dataclass(frozen=True)
class LoadResult:
    """What loading desired SQL produced: its statements, rename hints and warnings."""

    statements: tuple[Statement, ...]
    hints: RenameHints
    warnings: tuple[str, ...] = ()


# --- reading ---------------------------------------------------------------------------------


def read_desired(source: str) -> list[Statement]:
    """Statements of a file, of every ``*.sql`` under a directory (sorted by path), or of stdin."""
    if source == "-":
        statements = split_sql(sys.stdin.read(), "<stdin>")
        if not statements:
            # An empty desired schema means "drop everything": never infer that
            # from a forgotten redirect.
            raise UsageError(
                "No desired SQL arrived on standard input.",
                "Pipe the schema in (myshift plan ... < dev_schema.sql) or pass --desired FILE.",
            )
        return statements
    path = Path(source)
    if path.is_dir():
        files = sorted(
            (p for p in path.rglob("*.sql") if p.is_file()),
            key=lambda p: p.relative_to(path).as_posix(),
        )
        if not files:
            raise UsageError(
                f"Directory {source!r} contains no *.sql files.",
                "Point at the directory holding the desired schema, or at a .sql file.",
            )
        out: list[Statement] = []
        for f in files:
            out.extend(split_sql(_read_text(f), str(f)))
        return out
    if not path.exists():
        raise UsageError(
            f"Desired SQL {source!r} does not exist.",
            "Pass an existing .sql file, a directory of .sql files, or - for stdin.",
        )
    return split_sql(_read_text(path), str(path))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")  # editors on Windows write a BOM
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path} is not UTF-8 text (byte {exc.start}).",
            "Convert it to UTF-8 (e.g. iconv -t utf-8) and run again.",
        ) from None
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror}.", "Check the path.") from None


# --- statement heads (keywords only; never structure) ---------------------------------------

# Conditional-comment markers are dropped so `/*!40000 DROP DATABASE x*/` reads as its words.
_MARKERS = LazyRegex(r"/\*M?!\d*|\*/")
_WORDS = LazyRegex(r"\s*(\w+)(?:\s+(\w+))?")
_IDENT = r"`(?:[^`]|``)*`|[A-Za-z0-9_$\u0080-\uffff]+"
_MODIFIERS = (
    r"(?:\s+(?:OR\s+REPLACE|DEFINER\s*=\s*\S+|ALGORITHM\s*=\s*\w+|SQL\s+SECURITY\s+\w+"
    r"|TEMPORARY|ONLINE|OFFLINE|IGNORE|UNIQUE|FULLTEXT|SPATIAL|AGGREGATE))*"
)
_QUALIFIED = LazyRegex(
    r"\s*(?:CREATE|ALTER|DROP|TRUNCATE|RENAME)" + _MODIFIERS + r"\s+"
    r"(?:TABLE|VIEW|PROCEDURE|FUNCTION|TRIGGER|EVENT|SEQUENCE)\s+"
    r"(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(" + _IDENT + r")\s*\.\s*(" + _IDENT + r")",
    re.IGNORECASE,
)
# Statements that yield exactly one result each, so a failing one in a batch is identifiable.
_BATCHABLE = frozenset(
    {"CREATE", "ALTER", "DROP", "SET", "INSERT", "REPLACE", "UPDATE", "DELETE", "RENAME"}
    | {"TRUNCATE", "LOCK", "UNLOCK"}
)


def _head(sql: str) -> str:
    return _MARKERS.sub(" ", sql[:400])


def _first_words(sql: str) -> tuple[str, str]:
    m = _WORDS.match(_head(sql))
    if m is None:
        return "", ""
    return m.group(1).upper(), (m.group(2) or "").upper()


def escapes_workspace(stmt: Statement) -> bool:
    """CREATE/DROP/ALTER DATABASE and USE act outside the workspace schema; they are skipped."""
    w1, w2 = _first_words(stmt.sql)
    if w1 == "USE":
        return True
    return w1 in ("CREATE", "DROP", "ALTER") and w2 in ("DATABASE", "SCHEMA")


_DROP_IF_EXISTS = LazyRegex(
    r"\s*DROP\s+(?:TEMPORARY\s+)?(?:TABLE|VIEW)\s+IF\s+EXISTS\s+(" + _IDENT + r")\s*$",
    re.IGNORECASE,
)
_CREATES = LazyRegex(
    r"\s*CREATE" + _MODIFIERS + r"\s+(?:TABLE|VIEW|SEQUENCE)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(" + _IDENT + r")(?:\s*\.\s*(" + _IDENT + r"))?",
    re.IGNORECASE,
)
_RELATION_WORD = LazyRegex(r"\b(?:TABLE|VIEW|SEQUENCE|RENAME)\b", re.IGNORECASE)


class _NoopDrops:
    """Recognises ``DROP TABLE/VIEW IF EXISTS x`` before anything named x was created.

    The workspace starts empty, so mysqldump's ``DROP TABLE IF EXISTS`` before
    every table is a no-op; skipping them saves a fifth of the load time.  Any
    statement whose effect on names we cannot read from its head (RENAME,
    ALTER ... RENAME, an unusual CREATE) turns the skipping off for the rest.
    """

    def __init__(self) -> None:
        self.created: set[str] = set()
        self.tracking = True

    def is_noop(self, stmt: Statement) -> bool:
        if not self.tracking:
            return False
        head = _head(stmt.sql)
        w1, _ = _first_words(stmt.sql)
        if w1 == "DROP":
            m = _DROP_IF_EXISTS.match(head)
            return m is not None and unquote_ident(m.group(1)).lower() not in self.created
        if w1 == "CREATE":
            m = _CREATES.match(head)
            if m:
                self.created.add(unquote_ident(m.group(2) or m.group(1)).lower())
            elif _RELATION_WORD.search(head.split("(", 1)[0]):
                self.tracking = False
        elif w1 in ("RENAME", "ALTER") and _RELATION_WORD.search(stmt.sql):
            self.tracking = w1 == "ALTER" and "RENAME" not in stmt.sql.upper()
        return False


def _check_unqualified(stmt: Statement, ws_schema: str) -> None:
    # A temp-schema workspace lives on a real server: `CREATE TABLE prod.t` or
    # `DROP TABLE prod.t` would act on another schema there, so refuse it up front.
    m = _QUALIFIED.match(_head(stmt.sql))
    if m is None:
        return
    schema = unquote_ident(m.group(1))
    if schema == ws_schema:
        return
    raise SQLLoadError(
        stmt.path,
        stmt.line,
        f"the statement names schema `{schema}` (`{schema}`.`{unquote_ident(m.group(2))}`);"
        " desired SQL describes one schema and must use unqualified names",
        stmt.sql,
    )


# --- loading ---------------------------------------------------------------------------------


def load_sql(statements: list[Statement], ws: Endpoint, *, sql_mode: str | None = None) -> None:
    """Execute ``statements`` in order in the workspace ``ws``; raise ``SQLLoadError`` on failure.

    Statements that would leave the workspace (CREATE/DROP DATABASE, USE) are
    skipped with a logged warning.
    """
    for warning in _load(statements, ws, sql_mode):
        log.warning("%s", warning)


def _mode(ws: Endpoint, sql_mode: str | None) -> str | None:
    """An explicit sql_mode wins; else the one the workspace was opened with."""
    if sql_mode is not None:
        return sql_mode
    return ws.sql_mode if isinstance(ws, WorkspaceEndpoint) else None


def _load(statements: list[Statement], ws: Endpoint, sql_mode: str | None) -> list[str]:
    warnings: list[str] = []
    runnable: list[Statement] = []
    noop = _NoopDrops()
    for stmt in statements:
        if escapes_workspace(stmt):
            warnings.append(
                f"{stmt.where}: skipped `{_one_line(stmt.sql)}`: desired SQL is loaded into "
                "a workspace schema, not into a named database"
            )
            continue
        _check_unqualified(stmt, ws.schema)
        if not noop.is_noop(stmt):
            runnable.append(stmt)
    conn = loader_session(ws, sql_mode=_mode(ws, sql_mode), multi=True)
    deferred: list[Statement] = []
    try:
        batch: list[Statement] = []
        size = 0
        for stmt in runnable:
            if _first_words(stmt.sql)[0] not in _BATCHABLE:
                _run_batch(conn, batch, ws, deferred)
                batch, size = [], 0
                _run_batch(conn, [stmt], ws, deferred)
                continue
            if batch and (len(batch) >= BATCH_STATEMENTS or size + len(stmt.sql) > BATCH_BYTES):
                _run_batch(conn, batch, ws, deferred)
                batch, size = [], 0
            batch.append(stmt)
            size += len(stmt.sql)
        _run_batch(conn, batch, ws, deferred)
        # Retry deferred statements while that makes progress; then the first still
        # failing one reports its own error.
        while deferred:
            pending, deferred = deferred, []
            for stmt in pending:
                _run_batch(conn, [stmt], ws, deferred)
            if len(deferred) == len(pending):
                _run_batch(conn, deferred[:1], ws, None)
    finally:
        conn.close()
    return warnings


def _run_batch(
    conn: Conn, batch: list[Statement], ws: Endpoint, deferred: list[Statement] | None
) -> None:
    """Run ``batch`` in as few round trips as possible.

    A CREATE (view, trigger) that fails because a table it names does not
    exist yet goes to ``deferred`` instead of failing: hand-written files may
    define a view before the view it selects from.
    """
    i = 0
    while i < len(batch):
        # "\n;" and not ";": a statement may end in a `-- comment` that would swallow the `;`.
        sql = "\n;\n".join(s.sql for s in batch[i:]) if len(batch) - i > 1 else batch[i].sql
        done = 0
        try:
            with conn.raw.cursor() as cur:
                cur.execute(sql)
                done = 1
                while cur.nextset():
                    done += 1
            return
        except DriverError as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
            if code in (2006, 2013, 2003):
                raise friendly_error(exc, conn.endpoint) from None
            failed = batch[i + done]
            if code == ER_EMPTY_QUERY:
                # Only a comment the server does not execute (e.g. a newer version's /*!...*/).
                i += done + 1
                continue
            if (
                code == ER_NO_SUCH_TABLE
                and deferred is not None
                and _first_words(failed.sql)[0] == "CREATE"
            ):
                deferred.append(failed)
                i += done + 1
                continue
            message = str(exc.args[1] if len(exc.args) > 1 else exc)
            raise _load_error(failed, code, message, ws) from None


def _load_error(stmt: Statement, code: int, message: str, ws: Endpoint) -> SQLLoadError:
    if ws.schema.startswith(WS_PREFIX):
        # The user never named the temporary schema; don't show it to them.
        message = message.replace(f"{ws.schema}.", "").replace(ws.schema, "<workspace>")
    named = _NAMED_SCHEMA.search(message)
    if code == ER_BAD_DB_ERROR or (
        code == ER_NO_SUCH_TABLE and named and named.group(1) != ws.schema
    ):
        message += " — the statement names another schema; desired SQL must use unqualified names"
    return SQLLoadError(stmt.path, stmt.line, f"{message} (error {code})", stmt.sql)


def _one_line(sql: str, width: int = 60) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def desired_statements_hints(source: str) -> tuple[list[Statement], RenameHints | None]:
    """Read desired SQL and its rename hints (``None`` when there are none)."""
    statements = read_desired(source)
    hints = rename_hints(statements)
    return statements, (hints or None)


def load_desired(
    source: str | list[Statement], ws: Endpoint, *, sql_mode: str | None = None
) -> LoadResult:
    """Read (if ``source`` is a path or ``-``), collect rename hints, load into ``ws``.

    Hints are collected first so a misplaced hint fails before any SQL runs.
    """
    statements = read_desired(source) if isinstance(source, str) else list(source)
    hints = rename_hints(statements)
    warnings = _load(statements, ws, sql_mode)
    for warning in warnings:
        log.warning("%s", warning)
    return LoadResult(tuple(statements), hints, tuple(warnings))


def desired_schema(
    source: str | list[Statement], ws: Endpoint, *, sql_mode: str | None = None
) -> tuple[Schema, LoadResult]:
    """Load desired SQL into ``ws`` and introspect it: the desired ``Schema`` and load result."""
    from myshift.engine.introspect import introspect

    result = load_desired(source, ws, sql_mode=sql_mode)
    with connected(ws) as conn:
        schema: Schema = introspect(conn, ws.schema)
    return schema, result
