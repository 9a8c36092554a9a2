"""Issue 13, what a new user meets first: no implicit endpoint, config discovery,
mysqldef habits, help texts, `dump -o`, `history ID`, `rehearse --run` clients."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import click
import pytest

from clitools import run_cli
from conftest import endpoint_of
from myshift.cli import cli
from myshift.db.connect import Conn, Endpoint, connect
from myshift.db.server import LocalServer
from myshift.workflows.plan import PlanOptions, build_planfile


def url(ep: Endpoint) -> str:
    return f"mysql://root:@{ep.host}:{ep.port}/{ep.schema}"


def tables(ep: Endpoint) -> set[str]:
    with connect(ep) as c:
        return {r[0] for r in c.query("SHOW TABLES")}


# --------------------------------------------------------------------------- 1: no implicit target


@pytest.mark.parametrize(
    ("args", "expected", "option"),
    [
        (("history", "--to", "prod"), r"'prod' is not a known environment", "--to"),
        (("trash", "list"), r"No target database was given", "--to"),
        (("rollback", "--plan-only"), r"No target database was given", "--to"),
        # dump has no --to: it reads the database --from names.
        (("dump",), r"No database was given \(the database to dump, --from\)", "--from"),
        (("plan", "--desired", "x.sql"), r"No target database was given", "--to"),
    ],
)
def test_no_config_no_target_is_an_error_not_localhost(
    tmp_path: Path, args: tuple[str, ...], expected: str, option: str
) -> None:
    """Before: `history --to prod` here said "No applies recorded." about 127.0.0.1:3306."""
    r = run_cli(*args, cwd=tmp_path)
    assert r.returncode == 3, r.stdout + r.stderr
    assert re.search(expected, r.stderr), r.stderr
    assert "no myshift.toml was found in" in r.stderr, r.stderr
    assert f"Give {option} NAME" in r.stderr and f"{option} mysql://" in r.stderr, r.stderr
    assert "No applies recorded" not in r.stdout and "trash is empty" not in r.stdout


def test_config_is_found_upwards_chosen_and_named(fresh_schema: Endpoint, tmp_path: Path) -> None:
    project = tmp_path / "project"
    deep = project / "migrations" / "2026"
    deep.mkdir(parents=True)
    toml = project / "myshift.toml"
    toml.write_text(
        f'[env.dev]\nhost = "127.0.0.1"\nport = {fresh_schema.port}\nuser = "root"\n'
        f'schema = "{fresh_schema.schema}"\n'
    )
    r = run_cli("history", "--to", "dev", cwd=deep, env={"MYSQL_PWD": ""})
    assert r.returncode == 0, r.stderr
    assert f"myshift: config {toml}" in r.stderr.splitlines()
    assert "No applies recorded" in r.stdout

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = run_cli("history", "--to", "dev", "--config", str(toml), cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    r = run_cli("--config", str(toml), "trash", "list", "--to", "dev", cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    r = run_cli("history", "--to", "dev", cwd=elsewhere, env={"MYSHIFT_CONFIG": str(toml)})
    assert r.returncode == 0 and f"config {toml}" in r.stderr, r.stderr
    r = run_cli("history", "--to", "dev", "--config", str(tmp_path / "nope.toml"), cwd=deep)
    assert r.returncode == 3 and "nope.toml given by --config does not exist" in r.stderr


# --------------------------------------------------------------------------- 3: habits


def test_p_with_a_value_says_p_takes_none(tmp_path: Path) -> None:
    r = run_cli("apply", "-h", "127.0.0.1", "-u", "root", "-p", "secret", "shop", cwd=tmp_path)
    assert r.returncode == 3
    assert "-p takes no value" in r.stderr and "MYSQL_PWD" in r.stderr, r.stderr
    assert "unexpected extra argument" not in r.stderr


@pytest.mark.parametrize("with_config", [False, True])
def test_atlas_order_a_file_as_to_says_which_side_is_which(
    tmp_path: Path, with_config: bool
) -> None:
    """Atlas users write --from CURRENT --to DESIRED: a SQL file given as --to is
    named as the mistake, not as an unknown environment or a missing server."""
    (tmp_path / "schema.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    if with_config:
        (tmp_path / "myshift.toml").write_text('[env.prod]\nhost = "127.0.0.1"\n')
    r = run_cli("plan", "--from", "prod", "--to", "schema.sql", cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    assert "'schema.sql' is a file, not a database: --to names the database to change" in (r.stderr)
    assert "--desired FILE" in r.stderr and "Unknown environment" not in r.stderr
    r = run_cli("dump", "--from", "schema.sql", cwd=tmp_path)
    assert r.returncode == 3 and "--from names the database to dump" in r.stderr, r.stderr


def test_dry_run_and_enable_drop(fresh_schema: Endpoint, conn: Conn, tmp_path: Path) -> None:
    conn.execute("CREATE TABLE keep_me (id int PRIMARY KEY)")
    conn.execute("CREATE TABLE old_stuff (id int PRIMARY KEY)")
    desired = tmp_path / "schema.sql"
    desired.write_text("CREATE TABLE keep_me (id int PRIMARY KEY, note varchar(20));\n")
    args = ("--to", url(fresh_schema), "--desired", str(desired), "--enable-drop")
    r = run_cli("apply", "--dry-run", *args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "DROP TABLE `old_stuff`" in r.stdout and "ADD COLUMN `note`" in r.stdout
    assert tables(fresh_schema) == {"keep_me", "old_stuff"}  # a dry run changes nothing
    r = run_cli("plan", "--dry-run", "--format", "human", *args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # Each side on its own (wrapped) comment lines: the --to side first.
    lines = r.stdout.splitlines()
    into = next(i for i, line in enumerate(lines) if "schema you want (--desired)" in line)
    to_side, desired_side = lines[:into], " ".join(lines[into : into + 2])
    assert f"mysql://root@{fresh_schema.host}:{fresh_schema.port}/" in " ".join(to_side)
    assert "database to change (--to)" in to_side[0]
    assert str(desired) in desired_side
    r = run_cli("apply", "--yes", *args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert tables(fresh_schema) == {"keep_me"}


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            out += _commands(cmd, f"{prefix}{name} ")
        else:
            out.append((prefix + name, cmd))
    return out


def test_every_option_has_help_and_names_its_side() -> None:
    missing = []
    for name, cmd in _commands(cli):
        for p in cmd.params:
            if isinstance(p, click.Option) and not p.help:
                missing.append(f"{name} {p.opts[0]}")
            changes = name in ("plan", "apply", "rehearse", "drift", "rollback")
            if isinstance(p, click.Option) and "--to" in p.opts and changes:
                assert "database to change" in (p.help or ""), name
            if isinstance(p, click.Option) and "--desired" in p.opts:
                assert "schema you want" in (p.help or ""), name
            if isinstance(p, click.Option) and "--workspace" in p.opts:
                # The default is a schema on the target's server, not a local one.
                assert "temporary schema on the target's own server, the default" in (
                    p.help or ""
                ), name
            if isinstance(p, click.Option) and "--host" in p.opts:
                role = "dump" if name == "dump" else "change"
                assert f"database to {role}" in (p.help or ""), name
    assert missing == []


# --------------------------------------------------------------------------- 6: dump, history


def test_dump_to_a_file_says_what_it_wrote(
    fresh_schema: Endpoint, conn: Conn, tmp_path: Path
) -> None:
    conn.execute("CREATE TABLE a (id int PRIMARY KEY)")
    conn.execute("CREATE VIEW v AS SELECT id FROM a")
    out = tmp_path / "schema.sql"
    r = run_cli("dump", "--from", url(fresh_schema), "-o", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert f"Wrote {fresh_schema.schema} (1 table, 1 view, 0 routines" in r.stderr
    assert f"to {out}." in r.stderr and out.read_text().count("CREATE") == 2


def test_history_detail_shows_notes_readably(
    fresh_schema: Endpoint, conn: Conn, tmp_path: Path
) -> None:
    conn.execute("CREATE TABLE a (id int PRIMARY KEY)")
    desired = tmp_path / "s.sql"
    desired.write_text("CREATE TABLE a (id int PRIMARY KEY, b int);\n")
    to = ("--to", url(fresh_schema))
    r = run_cli("apply", "--yes", *to, "--desired", str(desired), "--keep-data", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    listing = run_cli("history", *to, cwd=tmp_path)
    apply_id = re.search(r"^(\d+)\s", listing.stdout, re.MULTILINE)
    assert apply_id, listing.stdout
    r = run_cli("history", apply_id.group(1), *to, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    notes = r.stdout.split("Notes:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert notes and all(line.startswith("  ") for line in notes), r.stdout
    assert any(line.strip().startswith("touched:") for line in notes), notes
    assert '{"' not in r.stdout  # no raw JSON


# --------------------------------------------------------------------------- 7: rehearse --run


def test_rehearse_run_gets_a_defaults_file_the_clients_read(
    fresh_schema: Endpoint, conn: Conn, server: LocalServer, server2: LocalServer, tmp_path: Path
) -> None:
    conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
    # A sandbox user with a password: the file must carry it (quoted) for the clients.
    user, pw = f"run_{secrets.token_hex(3)}", 'p"w#' + secrets.token_hex(4)
    with connect(endpoint_of(server2)) as admin:
        admin.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (pw,))
        admin.execute(f"GRANT ALL ON *.* TO '{user}'@'%'")
    desired = tmp_path / "d.sql"
    desired.write_text("CREATE TABLE t (id int PRIMARY KEY, n int);")
    plan = tmp_path / "plan.json"
    build_planfile(fresh_schema, str(desired), PlanOptions()).write(plan)
    seen = tmp_path / "seen.txt"
    # The user's ~/.my.cnf names production: the bare clients must still reach the
    # sandbox (MariaDB's read ~/.my.cnf after $MYSQL_HOME/my.cnf, and its host won).
    home = tmp_path / "home"
    home.mkdir()
    (home / ".my.cnf").write_text(
        f"[client]\nhost=127.0.0.1\nport={server.port}\nuser=root\npassword=\n"
        f"[mysql]\ndatabase={fresh_schema.schema}\n"
    )
    cmd = (
        f'(mariadb -N -e "SELECT DATABASE(), CURRENT_USER()" && '
        f'mysql --defaults-file="$MYSQL_DEFAULTS_FILE" -N -e "SELECT COUNT(*) FROM t" && '
        f'stat -c %a "$MYSQL_DEFAULTS_FILE" && echo "$MYSQL_DEFAULTS_FILE" && '
        f'mysql -N -e "SELECT @@port" && mariadb -N -e "SELECT CURRENT_USER()") > {seen}'
    )
    sandbox = f"server:mysql://{user}:{quote_url(pw)}@127.0.0.1:{server2.port}/"
    try:
        r = run_cli(
            "rehearse",
            "--plan",
            str(plan),
            "--to",
            url(fresh_schema),
            "--sandbox",
            sandbox,
            "--data",
            "none",
            "--run",
            cmd,
            cwd=tmp_path,
            env={"HOME": str(home)},
        )
    finally:
        with connect(endpoint_of(server2)) as admin:
            admin.execute(f"DROP USER IF EXISTS '{user}'@'%'")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = seen.read_text().splitlines()
    db, who = lines[0].split("\t")
    assert db != "NULL" and who.startswith(f"{user}@"), lines
    assert lines[1] == "0" and lines[2] == "600", lines
    assert not Path(lines[3]).exists() and not Path(lines[3]).parent.exists()
    assert lines[4] == str(server2.port) and lines[5].startswith(f"{user}@"), lines


def quote_url(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
