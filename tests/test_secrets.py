"""Issue 9, item 5: production's passwords stay out of sight.

* A password in a ``mysql://`` URL on the command line is readable by every
  local user in ``/proc/<pid>/cmdline``: myshift warns, once, and says where
  the password belongs instead.
* ``rehearse --run CMD`` gives the command the sandbox's connection details
  only: production's ``password_env`` variables and its ``MYSQL_PWD`` are not
  in the command's environment.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clitools import run_cli
from conftest import endpoint_of
from myshift.db.connect import Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.workflows.plan import PlanOptions, build_planfile
from myshift.workflows.validate import child_environment, secret_variables

WARNING = "a password in a mysql:// URL on the command line is readable"


# --------------------------------------------------------------------------- (a) URL password


def test_password_in_a_url_warns_once_and_names_the_alternatives(tmp_path: Path) -> None:
    pw = "s3cret-" + secrets.token_hex(4)
    desired = tmp_path / "d.sql"
    desired.write_text("CREATE TABLE t (id int PRIMARY KEY);")
    # Two URLs with a password, one of them inside server:URL: one warning.
    r = run_cli(
        "rehearse",
        "--plan",
        str(tmp_path / "missing.json"),
        "--to",
        f"mysql://u:{pw}@127.0.0.1:1/db",
        "--sandbox",
        f"server:mysql://v:{pw}@127.0.0.1:2/",
        cwd=tmp_path,
    )
    assert r.stderr.count(WARNING) == 1, r.stderr
    line = next(ln for ln in r.stderr.splitlines() if WARNING in ln)
    assert "MYSQL_PWD" in line and "password_env" in line and "~/.my.cnf" in line
    assert "/proc/<pid>/cmdline" in line
    assert pw not in r.stderr and pw not in r.stdout
    assert "Traceback" not in r.stderr


def test_url_without_password_does_not_warn(tmp_path: Path) -> None:
    desired = tmp_path / "d.sql"
    desired.write_text("CREATE TABLE t (id int PRIMARY KEY);")
    r = run_cli("plan", "--to", "mysql://u@127.0.0.1:1/db", "--desired", str(desired), cwd=tmp_path)
    assert r.returncode != 0  # nothing listens on port 1
    assert WARNING not in r.stderr
    # An empty password (mysql://u:@host) hides nothing either.
    r = run_cli(
        "plan", "--to", "mysql://u:@127.0.0.1:1/db", "--desired", str(desired), cwd=tmp_path
    )
    assert WARNING not in r.stderr


def test_password_in_a_run_command_warns_too(tmp_path: Path) -> None:
    # The --run string is on myshift's command line as well.
    r = run_cli(
        "rehearse",
        "--plan",
        str(tmp_path / "missing.json"),
        "--to",
        "mysql://u@127.0.0.1:1/db",
        "--run",
        "pytest --dsn mysql://app:hunter22@db/x",
        cwd=tmp_path,
    )
    assert r.stderr.count(WARNING) == 1


# --------------------------------------------------------------------------- (b) --run env


def test_child_environment_drops_production_secrets() -> None:
    sandbox = Endpoint(host="127.0.0.1", port=3307, user="root", password="sbx", schema="s")
    base = {
        "PATH": "/usr/bin",
        "PROD_DB_PASSWORD": "prod-pw",
        "DEV_DB_PASSWORD": "dev-pw",
        "MYSQL_PWD": "prod-pw",
        "MYSQL_UNIX_PORT": "/run/prod.sock",
        "MYSHIFT_PLAN_KEY": "team-key",
        "HOME": "/root",
    }
    env = child_environment(sandbox, ["PROD_DB_PASSWORD", "DEV_DB_PASSWORD"], base)
    assert "prod-pw" not in env.values() and "dev-pw" not in env.values()
    assert "team-key" not in env.values()
    assert env["MYSQL_PWD"] == "sbx"
    assert "MYSQL_UNIX_PORT" not in env  # the sandbox has no socket: production's must go
    assert env["PATH"] == "/usr/bin" and env["HOME"] == "/root"
    assert env["MYSHIFT_DSN"] == "mysql://root@127.0.0.1:3307/s"
    assert secret_variables([None, "X"]) >= {"X", "MYSQL_PWD"}


@pytest.fixture
def prod_with_password(server: LocalServer) -> Iterator[tuple[Endpoint, str, str]]:
    """A schema on the session server and a user with a real password."""
    name = f"sec_{time.monotonic_ns() % 10**9}"
    user = f"sec_{secrets.token_hex(3)}"
    pw = "prod-" + secrets.token_hex(8)
    with connect(endpoint_of(server)) as admin:
        admin.execute(f"CREATE DATABASE {quote_ident(name)}")
        admin.execute(f"CREATE TABLE {quote_ident(name)}.t (id int PRIMARY KEY)")
        admin.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (pw,))
        admin.execute(f"GRANT ALL ON *.* TO '{user}'@'%'")
    try:
        yield endpoint_of(server, name), user, pw
    finally:
        with connect(endpoint_of(server)) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
            admin.execute(f"DROP USER IF EXISTS '{user}'@'%'")


@pytest.mark.parametrize("via", ["password_env", "MYSQL_PWD"])
def test_rehearse_run_sees_the_sandbox_not_production(
    prod_with_password: tuple[Endpoint, str, str],
    server2: LocalServer,
    tmp_path: Path,
    via: str,
) -> None:
    prod, user, pw = prod_with_password
    desired = tmp_path / "d.sql"
    desired.write_text("CREATE TABLE t (id int PRIMARY KEY, n int);")
    plan = tmp_path / "plan.json"
    build_planfile(prod, str(desired), PlanOptions()).write(plan)
    (tmp_path / "myshift.toml").write_text(
        f'[env.prod]\nhost = "127.0.0.1"\nport = {prod.port}\nuser = "{user}"\n'
        f'schema = "{prod.schema}"\npassword_env = "PROD_DB_PASSWORD"\n'
        '[env.other]\nhost = "127.0.0.1"\npassword_env = "OTHER_DB_PASSWORD"\n'
    )
    env = {"OTHER_DB_PASSWORD": "other-" + secrets.token_hex(4)}
    env["PROD_DB_PASSWORD" if via == "password_env" else "MYSQL_PWD"] = pw
    if via == "MYSQL_PWD":
        env["PROD_DB_PASSWORD"] = pw  # still named by password_env: withheld too
    dump = tmp_path / "child_env.txt"
    r = run_cli(
        "rehearse",
        "--plan",
        str(plan),
        "--to",
        "prod",
        "--sandbox",
        # root:@ -- an explicit empty password, or MYSQL_PWD would fill it in.
        f"server:mysql://root:@127.0.0.1:{server2.port}/",
        "--data",
        "none",
        "--run",
        f"env > {dump}",
        cwd=tmp_path,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    seen = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    assert pw not in dump.read_text()  # production's password is nowhere in the child
    assert env["OTHER_DB_PASSWORD"] not in dump.read_text()
    assert "PROD_DB_PASSWORD" not in seen and "OTHER_DB_PASSWORD" not in seen
    assert seen["MYSQL_PWD"] == ""  # the sandbox's (root without a password)
    assert seen["MYSQL_TCP_PORT"] == str(server2.port)
    assert seen["MYSHIFT_DSN"].startswith(f"mysql://root@127.0.0.1:{server2.port}/")
