"""Issue 14: sandboxes myshift makes on AWS (rds-replica, aurora-clone, rds-snapshot)
and `myshift sandboxes list|delete|sweep`, against a local moto server.

Every AWS call is a real boto3 HTTP call to moto on 127.0.0.1; the tests see
them through boto3's own event hooks on the default session (which myshift's
``cloud.aws.client`` uses), never by replacing anything inside myshift.  The
sandbox instance's endpoint is mapped to a real local mariadbd (the resolver a
sandbox takes), so the rehearsal itself runs for real.  Where AWS would do
something moto cannot (stop replicating when a replica is promoted, take
minutes to become available), a hook in the test does it to the real state.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3
import pytest

from clitools import run_cli
from myshift.cloud.aws import client
from myshift.cloud.rds import REHEARSAL_TAG, CloudError, Rds, WaitTimeout
from myshift.config.settings import AwsSettings
from myshift.db.connect import Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.errors import Interrupted, UnsafeError, UsageError
from myshift.exitcodes import ExitCode
from myshift.workflows.plan import PlanOptions, build_planfile
from myshift.workflows.planfile import PlanFile
from myshift.workflows.rehearse import RehearseOptions, rehearse
from myshift.workflows.sandbox import make_sandbox
from myshift.workflows.sandbox_aws import CloudContext

BASE = "CREATE TABLE users (id int PRIMARY KEY, email varchar(100) NOT NULL, n int)"
DESIRED = (
    "CREATE TABLE users (id int PRIMARY KEY, email varchar(100) NOT NULL, n int, "
    "UNIQUE KEY uq_email (email));"
)
MUTATING = (
    "Create",
    "Restore",
    "Promote",
    "Delete",
    "Modify",
    "Reboot",
    "Stop",
    "Start",
    "AddTags",
    "RemoveTags",
)


def _ep(srv: LocalServer, schema: str = "") -> Endpoint:
    return Endpoint(host="127.0.0.1", port=srv.port, user="root", password="", schema=schema)


# ----------------------------------------------------------------------------- AWS side


@dataclass
class Calls:
    """The RDS calls made through boto3's default session (myshift's), in order."""

    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [n for n, _ in self.seen]

    def mutating(self) -> list[tuple[str, dict[str, Any]]]:
        return [(n, p) for n, p in self.seen if n.startswith(MUTATING)]

    def params(self, name: str) -> dict[str, Any]:
        found = [p for n, p in self.seen if n == name]
        assert len(found) == 1, (name, self.names())
        return found[0]


@pytest.fixture
def calls(moto_endpoint: str) -> Iterator[Calls]:
    rec = Calls()
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None

    def before(model: Any, params: dict[str, Any], **_kw: Any) -> None:
        rec.seen.append((model.name, dict(params)))

    boto3.DEFAULT_SESSION.events.register("before-parameter-build.rds", before)
    try:
        yield rec
    finally:
        boto3.DEFAULT_SESSION = None


def after_call(operation: str, fn: Callable[[dict[str, Any]], None]) -> None:
    """Run ``fn(request params)`` after each successful ``operation`` of myshift's clients."""
    assert boto3.DEFAULT_SESSION is not None

    def hook(http_response: Any, parsed: dict[str, Any], model: Any, **kw: Any) -> None:
        if http_response.status_code == 200:
            fn(kw["context"]["myshift_params"])

    def keep_params(params: dict[str, Any], context: dict[str, Any], **_kw: Any) -> None:
        context["myshift_params"] = dict(params)

    boto3.DEFAULT_SESSION.events.register(f"before-parameter-build.rds.{operation}", keep_params)
    boto3.DEFAULT_SESSION.events.register(f"after-call.rds.{operation}", hook)


def own_rds() -> Any:
    """The test's own client (a separate session: not recorded, no hooks)."""
    return boto3.session.Session().client("rds")


@dataclass
class AwsProd:
    sg: str
    rds: Any

    def instance_ids(self) -> list[str]:
        return sorted(
            d["DBInstanceIdentifier"] for d in self.rds.describe_db_instances()["DBInstances"]
        )

    def tags(self, ident: str) -> dict[str, str]:
        arn = self.rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0][
            "DBInstanceArn"
        ]
        tl = self.rds.list_tags_for_resource(ResourceName=arn)["TagList"]
        return {t["Key"]: t["Value"] for t in tl}


@pytest.fixture
def aws(moto_endpoint: str) -> AwsProd:
    """Production on "RDS": instance prod-db (MariaDB) in a VPC, subnet group, parameter group."""
    ec2 = boto3.session.Session().client("ec2")
    rds = own_rds()
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    sg = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    rds.create_db_subnet_group(
        DBSubnetGroupName="prod-subnets", DBSubnetGroupDescription="prod", SubnetIds=subnets
    )
    rds.create_db_parameter_group(
        DBParameterGroupName="prod-params",
        DBParameterGroupFamily="mariadb10.11",
        Description="prod",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="prod-db",
        Engine="mariadb",
        EngineVersion="10.11.8",
        DBInstanceClass="db.r6g.large",
        MasterUsername="admin",
        MasterUserPassword="Prod-Master-Secret-9",
        AllocatedStorage=20,
        DBSubnetGroupName="prod-subnets",
        VpcSecurityGroupIds=[sg],
        DBParameterGroupName="prod-params",
        BackupRetentionPeriod=7,
        Tags=[{"Key": "team", "Value": "shop"}],
    )
    return AwsProd(sg=sg, rds=rds)


def _context(resolve: Callable[[Endpoint], Endpoint] | None, said: list[str], **aws: Any) -> Any:
    return CloudContext(aws=AwsSettings(**aws), resolve=resolve, say=said.append)


# ----------------------------------------------------------------------------- databases


def _make_shop(ep: Endpoint, schema: str, rows: int = 500) -> None:
    with connect(ep) as c:
        c.execute(f"CREATE DATABASE {quote_ident(schema)}")
        c.execute(f"USE {quote_ident(schema)}")
        c.execute(BASE)
        c.execute(f"INSERT INTO users SELECT seq, CONCAT('u', seq), seq FROM seq_1_to_{rows}")


def _plan(prod: Endpoint, tmp_path: Path) -> Path:
    f = tmp_path / "desired.sql"
    f.write_text(DESIRED)
    out = tmp_path / "plan.json"
    build_planfile(prod, str(f), PlanOptions()).write(out)
    return out


def _has_unique(ep: Endpoint) -> bool:
    with connect(ep) as c:
        return bool(
            c.scalar(
                "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s "
                "AND INDEX_NAME = 'uq_email'",
                (ep.schema,),
            )
        )


@pytest.fixture
def shop_pair(server: LocalServer, server2: LocalServer) -> Iterator[tuple[Endpoint, Endpoint]]:
    """The same schema on the session server (production) and server2 (the sandbox's data)."""
    name = f"shop_{time.monotonic_ns() % 10**9}"
    prod, copy = _ep(server, name), _ep(server2, name)
    _make_shop(_ep(server), name)
    _make_shop(_ep(server2), name)
    try:
        yield prod, copy
    finally:
        for ep in (prod, copy):
            with connect(replace(ep, schema="")) as c:
                c.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")


def _to(srv_ep: Endpoint, seen: list[str]) -> Callable[[Endpoint], Endpoint]:
    """The resolver: the moto instance's endpoint -> the local server standing in for it."""

    def resolve(ep: Endpoint) -> Endpoint:
        seen.append(f"{ep.host}:{ep.port}")
        return replace(ep, host=srv_ep.host, port=srv_ep.port, password="")

    return resolve


def _assert_source_only_read(calls: Calls, *sources: str) -> None:
    for name, params in calls.mutating():
        named = {params.get("DBInstanceIdentifier"), params.get("DBClusterIdentifier")}
        assert not named & set(sources), (name, params)
    for name, params in calls.seen:
        assert "MasterUserPassword" not in params, name  # myshift never handles it


def _guarded(calls: Calls, op: str) -> None:
    """Every ``op`` call is preceded by a fresh tag read (the guard) of the same resource."""
    names = calls.names()
    idx = [i for i, n in enumerate(names) if n == op]
    assert idx, (op, names)
    for i in idx:
        assert names[i - 1] == "ListTagsForResource", (op, names[: i + 1])


# ----------------------------------------------------------------------------- rds-replica


def test_rds_replica_rehearsal_end_to_end(
    aws: AwsProd,
    calls: Calls,
    replication_pair: tuple[LocalServer, LocalServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The seed's flow: replica of prod-db, caught up, promoted, rehearsed on, deleted."""
    monkeypatch.chdir(tmp_path)
    primary, replica = replication_pair
    prod = _ep(primary, "shop")
    _make_shop(_ep(primary), "shop", rows=2000)
    plan = _plan(prod, tmp_path)
    with connect(_ep(primary)) as p:  # written after the plan: the replica must catch up
        p.execute("INSERT INTO shop.users VALUES (5000, 'late', 1)")

    def promoted(_params: dict[str, Any]) -> None:
        # What AWS does to the server when it promotes a read replica.
        with connect(_ep(replica)) as r:
            r.execute("STOP SLAVE")
            r.execute("RESET SLAVE ALL")
            r.execute("SET GLOBAL read_only = 0")

    after_call("PromoteReadReplica", promoted)
    reached: list[str] = []
    said: list[str] = []
    sb = make_sandbox(
        "rds-replica:prod-db",
        cloud=_context(_to(_ep(replica), reached), said, waiter_timeout=30, sandbox_ttl="2h"),
    )
    t0 = dt.datetime.now(dt.UTC)
    r = rehearse(plan, prod, RehearseOptions(progress=False, record_history=False), sandbox=sb)
    assert r.passed, r.to_text()
    assert r.sandbox == "rds-replica" and r.data == "replica"

    # The plan ran on the promoted replica, which had caught up; production is untouched.
    with connect(_ep(replica, "shop")) as rc:
        assert rc.query("SHOW SLAVE STATUS") == []
        assert rc.scalar("SELECT COUNT(*) FROM users") == 2001
    assert _has_unique(_ep(replica, "shop")) and not _has_unique(prod)

    # The AWS calls: create, promote, delete the replica; prod-db only described.
    new = calls.params("CreateDBInstanceReadReplica")["DBInstanceIdentifier"]
    assert re.fullmatch(r"myshift-prod-db-[0-9a-f]{6}", new)
    assert [(n, p.get("DBInstanceIdentifier")) for n, p in calls.mutating()] == [
        ("CreateDBInstanceReadReplica", new),
        ("PromoteReadReplica", new),
        ("DeleteDBInstance", new),
    ]
    _assert_source_only_read(calls, "prod-db")
    _guarded(calls, "PromoteReadReplica")
    _guarded(calls, "DeleteDBInstance")
    create = calls.params("CreateDBInstanceReadReplica")
    assert create["SourceDBInstanceIdentifier"] == "prod-db"
    assert create["DBInstanceClass"] == "db.r6g.large"  # the source's: none configured
    assert create["DBSubnetGroupName"] == "prod-subnets"
    assert create["DBParameterGroupName"] == "prod-params"
    assert create["VpcSecurityGroupIds"] == [aws.sg]
    tags = {t["Key"]: t["Value"] for t in create["Tags"]}
    assert tags["myshift:rehearsal"] == PlanFile.read(plan).plan_hash
    assert tags["myshift:kind"] == "rds-replica" and tags["myshift:source"] == "prod-db"
    assert tags["myshift:created-by"]
    expires = dt.datetime.fromisoformat(tags["myshift:expires"].replace("Z", "+00:00"))
    assert abs((expires - t0) - dt.timedelta(hours=2)) < dt.timedelta(minutes=1)
    delete = calls.params("DeleteDBInstance")
    assert delete["SkipFinalSnapshot"] is True and delete["DeleteAutomatedBackups"] is True

    # It was reached at the instance's own endpoint (through the resolver).
    assert reached and reached[0] == f"{new}.aaaaaaaaaa.us-east-1.rds.amazonaws.com:3306"
    # Gone afterwards; production's instance and its tags as they were.
    assert aws.instance_ids() == ["prod-db"]
    assert aws.tags("prod-db") == {"team": "shop"}
    # Each phase on stderr with the time since the start.
    stamped = [s for s in said if re.match(r"\[ ?\d+:\d\d\] ", s)]
    for phase in ("Creating read replica", "catch up", "Promoting", "Deleting instance"):
        assert any(phase in s for s in stamped), (phase, said)
    hash12 = tags["myshift:rehearsal"][:12]
    assert any(f"{new} is tagged myshift:rehearsal={hash12}" in s for s in said), said


def test_replica_of_another_server_is_refused_and_deleted(
    aws: AwsProd, calls: Calls, shop_pair: tuple[Endpoint, Endpoint]
) -> None:
    """A failure after creation (here: the replica does not replicate from production)
    deletes what was made, --keep or not."""
    prod, copy = shop_pair
    said: list[str] = []
    sb = make_sandbox(
        "rds-replica:prod-db", keep=True, cloud=_context(_to(copy, []), said, waiter_timeout=5)
    )
    with pytest.raises(UsageError, match="is not a replica"):
        sb.prepare(prod)
    new = calls.params("CreateDBInstanceReadReplica")["DBInstanceIdentifier"]
    assert calls.mutating()[-1] == ("DeleteDBInstance", calls.params("DeleteDBInstance"))
    assert calls.params("DeleteDBInstance")["DBInstanceIdentifier"] == new
    assert aws.instance_ids() == ["prod-db"]
    assert sb.finish() is None  # nothing kept: it was removed


def test_ctrl_c_while_reaching_the_replica_deletes_it(
    aws: AwsProd, calls: Calls, shop_pair: tuple[Endpoint, Endpoint], tmp_path: Path
) -> None:
    prod, _copy = shop_pair
    plan = _plan(prod, tmp_path)

    def ctrl_c(_ep: Endpoint) -> Endpoint:
        raise KeyboardInterrupt

    said: list[str] = []
    sb = make_sandbox("rds-replica:prod-db", cloud=_context(ctrl_c, said, waiter_timeout=5))
    with pytest.raises(Interrupted) as caught:
        rehearse(plan, prod, RehearseOptions(progress=False, record_history=False), sandbox=sb)
    assert "rds-replica sandbox, which was removed" in caught.value.message
    assert calls.names()[-2:] == ["ListTagsForResource", "DeleteDBInstance"]
    assert aws.instance_ids() == ["prod-db"]
    assert not any("WARNING" in s for s in said)


# ----------------------------------------------------------------------------- rds-snapshot


def test_rds_snapshot_rehearsal_fails_and_is_deleted_then_passes(
    aws: AwsProd, calls: Calls, shop_pair: tuple[Endpoint, Endpoint], tmp_path: Path
) -> None:
    prod, copy = shop_pair
    plan = _plan(prod, tmp_path)
    aws.rds.create_db_snapshot(DBSnapshotIdentifier="prod-snap", DBInstanceIdentifier="prod-db")
    opts = RehearseOptions(progress=False, record_history=False)

    # The restored "snapshot" is older than the plan (a column differs): the rehearsal
    # fails, as a report, and the instance is deleted all the same.
    with connect(copy) as c:
        c.execute("ALTER TABLE users DROP COLUMN n")
    said: list[str] = []
    sb = make_sandbox("rds-snapshot:prod-snap", cloud=_context(_to(copy, []), said))
    r = rehearse(plan, prod, opts, sandbox=sb)
    assert not r.passed and r.stage == "sandbox", r.to_text()
    first = calls.params("RestoreDBInstanceFromDBSnapshot")
    assert first["DBSnapshotIdentifier"] == "prod-snap"
    assert first["DBSubnetGroupName"] == "prod-subnets" and first["VpcSecurityGroupIds"] == [aws.sg]
    assert first["DBInstanceClass"] == "db.r6g.large"
    assert any("holds production as of the snapshot" in n for n in r.notes)
    _guarded(calls, "DeleteDBInstance")
    assert aws.instance_ids() == ["prod-db"]

    # A faithful copy: the rehearsal passes, with a configured smaller class.
    with connect(copy) as c:
        c.execute("ALTER TABLE users ADD COLUMN n int")
        c.execute("UPDATE users SET n = id")
    calls.seen.clear()
    sb = make_sandbox(
        "rds-snapshot:prod-snap",
        cloud=_context(_to(copy, []), said, sandbox_instance_class="db.t3.micro"),
    )
    r = rehearse(plan, prod, opts, sandbox=sb)
    assert r.passed and r.data == "full", r.to_text()
    assert calls.params("RestoreDBInstanceFromDBSnapshot")["DBInstanceClass"] == "db.t3.micro"
    assert _has_unique(copy) and not _has_unique(prod)
    assert aws.instance_ids() == ["prod-db"]
    _assert_source_only_read(calls, "prod-db", "prod-snap")


def test_keep_leaves_the_instance_and_says_how_to_remove_it(
    aws: AwsProd, calls: Calls, shop_pair: tuple[Endpoint, Endpoint], tmp_path: Path
) -> None:
    prod, copy = shop_pair
    plan = _plan(prod, tmp_path)
    aws.rds.create_db_snapshot(DBSnapshotIdentifier="prod-snap", DBInstanceIdentifier="prod-db")
    sb = make_sandbox("rds-snapshot:prod-snap", keep=True, cloud=_context(_to(copy, []), []))
    r = rehearse(plan, prod, RehearseOptions(progress=False, record_history=False), sandbox=sb)
    assert r.passed, r.to_text()
    new = calls.params("RestoreDBInstanceFromDBSnapshot")["DBInstanceIdentifier"]
    assert "DeleteDBInstance" not in calls.names()
    assert aws.instance_ids() == sorted(["prod-db", new])
    assert f"myshift sandboxes delete {new}" in r.kept and "production's password" in r.kept
    assert aws.tags(new)["myshift:rehearsal"] == PlanFile.read(plan).plan_hash

    listed = run_cli("sandboxes", "list", cwd=tmp_path)
    assert re.search(rf"^{new}\s+rds-snapshot\s+\S+\s+\S+Z\s+no\s", listed.stdout, re.M), (
        listed.stdout + listed.stderr
    )
    res = run_cli("sandboxes", "delete", new, "--yes", cwd=tmp_path)
    assert res.returncode == 0 and "being deleted" in res.stdout, res.stderr
    assert aws.instance_ids() == ["prod-db"]


def test_waiter_time_limit_is_a_clear_error_and_cleans_up(
    aws: AwsProd, calls: Calls, server: LocalServer
) -> None:
    """An instance that never becomes available: the waiter gives up at waiter_timeout."""
    aws.rds.create_db_snapshot(DBSnapshotIdentifier="prod-snap", DBInstanceIdentifier="prod-db")
    # moto makes a restored instance available at once; stopping it is real moto
    # state that AWS's "available" waiter keeps polling through.
    after_call(
        "RestoreDBInstanceFromDBSnapshot",
        lambda p: own_rds().stop_db_instance(DBInstanceIdentifier=p["DBInstanceIdentifier"]),
    )
    said: list[str] = []
    sb = make_sandbox("rds-snapshot:prod-snap", cloud=_context(None, said, waiter_timeout=3))
    t0 = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        sb.prepare(_ep(server, "whatever"))
    waited = time.monotonic() - t0
    assert 2.5 < waited < 15, waited
    msg = str(caught.value)
    assert "was still 'stopped', not available" in msg and "waiter_timeout = 3s" in msg
    new = calls.params("RestoreDBInstanceFromDBSnapshot")["DBInstanceIdentifier"]
    assert calls.params("DeleteDBInstance")["DBInstanceIdentifier"] == new
    assert aws.instance_ids() == ["prod-db"]

    # The waiter itself, on an instance the test made and stopped: bounded too.
    aws.rds.restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier="slow-one", DBSnapshotIdentifier="prod-snap"
    )
    aws.rds.stop_db_instance(DBInstanceIdentifier="slow-one")
    rds = Rds(client("rds", AwsSettings()), waiter_timeout=2)
    t0 = time.monotonic()
    with pytest.raises(WaitTimeout):
        rds.wait_instance("slow-one")
    assert time.monotonic() - t0 < 10


# ----------------------------------------------------------------------------- aurora-clone


def test_aurora_clone_rehearsal(
    moto_endpoint: str, calls: Calls, shop_pair: tuple[Endpoint, Endpoint], tmp_path: Path
) -> None:
    prod, copy = shop_pair
    plan = _plan(prod, tmp_path)
    rds = own_rds()
    rds.create_db_cluster(
        DBClusterIdentifier="prod-aurora",
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword="Prod-Master-Secret-9",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 4.0},
    )
    rds.create_db_instance(
        DBInstanceIdentifier="prod-aurora-1",
        DBClusterIdentifier="prod-aurora",
        Engine="aurora-mysql",
        DBInstanceClass="db.r6g.xlarge",
    )
    reached: list[str] = []
    sb = make_sandbox("aurora-clone:prod-aurora", cloud=_context(_to(copy, reached), []))
    r = rehearse(plan, prod, RehearseOptions(progress=False, record_history=False), sandbox=sb)
    assert r.passed, r.to_text()
    clone = calls.params("RestoreDBClusterToPointInTime")
    new = clone["DBClusterIdentifier"]
    assert clone["RestoreType"] == "copy-on-write" and clone["UseLatestRestorableTime"] is True
    assert clone["SourceDBClusterIdentifier"] == "prod-aurora"
    assert clone["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4.0}
    inst = calls.params("CreateDBInstance")
    assert inst["DBClusterIdentifier"] == new and inst["DBInstanceClass"] == "db.r6g.xlarge"
    assert [
        (n, p.get("DBInstanceIdentifier") or p.get("DBClusterIdentifier"))
        for n, p in calls.mutating()
    ] == [
        ("RestoreDBClusterToPointInTime", new),
        ("CreateDBInstance", f"{new}-1"),
        ("DeleteDBInstance", f"{new}-1"),
        ("DeleteDBCluster", new),
    ]
    _guarded(calls, "DeleteDBCluster")
    _assert_source_only_read(calls, "prod-aurora", "prod-aurora-1")
    assert reached and reached[0].startswith(f"{new}.cluster-")
    assert [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]] == [
        "prod-aurora"
    ]
    assert _has_unique(copy) and not _has_unique(prod)


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
    assert not [n for n, _ in calls.mutating()]
    assert aws.instance_ids() == ["prod-db"]


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
    rds.create_db_cluster(
        DBClusterIdentifier="myshift-clu-dddddd",
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword="Some-Secret-1",
        Tags=cluster_tags,
    )
    rds.create_db_instance(
        DBInstanceIdentifier="myshift-clu-dddddd-1",
        DBClusterIdentifier="myshift-clu-dddddd",
        Engine="aurora-mysql",
        DBInstanceClass="db.r6g.large",
        Tags=cluster_tags,
    )

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


# ----------------------------------------------------------------------------- Ctrl-C, for real

# Runs the real CLI; the hook makes moto's restored instance stay "stopped" (what a
# slow AWS restore looks like to the waiter), so the command is waiting when SIGINT comes.
WRAPPER = """
import sys
import boto3

boto3.setup_default_session()


def stop(http_response, parsed, **kw):
    ident = parsed["DBInstance"]["DBInstanceIdentifier"]
    boto3.session.Session().client("rds").stop_db_instance(DBInstanceIdentifier=ident)


boto3.DEFAULT_SESSION.events.register("after-call.rds.RestoreDBInstanceFromDBSnapshot", stop)
from myshift.cli import main

main(sys.argv[1:])
"""


def test_sigint_to_myshift_rehearse_deletes_the_sandbox(
    aws: AwsProd, shop_pair: tuple[Endpoint, Endpoint], tmp_path: Path
) -> None:
    prod, _copy = shop_pair
    plan = _plan(prod, tmp_path)
    aws.rds.create_db_snapshot(DBSnapshotIdentifier="prod-snap", DBInstanceIdentifier="prod-db")
    (tmp_path / "myshift.toml").write_text('[aws]\nwaiter_timeout = 600\nsandbox_ttl = "1h"\n')
    wrapper = tmp_path / "run_myshift.py"
    wrapper.write_text(WRAPPER)
    env = {k: v for k, v in os.environ.items() if k != "MYSQL_PWD"}
    proc = subprocess.Popen(
        [
            sys.executable,
            str(wrapper),
            "rehearse",
            "--plan",
            str(plan),
            "--to",
            f"mysql://root@127.0.0.1:{prod.port}/{prod.schema}",
            "--sandbox",
            "rds-snapshot:prod-snap",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    waiting = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "to be available" in line:
                waiting.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert waiting.wait(60), "".join(lines)
        time.sleep(0.5)  # inside the waiter's sleep
        assert aws.instance_ids() != ["prod-db"]  # the sandbox exists now
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)  # (not communicate(): the reader thread owns stderr)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(10)
    assert proc.stdout is not None
    out = proc.stdout.read()
    err = "".join(lines)
    assert proc.returncode == int(ExitCode.INTERRUPTED), err
    assert re.search(r"\[ ?\d+:\d\d\] Deleting instance myshift-prod-snap-[0-9a-f]{6}", err), err
    assert "rds-snapshot sandbox, which was removed" in err
    assert "Traceback" not in err and "WARNING" not in err
    assert aws.instance_ids() == ["prod-db"]
    assert "Prod-Master-Secret-9" not in err + out


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

    def unreachable(_ep: Endpoint) -> Endpoint:
        raise UsageError("No way in.", "Test.")

    said: list[str] = []
    sb = make_sandbox("rds-snapshot:prod-snap", cloud=_context(unreachable, said))
    with pytest.raises(UsageError, match="No way in"):
        sb.prepare(prod)
    new = calls.params("RestoreDBInstanceFromDBSnapshot")["DBInstanceIdentifier"]
    warning = [s for s in said if "WARNING" in s]
    assert len(warning) == 1, said
    assert f"still on AWS: instance {new} (Could not delete RDS instance" in warning[0]
    assert f"Remove it with `myshift sandboxes delete {new}`" in warning[0]
    assert new in aws.instance_ids()

    aws.rds.modify_db_instance(DBInstanceIdentifier=new, DeletionProtection=False)
    from myshift.workflows.sandboxes import delete_sandbox

    delete_sandbox(Rds(client("rds", AwsSettings())), new)
    assert aws.instance_ids() == ["prod-db"]


def test_sandbox_specs(moto_endpoint: str) -> None:
    from myshift.config.settings import EnvConfig
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


def test_a_create_that_fails_leaves_nothing_to_delete(
    aws: AwsProd, calls: Calls, server: LocalServer
) -> None:
    aws.rds.delete_db_subnet_group(DBSubnetGroupName="prod-subnets")  # the create fails
    said: list[str] = []
    sb = make_sandbox("rds-replica:prod-db", cloud=_context(None, said))
    with pytest.raises(CloudError, match="Could not create a read replica of 'prod-db': AWS said "):
        sb.prepare(_ep(server, "whatever"))
    assert "CreateDBInstanceReadReplica" in calls.names()
    assert "DeleteDBInstance" not in calls.names()
    assert not any("Deleting" in s or "WARNING" in s for s in said), said
    assert aws.instance_ids() == ["prod-db"]


def test_a_user_that_cannot_follow_replication_is_refused_before_creating(
    aws: AwsProd, calls: Calls, shop_pair: tuple[Endpoint, Endpoint], server: LocalServer
) -> None:
    prod, _copy = shop_pair
    user = f"mig_{time.monotonic_ns() % 10**6}"
    with connect(_ep(server)) as c:
        c.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'Mig-Secret-7'")
        c.execute(f"GRANT ALL ON {quote_ident(prod.schema)}.* TO '{user}'@'%'")
    try:
        low = replace(prod, user=user, password="Mig-Secret-7")
        said: list[str] = []
        sb = make_sandbox("rds-replica:prod-db", cloud=_context(None, said))
        with pytest.raises(UsageError, match="cannot read replication status") as caught:
            sb.prepare(low)
        assert "SLAVE MONITOR" in str(caught.value) and "nothing was created" in str(caught.value)
        assert "Mig-Secret-7" not in str(caught.value) + "".join(said)
        assert not calls.mutating()
        assert aws.instance_ids() == ["prod-db"]
    finally:
        with connect(_ep(server)) as c:
            c.execute(f"DROP USER '{user}'@'%'")
