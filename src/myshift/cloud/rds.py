"""RDS and Aurora calls for the sandboxes myshift creates, and their guards.

``Rds`` wraps one boto3 RDS client.  It returns plain values (``DbInstance``,
``DbCluster``, ``DbSnapshot``), turns botocore errors into ``CloudError``s
worded by ``cloud.calls.aws_failure`` (one sentence, the fix, the IAM
permission when denied), and bounds every waiter by ``[aws] waiter_timeout``.

The guard lives here, next to the calls it protects: right before every call
that modifies or deletes (promote, delete) the resource is described afresh
and must carry the ``myshift:rehearsal`` tag, and must not be one of the
``protected`` identifiers (the source a sandbox is made from, which is only
ever described).  Nothing here reads or sets a master password.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from myshift.cloud.calls import aws_failure
from myshift.errors import MyshiftError, UnsafeError, UsageError
from myshift.exitcodes import ExitCode

# The tags that mark a sandbox myshift made; the first one is what the guard checks.
REHEARSAL_TAG = "myshift:rehearsal"  # the plan hash
EXPIRES_TAG = "myshift:expires"  # ISO time, UTC: `sandboxes sweep` deletes it after
CREATED_BY_TAG = "myshift:created-by"
KIND_TAG = "myshift:kind"  # rds-replica | aurora-clone | rds-snapshot
SOURCE_TAG = "myshift:source"  # the instance, cluster or snapshot it was made from

T = TypeVar("T")


class CloudError(MyshiftError):
    """An AWS call failed or a resource did not reach the state waited for.

    Exit 4, like any other service that could not be reached or used (not 1, which
    says "a myshift bug"); a call AWS refused keeps the translated error's code."""

    exit_code = ExitCode.CONNECTION

    def __init__(self, message: str, fix: str | None = None, *, code: str = "") -> None:
        super().__init__(message, fix)
        self.code = code


class WaitTimeout(CloudError):
    """A waiter hit ``[aws] waiter_timeout``."""


def waiter_config(timeout: int) -> dict[str, int]:
    """Delay and attempts so one waiter polls for about ``timeout`` seconds at most.

    AWS's own waiters poll every 30 s; short limits poll more often so the
    limit is still honoured (the first poll is immediate).
    """
    timeout = max(1, int(timeout))
    delay = min(30, max(1, timeout // 20))
    return {"Delay": delay, "MaxAttempts": max(1, math.floor(timeout / delay)) + 1}


def _tags(raw: Iterable[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in raw or ()}


@dataclass(frozen=True)
class DbInstance:
    id: str
    arn: str
    status: str
    engine: str
    instance_class: str
    address: str | None
    port: int | None
    subnet_group: str | None
    parameter_group: str | None
    security_groups: tuple[str, ...]
    publicly_accessible: bool
    iam_auth: bool
    cluster: str | None
    replica_source: str | None
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> DbInstance:
        ep = d.get("Endpoint") or {}
        params = d.get("DBParameterGroups") or []
        return cls(
            id=d["DBInstanceIdentifier"],
            arn=d.get("DBInstanceArn", ""),
            status=d.get("DBInstanceStatus", ""),
            engine=d.get("Engine", ""),
            instance_class=d.get("DBInstanceClass", ""),
            address=ep.get("Address"),
            port=ep.get("Port"),
            subnet_group=(d.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
            parameter_group=params[0]["DBParameterGroupName"] if params else None,
            security_groups=tuple(
                g["VpcSecurityGroupId"] for g in d.get("VpcSecurityGroups") or []
            ),
            publicly_accessible=bool(d.get("PubliclyAccessible")),
            iam_auth=bool(d.get("IAMDatabaseAuthenticationEnabled")),
            cluster=d.get("DBClusterIdentifier"),
            replica_source=d.get("ReadReplicaSourceDBInstanceIdentifier"),
            tags=_tags(d.get("TagList")),
        )


@dataclass(frozen=True)
class DbCluster:
    id: str
    arn: str
    status: str
    engine: str
    address: str | None
    port: int | None
    subnet_group: str | None
    parameter_group: str | None
    security_groups: tuple[str, ...]
    iam_auth: bool
    members: tuple[str, ...]
    writer: str | None
    tags: dict[str, str] = field(default_factory=dict)
    # Aurora Serverless v2 capacity (a db.serverless instance needs it on the clone too).
    serverless_v2: dict[str, Any] | None = None

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> DbCluster:
        members = d.get("DBClusterMembers") or []
        writers = [m["DBInstanceIdentifier"] for m in members if m.get("IsClusterWriter")]
        return cls(
            id=d["DBClusterIdentifier"],
            arn=d.get("DBClusterArn", ""),
            status=d.get("Status", ""),
            engine=d.get("Engine", ""),
            address=d.get("Endpoint"),
            port=d.get("Port"),
            subnet_group=d.get("DBSubnetGroup"),
            parameter_group=d.get("DBClusterParameterGroup"),
            security_groups=tuple(
                g["VpcSecurityGroupId"] for g in d.get("VpcSecurityGroups") or []
            ),
            iam_auth=bool(d.get("IAMDatabaseAuthenticationEnabled")),
            members=tuple(m["DBInstanceIdentifier"] for m in members),
            writer=writers[0] if writers else None,
            tags=_tags(d.get("TagList")),
            serverless_v2=d.get("ServerlessV2ScalingConfiguration"),
        )


@dataclass(frozen=True)
class DbSnapshot:
    id: str
    status: str
    instance_id: str | None
    engine: str
    created: str | None


_NOT_FOUND = {
    "DBInstanceNotFound",
    "DBInstanceNotFoundFault",
    "DBClusterNotFoundFault",
    "DBClusterNotFound",
    "DBSnapshotNotFound",
    "DBSnapshotNotFoundFault",
}


class Rds:
    """One region's RDS API, with myshift's guards and time limits."""

    def __init__(
        self, client: Any, *, waiter_timeout: int = 3600, protected: Iterable[str] = ()
    ) -> None:
        self.client = client
        self.waiter_timeout = int(waiter_timeout)
        self.protected = frozenset(protected)

    # ------------------------------------------------------------------ plumbing

    def _call(
        self,
        what: str,
        permission: str,
        fn: Callable[[], T],
        missing: tuple[str, str] | None = None,
    ) -> T:
        try:
            return fn()
        except Exception as exc:
            err = _cloud_error(exc, what, permission, missing)
            if err is None:
                raise
            raise err from None

    @staticmethod
    def not_found(exc: CloudError) -> bool:
        return exc.code in _NOT_FOUND

    # ------------------------------------------------------------------ reading

    def instance(self, ident: str) -> DbInstance:
        out = self._call(
            f"describe RDS instance {ident!r}",
            "rds:DescribeDBInstances",
            lambda: self.client.describe_db_instances(DBInstanceIdentifier=ident),
            _missing("RDS instance", ident),
        )
        return DbInstance.from_api(out["DBInstances"][0])

    def cluster(self, ident: str) -> DbCluster:
        out = self._call(
            f"describe Aurora cluster {ident!r}",
            "rds:DescribeDBClusters",
            lambda: self.client.describe_db_clusters(DBClusterIdentifier=ident),
            _missing("Aurora cluster", ident),
        )
        return DbCluster.from_api(out["DBClusters"][0])

    def snapshot(self, ident: str) -> DbSnapshot:
        out = self._call(
            f"describe RDS snapshot {ident!r}",
            "rds:DescribeDBSnapshots",
            lambda: self.client.describe_db_snapshots(DBSnapshotIdentifier=ident),
            _missing("RDS snapshot", ident),
        )
        snaps = out.get("DBSnapshots") or []
        if not snaps:
            raise UsageError(
                f"There is no RDS snapshot {ident!r} in this region.",
                "Name an existing snapshot: aws rds describe-db-snapshots.",
            )
        d = snaps[0]
        created = d.get("SnapshotCreateTime")
        return DbSnapshot(
            id=d["DBSnapshotIdentifier"],
            status=d.get("Status", ""),
            instance_id=d.get("DBInstanceIdentifier"),
            engine=d.get("Engine", ""),
            created=created.isoformat(timespec="seconds") if created is not None else None,
        )

    def tags(self, arn: str) -> dict[str, str]:
        out = self._call(
            f"read the tags of {arn}",
            "rds:ListTagsForResource",
            lambda: self.client.list_tags_for_resource(ResourceName=arn),
        )
        return _tags(out.get("TagList"))

    def all_instances(self) -> list[DbInstance]:
        pages = self._call(
            "list RDS instances",
            "rds:DescribeDBInstances",
            lambda: list(self.client.get_paginator("describe_db_instances").paginate()),
        )
        return [DbInstance.from_api(d) for p in pages for d in p.get("DBInstances", [])]

    def all_clusters(self) -> list[DbCluster]:
        pages = self._call(
            "list Aurora clusters",
            "rds:DescribeDBClusters",
            lambda: list(self.client.get_paginator("describe_db_clusters").paginate()),
        )
        return [DbCluster.from_api(d) for p in pages for d in p.get("DBClusters", [])]

    # ------------------------------------------------------------------ the guard

    def guard_instance(self, ident: str) -> DbInstance:
        """``ident`` as it is now, if myshift may modify or delete it; else UnsafeError."""
        self._not_protected(ident)
        inst = self.instance(ident)
        self._require_tag("instance", ident, self.tags(inst.arn) if inst.arn else inst.tags)
        return inst

    def guard_cluster(self, ident: str) -> DbCluster:
        self._not_protected(ident)
        cl = self.cluster(ident)
        self._require_tag("cluster", ident, self.tags(cl.arn) if cl.arn else cl.tags)
        return cl

    def _not_protected(self, ident: str) -> None:
        if ident in self.protected:
            raise UnsafeError(
                f"{ident!r} is the source of the sandbox; myshift only reads it.",
                "This is a bug in myshift: report it. Nothing was changed.",
            )

    @staticmethod
    def _require_tag(what: str, ident: str, tags: dict[str, str]) -> None:
        if REHEARSAL_TAG not in tags:
            raise UnsafeError(
                f"RDS {what} {ident!r} has no {REHEARSAL_TAG} tag: myshift did not create "
                "it, so it will not modify or delete it.",
                "If it really is a leftover, delete it yourself (AWS console or aws rds "
                f"delete-db-{what}).",
            )

    # ------------------------------------------------------------------ creating

    def create_read_replica(
        self, ident: str, source: DbInstance, instance_class: str, tags: dict[str, str]
    ) -> DbInstance:
        """A read replica of ``source`` in its subnet group, parameter group and VPC groups."""
        kwargs: dict[str, Any] = {
            "DBInstanceIdentifier": ident,
            "SourceDBInstanceIdentifier": source.id,
            "DBInstanceClass": instance_class,
            "PubliclyAccessible": source.publicly_accessible,
            "MultiAZ": False,
            "DeletionProtection": False,
            "EnableIAMDatabaseAuthentication": source.iam_auth,
            "Tags": _tag_list(tags),
        }
        _put(kwargs, "DBSubnetGroupName", source.subnet_group)
        _put(kwargs, "DBParameterGroupName", source.parameter_group)
        if source.security_groups:
            kwargs["VpcSecurityGroupIds"] = list(source.security_groups)
        out = self._call(
            f"create a read replica of {source.id!r}",
            "rds:CreateDBInstanceReadReplica (and rds:AddTagsToResource)",
            lambda: self.client.create_db_instance_read_replica(**kwargs),
        )
        return DbInstance.from_api(out["DBInstance"])

    def restore_snapshot(
        self,
        ident: str,
        snapshot: DbSnapshot,
        like: DbInstance | None,
        instance_class: str | None,
        tags: dict[str, str],
    ) -> DbInstance:
        """A new instance from ``snapshot``, placed like ``like`` (its source) when known."""
        kwargs: dict[str, Any] = {
            "DBInstanceIdentifier": ident,
            "DBSnapshotIdentifier": snapshot.id,
            "MultiAZ": False,
            "DeletionProtection": False,
            "Tags": _tag_list(tags),
        }
        _put(kwargs, "DBInstanceClass", instance_class)
        if like is not None:
            kwargs["PubliclyAccessible"] = like.publicly_accessible
            kwargs["EnableIAMDatabaseAuthentication"] = like.iam_auth
            _put(kwargs, "DBSubnetGroupName", like.subnet_group)
            _put(kwargs, "DBParameterGroupName", like.parameter_group)
            if like.security_groups:
                kwargs["VpcSecurityGroupIds"] = list(like.security_groups)
        out = self._call(
            f"restore snapshot {snapshot.id!r}",
            "rds:RestoreDBInstanceFromDBSnapshot (and rds:AddTagsToResource)",
            lambda: self.client.restore_db_instance_from_db_snapshot(**kwargs),
        )
        return DbInstance.from_api(out["DBInstance"])

    def clone_cluster(self, ident: str, source: DbCluster, tags: dict[str, str]) -> DbCluster:
        """An Aurora copy-on-write clone of ``source`` (no instance yet)."""
        kwargs: dict[str, Any] = {
            "DBClusterIdentifier": ident,
            "SourceDBClusterIdentifier": source.id,
            "RestoreType": "copy-on-write",
            "UseLatestRestorableTime": True,
            "DeletionProtection": False,
            "EnableIAMDatabaseAuthentication": source.iam_auth,
            "Tags": _tag_list(tags),
        }
        _put(kwargs, "DBSubnetGroupName", source.subnet_group)
        _put(kwargs, "DBClusterParameterGroupName", source.parameter_group)
        if source.serverless_v2:
            kwargs["ServerlessV2ScalingConfiguration"] = {
                k: v for k, v in source.serverless_v2.items() if k in ("MinCapacity", "MaxCapacity")
            }
        if source.security_groups:
            kwargs["VpcSecurityGroupIds"] = list(source.security_groups)
        out = self._call(
            f"clone Aurora cluster {source.id!r}",
            "rds:RestoreDBClusterToPointInTime (and rds:AddTagsToResource)",
            lambda: self.client.restore_db_cluster_to_point_in_time(**kwargs),
        )
        return DbCluster.from_api(out["DBCluster"])

    def create_cluster_instance(
        self,
        ident: str,
        cluster: DbCluster,
        like: DbInstance | None,
        instance_class: str,
        tags: dict[str, str],
    ) -> DbInstance:
        kwargs: dict[str, Any] = {
            "DBInstanceIdentifier": ident,
            "DBClusterIdentifier": cluster.id,
            "Engine": cluster.engine,
            "DBInstanceClass": instance_class,
            "Tags": _tag_list(tags),
        }
        if like is not None:
            kwargs["PubliclyAccessible"] = like.publicly_accessible
            _put(kwargs, "DBParameterGroupName", like.parameter_group)
        out = self._call(
            f"create an instance in Aurora cluster {cluster.id!r}",
            "rds:CreateDBInstance (and rds:AddTagsToResource)",
            lambda: self.client.create_db_instance(**kwargs),
        )
        return DbInstance.from_api(out["DBInstance"])

    # ------------------------------------------------------------------ modifying (guarded)

    def promote(self, ident: str) -> None:
        """Promote the read replica ``ident`` to a standalone instance (no backups kept)."""
        self.guard_instance(ident)
        self._call(
            f"promote {ident!r}",
            "rds:PromoteReadReplica",
            lambda: self.client.promote_read_replica(
                DBInstanceIdentifier=ident, BackupRetentionPeriod=0
            ),
        )

    def delete_instance(self, ident: str, *, in_cluster: bool = False) -> None:
        """Delete ``ident`` without a final snapshot and with its automated backups."""
        self.guard_instance(ident)
        kwargs: dict[str, Any] = {"DBInstanceIdentifier": ident}
        if not in_cluster:  # Aurora instances have no snapshot or backups of their own
            kwargs.update(SkipFinalSnapshot=True, DeleteAutomatedBackups=True)
        self._call(
            f"delete RDS instance {ident!r}",
            "rds:DeleteDBInstance",
            lambda: self.client.delete_db_instance(**kwargs),
        )

    def delete_cluster(self, ident: str) -> None:
        self.guard_cluster(ident)
        self._call(
            f"delete Aurora cluster {ident!r}",
            "rds:DeleteDBCluster",
            lambda: self.client.delete_db_cluster(
                DBClusterIdentifier=ident, SkipFinalSnapshot=True
            ),
        )

    # ------------------------------------------------------------------ waiting (bounded)

    def wait_instance(self, ident: str, state: str = "available") -> float:
        """Wait until ``ident`` is ``available`` (or ``deleted``); return the seconds waited."""
        return self._wait(
            f"db_instance_{state}",
            f"RDS instance {ident!r}",
            state,
            "rds:DescribeDBInstances",
            DBInstanceIdentifier=ident,
        )

    def wait_cluster(self, ident: str, state: str = "available") -> float:
        return self._wait(
            f"db_cluster_{state}",
            f"Aurora cluster {ident!r}",
            state,
            "rds:DescribeDBClusters",
            DBClusterIdentifier=ident,
        )

    def _wait(self, name: str, what: str, state: str, permission: str, **kwargs: Any) -> float:
        from botocore.exceptions import WaiterError

        t0 = time.monotonic()
        cfg = waiter_config(self.waiter_timeout)
        try:
            self.client.get_waiter(name).wait(**kwargs, WaiterConfig=cfg)
        except WaiterError as exc:
            raise self._waiter_error(exc, what, state, time.monotonic() - t0) from None
        except Exception as exc:
            err = _cloud_error(exc, f"wait for {what}", permission)
            if err is None:
                raise
            raise err from None
        return time.monotonic() - t0

    def _waiter_error(self, exc: Any, what: str, state: str, waited: float) -> CloudError:
        status = _last_status(exc.last_response)
        if "Max attempts exceeded" in str(exc):
            return WaitTimeout(
                f"{what} was still {status!r}, not {state}, after {waited:.0f}s "
                f"(the limit is [aws] waiter_timeout = {self.waiter_timeout}s).",
                "Look at it in the AWS console; if it is only slow, raise waiter_timeout "
                "in [aws] of myshift.toml.",
                code="WaitTimeout",
            )
        return CloudError(
            f"{what} went to status {status!r} while myshift waited for it to be {state}.",
            "Look at its events in the AWS console (aws rds describe-events).",
            code="WaiterFailed",
        )


def _cloud_error(
    exc: BaseException,
    what: str,
    permission: str,
    missing: tuple[str, str] | None = None,
) -> CloudError | None:
    """``aws_failure``'s sentence and fix as a CloudError keeping AWS's error code
    (callers ask ``Rds.not_found`` and test codes such as InvalidDBInstanceState)."""
    err = aws_failure(exc, what, permission, missing=missing)
    if err is None:
        return None
    code = ""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
    cloud = CloudError(err.message, err.fix, code=code)
    cloud.exit_code = err.exit_code  # a denial is the user's to fix (3), not a bug (1)
    return cloud


def _missing(what: str, ident: str) -> tuple[str, str]:
    return (
        f"There is no {what} {ident!r} in this region.",
        "Check the identifier and the region ([aws] region in myshift.toml).",
    )


def _put(kwargs: dict[str, Any], key: str, value: object) -> None:
    if value:
        kwargs[key] = value


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _last_status(response: Any) -> str:
    if not isinstance(response, dict):
        return "unknown"
    for key, field_name in (("DBInstances", "DBInstanceStatus"), ("DBClusters", "Status")):
        items = response.get(key)
        if items:
            return str(items[0].get(field_name, "unknown"))
    err = response.get("Error")
    if isinstance(err, dict):
        return str(err.get("Code", "unknown"))
    return "unknown"


__all__ = [
    "CREATED_BY_TAG",
    "EXPIRES_TAG",
    "KIND_TAG",
    "REHEARSAL_TAG",
    "SOURCE_TAG",
    "CloudError",
    "DbCluster",
    "DbInstance",
    "DbSnapshot",
    "Rds",
    "WaitTimeout",
    "waiter_config",
]
