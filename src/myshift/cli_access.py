"""Command line: ``myshift access open|close|sweep`` (the RDS firewall, workflows.access).

Registered on the main group in ``myshift.cli``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from myshift.cli_support import Group, config_option, handle_errors, load_config

if TYPE_CHECKING:
    from myshift.config.settings import EnvConfig

_ENV_HELP = "The environment ([env.NAME] in myshift.toml) whose security group to change."
_IP_HELP = "The address to allow (default: allowlist_ip of the environment, else ip_url)."


def _env(name: str) -> EnvConfig:
    env: EnvConfig = load_config().environment(name)
    return env


@click.group(cls=Group)
def access() -> None:
    """This machine's IP in the RDS security group, with an expiry (no stale holes)."""


@access.command("open")
@click.option("--env", "env_name", required=True, help=_ENV_HELP)
@click.option("--ttl", default=None, help="How long, e.g. 30m or 2h (default allowlist_ttl).")
@click.option("--ip", default=None, help=_IP_HELP)
@config_option
@handle_errors
def access_open(env_name: str, ttl: str | None, ip: str | None) -> None:
    """Allow this machine's IP (/32) to the server's port until the TTL ends."""
    from myshift.workflows.access import open_access

    click.echo(open_access(load_config(), _env(env_name), ttl=ttl, ip=ip), nl=False)


@access.command("close")
@click.option("--env", "env_name", required=True, help=_ENV_HELP)
@click.option("--ip", default=None, help=_IP_HELP)
@config_option
@handle_errors
def access_close(env_name: str, ip: str | None) -> None:
    """Remove this user's myshift rule for this machine's IP."""
    from myshift.workflows.access import close_access

    click.echo(close_access(load_config(), _env(env_name), ip=ip), nl=False)


@access.command("sweep")
@click.option("--env", "env_name", default=None, help="Only this environment (default: all).")
@config_option
@handle_errors
def access_sweep(env_name: str | None) -> None:
    """Remove expired myshift rules (for cron); rules myshift did not write stay."""
    from myshift.workflows.access import sweep_access

    env = _env(env_name) if env_name else None
    click.echo(sweep_access(load_config(), env), nl=False)


__all__ = ["access"]
