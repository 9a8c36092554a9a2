"""Passwords that come from AWS: Secrets Manager and RDS IAM tokens (to be built, issue 14)."""

from __future__ import annotations

from myshift.config.settings import AwsSettings, EnvConfig
from myshift.db.connect import Endpoint
from myshift.errors import UsageError


def secret_password(aws: AwsSettings, env: EnvConfig, secret_id: str) -> str:
    """The password held by the Secrets Manager secret ``secret_id``."""
    raise UsageError(
        f"Environment {env.name!r} reads its password from Secrets Manager, not built yet.",
        "Remove password_secret from myshift.toml.",
    )


def iam_endpoint(aws: AwsSettings, env: EnvConfig, ep: Endpoint) -> Endpoint:
    """``ep`` logging in with an RDS IAM authentication token (TLS required)."""
    raise UsageError(
        f"Environment {env.name!r} asks for IAM authentication, not built yet.",
        "Remove auth from myshift.toml.",
    )
