"""engine.load + engine.workspace against a real throwaway MariaDB."""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import pytest

from conftest import endpoint_of
from myshift.db.connect import Endpoint, connect, connected, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.load import (
    LoadResult,
    RenameHints,
    desired_schema,
    load_desired,
    load_sql,
    read_desired,
)
from myshift.engine.split import split_sql
from myshift.engine.workspace import (
    WS_PREFIX,
    LocalServerWorkspace,
    TempSchemaWorkspace,
    drop_stale_workspaces,
    open_workspace,
    target_defaults,
    workspace_name,
)
from myshift.errors import SQLLoadError, UsageError

DUMPS = Path(__file__).parent / "data" / "dumps"


def _schemas(srv: LocalServer) -> set[str]:
    with connected(endpoint_of(srv)) as c:
        return {str(r[0]) for r in c.query("SHOW DATABASES")}


def _objects(ws: Endpoint) -> dict[str, set[str]]:
    with connected(ws) as c:
        q = {
            "tables": "SELECT TABLE_NAME FROM information_schema.TABLES"
            " WHERE TABLE_SCHEMA=%s AND TABLE_TYPE='BASE TABLE'",
            "views": "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA=%s",
            "routines": "SELECT ROUTINE_NAME FROM information_schema.ROUTINES"
            " WHERE ROUTINE_SCHEMA=%s",
            "triggers": "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS"
            " WHERE TRIGGER_SCHEMA=%s",
            "events": "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA=%s",
        }
        return {k: {str(r[0]) for r in c.query(v, (ws.schema,))} for k, v in q.items()}


@pytest.fixture
def temp_ws(server: LocalServer) -> TempSchemaWorkspace:
    return TempSchemaWorkspace(endpoint_of(server), "utf8mb4", "utf8mb4_unicode_ci")


# --- dumps ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dump", ["mariadb_dump.sql", "mariadb_dump_databases.sql"])
def test_mariadb_dump_loads_unchanged(
    server: LocalServer, temp_ws: TempSchemaWorkspace, dump: str
) -> None:
    with temp_ws as ws:
        result = load_desired(str(DUMPS / dump), ws)
        objs = _objects(ws)
    assert objs == {
        "tables": {"customers", "orders", "order_items", "audit_log"},
        "views": {"active_customers", "active_customer_emails"},
        "routines": {"add_order", "customer_total"},
        "triggers": {"orders_bi", "orders_ai"},
        "events": {"purge_audit"},
    }
    # --databases adds CREATE DATABASE / USE: skipped with a warning, never executed.
    if dump == "mariadb_dump_databases.sql":
        assert any("CREATE DATABASE" in w for w in result.warnings)
        assert any("USE `shop`" in w for w in result.warnings)
        assert "shop" not in _schemas(server)
    else:
        assert result.warnings == ()
    assert temp_ws.name not in _schemas(server)


def test_mysql8_style_dump_loads_on_mariadb(temp_ws: TempSchemaWorkspace) -> None:
    with temp_ws as ws:
        result = load_desired(str(DUMPS / "mysql8_dump.sql"), ws)
        objs = _objects(ws)
        with connected(ws) as c:
            view = c.scalar(
                "SELECT VIEW_DEFINITION FROM information_schema.VIEWS"
                " WHERE TABLE_SCHEMA=%s AND TABLE_NAME='paid_orders'",
                (ws.schema,),
            )
    assert objs == {
        "tables": {"customers", "orders"},
        "views": {"paid_orders"},
        "routines": {"mark_paid"},
        "triggers": {"orders_bi"},
        "events": {"purge_unpaid"},
    }
    assert "`paid` = 1" in str(view)  # the final view, not the placeholder
    assert len(result.warnings) == 3  # CREATE DATABASE and two USE


def test_desired_schema_introspects_the_workspace(temp_ws: TempSchemaWorkspace) -> None:
    with temp_ws as ws:
        schema, result = desired_schema(str(DUMPS / "mariadb_dump.sql"), ws)
    assert isinstance(result, LoadResult)
    assert set(schema.table_map) == {"customers", "orders", "order_items", "audit_log"}
    assert set(schema.view_map) == {"active_customers", "active_customer_emails"}
    assert set(schema.trigger_map) == {"orders_bi", "orders_ai"}
    assert not schema.unsupported_tables


# --- errors ---------------------------------------------------------------------------------


def test_bad_sql_reports_path_line_and_server_message(
    server: LocalServer, temp_ws: TempSchemaWorkspace, tmp_path: Path
) -> None:
    f = tmp_path / "schema.sql"
    f.write_text("CREATE TABLE a (id int);\n\n-- comment\nCREATE TABLE b (id int,, x int);\n")
    with pytest.raises(SQLLoadError) as err, temp_ws as ws:
        load_desired(str(f), ws)
    e = err.value
    assert (e.path, e.line) == (str(f), 4)
    assert "SQL syntax" in e.server_message
    assert str(e).startswith(f"{f}:4: ")
    assert WS_PREFIX not in str(e)
    assert temp_ws.name not in _schemas(server)


def test_error_in_the_middle_of_a_batch_names_the_right_statement(
    temp_ws: TempSchemaWorkspace,
) -> None:
    text = "".join(f"CREATE TABLE t{i} (id int);\n" for i in range(30))
    text += "CREATE TABLE t3 (id int);\n" + "CREATE TABLE z (id int);\n"
    with pytest.raises(SQLLoadError) as err, temp_ws as ws:
        load_sql(split_sql(text, "many.sql"), ws)
    assert err.value.line == 31
    assert "already exists" in err.value.server_message


def test_error_in_a_routine_body_is_reported_at_its_line(temp_ws: TempSchemaWorkspace) -> None:
    text = (
        "CREATE TABLE t (id int);\nDELIMITER ;;\nCREATE PROCEDURE p()\nBEGIN\n  SELEC 1;\nEND;;\n"
    )
    with pytest.raises(SQLLoadError) as err, temp_ws as ws:
        load_desired(split_sql(text, "p.sql"), ws)
    assert err.value.line == 5
    assert "at line 3 of the statement" in err.value.server_message


_BAD_FIFTH_LINE = (
    "CREATE TABLE orders (\n"  # the statement's line 1
    "  id int NOT NULL,\n"
    "  customer int NOT NULL,\n"
    "  total decimal(10,2),\n"
    "  placed datetime NOT NULL DEFAULT CURRENT_TIMESTAMP PRIMARY,\n"  # line 5: wrong
    "  PRIMARY KEY (id)\n"
    ");\n"
)


@pytest.mark.parametrize("before", [0, 1, 3])
def test_syntax_error_names_the_failing_line_not_the_first(
    temp_ws: TempSchemaWorkspace, tmp_path: Path, before: int
) -> None:
    # Alone (before=0), or after other statements of the same batch, with blank and
    # comment lines between: the file line is the statement's plus the server's N - 1.
    head = "".join(f"CREATE TABLE t{i} (\n  id int\n);\n\n-- next\n" for i in range(before))
    f = tmp_path / "schema.sql"
    f.write_text(head + _BAD_FIFTH_LINE)
    start = 1 + head.count("\n")
    with pytest.raises(SQLLoadError) as err, temp_ws as ws:
        load_desired(str(f), ws)
    assert "SQL syntax" in err.value.server_message
    assert err.value.line == start + 4
    assert str(err.value).startswith(f"{f}:{start + 4}: ")
    assert "at line 5 of the statement" in err.value.server_message


def test_failing_line_counts_a_skipped_conditional_comment(
    temp_ws: TempSchemaWorkspace,
) -> None:
    # /*!99999 ... */ never runs: the loader sends a space for it, three lines fewer.
    text = (
        "CREATE TABLE t (\n"
        "  id int, /*!99999 x int,\n"
        "  y int,\n"
        "  z int, */\n"
        "  a int,\n"
        "  b int,,\n"  # line 6 of the file
        "  c int\n"
        ");\n"
    )
    with pytest.raises(SQLLoadError) as err, temp_ws as ws:
        load_sql(split_sql(text, "c.sql"), ws)
    assert err.value.line == 6


def test_other_schema_is_refused_before_anything_runs(
    server: LocalServer, temp_ws: TempSchemaWorkspace
) -> None:
    admin = connect(endpoint_of(server))
    admin.execute("CREATE DATABASE IF NOT EXISTS victim")
    admin.execute("CREATE TABLE IF NOT EXISTS victim.keep (id int)")
    try:
        text = "CREATE TABLE a (id int);\nDROP TABLE IF EXISTS `victim`.`keep`;\n"
        with pytest.raises(SQLLoadError) as err, temp_ws as ws:
            load_desired(split_sql(text, "x.sql"), ws)
        assert err.value.line == 2
        assert "victim" in err.value.message
        assert (
            admin.scalar(
                "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='victim'"
            )
            == 1
        )
    finally:
        admin.execute("DROP DATABASE victim")
        admin.close()


def test_reference_to_unknown_schema_is_explained(temp_ws: TempSchemaWorkspace) -> None:
    # A view reads another schema: harmless, but the desired schema must stand alone.
    text = "CREATE VIEW v AS SELECT * FROM nowhere.t;\n"
    with pytest.raises(SQLLoadError) as err, temp_ws as ws:
        load_sql(split_sql(text), ws)
    assert "unqualified" in err.value.message


def test_missing_file_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        read_desired(str(tmp_path / "nope.sql"))
    with pytest.raises(UsageError, match=r"no \*\.sql files"):
        read_desired(str(tmp_path))


# --- inputs ----------------------------------------------------------------------------------


def test_directory_input_sorted_recursively(tmp_path: Path, temp_ws: TempSchemaWorkspace) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2_orders.sql").write_text(
        "CREATE TABLE orders (id int PRIMARY KEY, c int,\n"
        "  FOREIGN KEY (c) REFERENCES customers (id));\n"
    )
    (tmp_path / "a_customers.sql").write_text("CREATE TABLE customers (id int PRIMARY KEY);\n")
    (tmp_path / "b" / "1_view.sql").write_text("CREATE VIEW v AS SELECT id FROM customers;\n")
    (tmp_path / "notes.txt").write_text("not sql")
    stmts = read_desired(str(tmp_path))
    assert [Path(s.path).name for s in stmts] == ["a_customers.sql", "1_view.sql", "2_orders.sql"]
    with temp_ws as ws:
        load_desired(stmts, ws)
        assert _objects(ws)["tables"] == {"customers", "orders"}


def test_stdin_input(monkeypatch: pytest.MonkeyPatch, temp_ws: TempSchemaWorkspace) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("CREATE TABLE s (id int);\nCREATE TABLE (;\n"))
    with pytest.raises(SQLLoadError) as err, temp_ws as ws:
        load_desired("-", ws)
    assert (err.value.path, err.value.line) == ("<stdin>", 2)


def test_rename_hints_come_back_with_the_load(temp_ws: TempSchemaWorkspace) -> None:
    text = (
        "-- myshift:renamed-from clients\n"
        "CREATE TABLE customers (\n  id int,\n  full_name text -- myshift:renamed-from name\n);\n"
    )
    with temp_ws as ws:
        result = load_desired(split_sql(text), ws)
    assert result.hints == RenameHints(
        {"customers": "clients"}, {("customers", "full_name"): "name"}
    )


# --- workspaces ------------------------------------------------------------------------------


def test_temp_schema_uses_given_charset_and_is_dropped_on_error(
    server: LocalServer, temp_ws: TempSchemaWorkspace
) -> None:
    with pytest.raises(RuntimeError), temp_ws as ws:
        assert ws.schema.startswith(WS_PREFIX)
        load_sql(split_sql("CREATE TABLE t (a varchar(10));"), ws)
        with connected(ws) as c:
            assert (
                c.scalar(
                    "SELECT COLLATION_NAME FROM information_schema.COLUMNS"
                    " WHERE TABLE_SCHEMA=%s AND TABLE_NAME='t'",
                    (ws.schema,),
                )
                == "utf8mb4_unicode_ci"
            )
        raise RuntimeError("boom")
    assert temp_ws.name not in _schemas(server)


def test_loader_session_uses_given_sql_mode(temp_ws: TempSchemaWorkspace) -> None:
    # ANSI_QUOTES changes how the server parses "x": the caller's sql_mode must apply.
    text = 'CREATE TABLE "quoted" ("id" int);'
    with temp_ws as ws:
        load_sql(split_sql(text), ws, sql_mode="ANSI_QUOTES")
        assert _objects(ws)["tables"] == {"quoted"}
        with pytest.raises(SQLLoadError):
            load_sql(split_sql('CREATE TABLE "other" (id int);'), ws, sql_mode="")


def test_workspace_endpoint_carries_sql_mode_to_load_sql(server: LocalServer) -> None:
    url = f"mysql://root@127.0.0.1:{server.port}/"
    ws_obj = open_workspace(url, sql_mode="ANSI_QUOTES")
    assert isinstance(ws_obj, TempSchemaWorkspace)
    with ws_obj as ws:
        load_sql(split_sql('CREATE TABLE "q" ("id" int);'), ws)
        assert _objects(ws)["tables"] == {"q"}
        assert ws.with_schema("x").sql_mode == "ANSI_QUOTES"  # type: ignore[attr-defined]


def test_stale_workspaces_are_cleaned_up(server: LocalServer) -> None:
    old = workspace_name(now=time.time() - 3 * 24 * 3600)
    young = workspace_name()
    with connected(endpoint_of(server)) as admin:
        admin.execute(f"CREATE DATABASE {quote_ident(old)}")
        admin.execute(f"CREATE DATABASE {quote_ident(young)}")
        try:
            assert drop_stale_workspaces(admin) == [old]
            assert young in _schemas(server)
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(old)}")
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(young)}")


def test_target_defaults(fresh_schema: Endpoint) -> None:
    with connected(fresh_schema) as c:
        d = target_defaults(c)
    assert d.charset == "utf8mb4"
    assert d.sql_mode is not None


def test_open_workspace_kinds(server: LocalServer) -> None:
    assert isinstance(
        open_workspace("temp-schema", server=endpoint_of(server)), TempSchemaWorkspace
    )
    assert isinstance(open_workspace("local"), LocalServerWorkspace)
    with pytest.raises(UsageError):
        open_workspace("temp-schema")
    with pytest.raises(UsageError):
        open_workspace("cloud")


def test_local_server_workspace_keeps_the_target_name_and_stops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ws_obj = LocalServerWorkspace(
        "utf8mb4", "utf8mb4_general_ci", schema_name="shop", sql_mode="ANSI_QUOTES"
    )
    with caplog.at_level(logging.WARNING), ws_obj as ws:
        assert ws.schema == "shop"
        with connected(ws) as c:
            # Every session on the local server defaults to the target's sql_mode.
            assert c.scalar("SELECT @@GLOBAL.sql_mode") == "ANSI_QUOTES"
        srv = ws_obj.server
        assert srv is not None
        result = load_desired(str(DUMPS / "mysql8_dump.sql"), ws)
        assert _objects(ws)["views"] == {"paid_orders"}
    assert len(result.warnings) == 3
    assert any("CREATE DATABASE" in r.message for r in caplog.records)
    assert srv.process is None
    assert not srv.basedir.exists()


@pytest.mark.parametrize(
    "text",
    [
        "CREATE TABLE t (a int);\nDROP TABLE IF EXISTS t;\nCREATE TABLE t (b int);",
        "CREATE TABLE a (a int);\nALTER TABLE a RENAME AS t;\nDROP TABLE IF EXISTS t;\n"
        "CREATE TABLE t (b int);",
        "CREATE TABLE a (a int);\nALTER TABLE a RENAME TO t;\nDROP TABLE IF EXISTS `t`;\n"
        "CREATE TABLE t (b int);",
        "/*!50001 CREATE VIEW `t` AS SELECT 1 AS `a` */;\n/*!50001 DROP VIEW IF EXISTS `t`*/;\n"
        "CREATE TABLE t (b int);",
    ],
)
def test_drop_if_exists_runs_when_something_was_created(
    temp_ws: TempSchemaWorkspace, text: str
) -> None:
    # DROP ... IF EXISTS before any CREATE of that name is skipped as a no-op; after one it runs.
    with temp_ws as ws:
        load_sql(split_sql(text), ws)
        with connected(ws) as c:
            cols = c.query(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS"
                " WHERE TABLE_SCHEMA=%s AND TABLE_NAME='t'",
                (ws.schema,),
            )
    assert cols == [("b",)]


def test_views_and_triggers_before_what_they_use_are_retried(temp_ws: TempSchemaWorkspace) -> None:
    text = (
        "CREATE VIEW top AS SELECT id FROM middle;\n"
        "CREATE VIEW middle AS SELECT id FROM base;\n"
        "CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW SET NEW.id = NEW.id + 1;\n"
        "CREATE VIEW base AS SELECT id FROM t;\n"
        "CREATE TABLE t (id int);\n"
    )
    with temp_ws as ws:
        load_sql(split_sql(text), ws)
        objs = _objects(ws)
    assert objs["views"] == {"top", "middle", "base"}
    assert objs["triggers"] == {"t_bi"}


def test_view_over_a_missing_table_reports_the_view(temp_ws: TempSchemaWorkspace) -> None:
    text = "CREATE TABLE t (id int);\nCREATE VIEW v AS SELECT id FROM missing;\n"
    with pytest.raises(SQLLoadError) as err, temp_ws as ws:
        load_sql(split_sql(text, "v.sql"), ws)
    assert (err.value.path, err.value.line) == ("v.sql", 2)
    assert "missing" in err.value.server_message


def test_utf8_bom_is_not_part_of_the_first_statement(tmp_path: Path) -> None:
    f = tmp_path / "bom.sql"
    f.write_bytes("\ufeffCREATE TABLE t (id int);\n".encode())
    assert [s.sql for s in read_desired(str(f))] == ["CREATE TABLE t (id int)"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("  total intt NOT NULL,\n", "Unknown data type"),  # MariaDB's error 4161
        ("  KEY ix_total (totl),\n", "Key column 'totl'"),  # error 1072
    ],
)
def test_error_without_a_line_names_the_line_holding_the_quoted_name(
    temp_ws: TempSchemaWorkspace, tmp_path: Path, bad: str, message: str
) -> None:
    # Only syntax errors say "at line N"; these quote a name that is on one line.
    f = tmp_path / "schema.sql"
    f.write_text(
        "CREATE TABLE a (id int PRIMARY KEY);\n\n"
        "CREATE TABLE orders (\n"  # line 3
        "  id int NOT NULL,\n"
        "  note varchar(20),\n" + bad + "  PRIMARY KEY (id)\n);\n"  # the bad line is 6
    )
    with pytest.raises(SQLLoadError) as err, temp_ws as ws:
        load_desired(str(f), ws)
    assert message in err.value.server_message
    assert err.value.line == 6, str(err.value)
