"""Issue 12: plans that reproduce what the server shows, for schemas nobody here wrote.

Each case goes the way a user goes: ``plan``, ``apply``, then a re-plan that
must be empty, all through the real CLI against a real server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clitools import run_cli
from myshift.db.connect import Conn, Endpoint, connect
from myshift.engine.split import split_sql


def url(ep: Endpoint) -> str:
    return f"mysql://{ep.user}@127.0.0.1:{ep.port}/{ep.schema}"


def load(conn: Conn, sql: str) -> None:
    for st in split_sql(sql):
        conn.execute(st.sql)


def cycle(ep: Endpoint, tmp_path: Path, desired: str, *extra: str) -> str:
    """plan, apply, re-plan (must be empty); returns the plan's text."""
    f = tmp_path / "desired.sql"
    f.write_text(desired, encoding="utf-8")
    args = ("--to", url(ep), "--desired", str(f), *extra)
    r = run_cli("plan", *args, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_cli("apply", *args, "--yes", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    again = run_cli("plan", *args, "--check", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    return r.stdout


def show_create(ep: Endpoint, kind: str, name: str, col: int = 1) -> str:
    with connect(ep) as c:
        return str(c.query(f"SHOW CREATE {kind} `{name}`")[0][col])


# --- class 6: 4-byte UTF-8 ---------------------------------------------------------------


# MariaDB itself keeps 4-byte characters only in expressions (its .frm stores
# comments, literal defaults and enum values as utf8mb3): those are the cases.
EMOJI_TABLE = (
    "CREATE TABLE t (id int PRIMARY KEY, d varchar(20),"
    " e varchar(40) DEFAULT concat(d,' \U0001f4a9'),"
    " g varchar(40) AS (concat(d,'\U0001f600')) VIRTUAL,"
    " CONSTRAINT ck CHECK (d <> '\U0001f511'));\n"
)


def test_four_byte_utf8_in_expressions(fresh_schema: Endpoint, tmp_path: Path) -> None:
    """information_schema is utf8mb3: its '????' must not be taken for the text."""
    cycle(fresh_schema, tmp_path, EMOJI_TABLE)
    text = show_create(fresh_schema, "TABLE", "t")
    assert "concat(`d`,' \U0001f4a9')" in text and "????" not in text
    assert "concat(`d`,'\U0001f600')" in text and "'\U0001f511'" in text


def test_four_byte_utf8_through_stdin_under_a_c_locale(
    fresh_schema: Endpoint, tmp_path: Path
) -> None:
    r = run_cli(
        "apply",
        "--to",
        url(fresh_schema),
        "--yes",
        cwd=tmp_path,
        stdin=EMOJI_TABLE,
        env={"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "concat(`d`,' \U0001f4a9')" in show_create(fresh_schema, "TABLE", "t")


# --- class 8: view text from SHOW CREATE VIEW --------------------------------------------


def test_view_keeps_charset_introducers_and_4_byte_text(
    fresh_schema: Endpoint, tmp_path: Path
) -> None:
    desired = (
        "CREATE TABLE t (id int PRIMARY KEY, d varchar(20));\n"
        "CREATE VIEW v AS SELECT concat(_utf8mb3' ', d, ' \U0001f4a9') AS c FROM t"
        " WITH CASCADED CHECK OPTION;\n"
    )
    cycle(fresh_schema, tmp_path, desired)
    text = show_create(fresh_schema, "VIEW", "v")
    assert "_utf8mb3' '" in text and "\U0001f4a9" in text, text
    # A changed introducer alone is a change to plan.
    f = tmp_path / "desired.sql"
    f.write_text(desired.replace("_utf8mb3' '", "_latin1' '"), encoding="utf-8")
    r = run_cli("plan", "--to", url(fresh_schema), "--desired", str(f), cwd=tmp_path)
    assert r.returncode == 0 and "_latin1" in r.stdout, r.stdout + r.stderr


# --- class 7: partitions named like the defaults -----------------------------------------


@pytest.mark.parametrize("method", ["LINEAR KEY (id)", "KEY (id)", "HASH (id)"])
def test_explicitly_named_default_partitions(
    fresh_schema: Endpoint, tmp_path: Path, method: str
) -> None:
    parts = ", ".join(f"PARTITION p{n}" for n in range(5))
    desired = f"CREATE TABLE t (id int PRIMARY KEY, v int) PARTITION BY {method} ({parts});\n"
    cycle(fresh_schema, tmp_path, desired)
    text = show_create(fresh_schema, "TABLE", "t")
    assert "PARTITION `p4` ENGINE = InnoDB" in text and "PARTITIONS 5" not in text, text


# --- class 4: views calling stored functions ---------------------------------------------


VIEWS_CALLING = """CREATE TABLE t (id int PRIMARY KEY, d varchar(20));
CREATE VIEW w AS SELECT x FROM v;
CREATE VIEW v AS SELECT f(id) AS x, g() AS y FROM t;
CREATE FUNCTION f(a int) RETURNS int DETERMINISTIC RETURN a + 1;
CREATE FUNCTION g() RETURNS int DETERMINISTIC RETURN (SELECT count(*) FROM t);
"""


def test_views_calling_functions_are_created_after_them(
    fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """The file defines the views first (the loader retries them); the plan orders them."""
    cycle(fresh_schema, tmp_path, VIEWS_CALLING)
    with connect(fresh_schema) as c:
        assert c.scalar("SELECT x FROM w") is None
        c.execute("INSERT INTO t VALUES (1, 'a')")
        assert c.scalar("SELECT x FROM w") == 2


def test_changed_view_calling_an_unchanged_function(fresh_schema: Endpoint, tmp_path: Path) -> None:
    """The verification copy holds only what the plan touches: the called function too."""
    with connect(fresh_schema) as c:
        load(
            c,
            VIEWS_CALLING.replace("CREATE VIEW w AS SELECT x FROM v;\n", "").replace(
                "CREATE VIEW v AS SELECT f(id) AS x, g() AS y FROM t;\n", ""
            ),
        )
        c.execute("CREATE VIEW v AS SELECT f(id) AS x, g() AS y FROM t")
    cycle(
        fresh_schema,
        tmp_path,
        VIEWS_CALLING.replace("f(id) AS x", "f(id) + 1 AS x"),
    )
    with connect(fresh_schema) as c:
        c.execute("INSERT INTO t VALUES (1, 'a')")
        assert c.scalar("SELECT x FROM w") == 3


def test_dump_of_views_calling_functions_loads_back(fresh_schema: Endpoint, tmp_path: Path) -> None:
    cycle(fresh_schema, tmp_path, VIEWS_CALLING)
    out = tmp_path / "dump.sql"
    r = run_cli("dump", url(fresh_schema), "-o", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert text.index("FUNCTION `f`") < text.index("VIEW `v`")


# --- class 2: comments in bodies; the user's own text ------------------------------------


BODIES = """CREATE TABLE t (id int PRIMARY KEY, d varchar(20), n int DEFAULT 0);
DELIMITER ;;
create trigger t_bi before update on t for each row /* keep d */ begin
  -- a comment with a quote ' in it
  set new.d = concat(new.d, ' -- not a comment \U0001f4a9');  # trailing
  SET new.n = new.n + 1;
end;;
CREATE PROCEDURE pr(IN a int) COMMENT 'p'
BEGIN
  /* block
     comment */
  SELECT a + 1 AS x; -- done
END;;
CREATE FUNCTION fn(a int) RETURNS int DETERMINISTIC
RETURN a /* plus */ + 1;;
CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DISABLE DO
  DELETE FROM t WHERE id < 0; -- tidy
;;
DELIMITER ;
"""


def _client_load(ep: Endpoint, sql: str) -> None:
    """Load ``sql`` with the mariadb client, which strips comments from bodies."""
    import shutil
    import subprocess

    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        pytest.skip("no mariadb/mysql client")
    subprocess.run(
        [
            client,
            "-h127.0.0.1",
            f"-P{ep.port}",
            "-uroot",
            "--default-character-set=utf8mb4",
            ep.schema,
        ],
        input=sql,
        text=True,
        check=True,
    )


def test_bodies_built_by_the_client_match_their_file(
    fresh_schema: Endpoint, tmp_path: Path
) -> None:
    _client_load(fresh_schema, BODIES)
    assert "keep d" not in show_create(fresh_schema, "TRIGGER", "t_bi", 2)  # the client stripped it
    f = tmp_path / "desired.sql"
    f.write_text(BODIES, encoding="utf-8")
    r = run_cli("plan", "--to", url(fresh_schema), "--desired", str(f), "--check", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_real_body_change_is_still_planned(fresh_schema: Endpoint, tmp_path: Path) -> None:
    _client_load(fresh_schema, BODIES)
    cycle(fresh_schema, tmp_path, BODIES.replace("new.n + 1", "new.n + 2"))
    assert "new.n + 2" in show_create(fresh_schema, "TRIGGER", "t_bi", 2)


def test_triggers_are_created_from_the_users_text(fresh_schema: Endpoint, tmp_path: Path) -> None:
    cycle(fresh_schema, tmp_path, BODIES)
    text = show_create(fresh_schema, "TRIGGER", "t_bi", 2)
    assert "trigger t_bi before update on t for each row /* keep d */ begin" in text, text
    assert "\U0001f4a9" in text
    # Changed in place, with the user's spelling kept.
    changed = BODIES.replace("new.n + 1", "new.n + 3")
    cycle(fresh_schema, tmp_path, changed)
    text = show_create(fresh_schema, "TRIGGER", "t_bi", 2)
    assert "before update on t" in text and "new.n + 3" in text, text


# --- class 3: DEFINER --------------------------------------------------------------------


DEFINED = """CREATE TABLE t (id int PRIMARY KEY, n int DEFAULT 0);
CREATE DEFINER=`app`@`localhost` SQL SECURITY DEFINER VIEW v AS SELECT id FROM t;
CREATE DEFINER=app@localhost TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW SET NEW.n = 1;
CREATE DEFINER='app'@'localhost' PROCEDURE pr() SQL SECURITY DEFINER SELECT 1;
CREATE DEFINER=`app`@`localhost` EVENT ev ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM t;
CREATE VIEW plain AS SELECT n FROM t;
"""


def _definers(ep: Endpoint) -> dict[str, str]:
    with connect(ep) as c:
        rows = c.query(
            "SELECT TABLE_NAME, DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s "
            "UNION ALL SELECT TRIGGER_NAME, DEFINER FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = %s UNION ALL SELECT ROUTINE_NAME, DEFINER "
            "FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s UNION ALL "
            "SELECT EVENT_NAME, DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s",
            (ep.schema,) * 4,
        )
    return {str(n): str(d) for n, d in rows}


@pytest.fixture
def app_account(fresh_schema: Endpoint) -> Endpoint:
    with connect(fresh_schema) as c:
        c.execute("CREATE USER IF NOT EXISTS 'app'@'localhost'")
        c.execute("CREATE USER IF NOT EXISTS 'other'@'localhost'")
    return fresh_schema


def _me(ep: Endpoint) -> str:
    with connect(ep) as c:
        return str(c.scalar("SELECT CURRENT_USER()"))


def test_definer_is_kept_and_compared(app_account: Endpoint, tmp_path: Path) -> None:
    ep = app_account
    cycle(ep, tmp_path, DEFINED)
    got = _definers(ep)
    assert {k: got[k] for k in ("v", "t_bi", "pr", "ev")} == dict.fromkeys(
        ("v", "t_bi", "pr", "ev"), "app@localhost"
    )
    assert got["plain"] == _me(ep)  # no DEFINER stated: the applying user
    # Another definer on the target is a difference to plan (and put right).
    with connect(ep) as c:
        c.execute("CREATE OR REPLACE DEFINER=other@localhost VIEW v AS SELECT id FROM t")
        c.execute("ALTER DEFINER=other@localhost EVENT ev DISABLE")
    f = tmp_path / "desired.sql"
    r = run_cli("plan", "--to", url(ep), "--desired", str(f), cwd=tmp_path)
    assert "DEFINER=`app`@`localhost`" in r.stdout and "VIEW `v`" in r.stdout, r.stdout
    cycle(ep, tmp_path, DEFINED)
    assert _definers(ep)["v"] == "app@localhost" and _definers(ep)["ev"] == "app@localhost"


@pytest.mark.parametrize("mode", ["ignore", "current"])
def test_definer_setting(app_account: Endpoint, tmp_path: Path, mode: str) -> None:
    ep = app_account
    (tmp_path / "myshift.toml").write_text(f'definer = "{mode}"\n')
    with connect(ep) as c:
        c.execute("CREATE TABLE t (id int PRIMARY KEY, n int DEFAULT 0)")
        c.execute("CREATE DEFINER=other@localhost VIEW v AS SELECT id FROM t")
    desired = DEFINED
    out = cycle(ep, tmp_path, desired)
    got = _definers(ep)
    if mode == "ignore":
        assert got["v"] == "other@localhost"  # not compared: left alone
        assert got["t_bi"] == _me(ep)  # not sent: created as the applying user
    else:
        assert set(got.values()) == {_me(ep)}, (got, out)


def test_definer_the_applying_user_may_not_set(app_account: Endpoint, tmp_path: Path) -> None:
    ep = app_account
    with connect(ep) as c:
        c.execute("CREATE USER IF NOT EXISTS 'mig'@'%' IDENTIFIED BY 'pw-xyz'")
        c.execute("GRANT ALL ON *.* TO 'mig'@'%'")
        c.execute("REVOKE SUPER, SET USER ON *.* FROM 'mig'@'%'")
    mig = Endpoint(port=ep.port, user="mig", schema=ep.schema)
    f = tmp_path / "desired.sql"
    f.write_text(DEFINED)
    r = run_cli(
        "apply",
        "--to",
        url(mig),
        "--desired",
        str(f),
        "--yes",
        cwd=tmp_path,
        env={"MYSQL_PWD": "pw-xyz"},
    )
    assert r.returncode != 0
    assert "SET USER" in r.stderr and 'definer = "current"' in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_definer_setting_is_checked(tmp_path: Path) -> None:
    from myshift.config.settings import load_settings
    from myshift.errors import UsageError

    (tmp_path / "myshift.toml").write_text('definer = "mine"\n')
    with pytest.raises(UsageError, match="keep"):
        load_settings(tmp_path)
    (tmp_path / "myshift.toml").write_text('definer = "current"\n')
    assert load_settings(tmp_path).definer == "current"
    elsewhere = tmp_path.parent / (tmp_path.name + "-elsewhere")  # no myshift.toml above it
    elsewhere.mkdir()
    assert load_settings(elsewhere).definer == "keep"
