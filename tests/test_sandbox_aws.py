"""Issue 14: the sandboxes rehearse makes on AWS (rds-replica, aurora-clone,
rds-snapshot), against a local moto server (tests/rdsfixtures.py).

Every AWS call is a real boto3 HTTP call to moto on 127.0.0.1.  The sandbox
instance's endpoint is mapped to a real local mariadbd (the resolver a sandbox
takes), so the rehearsal itself runs for real.  Where AWS would do something
moto cannot (stop replicating when a replica is promoted, take minutes to
become available), a hook in the test does it to the real state.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from awsiam import actions_of, documented, guide_policy, iam_enforced, limited_user
from clitools import run_cli
from myshift.cloud.aws import client
from myshift.cloud.rds import CloudError, Rds, WaitTimeout
from myshift.config.settings import AwsSettings, EnvConfig, Settings
from myshift.db.connect import Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.errors import Interrupted, UsageError
from myshift.exitcodes import ExitCode
from myshift.workflows.planfile import PlanFile
from myshift.workflows.reach import Reach
from myshift.workflows.rehearse import RehearseOptions, rehearse
from myshift.workflows.sandbox_kinds import make_sandbox
from rdsfixtures import (
    AwsProd,
    Calls,
    after_call,
    assert_guarded,
    assert_source_only_read,
    aurora_cluster,
    context,
    ep_of,
    has_unique,
    make_plan,
    make_shop,
    own_rds,
    to_server,
)
from sshdfixtures import USER as SSH_USER
from sshdfixtures import Sshd, sshd

__all__ = ["sshd"]  # the fixture, imported for pytest

# ----------------------------------------------------------------------------- rds-replica


def test_rds_replica_rehearsal_end_to_end(
    aws: AwsProd,
    calls: Calls,
    replication_pair: tuple[LocalServer, LocalServer],
    moto_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The seed's flow: replica of prod-db, caught up, promoted, rehearsed on, deleted;
    as an IAM user holding only the guide's sandbox policy, moto enforcing it."""
    monkeypatch.chdir(tmp_path)
    primary, replica = replication_pair
    prod = ep_of(primary, "shop")
    make_shop(ep_of(primary), "shop", rows=2000)
    plan = make_plan(prod, tmp_path)
    with connect(ep_of(primary)) as p:  # written after the plan: the replica must catch up
        p.execute("INSERT INTO shop.users VALUES (5000, 'late', 1)")

    def promoted(_params: dict[str, Any]) -> None:
        # What AWS does to the server when it promotes a read replica.
        with connect(ep_of(replica)) as r:
            r.execute("STOP SLAVE")
            r.execute("RESET SLAVE ALL")
            r.execute("SET GLOBAL read_only = 0")

    after_call("PromoteReadReplica", promoted)
    reached: list[str] = []
    said: list[str] = []
    sb = make_sandbox(
        "rds-replica:prod-db",
        cloud=context(
            to_server(ep_of(replica), reached), said, waiter_timeout=30, sandbox_ttl="2h"
        ),
    )
    t0 = dt.datetime.now(dt.UTC)
    for k, v in limited_user(guide_policy("MyshiftSandboxRead")).items():
        monkeypatch.setenv(k, v)
    with iam_enforced(moto_endpoint):
        r = rehearse(plan, prod, RehearseOptions(progress=False, record_history=False), sandbox=sb)
    assert r.passed, r.to_text()
    assert r.sandbox == "rds-replica" and r.data == "replica"
    # Exactly the actions the guide's table lists for it.
    assert actions_of("rds", calls.seen) == documented("rehearse --sandbox rds-replica:…")

    # The plan ran on the promoted replica, which had caught up; production is untouched.
    with connect(ep_of(replica, "shop")) as rc:
        assert rc.query("SHOW SLAVE STATUS") == []
        assert rc.scalar("SELECT COUNT(*) FROM users") == 2001
    assert has_unique(ep_of(replica, "shop")) and not has_unique(prod)

    # The AWS calls: create, promote, delete the replica; prod-db only described.
    new = calls.params("CreateDBInstanceReadReplica")["DBInstanceIdentifier"]
    assert re.fullmatch(r"myshift-prod-db-[0-9a-f]{6}", new)
    assert [(n, p.get("DBInstanceIdentifier")) for n, p in calls.mutating()] == [
        ("CreateDBInstanceReadReplica", new),
        ("PromoteReadReplica", new),
        ("DeleteDBInstance", new),
    ]
    assert_source_only_read(calls, "prod-db")
    assert_guarded(calls, "PromoteReadReplica")
    assert_guarded(calls, "DeleteDBInstance")
    create = calls.params("CreateDBInstanceReadReplica")
    assert create["SourceDBInstanceIdentifier"] == "prod-db"
    assert create["DBInstanceClass"] == "db.r6g.large"  # the source's: none configured
    assert create["DBSubnetGroupName"] == "prod-subnets"
    assert create["DBParameterGroupName"] == "prod-params"
    assert create["VpcSecurityGroupIds"] == [aws.sg]
    tags = {t["Key"]: t["Value"] for t in create["Tags"]}
    assert tags["myshift:rehearsal"] == PlanFile.read(plan).plan_hash
    assert tags["myshift:kind"] == "rds-replica" and tags["myshift:source"] == "prod-db"
    assert tags["myshift:created-by"]
    expires = dt.datetime.fromisoformat(tags["myshift:expires"].replace("Z", "+00:00"))
    assert abs((expires - t0) - dt.timedelta(hours=2)) < dt.timedelta(minutes=1)
    delete = calls.params("DeleteDBInstance")
    assert delete["SkipFinalSnapshot"] is True and delete["DeleteAutomatedBackups"] is True

    # It was reached at the instance's own endpoint (through the resolver).
    assert reached and reached[0] == f"{new}.aaaaaaaaaa.us-east-1.rds.amazonaws.com:3306"
    # Gone afterwards; production's instance and its tags as they were.
    assert aws.instance_ids() == ["prod-db"]
    assert aws.tags("prod-db") == {"team": "shop"}
    # Each phase on stderr with the time since the start.
    stamped = [s for s in said if re.match(r"\[ ?\d+:\d\d\] ", s)]
    for phase in ("Creating read replica", "catch up", "Promoting", "Deleting instance"):
        assert any(phase in s for s in stamped), (phase, said)
    hash12 = tags["myshift:rehearsal"][:12]
    assert any(f"{new} is tagged myshift:rehearsal={hash12}" in s for s in said), said


def test_replica_of_another_server_is_refused_and_deleted(
    aws: AwsProd, calls: Calls, shop_pair: tuple[Endpoint, Endpoint]
) -> None:
    """A failure after creation (here: the replica does not replicate from production)
    deletes what was made, --keep or not."""
    prod, copy = shop_pair
    said: list[str] = []
    sb = make_sandbox(
        "rds-replica:prod-db", keep=True, cloud=context(to_server(copy, []), said, waiter_timeout=5)
    )
    with pytest.raises(UsageError, match="is not a replica"):
        sb.prepare(prod)
    new = calls.params("CreateDBInstanceReadReplica")["DBInstanceIdentifier"]
    assert calls.mutating()[-1] == ("DeleteDBInstance", calls.params("DeleteDBInstance"))
    assert calls.params("DeleteDBInstance")["DBInstanceIdentifier"] == new
    assert aws.instance_ids() == ["prod-db"]
    assert sb.finish() is None  # nothing kept: it was removed


def test_ctrl_c_while_reaching_the_replica_deletes_it(
    aws: AwsProd, calls: Calls, shop_pair: tuple[Endpoint, Endpoint], tmp_path: Path
) -> None:
    prod, _copy = shop_pair
    plan = make_plan(prod, tmp_path)

    def ctrl_c(ep_of: Endpoint) -> Endpoint:
        raise KeyboardInterrupt

    said: list[str] = []
    sb = make_sandbox("rds-replica:prod-db", cloud=context(ctrl_c, said, waiter_timeout=5))
    with pytest.raises(Interrupted) as caught:
        rehearse(plan, prod, RehearseOptions(progress=False, record_history=False), sandbox=sb)
    assert "rds-replica sandbox, which was removed" in caught.value.message
    assert calls.names()[-2:] == ["ListTagsForResource", "DeleteDBInstance"]
    assert aws.instance_ids() == ["prod-db"]
    assert not any("WARNING" in s for s in said)


# ----------------------------------------------------------------------------- rds-snapshot


def test_rds_snapshot_rehearsal_fails_and_is_deleted_then_passes(
    aws: AwsProd, calls: Calls, shop_pair: tuple[Endpoint, Endpoint], tmp_path: Path
) -> None:
    prod, copy = shop_pair
    plan = make_plan(prod, tmp_path)
    aws.rds.create_db_snapshot(DBSnapshotIdentifier="prod-snap", DBInstanceIdentifier="prod-db")
    opts = RehearseOptions(progress=False, record_history=False)

    # The restored "snapshot" is older than the plan (a column differs): the rehearsal
    # fails, as a report, and the instance is deleted all the same.
    with connect(copy) as c:
        c.execute("ALTER TABLE users DROP COLUMN n")
    said: list[str] = []
    sb = make_sandbox("rds-snapshot:prod-snap", cloud=context(to_server(copy, []), said))
    r = rehearse(plan, prod, opts, sandbox=sb)
    assert not r.passed and r.stage == "sandbox", r.to_text()
    first = calls.params("RestoreDBInstanceFromDBSnapshot")
    assert first["DBSnapshotIdentifier"] == "prod-snap"
    assert first["DBSubnetGroupName"] == "prod-subnets" and first["VpcSecurityGroupIds"] == [aws.sg]
    assert first["DBInstanceClass"] == "db.r6g.large"
    assert any("holds production as of the snapshot" in n for n in r.notes)
    assert_guarded(calls, "DeleteDBInstance")
    assert aws.instance_ids() == ["prod-db"]

    # A faithful copy: the rehearsal passes, with a configured smaller class.
    with connect(copy) as c:
        c.execute("ALTER TABLE users ADD COLUMN n int")
        c.execute("UPDATE users SET n = id")
    calls.seen.clear()
    sb = make_sandbox(
        "rds-snapshot:prod-snap",
        cloud=context(to_server(copy, []), said, sandbox_instance_class="db.t3.micro"),
    )
    r = rehearse(plan, prod, opts, sandbox=sb)
    assert r.passed and r.data == "full", r.to_text()
    assert calls.params("RestoreDBInstanceFromDBSnapshot")["DBInstanceClass"] == "db.t3.micro"
    assert has_unique(copy) and not has_unique(prod)
    assert aws.instance_ids() == ["prod-db"]
    assert_source_only_read(calls, "prod-db", "prod-snap")


def test_keep_leaves_the_instance_and_says_how_to_remove_it(
    aws: AwsProd, calls: Calls, shop_pair: tuple[Endpoint, Endpoint], tmp_path: Path
) -> None:
    prod, copy = shop_pair
    plan = make_plan(prod, tmp_path)
    aws.rds.create_db_snapshot(DBSnapshotIdentifier="prod-snap", DBInstanceIdentifier="prod-db")
    sb = make_sandbox("rds-snapshot:prod-snap", keep=True, cloud=context(to_server(copy, []), []))
    r = rehearse(plan, prod, RehearseOptions(progress=False, record_history=False), sandbox=sb)
    assert r.passed, r.to_text()
    new = calls.params("RestoreDBInstanceFromDBSnapshot")["DBInstanceIdentifier"]
    assert "DeleteDBInstance" not in calls.names()
    assert aws.instance_ids() == sorted(["prod-db", new])
    assert f"myshift sandboxes delete {new}" in r.kept and "production's password" in r.kept
    assert aws.tags(new)["myshift:rehearsal"] == PlanFile.read(plan).plan_hash

    listed = run_cli("sandboxes", "list", cwd=tmp_path)
    assert re.search(rf"^{new}\s+rds-snapshot\s+\S+\s+\S+Z\s+no\s", listed.stdout, re.M), (
        listed.stdout + listed.stderr
    )
    res = run_cli("sandboxes", "delete", new, "--yes", cwd=tmp_path)
    assert res.returncode == 0 and "being deleted" in res.stdout, res.stderr
    assert aws.instance_ids() == ["prod-db"]


def test_waiter_time_limit_is_a_clear_error_and_cleans_up(
    aws: AwsProd, calls: Calls, server: LocalServer
) -> None:
    """An instance that never becomes available: the waiter gives up at waiter_timeout."""
    aws.rds.create_db_snapshot(DBSnapshotIdentifier="prod-snap", DBInstanceIdentifier="prod-db")
    # moto makes a restored instance available at once; stopping it is real moto
    # state that AWS's "available" waiter keeps polling through.
    after_call(
        "RestoreDBInstanceFromDBSnapshot",
        lambda p: own_rds().stop_db_instance(DBInstanceIdentifier=p["DBInstanceIdentifier"]),
    )
    said: list[str] = []
    sb = make_sandbox("rds-snapshot:prod-snap", cloud=context(None, said, waiter_timeout=3))
    t0 = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        sb.prepare(ep_of(server, "whatever"))
    waited = time.monotonic() - t0
    assert 2.5 < waited < 15, waited
    msg = str(caught.value)
    assert "was still 'stopped', not available" in msg and "waiter_timeout = 3s" in msg
    new = calls.params("RestoreDBInstanceFromDBSnapshot")["DBInstanceIdentifier"]
    assert calls.params("DeleteDBInstance")["DBInstanceIdentifier"] == new
    assert aws.instance_ids() == ["prod-db"]

    # The waiter itself, on an instance the test made and stopped: bounded too.
    aws.rds.restore_db_instance_from_db_snapshot(
        DBInstanceIdentifier="slow-one", DBSnapshotIdentifier="prod-snap"
    )
    aws.rds.stop_db_instance(DBInstanceIdentifier="slow-one")
    rds = Rds(client("rds", AwsSettings()), waiter_timeout=2)
    t0 = time.monotonic()
    with pytest.raises(WaitTimeout):
        rds.wait_instance("slow-one")
    assert time.monotonic() - t0 < 10


# ----------------------------------------------------------------------------- aurora-clone


def test_aurora_clone_rehearsal(
    moto_endpoint: str, calls: Calls, shop_pair: tuple[Endpoint, Endpoint], tmp_path: Path
) -> None:
    prod, copy = shop_pair
    plan = make_plan(prod, tmp_path)
    rds = own_rds()
    aurora_cluster(
        rds,
        "prod-aurora",
        instance_class="db.r6g.xlarge",
        password="Prod-Master-Secret-9",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 4.0},
    )
    reached: list[str] = []
    sb = make_sandbox("aurora-clone:prod-aurora", cloud=context(to_server(copy, reached), []))
    r = rehearse(plan, prod, RehearseOptions(progress=False, record_history=False), sandbox=sb)
    assert r.passed, r.to_text()
    clone = calls.params("RestoreDBClusterToPointInTime")
    new = clone["DBClusterIdentifier"]
    assert clone["RestoreType"] == "copy-on-write" and clone["UseLatestRestorableTime"] is True
    assert clone["SourceDBClusterIdentifier"] == "prod-aurora"
    assert clone["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4.0}
    inst = calls.params("CreateDBInstance")
    assert inst["DBClusterIdentifier"] == new and inst["DBInstanceClass"] == "db.r6g.xlarge"
    assert [
        (n, p.get("DBInstanceIdentifier") or p.get("DBClusterIdentifier"))
        for n, p in calls.mutating()
    ] == [
        ("RestoreDBClusterToPointInTime", new),
        ("CreateDBInstance", f"{new}-1"),
        ("DeleteDBInstance", f"{new}-1"),
        ("DeleteDBCluster", new),
    ]
    assert_guarded(calls, "DeleteDBCluster")
    assert_source_only_read(calls, "prod-aurora", "prod-aurora-1")
    assert reached and reached[0].startswith(f"{new}.cluster-")
    assert [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]] == [
        "prod-aurora"
    ]
    assert has_unique(copy) and not has_unique(prod)


# ----------------------------------------------------------------------------- Ctrl-C, for real

# Runs the real CLI; the hook makes moto's restored instance stay "stopped" (what a
# slow AWS restore looks like to the waiter), so the command is waiting when SIGINT comes.
WRAPPER = """
import sys
import boto3

boto3.setup_default_session()


def stop(http_response, parsed, **kw):
    ident = parsed["DBInstance"]["DBInstanceIdentifier"]
    boto3.session.Session().client("rds").stop_db_instance(DBInstanceIdentifier=ident)


boto3.DEFAULT_SESSION.events.register("after-call.rds.RestoreDBInstanceFromDBSnapshot", stop)
from myshift.cli import main

main(sys.argv[1:])
"""


# With it, the deletion is held up 30 s, so a second signal comes while it runs.
SLOW_DELETE = """
import time


def slow_delete(**kw):
    print("test: deleting", file=sys.stderr, flush=True)
    time.sleep(30)


boto3.DEFAULT_SESSION.events.register("before-call.rds.DeleteDBInstance", slow_delete)
"""


@pytest.mark.parametrize(
    ("sig", "code", "again"),
    [
        (signal.SIGINT, ExitCode.INTERRUPTED, False),
        (signal.SIGTERM, ExitCode.TERMINATED, False),
        (signal.SIGTERM, ExitCode.TERMINATED, True),
    ],
    ids=["SIGINT", "SIGTERM", "SIGTERM-again-while-deleting"],
)
def test_stop_signal_to_myshift_rehearse_deletes_the_sandbox(
    aws: AwsProd,
    shop_pair: tuple[Endpoint, Endpoint],
    tmp_path: Path,
    sig: signal.Signals,
    code: ExitCode,
    again: bool,
) -> None:
    """Ctrl-C, or SIGTERM (a CI time limit, systemd), while AWS restores the
    sandbox: the instance is deleted all the same.  ``again``: a second SIGTERM
    while it is being deleted stops that, as a second Ctrl-C does, and the one
    message names what is left on AWS and the command that removes it."""
    prod, _copy = shop_pair
    plan = make_plan(prod, tmp_path)
    aws.rds.create_db_snapshot(DBSnapshotIdentifier="prod-snap", DBInstanceIdentifier="prod-db")
    (tmp_path / "myshift.toml").write_text('[aws]\nwaiter_timeout = 600\nsandbox_ttl = "1h"\n')
    wrapper = tmp_path / "run_myshift.py"
    main = "from myshift.cli import main"
    wrapper.write_text(WRAPPER.replace(main, SLOW_DELETE + main) if again else WRAPPER)
    env = {k: v for k, v in os.environ.items() if k != "MYSQL_PWD"}
    proc = subprocess.Popen(
        [
            sys.executable,
            str(wrapper),
            "rehearse",
            "--plan",
            str(plan),
            "--to",
            f"mysql://root@127.0.0.1:{prod.port}/{prod.schema}",
            "--sandbox",
            "rds-snapshot:prod-snap",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    waiting, deleting = threading.Event(), threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "to be available" in line:
                waiting.set()
            if line.startswith("test: deleting"):
                deleting.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert waiting.wait(60), "".join(lines)
        time.sleep(0.5)  # inside the waiter's sleep
        assert aws.instance_ids() != ["prod-db"]  # the sandbox exists now
        t0 = time.monotonic()
        proc.send_signal(sig)
        if again:
            assert deleting.wait(30), "".join(lines)
            time.sleep(0.5)  # past the repeat window: this one insists
            proc.send_signal(sig)
        proc.wait(timeout=60)  # (not communicate(): the reader thread owns stderr)
        print(f"{sig.name} -> exit {proc.returncode} in {time.monotonic() - t0:.3f}s")
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(10)
    assert proc.stdout is not None
    out = proc.stdout.read()
    err = "".join(lines)
    assert proc.returncode == int(code), err
    by = "by user" if sig == signal.SIGINT else f"by {sig.name}"
    assert f"Interrupted {by} while preparing the sandbox" in err, err
    assert re.search(r"\[ ?\d+:\d\d\] Deleting instance myshift-prod-snap-[0-9a-f]{6}", err), err
    assert "Traceback" not in err and "Prod-Master-Secret-9" not in err + out
    if not again:
        assert "rds-snapshot sandbox, which was removed" in err
        assert "WARNING" not in err
        assert aws.instance_ids() == ["prod-db"]
        return
    (left,) = [i for i in aws.instance_ids() if i != "prod-db"]  # still on AWS
    assert (
        f"(in the rds-snapshot sandbox, which was not fully removed: still on AWS: instance "
        f"{left} (interrupted while deleting it); `myshift sandboxes delete {left}` removes it)"
    ) in err, err
    gone = run_cli("sandboxes", "delete", left, "--yes", cwd=tmp_path)  # the command named
    assert gone.returncode == 0, gone.stderr
    assert aws.instance_ids() == ["prod-db"]


def test_a_create_that_fails_leaves_nothing_to_delete(
    aws: AwsProd, calls: Calls, server: LocalServer
) -> None:
    aws.rds.delete_db_subnet_group(DBSubnetGroupName="prod-subnets")  # the create fails
    said: list[str] = []
    sb = make_sandbox("rds-replica:prod-db", cloud=context(None, said))
    with pytest.raises(CloudError, match=r"AWS refused to create a read replica of 'prod-db' \("):
        sb.prepare(ep_of(server, "whatever"))
    assert "CreateDBInstanceReadReplica" in calls.names()
    assert "DeleteDBInstance" not in calls.names()
    assert not any("Deleting" in s or "WARNING" in s for s in said), said
    assert aws.instance_ids() == ["prod-db"]


def test_a_user_that_cannot_follow_replication_is_refused_before_creating(
    aws: AwsProd, calls: Calls, shop_pair: tuple[Endpoint, Endpoint], server: LocalServer
) -> None:
    prod, _copy = shop_pair
    user = f"mig_{time.monotonic_ns() % 10**6}"
    with connect(ep_of(server)) as c:
        c.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'Mig-Secret-7'")
        c.execute(f"GRANT ALL ON {quote_ident(prod.schema)}.* TO '{user}'@'%'")
    try:
        low = replace(prod, user=user, password="Mig-Secret-7")
        said: list[str] = []
        sb = make_sandbox("rds-replica:prod-db", cloud=context(None, said))
        with pytest.raises(UsageError, match="cannot read replication status") as caught:
            sb.prepare(low)
        assert "SLAVE MONITOR" in str(caught.value) and "nothing was created" in str(caught.value)
        assert "Mig-Secret-7" not in str(caught.value) + "".join(said)
        assert not calls.mutating()
        assert aws.instance_ids() == ["prod-db"]
    finally:
        with connect(ep_of(server)) as c:
            c.execute(f"DROP USER '{user}'@'%'")


# ----------------------------------------------------------------------------- the bastion


def test_a_sandbox_reached_through_the_bastion_is_named_as_itself(
    aws: AwsProd, calls: Calls, shop_pair: tuple[Endpoint, Endpoint], sshd: Sshd, tmp_path: Path
) -> None:
    """Production reached through an SSH tunnel carries its own name (TLS checks the
    certificate against it; history and reports record it).  The sandbox, reached
    through the same bastion, must carry *its* name, not production's."""
    prod, copy = shop_pair
    plan = make_plan(prod, tmp_path)
    aws.rds.create_db_snapshot(DBSnapshotIdentifier="prod-snap", DBInstanceIdentifier="prod-db")
    env = EnvConfig(
        name="prod",
        ssh_tunnel=f"{SSH_USER}@127.0.0.1",
        ssh_port=sshd.port,
        ssh_key=str(sshd.client_key),
        ssh_known_hosts=str(sshd.known_hosts),
    )
    asked: list[Endpoint] = []
    reached: list[Endpoint] = []
    with Reach(Settings(environments={"prod": env})) as reach:
        target = reach.endpoint(replace(prod, host="localhost", env_name="prod"))
        assert (target.server_name, target.host) == ("localhost", "127.0.0.1")

        def resolve(ep: Endpoint) -> Endpoint:
            # The CLI's resolver (sandbox_aws.cloud_context): the sandbox reached the
            # way production is.  Its RDS name is, as the bastion resolves it, the
            # stand-in server.
            asked.append(ep)
            reached.append(reach.endpoint(replace(ep, host="127.0.0.1", port=copy.port), env))
            return reached[-1]

        sb = make_sandbox("rds-snapshot:prod-snap", cloud=context(resolve, []))
        r = rehearse(
            plan, target, RehearseOptions(progress=False, record_history=False), sandbox=sb
        )
    assert r.passed, r.to_text()
    new = calls.params("RestoreDBInstanceFromDBSnapshot")["DBInstanceIdentifier"]
    assert asked[0].host.startswith(f"{new}.") and asked[0].server_name is None
    assert reached[0].redacted() == f"mysql://root@127.0.0.1:{copy.port}/{copy.schema}"
    assert reached[0].redacted() != target.redacted()
    assert has_unique(copy) and not has_unique(prod)


# ----------------------------------------------------------------------------- --run


def _app_user(servers: tuple[LocalServer, ...], user: str, password: str, *grants: str) -> None:
    """Production's account, on production and on the server standing in for its copy
    (a restored snapshot has production's users)."""
    for srv in servers:
        with connect(ep_of(srv)) as c:
            c.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (password,))
            for grant in grants:
                c.execute(grant.format(who=f"'{user}'@'%'"))


def test_run_gets_an_account_of_the_sandbox_never_productions_password(
    aws: AwsProd,
    shop_pair: tuple[Endpoint, Endpoint],
    server: LocalServer,
    server2: LocalServer,
    tmp_path: Path,
) -> None:
    prod, copy = shop_pair
    plan = make_plan(prod, tmp_path)
    aws.rds.create_db_snapshot(DBSnapshotIdentifier="prod-snap", DBInstanceIdentifier="prod-db")
    user, secret = f"app_{time.monotonic_ns() % 10**6}", "Prod-App-S3cret-4"
    low = f"low_{time.monotonic_ns() % 10**6}"
    _app_user((server, server2), user, secret, "GRANT ALL ON *.* TO {who} WITH GRANT OPTION")
    _app_user(
        (server, server2),
        low,
        secret,
        f"GRANT ALL ON `{prod.schema}`.* TO {{who}}",
        "GRANT PROCESS ON *.* TO {who}",
    )
    seen = tmp_path / "seen.txt"
    run = (
        f'{{ echo "$MYSQL_USER $MYSQL_PWD"; cat "$MYSQL_DEFAULTS_FILE"; env; '
        f'mariadb --defaults-file="$MYSQL_DEFAULTS_FILE" -N -e '
        f'"SELECT CURRENT_USER(), COUNT(*) FROM users"; }} > {seen} 2>&1'
    )

    def as_is(ep: Endpoint) -> Endpoint:  # production's login, at the stand-in server
        return replace(ep, host=copy.host, port=copy.port)

    def accounts() -> int:
        with connect(ep_of(server2)) as c:
            return int(c.scalar("SELECT COUNT(*) FROM mysql.user WHERE User LIKE 'myshift\\_%'"))

    try:
        opts = RehearseOptions(progress=False, record_history=False, run=run)
        sb = make_sandbox("rds-snapshot:prod-snap", cloud=context(as_is, []))
        r = rehearse(plan, replace(prod, user=user, password=secret), opts, sandbox=sb)
        assert r.passed, r.to_text()
        text = seen.read_text()
        assert re.search(r"^myshift_[0-9a-f]{6}@%\t500$", text, re.M), text
        assert secret not in text and user not in text
        assert accounts() == 0  # dropped after the command

        # A production account that may not make one: refused, the command not run.
        seen.unlink()
        with connect(copy) as c:
            c.execute("ALTER TABLE users DROP INDEX uq_email")
        sb = make_sandbox("rds-snapshot:prod-snap", cloud=context(as_is, []))
        r = rehearse(plan, replace(prod, user=low, password=secret), opts, sandbox=sb)
        assert not r.passed and r.stage == "command", r.to_text()
        assert "--run gets an account of its own rather than production's password" in r.error
        assert not seen.exists() and accounts() == 0
        assert aws.instance_ids() == ["prod-db"]
    finally:
        for srv in (server, server2):
            with connect(ep_of(srv)) as c:
                c.execute(f"DROP USER IF EXISTS '{user}'@'%', '{low}'@'%'")
