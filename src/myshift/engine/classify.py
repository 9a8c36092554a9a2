"""Decide, before anything runs, what each statement of desired SQL may do.

A schema file is data, not a script.  Desired SQL is executed in a workspace
schema on a real server (often the target's own), so every statement is
lexed the way that server will read it (engine.lexer: conditional comments
resolved, sql_mode tracked) and classified:

* sent: ``CREATE TABLE / VIEW / PROCEDURE / FUNCTION / TRIGGER / EVENT /
  INDEX`` (with ``OR REPLACE``, ``IF NOT EXISTS``, ``DEFINER=``,
  ``ALGORITHM=``, ``SQL SECURITY``), ``ALTER TABLE``, ``DROP <kind> IF EXISTS
  <one name>``, and the session ``SET``s dump tools write (by variable name,
  see engine.sessionset);
* absorbed (skipped with a note): ``USE x`` / ``CREATE DATABASE x`` /
  ``ALTER DATABASE x`` naming the schema being loaded, and mysqldump's
  ``SQL_LOG_BIN`` / ``GTID_PURGED`` lines;
* refused, with file:line, the statement's first words and why: everything
  else.

Every name a sent statement creates or targets (the object, a trigger's or
index's ``ON`` table, ``REFERENCES`` and ``LIKE`` tables, ``RENAME TO`` and
partition-exchange tables) must be unqualified or qualified with the schema
being loaded; such a qualifier is rewritten to the workspace schema.  The
schema being loaded is the one the first ``USE`` / ``CREATE DATABASE`` names,
else the target's.  Bodies of views, routines, triggers and events may read
other schemas: they are stored, never run.

The workspace stays inert: ``DEFINER`` clauses are dropped (objects belong
to the loading user), events are created ``DISABLE``d (their real status is
recorded here and put back into the model after introspection), and the
one-statement-per-round-trip rule for compound statements (``alone``) lets the
server's own parser, with multi-statements off, refuse any text after them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from myshift.engine.definers import stated_account
from myshift.engine.eventstatus import set_status
from myshift.engine.lexer import (
    BT,
    DQ,
    PUNCT,
    SQ,
    WORD,
    Dialect,
    Lexed,
    LexError,
    lex,
    quote,
    relex_matches,
)
from myshift.engine.sessionset import UTF8, SessionState, classify_select_into, classify_set
from myshift.engine.split import Statement
from myshift.errors import SQLLoadError

# Engines whose tables reach outside the server or into other tables.
_OUTSIDE_ENGINES = frozenset(
    {"FEDERATED", "FEDERATEDX", "CONNECT", "SPIDER", "S3", "MERGE", "MRG_MYISAM", "OQGRAPH"}
)
# CREATE TABLE ... [AS] SELECT / TABLE t / VALUES ... / WITH cte ..., at the top level.
_QUERY_WORDS = frozenset({"AS", "IGNORE", "REPLACE", "TABLE", "VALUES", "WITH"})
_TABLE_WORDS = _QUERY_WORDS | {
    "REFERENCES",
    "DATA",
    "INDEX",
    "ENGINE",
    "CONNECTION",
    "UNION",
    "DISCARD",
    "IMPORT",
    "RENAME",
}
_RENAME_PARTS = frozenset({"COLUMN", "INDEX", "KEY", "CONSTRAINT"})
_ROUTINES = frozenset({"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"})
_DROPPABLE = frozenset({"TABLE", "VIEW", "PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"})
_SCHEDULE_WORDS = frozenset(
    {"AT", "EVERY", "STARTS", "ENDS", "INTERVAL", "CURRENT_TIMESTAMP", "NOW", "LOCALTIME"}
    | {"LOCALTIMESTAMP", "CURRENT_DATE", "CURDATE", "UTC_TIMESTAMP", "TIMESTAMP", "DATE"}
    | {"MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}
    | {"SECOND_MICROSECOND", "MINUTE_MICROSECOND", "MINUTE_SECOND", "HOUR_MICROSECOND"}
    | {"HOUR_SECOND", "HOUR_MINUTE", "DAY_MICROSECOND", "DAY_SECOND", "DAY_MINUTE"}
    | {"DAY_HOUR", "YEAR_MONTH"}
)
_WHY_NOT = {
    "INSERT": "it writes rows",
    "REPLACE": "it writes rows",
    "UPDATE": "it changes rows",
    "DELETE": "it deletes rows",
    "TRUNCATE": "it deletes rows",
    "LOAD": "it reads files into tables",
    "SELECT": "queries are not part of a schema (and may read files, sleep or write files)",
    "CALL": "it runs a routine",
    "PREPARE": "it builds statements at run time",
    "EXECUTE": "it runs statements built at run time",
    "DO": "it evaluates expressions",
    "RENAME": "it renames objects (rename hints say that: -- myshift:renamed-from old)",
    "GRANT": "privileges are not part of a schema",
    "REVOKE": "privileges are not part of a schema",
    "LOCK": "it takes locks",
    "UNLOCK": "it releases locks",
    "FLUSH": "it acts on the server",
    "PURGE": "it acts on the server",
    "SHUTDOWN": "it acts on the server",
    "KILL": "it acts on the server",
    "INSTALL": "it installs server plugins",
    "UNINSTALL": "it removes server plugins",
    "HANDLER": "it reads rows",
    "BINLOG": "it replays binary log events",
    "XA": "it controls transactions",
    "CHANGE": "it configures replication",
}


@dataclass
class Action:
    """What the loader does with one statement of desired SQL."""

    stmt: Statement
    sql: str | None  # the resolved text to send; None: not sent (absorbed or empty)
    kind: str = ""  # e.g. "CREATE TABLE", "SET", "DROP VIEW"
    alone: bool = False  # a compound statement: its own round trip, multi-statements off
    note: str | None = None  # why it was absorbed
    name: str | None = None  # the object it creates/drops (unqualified)
    renames: bool = False  # ALTER TABLE ... RENAME: names change in ways we do not track
    event_status: str | None = None  # CREATE EVENT: ENABLED / DISABLED / SLAVESIDE_DISABLED
    definer: str | None = None  # CREATE ... DEFINER=u@h: what the text stated (then blanked)
    session: tuple[str, str] = ("", "")  # (sql_mode, client charset) it was classified for
    line_shifts: tuple[tuple[int, int], ...] = ()  # Lexed.line_shifts of ``sql``

    def source_line(self, line: int) -> int:
        """The file line of line ``line`` (1-based) of the sent text ``sql``."""
        extra = sum(lost for at, lost in self.line_shifts if line > at)
        return self.stmt.line + max(line, 1) - 1 + extra


class Classifier:
    """Classifies the statements of one load, in order, tracking session state."""

    def __init__(
        self,
        dialect: Dialect,
        session: SessionState,
        ws_schema: str,
        target_schema: str | None = None,
    ) -> None:
        self.dialect = dialect
        self.session = session
        self.ws_schema = ws_schema
        self.target_schema = target_schema
        self.loaded: str | None = None  # the schema the file describes, once known

    # --- entry point ---------------------------------------------------------------------

    def classify(self, stmt: Statement) -> Action:
        mode = self.session.mode
        charset = self.session.charset_client
        if charset not in UTF8 and not stmt.sql.isascii():
            raise _error(
                stmt,
                0,
                f"non-ASCII text under character_set_client={charset}: the server would not read"
                " it as written (set the client character set to utf8mb4)",
            )
        try:
            lx = lex(stmt.sql, self.dialect, mode)
        except LexError as exc:
            raise _error(stmt, exc.offset, exc.message) from None
        if not lx.toks:
            return Action(stmt, None, "empty")
        if lx.conditional and not relex_matches(lx):
            raise _error(stmt, 0, "its conditional comments resolve to different tokens")
        act = _Statement(self, stmt, lx).classify()
        if act.sql is not None and not act.alone and _has_semicolon(lx):
            raise self.refuse(
                stmt, lx, "it holds a `;` the server would read as a second statement"
            )
        return act

    # --- names -----------------------------------------------------------------------------

    def use_schema(self, stmt: Statement, lx: Lexed, name: str) -> None:
        """``USE x`` / ``CREATE DATABASE x``: the first defines the schema being loaded."""
        if self.loaded is None:
            self.loaded = name
        elif name != self.loaded:
            raise self.refuse(
                stmt,
                lx,
                f"it names schema `{name}` after the file described `{self.loaded}`;"
                " desired SQL describes one schema",
            )

    def check_qualifier(self, stmt: Statement, lx: Lexed, k: int) -> None:
        """A name's qualifier (significant token k): the loaded schema, rewritten, or refused."""
        schema = lx.name(k)
        if schema == self.ws_schema:
            return
        expected = self.loaded if self.loaded is not None else self.target_schema
        if schema != expected:
            raise self.refuse(
                stmt,
                lx,
                f"it names an object in schema `{schema}`; desired SQL describes one schema"
                " (use unqualified names)",
            )
        self.loaded = schema
        lx.replace(k, k, quote(self.ws_schema))

    def refuse(self, stmt: Statement, lx: Lexed, why: str) -> SQLLoadError:
        return SQLLoadError(
            stmt.path,
            stmt.line,
            f"refused `{_first_words(lx)}`: {why}",
            stmt.sql,
        )


def _error(stmt: Statement, offset: int, message: str) -> SQLLoadError:
    line = stmt.line + stmt.sql.count("\n", 0, offset)
    return SQLLoadError(stmt.path, line, message, stmt.sql)


def _first_words(lx: Lexed, limit: int = 8) -> str:
    """The statement's first words as it reads once resolved, on one line."""
    if lx.conditional or len(lx) <= limit:
        text = " ".join(lx.toks[:limit])
    else:
        spans = lx.spans()
        text = " ".join(lx.source[spans[0][0] : spans[limit - 1][1]].split())
    if len(lx) > limit:
        text += " ..."
    return text if len(text) <= 80 else text[:77] + "..."


def _at(items: list[str], word: str, start: int) -> Iterator[int]:
    """Indexes of ``word`` in ``items`` from ``start`` on (list.index runs in C)."""
    try:
        while True:
            start = items.index(word, start)
            yield start
            start += 1
    except ValueError:
        return


def _has_semicolon(lx: Lexed) -> bool:
    return ";" in lx.toks


class _Statement:
    """One statement being classified: a cursor over its significant tokens."""

    def __init__(self, owner: Classifier, stmt: Statement, lx: Lexed) -> None:
        self.c = owner
        self.stmt = stmt
        self.lx = lx
        self.n = len(lx)

    def w(self, k: int) -> str:
        return self.lx.word(k)

    def refuse(self, why: str) -> SQLLoadError:
        return self.c.refuse(self.stmt, self.lx, why)

    def send(self, kind: str, **kw: object) -> Action:
        act = Action(self.stmt, self.lx.text(), kind, **kw)  # type: ignore[arg-type]
        act.line_shifts = self.lx.line_shifts  # as text() left them
        return act

    def absorb(self, note: str) -> Action:
        return Action(self.stmt, None, "absorbed", note=note)

    # --- dispatch --------------------------------------------------------------------------

    def classify(self) -> Action:
        w0, w1 = self.w(0), self.w(1)
        if w0 == "USE":
            _, name = self.name(1, check=False)
            self.c.use_schema(self.stmt, self.lx, name)
            return self.absorb("desired SQL is loaded into a workspace schema, not a named one")
        if w0 in ("CREATE", "ALTER") and w1 in ("DATABASE", "SCHEMA"):
            return self.database(w0)
        if w0 == "CREATE":
            return self.create()
        if w0 == "ALTER":
            return self.alter()
        if w0 == "DROP":
            return self.drop()
        if w0 == "SET":
            return self.set()
        if w0 == "SELECT":
            return self.select_into()
        why = _WHY_NOT.get(w0, "desired SQL may only define schema objects")
        raise self.refuse(why)

    def select_into(self) -> Action:
        """Only ``SELECT <session value> INTO @var`` (sessionset.classify_select_into)."""
        try:
            classify_select_into(self.lx, self.c.session)
        except ValueError:
            raise self.refuse(_WHY_NOT["SELECT"]) from None
        return self.send("SET")

    def set(self) -> Action:
        try:
            note = classify_set(self.lx, self.c.session)
        except ValueError as exc:
            raise self.refuse(str(exc)) from None
        if note is not None:
            return self.absorb(note)
        return self.send("SET")

    def database(self, verb: str) -> Action:
        k = 2
        if verb == "CREATE":
            k = self.if_exists(k, negated=True)
        elif self.w(k) in ("CHARACTER", "CHARSET", "DEFAULT", "COLLATE", "COMMENT", ""):
            return self.absorb("the workspace schema keeps the target's defaults")
        _, name = self.name(k, check=False)
        self.c.use_schema(self.stmt, self.lx, name)
        return self.absorb("desired SQL is loaded into a workspace schema, not a named one")

    # --- names -------------------------------------------------------------------------------

    def name(self, k: int, *, check: bool = True) -> tuple[int, str]:
        """Parse a (possibly qualified) name at k; return (next k, unqualified name)."""
        lx = self.lx
        if self.w(k) == "." and lx.kind(k) == PUNCT:
            k += 1  # `.t`: the current (workspace) schema
        if lx.kind(k) not in (WORD, BT, DQ):
            raise self.refuse("an object name was expected")
        first = k
        if self.w(k + 1) == "." and lx.kind(k + 1) == PUNCT:
            if lx.kind(k + 2) not in (WORD, BT, DQ):
                raise self.refuse("an object name was expected after the `.`")
            if self.w(k + 3) == "." and lx.kind(k + 3) == PUNCT:
                raise self.refuse("an object name has more than two parts")
            if check:
                self.c.check_qualifier(self.stmt, lx, first)
            else:
                raise self.refuse(f"`{lx.name(first)}.` qualifies a schema name")
            k += 2
        return k + 1, lx.name(k)

    def if_exists(self, k: int, *, negated: bool) -> int:
        words = ("IF", "NOT", "EXISTS") if negated else ("IF", "EXISTS")
        if all(self.w(k + j) == word for j, word in enumerate(words)):
            return k + len(words)
        return k

    def blank(self, start: int, end: int) -> None:
        """Remove significant tokens start..end-1 (and what lies between) from the text."""
        self.lx.replace(start, end - 1, " ")

    # --- CREATE ------------------------------------------------------------------------------

    def create(self) -> Action:
        k = 1
        index_kind = False
        definer: str | None = None
        while True:
            word = self.w(k)
            if word == "OR" and self.w(k + 1) == "REPLACE":
                k += 2
            elif word == "DEFINER" and self.w(k + 1) == "=":
                end = self.definer_end(k + 2)
                # Objects in the workspace belong to the loading user; the
                # definer is data, kept for the model (engine.definers).
                definer = stated_account(self.lx, k + 2)
                self.blank(k, end)
                k = end
            elif (word == "ALGORITHM" and self.w(k + 1) == "=") or (
                word == "SQL" and self.w(k + 1) == "SECURITY"
            ):
                k += 3
            elif word == "AGGREGATE":
                k += 1
            elif word in ("UNIQUE", "FULLTEXT", "SPATIAL"):
                k, index_kind = k + 1, True
            elif word == "TEMPORARY":
                raise self.refuse("temporary tables are not part of a schema")
            else:
                break
        kind = self.w(k)
        if index_kind and kind != "INDEX":
            raise self.refuse("desired SQL may only define schema objects")
        k += 1
        if kind == "TABLE":
            return self.create_table(k)
        if kind == "INDEX":
            k = self.if_exists(k, negated=True)
            k, _ = self.name(k, check=False)
            self.check_on_table(k)
            return self.send("CREATE INDEX")
        if kind == "VIEW":
            k, name = self.name(self.if_exists(k, negated=True))
            return self.send("CREATE VIEW", name=name.lower(), definer=definer)
        if kind in _ROUTINES:
            k, name = self.name(self.if_exists(k, negated=True))
            if kind == "FUNCTION" and self.w(k) != "(":
                raise self.refuse("loadable (SONAME) functions are server plugins, not schema")
            if kind == "TRIGGER":
                self.check_on_table(k)
            status = self.event(k) if kind == "EVENT" else None
            return self.send(
                f"CREATE {kind}", alone=True, name=name, event_status=status, definer=definer
            )
        raise self.refuse(f"CREATE {kind} does not define an object of a schema")

    def definer_end(self, k: int) -> int:
        if self.w(k) in ("CURRENT_USER", "CURRENT_ROLE"):
            return k + 3 if self.w(k + 1) == "(" and self.w(k + 2) == ")" else k + 1
        if self.lx.kind(k) not in (WORD, BT, SQ, DQ):
            raise self.refuse("a DEFINER user was expected")
        if self.w(k + 1) == "@" and self.lx.kind(k + 2) in (WORD, BT, SQ, DQ):
            return k + 3
        return k + 1

    def check_on_table(self, k: int) -> None:
        """The table after the first top-level ``ON`` (a trigger's or an index's)."""
        depth = 0
        while k < self.n:
            word = self.w(k)
            if word == "(":
                depth += 1
            elif word == ")":
                depth -= 1
            elif word == "ON" and depth == 0 and self.lx.kind(k) == WORD:
                self.name(k + 1)
                return
            k += 1
        raise self.refuse("no ON table was found")

    def create_table(self, k: int) -> Action:
        k, name = self.name(self.if_exists(k, negated=True))
        if self.w(k) == "LIKE":
            self.name(k + 1)
        elif self.w(k) == "(" and self.w(k + 1) == "LIKE":
            self.name(k + 2)
        self.table_options(k, create=True)
        return self.send("CREATE TABLE", name=name.lower())

    def table_options(self, k: int, *, create: bool) -> bool:
        """Check the rest of CREATE/ALTER TABLE; return whether it renames the table.

        Only the few keywords that matter are visited (a 1,000-table dump has
        ~300,000 tokens, classified in well under a second this way).
        """
        lx = self.lx
        ups = lx.ups
        if "SELECT" in ups:
            raise self.refuse("CREATE TABLE ... SELECT copies rows; define the columns")
        renames = False
        for j in sorted(i for word in _TABLE_WORDS.intersection(ups) for i in _at(ups, word, k)):
            word, nxt = ups[j], self.w(j + 1)
            if lx.kind(j) != WORD:
                continue
            if create and word in _QUERY_WORDS and (word != "WITH" or nxt != "SYSTEM"):
                before = ups[k:j]
                if before.count("(") == before.count(")"):  # at the top level
                    raise self.refuse("CREATE TABLE from a query copies rows; define the columns")
            if word == "REFERENCES" or (word == "TABLE" and not create):
                self.name(j + 1)
            elif word in ("DATA", "INDEX") and nxt == "DIRECTORY":
                raise self.refuse("DATA/INDEX DIRECTORY puts files outside the server's datadir")
            elif word == "ENGINE":
                e = j + 2 if nxt == "=" else j + 1
                engine = lx.name(e).upper() if e < self.n else ""
                if engine in _OUTSIDE_ENGINES:
                    raise self.refuse(f"ENGINE={engine} tables reach outside the schema")
            elif word == "CONNECTION" and (nxt == "=" or lx.kind(j + 1) in (SQ, DQ)):
                raise self.refuse("CONNECTION= tables reach other servers")
            elif word == "UNION" and nxt in ("=", "("):
                raise self.refuse("MERGE tables (UNION=) reach other tables")
            elif not create and word in ("DISCARD", "IMPORT"):
                raise self.refuse("tablespace files are not part of a schema")
            elif not create and word == "RENAME" and nxt not in _RENAME_PARTS:
                self.name(j + 2 if nxt in ("TO", "AS") else j + 1)
                renames = True
        return renames

    def event(self, k: int) -> str:
        """Check a CREATE EVENT's schedule; make it DISABLE; return its real status."""
        if not (self.w(k) == "ON" and self.w(k + 1) == "SCHEDULE"):
            raise self.refuse("ON SCHEDULE was expected")
        k += 2
        while k < self.n:
            word, kind = self.w(k), self.lx.kind(k)
            if kind == WORD and word in ("ON", "ENABLE", "DISABLE", "COMMENT", "DO"):
                break
            if not (
                kind == SQ
                or (kind == WORD and (word in _SCHEDULE_WORDS or word.isdigit()))
                or (kind == PUNCT and word in "+-().:")
            ):
                raise self.refuse(
                    f"`{self.lx.toks[k]}` in an event schedule (the server"
                    " evaluates it when the event is created)"
                )
            k += 1
        return set_status(self.lx, k, "DISABLE", create=True) or "ENABLED"

    # --- ALTER / DROP ------------------------------------------------------------------------

    def alter(self) -> Action:
        k = 1
        while self.w(k) in ("ONLINE", "OFFLINE", "IGNORE"):
            k += 1
        if self.w(k) != "TABLE":
            raise self.refuse("desired SQL may only ALTER TABLE; define other objects with CREATE")
        k, name = self.name(self.if_exists(k + 1, negated=False))
        renames = self.table_options(k, create=False)
        return self.send("ALTER TABLE", name=name.lower(), renames=renames)

    def drop(self) -> Action:
        kind = self.w(1)
        if kind not in _DROPPABLE:
            raise self.refuse(f"DROP {kind} does not belong in desired SQL")
        k = self.if_exists(2, negated=False)
        if k == 2:
            raise self.refuse("desired SQL may only DROP ... IF EXISTS what it defines")
        lx = self.lx
        first = k
        k, name = self.name(k)
        if kind in ("TABLE", "VIEW") and self.w(k) in ("RESTRICT", "CASCADE"):
            k += 1
        if k < self.n:
            raise self.refuse("desired SQL may only drop one object per statement")
        if self.w(first + 1) != ".":
            # Qualify it with the workspace: an unqualified DROP FUNCTION may drop a
            # server-wide loadable function of that name.
            if self.w(first) == ".":
                lx.replace(first, first, quote(self.c.ws_schema) + ".")
            else:
                lx.insert_before(first, quote(self.c.ws_schema) + ".")
        return self.send(f"DROP {kind}", name=name.lower())
