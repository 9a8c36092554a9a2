"""myshift's own sessions on each server, so the watch can leave their work out.

The watch (workflows.watch) judges server-wide counters (full scans, rows
read per query).  While an apply runs, myshift's own sessions inflate them:
catalogue reads, the drift check, a copying ALTER reading every row.  Every
``Conn`` registers its server thread id here when it opens and leaves when it
closes; the sampler reads those threads' counters from
``performance_schema.status_by_thread`` and subtracts them.

That table only holds sessions still connected (MySQL 8 and MariaDB 10.5.2+
alike): a session that closed between two samples took its counters with it.
So the registry also counts closes, and marks the time an outside tool
(pt-online-schema-change) works for myshift with sessions of its own; the
sampler calls an interval's subtraction *complete* only when no session
closed and no outside tool ran in it.

Servers are told apart by address (the server's own host and port behind an
SSH tunnel): thread ids are only unique within one server.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

ServerKey = tuple[str, int, str]


@dataclass(frozen=True)
class OwnSessions:
    """This process's sessions on one server at one moment."""

    ids: frozenset[int]
    # Sessions closed so far, and outside tools started so far or running now: an
    # interval over which either changed (or a tool runs) has work it cannot subtract.
    closed: int
    outside: int
    outside_running: bool


class _Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[ServerKey, set[int]] = {}
        self._closed: dict[ServerKey, int] = {}
        self._outside: dict[ServerKey, int] = {}
        self._running: dict[ServerKey, int] = {}

    def opened(self, key: ServerKey, thread_id: int) -> None:
        with self._lock:
            self._open.setdefault(key, set()).add(thread_id)

    def closed(self, key: ServerKey, thread_id: int) -> None:
        with self._lock:
            ids = self._open.get(key)
            if ids is not None and thread_id in ids:
                ids.discard(thread_id)
                self._closed[key] = self._closed.get(key, 0) + 1

    @contextlib.contextmanager
    def outside(self, key: ServerKey) -> Iterator[None]:
        with self._lock:
            self._outside[key] = self._outside.get(key, 0) + 1
            self._running[key] = self._running.get(key, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._running[key] -= 1

    def now(self, key: ServerKey) -> OwnSessions:
        with self._lock:
            return OwnSessions(
                frozenset(self._open.get(key, ())),
                self._closed.get(key, 0),
                self._outside.get(key, 0),
                self._running.get(key, 0) > 0,
            )


REGISTRY = _Registry()

__all__ = ["REGISTRY", "OwnSessions", "ServerKey"]
