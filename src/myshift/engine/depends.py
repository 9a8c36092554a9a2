"""Dependency order: a stable topological sort, and what a view's text names.

Pure helpers of the diff (and of dump, clone and verification, which order
or scope objects the same way).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from myshift.model.schema import View


def toposort(
    nodes: Sequence[str], deps: Mapping[str, Iterable[str]]
) -> tuple[list[str], set[tuple[str, str]]]:
    """Order ``nodes`` so that each comes after its ``deps`` (deps outside ``nodes`` ignored).

    Stable (keeps input order where free). Cycles are broken at the first node
    still waiting, and the edges ignored to do so are returned as
    ``(node, dependency)`` so the caller can defer them (e.g. as ALTER ADD FK).
    """
    members = set(nodes)
    pending = {n: {d for d in deps.get(n, ()) if d in members and d != n} for n in nodes}
    order: list[str] = []
    done: set[str] = set()
    broken: set[tuple[str, str]] = set()
    remaining = list(nodes)
    while remaining:
        for n in remaining:
            if pending[n] <= done:
                break
        else:
            n = remaining[0]
            broken |= {(n, d) for d in pending[n] - done}
        order.append(n)
        done.add(n)
        remaining.remove(n)
    return order, broken


def names_in_definition(definition: str, names: Iterable[str]) -> set[str]:
    """Which of ``names`` a view definition uses.

    The server prints stored view definitions with every identifier
    backquoted, so a name is used when its quoted form (backquotes doubled)
    occurs in the text; no parsing of the SELECT is needed.
    """
    return {n for n in names if "`" + n.replace("`", "``") + "`" in definition}


def view_deps(views: Iterable[View]) -> dict[str, set[str]]:
    """View -> the other views its definition names."""
    views = list(views)
    names = {v.name for v in views}
    return {v.name: names_in_definition(v.definition, names - {v.name}) for v in views}
