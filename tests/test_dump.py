"""`myshift dump` rendering (pure: a model in, SQL out)."""

from __future__ import annotations

from myshift.model import View
from myshift.workflows.dump import views_in_dependency_order


def test_views_over_views_come_after_what_they_name() -> None:
    base = View("z`b", "select 1 AS `x`")
    # The server prints a name with a backquote doubled: `z``b`.
    top = View("top", "select `z``b`.`x` AS `x` from `z``b`")
    mid = View("m", "select `top`.`x` AS `x` from `top`")
    order = views_in_dependency_order((mid, top, base))
    assert [v.name for v in order] == ["z`b", "top", "m"]
