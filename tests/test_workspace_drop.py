"""Dropping a workspace schema: its tables in several DROP TABLE statements, then the schema.

engine.workspace.drop_workspace_schema drops a workspace's tables a few
hundred per statement before DROP DATABASE (MariaDB's DROP DATABASE is
quadratic in the number of tables).  These tests shrink the batch to 2 so a
small schema spans several statements, with foreign keys between batches.
"""

from __future__ import annotations

import pytest

from conftest import endpoint_of
from myshift.db.connect import Conn, connected, quote_ident
from myshift.db.server import LocalServer
from myshift.engine import workspace
from myshift.engine.load import load_sql
from myshift.engine.split import split_sql
from myshift.engine.workspace import TempSchemaWorkspace, drop_workspace_schema

# t1 -> t2 -> ... -> t5 -> t1: whichever batch goes first holds a table the
# next batch references, so with checks on its DROP TABLE would be refused.
SCHEMA = "\n".join(
    [
        *(
            f"CREATE TABLE t{i} (id int PRIMARY KEY, ref int, KEY (ref),"
            f" CONSTRAINT fk{i} FOREIGN KEY (ref) REFERENCES t{i % 5 + 1} (id));"
            for i in range(1, 6)
        ),
        "CREATE VIEW v AS SELECT t1.id FROM t1 JOIN t2 ON t2.ref = t1.id;",
        "CREATE TRIGGER tr BEFORE INSERT ON t3 FOR EACH ROW SET NEW.ref = NEW.ref;",
        "CREATE FUNCTION f() RETURNS int DETERMINISTIC RETURN 1;",
        "CREATE PROCEDURE p() SELECT 1;",
        "CREATE TABLE hist (id int PRIMARY KEY) WITH SYSTEM VERSIONING;",
    ]
)


def _exists(c: Conn, name: str) -> bool:
    return bool(
        c.scalar("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,))
    )


def _drop_table_statements(c: Conn) -> int:
    return int(c.query("SHOW SESSION STATUS LIKE 'Com_drop_table'")[0][1])


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workspace, "DROP_TABLES_PER_STATEMENT", 2, raising=False)


@pytest.mark.usefixtures("small_batches")
def test_workspace_with_cross_batch_fks_is_dropped_whole(server: LocalServer) -> None:
    ws_obj = TempSchemaWorkspace(endpoint_of(server))
    with ws_obj as ws:
        load_sql(split_sql(SCHEMA, "ws.sql"), ws)
        name = ws.schema
    with connected(endpoint_of(server)) as c:
        assert not _exists(c, name)
        # DROP FUNCTION / PROCEDURE ran: no grant row of the routines is left behind.
        left = c.scalar("SELECT COUNT(*) FROM mysql.procs_priv WHERE Db = %s", (name,))
        assert int(left) == 0


@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize("checks", [1, 0])
def test_drop_keeps_the_sessions_foreign_key_checks(server: LocalServer, checks: int) -> None:
    ws_obj = TempSchemaWorkspace(endpoint_of(server))
    with ws_obj as ws:
        load_sql(split_sql(SCHEMA, "ws.sql"), ws)
        name = ws.schema
        with connected(endpoint_of(server)) as c:
            c.execute(f"SET SESSION foreign_key_checks = {checks}")
            drops = _drop_table_statements(c)
            drop_workspace_schema(c, name)
            # 6 tables (t1..t5, hist), 2 per statement; the view goes with the schema.
            assert _drop_table_statements(c) - drops == 3
            assert int(c.scalar("SELECT @@SESSION.foreign_key_checks")) == checks
            assert not _exists(c, name)
            # The workspace's own exit then finds nothing left to drop.
    with connected(endpoint_of(server)) as c:
        assert not _exists(c, name)


def test_drop_of_an_empty_or_missing_schema_is_quiet(server: LocalServer) -> None:
    with connected(endpoint_of(server)) as c:
        c.execute(f"CREATE DATABASE {quote_ident('_myshift_ws_empty')}")
        drop_workspace_schema(c, "_myshift_ws_empty")
        assert not _exists(c, "_myshift_ws_empty")
        drop_workspace_schema(c, "_myshift_ws_empty")  # gone already: no error
