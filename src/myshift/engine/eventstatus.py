"""An event's status clause, read and rewritten through the lexer.

Workspaces never run an event (issue 9): every CREATE/ALTER EVENT sent to
one is made ``DISABLE`` and its real status kept as data; the target gets the
status back from the text (``with_status``).
"""

from __future__ import annotations

from myshift.engine.lexer import PUNCT, WORD, Dialect, Lexed, Mode, lex


def set_status(lx: Lexed, k: int, keyword: str, *, create: bool) -> str | None:
    """Rewrite the status clause found from significant token k up to ``DO`` to ``keyword``.

    Returns the status the text had (ENABLED / DISABLED / SLAVESIDE_DISABLED),
    or None when it had none; then, for a CREATE, ``keyword`` is inserted before
    ``COMMENT`` / ``DO``.
    """
    n = len(lx)
    insert_at = -1
    depth = 0
    while k < n:
        word = lx.word(k)
        if lx.kind(k) == PUNCT:
            depth += (word == "(") - (word == ")")
        elif depth == 0 and lx.kind(k) == WORD:
            if word in ("ENABLE", "DISABLE"):
                end = k + 1
                status = "ENABLED" if word == "ENABLE" else "DISABLED"
                if word == "DISABLE" and lx.word(k + 1) == "ON":
                    end, status = k + 3, "SLAVESIDE_DISABLED"
                lx.replace(k, end - 1, keyword)
                return status
            if word in ("COMMENT", "DO"):
                insert_at = k
                break
        k += 1
    if create and insert_at >= 0:
        lx.insert_before(insert_at, keyword + " ")
    return None


_STATUS_WORD = {
    "ENABLED": "ENABLE",
    "DISABLED": "DISABLE",
    "SLAVESIDE_DISABLED": "DISABLE ON SLAVE",
}
_ANY = Dialect(True, 999999)


def inert_event(sql: str, flavor_dialect: Dialect, mode: Mode) -> tuple[str, str, str | None]:
    """A CREATE/ALTER EVENT made DISABLE for a workspace: (sql, event name, real status).

    For any other statement: (sql, "", None).  The status is None when the
    statement does not state one (an ALTER keeps the event's).
    """
    if "EVENT" not in sql.upper():  # no statement about an event can lack the word
        return sql, "", None
    lx = lex(sql, flavor_dialect, mode)
    k = 0
    verb = lx.word(0)
    if verb not in ("CREATE", "ALTER"):
        return sql, "", None
    k = 1
    if verb == "CREATE" and lx.word(k) == "OR" and lx.word(k + 1) == "REPLACE":
        k += 2  # MariaDB's CREATE OR REPLACE EVENT (a changed event, engine.changes)
    if lx.word(k) == "DEFINER":
        while k < len(lx) and lx.word(k) != "EVENT":
            k += 1
    if lx.word(k) != "EVENT":
        return sql, "", None
    k += 1
    if lx.word(k) == "IF":
        k += 3
    name = lx.name(k)
    status = set_status(lx, k + 1, "DISABLE", create=verb == "CREATE")
    if verb == "CREATE" and status is None:
        status = "ENABLED"
    return lx.text(), name, status


def with_status(create_sql: str, status: str) -> str:
    """A server's SHOW CREATE EVENT text with its status clause set to ``status``."""
    lx = lex(create_sql, _ANY, Mode())
    k = 0
    while k < len(lx) and lx.word(k) != "EVENT":
        k += 1
    set_status(lx, k + 2, _STATUS_WORD.get(status, "ENABLE"), create=True)
    return lx.text()


__all__ = ["inert_event", "set_status", "with_status"]
