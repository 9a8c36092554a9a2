"""Passwords from AWS (issue 14): Secrets Manager (password_secret) and RDS IAM tokens
(auth = "iam"), against a local moto server and real local mariadbd servers (one with TLS).
No secret may appear in any output, file or history row."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from awsiam import iam_enforced, limited_user
from clitools import run_cli
from myshift.cloud.credentials import iam_endpoint
from myshift.config.settings import AwsSettings, EnvConfig, Settings
from myshift.db.connect import Endpoint, FreshPassword, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.errors import ConnectionFailed, UsageError
from myshift.exitcodes import ExitCode
from myshift.workflows.reach import Reach
from tlsfiles import self_signed

SECRET = "Sm-s3cret-only-in-moto-7Qx"
RDS_HOST = "prod.abcdefghij.us-east-1.rds.amazonaws.com"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A mariadbd that speaks TLS (a throwaway self-signed certificate)."""
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    srv = LocalServer.start(extra_args=(f"--ssl-cert={cert}", f"--ssl-key={key}"), server_id=7)
    try:
        yield srv
    finally:
        srv.stop()


def root(srv: LocalServer) -> Endpoint:
    return Endpoint(host=srv.host, port=srv.port, user="root", password="")


def make_user(srv: LocalServer, user: str, password: str, tls: bool = False) -> None:
    with connect(root(srv)) as c:
        c.execute(f"DROP USER IF EXISTS {quote_ident(user)}@'%'")
        require = " REQUIRE SSL" if tls else ""
        c.execute(f"CREATE USER {quote_ident(user)}@'%%' IDENTIFIED BY %s{require}", (password,))
        c.execute(f"GRANT ALL ON *.* TO {quote_ident(user)}@'%'")


def assert_no_secret(*texts: str, secret: str = SECRET) -> None:
    for text in texts:
        assert secret not in text


# Parts of every RDS IAM token (a presigned URL): none may show anywhere.
TOKEN_MARKERS = ("X-Amz-Signature", "Action=connect", "X-Amz-Credential")


class ArgvWatch:
    """Samples every process's argv (what `ps` shows) for ``needles`` while it runs."""

    def __init__(self, needles: tuple[str, ...]) -> None:
        self.needles = [n.encode() for n in needles]
        self.hits: list[str] = []
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ArgvWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    argv = cmdline.read_bytes()
                except OSError:
                    continue
                self.hits += [
                    f"{cmdline.parent.name}: {argv[:200]!r}" for n in self.needles if n in argv
                ]
            self.samples += 1
            self._stop.wait(0.05)


# ----------------------------------------------------------------------------- Secrets Manager


def test_secret_password_logs_in_and_is_never_written(
    moto_endpoint: str, server: LocalServer, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    make_user(server, "app_plain", SECRET)
    boto3.client("secretsmanager").create_secret(Name="prod/db", SecretString=SECRET)
    (tmp_path / "myshift.toml").write_text(
        f'[env.prod]\nhost = "127.0.0.1"\nport = {server.port}\nuser = "app_plain"\n'
        f'schema = "{fresh_schema.schema}"\npassword_secret = "prod/db"\n'
    )
    (tmp_path / "want.sql").write_text("CREATE TABLE t (id INT PRIMARY KEY, note TEXT);\n")
    args = ("apply", "--to", "prod", "--desired", "want.sql", "--yes")
    res = run_cli(*args, cwd=tmp_path, timeout=120)
    assert res.returncode == 0, res.stderr
    history: list[object] = []
    with connect(fresh_schema) as c:
        assert c.query(f"SHOW TABLES FROM {quote_ident(fresh_schema.schema)}") == [("t",)]
        for (table,) in c.query("SHOW TABLES FROM _myshift"):
            history += c.query(f"SELECT * FROM _myshift.{quote_ident(table)}")
    assert any(fresh_schema.schema in str(row) for row in history)
    hist = run_cli("history", "--to", "prod", "1", cwd=tmp_path, timeout=60)
    assert hist.returncode == 0, hist.stderr
    files = [p.read_bytes().decode(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    assert_no_secret(res.stdout, res.stderr, hist.stdout, hist.stderr, str(history), *files, *args)


def test_rds_managed_json_secret_gives_the_user_when_the_env_names_none(
    moto_endpoint: str, server: LocalServer
) -> None:
    make_user(server, "app_json", SECRET)
    body = {"username": "app_json", "password": SECRET, "engine": "mysql", "port": 3306}
    boto3.client("secretsmanager").create_secret(Name="rds!db-1", SecretString=json.dumps(body))
    env = EnvConfig(name="prod", password_secret="rds!db-1")
    settings = Settings(environments={"prod": env})
    start = Endpoint(host=server.host, port=server.port, user="someone", env_name="prod")
    with Reach(settings) as reach:
        ep = reach.endpoint(start)
    assert ep.user == "app_json" and SECRET not in repr(ep) and SECRET not in str(ep)
    with connect(ep) as c:
        assert str(c.scalar("SELECT CURRENT_USER()")).startswith("app_json@")
    # An environment that names its user keeps it (the secret's password, its user).
    named = Settings(
        environments={"prod": EnvConfig(name="prod", user="x", password_secret="rds!db-1")}
    )
    with Reach(named) as reach:
        assert reach.endpoint(start).user == "someone"


def test_bad_and_missing_secrets_are_one_sentence_with_the_fix(moto_endpoint: str) -> None:
    sm = boto3.client("secretsmanager")
    sm.create_secret(Name="no-pw", SecretString=json.dumps({"username": "u", "pass": SECRET}))
    start = Endpoint(host="127.0.0.1", port=3306, user="u", env_name="prod")
    for secret_id, expected in (
        ("no-pw", r'JSON without a "password" string'),
        (
            "absent",
            r"The secret 'absent' of environment 'prod' was not found in us-east-1\. "
            r"Fix password_secret",
        ),
    ):
        settings = Settings(
            environments={"prod": EnvConfig(name="prod", password_secret=secret_id)}
        )
        with pytest.raises(UsageError, match=expected) as caught, Reach(settings) as reach:
            reach.endpoint(start)
        assert SECRET not in str(caught.value)


def test_reading_the_secret_needs_get_secret_value_and_says_so(
    moto_endpoint: str, server: LocalServer, tmp_path: Path
) -> None:
    make_user(server, "app_iam", SECRET)
    boto3.client("secretsmanager").create_secret(Name="prod/app", SecretString=SECRET)
    (tmp_path / "myshift.toml").write_text(
        f'[env.prod]\nhost = "127.0.0.1"\nport = {server.port}\nuser = "app_iam"\n'
        'password_secret = "prod/app"\n'
    )
    allowed = limited_user(["secretsmanager:GetSecretValue"])
    other = limited_user(["secretsmanager:DescribeSecret"])
    with iam_enforced(moto_endpoint):
        ok = run_cli("history", "--to", "prod", cwd=tmp_path, env=allowed, timeout=60)
        denied = run_cli("history", "--to", "prod", cwd=tmp_path, env=other, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert denied.returncode == ExitCode.USAGE, denied.stderr
    assert (
        "AWS refused to read the secret 'prod/app': the caller lacks the IAM permission "
        "secretsmanager:GetSecretValue" in denied.stderr
    )
    assert_no_secret(ok.stdout, ok.stderr, denied.stdout, denied.stderr)


# ----------------------------------------------------------------------------- IAM tokens


def test_iam_token_is_signed_for_the_server_fresh_per_connection_and_hidden(
    moto_endpoint: str,
) -> None:
    env = EnvConfig(name="prod", auth="iam")
    ep = iam_endpoint(AwsSettings(), env, Endpoint(host=RDS_HOST, port=3306, user="iam_user"))
    assert ep.ssl_mode == "REQUIRED" and ep.password is None and ep.fresh_password is not None
    token = ep.login_password()
    assert token.startswith(f"{RDS_HOST}:3306/?")
    for part in ("Action=connect", "DBUser=iam_user", "X-Amz-Expires=900", "X-Amz-Signature="):
        assert part in token
    assert "X-Amz-Credential=testing%2F" in token and "%2Fus-east-1%2Frds-db%2F" in token
    assert token not in repr(ep) and token not in str(ep) and token not in ep.redacted()
    time.sleep(1.1)  # the signature covers the time, to the second
    assert ep.login_password() != token
    with pytest.raises(UsageError, match=r"ssl_mode DISABLED.*Remove ssl_mode"):
        iam_endpoint(AwsSettings(), env, Endpoint(host=RDS_HOST, ssl_mode="DISABLED"))
    both = EnvConfig(name="prod", auth="iam", password_secret="x")
    with pytest.raises(UsageError, match=r"both auth = \"iam\" and password_secret"):
        iam_endpoint(AwsSettings(), both, Endpoint(host=RDS_HOST))


def test_iam_without_credentials_names_the_fix(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it caches what it found before
    with pytest.raises(UsageError, match=r"No AWS credentials were found.*rds-db:connect"):
        iam_endpoint(AwsSettings(), EnvConfig(name="prod", auth="iam"), Endpoint(host=RDS_HOST))


def test_a_fresh_password_is_made_for_each_connection_over_tls(tls_server: LocalServer) -> None:
    make_user(tls_server, "fresh", SECRET, tls=True)
    made: list[int] = []

    def make() -> str:
        made.append(1)
        return SECRET

    ep = Endpoint(
        host=tls_server.host,
        port=tls_server.port,
        user="fresh",
        ssl_mode="REQUIRED",
        fresh_password=FreshPassword(make, "unused"),
    )
    for _ in range(2):
        with connect(ep) as c:
            assert c.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")[0][1]
    assert len(made) == 2
    bad = Endpoint(
        host=tls_server.host,
        port=tls_server.port,
        user="fresh",
        ssl_mode="REQUIRED",
        fresh_password=FreshPassword(lambda: "wrong", "The IAM fix."),
    )
    with pytest.raises(ConnectionFailed, match=r"Access denied for user 'fresh'.*The IAM fix\."):
        connect(bad)


def test_iam_env_logs_in_over_tls_and_never_shows_the_token(
    moto_endpoint: str, tls_server: LocalServer, tmp_path: Path
) -> None:
    # The local server cannot check an AWS signature: the login is refused, but only
    # after TLS was set up and the token sent, and the message says what IAM needs.
    make_user(tls_server, "iam_user", SECRET, tls=True)
    (tmp_path / "myshift.toml").write_text(
        f'[env.rds]\nhost = "127.0.0.1"\nport = {tls_server.port}\nuser = "iam_user"\n'
        'auth = "iam"\n'
    )

    def tls_accepts() -> int:
        with connect(root(tls_server)) as c:
            return int(c.query("SHOW GLOBAL STATUS LIKE 'Ssl_accepts'")[0][1])

    before = tls_accepts()
    with ArgvWatch(TOKEN_MARKERS) as argv:
        res = run_cli("history", "--to", "rds", cwd=tmp_path, timeout=60)
    assert res.returncode == ExitCode.CONNECTION, res.stdout + res.stderr
    assert "Access denied for user 'iam_user'" in res.stderr
    assert "IAM database authentication is enabled" in res.stderr
    assert "rds-db:connect" in res.stderr and "Traceback" not in res.stderr
    assert tls_accepts() > before
    # The token (made, sent over TLS, refused): in no output, no file, no process's argv.
    files = [p.read_bytes().decode(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    for marker in TOKEN_MARKERS:
        assert marker not in res.stdout + res.stderr
        assert not [f for f in files if marker in f]
    assert argv.samples > 0 and argv.hits == []
    (tmp_path / "myshift.toml").write_text(
        (tmp_path / "myshift.toml").read_text() + 'ssl_mode = "DISABLED"\n'
    )
    res = run_cli("history", "--to", "rds", cwd=tmp_path, timeout=60)
    assert res.returncode == ExitCode.USAGE and "only accepts it over TLS" in res.stderr
