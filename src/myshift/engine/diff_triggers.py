"""Which triggers a plan drops, creates or replaces in place, and where.

Part of ``engine/diff.py`` (phases 1, 5 and 10 of ``diff_schemas``). A trigger
is a whole group's business: its (table, timing, event) group fires in
ACTION_ORDER, and the server can only put a trigger back at a place named by
FOLLOWS / PRECEDES (or last).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import NamedTuple

from myshift.engine.changes.objects import Anchor
from myshift.engine.definers import same
from myshift.model.schema import Schema, Trigger


def _trigger_groups(triggers: Iterable[Trigger]) -> dict[tuple[str, str, str], list[Trigger]]:
    groups: dict[tuple[str, str, str], list[Trigger]] = {}
    for t in sorted(triggers, key=lambda t: t.order):
        groups.setdefault((t.table, t.timing, t.event), []).append(t)
    return groups


class TriggerPlan(NamedTuple):
    """What happens to triggers, by phase."""

    drops: list[Trigger]  # phase 1, in the order they are dropped
    late_drops: dict[str, list[Trigger]]  # phase 5, right before that (desired) table's ALTER
    # Phase 10; a tuple is (before, after, where) of a trigger replaced in place.
    creates: list[Trigger | tuple[Trigger, Trigger, Anchor]]


def _reads_gone_column(t: Trigger, gone: Mapping[str, set[str]]) -> str | None:
    """The first altered table (plan order) with a dropped/renamed column ``t``'s body names.

    A conservative word match (case-insensitive, as column names are): a
    false hit only moves the trigger's drop to just before that ALTER.
    """
    for table, cols in gone.items():
        for col in cols:
            if re.search(r"(?<![\w$])" + re.escape(col) + r"(?![\w$])", t.body, re.IGNORECASE):
                return table
    return None


def _anchor(names: Sequence[str], i: int) -> Anchor:
    """Where ``names[i]`` goes back when re-created among the others of its group."""
    if i > 0:
        return ("FOLLOWS", names[i - 1])
    return ("PRECEDES", names[1]) if len(names) > 1 else None


def trigger_changes(
    current: Schema,
    desired: Schema,
    new_of: Mapping[str, str],
    gone: Mapping[str, set[str]],
    definers: bool = False,
) -> TriggerPlan:
    """Triggers to drop (phase 1 or 5) and to create or replace (phase 10).

    A group (table, timing, event) keeping the same trigger names in the same
    order has its changed triggers replaced in place, each pinned next to a
    neighbour (FOLLOWS / PRECEDES): a re-created trigger would land last.
    """
    cur_groups = _trigger_groups(
        replace(t, table=new_of.get(t.table, t.table)) for t in current.triggers
    )
    des_groups = _trigger_groups(desired.triggers)
    plan = TriggerPlan([], {}, [])
    for key in sorted(set(cur_groups) | set(des_groups)):
        cur_g, des_g = cur_groups.get(key, []), des_groups.get(key, [])
        if len(cur_g) <= len(des_g) and all(
            same(c, d, definers) for c, d in zip(cur_g, des_g, strict=False)
        ):
            plan.creates.extend(des_g[len(cur_g) :])
            continue
        originals = [current.trigger_map[t.name] for t in cur_g]
        changed = [t for t, d in zip(cur_g, des_g, strict=False) if not same(t, d, definers)]
        late = {_reads_gone_column(t, gone) for t in changed} - {None}
        if [t.name for t in cur_g] == [t.name for t in des_g[: len(cur_g)]] and not late:
            names = [t.name for t in cur_g]
            for i, (c, d) in enumerate(zip(cur_g, des_g, strict=False)):
                if not same(c, d, definers):
                    plan.creates.append((c, d, _anchor(names, i)))
            plan.creates.extend(des_g[len(cur_g) :])
            continue
        # ACTION_ORDER can only be rebuilt by re-creating the whole group.
        # Dropped last-first, so that the reversed plan re-creates them in order.
        drops = list(reversed(originals))
        if late:
            first_alter = next(t for t in gone if t in late)
            plan.late_drops.setdefault(first_alter, []).extend(drops)
        else:
            plan.drops.extend(drops)
        plan.creates.extend(des_g)
    return plan
