"""The ``WatchOptions`` of ``watch`` and ``apply``, from ``[watch]`` and the flags as typed.

The CLI collects the flags and calls these; what they decide lives here:
whether an apply is watched at all (``--watch``/``--no-watch``, else
``[watch] on_apply`` and whether the target is protected), the durations
over ``[watch]`` (config.watchsettings.with_flags), and the target
environment's ``replicas`` resolved and reached the way production is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from myshift.config.endpoint import EndpointSpec, resolve_endpoint
from myshift.config.watchsettings import parse_seconds, with_flags
from myshift.errors import UsageError
from myshift.workflows.watch.command import WatchOptions, alerts_to

if TYPE_CHECKING:
    from myshift.config.settings import Settings
    from myshift.db.connect import Endpoint
    from myshift.workflows.notify import Notify
    from myshift.workflows.reach import Reach


def replica_endpoints(target: Endpoint, ways_in: Reach) -> tuple[tuple[str, Endpoint], ...]:
    """The target environment's ``replicas`` (environments or URLs) as (name, endpoint),
    each reached through ``ways_in`` (its tunnel, allowlist, password)."""
    env = ways_in.env_of(target)
    if env is None or not env.replicas:
        return ()
    found = []
    for ref in env.replicas:
        ep = resolve_endpoint(
            EndpointSpec(ref=ref), prompt=lambda _t: "", settings=ways_in.settings
        )
        found.append((str(ep), ways_in.endpoint(ep)))
    return tuple(found)


def apply_watch(
    target: Endpoint,
    settings: Settings,
    ways_in: Reach,
    *,
    watch: bool | None,
    after: str | None,
    interval: str | None,
    metrics_port: int | None,
    live: bool,
    notify: Notify | None = None,
) -> WatchOptions | None:
    """The watch of an apply (None: not watched) from its flags and ``[watch]``.

    ``watch`` is ``--watch``/``--no-watch`` (None: ``on_apply`` decides); ``after``
    and ``interval`` are ``--watch-after`` and ``--watch-interval`` as typed.
    ``notify`` (the apply's, workflows.notify) is told of every regression flagged.
    """
    after_s = None if after is None else parse_seconds(after, "--watch-after")
    st = settings.watch
    on = (
        watch
        if watch is not None
        else (st.on_apply == "always" or (st.on_apply == "protected" and target.protected))
    )
    if not on:
        if after_s or metrics_port is not None:
            raise UsageError(
                "--watch-after and --metrics-port need the watch, which is off for this apply.",
                "Add --watch.",
            )
        return None
    st = with_flags(st, interval=interval)
    if after_s is not None:
        st = replace(st, after=after_s)
    return WatchOptions(
        settings=st,
        metrics_port=metrics_port,
        replicas=replica_endpoints(target, ways_in),
        history_schema=settings.history_schema,
        audit_log=str(settings.audit_log),
        live=live,
        on_alert=alerts_to(notify),
    )


__all__ = ["apply_watch", "replica_endpoints"]
