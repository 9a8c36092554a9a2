"""Passwords that come from AWS: Secrets Manager and RDS IAM authentication tokens.

Both stay in memory: nothing here prints, logs or writes a secret.  An IAM
token is made by boto3 signing locally (no network call), afresh for every
connection (db.connect.FreshPassword), since each one is valid 15 minutes.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import NamedTuple

from myshift.cloud.aws import client, region_for
from myshift.cloud.calls import aws_call
from myshift.config.settings import AwsSettings, EnvConfig
from myshift.db.connect import Endpoint, FreshPassword
from myshift.errors import UsageError


class SecretLogin(NamedTuple):
    """What a secret holds: the password, and the user when it names one (RDS's JSON does)."""

    password: str
    username: str | None


def secret_login(aws: AwsSettings, env: EnvConfig, secret_id: str) -> SecretLogin:
    """The password (and user) held by the Secrets Manager secret ``secret_id``.

    The secret is the password as plain text, or JSON with a "password" key
    (RDS-managed secrets are ``{"username": …, "password": …, …}``).
    """
    sm = client("secretsmanager", aws, env)
    answer = aws_call(
        f"read the secret {secret_id!r}",
        "secretsmanager:GetSecretValue (and kms:Decrypt on its key, if it is not AWS-managed)",
        sm.get_secret_value,
        SecretId=secret_id,
        missing=(
            f"The secret {secret_id!r} of environment {env.name!r} was not found in "
            f"{region_for(aws, env)}.",
            f"Fix password_secret (a name or ARN) in [env.{env.name}] of myshift.toml.",
        ),
    )
    text = answer.get("SecretString")
    if text is None and answer.get("SecretBinary") is not None:
        text = bytes(answer["SecretBinary"]).decode("utf-8", errors="strict")
    return _parse_secret(text or "", secret_id, env)


def _parse_secret(text: str, secret_id: str, env: EnvConfig) -> SecretLogin:
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None  # a plain password that starts with "{"
        if isinstance(data, dict):
            password = data.get("password")
            if not isinstance(password, str) or not password:
                raise UsageError(
                    f"The secret {secret_id!r} of environment {env.name!r} is JSON "
                    'without a "password" string.',
                    'Store the password under "password" (as RDS does), or as plain text.',
                )
            user = data.get("username")
            return SecretLogin(password, user if isinstance(user, str) and user else None)
    if not text:
        raise UsageError(
            f"The secret {secret_id!r} of environment {env.name!r} is empty.",
            'Store the password in it (plain text, or JSON with a "password" key).',
        )
    return SecretLogin(text, None)


def iam_endpoint(aws: AwsSettings, env: EnvConfig, ep: Endpoint) -> Endpoint:
    """``ep`` logging in with an RDS IAM authentication token, over TLS.

    Call it with the server's real address (before any tunnel): the token is
    signed for that host and port.  The server asks for the token in clear
    text (mysql_clear_password), which is why TLS is required.
    """
    if env.password_secret:
        raise UsageError(
            f'Environment {env.name!r} sets both auth = "iam" and password_secret, '
            "but an IAM login uses a token, not a password.",
            "Remove one of them from myshift.toml.",
        )
    if (ep.ssl_mode or "").upper() == "DISABLED":
        raise UsageError(
            f'Environment {env.name!r} uses auth = "iam" with ssl_mode DISABLED, but an IAM '
            "token is sent in clear text and RDS only accepts it over TLS.",
            'Remove ssl_mode = "DISABLED" (use REQUIRED, or VERIFY_IDENTITY with the RDS '
            "CA bundle as ssl_ca).",
        )
    region = region_for(aws, env)
    rds = client("rds", aws, env)
    host, port, user = ep.host, ep.port, ep.user

    def make() -> str:
        token: str = aws_call(
            f"make an IAM authentication token for {user}@{host}",
            "rds-db:connect",
            rds.generate_db_auth_token,
            DBHostname=host,
            Port=port,
            DBUsername=user,
            Region=region,
        )
        return token

    make()  # no credentials: say so now, before the command starts
    refused = (
        f'With auth = "iam": check that IAM database authentication is enabled on the '
        f"instance, that {user!r} was created IDENTIFIED WITH AWSAuthenticationPlugin, and "
        f"that this AWS identity may rds-db:connect to "
        f"arn:aws:rds-db:{region}:ACCOUNT:dbuser:DB_RESOURCE_ID/{user}."
    )
    return replace(
        ep,
        password=None,
        ssl_mode=ep.ssl_mode or "REQUIRED",
        fresh_password=FreshPassword(make, refused),
    )
