"""DEFINER: kept as data in the model, compared and sent as ``myshift.toml`` says.

``definer = "keep"`` (the default), ``"ignore"`` or ``"current"``:

* keep: an object's DEFINER is part of what it is.  ``SQL SECURITY DEFINER``
  views and routines run with their definer's privileges, and triggers and
  events always do, so an object created as whoever applies the plan is a
  different object.  A desired file states it (``CREATE DEFINER=app@localhost
  VIEW ...``, as every mysqldump does) or not: an object whose text names no
  definer is not compared on it and is created as the applying user.  A
  desired *database* states every definer.
* ignore: definers are neither compared nor sent (myshift before issue 12).
* current: every object belongs to the applying user; one owned by another
  account is re-created.

The workspace that loads desired SQL stays inert (issue 9): the classifier
drops the DEFINER clause before the text is sent there, and records what it
said (``LoadResult.definers``); ``restore_definers`` puts it back into the
model.  Only the real target is sent a DEFINER (the plan's statements; the
verification replay drops it again, see ``inert_definer``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from myshift.engine.lexer import BT, DQ, SQ, WORD, Dialect, Lexed, LexError, Mode, lex, quote
from myshift.errors import UsageError
from myshift.model.schema import Event, Routine, Schema, Trigger, View

MODES = ("keep", "ignore", "current")
DEFAULT_MODE = "keep"

Obj = TypeVar("Obj", View, Routine, Trigger, Event)


def check_mode(mode: str, where: str = "myshift.toml") -> str:
    if mode not in MODES:
        raise UsageError(
            f"{where}: `definer` must be one of {', '.join(MODES)}, not {mode!r}.",
            'Use definer = "keep" (compare and keep DEFINER), "ignore" or "current".',
        )
    return mode


def account(definer: str) -> str:
    """``user@host`` (as the catalogue spells a DEFINER) quoted for a DEFINER= clause."""
    user, _, host = definer.rpartition("@")
    return f"{quote(user)}@{quote(host)}"


def with_definer(sql: str, definer: str) -> str:
    """``CREATE [OR REPLACE] ...`` with ``DEFINER=...`` after its leading keywords.

    ``sql`` holds no DEFINER clause (see ddl.strip_definer); a text that does not
    start with CREATE is returned unchanged.
    """
    head = sql[: len("CREATE OR REPLACE ")].upper()
    if not definer or not head.startswith("CREATE "):
        return sql
    n = len("CREATE OR REPLACE ") if head.startswith("CREATE OR REPLACE ") else len("CREATE ")
    return sql[:n] + f"DEFINER={account(definer)} " + sql[n:]


def same(a: Obj, b: Obj, compare: bool) -> bool:
    """``a == b``, and, when definers are compared, the same definer where ``b`` states one."""
    return a == b and (not compare or not b.definer or a.definer == b.definer)


def _each(schema: Schema, definer: Callable[[str, str, str], str]) -> Schema:
    """``schema`` with each object's definer replaced by ``definer(kind, name, definer)``."""
    return replace(
        schema,
        views=tuple(replace(v, definer=definer("VIEW", v.name, v.definer)) for v in schema.views),
        routines=tuple(
            replace(r, definer=definer(r.kind, r.name, r.definer)) for r in schema.routines
        ),
        triggers=tuple(
            replace(t, definer=definer("TRIGGER", t.name, t.definer)) for t in schema.triggers
        ),
        events=tuple(
            replace(e, definer=definer("EVENT", e.name, e.definer)) for e in schema.events
        ),
    )


def stated_account(lx: Lexed, k: int) -> str | None:
    """``user@host`` of the DEFINER account at token k; None for CURRENT_USER or none."""
    end = definer_end(lx, k)
    if end is None or lx.word(k) in ("CURRENT_USER", "CURRENT_ROLE"):
        return None
    user = lx.name(k)
    host = lx.name(k + 2) if end == k + 3 else "%"
    return f"{user}@{host}"


def key(kind: str, name: str) -> str:
    """How the loader records an object's stated definer: ``"VIEW v"`` (name lower-cased)."""
    return _key(kind, name)


def _key(kind: str, name: str) -> str:
    return f"{kind} {name.lower()}"


def restore_definers(schema: Schema, stated: dict[str, str]) -> Schema:
    """The workspace's objects with the DEFINER their text stated ("" when none).

    ``stated``: ``"VIEW v"`` / ``"PROCEDURE p"`` / ... -> ``user@host``, as
    recorded by the loader (engine.load).
    """

    return _each(schema, lambda kind, name, _: stated.get(_key(kind, name), ""))


def for_mode(current: Schema, desired: Schema, mode: str, me: str) -> tuple[Schema, Schema]:
    """Both sides as ``mode`` wants them compared and sent (``me``: CURRENT_USER())."""
    if mode == "ignore":
        return _each(current, lambda *_: ""), _each(desired, lambda *_: "")
    if mode == "current":
        return current, _each(desired, lambda *_: me)
    return current, desired


def inert_definer(sql: str, dialect: Dialect, mode: Mode) -> str:
    """``sql`` without the DEFINER clause of its ``CREATE``/``ALTER`` head, if it has one.

    For replaying a plan in a workspace: objects there belong to the loading
    user (issue 9), whatever the real target is sent.
    """
    if "DEFINER" not in sql.upper():
        return sql
    try:
        lx = lex(sql, dialect, mode)
    except LexError:
        return sql
    if lx.word(0) not in ("CREATE", "ALTER"):
        return sql
    for k in range(1, min(len(lx), 10)):
        if lx.word(k) in ("VIEW", "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT", "TABLE"):
            return sql
        if lx.word(k) == "DEFINER" and lx.word(k + 1) == "=":
            end = definer_end(lx, k + 2)
            if end is None:
                return sql
            lx.replace(k, end - 1, " ")
            return lx.text()
    return sql


def definer_end(lx: Lexed, k: int) -> int | None:
    """The token after the account that starts at token k (None: not an account)."""
    if lx.word(k) in ("CURRENT_USER", "CURRENT_ROLE"):
        return k + 3 if lx.word(k + 1) == "(" and lx.word(k + 2) == ")" else k + 1
    if lx.kind(k) not in (WORD, BT, SQ, DQ):
        return None
    if lx.word(k + 1) == "@" and lx.kind(k + 2) in (WORD, BT, SQ, DQ):
        return k + 3
    return k + 1
