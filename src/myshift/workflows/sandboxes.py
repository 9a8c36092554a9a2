"""``myshift sandboxes list|delete|sweep``: the AWS sandboxes rehearsals left behind.

A sandbox is found by its ``myshift:rehearsal`` tag (``cloud.rds``), never by
its name: an instance or cluster without the tag is not listed, and
``delete`` refuses it (``Rds`` checks the tag right before each delete).
``sweep`` deletes the tagged ones whose ``myshift:expires`` has passed and
leaves everything else alone, so it is safe to run from cron.

An Aurora clone is one entry (the cluster); deleting it deletes its instances
first, each of them tag-checked too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from myshift.cloud.rds import (
    CREATED_BY_TAG,
    EXPIRES_TAG,
    KIND_TAG,
    REHEARSAL_TAG,
    SOURCE_TAG,
    CloudError,
    Rds,
)
from myshift.config.settings import AwsSettings
from myshift.errors import UsageError

Say = Callable[[str], None]


@dataclass(frozen=True)
class Leftover:
    """One sandbox on AWS, as its tags describe it."""

    id: str
    what: str  # "instance" | "cluster"
    kind: str
    plan_hash: str
    expires: dt.datetime | None  # None: no readable expiry tag (sweep leaves it alone)
    status: str
    created_by: str
    source: str
    in_cluster: bool = False

    def expired(self, now: dt.datetime) -> bool:
        return self.expires is not None and self.expires <= now


def _when(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _leftover(
    ident: str, what: str, tags: dict[str, str], status: str, in_cluster: bool = False
) -> Leftover:
    return Leftover(
        id=ident,
        what=what,
        kind=tags.get(KIND_TAG, "?"),
        plan_hash=tags.get(REHEARSAL_TAG, ""),
        expires=_when(tags.get(EXPIRES_TAG)),
        status=status,
        created_by=tags.get(CREATED_BY_TAG, "?"),
        source=tags.get(SOURCE_TAG, "?"),
        in_cluster=in_cluster,
    )


def find_sandboxes(rds: Rds) -> list[Leftover]:
    """Every tagged cluster, and every tagged instance that is not inside one."""
    clusters = [c for c in rds.all_clusters() if REHEARSAL_TAG in c.tags]
    inside = {m for c in clusters for m in c.members}
    found = [_leftover(c.id, "cluster", c.tags, c.status) for c in clusters]
    found += [
        _leftover(i.id, "instance", i.tags, i.status, in_cluster=i.cluster is not None)
        for i in rds.all_instances()
        if REHEARSAL_TAG in i.tags and i.id not in inside
    ]
    return sorted(found, key=lambda s: (s.expires or dt.datetime.max.replace(tzinfo=dt.UTC), s.id))


def format_list(found: list[Leftover], now: dt.datetime) -> str:
    if not found:
        return (
            "No sandboxes made by myshift (no RDS instance or cluster has the "
            f"{REHEARSAL_TAG} tag in this region).\n"
        )
    rows = [("ID", "KIND", "PLAN", "EXPIRES", "EXPIRED", "STATUS", "CREATED BY")]
    for s in found:
        rows.append(
            (
                s.id,
                s.kind,
                s.plan_hash[:12],
                s.expires.strftime("%Y-%m-%dT%H:%M:%SZ") if s.expires else "(none)",
                "yes" if s.expired(now) else "no",
                s.status,
                s.created_by,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() + "\n"
        for r in rows
    )


def sandboxes_list(rds: Rds, now: dt.datetime | None = None) -> str:
    return format_list(find_sandboxes(rds), now or dt.datetime.now(dt.UTC))


def delete_sandbox(rds: Rds, ident: str, say: Say = lambda _m: None) -> str:
    """Delete the sandbox ``ident`` (an instance, or a cluster with its instances).

    Raises ``UnsafeError`` for anything without the tag (nothing is deleted).
    """
    try:
        inst = rds.instance(ident)
    except CloudError as exc:
        if not rds.not_found(exc):
            raise
    else:
        rds.delete_instance(ident, in_cluster=inst.cluster is not None)
        say(f"Deleting RDS instance {ident}.")
        return f"RDS instance {ident} is being deleted (no final snapshot).\n"
    try:
        cluster = rds.guard_cluster(ident)  # refuse an untagged cluster before its instances
    except CloudError as exc:
        if not rds.not_found(exc):
            raise
        raise UsageError(
            f"There is no RDS instance or Aurora cluster {ident!r} in this region.",
            "See `myshift sandboxes list` (and [aws] region in myshift.toml).",
        ) from None
    for member in cluster.members:
        rds.delete_instance(member, in_cluster=True)
        say(f"Deleting instance {member} of cluster {ident}.")
    rds.delete_cluster(ident)
    say(f"Deleting Aurora cluster {ident}.")
    return f"Aurora cluster {ident} and its {len(cluster.members)} instance(s) are being deleted.\n"


def sweep(
    rds: Rds, *, now: dt.datetime | None = None, dry_run: bool = False, say: Say = lambda _m: None
) -> str:
    """Delete the expired sandboxes; leave the rest.  Raises CloudError if any deletion failed
    (after trying them all), so cron reports it."""
    now = now or dt.datetime.now(dt.UTC)
    lines: list[str] = []
    failed: list[str] = []
    for s in find_sandboxes(rds):
        if not s.expired(now):
            why = "no readable expiry tag" if s.expires is None else "not expired"
            lines.append(f"kept {s.what} {s.id} ({why})")
            continue
        if dry_run:
            lines.append(f"would delete {s.what} {s.id} (expired {s.expires:%Y-%m-%dT%H:%M:%SZ})")
            continue
        try:
            delete_sandbox(rds, s.id, say)
        except Exception as exc:  # try the others; report every failure at the end
            failed.append(f"{s.id}: {exc}")
            lines.append(f"FAILED to delete {s.what} {s.id}")
            continue
        lines.append(f"deleted {s.what} {s.id} (expired {s.expires:%Y-%m-%dT%H:%M:%SZ})")
    text = "".join(line + "\n" for line in lines) or "No sandboxes made by myshift.\n"
    if failed:
        raise CloudError(
            f"{text}Could not delete {len(failed)} sandbox(es): " + "; ".join(failed) + ".",
            "Delete them with `myshift sandboxes delete ID`, or in the AWS console.",
        )
    return text


def open_rds(aws: AwsSettings, region: str | None = None) -> Rds:
    """The RDS API as ``[aws]`` says, in ``region`` instead when one is given (--region)."""
    from myshift.cloud.aws import client

    if region:
        aws = replace(aws, region=region)
    return Rds(client("rds", aws), waiter_timeout=aws.waiter_timeout)


__all__ = [
    "Leftover",
    "delete_sandbox",
    "find_sandboxes",
    "format_list",
    "open_rds",
    "sandboxes_list",
    "sweep",
]
