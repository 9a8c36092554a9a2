"""IAM in the local moto server: users with exactly the permissions a test names, and
a window in which moto checks every call against them (its /moto-api/reset-auth)."""

from __future__ import annotations

import itertools
import json
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import boto3

_names = itertools.count()


def limited_user(actions: list[str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables (over ``base``) that make boto3 act as a new IAM user
    allowed exactly ``actions`` on every resource."""
    iam = boto3.client("iam")
    name = f"myshift-test-{next(_names)}"
    iam.create_user(UserName=name)
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
    }
    iam.put_user_policy(UserName=name, PolicyName="myshift", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {
        **(base or {}),
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_SESSION_TOKEN": "",
    }


@contextmanager
def iam_enforced(moto: str) -> Iterator[None]:
    """moto checks every call against the caller's IAM policy while this runs."""

    def post(count: str) -> None:
        req = urllib.request.Request(
            f"{moto}/moto-api/reset-auth",
            data=count.encode(),
            headers={"Content-Type": "application/octet-stream"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()

    post("0")
    try:
        yield
    finally:
        post("inf")
