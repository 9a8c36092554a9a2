"""The two type rules every table of myshift.toml applies to its values.

TOML writes ``2`` for ``2.0``, so an integer is taken where a float is wanted;
and ``bool`` is an ``int`` subclass in Python, so ``port = true`` must not
pass as an integer.  ``settings`` and ``notify`` both check through these.
"""

from __future__ import annotations

from typing import Any


def widen(value: Any, tp: type) -> Any:
    """``value``, or the float of an integer given where ``tp`` is float (a TOML value
    is Any, and stays so for the checks that follow)."""
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def is_a(value: object, tp: type) -> bool:
    """``isinstance(value, tp)``, except that a bool is no integer."""
    return isinstance(value, tp) and not (tp is int and isinstance(value, bool))


def a_type(tp: type) -> str:
    """``an int``, ``a str``: ``tp`` as the error messages name it."""
    return f"{'an' if tp is int else 'a'} {tp.__name__}"


__all__ = ["a_type", "is_a", "widen"]
