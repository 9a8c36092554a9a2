"""IAM in the local moto server: users with exactly the permissions a test names, and
a window in which moto checks every call against them (its /moto-api/reset-auth).

Also the guide's side (docs/access.md): the actions of its JSON policies and of its
"Permissions by command" table, and the IAM actions a run of myshift needed, seen
through boto3's own event hooks (never by replacing anything inside myshift).
"""

from __future__ import annotations

import itertools
import json
import re
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "access.md"

_names = itertools.count()


def limited_user(actions: list[str], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables (over ``base``) that make boto3 act as a new IAM user
    allowed exactly ``actions`` on every resource."""
    # Its own session: the default one would cache the credentials it used here.
    iam = boto3.session.Session().client("iam")
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


def guide_policy(sid: str) -> list[str]:
    """The actions of the guide's JSON policy that has a statement ``sid`` (all statements)."""
    text = GUIDE.read_text()
    for code in re.findall(r"^```json\n(.*?)^```", text, re.S | re.M):
        policy = json.loads(code)
        if any(s.get("Sid") == sid for s in policy["Statement"]):
            out: list[str] = []
            for stmt in policy["Statement"]:
                acts = stmt["Action"]
                out += [acts] if isinstance(acts, str) else acts
            return out
    raise AssertionError(f"no policy with statement {sid} in {GUIDE}")


def documented(command: str) -> set[str]:
    """The actions the guide's "Permissions by command" row for ``command`` lists (the
    row whose first cell starts with it, in backticks)."""
    text = GUIDE.read_text()
    table = text[text.index("\n## Permissions by command") :]
    rows = [line.split("|")[1:3] for line in table.splitlines() if line.startswith("| `")]
    found = [acts for first, acts in rows if first.strip().startswith(f"`{command}`")]
    assert len(found) == 1, (command, [r[0] for r in rows])
    return set(re.findall(r"`([a-z0-9-]+:[A-Za-z]+)`", found[0]))


def _dependent(action: str, params: Mapping[str, Any]) -> list[str]:
    """Actions AWS also authorizes for a call: tagging what the call creates."""
    if action == "ec2:AuthorizeSecurityGroupIngress" and params.get("TagSpecifications"):
        return ["ec2:CreateTags"]
    if action.startswith(("rds:Create", "rds:Restore")) and params.get("Tags"):
        return ["rds:AddTagsToResource"]
    return []


def actions_of(prefix: str, calls: Iterable[tuple[str, Mapping[str, Any]]]) -> set[str]:
    """The IAM actions of ``calls`` (operation name, request parameters) to ``prefix``."""
    out: set[str] = set()
    for name, params in calls:
        out.add(f"{prefix}:{name}")
        out.update(_dependent(f"{prefix}:{name}", params))
    return out


@contextmanager
def recorded_actions() -> Iterator[set[str]]:
    """The IAM actions of every AWS call made through boto3's default session (the one
    ``myshift.cloud.aws.client`` uses) while the block runs; clear it between commands."""
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    seen: set[str] = set()

    def before(model: Any, params: dict[str, Any], **_kw: Any) -> None:
        seen.update(actions_of(model.service_model.signing_name, [(model.name, params)]))

    boto3.DEFAULT_SESSION.events.register("before-parameter-build", before)
    try:
        yield seen
    finally:
        boto3.DEFAULT_SESSION = None
