"""Shared fixtures: throwaway MariaDB servers started by the suite itself."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import pytest

from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    """One throwaway mariadbd for the whole session (datadir on /dev/shm)."""
    srv = LocalServer.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def server2() -> Iterator[LocalServer]:
    """A second server, for DB->DB and cross-server tests."""
    srv = LocalServer.start(server_id=2)
    try:
        yield srv
    finally:
        srv.stop()


_counter = itertools.count()


def endpoint_of(srv: LocalServer, schema: str = "") -> Endpoint:
    return Endpoint(host=srv.host, port=srv.port, user="root", password="", schema=schema)


@pytest.fixture(scope="module")
def admin(server: LocalServer) -> Iterator[Conn]:
    """A root connection to the session server, without a schema."""
    c = connect(endpoint_of(server))
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def fresh_schema(server: LocalServer) -> Iterator[Endpoint]:
    """An empty schema on the session server, dropped after the test."""
    name = f"t_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    admin = connect(endpoint_of(server))
    admin.execute(f"CREATE DATABASE {quote_ident(name)} DEFAULT CHARACTER SET utf8mb4")
    try:
        yield endpoint_of(server, name)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
        admin.close()


@pytest.fixture
def dest(server2: LocalServer) -> Iterator[Endpoint]:
    """An empty schema on the second server, dropped after the test: where a copy goes."""
    name = f"dst_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    with connect(endpoint_of(server2)) as admin:
        admin.execute(f"CREATE DATABASE {quote_ident(name)}")
        try:
            yield endpoint_of(server2, name)
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")


@pytest.fixture
def conn(fresh_schema: Endpoint) -> Iterator[Conn]:
    c = connect(fresh_schema)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def replication_pair() -> Iterator[tuple[LocalServer, LocalServer]]:
    """A primary and a replica with real (GTID) replication between them."""
    primary = LocalServer.start(
        extra_args=("--log-bin=mysql-bin", "--binlog-format=ROW"), server_id=11
    )
    try:
        replica = LocalServer.start(extra_args=("--relay-log=relay-bin",), server_id=12)
        try:
            with connect(endpoint_of(replica)) as r:
                r.execute(
                    "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%s, "
                    "MASTER_USER='root', MASTER_USE_GTID=slave_pos",
                    (primary.port,),
                )
                r.execute("START SLAVE")
                r.execute("SET GLOBAL read_only = 1")
            yield primary, replica
        finally:
            replica.stop()
    finally:
        primary.stop()


# The AWS fixtures (a local moto server), usable by any test module.
from awsfixtures import moto_endpoint, moto_server  # noqa: E402
from rdsfixtures import aws, calls, shop_pair  # noqa: E402

__all__ = ["aws", "calls", "moto_endpoint", "moto_server", "shop_pair"]
