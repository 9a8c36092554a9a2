"""Ways in: what stands between this machine and an environment's server, opened per command.

An ``[env.NAME]`` in myshift.toml may say how it is reached (issue 14):

* ``ssh_tunnel = "user@bastion"`` — through an SSH bastion inside the VPC; the
  server's host and port are forwarded to a local port (host keys verified);
* ``access = "allowlist"`` — this machine's IP is added to the RDS instance's
  security group for the command, and removed after it (also on Ctrl-C);
* ``password_secret`` — the password is read from AWS Secrets Manager;
* ``auth = "iam"`` — the password is an RDS IAM authentication token (TLS required).

``Reach`` opens what the environment needs (the tunnel last: an IAM token is
signed for the server's own host and port), and closes it in
reverse when the command ends: the CLI keeps one per command and closes it in
its context's ``finally``.  Nothing it handles (token, secret, key) is printed
or written anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace

from myshift.config.settings import EnvConfig, Settings
from myshift.db.connect import Endpoint

Say = Callable[[str], None]


class Reach:
    """The ways in to environments, open for the length of one command."""

    def __init__(self, settings: Settings, say: Say | None = None) -> None:
        self.settings = settings
        self.say: Say = say or (lambda _msg: None)
        self._stack = ExitStack()
        self._opened: set[tuple[str, str]] = set()

    def __enter__(self) -> Reach:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close tunnels and allowlist rules, newest first (idempotent)."""
        self._stack.close()

    def env_of(self, ep: Endpoint) -> EnvConfig | None:
        if ep.env_name is None:
            return None
        return self.settings.environments.get(ep.env_name)

    def endpoint(self, ep: Endpoint, env: EnvConfig | None = None) -> Endpoint:
        """``ep`` as this machine reaches it now: firewall opened, tunnel up, password set.

        ``env`` defaults to the environment ``ep`` was resolved from; pass it to
        reach another server the same way (a sandbox instance beside production).
        """
        env = env if env is not None else self.env_of(ep)
        if env is None:
            return ep
        if env.access == "allowlist":
            self._allowlist(env)
        if env.password_secret:
            ep = self._secret_password(ep, env)
        if env.auth == "iam":  # before the tunnel: the token is signed for the real host
            ep = self._iam(ep, env)
        if env.ssh_tunnel:
            host, port = self.address(ep.host, ep.port, env)
            # TLS still checks the certificate against the server's own name, and
            # what is recorded (history, plan file, report) names the server, not
            # the tunnel's local port, which is closed when the command ends.
            ep = replace(
                ep,
                host=host,
                port=port,
                socket=None,
                server_name=ep.server_name or ep.host,
                server_port=ep.server_port or ep.port,
            )
        return ep

    def address(self, host: str, port: int, env: EnvConfig) -> tuple[str, int]:
        """A local (host, port) that reaches ``host:port`` through ``env``'s SSH tunnel."""
        from myshift.net.tunnel import open_tunnel

        return self._stack.enter_context(open_tunnel(env, host, port, say=self.say))

    def _allowlist(self, env: EnvConfig) -> None:
        key = ("allowlist", env.name)
        if key in self._opened:
            return
        from myshift.workflows.access import allowlist_for_command

        self._stack.enter_context(allowlist_for_command(self.settings, env, say=self.say))
        self._opened.add(key)  # only once it is open: a failed attempt is tried again

    def _secret_password(self, ep: Endpoint, env: EnvConfig) -> Endpoint:
        from myshift.cloud.credentials import secret_login

        assert env.password_secret is not None
        login = secret_login(self.settings.aws, env, env.password_secret)
        # An RDS-managed secret names its user: it is the login unless the env names one.
        user = login.username if login.username and env.user is None else ep.user
        return replace(ep, user=user, password=login.password)

    def _iam(self, ep: Endpoint, env: EnvConfig) -> Endpoint:
        from myshift.cloud.credentials import iam_endpoint

        return iam_endpoint(self.settings.aws, env, ep)
