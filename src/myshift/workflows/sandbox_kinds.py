"""``--sandbox SPEC`` -> the sandbox of that kind: the one place that knows every kind.

The kinds live in ``workflows.sandbox`` (local, server, replica; the base
class), ``workflows.sandbox_localreplica`` and ``workflows.sandbox_aws``; the
last two build on the first, so the factory sits above all three instead of
in ``workflows.sandbox``, where it had to import them inside the function
(a cycle all the same).
"""

from __future__ import annotations

from myshift.errors import UsageError
from myshift.workflows.sandbox import LocalSandbox, ReplicaSandbox, Sandbox, ServerSandbox
from myshift.workflows.sandbox_aws import CloudContext, make_aws_sandbox
from myshift.workflows.sandbox_localreplica import LocalReplicaSandbox

__all__ = ["make_sandbox"]


def make_sandbox(spec: str, *, keep: bool = False, cloud: CloudContext | None = None) -> Sandbox:
    """Parse ``--sandbox``: ``local`` | ``local-replica`` | ``server:URL`` | ``replica:URL``
    | ``rds-replica:ID`` | ``aurora-clone:ID`` | ``rds-snapshot:ID`` (``cloud``: settings
    and way in for the last three)."""
    kind, _, rest = spec.partition(":")
    if kind in ("rds-replica", "aurora-clone", "rds-snapshot"):
        return make_aws_sandbox(kind, rest, keep=keep, cloud=cloud)
    if kind == "local" and not rest:
        return LocalSandbox(keep=keep)
    if kind == "local-replica" and not rest:
        return LocalReplicaSandbox(keep=keep)
    if kind == "server" and rest:
        return ServerSandbox(rest, keep=keep)
    if kind == "replica" and rest:
        return ReplicaSandbox(rest, keep=keep)
    raise UsageError(
        f"Unknown --sandbox {spec!r}.",
        "Use local, local-replica, server:mysql://user@host/schema, replica:mysql://user@host, "
        "rds-replica:INSTANCE_ID, aurora-clone:CLUSTER_ID or rds-snapshot:SNAPSHOT_ID.",
    )
