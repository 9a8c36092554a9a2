"""Option files (``~/.my.cnf``, ``--defaults-file``) read the way the mysql client reads them."""

from __future__ import annotations

import configparser
from pathlib import Path

from myshift.errors import UsageError

# Option-file sections read, later ones overriding earlier ones.
MYCNF_SECTIONS = ("client", "myshift")

_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "r": "\r", "s": " ", "\\": "\\"}


def _unquote_option(raw: str) -> str:
    """An option-file value as the mysql client reads it.

    Quoted values (``'...'`` or ``"..."``) keep ``#`` and spaces; outside
    quotes ``#`` starts a comment.  Backslash escapes ``\\b \\t \\n \\r \\s \\\\``
    are decoded (and ``\\"``/``\\'`` inside quotes).
    """
    text = raw.strip()
    if text[:1] in ("'", '"'):
        quote = text[0]
        out: list[str] = []
        i = 1
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):
                nxt = text[i + 1]
                out.append(_ESCAPES.get(nxt, nxt))
                i += 2
                continue
            if ch == quote:
                return "".join(out)
            out.append(ch)
            i += 1
        # No closing quote: mysql takes the text literally.
        return text
    hash_at = text.find("#")
    if hash_at >= 0:
        text = text[:hash_at].rstrip()
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def read_option_file(path: Path) -> dict[str, str | None]:
    """The merged ``[client]`` + ``[myshift]`` options of a my.cnf-style file.

    Keys are normalised to underscores (``ssl-ca`` → ``ssl_ca``).  Options
    without a value (``skip-ssl``) map to ``None``.  ``!include`` and
    ``!includedir`` are ignored.  A missing file gives ``{}``.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"Cannot read option file {path}: {exc}.", "Check the file.") from None
    # mysql ignores leading whitespace (configparser would read it as a
    # continuation line) and the !include directives (configparser would choke).
    lines = [ln.lstrip() for ln in text.splitlines()]
    lines = ["" if ln.startswith("!") else ln for ln in lines]
    parser = configparser.ConfigParser(
        allow_no_value=True,
        delimiters=("=",),  # ':' is legal inside a password
        comment_prefixes=("#", ";"),
        inline_comment_prefixes=None,
        strict=False,  # mysql allows repeated sections/options; the last wins
        interpolation=None,  # '%' is legal inside a password
        empty_lines_in_values=False,
    )
    try:
        parser.read_string("\n".join(lines), source=str(path))
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise UsageError(f"Option file {path} is malformed: {first}.", "Fix the file.") from None
    out: dict[str, str | None] = {}
    for section in MYCNF_SECTIONS:
        if parser.has_section(section):
            for key, value in parser.items(section):
                norm = key.strip().replace("-", "_")
                out[norm] = None if value is None else _unquote_option(value)
    return out
