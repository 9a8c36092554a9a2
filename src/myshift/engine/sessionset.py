"""The session ``SET`` statements desired SQL may hold, and what they do to lexing.

mysqldump, mariadb-dump and GUI exporters write session ``SET``s in their
headers and around every view, routine and event::

    /*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
    /*!50003 SET sql_mode = @saved_sql_mode */ ;
    /*!40014 SET FOREIGN_KEY_CHECKS=IF(@OLD_FOREIGN_KEY_CHECKS IS NULL, 1,
                                       @OLD_FOREIGN_KEY_CHECKS) */;

They are allowed by variable name (``SESSION_VARS``), with values made of
literals, ``@user`` variables, ``@@`` reads of those same variables, the
``IF(x IS NULL, ...)`` / ``IFNULL`` / ``COALESCE`` forms dumps use, and the
``REPLACE(@@sql_mode, 'ONLY_FULL_GROUP_BY', '')`` applications write, also as a
``(SELECT ...)`` without FROM, or as ``SELECT <that> INTO @var``
(``classify_select_into``).  A tiny
evaluator follows them through the file so the lexer always knows the
session's sql_mode (``ANSI_QUOTES`` and ``NO_BACKSLASH_ESCAPES`` change where
strings end) and client character set (one other than utf8 may read bytes of
non-ASCII text as spaces or swallow a backslash, see ``UTF8``): a ``SET`` of
those it cannot evaluate is refused.

mysqldump's ``SQL_LOG_BIN`` and ``GTID_PURGED`` lines are absorbed: they are
about replaying a dump on a replica set, not about the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from myshift.engine.lexer import BT, DQ, PUNCT, SQ, WORD, Lexed, Mode, unquote

SESSION_VARS = frozenset(
    {"character_set_client", "character_set_results", "character_set_connection"}
    | {"collation_connection", "sql_mode", "time_zone", "foreign_key_checks"}
    | {"unique_checks", "sql_notes", "note_verbosity"}
)
_BINLOG_VARS = frozenset({"sql_log_bin", "gtid_purged"})
# Client character sets this lexer reads exactly as the server does.  Under any other
# (latin1 reads byte 0xA0 as a space, GBK can swallow a backslash) only ASCII text is
# sent: every client character set reads ASCII alike.
UTF8 = frozenset({"utf8", "utf8mb3", "utf8mb4"})


class _Unknown:
    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN = _Unknown()
Value = str | int | None | _Unknown


@dataclass
class SessionState:
    """What the loader session's variables hold, as far as lexing needs to know."""

    sql_mode: str
    charset_client: str
    mode: Mode = field(init=False)
    user_vars: dict[str, Value] = field(default_factory=dict)
    # What the file's own SETs made of foreign_key_checks, as the mysql client
    # would run it (on by default; None: set to something not followed).
    fk_checks: bool | None = True

    def __post_init__(self) -> None:
        self.mode = Mode.parse(self.sql_mode)

    def read(self, var: str) -> Value:
        if var == "sql_mode":
            return self.sql_mode
        if var == "character_set_client":
            return self.charset_client
        if var == "foreign_key_checks" and self.fk_checks is not None:
            return int(self.fk_checks)
        return UNKNOWN

    def assign(self, var: str, value: Value) -> None:
        if var == "sql_mode":
            if not isinstance(value, str):
                raise ValueError("myshift cannot tell which sql_mode this sets")
            self.mode = Mode.parse(value)  # ValueError for ORACLE / MSSQL
            self.sql_mode = value
        elif var in ("character_set_client", "names"):
            if not isinstance(value, str):
                raise ValueError("myshift cannot tell which client character set this sets")
            self.charset_client = value.lower()
        elif var == "foreign_key_checks":
            text = str(value).lower() if isinstance(value, str | int) else ""
            self.fk_checks = {"0": False, "off": False, "1": True, "on": True}.get(text)


@dataclass
class _Item:
    target: str  # a session variable (lower case), "names", or "@user"
    value: Value
    reads: set[str]  # variables the value reads ("@@x" / "@x")
    binlog: bool


class _SetParser:
    def __init__(self, lx: Lexed, state: SessionState) -> None:
        self.lx = lx
        self.state = state
        self.k = 1
        self.n = len(lx)

    def w(self, d: int = 0) -> str:
        return self.lx.word(self.k + d)

    def kind(self, d: int = 0) -> str:
        return self.lx.kind(self.k + d)

    def text(self, d: int = 0) -> str:
        return self.lx.toks[self.k + d]

    def ident(self) -> str:
        if self.kind() not in (WORD, BT, SQ, DQ):
            raise ValueError("a variable name was expected")
        name = unquote(self.kind(), self.text())
        self.k += 1
        return name

    def items(self) -> list[_Item]:
        out = []
        while True:
            out.append(self.item())
            if self.k >= self.n:
                return out
            if self.w() != ",":
                raise ValueError(f"unexpected `{self.text()}` in a SET")
            self.k += 1

    def item(self) -> _Item:
        scope = "SESSION"
        if self.w() in ("SESSION", "LOCAL", "GLOBAL", "PERSIST", "PERSIST_ONLY"):
            scope = self.w()
            self.k += 1
        if self.w() == "NAMES" and scope == "SESSION":
            self.k += 1
            charset = self.value_word()
            if self.w() == "COLLATE":
                self.k += 1
                self.value_word()
            return _Item("names", charset, set(), False)
        if self.w() == "@" and self.w(1) == "@":
            self.k += 2
            target = self.sysvar(scope)
        elif self.w() == "@":
            self.k += 1
            target = "@" + self.ident().lower()
        else:
            target = self.ident().lower()
            if scope != "SESSION":
                target = f"{scope.lower()}.{target}"
        _check_target(target)
        if self.w() == ":" and self.w(1) == "=":
            self.k += 1
        if self.w() != "=":
            raise ValueError("`=` was expected")
        self.k += 1
        reads: set[str] = set()
        value = self.expr(reads)
        binlog = target in _BINLOG_VARS or target.split(".")[-1] in _BINLOG_VARS
        binlog = binlog or any(r[2:] in _BINLOG_VARS for r in reads if r.startswith("@@"))
        return _Item(target, value, reads, binlog)

    def sysvar(self, scope: str) -> str:
        """After ``@@``: ``[SESSION.|LOCAL.|GLOBAL.]name`` -> name (``global.name``)."""
        if self.w() in ("SESSION", "LOCAL", "GLOBAL") and self.w(1) == ".":
            scope = self.w()
            self.k += 2
        name = self.ident().lower()
        return name if scope in ("SESSION", "LOCAL") else f"{scope.lower()}.{name}"

    def value_word(self) -> str:
        if self.kind() not in (WORD, SQ, DQ, BT):
            raise ValueError("a character set name was expected")
        return self.ident()

    def expr(self, reads: set[str]) -> Value:
        value = self.primary(reads)
        if self.w() == "IS":
            negate = self.w(1) == "NOT"
            self.k += 2 if negate else 1
            if self.w() != "NULL":
                raise ValueError("IS NULL was expected")
            self.k += 1
            if value is UNKNOWN:
                return UNKNOWN
            return int((value is None) != negate)
        return value

    def primary(self, reads: set[str]) -> Value:
        word, kind = self.w(), self.kind()
        if kind == SQ or (kind == DQ and not self.state.mode.ansi_quotes):
            text = ""
            while self.kind() == SQ or (self.kind() == DQ and not self.state.mode.ansi_quotes):
                raw = self.text()
                if "\\" in raw:
                    raise ValueError("backslashes in a SET value")
                text += unquote(SQ, raw)
                self.k += 1
            return text
        if kind == PUNCT:
            return self.punct_primary(word, reads)
        if kind != WORD:
            raise ValueError(f"`{self.text()}` in a SET value")
        self.k += 1
        if word in ("IF", "IFNULL", "COALESCE", "REPLACE") and self.w() == "(":
            return self.call(word, reads)
        if word == "NULL":
            return None
        if word.isdigit():
            return int(word)
        if word in ("ON", "TRUE"):
            return 1
        if word in ("OFF", "FALSE"):
            return 0
        if word == "DEFAULT":
            return UNKNOWN
        if self.w() in ("(", "."):
            raise ValueError(f"`{word}` in a SET value")
        return self.lx.toks[self.k - 1]  # a bare word: the value's name

    def punct_primary(self, word: str, reads: set[str]) -> Value:
        if word == "-" and self.kind(1) == WORD and self.w(1).isdigit():
            self.k += 2
            return -int(self.w(-1))
        if word == "(":
            # (SELECT expr): a scalar subquery without FROM is the expression itself.
            self.k += 2 if self.w(1) == "SELECT" else 1
            value = self.expr(reads)
            self.expect(")")
            return value
        if word == "@" and self.w(1) == "@":
            self.k += 2
            var = self.sysvar("SESSION")
            if "." in var or var not in SESSION_VARS | _BINLOG_VARS:
                raise ValueError(f"it reads @@{var}")
            reads.add("@@" + var)
            return self.state.read(var)
        if word == "@":
            self.k += 1
            var = "@" + self.ident().lower()
            reads.add(var)
            return self.state.user_vars.get(var)
        raise ValueError(f"`{self.text()}` in a SET value")

    def call(self, fn: str, reads: set[str]) -> Value:
        self.expect("(")
        args = [self.expr(reads)]
        while self.w() == ",":
            self.k += 1
            args.append(self.expr(reads))
        self.expect(")")
        if fn == "IF":
            if len(args) != 3:
                raise ValueError("IF() takes three arguments")
            cond = args[0]
            if cond is UNKNOWN:
                return UNKNOWN
            return args[1] if cond not in (None, 0, "") else args[2]
        if fn == "REPLACE":
            if len(args) != 3:
                raise ValueError("REPLACE() takes three arguments")
            if any(a is UNKNOWN for a in args):
                return UNKNOWN
            if any(a is None for a in args):
                return None
            text, old, new = (str(a) for a in args)
            return text.replace(old, new) if old else text
        if fn == "IFNULL" and len(args) != 2:
            raise ValueError("IFNULL() takes two arguments")
        for arg in args:
            if arg is UNKNOWN:
                return UNKNOWN
            if arg is not None:
                return arg
        return None

    def expect(self, word: str) -> None:
        if self.w() != word:
            raise ValueError(f"`{word}` was expected")
        self.k += 1


def _check_target(target: str) -> None:
    scope, _, name = target.rpartition(".")
    if name in _BINLOG_VARS or target.startswith("@"):
        return
    if scope:
        raise ValueError(f"it sets {scope.upper()} variables")
    if name not in SESSION_VARS and name != "names":
        raise ValueError(f"desired SQL may not set `{name}`")


def classify_select_into(lx: Lexed, state: SessionState) -> None:
    """``SELECT <SET value> INTO @var`` (no FROM): like ``SET @var = <value>``.

    Applications compute a sql_mode this way before a ``SET sql_mode = @var``;
    anything else (a FROM, a second column, INTO OUTFILE) raises ValueError.
    """
    parser = _SetParser(lx, state)
    value = parser.expr(set())
    parser.expect("INTO")
    parser.expect("@")
    var = "@" + parser.ident().lower()
    if parser.k < parser.n:
        raise ValueError(f"unexpected `{parser.text()}`")
    state.user_vars[var] = value


def classify_set(lx: Lexed, state: SessionState) -> str | None:
    """Check a SET statement and apply it to ``state``.

    Returns None when it is to be sent, a note when it is absorbed (not sent);
    raises ValueError (the reason) when it is refused.
    """
    parser = _SetParser(lx, state)
    items = parser.items()
    if any(item.binlog for item in items):
        if all(item.binlog for item in items):
            return "binary logging and GTIDs are not the desired schema's business"
        raise ValueError("it mixes SQL_LOG_BIN / GTID_PURGED with other settings")
    assigned: set[str] = set()
    for item in items:
        target = item.target
        if "." in target:
            raise ValueError(f"it sets {target.split('.')[0].upper()} variables")
        if not (target.startswith("@") or target in SESSION_VARS or target == "names"):
            raise ValueError(f"desired SQL may not set `{target}`")
        if item.reads & assigned:
            raise ValueError("it reads a variable it also sets")
        assigned.add(target if target.startswith("@") else "@@" + target)
    for item in items:
        if item.target.startswith("@"):
            state.user_vars[item.target] = item.value
        else:
            state.assign(item.target, item.value)
    return None
