"""Read a server's identity (hostname, server_id, version, sql_mode, uuid)."""

from __future__ import annotations

import hashlib

from myshift.db.connect import Conn
from myshift.model.identity import ServerIdentity


def server_identity(conn: Conn) -> ServerIdentity:
    row = conn.query("SELECT @@hostname, @@server_id, @@version, @@port, @@sql_mode, @@datadir")[0]
    hostname, server_id, version, port, sql_mode, datadir = row
    uuid = ""
    if conn.flavor.has_server_uuid:
        uuid = str(conn.scalar("SELECT @@server_uuid") or "")
    if not uuid:
        uuid = hashlib.sha1(f"{hostname}|{port}|{datadir}".encode()).hexdigest()
    return ServerIdentity(
        hostname=str(hostname),
        server_id=int(server_id),
        version=str(version),
        port=int(port),
        sql_mode=str(sql_mode),
        uuid=uuid,
    )
