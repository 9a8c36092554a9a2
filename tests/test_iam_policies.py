"""Issue 14: the guide's least-privilege IAM policies (docs/access.md) are exactly what
the commands need, against a local moto server that checks every call against them.

Each command runs as an IAM user that holds exactly the actions of the guide's
policy (moto checks actions, not resource ARNs or conditions: the user gets them
on "*"), with moto enforcing IAM; the IAM actions each command needed are seen
through boto3's event hooks (tests/awsiam.py).  So a policy action the code
does not use, or a call the policy does not allow, fails here; and the
"Permissions by command" table must name exactly the actions of its row.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from awsiam import documented, guide_policy, iam_enforced, limited_user, recorded_actions
from myshift.cloud.allowlist import ingress_rules
from myshift.cloud.aws import client
from myshift.cloud.rds import REHEARSAL_TAG, Rds
from myshift.config.settings import AwsSettings, EnvConfig, Settings
from myshift.db.connect import Endpoint, connect
from myshift.workflows.access import (
    allowlist_for_command,
    close_access,
    open_access,
    sweep_access,
)
from myshift.workflows.rehearse import RehearseOptions, rehearse
from myshift.workflows.sandbox_kinds import make_sandbox
from myshift.workflows.sandboxes import delete_sandbox, sandboxes_list, sweep
from rdsfixtures import AwsProd, aurora_cluster, context, make_plan, own_rds, to_server

ACCESS_ROW = "access open"  # the row of open, close, sweep and access = "allowlist"


def _as_user(actions: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on boto3 (myshift's default session included) acts as a user holding
    exactly ``actions``."""
    for k, v in limited_user(actions).items():
        monkeypatch.setenv(k, v)


def _runner(seen: set[str], runs: dict[str, set[str]]) -> Callable[[str, Callable[[], Any]], Any]:
    def run(name: str, fn: Callable[[], Any]) -> Any:
        seen.clear()
        out = fn()
        runs[name] = runs.get(name, set()) | seen
        return out

    return run


def test_the_access_policy_is_exactly_what_the_access_commands_call(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    boto3.client("rds").create_db_instance(
        DBInstanceIdentifier="prod",
        DBInstanceClass="db.t3.micro",
        Engine="mysql",
        MasterUsername="admin",
        MasterUserPassword="not-used-here",
        AllocatedStorage=20,
        VpcSecurityGroupIds=[sg],
    )
    for cidr, text in (
        ("192.0.2.1/32", "myshift user=bob expires=2020-01-01T00:00Z"),  # expired: swept
        ("198.51.100.0/24", "office"),  # not myshift's: stays
    ):
        ec2.authorize_security_group_ingress(
            GroupId=sg,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306,
                 "IpRanges": [{"CidrIp": cidr, "Description": text}]}
            ],
        )  # fmt: skip
    policy = guide_policy("MyshiftReadRules")
    assert set(policy) == documented(ACCESS_ROW)
    _as_user(policy, monkeypatch)
    settings = Settings(aws=AwsSettings())
    # The instance's groups found through RDS, and a group named outright.
    by_instance = EnvConfig(name="prod", rds_instance="prod", allowlist_ip="203.0.113.7")
    by_group = EnvConfig(name="stage", security_group=sg, port=3306, allowlist_ip="203.0.113.8")
    said: list[str] = []

    def command(env: EnvConfig) -> None:
        with allowlist_for_command(settings, env, say=said.append):
            pass

    runs: dict[str, set[str]] = {}
    with iam_enforced(moto_endpoint), recorded_actions() as seen:
        run = _runner(seen, runs)
        assert "Opened" in run("open", lambda: open_access(settings, by_instance, ttl="30m"))
        # Again, longer: this user's hold is added and the expiry pushed forward.
        assert "Kept" in run("open", lambda: open_access(settings, by_instance, ttl="2h"))
        run("command", lambda: command(by_instance))  # holds the open rule, leaves it
        assert "left rule" in said[-1], said
        assert "Removed rule" in run("close", lambda: close_access(settings, by_instance))
        assert "removed 1 expired" in run("sweep", lambda: sweep_access(settings, by_instance))
        run("by group", lambda: command(by_group))  # adds and removes its own rule
        assert "closed" in said[-1], said
    left = ingress_rules(AwsSettings(), by_group, sg)
    assert [(r.cidr, r.description) for r in left] == [("198.51.100.0/24", "office")]
    # Every action of the policy was needed, and nothing else was called.
    assert set().union(*runs.values()) == set(policy), runs
    # rds:DescribeDBInstances only when the environment names no group and port.
    assert "rds:DescribeDBInstances" not in runs["by group"]


def _tagged_leftovers(rds: Any) -> None:
    """An expired tagged instance and an expired tagged Aurora clone (for delete / sweep)."""
    tags = [
        {"Key": REHEARSAL_TAG, "Value": "abc123"},
        {"Key": "myshift:expires", "Value": "2020-01-01T00:00:00Z"},
    ]
    rds.create_db_instance(
        DBInstanceIdentifier="myshift-old-aaaaaa",
        Engine="mariadb",
        EngineVersion="10.11.8",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="Some-Secret-1",
        Tags=tags,
    )
    aurora_cluster(rds, "myshift-clu-dddddd", cluster_tags=tags, instance_tags=tags)


def test_the_sandbox_policy_is_exactly_what_rehearse_and_sandboxes_call(
    aws: AwsProd,
    shop_pair: tuple[Endpoint, Endpoint],
    moto_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """rds-snapshot and aurora-clone rehearsals, sandboxes list, delete and sweep (the
    rds-replica flow: test_sandbox_aws.test_rds_replica_rehearsal_end_to_end)."""
    prod, copy = shop_pair
    plan = make_plan(prod, tmp_path)
    rds = own_rds()
    rds.create_db_snapshot(DBSnapshotIdentifier="prod-snap", DBInstanceIdentifier="prod-db")
    aurora_cluster(
        rds, "prod-aurora", instance_class="db.r6g.xlarge", password="Prod-Master-Secret-9"
    )
    _tagged_leftovers(rds)
    policy = guide_policy("MyshiftSandboxRead")
    _as_user(policy, monkeypatch)
    opts = RehearseOptions(progress=False, record_history=False)

    def rehearsal(spec: str) -> None:
        sb = make_sandbox(spec, cloud=context(to_server(copy, []), []))
        report = rehearse(plan, prod, opts, sandbox=sb)
        assert report.passed, report.to_text()
        with connect(copy) as c:  # the stand-in server, as a fresh copy would be again
            c.execute("ALTER TABLE users DROP INDEX uq_email")

    runs: dict[str, set[str]] = {}
    with iam_enforced(moto_endpoint), recorded_actions() as seen:
        run = _runner(seen, runs)
        run("rehearse --sandbox rds-snapshot:…", lambda: rehearsal("rds-snapshot:prod-snap"))
        run("rehearse --sandbox aurora-clone:…", lambda: rehearsal("aurora-clone:prod-aurora"))
        mine = Rds(client("rds", AwsSettings()))
        listed = run("sandboxes list", lambda: sandboxes_list(mine))
        assert "myshift-old-aaaaaa" in listed and "myshift-clu-dddddd" in listed
        run("sandboxes delete", lambda: delete_sandbox(mine, "myshift-old-aaaaaa"))
        swept = run("sandboxes delete", lambda: sweep(mine))  # the row of delete and sweep
        assert "deleted cluster myshift-clu-dddddd" in swept, swept
    for command, needed in runs.items():
        assert needed == documented(command), command
    assert set().union(*runs.values()) <= set(policy)
    assert [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]] == [
        "prod-db",
        "prod-aurora-1",
    ]
