"""SSH tunnels through a bastion (``ssh_tunnel = "user@bastion"``): to be built (issue 14)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from myshift.config.settings import EnvConfig
from myshift.errors import UsageError


@contextmanager
def open_tunnel(
    env: EnvConfig, host: str, port: int, *, say: Callable[[str], None]
) -> Iterator[tuple[str, int]]:
    """Forward a local port to ``host:port`` through ``env.ssh_tunnel``; yield (host, port)."""
    raise UsageError(
        f"Environment {env.name!r} asks for an SSH tunnel, which is not built yet.",
        "Remove ssh_tunnel from myshift.toml.",
    )
    yield ("127.0.0.1", port)  # pragma: no cover
