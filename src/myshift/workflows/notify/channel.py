"""A notification channel with its secrets: what ``send.deliver`` sends through.

The channel's settings come from myshift.toml (``config.notify``); its URL,
token and password only from the environment, read here when the command opens
it.  Below both the package (``Notifier``) and ``send``, which each use it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from myshift.config.notify import ChannelConfig

__all__ = ["Channel", "open_channel"]


@dataclass(frozen=True)
class Channel:
    """A channel with its secrets read from the environment (never from the file)."""

    config: ChannelConfig
    url: str | None = None
    token: str | None = None
    password: str | None = None
    # Why it cannot send (a variable not set), said once instead of sending.
    unusable: str = ""


def open_channel(cfg: ChannelConfig, environ: Mapping[str, str] | None = None) -> Channel:
    """``cfg`` with the URL, token and password it names read from the environment."""
    env = os.environ if environ is None else environ
    missing = [
        name
        for name in (cfg.url_env, cfg.token_env, cfg.password_env)
        if name is not None and not env.get(name)
    ]
    return Channel(
        config=cfg,
        url=cfg.url if cfg.url_env is None else env.get(cfg.url_env) or None,
        token=env.get(cfg.token_env) if cfg.token_env else None,
        password=env.get(cfg.password_env) if cfg.password_env else None,
        unusable=(
            f"Warning: channel {cfg.name!r} sends nothing: the variable "
            f"${missing[0]} it reads is not set. Export it (see {cfg.section} in myshift.toml)."
            if missing
            else ""
        ),
    )
