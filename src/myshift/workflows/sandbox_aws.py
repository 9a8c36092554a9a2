"""Sandboxes myshift creates on AWS for one rehearsal, and removes after it.

``--sandbox rds-replica:INSTANCE_ID`` (the seed's flow): describe production's
instance (only described, never modified), create a read replica in the same
subnet group, parameter group and VPC security groups (the same class, or
``[aws] sandbox_instance_class``), wait until it is available, wait until it
has caught up with production (over SQL, ``workflows.replica``), promote it to
a standalone instance, wait again, and hand its endpoint to the rehearsal.
``aurora-clone:CLUSTER_ID`` makes an Aurora copy-on-write clone plus one
instance in it; ``rds-snapshot:SNAPSHOT_ID`` restores a snapshot to a new
instance.  Everything created is tagged (``cloud.rds``: the plan hash, an
expiry of now + ``[aws] sandbox_ttl``, who made it) and deleted afterwards (no
final snapshot) unless ``--keep``.

Safety:

* every modify or delete goes through ``cloud.rds.Rds``, which checks the
  ``myshift:rehearsal`` tag right before the call and refuses the source;
* every waiter is bounded by ``[aws] waiter_timeout`` (a clear error, then the
  clean-up);
* a failure or Ctrl-C after anything was created deletes it; if deleting fails
  the message names what is left and ``myshift sandboxes delete ID``.

The sandbox's server is reached the way production is (``CloudContext.resolve``:
in the CLI ``workflows.reach.Reach.endpoint`` with production's environment, so
its tunnel, allowlist and password apply), logging in with production's user:
a replica, clone or restored snapshot has production's users.  Each phase is
shown on stderr with the time since the start: these take minutes on AWS.
"""

from __future__ import annotations

import datetime as dt
import getpass
import re
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from myshift.cloud.rds import (
    CREATED_BY_TAG,
    EXPIRES_TAG,
    KIND_TAG,
    REHEARSAL_TAG,
    SOURCE_TAG,
    CloudError,
    DbInstance,
    Rds,
)
from myshift.config.settings import AwsSettings, EnvConfig
from myshift.db.connect import Endpoint, connect
from myshift.db.identity import server_identity
from myshift.errors import UsageError
from myshift.workflows.phases import Phases, minutes
from myshift.workflows.sandbox import Sandbox, assert_not_target

if TYPE_CHECKING:
    from myshift.workflows.clone import DataMode, ProgressFn
    from myshift.workflows.reach import Reach

AWS_KINDS = ("rds-replica", "aurora-clone", "rds-snapshot")

Say = Callable[[str], None]
# The sandbox instance's endpoint (its address and port, production's user,
# password, schema and TLS) -> the endpoint to connect with.
Resolver = Callable[[Endpoint], Endpoint]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class CloudContext:
    """What an AWS sandbox needs besides its source: settings, the way in, where to talk.

    ``resolve`` maps the new instance's endpoint to where this machine connects
    (default: straight to it); the CLI passes ``Reach.endpoint`` for production's
    environment, tests a function that maps it to a local server.
    """

    aws: AwsSettings = field(default_factory=AwsSettings)
    env: EnvConfig | None = None
    resolve: Resolver | None = None
    say: Say = _stderr
    rds: Rds | None = None  # made from ``aws``/``env`` when not given


def cloud_context(target: Endpoint, ways_in: Reach, say: Say = _stderr) -> CloudContext:
    """What ``rehearse --sandbox rds-…`` needs: ``[aws]``, and the sandbox reached the
    way production (``target``) is: its environment's tunnel, allowlist, password."""
    env = ways_in.env_of(target)
    return CloudContext(
        aws=ways_in.settings.aws, env=env, resolve=lambda ep: ways_in.endpoint(ep, env), say=say
    )


def make_aws_sandbox(
    kind: str, ident: str, *, keep: bool = False, cloud: CloudContext | None = None
) -> AwsSandbox:
    """``rds-replica:ID`` | ``aurora-clone:ID`` | ``rds-snapshot:ID`` (see ``make_sandbox``)."""
    classes: dict[str, type[AwsSandbox]] = {
        "rds-replica": RdsReplicaSandbox,
        "aurora-clone": AuroraCloneSandbox,
        "rds-snapshot": RdsSnapshotSandbox,
    }
    cloud = cloud or CloudContext()
    env = cloud.env
    if kind == "rds-replica" and not ident and env is not None and env.rds_instance:
        ident = env.rds_instance  # `--sandbox rds-replica`: the environment's instance
    # Identifiers, snapshot names ("rds:prod-2026-12-03-05-10") and ARNs.
    if kind not in classes or not re.fullmatch(r"[A-Za-z][A-Za-z0-9:-]{0,254}", ident):
        raise UsageError(
            f"--sandbox {kind} names no instance, cluster or snapshot."
            if not ident
            else f"Unknown --sandbox {kind}:{ident}.",
            "Use rds-replica:INSTANCE_ID (or rds-replica with rds_instance set in the "
            "environment), aurora-clone:CLUSTER_ID or rds-snapshot:SNAPSHOT_ID.",
        )
    return classes[kind](ident, keep=keep, cloud=cloud)


def sandbox_id(source: str, *, room: int = 0) -> str:
    """A new RDS identifier naming myshift and the source (letters, digits, single hyphens)."""
    base = re.sub(r"[^a-z0-9]+", "-", source.lower()).strip("-")[: 40 - room].strip("-")
    return f"myshift-{base}-{uuid.uuid4().hex[:6]}"


def _tag_safe(text: str) -> str:
    return re.sub(r"[^\w.:/=+@ -]", "_", text)[:256] or "unknown"


def expiry(ttl: str, now: dt.datetime | None = None) -> str:
    """now + ``ttl`` (``[aws] sandbox_ttl``: 6h, 30m, 1d…) as the expiry tag's value."""
    from myshift.workflows.trash import parse_age

    when = (now or dt.datetime.now(dt.UTC)) + parse_age(ttl)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Made:
    """A resource asked for: recorded before the create call, so a call that fails
    ambiguously (a timeout after AWS acted) still gets cleaned up."""

    what: str  # "instance" | "cluster"
    id: str
    confirmed: bool = False  # the create call returned

    def __str__(self) -> str:
        return f"{self.what} {self.id}"


class AwsSandbox(Sandbox):
    """The lifecycle every AWS sandbox shares: create, tag, wait, reach, remove."""

    holds_data = "full"
    production_login = True  # a replica, clone or restored snapshot has production's users

    def __init__(self, source: str, *, keep: bool = False, cloud: CloudContext) -> None:
        super().__init__(keep=keep)
        self.source = source
        self.cloud = cloud
        self.made: list[_Made] = []
        self.expires = ""
        self.instance_id = ""  # the instance rehearsed on
        self.address = ""
        self.phases = self._phases()
        self._rds = cloud.rds

    def _phases(self) -> Phases:
        """Each phase on stderr at once, with the time since the sandbox was started."""
        return Phases(self.cloud.say, immediate=True, stamp=minutes)

    @property
    def rds(self) -> Rds:
        if self._rds is None:
            from myshift.cloud.aws import client

            aws = self.cloud.aws
            self._rds = Rds(
                client("rds", aws, self.cloud.env),
                waiter_timeout=aws.waiter_timeout,
                protected=(self.source,),
            )
        else:
            self._rds.protected = self._rds.protected | {self.source}
        return self._rds

    def tags(self) -> dict[str, str]:
        self.expires = expiry(self.cloud.aws.sandbox_ttl)
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return {
            REHEARSAL_TAG: _tag_safe(self.plan_hash or "unknown"),
            EXPIRES_TAG: self.expires,
            CREATED_BY_TAG: _tag_safe(f"{user} (myshift)"),
            KIND_TAG: self.kind,
            SOURCE_TAG: _tag_safe(self.source),
        }

    def prepare(
        self,
        target: Endpoint,
        *,
        data: DataMode | None = None,
        progress: ProgressFn | None = None,
        workers: int = 4,
    ) -> Endpoint:
        self.phases = self._phases()  # times count from here
        try:
            ep = self._build(target)
            assert_not_target(ep, target)
        except BaseException:
            # Nothing usable to keep: remove what was made, whatever --keep says.
            self.keep = False
            self.teardown()
            raise
        self.endpoint = ep
        return ep

    def _build(self, target: Endpoint) -> Endpoint:
        """Create the sandbox (recording each resource in ``made`` before waiting for it)."""
        raise NotImplementedError

    def _making(self, what: str, ident: str) -> _Made:
        item = _Made(what, ident)
        self.made.append(item)
        if what == "instance":
            self.instance_id = ident
        return item

    def _created(self, item: _Made) -> None:
        item.confirmed = True
        self.cloud.say(
            f"        {item} is tagged {REHEARSAL_TAG}={self.plan_hash[:12] or 'unknown'}, "
            f"expires {self.expires} (if this command cannot remove it, "
            "`myshift sandboxes sweep` will)"
        )

    def _reach(self, target: Endpoint, address: str | None, port: int | None) -> Endpoint:
        if not address:
            raise CloudError(
                f"RDS reports no endpoint for {self.instance_id!r}.",
                "Look at it in the AWS console; rehearse again.",
            )
        self.address = f"{address}:{port or 3306}"
        # Production's user, password, schema and TLS settings, at the sandbox's own
        # address.  Not production's name and port as seen through an SSH tunnel
        # (server_name/server_port): TLS would check the sandbox's certificate against
        # production's name, and reports would name production for the sandbox.
        base = replace(
            target,
            host=address,
            port=port or 3306,
            socket=None,
            env_name=None,
            protected=False,
            server_name=None,
            server_port=None,
        )
        return self.cloud.resolve(base) if self.cloud.resolve else base

    def _instance_class(self, fallback: str | None) -> str | None:
        return self.cloud.aws.sandbox_instance_class or fallback

    # ------------------------------------------------------------------ removal

    def teardown(self) -> None:
        """Delete what was made, newest first; say exactly what is left if that fails."""
        left: list[tuple[_Made, str]] = []
        gone: list[str] = []
        while self.made:
            item = self.made.pop()
            try:
                if not item.confirmed and not self._exists(item):
                    continue  # the create call failed: nothing was made
                with self.phases.step(f"Deleting {item}"):
                    self._delete(item)
                gone.append(str(item))
            except KeyboardInterrupt:
                left.append((item, "interrupted while deleting it"))
                left.extend((m, "not deleted yet") for m in reversed(self.made))
                self.made.clear()
            except Exception as exc:  # say it and go on: the rest must still go
                left.append((item, getattr(exc, "message", str(exc)).rstrip(".")))
        if gone and not left:
            self.phases.note(
                f"The {self.kind} sandbox is being deleted ({', '.join(gone)}; no final snapshot)."
            )
        if left:
            what = "; ".join(f"{m} ({why})" for m, why in left)
            first = left[-1][0].id  # the oldest: the cluster of an Aurora clone
            msg = (
                f"myshift: WARNING: the {self.kind} sandbox was not fully removed; still on "
                f"AWS: {what}. Remove it with `myshift sandboxes delete {first}` "
                f"(`myshift sandboxes sweep` removes it after {self.expires or 'its expiry'})."
            )
            self.left = f"still on AWS: {what}; `myshift sandboxes delete {first}` removes it"
            self.notes.append(msg)
            self.cloud.say(msg)

    def _exists(self, item: _Made) -> bool:
        try:
            if item.what == "cluster":
                self.rds.cluster(item.id)
            else:
                self.rds.instance(item.id)
        except CloudError as exc:
            if self.rds.not_found(exc):
                return False
            raise
        return True

    def _delete(self, item: _Made) -> None:
        rds = self.rds
        in_cluster = item.what == "instance" and any(m.what == "cluster" for m in self.made)
        try:
            if item.what == "cluster":
                rds.delete_cluster(item.id)
            else:
                rds.delete_instance(item.id, in_cluster=in_cluster)
        except CloudError as exc:
            if rds.not_found(exc):
                return  # already gone
            if exc.code not in ("InvalidDBInstanceState", "InvalidDBClusterStateFault"):
                raise
            # Still creating or modifying (or, for a cluster, its instance is not yet
            # deleting): let it settle, within the waiter limit, then delete.
            if item.what == "cluster":
                if self.instance_id:
                    rds.wait_instance(self.instance_id, "deleted")
                rds.delete_cluster(item.id)
            else:
                rds.wait_instance(item.id)
                rds.delete_instance(item.id, in_cluster=in_cluster)

    def connect_hint(self) -> str:
        top = self.made[0].id if self.made else self.instance_id
        user = self.endpoint.user if self.endpoint else "?"
        return (
            f"RDS {self.instance_id} at {self.address} (user {user}, production's password); "
            f"remove it with `myshift sandboxes delete {top}` (`myshift sandboxes sweep` "
            f"removes it after {self.expires})"
        )


class RdsReplicaSandbox(AwsSandbox):
    """A read replica of production's RDS instance, caught up, then promoted."""

    kind = "rds-replica"
    holds_data = "replica"

    def _build(self, target: Endpoint) -> Endpoint:
        rds, phases, env = self.rds, self.phases, self.cloud.env
        if env is not None and env.rds_instance and env.rds_instance != self.source:
            raise UsageError(
                f"Environment {env.name!r} is RDS instance {env.rds_instance!r}, not "
                f"{self.source!r}.",
                f"Rehearse with --sandbox rds-replica:{env.rds_instance}.",
            )
        with phases.step(f"Reading RDS instance {self.source} (only described)"):
            src = rds.instance(self.source)
        self._can_follow(target)
        new = sandbox_id(self.source)
        cls = self._instance_class(src.instance_class) or src.instance_class
        tags = self.tags()
        with phases.step(f"Creating read replica {new} of {self.source} ({cls})"):
            made = self._making("instance", new)
            rds.create_read_replica(new, src, cls, tags)
            self._created(made)
        with phases.step(f"Waiting for {new} to be available"):
            rds.wait_instance(new)
        inst = rds.instance(new)
        ep = self._reach(target, inst.address, inst.port)
        with phases.step(f"Waiting for {new} to catch up with production"):
            self._catch_up(ep, target)
        with phases.step(f"Promoting {new} to a standalone instance"):
            rds.promote(new)
            rds.wait_instance(new)
            self._standalone(ep)
            # AWS reboots a replica it promotes: if the first wait ran before the status
            # left "available", the reboot is still to come; wait for it too.
            rds.wait_instance(new)
        self.notes.append(
            f"Rehearsed on {new}, a read replica of {self.source} caught up with production "
            "and promoted to a standalone instance."
        )
        return ep

    def _can_follow(self, target: Endpoint) -> None:
        """Before anything is made: production's user (the replica has the same) must be
        able to read the replication status and binlog position catching up needs."""
        from myshift.workflows.replica import follow_refused

        with connect(target, schema="") as t:
            refused = follow_refused(t)
        if refused:
            raise UsageError(
                f"The user {target.user!r} cannot read replication status ({refused}), "
                "which myshift needs to wait for the read replica to catch up; nothing was "
                "created.",
                f"Grant it (MariaDB: GRANT SLAVE MONITOR, BINLOG MONITOR ON *.* TO "
                f"{target.user}; MySQL: GRANT REPLICATION CLIENT ON *.* TO {target.user}), "
                "or rehearse with --sandbox rds-snapshot:ID or aurora-clone:ID.",
            )

    def _catch_up(self, ep: Endpoint, target: Endpoint) -> None:
        from myshift.workflows.replica import check_replicates_from, wait_caught_up

        with connect(ep, schema="") as r, connect(target, schema="") as t:
            check_replicates_from(r, server_identity(t))
            wait_caught_up(r, t, self.rds.waiter_timeout)

    def _standalone(self, ep: Endpoint) -> None:
        """After promotion the instance must no longer replicate (bounded wait)."""
        from myshift.workflows.replica import ReplicaError, is_replicating

        deadline = time.monotonic() + self.rds.waiter_timeout
        with connect(ep, schema="") as r:
            while is_replicating(r):
                if time.monotonic() > deadline:
                    raise ReplicaError(
                        f"{self.instance_id} still replicates from production after its promotion.",
                        "Look at it in the AWS console; rehearse again.",
                    )
                time.sleep(1)


class AuroraCloneSandbox(AwsSandbox):
    """An Aurora copy-on-write clone of production's cluster, with one instance."""

    kind = "aurora-clone"

    def _build(self, target: Endpoint) -> Endpoint:
        rds, phases = self.rds, self.phases
        with phases.step(f"Reading Aurora cluster {self.source} (only described)"):
            src = rds.cluster(self.source)
            writer = rds.instance(src.writer) if src.writer else None
        new = sandbox_id(self.source, room=2)
        tags = self.tags()
        with phases.step(f"Cloning {self.source} as {new} (copy-on-write)"):
            made = self._making("cluster", new)
            cluster = rds.clone_cluster(new, src, tags)
            self._created(made)
        with phases.step(f"Waiting for cluster {new} to be available"):
            rds.wait_cluster(new)
        cls = self._instance_class(writer.instance_class if writer else None)
        if cls is None:
            raise UsageError(
                f"Aurora cluster {self.source!r} has no writer instance to copy the class of.",
                "Set sandbox_instance_class in [aws] of myshift.toml.",
            )
        inst_id = f"{new}-1"
        with phases.step(f"Creating instance {inst_id} ({cls}) in {new}"):
            made = self._making("instance", inst_id)
            rds.create_cluster_instance(inst_id, cluster, writer, cls, tags)
            self._created(made)
        with phases.step(f"Waiting for {inst_id} to be available"):
            rds.wait_instance(inst_id)
        cluster = rds.cluster(new)
        self.notes.append(
            f"Rehearsed on {new}, a copy-on-write clone of Aurora cluster {self.source}."
        )
        return self._reach(target, cluster.address, cluster.port)


class RdsSnapshotSandbox(AwsSandbox):
    """A new instance restored from a snapshot of production."""

    kind = "rds-snapshot"

    def _build(self, target: Endpoint) -> Endpoint:
        rds, phases = self.rds, self.phases
        with phases.step(f"Reading RDS snapshot {self.source} (only described)"):
            snap = rds.snapshot(self.source)
            like = self._source_instance(snap.instance_id)
        if snap.status != "available":
            raise UsageError(
                f"RDS snapshot {self.source!r} is {snap.status!r}, not available.",
                "Wait for it to finish, or name another snapshot.",
            )
        new = sandbox_id(self.source)
        cls = self._instance_class(like.instance_class if like else None)
        tags = self.tags()
        with phases.step(f"Restoring {self.source} to a new instance {new}"):
            made = self._making("instance", new)
            rds.restore_snapshot(new, snap, like, cls, tags)
            self._created(made)
        with phases.step(f"Waiting for {new} to be available"):
            rds.wait_instance(new)
        inst = rds.instance(new)
        self.notes.append(
            f"Rehearsed on {new}, restored from snapshot {self.source}"
            + (f" taken {snap.created}" if snap.created else "")
            + ": it holds production as of the snapshot, not rows written since."
        )
        if like is None:
            self.notes.append(
                f"The snapshot's instance {snap.instance_id!r} no longer exists: {new} got "
                "AWS's default subnet group, parameter group and security groups."
            )
        return self._reach(target, inst.address, inst.port)

    def _source_instance(self, ident: str | None) -> DbInstance | None:
        if not ident:
            return None
        try:
            return self.rds.instance(ident)
        except CloudError as exc:
            if self.rds.not_found(exc):
                return None
            raise


__all__ = [
    "AWS_KINDS",
    "AuroraCloneSandbox",
    "AwsSandbox",
    "CloudContext",
    "RdsReplicaSandbox",
    "RdsSnapshotSandbox",
    "cloud_context",
    "expiry",
    "make_aws_sandbox",
    "sandbox_id",
]
