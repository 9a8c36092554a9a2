"""The RDS firewall opened to this machine (issue 14): `myshift access open|close|sweep` and
`access = "allowlist"` around a real command, against a local moto server (real boto3 HTTP)
and a local mariadbd.  The caller's IP comes from a local HTTP server (ip_url)."""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from awsiam import guide_policy, iam_enforced, limited_user
from clitools import MYSHIFT, run_cli
from myshift.cloud.allowlist import Rule, add_rule, ingress_rules
from myshift.config.settings import AwsSettings, EnvConfig, Settings
from myshift.db.connect import Endpoint
from myshift.db.server import LocalServer
from myshift.errors import UsageError
from myshift.exitcodes import ExitCode
from myshift.workflows.access import (
    allowlist_for_command,
    caller_cidr,
    close_access,
    mark_of,
    open_access,
)

CALLER_IP = "203.0.113.7"
USER_ENV = {"LOGNAME": "alice", "USER": "alice"}


@pytest.fixture(scope="module")
def ip_url() -> Iterator[str]:
    """A local stand-in for checkip.amazonaws.com: one line, this machine's 'public' IP."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (CALLER_IP + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/"
    finally:
        srv.shutdown()


@dataclass
class Aws:
    ec2: Any
    sg: str
    other_sg: str


@pytest.fixture
def aws(moto_endpoint: str) -> Aws:
    """An RDS instance `prod` in moto, with its own security group."""
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    other = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    boto3.client("rds").create_db_instance(
        DBInstanceIdentifier="prod",
        DBInstanceClass="db.t3.micro",
        Engine="mysql",
        MasterUsername="admin",
        MasterUserPassword="not-used-here",
        AllocatedStorage=20,
        VpcSecurityGroupIds=[sg],
    )
    return Aws(ec2, sg, other)


def rules(a: Aws, group: str | None = None) -> list[tuple[str, int, str]]:
    """(cidr, from port, description) of the group's ingress rules, sorted."""
    found = ingress_rules(AwsSettings(), EnvConfig(name="t"), group or a.sg)
    return sorted((r.cidr, r.from_port, r.description) for r in found)


def allow(a: Aws, cidr: str, port: int, description: str, group: str | None = None) -> None:
    perm: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    perm["IpRanges"] = [{"CidrIp": cidr, "Description": description}]
    a.ec2.authorize_security_group_ingress(GroupId=group or a.sg, IpPermissions=[perm])


def write_config(tmp_path: Path, ip_url: str, server: LocalServer | None, **env: Any) -> None:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": server.port if server else 3306}
    values.update({"user": "root", "rds_instance": "prod", **env})
    lines = ["[aws]", f'ip_url = "{ip_url}"', "", "[env.prod]"]
    lines += [f"{k} = {v}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in values.items()]
    (tmp_path / "myshift.toml").write_text("\n".join(lines) + "\n")


def cli(tmp_path: Path, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=tmp_path, env=USER_ENV, timeout=60, **kw)


# ----------------------------------------------------------------------------- open / close


def test_open_adds_a_described_rule_renews_it_and_close_removes_only_it(
    aws: Aws, ip_url: str, tmp_path: Path
) -> None:
    write_config(tmp_path, ip_url, None)
    allow(aws, "198.51.100.0/24", 3306, "office")
    opened = cli(tmp_path, "access", "open", "--env", "prod", "--ttl", "30m")
    assert opened.returncode == 0, opened.stderr
    assert f"{CALLER_IP}/32 on port 3306 for alice until" in opened.stdout
    mine = [r for r in rules(aws) if r[0] == f"{CALLER_IP}/32"]
    assert len(mine) == 1 and mine[0][1] == 3306
    assert mine[0][2].startswith("myshift user=alice expires=20")
    # Again: the same rule, a later expiry (nothing added).
    again = cli(tmp_path, "access", "open", "--env", "prod", "--ttl", "2h")
    assert again.returncode == 0 and "Kept rule" in again.stdout, again.stdout + again.stderr
    renewed = [r for r in rules(aws) if r[0] == f"{CALLER_IP}/32"]
    assert len(renewed) == 1 and renewed[0][2] > mine[0][2]
    closed = cli(tmp_path, "access", "close", "--env", "prod")
    assert closed.returncode == 0 and "Removed rule" in closed.stdout, closed.stderr
    assert rules(aws) == [("198.51.100.0/24", 3306, "office")]
    nothing = cli(tmp_path, "access", "close", "--env", "prod")
    assert "nothing to close" in nothing.stdout


def test_open_uses_ip_option_and_security_group_of_the_env(
    aws: Aws, ip_url: str, tmp_path: Path
) -> None:
    write_config(tmp_path, ip_url, None, security_group=aws.other_sg, port=3307)
    res = cli(tmp_path, "access", "open", "--env", "prod", "--ip", "192.0.2.9")
    assert res.returncode == 0, res.stderr
    assert [r[:2] for r in rules(aws, aws.other_sg)] == [("192.0.2.9/32", 3307)]
    assert rules(aws) == []


def test_ipv6_callers_get_a_128_rule(aws: Aws) -> None:
    settings = Settings(aws=AwsSettings())
    env = EnvConfig(name="prod", security_group=aws.sg, port=3306)
    text = open_access(settings, env, ip="2001:db8::7")
    assert "2001:db8::7/128 on port 3306" in text
    assert [r[:2] for r in rules(aws)] == [("2001:db8::7/128", 3306)]


def test_a_foreign_rule_for_the_same_ip_is_neither_duplicated_nor_removed(
    aws: Aws, ip_url: str, tmp_path: Path
) -> None:
    write_config(tmp_path, ip_url, None)
    allow(aws, f"{CALLER_IP}/32", 3306, "ops laptop")
    res = cli(tmp_path, "access", "open", "--env", "prod")
    assert res.returncode == 0, res.stderr
    assert "already allowed" in res.stdout and "myshift did not write" in res.stdout
    closed = cli(tmp_path, "access", "close", "--env", "prod")
    assert "nothing to close" in closed.stdout
    assert rules(aws) == [(f"{CALLER_IP}/32", 3306, "ops laptop")]


def test_duplicate_rule_answer_is_not_an_error(aws: Aws) -> None:
    env = EnvConfig(name="prod", security_group=aws.sg)
    first = add_rule(AwsSettings(), env, aws.sg, "192.0.2.1/32", 3306, "x")
    assert isinstance(first, Rule) and first.rule_id.startswith("sgr-")
    assert add_rule(AwsSettings(), env, aws.sg, "192.0.2.1/32", 3306, "y") is None
    assert rules(aws) == [("192.0.2.1/32", 3306, "x")]


# ----------------------------------------------------------------------------- sweep


def test_sweep_removes_expired_myshift_rules_and_nothing_else(
    aws: Aws, ip_url: str, tmp_path: Path
) -> None:
    write_config(tmp_path, ip_url, None)
    allow(aws, "192.0.2.1/32", 3306, "myshift user=bob expires=2020-01-01T00:00Z")  # expired
    allow(aws, "192.0.2.2/32", 3306, "myshift user=carol expires=2099-01-01T00:00Z")  # live
    allow(aws, "192.0.2.1/32", 22, "ssh for bob")  # foreign, same IP as the expired one
    allow(aws, "192.0.2.3/32", 3306, "myshift user=dave")  # myshift-like, no expiry: foreign
    allow(aws, "192.0.2.4/32", 3306, "temporary, expires=2020-01-01T00:00Z")  # foreign
    allow(aws, "192.0.2.5/32", 3306, "")  # no description
    with (tmp_path / "myshift.toml").open("a") as fh:  # a second env on the same group
        fh.write(f'\n[env.stage]\nsecurity_group = "{aws.sg}"\n')
    res = cli(tmp_path, "access", "sweep")
    assert res.returncode == 0, res.stderr
    assert (
        "Swept 1 security group(s): removed 1 expired myshift rule(s); kept 1 unexpired; "
        "left 4" in res.stdout
    )
    assert rules(aws) == [
        ("192.0.2.1/32", 22, "ssh for bob"),
        ("192.0.2.2/32", 3306, "myshift user=carol expires=2099-01-01T00:00Z"),
        ("192.0.2.3/32", 3306, "myshift user=dave"),
        ("192.0.2.4/32", 3306, "temporary, expires=2020-01-01T00:00Z"),
        ("192.0.2.5/32", 3306, ""),
    ]
    again = cli(tmp_path, "access", "sweep", "--env", "prod")
    assert again.returncode == 0 and "removed 0 expired" in again.stdout


# ----------------------------------------------------------------------------- errors


def test_unknown_instance_and_missing_credentials_are_one_sentence_with_the_fix(
    aws: Aws, ip_url: str, tmp_path: Path
) -> None:
    write_config(tmp_path, ip_url, None)
    (tmp_path / "myshift.toml").write_text(
        (tmp_path / "myshift.toml").read_text().replace('"prod"', '"nope"')
    )
    res = cli(tmp_path, "access", "open", "--env", "prod")
    assert res.returncode == ExitCode.USAGE
    assert "The RDS instance 'nope' was not found in us-east-1. Fix rds_instance" in res.stderr
    assert "Traceback" not in res.stderr
    no_creds = {
        **USER_ENV,
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
        "AWS_SESSION_TOKEN": "",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    res = run_cli("access", "sweep", cwd=tmp_path, env=no_creds, timeout=60)
    assert res.returncode == ExitCode.USAGE, res.stderr
    assert "No AWS credentials were found to describe the RDS instance 'nope'" in res.stderr
    assert "rds:DescribeDBInstances" in res.stderr and "Traceback" not in res.stderr


def test_env_without_a_group_and_an_unreachable_ip_url_say_what_to_set(
    moto_endpoint: str, tmp_path: Path
) -> None:
    settings = Settings(aws=AwsSettings(ip_url="http://127.0.0.1:9/"))
    with pytest.raises(UsageError, match=r"names no security group.*Set security_group"):
        open_access(settings, EnvConfig(name="prod"))
    with pytest.raises(UsageError, match=r"Could not learn this machine's public IP.*--ip"):
        caller_cidr(settings.aws, EnvConfig(name="prod"))
    assert caller_cidr(settings.aws, EnvConfig(name="p", allowlist_ip="2001:db8::5")) == (
        "2001:db8::5/128"
    )


# ----------------------------------------------------------------------------- allowlist


def test_allowlist_context_only_removes_the_rule_it_added(aws: Aws, ip_url: str) -> None:
    settings = Settings(aws=AwsSettings(ip_url=ip_url))
    env = EnvConfig(name="prod", rds_instance="prod", access="allowlist")
    said: list[str] = []
    with pytest.raises(RuntimeError), allowlist_for_command(settings, env, say=said.append):
        assert rules(aws)[0][:2] == (f"{CALLER_IP}/32", 3306)
        raise RuntimeError("the command failed")
    assert rules(aws) == [] and "closed" in said[-1]
    # Already allowed (by someone else's rule): nothing added, nothing removed.
    allow(aws, "203.0.113.0/24", 3306, "office")
    with allowlist_for_command(settings, env, say=said.append):
        assert rules(aws) == [("203.0.113.0/24", 3306, "office")]
    assert rules(aws) == [("203.0.113.0/24", 3306, "office")]
    assert "already allowed" in said[-1]


def test_commands_sharing_an_address_share_the_rule(aws: Aws, ip_url: str) -> None:
    """CI jobs behind one NAT: the first to finish must not cut the other off."""
    settings = Settings(aws=AwsSettings(ip_url=ip_url))
    env = EnvConfig(name="prod", rds_instance="prod", access="allowlist")
    said: list[str] = []
    first = allowlist_for_command(settings, env, say=said.append)
    first.__enter__()
    with allowlist_for_command(settings, env, say=said.append):
        assert "holding" in said[-1] and len(rules(aws)) == 1
        first.__exit__(None, None, None)
        assert "left rule" in said[-1] and "1 other myshift hold(s)" in said[-1]
        assert len(rules(aws)) == 1
    assert "closed" in said[-1] and rules(aws) == []


def test_access_open_and_a_command_hold_the_same_rule(
    aws: Aws, ip_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in USER_ENV.items():
        monkeypatch.setenv(k, v)
    settings = Settings(aws=AwsSettings(ip_url=ip_url))
    env = EnvConfig(name="prod", rds_instance="prod", access="allowlist")
    said: list[str] = []
    assert "Opened" in open_access(settings, env)
    with allowlist_for_command(settings, env, say=said.append):
        assert "holding" in said[-1]
    assert "left rule" in said[-1] and len(rules(aws)) == 1  # `access open` still holds it
    with allowlist_for_command(settings, env, say=said.append):
        text = close_access(settings, env)
        assert "Left rule" in text and "1 other myshift hold(s)" in text
        assert len(rules(aws)) == 1
    assert "closed" in said[-1] and rules(aws) == []


def test_allowlist_rule_expiry_is_renewed_while_the_command_runs(aws: Aws, ip_url: str) -> None:
    settings = Settings(aws=AwsSettings(ip_url=ip_url))
    env = EnvConfig(name="prod", rds_instance="prod", access="allowlist", allowlist_ttl="30m")
    stale = "myshift user=alice expires=2020-01-01T00:00Z"
    with allowlist_for_command(settings, env, say=lambda _m: None, renew_every=0.2):
        # As if the command had outlived its ttl: a sweep now would remove the rule.
        perm = {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306}
        perm["IpRanges"] = [{"CidrIp": f"{CALLER_IP}/32", "Description": stale}]
        aws.ec2.update_security_group_rule_descriptions_ingress(
            GroupId=aws.sg, IpPermissions=[perm]
        )
        deadline = time.monotonic() + 10
        while rules(aws)[0][2] == stale and time.monotonic() < deadline:
            time.sleep(0.1)
        renewed = mark_of(Rule("", "", "tcp", 0, 0, "", rules(aws)[0][2]))
        assert renewed is not None and renewed.expires > datetime.now(UTC) + timedelta(minutes=29)
    assert rules(aws) == []


def test_allowlist_env_opens_around_a_real_command_and_closes_after(
    aws: Aws, ip_url: str, server: LocalServer, tmp_path: Path
) -> None:
    write_config(tmp_path, ip_url, server, access="allowlist")
    allow(aws, "192.0.2.8/32", server.port, "a colleague")
    res = cli(tmp_path, "history", "--to", "prod")
    assert res.returncode == 0, res.stderr
    assert f"opened {aws.sg} to {CALLER_IP}/32 on port {server.port}" in res.stderr
    assert "rule sgr-" in res.stderr and "closed" in res.stderr
    assert rules(aws) == [("192.0.2.8/32", server.port, "a colleague")]
    # A command that fails (an unknown user: access denied) closes it too.
    write_config(tmp_path, ip_url, server, access="allowlist", user="nobody")
    failed = cli(tmp_path, "history", "--to", "prod")
    assert failed.returncode == ExitCode.CONNECTION, failed.stdout + failed.stderr
    assert "opened" in failed.stderr and "closed" in failed.stderr
    assert rules(aws) == [("192.0.2.8/32", server.port, "a colleague")]


@pytest.mark.parametrize(
    ("sig", "code"),
    [(signal.SIGINT, ExitCode.INTERRUPTED), (signal.SIGTERM, ExitCode.TERMINATED)],
    ids=["SIGINT", "SIGTERM"],
)
def test_allowlist_rule_is_removed_on_ctrl_c(
    aws: Aws,
    ip_url: str,
    server: LocalServer,
    fresh_schema: Endpoint,
    tmp_path: Path,
    sig: signal.Signals,
    code: ExitCode,
) -> None:
    """Ctrl-C, or SIGTERM (a CI time limit, systemd): the rule it opened is closed."""
    write_config(tmp_path, ip_url, server, access="allowlist", schema=fresh_schema.schema)
    # `plan` with the desired SQL on a stdin that never ends: it waits after connecting.
    proc = subprocess.Popen(
        [*MYSHIFT, "plan", "--to", "prod"],
        cwd=tmp_path,
        env={**os.environ, **USER_ENV},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not rules(aws) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert rules(aws), proc.poll()
        assert rules(aws)[0][:2] == (f"{CALLER_IP}/32", server.port)
        time.sleep(0.5)  # into the read of stdin
        t0 = time.monotonic()
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=30)
        print(f"{sig.name} -> exit {proc.returncode} in {time.monotonic() - t0:.3f}s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err
    by = "by user" if sig == signal.SIGINT else f"by {sig.name}"
    assert f"myshift: interrupted {by}." in err, err
    assert "closed" in err and "Traceback" not in err
    assert rules(aws) == []


# The real CLI with the rule's removal held up 30 s (what a slow AWS API looks like), so a
# second signal can arrive while myshift is closing the rule.
SLOW_REVOKE = """
import sys
import time

import boto3

boto3.setup_default_session()


def slow(**kw):
    print("test: revoking", file=sys.stderr, flush=True)
    time.sleep(30)


boto3.DEFAULT_SESSION.events.register("before-call.ec2.RevokeSecurityGroupIngress", slow)
from myshift.cli import main

main(sys.argv[1:])
"""


def test_a_second_sigterm_while_closing_says_what_is_left(
    aws: Aws, ip_url: str, server: LocalServer, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """As a second Ctrl-C does: the clean-up stops, the message names the rule left
    open and the command that removes it, and the exit code is still 143."""
    write_config(tmp_path, ip_url, server, access="allowlist", schema=fresh_schema.schema)
    wrapper = tmp_path / "run_myshift.py"
    wrapper.write_text(SLOW_REVOKE)
    proc = subprocess.Popen(
        [sys.executable, str(wrapper), "plan", "--to", "prod"],
        cwd=tmp_path,
        env={**os.environ, **USER_ENV},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while not rules(aws) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert rules(aws), proc.poll()
        time.sleep(0.5)  # into the read of stdin
        proc.send_signal(signal.SIGTERM)
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            if line.startswith("test: revoking"):
                break
        time.sleep(0.5)  # past the repeat window: this one insists
        proc.send_signal(signal.SIGTERM)
        _out, rest = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = "".join(seen) + rest
    assert proc.returncode == ExitCode.TERMINATED, err
    assert "myshift: interrupted by SIGTERM." in err
    assert "could not remove rule sgr-" in err and "(interrupted)" in err, err
    assert "`myshift access close --env prod` removes it now" in err
    assert "Aborted!" not in err and "Traceback" not in err
    assert [r[:2] for r in rules(aws)] == [(f"{CALLER_IP}/32", server.port)]  # left open
    closed = cli(tmp_path, "access", "close", "--env", "prod")  # the command it named
    assert closed.returncode == 0, closed.stderr
    assert rules(aws) == []


# ----------------------------------------------------------------------------- IAM permissions

# The least privilege of `access open` and `access close` (and of access = "allowlist"):
# the guide's own policy (test_iam_policies checks it is exactly what they call).
ACCESS_ACTIONS = guide_policy("MyshiftReadRules")
NO_REVOKE = [a for a in ACCESS_ACTIONS if a != "ec2:RevokeSecurityGroupIngress"]


def test_the_documented_permissions_suffice_and_a_missing_one_is_named(
    aws: Aws, ip_url: str, moto_endpoint: str, tmp_path: Path
) -> None:
    write_config(tmp_path, ip_url, None)
    enough = limited_user(ACCESS_ACTIONS, USER_ENV)
    no_revoke = limited_user(NO_REVOKE, USER_ENV)
    with iam_enforced(moto_endpoint):
        opened = run_cli("access", "open", "--env", "prod", cwd=tmp_path, env=enough)
        assert opened.returncode == 0, opened.stderr
        denied = run_cli("access", "close", "--env", "prod", cwd=tmp_path, env=no_revoke)
        closed = run_cli("access", "close", "--env", "prod", cwd=tmp_path, env=enough)
        swept = run_cli("access", "sweep", cwd=tmp_path, env=enough)
        bogus = {**enough, "AWS_ACCESS_KEY_ID": "AKIAUNKNOWNKEY000000"}
        refused = run_cli("access", "sweep", cwd=tmp_path, env=bogus)
    assert denied.returncode == ExitCode.USAGE, denied.stderr
    assert "lacks the IAM permission ec2:RevokeSecurityGroupIngress" in denied.stderr
    assert "Grant ec2:RevokeSecurityGroupIngress" in denied.stderr
    assert "Traceback" not in denied.stderr
    assert closed.returncode == 0 and "Removed rule" in closed.stdout, closed.stderr
    assert swept.returncode == 0, swept.stderr
    assert rules(aws) == []
    assert refused.returncode == ExitCode.USAGE, refused.stderr
    assert "AWS did not accept the credentials to describe the RDS instance" in refused.stderr


def test_a_rule_that_cannot_be_removed_is_named_with_the_fix(
    aws: Aws, ip_url: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in limited_user(NO_REVOKE).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it caches the credentials it found
    settings = Settings(aws=AwsSettings(ip_url=ip_url))
    env = EnvConfig(name="prod", rds_instance="prod", access="allowlist")
    said: list[str] = []
    with iam_enforced(moto_endpoint), allowlist_for_command(settings, env, say=said.append):
        pass
    assert "could not remove rule sgr-" in said[-1]
    assert "ec2:RevokeSecurityGroupIngress" in said[-1]
    assert "`myshift access close --env prod` removes it now" in said[-1]
    assert [r[:2] for r in rules(aws)] == [(f"{CALLER_IP}/32", 3306)]
