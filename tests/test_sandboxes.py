"""Issue 14: `myshift sandboxes list|delete|sweep`, the tag guard, a deletion that
fails, and the --sandbox specs, against a local moto server (tests/rdsfixtures.py).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from awsiam import iam_enforced, limited_user
from clitools import run_cli
from myshift.cloud.aws import client
from myshift.cloud.rds import REHEARSAL_TAG, Rds
from myshift.config.settings import AwsSettings, EnvConfig
from myshift.db.connect import Endpoint
from myshift.errors import UnsafeError, UsageError
from myshift.exitcodes import ExitCode
from myshift.workflows.sandbox_aws import CloudContext
from myshift.workflows.sandbox_kinds import make_sandbox
from myshift.workflows.sandboxes import delete_sandbox
from rdsfixtures import (
    AwsProd,
    Calls,
    after_call,
    aurora_cluster,
    context,
    own_rds,
)

# ----------------------------------------------------------------------------- guards


def test_the_tag_guard_refuses_an_untagged_instance(
    aws: AwsProd, calls: Calls, tmp_path: Path
) -> None:
    res = run_cli("sandboxes", "delete", "prod-db", "--yes", cwd=tmp_path)
    assert res.returncode == int(ExitCode.UNSAFE), res.stderr
    assert "has no myshift:rehearsal tag: myshift did not create it" in res.stderr
    assert "Traceback" not in res.stderr
    assert aws.instance_ids() == ["prod-db"]

    rds = Rds(client("rds", AwsSettings()))
    for op in (rds.delete_instance, rds.promote):
        with pytest.raises(UnsafeError, match="has no myshift:rehearsal tag"):
            op("prod-db")
    # Even with the tag, the sandbox's source is never modified or deleted.
    aws.rds.add_tags_to_resource(
        ResourceName=aws.rds.describe_db_instances(DBInstanceIdentifier="prod-db")["DBInstances"][
            0
        ]["DBInstanceArn"],
        Tags=[{"Key": REHEARSAL_TAG, "Value": "x"}],
    )
    rds = Rds(client("rds", AwsSettings()), protected=("prod-db",))
    with pytest.raises(UnsafeError, match="myshift only reads it"):
        rds.delete_instance("prod-db")
    # An untagged Aurora cluster is refused before any of its instances is touched,
    # even one that carries the tag.
    aurora_cluster(aws.rds, "legacy-aurora", instance_tags=[{"Key": REHEARSAL_TAG, "Value": "x"}])
    with pytest.raises(UnsafeError, match="RDS cluster 'legacy-aurora' has no myshift:rehearsal"):
        delete_sandbox(Rds(client("rds", AwsSettings())), "legacy-aurora")
    assert not [n for n, _ in calls.mutating()]
    assert aws.instance_ids() == ["legacy-aurora-1", "prod-db"]


def _tagged(rds: Any, ident: str, expires: str | None, **extra: Any) -> None:
    tags = [{"Key": REHEARSAL_TAG, "Value": "abc123"}, {"Key": "myshift:kind", "Value": "x"}]
    if expires is not None:
        tags.append({"Key": "myshift:expires", "Value": expires})
    rds.create_db_instance(
        DBInstanceIdentifier=ident,
        Engine="mariadb",
        EngineVersion="10.11.8",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="Some-Secret-1",
        Tags=tags,
        **extra,
    )


def test_list_and_sweep_delete_only_expired_tagged_sandboxes(aws: AwsProd, tmp_path: Path) -> None:
    rds = aws.rds
    past, future = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z"
    _tagged(rds, "myshift-old-aaaaaa", past)
    _tagged(rds, "myshift-new-bbbbbb", future)
    _tagged(rds, "myshift-noexpiry-cccccc", None)
    rds.create_db_instance(  # untagged, not myshift's
        DBInstanceIdentifier="legacy-db",
        Engine="mariadb",
        EngineVersion="10.11.8",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="Some-Secret-1",
    )
    cluster_tags = [
        {"Key": REHEARSAL_TAG, "Value": "abc123"},
        {"Key": "myshift:kind", "Value": "aurora-clone"},
        {"Key": "myshift:expires", "Value": past},
    ]
    aurora_cluster(rds, "myshift-clu-dddddd", cluster_tags=cluster_tags, instance_tags=cluster_tags)

    res = run_cli("sandboxes", "list", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = {line.split()[0]: line.split() for line in res.stdout.splitlines()[1:]}
    assert set(rows) == {
        "myshift-old-aaaaaa",
        "myshift-new-bbbbbb",
        "myshift-noexpiry-cccccc",
        "myshift-clu-dddddd",
    }
    assert rows["myshift-old-aaaaaa"][3:5] == [past, "yes"]
    assert rows["myshift-new-bbbbbb"][3:5] == [future, "no"]
    assert rows["myshift-clu-dddddd"][1] == "aurora-clone"

    res = run_cli("sandboxes", "sweep", "--dry-run", cwd=tmp_path)
    assert res.returncode == 0 and "would delete instance myshift-old-aaaaaa" in res.stdout
    assert len(aws.instance_ids()) == 6

    res = run_cli("sandboxes", "sweep", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "deleted instance myshift-old-aaaaaa" in res.stdout
    assert "deleted cluster myshift-clu-dddddd" in res.stdout
    assert "kept instance myshift-noexpiry-cccccc (no readable expiry tag)" in res.stdout
    assert aws.instance_ids() == [
        "legacy-db",
        "myshift-new-bbbbbb",
        "myshift-noexpiry-cccccc",
        "prod-db",
    ]
    assert rds.describe_db_clusters()["DBClusters"] == []

    res = run_cli("sandboxes", "sweep", cwd=tmp_path)  # again, as cron would: nothing to do
    assert res.returncode == 0 and "deleted" not in res.stdout
    res = run_cli("sandboxes", "delete", "myshift-new-bbbbbb", "--yes", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "myshift-new-bbbbbb" not in aws.instance_ids()


def test_a_failed_deletion_says_what_is_left_and_how_to_remove_it(
    aws: AwsProd, calls: Calls, shop_pair: tuple[Endpoint, Endpoint]
) -> None:
    """Deletion protection switched on behind myshift's back: the delete fails for real."""
    prod, _copy = shop_pair
    after_call(
        "RestoreDBInstanceFromDBSnapshot",
        lambda p: own_rds().modify_db_instance(
            DBInstanceIdentifier=p["DBInstanceIdentifier"], DeletionProtection=True
        ),
    )
    aws.rds.create_db_snapshot(DBSnapshotIdentifier="prod-snap", DBInstanceIdentifier="prod-db")

    def unreachable(ep_of: Endpoint) -> Endpoint:
        raise UsageError("No way in.", "Test.")

    said: list[str] = []
    sb = make_sandbox("rds-snapshot:prod-snap", cloud=context(unreachable, said))
    with pytest.raises(UsageError, match="No way in"):
        sb.prepare(prod)
    new = calls.params("RestoreDBInstanceFromDBSnapshot")["DBInstanceIdentifier"]
    warning = [s for s in said if "WARNING" in s]
    assert len(warning) == 1, said
    assert f"still on AWS: instance {new} (AWS refused to delete RDS instance" in warning[0]
    assert f"Remove it with `myshift sandboxes delete {new}`" in warning[0]
    assert new in aws.instance_ids()

    aws.rds.modify_db_instance(DBInstanceIdentifier=new, DeletionProtection=False)
    delete_sandbox(Rds(client("rds", AwsSettings())), new)
    assert aws.instance_ids() == ["prod-db"]


def test_a_denied_rds_call_names_the_iam_permission(
    aws: AwsProd, moto_endpoint: str, tmp_path: Path
) -> None:
    """RDS failures are worded like every AWS failure (cloud.calls): the permission is named."""
    only_instances = limited_user(["rds:DescribeDBInstances"])
    with iam_enforced(moto_endpoint):
        res = run_cli("sandboxes", "list", cwd=tmp_path, env=only_instances)
    assert res.returncode == int(ExitCode.USAGE), res.stderr  # the user's to fix, not a bug
    assert "AWS refused to list Aurora clusters: the caller lacks the IAM permission " in res.stderr
    assert "Grant rds:DescribeDBClusters to this identity" in res.stderr
    assert "Traceback" not in res.stderr


def test_sandbox_specs(moto_endpoint: str) -> None:
    from myshift.workflows.sandbox_aws import expiry, sandbox_id

    env = EnvConfig(name="prod", rds_instance="prod-db")
    sb = make_sandbox("rds-replica", cloud=CloudContext(env=env))
    assert sb.kind == "rds-replica" and sb.holds_data == "replica"
    assert make_sandbox("rds-snapshot:rds:prod-db-2026-12-03-05-10").kind == "rds-snapshot"
    assert make_sandbox("aurora-clone:prod-aurora").holds_data == "full"
    for bad in ("rds-replica", "aurora-clone:", "rds-snapshot:1abc", "rds-replica:a b"):
        with pytest.raises(UsageError):
            make_sandbox(bad)
    other = CloudContext(env=EnvConfig(name="prod", rds_instance="prod-db"), say=lambda _m: None)
    with pytest.raises(UsageError, match="is RDS instance 'prod-db', not 'other-db'"):
        make_sandbox("rds-replica:other-db", cloud=other).prepare(Endpoint())
    ident = sandbox_id("rds:Prod_DB--2026")
    assert re.fullmatch(r"myshift-rds-prod-db-2026-[0-9a-f]{6}", ident), ident
    assert len(sandbox_id("x" * 200, room=2)) + 2 <= 63
    now = dt.datetime(2026, 12, 3, 16, 0, tzinfo=dt.UTC)
    assert expiry("6h", now) == "2026-12-03T22:00:00Z"
    assert expiry("1d30m", now) == "2026-12-04T16:30:00Z"
