"""Which server a plan was made for (a value; the query lives in myshift.db.identity)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerIdentity:
    """What makes a server itself (uuid, hostname, port): plans refuse another server."""

    hostname: str
    server_id: int
    version: str
    port: int
    sql_mode: str = ""
    # MySQL's @@server_uuid; on MariaDB (which has none) a hash of hostname,
    # port and datadir -- stable for one server, different for a clone of it.
    uuid: str = ""

    def same_server(self, other: ServerIdentity) -> bool:
        if self.uuid and other.uuid:
            return self.uuid == other.uuid
        return (self.hostname, self.server_id, self.port) == (
            other.hostname,
            other.server_id,
            other.port,
        )

    def describe(self) -> str:
        return f"{self.hostname}:{self.port} (server_id {self.server_id}, {self.version})"
