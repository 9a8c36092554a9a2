"""Real replication between two throwaway servers: check, catch up, detach; sandbox identity."""

from __future__ import annotations

import pytest

from myshift.db.connect import Endpoint, connect
from myshift.db.server import LocalServer
from myshift.errors import MyshiftError, UnsafeError
from myshift.workflows.replica import check_replicates_from, detach, wait_caught_up
from myshift.workflows.sandbox import (
    ReplicaSandbox,
    ServerSandbox,
    assert_not_target,
    server_identity,
)
from myshift.workflows.sandbox_kinds import make_sandbox


def _ep(srv: LocalServer, schema: str = "", host: str = "127.0.0.1") -> Endpoint:
    return Endpoint(host=host, port=srv.port, user="root", password="", schema=schema)


@pytest.fixture
def pair(replication_pair: tuple[LocalServer, LocalServer]) -> tuple[LocalServer, LocalServer]:
    return replication_pair


def test_replica_check_catch_up_detach(pair: tuple[LocalServer, LocalServer]) -> None:
    primary, replica = pair
    with connect(_ep(primary)) as p, connect(_ep(replica)) as r:
        p.execute("CREATE DATABASE app")
        p.execute("CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(10))")
        p.execute("INSERT INTO app.t SELECT seq, 'x' FROM app.seq_1_to_500")
        st = check_replicates_from(r, server_identity(p))
        assert st.master_server_id == 11
        wait_caught_up(r, p, timeout=30)
        assert r.scalar("SELECT COUNT(*) FROM app.t") == 500
        msg = detach(r, target_name="prod")
        assert "no longer replicates from prod" in msg
        assert r.query("SHOW SLAVE STATUS") == []
        assert r.scalar("SELECT @@GLOBAL.read_only") == 0
        # Writes on the primary no longer arrive; the replica itself is writable.
        p.execute("INSERT INTO app.t VALUES (501, 'y')")
        r.execute("INSERT INTO app.t VALUES (1000, 'z')")
        assert r.scalar("SELECT COUNT(*) FROM app.t WHERE id = 501") == 0
        with pytest.raises(MyshiftError, match="not a replica"):
            check_replicates_from(r, server_identity(p))


def test_replica_sandbox_prepare(pair: tuple[LocalServer, LocalServer]) -> None:
    primary, replica = pair
    with connect(_ep(primary)) as p:
        p.execute("CREATE DATABASE shop")
        p.execute("CREATE TABLE shop.t (id INT PRIMARY KEY)")
        p.execute("INSERT INTO shop.t VALUES (1), (2)")
    sb = make_sandbox(f"replica:mysql://root@127.0.0.1:{replica.port}")
    assert isinstance(sb, ReplicaSandbox)
    with sb:
        ep = sb.prepare(_ep(primary, "shop"))
        assert ep.schema == "shop" and ep.port == replica.port
        with connect(ep) as r:
            assert r.scalar("SELECT COUNT(*) FROM t") == 2
            r.execute("ALTER TABLE t ADD COLUMN c INT")
    assert any("no longer replicates" in n for n in sb.notes)


def test_replica_of_another_server_is_refused(
    pair: tuple[LocalServer, LocalServer], server: LocalServer
) -> None:
    _primary, replica = pair
    with (
        connect(_ep(replica)) as r,
        connect(_ep(server)) as other,
        pytest.raises(MyshiftError, match="not from the target"),
    ):
        check_replicates_from(r, server_identity(other))


def test_identity_sees_through_host_names(server: LocalServer, server2: LocalServer) -> None:
    with connect(_ep(server)) as a, connect(_ep(server, host="localhost")) as b:
        assert server_identity(a) == server_identity(b)
    with connect(_ep(server)) as a, connect(_ep(server2)) as c:
        assert not server_identity(a).same_server(server_identity(c))
    # Same server reached as localhost: refused even with another schema name.
    with pytest.raises(UnsafeError, match="production server"):
        assert_not_target(_ep(server, "sandbox", host="localhost"), _ep(server, "prod"))
    with pytest.raises(UnsafeError, match="target itself"):
        assert_not_target(_ep(server, "prod", host="localhost"), _ep(server, "prod"))
    assert_not_target(
        _ep(server, "prod", host="localhost"), _ep(server, "prod2"), allow_same_server=True
    )
    assert_not_target(_ep(server2, "prod"), _ep(server, "prod"))
    sb = ServerSandbox(f"mysql://root@localhost:{server.port}/x")
    with pytest.raises(UnsafeError):
        sb.prepare(_ep(server, "prod"))
    with pytest.raises(MyshiftError, match="--sandbox"):
        make_sandbox("cloud")
