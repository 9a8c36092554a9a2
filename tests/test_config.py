"""Endpoint resolution: myshift.toml environments, my.cnf, password sources, TLS checks."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import endpoint_of
from myshift.config import (
    EndpointSpec,
    load_settings,
    read_option_file,
    reject_inline_password,
    resolve_endpoint,
)
from myshift.config.settings import EnvConfig, Settings
from myshift.db.connect import Endpoint, connect
from myshift.db.server import LocalServer, free_port
from myshift.errors import ConnectionFailed, UsageError

TOML = """\
history_schema = "_audit"
lock_wait_timeout = 7
rehearsal_size = "small"

[env.dev]
host = "dev-db.internal"
user = "migrator"
schema = "multi-dev"
password_env = "DEV_DB_PASSWORD"

[env.prod]
host = "prod-db.internal"
user = "migrator"
schema = "multi-prod"
protected = true
ssl_ca = "rds-global-bundle.pem"
ssl_mode = "VERIFY_IDENTITY"
"""


def never_prompt(_msg: str) -> str:
    raise AssertionError("must not prompt")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def project(tmp_path: Path) -> Path:
    p = tmp_path / "proj"
    p.mkdir()
    (p / "myshift.toml").write_text(TOML)
    (p / "rds-global-bundle.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    return p


def resolve(
    spec: EndpointSpec,
    cwd: Path,
    home: Path,
    prompt: object = never_prompt,
    **env: str,
) -> Endpoint:
    environ = {"HOME": str(home), "USER": "alice", **env}
    return resolve_endpoint(spec, cwd=cwd, environ=environ, prompt=prompt)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- settings


def test_settings_top_level_and_relative_paths(project: Path) -> None:
    s = load_settings(project)
    assert s.history_schema == "_audit"
    assert s.lock_wait_timeout == 7
    assert s.extra == {"rehearsal_size": "small"}
    assert s.audit_log == project.resolve() / "myshift-audit.jsonl"
    assert sorted(s.environments) == ["dev", "prod"]
    assert s.environments["prod"].ssl_ca == str(project.resolve() / "rds-global-bundle.pem")
    assert s.environments["prod"].protected is True


def test_settings_defaults_without_file(tmp_path: Path) -> None:
    s = load_settings(tmp_path)
    assert s.path is None
    assert s.history_schema == "_myshift"
    assert s.lock_wait_timeout == 5
    assert s.environments == {}


def test_malformed_toml_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "myshift.toml").write_text('history_schema = "x"\n[env.dev\nhost = 1\n')
    with pytest.raises(UsageError) as err:
        load_settings(tmp_path)
    assert "myshift.toml" in str(err.value)
    assert "line 2" in str(err.value)


def test_unknown_env_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "myshift.toml").write_text('[env.dev]\nhost = "h"\npasword_env = "X"\n')
    with pytest.raises(UsageError, match="pasword_env"):
        load_settings(tmp_path)


def test_wrong_type_is_refused(tmp_path: Path) -> None:
    (tmp_path / "myshift.toml").write_text('[env.dev]\nport = "3306"\n')
    with pytest.raises(UsageError, match=r"env\.dev\.port"):
        load_settings(tmp_path)


@pytest.mark.parametrize("value", [0, -1])
def test_lock_wait_timeout_must_be_positive(tmp_path: Path, value: int) -> None:
    # MariaDB reads 0 or less as "never wait": every contended DDL would fail at once.
    (tmp_path / "myshift.toml").write_text(f"lock_wait_timeout = {value}\n")
    with pytest.raises(UsageError, match="lock_wait_timeout"):
        load_settings(tmp_path)


# --------------------------------------------------------------------------- refs


def test_named_environment(project: Path, home: Path) -> None:
    ep = resolve(EndpointSpec(ref="dev"), project, home, DEV_DB_PASSWORD="s3cret")
    assert (ep.host, ep.port, ep.user, ep.schema) == (
        "dev-db.internal",
        3306,
        "migrator",
        "multi-dev",
    )
    assert ep.password == "s3cret"
    assert ep.env_name == "dev"
    assert ep.protected is False
    assert str(ep) == "dev"


def test_protected_environment_with_tls(project: Path, home: Path) -> None:
    ep = resolve(EndpointSpec(ref="prod"), project, home)
    assert ep.protected is True
    assert ep.ssl_mode == "VERIFY_IDENTITY"
    assert ep.ssl_ca == str(project.resolve() / "rds-global-bundle.pem")
    assert ep.password is None


def test_unknown_environment_names_known_ones(project: Path, home: Path) -> None:
    with pytest.raises(UsageError) as err:
        resolve(EndpointSpec(ref="prdo"), project, home)
    assert "'prdo'" in str(err.value)
    assert "dev, prod" in str(err.value)


def test_settings_name_an_environment_and_their_secret_variables() -> None:
    """What `access --env` and `rehearse` read of the settings (no server)."""
    prod = EnvConfig(name="prod", password_env="PROD_PW")
    settings = Settings(environments={"prod": prod, "dev": EnvConfig(name="dev")})
    assert settings.environment("prod") is prod
    with pytest.raises(UsageError, match=r"Unknown environment 'prdo' \(known: dev, prod\)"):
        settings.environment("prdo")
    assert settings.secret_variables() == ("PROD_PW", None)


def test_seed_invocation_bare_schema(project: Path, home: Path) -> None:
    """`myshift plan -h HOST -P 3306 -u USER -p multi-prod`: -p prompts; multi-prod is a schema."""
    asked: list[str] = []

    def prompt(msg: str) -> str:
        asked.append(msg)
        return "typed"

    spec = EndpointSpec(ref="multi-prod", host="db1", port=3306, user="bob", password_prompt=True)
    ep = resolve(spec, project, home, prompt)
    assert (ep.host, ep.port, ep.user, ep.schema) == ("db1", 3306, "bob", "multi-prod")
    assert ep.password == "typed"
    assert asked == ["Enter password for bob@db1:3306: "]
    assert ep.env_name is None


def test_bare_schema_without_toml_needs_a_server(tmp_path: Path, home: Path) -> None:
    """No implicit endpoint: `shop` alone (no toml, no -h, no my.cnf host) is refused."""
    with pytest.raises(UsageError, match=r"'shop' is not a known environment.*-h HOST"):
        resolve(EndpointSpec(ref="shop"), tmp_path, home)
    with pytest.raises(UsageError, match=r"No target database was given.*--to NAME"):
        resolve(EndpointSpec(), tmp_path, home)
    ep = resolve(EndpointSpec(ref="shop", host="127.0.0.1"), tmp_path, home)
    assert (ep.host, ep.port, ep.user, ep.schema) == ("127.0.0.1", 3306, "alice", "shop")


def test_config_found_upwards_and_chosen_explicitly(project: Path, tmp_path: Path) -> None:
    sub = project / "migrations" / "v2"
    sub.mkdir(parents=True)
    assert load_settings(sub).path == project / "myshift.toml"
    other = tmp_path / "other.toml"
    other.write_text('[env.qa]\nhost = "qa-db"\n')
    assert set(load_settings(sub, environ={"MYSHIFT_CONFIG": str(other)}).environments) == {"qa"}
    chosen = load_settings(sub, environ={"MYSHIFT_CONFIG": "nope"}, explicit=other)
    assert chosen.path == other
    with pytest.raises(UsageError, match=r"MYSHIFT_CONFIG does not exist"):
        load_settings(sub, environ={"MYSHIFT_CONFIG": str(tmp_path / "missing.toml")})


def test_url_ref_and_flags_override(tmp_path: Path, home: Path) -> None:
    ep = resolve(EndpointSpec(ref="mysql://u:p%40ss@h:3307/db"), tmp_path, home)
    assert (ep.host, ep.port, ep.user, ep.password, ep.schema) == ("h", 3307, "u", "p@ss", "db")
    ep = resolve(EndpointSpec(ref="mysql://u@h:3307/db", port=3310, schema="other"), tmp_path, home)
    assert (ep.port, ep.schema) == (3310, "other")


@pytest.mark.parametrize("ref", ["postgres://u@h/db", "http://h/db", "mysql:/h/db"])
def test_url_of_another_scheme_is_refused_not_taken_as_a_schema(
    tmp_path: Path, home: Path, ref: str
) -> None:
    with pytest.raises(UsageError, match="mysql://"):
        resolve(EndpointSpec(ref=ref), tmp_path, home)


def test_flags_override_env(project: Path, home: Path) -> None:
    ep = resolve(
        EndpointSpec(ref="dev", host="replica", user="ro"), project, home, DEV_DB_PASSWORD="x"
    )
    assert (ep.host, ep.user, ep.schema) == ("replica", "ro", "multi-dev")


# --------------------------------------------------------------------------- passwords


def test_password_order(project: Path, home: Path) -> None:
    (home / ".my.cnf").write_text("[client]\npassword=from-cnf\n")
    spec_url = EndpointSpec(ref="mysql://u:from-url@h/db")
    assert resolve(spec_url, project, home, MYSQL_PWD="env").password == "from-url"
    dev = EndpointSpec(ref="dev", password_prompt=True)
    assert resolve(dev, project, home, MYSQL_PWD="pwd", DEV_DB_PASSWORD="d").password == "pwd"
    assert resolve(dev, project, home, DEV_DB_PASSWORD="d").password == "d"
    prod = EndpointSpec(ref="prod", password_prompt=True)
    assert resolve(prod, project, home, lambda _m: "typed").password == "typed"
    assert resolve(EndpointSpec(ref="prod"), project, home).password == "from-cnf"


def test_password_env_unset_is_named(project: Path, home: Path) -> None:
    with pytest.raises(UsageError, match=r"\$DEV_DB_PASSWORD"):
        resolve(EndpointSpec(ref="dev"), project, home)


def test_inline_password_refused() -> None:
    for argv in (["plan", "-pTopSecret9", "db"], ["plan", "--password=TopSecret9"]):
        with pytest.raises(UsageError) as err:
            reject_inline_password(argv)
        assert "TopSecret9" not in str(err.value)
        assert "MYSQL_PWD" in str(err.value)
    reject_inline_password(["plan", "-h", "h", "-P", "3306", "-u", "u", "-p", "multi-prod"])
    reject_inline_password(["plan", "--", "-pnot-an-option"])


def test_password_never_in_repr(project: Path, home: Path) -> None:
    ep = resolve(EndpointSpec(ref="dev"), project, home, DEV_DB_PASSWORD="hunter2-xyz")
    assert ep.password == "hunter2-xyz"
    for text in (repr(ep), str(ep), ep.redacted(), repr(EndpointSpec(ref="dev"))):
        assert "hunter2-xyz" not in text


# --------------------------------------------------------------------------- my.cnf


def test_my_cnf_quoting(tmp_path: Path) -> None:
    cnf = tmp_path / "my.cnf"
    cnf.write_text(
        "!includedir /etc/mysql/conf.d/\n"
        "[client]\n"
        "user = carol\n"
        'password = "p#a ss\\"w"   # a comment\n'
        "port=3307\n"
        "ssl-mode = REQUIRED\n"
        "[mysql]\n"
        "user = ignored\n"
        "[myshift]\n"
        "host = cnf-host\n"
    )
    opts = read_option_file(cnf)
    assert opts["user"] == "carol"
    assert opts["password"] == 'p#a ss"w'
    assert opts["port"] == "3307"
    assert opts["ssl_mode"] == "REQUIRED"
    assert opts["host"] == "cnf-host"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("abc", "abc"),
        ("abc # comment", "abc"),
        ("'a#b'", "a#b"),
        ("a:b%c", "a:b%c"),
        ("a\\sb", "a b"),
        ("'it\\'s'", "it's"),
        ("", ""),
    ],
)
def test_my_cnf_password_values(tmp_path: Path, raw: str, expected: str) -> None:
    cnf = tmp_path / "my.cnf"
    cnf.write_text(f"[client]\npassword={raw}\n")
    assert read_option_file(cnf)["password"] == expected


def test_my_cnf_fills_missing_fields_only(tmp_path: Path, home: Path) -> None:
    (home / ".my.cnf").write_text("[client]\nuser=carol\nhost=cnf-host\nport=3307\n")
    ep = resolve(EndpointSpec(ref="db"), tmp_path, home)
    assert (ep.user, ep.host, ep.port) == ("carol", "cnf-host", 3307)
    ep = resolve(EndpointSpec(ref="db", user="dave"), tmp_path, home)
    assert (ep.user, ep.host) == ("dave", "cnf-host")


def test_env_overrides_my_cnf(project: Path, home: Path) -> None:
    (home / ".my.cnf").write_text("[client]\nuser=carol\nhost=cnf-host\nport=3307\n")
    ep = resolve(EndpointSpec(ref="dev"), project, home, DEV_DB_PASSWORD="x")
    assert (ep.user, ep.host, ep.port) == ("migrator", "dev-db.internal", 3307)


def test_defaults_file_replaces_my_cnf(tmp_path: Path, home: Path) -> None:
    (home / ".my.cnf").write_text("[client]\nuser=carol\n")
    other = tmp_path / "other.cnf"
    other.write_text("[client]\nuser=erin\npassword=pw\nhost=db\n")
    ep = resolve(EndpointSpec(ref="db", defaults_file=other), tmp_path, home)
    assert (ep.user, ep.password) == ("erin", "pw")
    with pytest.raises(UsageError, match=r"missing\.cnf"):
        resolve(EndpointSpec(ref="db", defaults_file=tmp_path / "missing.cnf"), tmp_path, home)


def test_my_cnf_password_without_value_prompts(tmp_path: Path, home: Path) -> None:
    (home / ".my.cnf").write_text("[client]\nhost=db1\npassword\n")
    assert resolve(EndpointSpec(ref="db"), tmp_path, home, lambda _m: "typed").password == "typed"


def test_socket_only_for_localhost(tmp_path: Path, home: Path) -> None:
    (home / ".my.cnf").write_text("[client]\nsocket=/run/mysqld.sock\n")
    assert resolve(EndpointSpec(ref="db"), tmp_path, home).socket == "/run/mysqld.sock"
    assert resolve(EndpointSpec(ref="db", host="remote"), tmp_path, home).socket is None


def test_malformed_my_cnf(tmp_path: Path, home: Path) -> None:
    (home / ".my.cnf").write_text("user=nobody-before-a-section\n")
    with pytest.raises(UsageError, match=r"\.my\.cnf"):
        resolve(EndpointSpec(ref="db"), tmp_path, home)


# --------------------------------------------------------------------------- TLS


def test_ssl_mode_validated(tmp_path: Path, home: Path) -> None:
    with pytest.raises(UsageError, match="VERIFY_IDENTITY"):
        resolve(EndpointSpec(ref="db", host="h", ssl_mode="sometimes"), tmp_path, home)
    assert resolve(
        EndpointSpec(ref="db", host="h", ssl_mode="required"), tmp_path, home
    ).ssl_mode == ("REQUIRED")


def test_ssl_files_must_exist(tmp_path: Path, home: Path) -> None:
    with pytest.raises(UsageError, match=r"nope\.pem"):
        resolve(EndpointSpec(ref="db", host="h", ssl_ca=tmp_path / "nope.pem"), tmp_path, home)
    (tmp_path / "myshift.toml").write_text('[env.x]\nssl_cert = "certs/c.pem"\n')
    with pytest.raises(UsageError, match=r"certs/c\.pem"):
        resolve(EndpointSpec(ref="x"), tmp_path, home)


# --------------------------------------------------------------------------- live


@pytest.fixture
def pw_user(server: LocalServer) -> Iterator[tuple[str, str]]:
    user = f"u_{uuid.uuid4().hex[:8]}"
    password = "Pw-" + uuid.uuid4().hex
    admin = connect(endpoint_of(server))
    admin.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (password,))
    try:
        yield user, password
    finally:
        admin.execute(f"DROP USER '{user}'@'%'")
        admin.close()


def _whoami(ep: Endpoint) -> str:
    with connect(ep) as c:
        return str(c.scalar("SELECT CURRENT_USER()"))


def test_live_password_sources(
    server: LocalServer, pw_user: tuple[str, str], tmp_path: Path, home: Path
) -> None:
    user, password = pw_user
    base = EndpointSpec(host=server.host, port=server.port, user=user)
    expected = f"{user}@%"

    assert _whoami(resolve(base, tmp_path, home, MYSQL_PWD=password)) == expected
    prompted = replace(base, password_prompt=True)
    assert _whoami(resolve(prompted, tmp_path, home, lambda _m: password)) == expected

    (tmp_path / "myshift.toml").write_text(
        f'[env.live]\nhost = "{server.host}"\nport = {server.port}\nuser = "{user}"\n'
        'password_env = "LIVE_PW"\n'
    )
    assert _whoami(resolve(EndpointSpec(ref="live"), tmp_path, home, LIVE_PW=password)) == expected

    (home / ".my.cnf").write_text(f"[client]\nuser={user}\npassword='{password}'\n")
    cnf_only = EndpointSpec(host=server.host, port=server.port)
    assert _whoami(resolve(cnf_only, tmp_path, home)) == expected


def test_live_wrong_password(
    server: LocalServer, pw_user: tuple[str, str], tmp_path: Path, home: Path
) -> None:
    user, _password = pw_user
    ep = resolve(
        EndpointSpec(host=server.host, port=server.port, user=user),
        tmp_path,
        home,
        MYSQL_PWD="wrong-" + uuid.uuid4().hex,
    )
    with pytest.raises(ConnectionFailed) as err:
        connect(ep)
    assert err.value.message == f"Access denied for user {user!r} on {server.host}:{server.port}."
    assert "wrong-" not in str(err.value)


def test_live_unreachable_port(tmp_path: Path, home: Path) -> None:
    port = free_port()
    ep = resolve(EndpointSpec(host="127.0.0.1", port=port, user="x"), tmp_path, home)
    with pytest.raises(
        ConnectionFailed, match=f"Cannot reach the MySQL server at 127.0.0.1:{port}"
    ):
        connect(ep, connect_timeout=2)


def test_every_table_takes_an_integer_as_a_float_and_no_bool_as_an_integer(
    tmp_path: Path,
) -> None:
    """config.tomltypes: the two rules [env.*], [online] and [notify.*] share."""
    from myshift.config.settings import read_settings

    toml = tmp_path / "myshift.toml"
    toml.write_text(
        '[online]\nchunk_time = 1\n[notify.team]\ntype = "slack"\nurl = "https://x"\ntimeout = 3\n'
    )
    s = read_settings(toml)
    assert s.online.chunk_time == 1.0 and isinstance(s.online.chunk_time, float)
    assert s.notify["team"].timeout == 3.0 and isinstance(s.notify["team"].timeout, float)
    for bad, said in (
        ("[env.prod]\nport = true\n", "`env.prod.port` must be an int, not True"),
        ('[notify.m]\ntype = "email"\nsmtp_port = true\n', "`smtp_port` must be an int, not True"),
        ("[online]\nmin_rows = false\n", "`online.min_rows` must be an int, not False"),
    ):
        toml.write_text(bad)
        with pytest.raises(UsageError, match=re.escape(said)):
            read_settings(toml)
