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

_INSIGNIFICANT = frozenset({WS, COMMENT, HIDDEN})


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
        major, minor, patch = flavor.version
        return cls(flavor.is_mariadb, major * 10000 + minor * 100 + patch)

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


@dataclass
class Lexed:
    """One statement's tokens (parallel lists) and its significant tokens' positions."""

    kinds: list[str]
    texts: list[str]
    starts: list[int]  # offset of each token in the original text
    sig: list[int]  # indexes of the tokens that are neither whitespace nor comments
    conditional: bool  # whether a conditional comment was resolved

    def text(self) -> str:
        """The resolved text: what is sent to the server."""
        return "".join(self.texts)

    def word(self, k: int) -> str:
        """The k-th significant token, upper-cased if it is a word ("" past the end)."""
        if k >= len(self.sig):
            return ""
        i = self.sig[k]
        t = self.texts[i]
        return t.upper() if self.kinds[i] == WORD else t

    def kind(self, k: int) -> str:
        return self.kinds[self.sig[k]] if k < len(self.sig) else ""


# --- the scanner ------------------------------------------------------------------------------

_SPACE = "[ \t\n\r\x0b\x0c]"
_COMMON = (
    rf"(?P<ws>{_SPACE}++)"
    r"|(?P<lc>(?:--(?=[ \t\n\r\x0b\x0c]|\Z)|\#)[^\n]*+)"
    r"|(?P<cond>/\*(?P<m>M?)!(?P<v>[0-9]*+))"
    r"|(?P<bc>/\*(?:[^*]++|\*(?!/))*+\*/)"
    r"|(?P<word>[0-9A-Za-z_$\u0080-\U0010ffff]++)"
    r"|(?P<bt>`(?:[^`]++|``)*+`)"
    r"|(?P<sq>{sq})"
    r"|(?P<dq>{dq})"
    r"|(?P<open>['\"`]|/\*)"
    r"|(?P<ctl>[\x00-\x08\x0e-\x1f\x7f])"
)


def _quoted(q: str, backslash: bool) -> str:
    if backslash:
        return f"{q}(?:[^{q}\\\\]++|\\\\[\\s\\S]|{q}{q})*+{q}"
    return f"{q}(?:[^{q}]++|{q}{q})*+{q}"


@lru_cache(maxsize=8)
def _patterns(mode: Mode) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(outside a conditional comment, inside one: ``*/`` closes it)."""
    backslash = not mode.no_backslash_escapes
    # Under ANSI_QUOTES "x" is an identifier: "" doubles, a backslash is just a character.
    dq = _quoted('"', backslash and not mode.ansi_quotes)
    body = _COMMON.format(sq=_quoted("'", backslash), dq=dq)
    return (
        re.compile(body + r"|(?P<punct>[\s\S])"),
        re.compile(r"(?P<close>\*/)|" + body + r"|(?P<punct>[\s\S])"),
    )


_OPEN_WHAT = {"'": "quoted string", '"': "quoted string", "`": "quoted identifier", "/*": "comment"}


def lex(text: str, dialect: Dialect, mode: Mode) -> Lexed:
    """Tokens of one statement, conditional comments resolved for ``dialect``."""
    if "\x00" in text:
        raise LexError(text.index("\x00"), "a NUL character in the SQL text")
    outside, inside = _patterns(mode)
    kinds: list[str] = []
    texts: list[str] = []
    starts: list[int] = []
    sig: list[int] = []
    conditional = False
    in_cond = -1  # offset of the open conditional comment, or -1
    pat = outside
    pos, n = 0, len(text)
    while pos < n:
        m = pat.match(text, pos)
        assert m is not None  # the last alternative matches any character
        kind = m.lastgroup
        end = m.end()
        if kind == "ws":
            kind = WS
        elif kind == "lc" or kind == "bc":
            kind = COMMENT
        elif kind == "cond":
            conditional = True
            if in_cond >= 0:
                raise LexError(pos, "a conditional comment (/*!...) inside another one")
            mariadb_marker = m.group("m") == "M"
            if mariadb_marker and not dialect.mariadb:
                # MySQL: /*M!...*/ is a plain comment.
                close = text.find("*/", pos + 2)
                if close < 0:
                    raise LexError(pos, "unterminated comment (/* without */)")
                end, kind = close + 2, COMMENT
            else:
                try:
                    runs = dialect.executes(mariadb_marker, m.group("v"))
                except ValueError as exc:
                    raise LexError(pos, str(exc)) from None
                if runs:
                    in_cond, pat, kind = pos, inside, HIDDEN
                else:
                    close = text.find("*/", end)
                    if close < 0:
                        raise LexError(pos, "unterminated conditional comment (/*! without */)")
                    if "/*" in text[end:close]:
                        raise LexError(pos, "a comment inside a skipped conditional comment")
                    end, kind = close + 2, HIDDEN
            kinds.append(kind)
            texts.append(" ")
            starts.append(pos)
            pos = end
            continue
        elif kind == "close":
            in_cond, pat = -1, outside
            kinds.append(HIDDEN)
            texts.append(" ")
            starts.append(pos)
            pos = end
            continue
        elif kind == "open":
            what = _OPEN_WHAT[m.group()]
            raise LexError(pos, f"unterminated {what} ({m.group()} is never closed)")
        elif kind == "ctl":
            raise LexError(pos, f"control character {m.group()!r} outside a string")
        else:
            assert kind is not None
            sig.append(len(kinds))
        kinds.append(kind)
        texts.append(m.group())
        starts.append(pos)
        pos = end
    if in_cond >= 0:
        raise LexError(in_cond, "unterminated conditional comment (/*! without */)")
    return Lexed(kinds, texts, starts, sig, conditional)


def relex_matches(lexed: Lexed, dialect: Dialect, mode: Mode) -> bool:
    """Whether the resolved text lexes to the same significant tokens (no new comment)."""
    again = lex(lexed.text(), dialect, mode)
    if again.conditional:
        return False
    a = [(lexed.kinds[i], lexed.texts[i]) for i in lexed.sig]
    b = [(again.kinds[i], again.texts[i]) for i in again.sig]
    return a == b


def significant(kind: str) -> bool:
    return kind not in _INSIGNIFICANT


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
