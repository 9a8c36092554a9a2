"""Load desired-state SQL into a workspace schema, so the server parses it.

``read_desired`` reads files / directories / stdin and splits them;
``load_sql`` classifies the statements (engine.classify: a schema file is
data, not a script -- anything but schema-defining statements is refused with
file:line before the first statement runs) and executes the rest, in file
order, in the workspace and nowhere else; ``load_desired`` does both and
collects rename hints.

Speed: simple statements travel in multi-statement round trips (up to
``BATCH_STATEMENTS`` per trip).  On a local server that halves the time of a
1,000-table dump compared with one round trip per statement, while keeping
file order and session semantics exact (mysqldump's ``SET character_set_client``
/ ``sql_mode`` around each object apply just as with the ``mysql`` client) --
which parallel connections would not.  A batch only holds statements the
lexer showed to have no ``;``; compound ones (routines, triggers, events) go
alone with multi-statements off.  When a statement of a batch fails, the
number of results already read says which one it was.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from myshift.db.connect import Conn, DriverError, Endpoint, connected, friendly_error
from myshift.engine.classify import Action, Classifier
from myshift.engine.definers import key as definer_key
from myshift.engine.definers import restore_definers
from myshift.engine.eventstatus import with_status
from myshift.engine.lazyre import LazyRegex
from myshift.engine.lexer import Dialect
from myshift.engine.sessionset import SessionState
from myshift.engine.split import (
    RenameHint,
    RenameHints,
    Statement,
    parse_rename_option,
    rename_hints,
    split_sql,
)
from myshift.engine.workspace import WS_PREFIX, WorkspaceEndpoint, loader_session
from myshift.errors import SQLLoadError, UsageError

if TYPE_CHECKING:
    from myshift.model.schema import Schema

__all__ = [
    "LoadReport",
    "LoadResult",
    "RenameHint",
    "RenameHints",
    "Statement",
    "allowing_empty",
    "desired_schema",
    "desired_statements_hints",
    "load_desired",
    "load_desired_sql",
    "load_sql",
    "parse_rename_option",
    "read_desired",
    "refuse_dangling",
    "restore_event_status",
]

log = logging.getLogger(__name__)

BATCH_STATEMENTS = 100
BATCH_BYTES = 1 << 20  # well under the 16 MiB default max_allowed_packet

ER_BAD_DB_ERROR = 1049
ER_NO_SUCH_TABLE = 1146
ER_SP_DOES_NOT_EXIST = 1305  # a view calling a function defined further down
_NAMED_SCHEMA = LazyRegex(r"'([^'.]+)\.[^']+'")  # "Table 'other.t' doesn't exist"
_AT_LINE = LazyRegex(r" at line (\d+)\s*$")  # "... near ')' at line 5"
_QUOTED = LazyRegex(r"'([^'.\s]+)'")  # "Unknown data type: 'intt'"


@dataclass(frozen=True)
class LoadResult:
    """What loading desired SQL produced: its statements, rename hints and warnings."""

    statements: tuple[Statement, ...]
    hints: RenameHints
    warnings: tuple[str, ...] = ()
    event_status: dict[str, str] = field(default_factory=dict, compare=False)
    definers: dict[str, str] = field(default_factory=dict, compare=False)


# --- reading ---------------------------------------------------------------------------------


def read_desired(source: str) -> list[Statement]:
    """Statements of a file, of every ``*.sql`` under a directory (sorted by path), or of stdin."""
    if source == "-":
        # The bytes, as UTF-8 whatever the locale says (a C locale would read
        # a 4-byte character as garbage or fail).
        buffer = getattr(sys.stdin, "buffer", None)
        text = sys.stdin.read() if buffer is None else _decode(buffer.read(), "Standard input")
        statements = split_sql(text, "<stdin>")
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


def _decode(data: bytes, where: object) -> str:
    try:
        return data.decode("utf-8-sig")  # editors on Windows write a BOM
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{where} is not UTF-8 text (byte {exc.start}).",
            "Convert it to UTF-8 (e.g. iconv -t utf-8) and run again.",
        ) from None


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror}.", "Check the path.") from None
    return _decode(data, path)


# --- classifying ------------------------------------------------------------------------------


@dataclass
class LoadReport:
    """What a load did besides creating objects: notes, and the events' real status.

    Events are created ``DISABLE``d in a workspace (engine.classify);
    ``event_status`` maps each event's name to the status its text asked for,
    which ``restore_event_status`` puts back into the introspected model.
    """

    warnings: list[str] = field(default_factory=list)
    event_status: dict[str, str] = field(default_factory=dict)
    # The DEFINER each object's text stated (engine.definers.key -> user@host).
    definers: dict[str, str] = field(default_factory=dict)
    # Tables whose CREATE TABLE the file runs with foreign_key_checks on (as
    # the mysql client would), by name: the statement, for refuse_dangling.
    created_checked: dict[str, Statement] = field(default_factory=dict)


class _NoopDrops:
    """Recognises ``DROP TABLE/VIEW IF EXISTS x`` before anything named x was created.

    The workspace starts empty, so mysqldump's ``DROP TABLE IF EXISTS`` before
    every table is a no-op; skipping them saves a fifth of the load time.  An
    ``ALTER TABLE ... RENAME`` turns the skipping off for the rest.
    """

    def __init__(self) -> None:
        self.created: set[str] = set()
        self.tracking = True

    def is_noop(self, act: Action) -> bool:
        if not self.tracking or act.name is None:
            return False
        if act.kind in ("DROP TABLE", "DROP VIEW"):
            return act.name not in self.created
        if act.kind in ("CREATE TABLE", "CREATE VIEW"):
            self.created.add(act.name)
        elif act.renames:
            self.tracking = False
        return False


def _classify(
    statements: list[Statement], conn: Conn, ws: Endpoint, target_schema: str | None
) -> tuple[list[Action], LoadReport]:
    """Classify every statement before any runs (engine.classify); refuse on the first bad one."""
    row = conn.query("SELECT @@SESSION.sql_mode, @@SESSION.character_set_client")[0]
    try:
        session = SessionState(str(row[0]), str(row[1]))
    except ValueError as exc:
        raise UsageError(
            f"The workspace session's sql_mode cannot be followed: {exc}.",
            "Load desired SQL with a standard sql_mode (e.g. --workspace local).",
        ) from None
    classifier = Classifier(Dialect.of(conn.flavor), session, ws.schema, target_schema)
    report = LoadReport()
    actions: list[Action] = []
    for stmt in statements:
        before = (session.sql_mode, session.charset_client)
        checks = session.fk_checks
        act = classifier.classify(stmt)
        if act.kind == "CREATE TABLE" and act.name is not None:
            if checks:
                report.created_checked[act.name] = stmt
            else:
                report.created_checked.pop(act.name, None)
        if act.note is not None:
            report.warnings.append(f"{stmt.where}: skipped `{_one_line(stmt.sql)}`: {act.note}")
        if act.sql is None:
            continue
        act.session = before
        if act.event_status is not None and act.name is not None:
            report.event_status[act.name] = act.event_status
        if act.definer is not None and act.name is not None:
            report.definers[definer_key(act.kind.removeprefix("CREATE "), act.name)] = act.definer
        actions.append(act)
    return actions, report


# --- loading ---------------------------------------------------------------------------------


def load_sql(
    statements: list[Statement],
    ws: Endpoint,
    *,
    sql_mode: str | None = None,
    target_schema: str | None = None,
    fresh: bool = False,
) -> LoadReport:
    """Classify, then execute ``statements`` in order in the workspace ``ws``.

    Anything but schema-defining statements is refused (``SQLLoadError``)
    before the first statement runs; USE / CREATE DATABASE of the schema being
    loaded are skipped with a logged warning.  ``target_schema``: the name a
    qualified name may use for the schema being loaded.  ``fresh``: ``ws`` is
    empty, so DROP ... IF EXISTS of names not created yet are skipped.
    """
    report = _load(statements, ws, sql_mode, target_schema=target_schema, fresh=fresh)
    for warning in report.warnings:
        log.warning("%s", warning)
    return report


def _mode(ws: Endpoint, sql_mode: str | None) -> str | None:
    """An explicit sql_mode wins; else the one the workspace was opened with."""
    if sql_mode is not None:
        return sql_mode
    return ws.sql_mode if isinstance(ws, WorkspaceEndpoint) else None


def _load(
    statements: list[Statement],
    ws: Endpoint,
    sql_mode: str | None,
    *,
    target_schema: str | None = None,
    fresh: bool = False,
    require_objects: bool = False,
) -> LoadReport:
    conn = loader_session(ws, sql_mode=_mode(ws, sql_mode), multi=True)
    try:
        actions, report = _classify(statements, conn, ws, target_schema)
        if require_objects and not any(a.kind.startswith("CREATE") for a in actions):
            where = statements[0].path if statements else "the desired SQL"
            raise UsageError(
                f"{where} defines no table, view, routine, trigger or event: planning against"
                " it would drop everything in the target.",
                "Check the file; if an empty schema is really what you want, pass --allow-empty.",
            )
        if fresh:
            noop = _NoopDrops()
            actions = [a for a in actions if not noop.is_noop(a)]
        _Runner(conn, ws).run(actions)
    finally:
        conn.close()
    return report


class _Runner:
    """Sends classified statements: batches of simple ones, compound ones alone.

    A batch (multi-statements on) only holds statements the lexer showed to
    have no ``;``, so the server runs exactly those.  A compound statement
    (routine, trigger, event) goes in its own round trip with multi-statements
    off, so the server refuses any text after the one statement it parses.
    """

    def __init__(self, conn: Conn, ws: Endpoint) -> None:
        self.conn = conn
        self.ws = ws
        self.multi = True
        self.deferred: list[Action] = []

    def set_multi(self, on: bool) -> None:
        if self.multi != on:
            self.conn.set_multi_statements(on)
            self.multi = on

    def run(self, actions: list[Action]) -> None:
        batch: list[Action] = []
        size = 0
        for act in actions:
            if act.alone:
                self.send(batch)
                batch, size = [], 0
                self.send([act])
                continue
            if batch and (
                len(batch) >= BATCH_STATEMENTS or size + len(act.sql or "") > BATCH_BYTES
            ):
                self.send(batch)
                batch, size = [], 0
            batch.append(act)
            size += len(act.sql or "")
        self.send(batch)
        # Retry deferred statements while that makes progress, each in the session state
        # it was classified for; then the first still failing one reports its own error.
        while self.deferred:
            pending, self.deferred = self.deferred, []
            for act in pending:
                self.retry(act, defer=True)
            if len(self.deferred) == len(pending):
                self.retry(self.deferred[0], defer=False)

    def retry(self, act: Action, *, defer: bool) -> None:
        self.set_multi(False)
        mode, charset = act.session
        self.conn.execute("SET SESSION sql_mode = %s, character_set_client = %s", (mode, charset))
        self.send([act], defer=defer)

    def send(self, batch: list[Action], *, defer: bool = True) -> None:
        """Run ``batch`` in as few round trips as possible.

        A CREATE (view, trigger) that fails because a table it names does not
        exist yet is deferred instead of failing: hand-written files may
        define a view before the view it selects from, or the function it calls.
        """
        i = 0
        while i < len(batch):
            rest = batch[i:]
            self.set_multi(len(rest) > 1)
            # "\n;\n" and not ";": a statement may end in a `-- comment`.
            sql = "\n;\n".join(a.sql or "" for a in rest)
            done = 0
            try:
                with self.conn.raw.cursor() as cur:
                    cur.execute(sql)
                    done = 1
                    while cur.nextset():
                        done += 1
                return
            except DriverError as exc:
                code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
                if code in (2006, 2013, 2003):
                    raise friendly_error(exc, self.conn.endpoint) from None
                failed = rest[done]
                if (
                    code in (ER_NO_SUCH_TABLE, ER_SP_DOES_NOT_EXIST)
                    and defer
                    and failed.kind.startswith("CREATE")
                ):
                    self.deferred.append(failed)
                    i += done + 1
                    continue
                message = str(exc.args[1] if len(exc.args) > 1 else exc)
                raise _load_error(failed, code, message, self.ws) from None


def _load_error(act: Action, code: int, message: str, ws: Endpoint) -> SQLLoadError:
    """The server's error as the file's: at the failing line, in the user's names.

    A syntax error says "near '...' at line N", N counting from the statement's
    first line (the server skips the whitespace before each statement of a
    batch); the file line is the statement's plus N - 1.
    """
    stmt = act.stmt
    line = stmt.line
    at = _AT_LINE.search(message)
    if at is not None:
        line = act.source_line(int(at.group(1)))
        message = f"{message[: at.start()]} at line {at.group(1)} of the statement"
    else:
        line = _line_naming(act, message) or line
    if ws.schema.startswith(WS_PREFIX):
        # The user never named the temporary schema; don't show it to them.
        message = message.replace(f"{ws.schema}.", "").replace(ws.schema, "<workspace>")
    named = _NAMED_SCHEMA.search(message)
    if code == ER_BAD_DB_ERROR or (
        code == ER_NO_SUCH_TABLE and named and named.group(1) != ws.schema
    ):
        message += " — the statement names another schema; desired SQL must use unqualified names"
    return SQLLoadError(stmt.path, line, f"{message} (error {code})", stmt.sql)


def _line_naming(act: Action, message: str) -> int | None:
    """The file line of the one line of the statement that holds a name the error
    quotes ("Unknown data type: 'intt'", "Key column 'x' doesn't exist"): errors
    other than syntax errors carry no line.  None when no quoted name is on exactly
    one line (a name on several lines could be any of them)."""
    if not act.sql:
        return None
    lines = act.sql.splitlines()
    for name in _QUOTED.findall(message):
        word = re.compile(rf"(?<![\w$]){re.escape(name)}(?![\w$])", re.IGNORECASE)
        hits = [i for i, text in enumerate(lines, 1) if word.search(text)]
        if len(hits) == 1:
            return act.source_line(hits[0])
    return None


def _one_line(sql: str, width: int = 60) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def desired_statements_hints(source: str) -> tuple[list[Statement], RenameHints | None]:
    """Read desired SQL and its rename hints (``None`` when there are none)."""
    statements = read_desired(source)
    hints = rename_hints(statements)
    return statements, (hints or None)


# Set by the CLI's --allow-empty: a desired schema with no objects means "drop
# everything", which is never inferred from an empty or comment-only file.
empty_allowed: ContextVar[bool] = ContextVar("myshift_empty_allowed", default=False)


@contextmanager
def allowing_empty(allow: bool = True) -> Iterator[None]:
    """Within this block, loading desired SQL that defines no object is not refused."""
    token = empty_allowed.set(allow)
    try:
        yield
    finally:
        empty_allowed.reset(token)


def load_desired_sql(
    statements: list[Statement],
    ws: Endpoint,
    *,
    sql_mode: str | None = None,
    target_schema: str | None = None,
) -> LoadReport:
    """Load the user's desired SQL into the fresh workspace ``ws``.

    Like ``load_sql``, and refuses SQL that defines no object unless
    ``allowing_empty`` is in effect.
    """
    report = _load(
        statements,
        ws,
        sql_mode,
        target_schema=target_schema,
        fresh=True,
        require_objects=not empty_allowed.get(),
    )
    for warning in report.warnings:
        log.warning("%s", warning)
    return report


def load_desired(
    source: str | list[Statement],
    ws: Endpoint,
    *,
    sql_mode: str | None = None,
    target_schema: str | None = None,
) -> LoadResult:
    """Read (if ``source`` is a path or ``-``), collect rename hints, load into ``ws``.

    Hints are collected first so a misplaced hint fails before any SQL runs.
    """
    statements = read_desired(source) if isinstance(source, str) else list(source)
    hints = rename_hints(statements)
    report = load_desired_sql(statements, ws, sql_mode=sql_mode, target_schema=target_schema)
    return LoadResult(
        tuple(statements), hints, tuple(report.warnings), report.event_status, report.definers
    )


def restore_event_status(schema: Schema, status: dict[str, str]) -> Schema:
    """Put the events' real status (from their text) back into a workspace's model.

    In the workspace every event was created DISABLE (see engine.classify);
    the model says what the desired SQL asked for, in ``status`` and in the
    ``create_sql`` a plan renders.
    """
    if not status or not schema.events:
        return schema
    folded = {name.lower(): st for name, st in status.items()}
    events = []
    for e in schema.events:
        st = status.get(e.name, folded.get(e.name.lower()))
        if st is None or st == e.status:
            events.append(e)
            continue
        create_sql = with_status(e.create_sql, st) if e.create_sql else ""
        events.append(replace(e, status=st, create_sql=create_sql))
    return replace(schema, events=tuple(events))


def refuse_dangling(schema: Schema, report: LoadReport) -> None:
    """An FK to a table the file does not define loads only with foreign_key_checks off
    (mysqldump writes that): without it, it is the file's error, at its CREATE TABLE.

    The workspace loads with checks off whatever the file says, so the server
    cannot tell; with them off the FK is kept and planned as it is
    (engine.dangling).
    """
    from myshift.engine.dangling import dangling_foreign_keys

    for table, fk in dangling_foreign_keys(schema):
        stmt = report.created_checked.get(table)
        if stmt is not None:
            raise SQLLoadError(
                stmt.path,
                stmt.line,
                f"foreign key {fk.name} of table {table} references table {fk.ref_table}, "
                "which the desired SQL does not define, with foreign_key_checks on (the "
                "mysql client would refuse it too): define the table, drop the foreign key, "
                "or SET foreign_key_checks=0 before it if the table is meant to be missing.",
                stmt.sql,
            )


def desired_schema(
    source: str | list[Statement],
    ws: Endpoint,
    *,
    sql_mode: str | None = None,
    target_schema: str | None = None,
) -> tuple[Schema, LoadResult]:
    """Load desired SQL into ``ws`` and introspect it: the desired ``Schema`` and load result."""
    from myshift.engine.introspect import introspect

    result = load_desired(source, ws, sql_mode=sql_mode, target_schema=target_schema)
    with connected(ws) as conn:
        schema: Schema = introspect(conn, ws.schema)
    schema = restore_definers(schema, dict(result.definers))
    return restore_event_status(schema, dict(result.event_status)), result
