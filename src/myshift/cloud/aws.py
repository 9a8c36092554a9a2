"""One place that makes boto3 clients, with myshift's region, endpoint and retry rules."""

from __future__ import annotations

import os
from typing import Any

from myshift.config.settings import AwsSettings, EnvConfig
from myshift.errors import UsageError


def region_for(aws: AwsSettings, env: EnvConfig | None = None) -> str:
    """The region: the environment's, else ``[aws] region``, else boto3's own default."""
    if env is not None and env.aws_region:
        return env.aws_region
    if aws.region:
        return aws.region
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(var):
            return os.environ[var]
    raise UsageError(
        "No AWS region is configured.",
        "Set region in [aws] of myshift.toml (or aws_region in the environment), "
        "or export AWS_REGION.",
    )


def client(service: str, aws: AwsSettings, env: EnvConfig | None = None) -> Any:
    """A boto3 client for ``service`` (``rds``, ``ec2``, ``secretsmanager``…).

    ``[aws] endpoint_url`` wins over ``AWS_ENDPOINT_URL`` (which boto3 reads
    itself); a missing boto3 or missing credentials is a UsageError with the fix.
    """
    try:
        import boto3
        from botocore.config import Config
    except ImportError:  # pragma: no cover - boto3 is a dependency
        raise UsageError(
            "The AWS features need boto3, which is not installed.",
            "pip install boto3 (it comes with `pip install myshift`).",
        ) from None
    session = boto3.session.Session(profile_name=aws.profile) if aws.profile else boto3
    kwargs: dict[str, Any] = {
        "region_name": region_for(aws, env),
        "config": Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=10),
    }
    if aws.endpoint_url:
        kwargs["endpoint_url"] = aws.endpoint_url
    return session.client(service, **kwargs)
