"""Watch the target's health around an apply, or on its own (issue 15).

* ``sampler``: snapshots of the server's counters and the figures two give;
* ``watcher``: phases, the baseline, regressions flagged against it;
* ``view``: a live table on a terminal, plain lines when piped;
* ``prom``: ``--metrics-port``, the figures for Prometheus;
* ``command``: ``myshift watch`` and ``watching`` around ``apply``, recorded
  in history.
* ``options``: the ``WatchOptions`` of both, from ``[watch]`` and the flags.
"""

from __future__ import annotations

from myshift.workflows.watch.command import (
    ApplyWatch,
    WatchOptions,
    WatchOutcome,
    alerts_to,
    rollback_command,
    watch,
    watching,
)
from myshift.workflows.watch.watcher import Flag

__all__ = [
    "ApplyWatch",
    "Flag",
    "WatchOptions",
    "WatchOutcome",
    "alerts_to",
    "rollback_command",
    "watch",
    "watching",
]
