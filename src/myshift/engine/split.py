"""Split desired-state SQL into statements the way the ``mysql`` client does.

Pure Python, no driver.  This module knows only the *lexical* rules the client
applies before anything reaches the server: ``DELIMITER`` lines, quoted strings
and identifiers, comments.  It never learns the structure of a statement — the
server is the parser.

mysqldump's conditional comments (``/*!50003 CREATE*/``, MariaDB's
``/*M!100100 ...*/``) are kept in the statement text: the server decides from
the version number whether to execute them.  Like the ``mysql`` client, a
delimiter inside one still ends the statement, because mysqldump writes
``/*!50003 CREATE*/ /*!50017 DEFINER=...*/ /*!50003 TRIGGER ... END */;;``.

The scan is one compiled regex that jumps from one interesting token (quote,
comment, delimiter, ``DELIMITER`` line) to the next, so a 5 MB dump splits in a
fraction of a second.

The only other text inspection allowed here is for rename hints
(``-- myshift:renamed-from old``): which column or table a hint belongs to is
the first identifier of the hint's line (see ``rename_hints``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from myshift.engine.lazyre import LazyRegex
from myshift.errors import SQLLoadError


@dataclass(frozen=True)
class RenameHint:
    """One ``-- myshift:renamed-from old`` comment, as found by the splitter.

    ``column`` is the first identifier of the hint's line when the hint sits on
    a line of the statement other than its first; ``None`` means the hint is on
    the statement's first line or in the comments just before it, i.e. it
    renames the table itself.
    """

    line: int
    old: str
    column: str | None = None


@dataclass(frozen=True)
class Statement:
    """One statement of desired SQL, without its trailing delimiter."""

    sql: str
    path: str = "<stdin>"
    line: int = 1  # 1-based line of the statement's first token
    hints: tuple[RenameHint, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class RenameHints:
    """Renames declared by the user; engine.diff turns drop+add into a rename.

    ``tables`` maps new table name -> old table name; ``columns`` maps
    (table as named in the desired SQL, new column) -> old column.
    """

    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[tuple[str, str], str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.tables or self.columns)

    def merged(self, other: RenameHints) -> RenameHints:
        """``other`` wins on conflicts (a CLI ``--rename`` overrides a comment)."""
        return RenameHints({**self.tables, **other.tables}, {**self.columns, **other.columns})


# --- the scanner ----------------------------------------------------------------------------

_IDENT = r"`(?:[^`]|``)*`|[A-Za-z0-9_$\u0080-\uffff]+"

_TOKENS = r"""
 (?P<sq>'[^'\\]*(?:(?:\\.|'')[^'\\]*)*(?:'|\Z))
|(?P<dq>"[^"\\]*(?:(?:\\.|"")[^"\\]*)*(?:"|\Z))
|(?P<bt>`[^`]*(?:``[^`]*)*(?:`|\Z))
|(?P<lc>(?:--(?=[ \t\r\n]|\Z)|\#)[^\n]*)
|(?P<bc>/\*(?:M?!999999|(?!M?!))[\s\S]*?(?:\*/|\Z))
|(?P<dcmd>\n[ \t]*(?i:DELIMITER)(?=[ \t]))
|(?P<delim>{delim})
"""

_NONSPACE = LazyRegex(r"\S")
# The same tokens, terminated: a token matching its pattern above only by reaching the
# end of the text swallowed the rest of the file, which is refused with its line.
_CLOSED = {
    "sq": LazyRegex(r"'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'", re.DOTALL),
    "dq": LazyRegex(r'"[^"\\]*(?:(?:\\.|"")[^"\\]*)*"', re.DOTALL),
    "bt": LazyRegex(r"`[^`]*(?:``[^`]*)*`"),
    "bc": LazyRegex(r"/\*[\s\S]*\*/"),
}
_UNCLOSED = {
    "sq": "quoted string (')",
    "dq": 'quoted string (")',
    "bt": "quoted identifier (`)",
    "bc": "comment (/*)",
}
_TOKEN_STARTS = frozenset("'\"`-#/\n")
# Between statements: whitespace and comments that are neither hints nor DELIMITER lines.
_LEAD = LazyRegex(
    r"""(?:
      [ \t\r\f\v]++
     |\n(?![ \t]*(?i:DELIMITER)[ \t])
     |(?:--(?=[ \t\r\n])|\#)(?![^\n]*myshift:)[^\n]*+
     |/\*(?:M?!999999|(?!M?!))(?:[^*]++|\*(?!/))*+\*/
    )*+""",
    re.VERBOSE | re.DOTALL,
)
_HINT = LazyRegex(r"myshift:renamed-from\s+(" + _IDENT + r")", re.IGNORECASE)
_FIRST_IDENT = LazyRegex(r"[ \t]*(" + _IDENT + r")")
_DELIM_ARG = LazyRegex(r"[ \t]+(\S+)[^\n]*")


# Inside a statement almost everything is "more of the statement": this matches a whole
# run of plain text, strings, identifiers and ordinary comments in one C-level call and
# stops only at the delimiter, a rename-hint comment, or something unterminated.
_BODY = r"""(?:
  [^'"`\#/\-{d0}]++
 |'[^'\\]*+(?:(?:\\.|'')[^'\\]*+)*+'
 |"[^"\\]*+(?:(?:\\.|"")[^"\\]*+)*+"
 |`[^`]*+(?:``[^`]*+)*+`
 |(?:--(?=[ \t\r\n])|\#)(?![^\n]*myshift:)[^\n]*+
 |/\*(?!M?!)(?:[^*]++|\*(?!/))*+\*/
 |(?!{delim}|--[ \t\r\n])[/\-{d0}]
)*+"""


@lru_cache(maxsize=16)
def _scanner(delim: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    flags = re.VERBOSE | re.DOTALL
    d0 = re.escape(delim[0])
    return (
        re.compile(_TOKENS.format(delim=re.escape(delim)), flags),
        re.compile(_BODY.format(delim=re.escape(delim), d0=d0), flags),
    )


def unquote_ident(text: str) -> str:
    if len(text) >= 2 and text[0] == "`" and text[-1] == "`":
        return text[1:-1].replace("``", "`")
    return text


def split_sql(text: str, path: str = "<stdin>") -> list[Statement]:
    """Split ``text`` into statements; empty statements and comment-only parts are dropped."""
    return _Splitter(text, path).run()


class _Splitter:
    """One pass of ``split_sql`` over one text: the state its loop carries between tokens.

    ``run`` is the hot loop; the rarer events (a token found by the full scanner, a
    ``DELIMITER`` line, a rename hint) are methods so the loop stays short.
    """

    __slots__ = (
        "body", "counted_at", "counted_line", "delim", "hints", "out", "pat", "path",
        "prev_end_line", "start", "start_line", "text",
    )  # fmt: skip

    def __init__(self, text: str, path: str) -> None:
        # A leading newline lets the DELIMITER token start with "\n" instead of "^", which
        # keeps the regex's first-character fast path (3x faster); lines count from 0 for it.
        self.text = "\n" + text
        self.path = path
        self.out: list[Statement] = []
        self.delim = ";"
        self.pat, self.body = _scanner(self.delim)
        self.start: int | None = None  # offset of the current statement's first token
        self.start_line = 1
        self.hints: list[RenameHint] = []
        # Line counting is incremental: newlines between the last counted offset and here.
        self.counted_at = 0
        self.counted_line = 0
        # Where the previous statement ended, so a hint after `;` on the same line joins it.
        self.prev_end_line = 0

    def run(self) -> list[Statement]:
        text = self.text
        n = len(text)
        pos = 0
        while pos < n:
            # Both patterns can match "", so match() never returns None.
            # Fast paths: most statements need no token search at all.
            if self.start is not None:
                pos = self.body.match(text, pos).end()  # type: ignore[union-attr]
                if text.startswith(self.delim, pos):
                    self.finish(pos)
                    pos += len(self.delim)
                    continue
            else:
                pos = _LEAD.match(text, pos).end()  # type: ignore[union-attr]
                if pos < n and (
                    text[pos] not in _TOKEN_STARTS or text.startswith(("/*!", "/*M!"), pos)
                ):
                    self.begin(pos)
                    continue
            m = self.pat.search(text, pos)
            if self.start is None:
                ns = _NONSPACE.search(text, pos, m.start() if m else n)
                if ns:
                    self.begin(ns.start())
            if m is None:
                break
            pos = self.token(m)
        self.finish(n)
        return self.out

    def line_at(self, offset: int) -> int:
        self.counted_line += self.text.count("\n", self.counted_at, offset)
        self.counted_at = offset
        return self.counted_line

    def begin(self, offset: int) -> None:
        self.start = offset
        self.start_line = self.line_at(offset)

    def finish(self, end: int) -> None:
        if self.start is not None:
            sql = self.text[self.start : end].rstrip()
            if sql:
                self.out.append(Statement(sql, self.path, self.start_line, tuple(self.hints)))
            self.prev_end_line = self.line_at(end)
        self.start = None
        self.hints = []

    def token(self, m: re.Match[str]) -> int:
        """Handle one token found by the full scanner; return where scanning goes on."""
        kind = m.lastgroup
        if kind == "delim":
            self.finish(m.start())
            return m.end()
        if kind == "dcmd":
            return self.delimiter_command(m)
        if kind in _CLOSED and m.end() == len(self.text) and not _CLOSED[kind].fullmatch(m[0]):
            raise SQLLoadError(
                self.path,
                self.line_at(m.start()),
                f"unterminated {_UNCLOSED[kind]}: it runs to the end of the file",
            )
        if kind == "lc" or kind == "bc":
            if kind == "lc" and "myshift:" in m.group():
                self.collect_hint(m)
            return m.end()
        # A string or quoted identifier: statement content.
        if self.start is None:
            self.begin(m.start())
        return m.end()

    def delimiter_command(self, m: re.Match[str]) -> int:
        """A ``DELIMITER`` word at the start of a line; a command only between statements."""
        if self.start is None:
            arg = _DELIM_ARG.match(self.text, m.end())
            if arg:
                self.delim = arg.group(1)
                self.pat, self.body = _scanner(self.delim)
                return arg.end()
            # Not at a statement boundary: just a word in the statement.
            self.begin(m.start() + len(m.group()) - len(m.group().lstrip()))
        return m.end()

    def collect_hint(self, m: re.Match[str]) -> None:
        """Attach the rename hint in comment ``m`` to its statement (and column, if any)."""
        hm = _HINT.search(m.group())
        if hm is None:
            return
        line = self.line_at(m.start())
        old = unquote_ident(hm.group(1))
        out = self.out
        if self.start is None:
            if out and self.prev_end_line == line:
                # `CREATE TABLE t (...); -- myshift:renamed-from old` on one line.
                prev = out[-1]
                column = None if prev.line == line else _first_ident_of_line(self.text, m.start())
                out[-1] = Statement(
                    prev.sql, prev.path, prev.line, (*prev.hints, RenameHint(line, old, column))
                )
            else:
                self.hints.append(RenameHint(line, old, None))
            return
        column = None if line == self.start_line else _first_ident_of_line(self.text, m.start())
        self.hints.append(RenameHint(line, old, column))


def _first_ident_of_line(text: str, offset: int) -> str:
    """The first identifier of the line holding ``offset`` ("" if the line has none)."""
    bol = text.rfind("\n", 0, offset) + 1
    fm = _FIRST_IDENT.match(text, bol, offset)
    return unquote_ident(fm.group(1)) if fm else ""


# --- rename hints -------------------------------------------------------------------------

_CREATE_TABLE = LazyRegex(
    r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(" + _IDENT + r")(?:\s*\.\s*(" + _IDENT + r"))?",
    re.IGNORECASE,
)


def created_table(stmt: Statement) -> str | None:
    """The table a ``CREATE TABLE`` statement creates (unqualified), else ``None``."""
    m = _CREATE_TABLE.match(stmt.sql)
    if m is None:
        return None
    return unquote_ident(m.group(2) or m.group(1))


def rename_hints(statements: list[Statement]) -> RenameHints:
    """Collect ``-- myshift:renamed-from`` hints; a misplaced hint is an error.

    A misplaced hint is not ignored: silently dropping it would turn the rename
    the user asked for into a drop + add, losing the column's data.
    """
    tables: dict[str, str] = {}
    columns: dict[tuple[str, str], str] = {}
    for stmt in statements:
        if not stmt.hints:
            continue
        table = created_table(stmt)
        for hint in stmt.hints:
            if table is None:
                raise SQLLoadError(
                    stmt.path,
                    hint.line,
                    "the myshift:renamed-from hint is not inside or just before a CREATE TABLE",
                )
            if hint.column is None:
                tables[table] = hint.old
            elif hint.column == "":
                raise SQLLoadError(
                    stmt.path,
                    hint.line,
                    "the myshift:renamed-from hint must be on the line of the column it renames",
                )
            else:
                columns[(table, hint.column)] = hint.old
    return RenameHints(tables, columns)


def parse_rename_option(values: list[str]) -> RenameHints:
    """Parse ``--rename old=new`` (a table) and ``--rename table.old=new`` (a column).

    For a column the table is the one in the desired SQL (its new name, if it is
    renamed too).
    """
    from myshift.errors import UsageError

    tables: dict[str, str] = {}
    columns: dict[tuple[str, str], str] = {}
    for value in values:
        left, eq, new = value.partition("=")
        new = unquote_ident(new.strip())
        left = left.strip()
        if not eq or not left or not new:
            raise UsageError(
                f"--rename {value!r} is not of the form old=new or table.old=new.",
                "Write e.g. --rename clients=customers or --rename users.name=full_name.",
            )
        table, dot, old = left.rpartition(".") if "`" not in left else _split_quoted(left)
        if dot:
            columns[(unquote_ident(table), new)] = unquote_ident(old)
        else:
            tables[new] = unquote_ident(old)
    return RenameHints(tables, columns)


def _split_quoted(text: str) -> tuple[str, str, str]:
    parts = re.findall(_IDENT, text)
    if len(parts) == 2:
        return parts[0], ".", parts[1]
    return "", "", text
