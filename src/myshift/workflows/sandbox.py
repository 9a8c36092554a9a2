"""Sandboxes: the copy of production a plan is rehearsed on before it may touch prod.

``myshift rehearse --sandbox local|server:URL|replica:URL`` picks one:

* ``LocalSandbox`` — a throwaway local server (``myshift.db.server.LocalServer``)
  with a schema of the same name as the target's, so plans and views that name
  the schema keep working.  Only MariaDB can be started locally; when the target
  is MySQL the difference is reported in ``Sandbox.notes`` instead of hidden.
* ``ServerSandbox(url)`` — a schema on a server the user provides (a staging
  server).  A schema named in the URL must be new or empty; without one a fresh
  ``myshift_rehearse_…`` schema is created.
* ``ReplicaSandbox(url)`` — a replica of the target, detached (promoted) so the
  plan can run on real data without copying it (see ``workflows.replica``).

Every sandbox is checked with ``assert_not_target``: a rehearsal that runs on
production is not a rehearsal.  Servers are compared by *identity* (``myshift.db.identity``: server
UUID, hostname, port, server id), never by the host name in the URL, because
``127.0.0.1``, ``localhost`` and the machine's hostname all reach the same
server.

Lifecycle (``make_sandbox`` is in ``workflows.sandbox_kinds``, above every kind)::

    sandbox = make_sandbox("local", keep=False)
    with sandbox:                       # finish() on exit
        ep = sandbox.prepare(target)    # refuses production, clones if needed
        ...                             # run the plan, checks, commands
    # torn down unless keep=True; with keep, sandbox.finish() returns how to connect
"""

from __future__ import annotations

import sys
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING

from myshift.db.connect import Endpoint, connect, quote_ident
from myshift.db.identity import server_identity
from myshift.engine.introspect import catalog
from myshift.errors import UnsafeError, UsageError
from myshift.model.flavor import Flavor
from myshift.model.identity import ServerIdentity

if TYPE_CHECKING:
    from myshift.db.server import LocalServer
    from myshift.workflows.clone import CloneStats, DataMode, ProgressFn


def assert_not_target(
    sandbox_ep: Endpoint, target_ep: Endpoint, *, allow_same_server: bool = False
) -> None:
    """Refuse a sandbox that is the production server (or, if allowed, its schema).

    Raises ``UnsafeError``.  ``allow_same_server`` permits another schema on the
    production server (never the same schema); rehearse does not use it.
    """
    with connect(sandbox_ep, schema="") as s, connect(target_ep, schema="") as t:
        sid, tid = server_identity(s), server_identity(t)
    if not sid.same_server(tid):
        return
    same_schema = sandbox_ep.schema == target_ep.schema
    if same_schema:
        raise UnsafeError(
            f"The sandbox {sandbox_ep.redacted()} is the target itself "
            f"(same server {tid.describe()}, same schema {target_ep.schema!r}).",
            "Point --sandbox at another server, or use --sandbox local.",
        )
    if not allow_same_server:
        raise UnsafeError(
            f"The sandbox {sandbox_ep.redacted()} is on the production server {tid.describe()} "
            f"(reached as {target_ep.host}:{target_ep.port}); a rehearsal there would load "
            "production.",
            "Point --sandbox at another server, or use --sandbox local.",
        )


class Sandbox(ABC):
    """Something that yields an Endpoint to rehearse in and cleans it up after."""

    kind: str = "sandbox"
    # What the sandbox already holds of production's rows ("replica", "full"), so
    # rehearse copies nothing; None: rehearse copies --data into it.
    holds_data: str | None = None
    # The hash of the plan rehearsed (rehearse sets it; AWS sandboxes tag with it).
    plan_hash: str = ""
    # Whether the sandbox is reached with production's own account and password (a
    # copy of production's server has its users): --run then gets an account made
    # on the sandbox for it, never production's password (validate.run_account).
    production_login: bool = False

    def __init__(self, *, keep: bool = False) -> None:
        self.keep = keep
        self.endpoint: Endpoint | None = None
        self.notes: list[str] = []
        self.clone_stats: CloneStats | None = None
        # What teardown could not remove and the command that removes it ("": nothing).
        self.left = ""
        self._finished = False

    @abstractmethod
    def prepare(
        self,
        target: Endpoint,
        *,
        data: DataMode | None = None,
        progress: ProgressFn | None = None,
        workers: int = 4,
    ) -> Endpoint:
        """Create the sandbox for ``target`` and return the Endpoint to rehearse in."""

    @abstractmethod
    def teardown(self) -> None:
        """Remove what prepare created."""

    def connect_hint(self) -> str:
        ep = self.endpoint
        if ep is None:
            return ""
        return f"mariadb -h {ep.host} -P {ep.port} -u {ep.user} {ep.schema}   (or {ep.redacted()})"

    def finish(self) -> str | None:
        """Tear down unless ``keep``; with keep, return a message saying how to connect."""
        if self._finished:
            return None
        self._finished = True
        if self.keep and self.endpoint is not None:
            return f"Sandbox kept ({self.kind}); connect with: {self.connect_hint()}"
        self.teardown()
        return None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        msg = self.finish()
        if msg:
            print(msg, file=sys.stderr)

    def _clone(
        self,
        target: Endpoint,
        dst: Endpoint,
        data: DataMode | None,
        progress: ProgressFn | None,
        workers: int,
    ) -> None:
        from myshift.workflows.clone import DataMode as _DataMode
        from myshift.workflows.clone import clone_schema_data

        self.clone_stats = clone_schema_data(
            target,
            dst,
            mode=data or _DataMode.parse("full"),
            workers=workers,
            progress=progress,
        )
        self.notes.extend(self.clone_stats.notes)


def flavor_note(target: Flavor, sandbox: Flavor) -> str | None:
    """A sentence when the sandbox runs a different vendor or major version than prod."""
    if target.vendor != sandbox.vendor:
        return (
            f"The target runs {target} but the local sandbox runs {sandbox} (only MariaDB "
            "can be started locally); DDL behaviour can differ — rehearse on a MySQL "
            "server with --sandbox server:URL for a faithful result."
        )
    if target.version[:2] != sandbox.version[:2]:
        return (
            f"The target runs {target} but the local sandbox runs {sandbox}; "
            "behaviour can differ between versions."
        )
    return None


class LocalSandbox(Sandbox):
    """A throwaway local mariadbd holding a copy of the target schema."""

    kind = "local"

    def __init__(
        self,
        *,
        keep: bool = False,
        starter: Callable[[], LocalServer] | None = None,
    ) -> None:
        super().__init__(keep=keep)
        self._starter = starter
        self.server: LocalServer | None = None

    def prepare(
        self,
        target: Endpoint,
        *,
        data: DataMode | None = None,
        progress: ProgressFn | None = None,
        workers: int = 4,
    ) -> Endpoint:
        from myshift.db.server import LocalServer  # raises ServerMissing naming mariadb-server

        self.server = self._starter() if self._starter else LocalServer.start()
        ep = Endpoint(
            host=self.server.host, port=self.server.port, user="root", password="", schema=""
        )
        ep = ep.with_schema(target.schema)
        self.endpoint = ep
        assert_not_target(ep, target)
        with connect(target, schema="") as t, connect(ep, schema="") as s:
            note = flavor_note(t.flavor, s.flavor)
            if note:
                self.notes.append(note)
            cs = catalog.schema_defaults(t, target.schema)
            charset = f" DEFAULT CHARACTER SET {cs[0]} COLLATE {cs[1]}" if cs else ""
            s.execute(f"CREATE DATABASE IF NOT EXISTS {quote_ident(ep.schema)}{charset}")
        self._clone(target, ep, data, progress, workers)
        return ep

    def teardown(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def connect_hint(self) -> str:
        if self.server is None or self.endpoint is None:
            return ""
        return (
            f"mariadb -h 127.0.0.1 -P {self.server.port} -u root {self.endpoint.schema}"
            f"   (server pid {self.server.process.pid if self.server.process else '?'}, "
            f"datadir {self.server.basedir}; kill the pid and remove the directory when done)"
        )


class ServerSandbox(Sandbox):
    """A schema on a server the user provides."""

    kind = "server"

    def __init__(self, url: str, *, keep: bool = False) -> None:
        super().__init__(keep=keep)
        self.url = url
        self.base = Endpoint.from_url(url)
        self._created = False

    def prepare(
        self,
        target: Endpoint,
        *,
        data: DataMode | None = None,
        progress: ProgressFn | None = None,
        workers: int = 4,
    ) -> Endpoint:
        name = self.base.schema or f"myshift_rehearse_{target.schema}_{uuid.uuid4().hex[:6]}"
        ep = self.base.with_schema(name)
        assert_not_target(ep, target)
        with connect(ep, schema="") as s:
            held = catalog.table_count(s, name)
            if held:
                raise UsageError(
                    f"Schema {name!r} on {ep.redacted()} already holds {held} tables.",
                    "Name a new or empty schema in the --sandbox URL (or none: myshift "
                    "creates one).",
                )
            if held is None:
                s.execute(f"CREATE DATABASE {quote_ident(name)}")
                self._created = True
        self.endpoint = ep
        self._clone(target, ep, data, progress, workers)
        return ep

    def teardown(self) -> None:
        if self.endpoint is None:
            return
        with connect(self.endpoint, schema="") as s:
            if self._created:
                s.execute(f"DROP DATABASE IF EXISTS {quote_ident(self.endpoint.schema)}")
            else:
                # The user named an empty schema: empty it again, keep the schema.
                for tname, ttype in catalog.schema_objects(s, self.endpoint.schema):
                    what = "VIEW" if ttype == "VIEW" else "TABLE"
                    s.execute("SET SESSION foreign_key_checks = 0")
                    s.execute(
                        f"DROP {what} IF EXISTS {quote_ident(self.endpoint.schema)}."
                        f"{quote_ident(tname)}"
                    )


class ReplicaSandbox(Sandbox):
    """A replica of the target, detached so the plan can run on its copy of the data.

    Detaching cannot be undone by myshift: after the rehearsal the replica must be
    rebuilt (or the RDS read replica deleted).  ``teardown`` therefore does nothing.
    """

    kind = "replica"
    holds_data = "replica"

    def __init__(self, url: str, *, keep: bool = False, catch_up_timeout: float = 300) -> None:
        super().__init__(keep=keep)
        self.url = url
        self.base = Endpoint.from_url(url)
        self.catch_up_timeout = catch_up_timeout
        self.detached_message = ""

    def prepare(
        self,
        target: Endpoint,
        *,
        data: DataMode | None = None,
        progress: ProgressFn | None = None,
        workers: int = 4,
    ) -> Endpoint:
        from myshift.workflows.replica import check_replicates_from, detach, wait_caught_up

        ep = self.base.with_schema(self.base.schema or target.schema)
        assert_not_target(ep, target)
        with connect(ep, schema="") as r, connect(target, schema="") as t:
            check_replicates_from(r, server_identity(t))
            wait_caught_up(r, t, self.catch_up_timeout)
            self.detached_message = detach(r, target_name=str(target))
        self.notes.append(self.detached_message)
        self.endpoint = ep
        return ep

    def teardown(self) -> None:
        return None


# ServerIdentity and server_identity are re-exported for callers of the sandbox API.
__all__ = [
    "LocalSandbox",
    "ReplicaSandbox",
    "Sandbox",
    "ServerIdentity",
    "ServerSandbox",
    "assert_not_target",
    "flavor_note",
    "server_identity",
]
