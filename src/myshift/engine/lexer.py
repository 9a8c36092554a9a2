"""A MySQL/MariaDB lexer, for deciding what desired SQL may be sent to a server.

engine.split cuts a file into statements the way the ``mysql`` client does;
this module reads one statement the way the *server* will: tokens, plain
comments, quoted strings and identifiers, and the conditional comments
(``/*!50003 ... */``, MariaDB's ``/*M!100100 ... */``) resolved for the
flavor and version of the server the statement goes to.

``lex`` returns the statement's tokens with every conditional comment
resolved: its markers become a space, and the content of one the server would
not execute becomes a space too.  The joined token texts are what is sent, so
the server never sees a conditional comment and executes exactly the tokens
that were classified.  Plain comments stay (routine bodies keep theirs): the
server and this lexer agree where they end.

Everything the two could disagree on is refused (``LexError``) rather than
guessed: an unterminated quote or comment, a malformed version number, a
conditional comment inside another, a ``/*`` inside a skipped one (MariaDB
counts nesting there, MySQL does not), control characters outside strings.

Lexing depends on two sql_mode flags: ``NO_BACKSLASH_ESCAPES`` (a backslash
in a string is an ordinary character) and ``ANSI_QUOTES`` (``"x"`` is an
identifier).  ``Mode`` carries them; the caller tracks the session's sql_mode
through the file (see engine.classify).

Nothing here learns the structure of a statement: that is the server's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from myshift.model.flavor import Flavor

# Token kinds.
WS = "ws"
COMMENT = "comment"
HIDDEN = "hidden"  # a resolved conditional-comment marker or skipped content (text " ")
SQ = "sq"  # 'string'
DQ = "dq"  # "string", or an identifier under ANSI_QUOTES
BT = "bt"  # `identifier`
WORD = "word"  # keyword, bare identifier or number (the lexer does not tell them apart)
PUNCT = "punct"  # one character


class LexError(Exception):
    """The text cannot be lexed the way the server surely would: refuse it."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


@dataclass(frozen=True)
class Dialect:
    """What decides whether a conditional comment's content runs: vendor and version."""

    mariadb: bool
    version_id: int  # 10.11.19 -> 101119, 8.0.36 -> 80036

    @classmethod
    def of(cls, flavor: Flavor) -> Dialect:
        return cls(flavor.is_mariadb, flavor.version_id)

    def executes(self, mariadb_marker: bool, digits: str) -> bool:
        """Whether ``/*!digits`` (``/*M!digits``) content runs; ``ValueError`` if malformed.

        MariaDB reads 5 or 6 digits and never runs MySQL 5.7+/8.x-only
        ``/*!50700``..``/*!99999`` (measured on 10.11: ``/*!50699`` runs,
        ``/*!50700``, ``/*!80000`` do not, ``/*!100000`` does).  MySQL reads 5
        digits and runs the content iff the number is at most its version;
        for MySQL ``/*M!`` is a plain comment (handled by the caller).
        """
        n = len(digits)
        if n == 0:
            return True
        if n not in ((5, 6) if self.mariadb else (5,)):
            raise ValueError(f"a conditional comment's version must have 5 digits, not {n}")
        version = int(digits)
        if self.mariadb:
            return version <= self.version_id and (
                mariadb_marker or version < 50700 or version > 99999
            )
        return version <= self.version_id


@dataclass(frozen=True)
class Mode:
    """The sql_mode flags that change how text is cut into tokens."""

    ansi_quotes: bool = False
    no_backslash_escapes: bool = False

    @classmethod
    def parse(cls, sql_mode: str) -> Mode:
        """From an sql_mode value; ``ValueError`` for modes whose grammar we cannot follow."""
        flags = {f.strip().upper() for f in sql_mode.split(",") if f.strip()}
        odd = flags & {"ORACLE", "MSSQL"}
        if odd:
            raise ValueError(
                f"sql_mode {'/'.join(sorted(odd))} switches the server to another SQL grammar"
            )
        ansi = bool(flags & {"ANSI_QUOTES", "ANSI", "DB2", "POSTGRESQL", "MAXDB"})
        return cls(ansi, "NO_BACKSLASH_ESCAPES" in flags)


_WORD_START = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_$")


def kind_of(token: str) -> str:
    """A significant token's kind, from its first character."""
    c = token[0]
    if c == "`":
        return BT
    if c == "'":
        return SQ
    if c == '"':
        return DQ
    if c in _WORD_START or c >= "\x80":
        return WORD
    return PUNCT


class Lexed:
    """One statement's significant tokens, and how to turn it into the text to send.

    ``toks`` are the tokens that are neither whitespace nor comments, ``ups``
    the same upper-cased (for keyword tests).  The text to send is the
    original with every resolved conditional-comment marker or skipped
    content replaced by a space, and the edits classification made (a
    qualifier pointed at the workspace, a status clause rewritten).
    """

    def __init__(
        self,
        source: str,
        toks: list[str],
        spans: list[tuple[int, int]] | None,
        hidden: list[tuple[int, int]],
        *,
        dialect: Dialect,
        mode: Mode,
    ) -> None:
        self.source = source
        self.toks = toks
        # One upper() over all tokens at once (tokens never hold a NUL).
        self.ups = "\x00".join(toks).upper().split("\x00") if toks else []
        self.conditional = bool(hidden)
        self._spans = spans
        self._hidden = hidden
        self._edits: list[tuple[int, int, str]] = []
        # Set by text(): for every cut that changed the number of lines, (the sent
        # text's line where the cut ends, source lines lost there); lines of the sent
        # text after it stand that many lines further down the source.
        self.line_shifts: tuple[tuple[int, int], ...] = ()
        self._dialect = dialect
        self._mode = mode

    def __len__(self) -> int:
        return len(self.toks)

    def word(self, k: int) -> str:
        """The k-th significant token, upper-cased ("" past the end)."""
        return self.ups[k] if 0 <= k < len(self.ups) else ""

    def kind(self, k: int) -> str:
        return kind_of(self.toks[k]) if 0 <= k < len(self.toks) else ""

    def name(self, k: int) -> str:
        """The name token k stands for (quotes removed)."""
        tok = self.toks[k]
        return unquote(kind_of(tok), tok)

    def spans(self) -> list[tuple[int, int]]:
        if self._spans is None:  # the fast path records none: lex again, slowly
            self._spans = _lex_slow(self.source, self._dialect, self._mode)[1]
        return self._spans

    def replace(self, first: int, last: int, text: str) -> None:
        """Replace tokens first..last (and what lies between them) by ``text``."""
        spans = self.spans()
        self._edits.append((spans[first][0], spans[last][1], text))

    def insert_before(self, k: int, text: str) -> None:
        at = self.spans()[k][0]
        self._edits.append((at, at, text))

    def text(self) -> str:
        """The resolved text: what is sent to the server."""
        if not self._hidden and not self._edits:
            return self.source
        cuts = sorted(
            [(a, b, " ") for a, b in self._hidden] + self._edits, key=lambda e: (e[0], e[1])
        )
        out: list[str] = []
        pos = 0
        line = 1  # the sent text's line where the next cut lands
        shifts: list[tuple[int, int]] = []
        for a, b, repl in cuts:
            if a < pos:  # inside an edit already applied (an edit spans whole tokens)
                continue
            line += self.source.count("\n", pos, a)
            out.append(self.source[pos:a])
            out.append(repl)
            line += repl.count("\n")
            lost = self.source.count("\n", a, b) - repl.count("\n")
            if lost:
                shifts.append((line, lost))
            pos = b
        out.append(self.source[pos:])
        self.line_shifts = tuple(shifts)
        return "".join(out)


# --- the scanners ----------------------------------------------------------------------------

_SPACE = "[ \t\n\r\x0b\x0c]"
_WORD = r"[0-9A-Za-z_$\u0080-\U0010ffff]++"
_PLAIN = (
    rf"{_SPACE}++"
    r"|(?:--(?=[ \t\n\r\x0b\x0c]|\Z)|\#)[^\n]*+"
    r"|/\*(?!M?!)(?:[^*]++|\*(?!/))*+\*/"
)
# Tokens the fast scanner may return that mean "cannot lex this": an opening quote or
# comment that is never closed, a control character outside a string.
_BAD = frozenset(["'", '"', "`", "/*"] + [chr(c) for c in (*range(0, 9), *range(14, 32), 127)])


def _quoted(q: str, backslash: bool) -> str:
    if backslash:
        return f"{q}(?:[^{q}\\\\]++|\\\\[\\s\\S]|{q}{q})*+{q}"
    return f"{q}(?:[^{q}]++|{q}{q})*+{q}"


@lru_cache(maxsize=8)
def _patterns(mode: Mode) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """(fast: every token after its whitespace, in one findall; slow outside a
    conditional comment; slow inside one, where ``*/`` closes it)."""
    backslash = not mode.no_backslash_escapes
    sq = _quoted("'", backslash)
    # Under ANSI_QUOTES "x" is an identifier: "" doubles, a backslash is just a character.
    dq = _quoted('"', backslash and not mode.ansi_quotes)
    tokens = rf"{_WORD}|`(?:[^`]++|``)*+`|{sq}|{dq}"
    fast = re.compile(rf"(?:{_PLAIN})*+({tokens}|/\*|[\s\S]|\Z)")
    common = (
        rf"(?P<plain>{_PLAIN})"
        r"|(?P<cond>/\*(?P<m>M?)!(?P<v>[0-9]*+))"
        rf"|(?P<tok>{tokens})"
        r"|(?P<open>['\"`]|/\*)"
        r"|(?P<ctl>[\x00-\x08\x0e-\x1f\x7f])"
        r"|(?P<punct>[\s\S])"
    )
    return fast, re.compile(common), re.compile(r"(?P<close>\*/)|" + common)


_OPEN_WHAT = {"'": "quoted string", '"': "quoted string", "`": "quoted identifier", "/*": "comment"}


def lex(text: str, dialect: Dialect, mode: Mode) -> Lexed:
    """Significant tokens of one statement, conditional comments resolved for ``dialect``."""
    if "\x00" in text:
        raise LexError(text.index("\x00"), "a NUL character in the SQL text")
    if "/*!" not in text and "/*M!" not in text:
        toks = _patterns(mode)[0].findall(text)
        while toks and not toks[-1]:
            toks.pop()  # the empty match(es) at the end
        if _BAD.isdisjoint(toks):
            return Lexed(text, toks, None, [], dialect=dialect, mode=mode)
        # Something to refuse: the slow scanner says where.
    toks, spans, hidden = _lex_slow(text, dialect, mode)
    return Lexed(text, toks, spans, hidden, dialect=dialect, mode=mode)


def _lex_slow(
    text: str, dialect: Dialect, mode: Mode
) -> tuple[list[str], list[tuple[int, int]], list[tuple[int, int]]]:
    """(tokens, their spans, hidden spans): one token at a time, following conditional comments."""
    _, outside, inside = _patterns(mode)
    toks: list[str] = []
    spans: list[tuple[int, int]] = []
    hidden: list[tuple[int, int]] = []
    in_cond = -1  # offset of the open conditional comment, or -1
    pat = outside
    pos, n = 0, len(text)
    while pos < n:
        m = pat.match(text, pos)
        assert m is not None  # the last alternative matches any character
        kind = m.lastgroup
        end = m.end()
        if kind == "tok" or kind == "punct":
            toks.append(m.group())
            spans.append((pos, end))
        elif kind == "cond":
            if in_cond >= 0:
                raise LexError(pos, "a conditional comment (/*!...) inside another one")
            end = _conditional(text, m, dialect)
            if end == m.end():  # it runs: lex its content, up to its */
                in_cond, pat = pos, inside
            hidden.append((pos, end))
        elif kind == "close":
            in_cond, pat = -1, outside
            hidden.append((pos, end))
        elif kind == "open":
            what = _OPEN_WHAT[m.group()]
            raise LexError(pos, f"unterminated {what} ({m.group()} is never closed)")
        elif kind == "ctl":
            raise LexError(pos, f"control character {m.group()!r} outside a string")
        pos = end
    if in_cond >= 0:
        raise LexError(in_cond, "unterminated conditional comment (/*! without */)")
    return toks, spans, hidden


def _conditional(text: str, m: re.Match[str], dialect: Dialect) -> int:
    """Where a conditional comment's hidden part ends: its marker, or all of it if skipped."""
    pos = m.start()
    mariadb_marker = m.group("m") == "M"
    if mariadb_marker and not dialect.mariadb:
        runs = False  # MySQL: /*M!...*/ is a plain comment
    else:
        try:
            runs = dialect.executes(mariadb_marker, m.group("v"))
        except ValueError as exc:
            raise LexError(pos, str(exc)) from None
    if runs:
        return m.end()
    close = text.find("*/", m.end())
    if close < 0:
        raise LexError(pos, "unterminated conditional comment (/*! without */)")
    if "/*" in text[m.end() : close]:
        # MariaDB counts nested comments in a skipped one, MySQL does not.
        raise LexError(pos, "a comment inside a skipped conditional comment")
    return close + 2


def relex_matches(lexed: Lexed) -> bool:
    """Whether the resolved text lexes to the same tokens, with no conditional comment."""
    text = lexed.text()
    if "/*!" in text or "/*M!" in text:
        return False
    return lex(text, lexed._dialect, lexed._mode).toks == lexed.toks


def squeeze(text: str, dialect: Dialect, mode: Mode) -> str:
    """The significant tokens of ``text`` joined by single spaces.

    Two bodies that differ only in comments and in whitespace outside quoted
    strings squeeze to the same text: the ``mysql``/``mariadb`` clients strip
    comments from the bodies they send, so a database built with a client
    never holds the comments of the file it was built from.  Text that cannot
    be lexed is returned as it is (compared exactly).
    """
    try:
        return " ".join(lex(text, dialect, mode).toks)
    except LexError:
        return text


def mode_of(sql_mode: str) -> Mode:
    """The lexing Mode of an object's stored sql_mode (default for grammars we do not follow)."""
    try:
        return Mode.parse(sql_mode)
    except ValueError:
        return Mode()


def unquote(kind: str, text: str) -> str:
    """The name a word / `ident` / "ident" token stands for."""
    if kind == BT:
        return text[1:-1].replace("``", "`")
    if kind in (DQ, SQ):
        q = text[0]
        return text[1:-1].replace(q + q, q)
    return text


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
