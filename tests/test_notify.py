"""Issue 15, "tell the team": plan, rehearse, apply and rollback notify their channels.

The receivers are real and local: an HTTP server (the Slack-compatible and
the JSON webhook) and an SMTP server (aiosmtpd) speaking STARTTLS with a
throwaway self-signed certificate and a login, both on 127.0.0.1, started
here.  The commands run as a user would run them (``python -m myshift``)
against the session's MariaDB, as a database user with a password; every
message must arrive once, in order, say what/where/who/plan/outcome/link,
and hold none of the secrets the commands knew.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes
from email import policy as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from clitools import MYSHIFT, run_cli
from conftest import endpoint_of
from myshift.config.settings import read_settings
from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.errors import UsageError
from myshift.exitcodes import ExitCode
from tlsfiles import self_signed

DB_PASSWORD = "dbpw-" + secrets.token_hex(6)
SMTP_PASSWORD = "smtppw-" + secrets.token_hex(6)
HOOK_TOKEN = "tok-" + secrets.token_hex(6)
SLACK_PATH = "/services/T0/B0/" + secrets.token_hex(8)  # a Slack URL's path is its secret
SECRETS = (DB_PASSWORD, SMTP_PASSWORD, HOOK_TOKEN, SLACK_PATH)


# --------------------------------------------------------------------------- receivers


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the /slow answer goes to a client that gave up: expected


class Receiver:
    """A local HTTP server recording every POST: (path, headers, JSON body)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], Any]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/slow":
                    time.sleep(3)  # longer than the channel's timeout
                with outer.lock:
                    outer.posts.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def on(self, path: str) -> list[Any]:
        with self.lock:
            return [body for p, _h, body in self.posts if p == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """aiosmtpd on 127.0.0.1: STARTTLS required before AUTH, one user, messages kept."""

    def __init__(self, tmp: Path, *, implicit_tls: bool = False) -> None:
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.cert, key = self_signed(tmp)
        self.mails: list[Any] = []
        self.logins: list[str] = []
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, key)
        outer = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                outer.mails.append(
                    message_from_bytes(envelope.original_content, policy=email_policy.default)
                )
                return "250 OK"

        def authenticator(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = isinstance(data, LoginPassword) and data.password == SMTP_PASSWORD.encode()
            if ok:
                outer.logins.append(data.login.decode())
            return AuthResult(success=ok, handled=False)  # a failure answers 535

        self.port = _free_port()
        tls: dict[str, Any] = (
            {"ssl_context": ctx, "auth_require_tls": False}  # the whole session is TLS
            if implicit_tls
            else {"tls_context": ctx, "require_starttls": True, "auth_require_tls": True}
        )
        self.controller = Controller(
            Handler(),
            hostname="127.0.0.1",
            port=self.port,
            auth_required=True,
            authenticator=authenticator,
            **tls,
        )
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    m = Mailbox(tmp_path)
    try:
        yield m
    finally:
        m.close()


# --------------------------------------------------------------------------- the database


@pytest.fixture
def stage(server: LocalServer) -> Iterator[Endpoint]:
    """A schema with one table, reached as a user with a password (the secret to keep)."""
    name = f"n_{secrets.token_hex(4)}"
    user = f"nu_{secrets.token_hex(3)}"
    admin = connect(endpoint_of(server))
    admin.execute(f"CREATE DATABASE {quote_ident(name)}")
    admin.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{DB_PASSWORD}'")
    admin.execute(f"GRANT ALL ON *.* TO '{user}'@'%' WITH GRANT OPTION")
    ep = Endpoint(host=server.host, port=server.port, user=user, password=DB_PASSWORD, schema=name)
    with connect(ep) as c:
        c.execute("CREATE TABLE t (id INT PRIMARY KEY, a INT, note VARCHAR(20))")
        c.execute("INSERT INTO t VALUES (1, 1, 'x'), (2, 1, 'y'), (3, 3, 'z')")
    try:
        yield ep
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
        admin.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        admin.close()


def write_config(tmp: Path, ep: Endpoint, channels: dict[str, str]) -> None:
    tables = "\n".join(f"[notify.{name}]\n{body}\n" for name, body in channels.items())
    (tmp / "myshift.toml").write_text(
        f"""
[env.stage]
host = "{ep.host}"
port = {ep.port}
user = "{ep.user}"
schema = "{ep.schema}"
password_env = "NOTIFY_DB_PW"
notify = [{", ".join(json.dumps(n) for n in channels)}]

[online]
min_rows = 1000000000
min_bytes = 1000000000000

{tables}
"""
    )


def hook(receiver: Receiver) -> str:
    return f'type = "webhook"\nurl = "http://127.0.0.1:{receiver.port}/hook"'


def cli_env(receiver: Receiver | None = None) -> dict[str, str]:
    env = {"NOTIFY_DB_PW": DB_PASSWORD, "SMTP_PW": SMTP_PASSWORD, "HOOK_TOKEN": HOOK_TOKEN}
    if receiver is not None:
        env["SLACK_URL"] = f"http://127.0.0.1:{receiver.port}{SLACK_PATH}"
    return env


def myshift(tmp: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    r = run_cli(*args, cwd=tmp, env=env)
    for secret in SECRETS:
        assert secret not in r.stdout and secret not in r.stderr, args
    return r


def all_channels(receiver: Receiver, mailbox: Mailbox) -> dict[str, str]:
    return {
        "team-slack": 'type = "slack"\nurl_env = "SLACK_URL"',
        "audit-hook": (
            f'type = "webhook"\nurl = "http://127.0.0.1:{receiver.port}/hook"\n'
            'token_env = "HOOK_TOKEN"'
        ),
        "dba-mail": (
            f'type = "email"\nsmtp_host = "127.0.0.1"\nsmtp_port = {mailbox.port}\n'
            f'tls = "starttls"\nca_file = "{mailbox.cert}"\nfrom = "myshift@example.test"\n'
            'to = ["dba@example.test"]\nuser = "myshift"\npassword_env = "SMTP_PW"\ntimeout = 5'
        ),
    }


# --------------------------------------------------------------------------- the full round


def test_every_event_arrives_once_in_order_without_a_secret(
    stage: Endpoint, tmp_path: Path, receiver: Receiver, mailbox: Mailbox
) -> None:
    write_config(tmp_path, stage, all_channels(receiver, mailbox))
    env = cli_env(receiver)
    (tmp_path / "desired.sql").write_text(
        "CREATE TABLE t (id INT PRIMARY KEY, a INT, note VARCHAR(20), b INT, KEY ix_a (a));"
    )
    plan = tmp_path / "plan.json"
    r = myshift(tmp_path, "plan", "--to", "stage", "--desired", "desired.sql", "-o", "plan.json",
                env=env)  # fmt: skip
    assert r.returncode in (0, ExitCode.CHANGES_PENDING), r.stderr
    r = myshift(tmp_path, "rehearse", "--plan", "plan.json", "--to", "stage", "--sandbox", "local",
                "--data", "none", "--report-md", "rehearsal.md", env=env)  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = myshift(tmp_path, "apply", "--plan", "plan.json", "--to", "stage", "--yes", env=env)
    assert r.returncode == 0, r.stderr
    r = myshift(tmp_path, "rollback", "--to", "stage", "--yes", env=env)
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr

    kinds = [
        "plan.created",
        "rehearsal.passed",
        "apply.started",
        "apply.finished",
        "rollback.started",
        "rollback.finished",
    ]
    hooks = receiver.on("/hook")
    assert [h["kind"] for h in hooks] == kinds
    assert len({h["id"] for h in hooks}) == len(kinds)  # once each
    slack = receiver.on(SLACK_PATH)
    assert [s["text"].splitlines()[0] for s in slack] == [
        f"myshift: {k.replace('.', ' ')} on stage ({h['outcome']})"
        for k, h in zip(kinds, hooks, strict=True)
    ]
    assert all(set(s) == {"text"} for s in slack)
    assert [m["X-Myshift-Event"] for m in mailbox.mails] == kinds
    assert mailbox.logins == ["myshift"] * len(kinds)

    plan_hash = json.loads(plan.read_text())["plan_hash"]
    server = f"mysql://{stage.user}@{stage.host}:{stage.port}/{stage.schema}"
    who = getpass.getuser()
    assert [h["outcome"] for h in hooks] == ["created", "passed", "started", "ok", "started", "ok"]
    for h in hooks:
        assert h["environment"] == "stage" and h["server"] == server
        assert h["who"].startswith(who + "@")
    for h in hooks[:4]:
        assert h["plan_hash"] == plan_hash
    assert hooks[0]["link"] == str(plan.resolve())
    assert hooks[1]["link"] == str((tmp_path / "rehearsal.md").resolve())
    assert hooks[2]["link"] == hooks[3]["link"] == str(plan.resolve())
    apply_id = hooks[3]["apply_id"]
    assert isinstance(apply_id, int)
    assert hooks[3]["details"]["undo"] == f"myshift rollback {apply_id} --to stage"
    assert f"undoes apply #{apply_id}" in hooks[5]["summary"]
    # The counts read as a sentence: a plural only for more than one, the
    # destructive ones in brackets (not "1 statement(s), 1 destructive to schema").
    schema = stage.schema
    assert [h["summary"] for h in hooks if h["kind"] != "rehearsal.passed"] == [
        f"Plan of schema {schema}: 1 statement to run.",
        f"Applying 1 statement to schema {schema}.",
        f"Applied 1 statement to schema {schema}.",
        f"Applying 1 statement (1 destructive) to schema {schema} (undoes apply #{apply_id}).",
        f"Applied 1 statement (1 destructive) to schema {schema} (undoes apply #{apply_id}).",
    ]
    assert hooks[5]["link"] == f"myshift history {hooks[5]['apply_id']} --to stage"
    # The webhook's own secret travels only in its header.
    headers = [h for p, h, _b in receiver.posts if p == "/hook"]
    assert all(h["Authorization"] == f"Bearer {HOOK_TOKEN}" for h in headers)

    # Every message, in every channel: the fields, and no secret.
    texts = [s["text"] for s in slack] + [m.get_content() for m in mailbox.mails]
    texts += [json.dumps(h) for h in hooks] + [m["Subject"] for m in mailbox.mails]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    for text in [s["text"] for s in slack] + [m.get_content() for m in mailbox.mails]:
        assert f"where: stage, {server}" in text
        assert f"who: {who}@" in text
    assert f"plan: {plan_hash}" in slack[2]["text"]
    assert f"report: {plan.resolve()}" in mailbox.mails[3].get_content()
    assert mailbox.mails[2]["Subject"] == "[myshift] stage: apply started (started)"


def test_failed_rehearsal_and_apply_tell_the_team_why(
    stage: Endpoint, tmp_path: Path, receiver: Receiver
) -> None:
    """A UNIQUE key over duplicate values: the rehearsal fails (production's pre-flight
    check), and so does the apply once started (the same check, under its lock)."""
    write_config(tmp_path, stage, {"hook": hook(receiver)})
    (tmp_path / "desired.sql").write_text(
        "CREATE TABLE t (id INT PRIMARY KEY, a INT, note VARCHAR(20), UNIQUE KEY uq_a (a));"
    )
    env = cli_env()
    r = myshift(tmp_path, "plan", "--to", "stage", "--desired", "desired.sql", "-o", "plan.json",
                env=env)  # fmt: skip
    assert r.returncode in (0, ExitCode.CHANGES_PENDING), r.stderr
    r = myshift(tmp_path, "rehearse", "--plan", "plan.json", "--to", "stage", "--data", "none",
                "--report-json", "rehearsal.json", env=env)  # fmt: skip
    assert r.returncode == ExitCode.REHEARSAL_FAILED, r.stderr
    r = myshift(tmp_path, "apply", "--plan", "plan.json", "--to", "stage", "--yes", env=env)
    assert r.returncode == ExitCode.UNSAFE, r.stderr
    hooks = receiver.on("/hook")
    assert [(h["kind"], h["outcome"]) for h in hooks] == [
        ("plan.created", "created"),
        ("rehearsal.failed", "failed"),
        ("apply.started", "started"),
        ("apply.failed", "failed"),
    ]
    assert "failed at pre-flight" in hooks[1]["summary"]
    assert hooks[1]["link"] == str((tmp_path / "rehearsal.json").resolve())
    assert "pre-flight" in hooks[3]["summary"] and "uq_a" in hooks[3]["summary"]
    assert hooks[3]["link"] == str((tmp_path / "plan.json").resolve())


def test_interrupted_apply_is_still_told(
    stage: Endpoint, tmp_path: Path, receiver: Receiver
) -> None:
    """Ctrl-C in the middle of an ALTER: "apply interrupted" is sent before the exit."""
    write_config(tmp_path, stage, {"hook": hook(receiver)})
    with connect(stage) as c:
        c.execute("INSERT INTO t SELECT seq, seq, LEFT(MD5(seq), 20) FROM seq_10_to_200000")
    (tmp_path / "desired.sql").write_text(
        "CREATE TABLE t (id INT PRIMARY KEY, a INT, note VARCHAR(20), "
        "h CHAR(128) AS (SHA2(REPEAT(note, 900), 512)) PERSISTENT);"
    )
    env = {k: v for k, v in os.environ.items() if k != "MYSQL_PWD"} | cli_env()
    proc = subprocess.Popen(
        [*MYSHIFT, "apply", "--to", "stage", "--desired", "desired.sql", "--yes"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        with connect(stage.with_schema("")) as admin:
            assert _wait_running(admin, stage.schema), "the ALTER never started"
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == ExitCode.INTERRUPTED, err
    hooks = receiver.on("/hook")
    assert [(h["kind"], h["outcome"]) for h in hooks] == [
        ("apply.started", "started"),
        ("apply.failed", "interrupted"),
    ]
    assert hooks[1]["title"] == "apply interrupted"
    assert "Interrupted" in hooks[1]["summary"] or "interrupted" in hooks[1]["summary"]


def test_a_failed_rollback_is_told_once_with_why(
    stage: Endpoint, tmp_path: Path, receiver: Receiver
) -> None:
    """A transaction holds the table past lock_wait_timeout: the rollback gives up, and
    "rollback failed" arrives once in each channel, saying why, with no secret."""
    channels = {
        "team-slack": 'type = "slack"\nurl_env = "SLACK_URL"',
        "audit-hook": hook(receiver) + '\ntoken_env = "HOOK_TOKEN"',
    }
    write_config(tmp_path, stage, channels)
    (tmp_path / "desired.sql").write_text(
        "CREATE TABLE t (id INT PRIMARY KEY, a INT, note VARCHAR(20), b INT);"
    )
    env = cli_env(receiver)
    r = myshift(tmp_path, "apply", "--to", "stage", "--desired", "desired.sql", "--yes", env=env)
    assert r.returncode == 0, r.stderr
    with connect(stage) as holder:
        holder.execute("BEGIN")
        holder.query("SELECT * FROM t")  # its metadata lock lasts until the transaction ends
        r = myshift(tmp_path, "rollback", "--to", "stage", "--yes", "--lock-wait-timeout", "1",
                    env=env)  # fmt: skip
        holder.execute("ROLLBACK")
    assert r.returncode == ExitCode.LOCKED, r.stdout + r.stderr
    hooks = receiver.on("/hook")
    assert [(h["kind"], h["outcome"]) for h in hooks] == [
        ("apply.started", "started"),
        ("apply.finished", "ok"),
        ("rollback.started", "started"),
        ("rollback.failed", "failed"),
    ], hooks
    failed = hooks[3]
    apply_id = hooks[1]["apply_id"]
    assert failed["title"] == "rollback failed"
    assert f"undoes apply #{apply_id}" in failed["summary"], failed
    assert "could not get its metadata lock within lock_wait_timeout=1s" in failed["summary"]
    assert "idle in transaction" in failed["summary"], failed  # names the blocker
    # The next step is this rollback again, not a new plan.
    assert f"run `myshift rollback {apply_id} --to stage` again" in r.stderr, r.stderr
    assert "re-plan" not in r.stderr, r.stderr
    assert failed["plan_hash"] == hooks[2]["plan_hash"] and failed["plan_hash"]
    assert failed["link"] == "myshift history --to stage", failed
    slack = receiver.on(SLACK_PATH)
    assert [s["text"].splitlines()[0] for s in slack][2:] == [
        "myshift: rollback started on stage (started)",
        "myshift: rollback failed on stage (failed)",
    ]
    # Nothing was taken back: the column is still there.
    with connect(stage) as c:
        assert [r[0] for r in c.query("SHOW COLUMNS FROM t")] == ["id", "a", "note", "b"]
    # No secret in any message (the webhook's token travels only in its header).
    everything = json.dumps([body for _p, _h, body in receiver.posts])
    for secret in SECRETS:
        assert secret not in everything


def _wait_running(admin: Conn, schema: str, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = admin.query(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '/* myshift %%ALTER%%' "
            "AND DB = %s",
            (schema,),
        )
        if rows:
            time.sleep(0.3)
            return True
        time.sleep(0.05)
    return False


# --------------------------------------------------------------------------- dead channels


def test_a_dead_or_slow_channel_never_fails_the_apply(
    stage: Endpoint, tmp_path: Path, receiver: Receiver
) -> None:
    dead = _free_port()  # nothing listens there
    write_config(
        tmp_path,
        stage,
        {
            "dead-hook": f'type = "webhook"\nurl = "http://127.0.0.1:{dead}/x"\ntimeout = 1',
            "slow-hook": (
                f'type = "webhook"\nurl = "http://127.0.0.1:{receiver.port}/slow"\ntimeout = 0.5'
            ),
            "good-hook": f'type = "webhook"\nurl = "http://127.0.0.1:{receiver.port}/hook"',
            "dead-slack": 'type = "slack"\nurl_env = "SLACK_URL"\ntimeout = 1',
        },
    )
    (tmp_path / "desired.sql").write_text(
        "CREATE TABLE t (id INT PRIMARY KEY, a INT, note VARCHAR(20), b INT);"
    )
    t0 = time.monotonic()
    # Its secret URL is never printed, not even in the warning about it.
    env = cli_env() | {"SLACK_URL": f"http://127.0.0.1:{dead}{SLACK_PATH}"}
    r = myshift(tmp_path, "apply", "--to", "stage", "--desired", "desired.sql", "--yes",
                env=env)  # fmt: skip
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert "Applied 1 statement(s)" in r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("Warning: notification")]
    dead_lines = [ln for ln in lines if "'dead-hook'" in ln]
    assert len(dead_lines) == 2, r.stderr  # apply.started and apply.finished, one line each
    assert "after 2 tries" in dead_lines[0] and "cannot reach it" in dead_lines[0]
    assert "Check the webhook URL (url) of [notify.dead-hook]" in dead_lines[0]
    slack_lines = [ln for ln in lines if "'dead-slack'" in ln]
    assert len(slack_lines) == 2 and "(the URL in $SLACK_URL, after 2 tries)" in slack_lines[0]
    assert "Check the webhook URL ($SLACK_URL) of [notify.dead-slack]" in slack_lines[0]
    slow_lines = [ln for ln in lines if "'slow-hook'" in ln]
    # A late answer may mean it arrived: not sent again (once each).
    assert len(slow_lines) == 2 and all("not retried" in ln for ln in slow_lines), r.stderr
    # The good channel is neither held up nor skipped.
    assert [h["kind"] for h in receiver.on("/hook")] == ["apply.started", "apply.finished"]
    assert len(receiver.on("/slow")) <= 2
    assert took < 30


def test_a_channel_whose_variable_is_unset_is_named(stage: Endpoint, tmp_path: Path) -> None:
    write_config(tmp_path, stage, {"team-slack": 'type = "slack"\nurl_env = "NO_SUCH_URL_VAR"'})
    (tmp_path / "desired.sql").write_text("CREATE TABLE t (id INT PRIMARY KEY);")
    r = myshift(tmp_path, "plan", "--to", "stage", "--desired", "desired.sql", "-o", "p.json",
                env=cli_env() | {"NO_SUCH_URL_VAR": ""})  # fmt: skip
    assert r.returncode in (0, ExitCode.CHANGES_PENDING), r.stderr
    assert "channel 'team-slack' sends nothing: the variable $NO_SUCH_URL_VAR" in r.stderr


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ('type = "slack"\nurl_env = "X"\npassword = "p"', "unknown key(s) password"),
        ('type = "slack"\nurl = "https://x"\nurl_env = "X"', "exactly one of `url` and `url_env`"),
        ('type = "slack"\nurl_env = "X"\nsmtp_host = "h"', "unknown key(s) smtp_host for a slack"),
        ('type = "pager"\nurl_env = "X"', "has type 'pager'"),
        ('type = "webhook"\nurl = "ftp://x"', "not an http(s) URL"),
        ('type = "webhook"\nurl_env = "X"\nevents = ["apply.done"]', "matches no event"),
        ('type = "email"\nsmtp_host = "h"\nfrom = "a@b"', "has no `to`"),
        (
            'type = "email"\nsmtp_host = "h"\nfrom = "a@b"\nto = ["c@d"]\nuser = "u"',
            "needs both `user` and `password_env`",
        ),
        (
            'type = "email"\nsmtp_host = "h"\nfrom = "a@b"\nto = ["c@d"]\nuser = "u"\n'
            'password_env = "P"\ntls = "none"',
            "send the password in clear",
        ),
    ],
)
def test_channel_tables_are_strict(tmp_path: Path, body: str, error: str) -> None:
    cfg = tmp_path / "myshift.toml"
    cfg.write_text(f'[env.prod]\nhost = "h"\nnotify = ["c"]\n\n[notify.c]\n{body}\n')
    with pytest.raises(UsageError) as exc:
        read_settings(cfg)
    assert error in str(exc.value)


def test_an_environment_must_name_defined_channels(tmp_path: Path) -> None:
    cfg = tmp_path / "myshift.toml"
    cfg.write_text('[env.prod]\nhost = "h"\nnotify = ["team"]\n')
    with pytest.raises(UsageError, match="names no channel 'team'"):
        read_settings(cfg)
    cfg.write_text(
        '[env.prod]\nhost = "h"\nnotify = ["team", "mail"]\n\n[notify.team]\ntype = "slack"\n'
        'url_env = "S"\nevents = ["apply.*", "rollback.failed"]\n\n[notify.mail]\ntype = "email"\n'
        'smtp_host = "smtp.example.com"\ntls = "tls"\nfrom = "a@b"\nto = ["c@d"]\n'
        'ca_file = "ca.pem"\n'
    )
    s = read_settings(cfg)
    assert s.environments["prod"].notify == ("team", "mail")
    team, mail = s.notify["team"], s.notify["mail"]
    assert team.wants("apply.started") and team.wants("rollback.failed")
    assert not team.wants("plan.created") and not team.wants("rollback.started")
    assert mail.smtp_port == 465 and mail.ca_file == str(tmp_path / "ca.pem")


# --------------------------------------------------------------------------- the Notifier itself


def test_notifier_scrubs_secrets_and_honours_event_filters(receiver: Receiver) -> None:
    """What the watch will call: notify(Event(...)); secrets in its text never leave."""
    from myshift.config.notify import ChannelConfig
    from myshift.workflows.notify import Event, Notifier, open_channel
    from myshift.workflows.notify.events import watch_alert

    url = f"http://127.0.0.1:{receiver.port}"
    everything = ChannelConfig(name="all", type="webhook", url=url + "/hook")
    applies = ChannelConfig(name="applies", type="slack", url=url + "/a", events=("apply.*",))
    warnings: list[str] = []
    notify = Notifier(
        [open_channel(everything, {}), open_channel(applies, {})],
        environment="prod",
        server="mysql://app@db:3306/shop",
        who="alice@laptop",
        secrets=(DB_PASSWORD,),
        say=warnings.append,
    )
    notify(Event("plan.created", "created", summary="plan", plan_hash="sha256:1"))
    notify(
        watch_alert(
            f"errors up; the app logs show password {DB_PASSWORD}",
            rollback="myshift rollback 7 --to prod",
            figures=(("errors/s", "0.1 -> 12.5"),),
        )
    )
    notify(Event("apply.finished", "ok", apply_id=7))
    notify.close()
    assert warnings == []
    hooks = receiver.on("/hook")
    assert [h["kind"] for h in hooks] == ["plan.created", "watch.alert", "apply.finished"]
    assert [h["seq"] for h in hooks] == [1, 2, 3]
    assert hooks[1]["summary"] == "errors up; the app logs show password ***"
    assert hooks[1]["details"] == {
        "rollback": "myshift rollback 7 --to prod",
        "errors/s": "0.1 -> 12.5",
    }
    assert hooks[1]["title"] == "watch alert" and hooks[1]["outcome"] == "alert"
    assert "rollback: myshift rollback 7 --to prod" in hooks[1]["text"]
    assert [s["text"].splitlines()[0] for s in receiver.on("/a")] == [
        "myshift: apply finished on prod (ok)"
    ]
    assert DB_PASSWORD not in json.dumps(receiver.posts)


# aiosmtpd warns of AUTH without STARTTLS: here the whole session is TLS.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_with_implicit_tls_and_a_wrong_password(tmp_path: Path) -> None:
    """tls = "tls" (port 465 style): delivered; a refused login is named, not retried."""
    from myshift.config.notify import ChannelConfig
    from myshift.workflows.notify import Event, Notifier, open_channel

    box = Mailbox(tmp_path, implicit_tls=True)
    try:
        cfg = ChannelConfig(
            name="mail",
            type="email",
            smtp_host="127.0.0.1",
            smtp_port=box.port,
            tls="tls",
            ca_file=str(box.cert),
            sender="myshift@example.test",
            to=("dba@example.test",),
            user="myshift",
            password_env="SMTP_PW",
        )
        said: list[str] = []
        for password in (SMTP_PASSWORD, "wrong-" + SMTP_PASSWORD):
            notify = Notifier(
                [open_channel(cfg, {"SMTP_PW": password})],
                environment="prod",
                server="mysql://app@db:3306/shop",
                who="alice@laptop",
                say=said.append,
            )
            notify(Event("rollback.finished", "ok", summary="rolled back", apply_id=3))
            notify.close()
    finally:
        box.close()
    assert [m["Subject"] for m in box.mails] == ["[myshift] prod: rollback finished (ok)"]
    assert "history id: 3" in box.mails[0].get_content()
    assert len(said) == 1 and "'mail' (smtp 127.0.0.1:" in said[0], said
    assert "not retried): authentication refused (535)" in said[0]
    assert "Check user and the password in $SMTP_PW for [notify.mail]" in said[0]
    assert SMTP_PASSWORD not in said[0]


# --------------------------------------------------------------------------- the watch


def test_a_watch_alert_is_told_with_its_rollback(
    stage: Endpoint, tmp_path: Path, receiver: Receiver
) -> None:
    """`myshift watch` on an environment with a channel: a regression it flags (failed
    logins: aborted connects) arrives as a watch.alert with the rollback, no secret."""
    write_config(tmp_path, stage, {"audit-hook": hook(receiver)})
    with (tmp_path / "myshift.toml").open("a") as fh:
        fh.write('\n[watch]\nbaseline = "1s"\n')
    proc = subprocess.Popen(
        [*MYSHIFT, "watch", "--to", "stage", "--for", "5s", "--interval", "0.5s"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **cli_env()},
    )
    time.sleep(2.5)  # past the baseline
    bad = replace(stage, password="not-the-password")
    for _ in range(30):
        with contextlib.suppress(Exception):
            connect(bad).close()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.REGRESSION, out + err
    alerts = [h for h in receiver.on("/hook") if h["kind"] == "watch.alert"]
    assert alerts, (out, err, receiver.on("/hook"))
    assert alerts[0]["outcome"] == "alert"
    assert any("aborted" in json.dumps(a) for a in alerts), alerts
    everything = out + err + json.dumps(receiver.on("/hook"))
    for secret in SECRETS:
        assert secret not in everything


def test_a_watched_apply_tells_its_alerts_in_every_channel(
    stage: Endpoint, tmp_path: Path, receiver: Receiver, mailbox: Mailbox
) -> None:
    """`apply --watch`: a regression in the after-window (failed logins) reaches the
    Slack hook, the JSON hook and the mailbox once each, after apply.finished, naming the
    apply, its plan hash and its plan file, with the rollback and no secret."""
    write_config(tmp_path, stage, all_channels(receiver, mailbox))
    with (tmp_path / "myshift.toml").open("a") as fh:
        fh.write('\n[watch]\nbaseline = "1s"\n')
    (tmp_path / "desired.sql").write_text(
        "CREATE TABLE t (id INT PRIMARY KEY, a INT, note VARCHAR(20), c INT);"
    )
    env = cli_env(receiver)
    r = myshift(tmp_path, "plan", "--to", "stage", "--desired", "desired.sql", "-o", "plan.json",
                env=env)  # fmt: skip
    assert r.returncode in (0, ExitCode.CHANGES_PENDING), r.stderr
    proc = subprocess.Popen(
        [*MYSHIFT, "apply", "--plan", "plan.json", "--to", "stage", "--yes", "--watch",
         "--watch-interval", "0.5s", "--watch-after", "5s"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **env},
    )  # fmt: skip
    assert proc.stderr is not None
    err_lines: list[str] = []
    bad = replace(stage, password="not-the-password")
    for line in proc.stderr:
        err_lines.append(line)
        if "after the apply" in line:
            for _ in range(30):
                with contextlib.suppress(Exception):
                    connect(bad).close()
    out = proc.stdout.read() if proc.stdout else ""
    proc.wait(timeout=60)
    err = "".join(err_lines)
    assert proc.returncode == 0, err
    flagged = sum(1 for ln in err_lines if ln.startswith("REGRESSION at"))  # not the summary
    assert flagged >= 1 and "aborted/s" in err, err

    kinds = ["plan.created", "apply.started", "apply.finished"] + ["watch.alert"] * flagged
    hooks = receiver.on("/hook")
    assert [h["kind"] for h in hooks] == kinds, [h["kind"] for h in hooks]
    assert len({h["id"] for h in hooks}) == len(kinds)  # once each
    assert [s["text"].splitlines()[0].split(" on ")[0] for s in receiver.on(SLACK_PATH)] == [
        f"myshift: {k.replace('.', ' ')}" for k in kinds
    ]
    assert [m["X-Myshift-Event"] for m in mailbox.mails] == kinds

    plan_hash = json.loads((tmp_path / "plan.json").read_text())["plan_hash"]
    apply_id = hooks[2]["apply_id"]
    alert = hooks[3]
    assert alert["outcome"] == "alert" and "aborted/s" in alert["summary"]
    assert alert["plan_hash"] == plan_hash and alert["apply_id"] == apply_id
    assert alert["link"] == str((tmp_path / "plan.json").resolve())
    assert alert["details"]["rollback"] == f"myshift rollback {apply_id} --to stage"
    report = f"myshift report --apply {apply_id} --to stage -o apply-{apply_id}.html"
    assert alert["details"]["html report"] == hooks[2]["details"]["html report"] == report
    mail = mailbox.mails[3].get_content()
    for line in (
        f"plan: {plan_hash}",
        f"history id: {apply_id}",
        f"report: {(tmp_path / 'plan.json').resolve()}",
        f"rollback: myshift rollback {apply_id} --to stage",
        f"html report: {report}",
        "who: ",
        f"where: stage, mysql://{stage.user}@{stage.host}:{stage.port}/{stage.schema}",
    ):
        assert line in mail, mail
    bodies = [body for _p, _h, body in receiver.posts]  # the hook's token is in its header
    everything = out + err + json.dumps(bodies) + "".join(m.as_string() for m in mailbox.mails)
    for secret in SECRETS:
        assert secret not in everything
