"""``myshift access open|close|sweep`` and ``access = "allowlist"`` (to be built, issue 14)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from myshift.config.settings import EnvConfig, Settings
from myshift.errors import UsageError


@contextmanager
def allowlist_for_command(
    settings: Settings, env: EnvConfig, *, say: Callable[[str], None]
) -> Iterator[None]:
    """This machine's IP allowed into ``env``'s security group while the block runs."""
    raise UsageError(
        f"Environment {env.name!r} asks for access = \"allowlist\", not built yet.",
        "Remove access from myshift.toml.",
    )
    yield  # pragma: no cover
