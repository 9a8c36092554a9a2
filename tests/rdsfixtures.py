"""Shared parts of the AWS sandbox tests (test_sandbox_aws, test_sandboxes): production
on a local moto server, the RDS calls myshift makes, and local servers standing in
for the instances it creates.

The calls are seen through boto3's own event hooks on the default session (which
``myshift.cloud.aws.client`` uses), never by replacing anything inside myshift.
Its fixtures (``aws``, ``calls``, ``shop_pair``) are re-exported by conftest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from myshift.config.settings import AwsSettings
from myshift.db.connect import Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.workflows.plan import PlanOptions, build_planfile
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


def ep_of(srv: LocalServer, schema: str = "") -> Endpoint:
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
    import boto3  # here, not at the top: conftest imports this module for every test

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
    import boto3

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
    import boto3

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
    import boto3

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


def aurora_cluster(
    rds: Any,
    ident: str,
    *,
    instance_class: str = "db.r6g.large",
    password: str = "Some-Secret-1",
    cluster_tags: list[dict[str, str]] | None = None,
    instance_tags: list[dict[str, str]] | None = None,
    **cluster: Any,
) -> None:
    """An Aurora MySQL cluster ``ident`` in moto with its one instance ``ident-1``."""
    rds.create_db_cluster(
        DBClusterIdentifier=ident,
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword=password,
        **({"Tags": cluster_tags} if cluster_tags is not None else {}),
        **cluster,
    )
    rds.create_db_instance(
        DBInstanceIdentifier=f"{ident}-1",
        DBClusterIdentifier=ident,
        Engine="aurora-mysql",
        DBInstanceClass=instance_class,
        **({"Tags": instance_tags} if instance_tags is not None else {}),
    )


def context(resolve: Callable[[Endpoint], Endpoint] | None, said: list[str], **aws: Any) -> Any:
    return CloudContext(aws=AwsSettings(**aws), resolve=resolve, say=said.append)


# ----------------------------------------------------------------------------- databases


def make_shop(ep: Endpoint, schema: str, rows: int = 500) -> None:
    with connect(ep) as c:
        c.execute(f"CREATE DATABASE {quote_ident(schema)}")
        c.execute(f"USE {quote_ident(schema)}")
        c.execute(BASE)
        c.execute(f"INSERT INTO users SELECT seq, CONCAT('u', seq), seq FROM seq_1_to_{rows}")


def make_plan(prod: Endpoint, tmp_path: Path) -> Path:
    f = tmp_path / "desired.sql"
    f.write_text(DESIRED)
    out = tmp_path / "plan.json"
    build_planfile(prod, str(f), PlanOptions()).write(out)
    return out


def has_unique(ep: Endpoint) -> bool:
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
    prod, copy = ep_of(server, name), ep_of(server2, name)
    make_shop(ep_of(server), name)
    make_shop(ep_of(server2), name)
    try:
        yield prod, copy
    finally:
        for ep in (prod, copy):
            with connect(replace(ep, schema="")) as c:
                c.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")


def to_server(srv_ep: Endpoint, seen: list[str]) -> Callable[[Endpoint], Endpoint]:
    """The resolver: the moto instance's endpoint -> the local server standing in for it."""

    def resolve(ep: Endpoint) -> Endpoint:
        seen.append(f"{ep.host}:{ep.port}")
        return replace(ep, host=srv_ep.host, port=srv_ep.port, password="")

    return resolve


def assert_source_only_read(calls: Calls, *sources: str) -> None:
    for name, params in calls.mutating():
        named = {params.get("DBInstanceIdentifier"), params.get("DBClusterIdentifier")}
        assert not named & set(sources), (name, params)
    for name, params in calls.seen:
        assert "MasterUserPassword" not in params, name  # myshift never handles it


def assert_guarded(calls: Calls, op: str) -> None:
    """Every ``op`` call is preceded by a fresh tag read (the guard) of the same resource."""
    names = calls.names()
    idx = [i for i, n in enumerate(names) if n == op]
    assert idx, (op, names)
    for i in idx:
        assert names[i - 1] == "ListTagsForResource", (op, names[: i + 1])
