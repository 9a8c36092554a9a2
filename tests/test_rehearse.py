"""Issue 4 acceptance: `myshift rehearse` on real local servers (sandbox, data, gate)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clitools import run_cli
from myshift.db.connect import Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.errors import DriftError, UnsafeError
from myshift.exitcodes import ExitCode
from myshift.workflows.apply import rehearsal_passed
from myshift.workflows.history import History
from myshift.workflows.plan import PlanOptions, build_planfile
from myshift.workflows.planfile import PlanFile
from myshift.workflows.rehearse import RehearseOptions, rehearse
from rdsfixtures import has_unique

# 1,000 users; the duplicate e-mails are the last rows in primary-key order, so
# only a full copy has them (a sample of the first N rows does not).
BASE = "CREATE TABLE users (id int PRIMARY KEY, email varchar(100) NOT NULL, n int);"
DESIRED = (
    "CREATE TABLE users (id int PRIMARY KEY, email varchar(100) NOT NULL, n int, "
    "UNIQUE KEY uq_email (email));"
)


def _ep(srv: LocalServer, schema: str = "", host: str = "127.0.0.1") -> Endpoint:
    return Endpoint(host=host, port=srv.port, user="root", password="", schema=schema)


def _url(ep: Endpoint) -> str:
    return f"mysql://{ep.user}@{ep.host}:{ep.port}/{ep.schema}"


@pytest.fixture
def prod(server: LocalServer) -> Iterator[Endpoint]:
    name = f"prod_{time.monotonic_ns() % 10**9}"
    with connect(_ep(server)) as admin:
        admin.execute(f"CREATE DATABASE {quote_ident(name)}")
        admin.execute(f"USE {quote_ident(name)}")
        admin.execute(BASE)
        admin.execute(
            "INSERT INTO users SELECT seq, CONCAT('u', seq, '@x'), seq FROM seq_1_to_1000"
        )
        admin.execute("UPDATE users SET email = 'dup@x' WHERE id IN (998, 999, 1000)")
    try:
        yield _ep(server, name)
    finally:
        with connect(_ep(server)) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")


def _plan(prod: Endpoint, tmp_path: Path, desired: str = DESIRED) -> Path:
    f = tmp_path / "desired.sql"
    f.write_text(desired)
    out = tmp_path / "plan.json"
    build_planfile(prod, str(f), PlanOptions()).write(out)
    return out


def _opts(server2: LocalServer, **kw: object) -> RehearseOptions:
    """A rehearsal on a schema of the second server (cheaper than a local server per test)."""
    return RehearseOptions(
        sandbox=f"server:mysql://root@127.0.0.1:{server2.port}",
        progress=False,
        **kw,  # type: ignore[arg-type]
    )


def test_unique_over_duplicates_fails_on_production_whatever_the_sample(
    prod: Endpoint, server2: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12 class 12: the duplicates are outside the sample; on main the
    rehearsals with no data and with a sample passed, and apply then refused."""
    monkeypatch.chdir(tmp_path)
    plan = _plan(prod, tmp_path)
    pf = PlanFile.read(plan)
    assert [s.sql for s in pf.runnable] == [
        "ALTER TABLE `users` ADD UNIQUE KEY `uq_email` (`email`)"
    ]

    r = rehearse(plan, prod, _opts(server2, data="none"))
    assert not r.passed and r.stage == "pre-flight", r.to_text()
    assert "fail on production" in r.error and "1 row(s)" in r.error
    # The sandbox still ran the plan (it had no rows to refuse it).
    assert r.statements[0].status == "ok" and r.statements[0].seconds is not None
    assert r.statements[0].estimated_seconds is None  # nothing to scale from
    assert any("pre-flight violation" in n for n in r.notes)

    r = rehearse(plan, prod, _opts(server2, data="sample:100"))
    assert not r.passed and r.stage == "pre-flight", r.to_text()
    assert "fail on production" in r.error
    st = r.statements[0]
    assert st.sandbox_rows == 100 and st.production_rows is not None and st.production_rows > 500
    assert st.estimated_seconds is not None and st.seconds is not None
    assert st.estimated_seconds > st.seconds  # scaled up to production's rows
    assert st.observed in ("rebuild", "no rebuild", "COPY")

    # The full copy has the duplicates: through the real CLI, with the default
    # local sandbox (a throwaway server of its own) and both report files.
    md, js = tmp_path / "r.md", tmp_path / "r.json"
    res = run_cli(
        "rehearse",
        "--plan",
        str(plan),
        "--to",
        _url(prod),
        "--data",
        "full",
        "--report-md",
        str(md),
        "--report-json",
        str(js),
        cwd=tmp_path,
    )
    assert res.returncode == ExitCode.REHEARSAL_FAILED, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert "FAILED" in res.stdout and "Duplicate entry 'dup@x'" in res.stdout
    report = json.loads(js.read_text())
    assert report["result"] == "failed" and report["stage"] == "pre-flight"
    assert report["sandbox"] == "local" and report["data"] == "full"
    failed = report["statements"][0]
    assert failed["status"] == "failed" and "Duplicate entry" in failed["error"]
    assert failed["sql"] == pf.runnable[0].sql
    assert "ADD UNIQUE KEY `uq_email`" in md.read_text() and "Duplicate entry" in md.read_text()
    # The report names the statement, not only its table.
    assert failed["description"] == pf.runnable[0].description
    assert f"| {pf.runnable[0].description} | failed |" in md.read_text()
    # No passed rehearsal: the gate of a protected target still refuses.
    assert rehearsal_passed(prod, PlanFile.read(plan)) is None

    # With production's duplicates fixed (data only: the plan still holds),
    # the sampled rehearsal passes.
    with connect(prod) as c:
        c.execute("UPDATE users SET email = CONCAT('u', id, '@x') WHERE id > 998")
    r = rehearse(plan, prod, _opts(server2, data="sample:100"))
    assert r.passed, r.to_text()

    # The plan file carries all four outcomes, still with the same hash.
    after = PlanFile.read(plan)
    assert after.plan_hash == pf.plan_hash
    assert json.loads(plan.read_text())["plan_hash"] == pf.plan_hash
    assert [(x["result"], x["data"]) for x in after.rehearsals] == [
        ("failed", "none"),
        ("failed", "sample:100"),
        ("failed", "full"),
        ("passed", "sample:100"),
    ]
    assert all(
        x["plan_hash"] == pf.plan_hash and x["from"] == pf.from_fingerprint
        for x in after.rehearsals
    )
    # The gate reads production's history, which has the passed rehearsal.
    assert rehearsal_passed(prod, after) is not None
    # Production was never touched; history on production says what happened.
    assert not has_unique(prod)
    with History.open(prod.with_schema(""), audit_path=None) as h:
        recs = h.list_applies(prod.schema, kinds=["rehearsal"])
    assert [x.outcome for x in recs] == ["ok", "failed", "failed", "failed"]
    assert recs[0].notes["rehearsal_id"] == after.rehearsals[-1]["id"]
    assert recs[0].plan_hash == pf.plan_hash


def test_sandbox_is_never_the_production_target(
    prod: Endpoint, server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    plan = _plan(prod, tmp_path)
    before = plan.read_text()
    # Same server reached by another name, same schema and another schema: both refused.
    for url in (
        f"server:mysql://root@localhost:{server.port}/{prod.schema}",
        f"server:mysql://root@localhost:{server.port}/elsewhere",
    ):
        with pytest.raises(UnsafeError):
            rehearse(plan, prod, RehearseOptions(sandbox=url, data="none", progress=False))
    res = run_cli(
        "rehearse", "--plan", str(plan), "--to", _url(prod),
        "--sandbox", f"server:mysql://root@localhost:{server.port}/{prod.schema}",
        cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == ExitCode.UNSAFE, res.stderr
    assert "is the target itself" in res.stderr and "Traceback" not in res.stderr
    assert plan.read_text() == before  # no rehearsal recorded
    assert not has_unique(prod)


def test_stale_plan_is_not_rehearsed(
    prod: Endpoint, server2: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    plan = _plan(prod, tmp_path)
    with connect(prod) as c:
        c.execute("ALTER TABLE users ADD COLUMN sneaky int")
    with pytest.raises(DriftError, match="drifted"):
        rehearse(plan, prod, _opts(server2, data="none"))


def test_checks_and_run_command_see_the_sandbox(
    prod: Endpoint, server2: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    plan = _plan(prod, tmp_path, BASE + "CREATE TABLE audit (id int PRIMARY KEY);")
    checks = tmp_path / "checks.sql"
    checks.write_text(
        "-- check: users were copied\nSELECT COUNT(*) = 50 FROM users;\n"
        "-- check: no negative n\nSELECT id FROM users WHERE n < 0;\n"
    )
    envfile = tmp_path / "env.json"
    script = (
        "import json, os, sys; "
        f"json.dump({{k: v for k, v in os.environ.items() if k.startswith(('MYSQL', 'MYSHIFT'))}}, "
        f"open({str(envfile)!r}, 'w'))"
    )
    cmd = f'{sys.executable} -c "{script}"'
    r = rehearse(plan, prod, _opts(server2, data="sample:50", check=str(checks), run=cmd))
    assert r.passed, r.to_text()
    assert [c.passed for c in r.checks] == [True, True]
    env = json.loads(envfile.read_text())
    assert env["MYSQL_TCP_PORT"] == str(server2.port) != str(prod.port)
    assert env["MYSQL_DATABASE"].startswith("myshift_rehearse_")
    assert env["MYSHIFT_DSN"] == (
        f"mysql://root@{env['MYSQL_HOST']}:{server2.port}/{env['MYSQL_DATABASE']}"
    )
    # The sandbox schema was removed after the rehearsal (no --keep).
    with connect(_ep(server2)) as c:
        assert not c.query("SHOW DATABASES LIKE %s", (env["MYSQL_DATABASE"],))

    # A failing check fails the rehearsal; so does a failing command.
    checks.write_text(
        "-- check: nobody is called dup\nSELECT id, email FROM users WHERE email = 'u1@x';\n"
    )
    r = rehearse(plan, prod, _opts(server2, data="sample:50", check=str(checks)))
    assert not r.passed and r.stage == "checks"
    assert "nobody is called dup" in r.to_text() and "u1@x" in r.to_text()
    r = rehearse(plan, prod, _opts(server2, data="none", run="exit 3", keep=True))
    assert not r.passed and r.stage == "command" and r.command is not None
    assert r.command.exit_code == 3
    assert "Sandbox kept" in r.kept
    kept = r.kept.split(" -u root ")[1].split()[0]
    with connect(_ep(server2)) as c:  # kept, with the plan applied in it
        assert c.scalar(f"SELECT COUNT(*) FROM {quote_ident(kept)}.audit") == 0
        c.execute(f"DROP DATABASE {quote_ident(kept)}")
    entries = PlanFile.read(plan).rehearsals
    assert [e["result"] for e in entries] == ["passed", "failed", "failed"]
    assert [e["stage"] for e in entries] == [None, "checks", "command"]


@pytest.fixture
def pair(replication_pair: tuple[LocalServer, LocalServer]) -> tuple[LocalServer, LocalServer]:
    return replication_pair


def test_rehearse_on_a_detached_replica(
    pair: tuple[LocalServer, LocalServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    primary, replica = pair
    prod = _ep(primary, "shop")
    with connect(_ep(primary)) as p:
        p.execute("CREATE DATABASE shop")
        p.execute(
            "CREATE TABLE shop.users (id int PRIMARY KEY, email varchar(100) NOT NULL, n int)"
        )
        p.execute(
            "INSERT INTO shop.users SELECT seq, CONCAT('u', seq), seq FROM shop.seq_1_to_2000"
        )
    plan = _plan(prod, tmp_path)
    with connect(_ep(primary)) as p:  # written after the plan: the replica must catch up
        p.execute("INSERT INTO shop.users VALUES (5000, 'late', 1)")
    opts = RehearseOptions(sandbox=f"replica:mysql://root@127.0.0.1:{replica.port}", progress=False)
    r = rehearse(plan, prod, opts)
    assert r.passed, r.to_text()
    assert r.data == "replica" and r.sandbox == "replica"
    assert any("no longer replicates" in n for n in r.notes)
    st = r.statements[0]
    assert st.production_rows is not None and st.estimated_seconds == st.seconds
    with connect(_ep(replica, "shop")) as rc:
        assert rc.query("SHOW SLAVE STATUS") == []
        assert rc.scalar("SELECT COUNT(*) FROM users") == 2001  # caught up before detaching
        assert has_unique(_ep(replica, "shop"))
    assert not has_unique(prod)


def test_protected_apply_needs_a_passed_rehearsal(
    prod: Endpoint, server2: LocalServer, tmp_path: Path
) -> None:
    """The gate, end to end through the CLI with a protected environment in myshift.toml."""
    with connect(prod) as c:
        c.execute("UPDATE users SET email = CONCAT('u', id, '@x')")  # no duplicates now
    (tmp_path / "myshift.toml").write_text(
        '[watch]\non_apply = "never"\n\n'  # the gate is tested here, not the watch
        f'[env.prod]\nhost = "127.0.0.1"\nport = {prod.port}\nuser = "root"\n'
        f'schema = "{prod.schema}"\nprotected = true\n'
    )
    (tmp_path / "desired.sql").write_text(DESIRED)
    res = run_cli("plan", "--to", "prod", "--desired", "desired.sql", "-o", "plan.json",
                  cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = run_cli("apply", "--plan", "plan.json", "--to", "prod", "--yes", cwd=tmp_path)
    assert res.returncode == ExitCode.REHEARSAL_FAILED, res.stderr
    assert "no passed rehearsal" in res.stderr and "myshift rehearse" in res.stderr
    assert not has_unique(prod)

    sandbox = f"server:mysql://root@127.0.0.1:{server2.port}"
    res = run_cli("rehearse", "--plan", "plan.json", "--to", "prod", "--sandbox", sandbox,
                  "--data", "full", cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    assert "PASSED" in res.stdout and "myshift apply --plan plan.json --to prod" in res.stdout
    res = run_cli("apply", "--plan", "plan.json", "--to", "prod", "--yes", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert has_unique(prod)
    with History.open(prod.with_schema(""), audit_path=None) as h:
        applied = h.latest_apply(prod.schema, kinds=["apply"])
    assert applied is not None and applied.outcome == "ok"
    entry = PlanFile.read(tmp_path / "plan.json").rehearsals[-1]
    assert applied.notes["rehearsal"]["id"] == entry["id"]

    # A new plan without rehearsal: refused, unless --skip-rehearsal, which history records.
    (tmp_path / "desired.sql").write_text(DESIRED + "CREATE TABLE t2 (id int PRIMARY KEY);")
    res = run_cli("plan", "--to", "prod", "--desired", "desired.sql", "-o", "plan2.json",
                  cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = run_cli("apply", "--plan", "plan2.json", "--to", "prod", "--yes", cwd=tmp_path)
    assert res.returncode == ExitCode.REHEARSAL_FAILED
    res = run_cli("apply", "--plan", "plan2.json", "--to", "prod", "--yes", "--skip-rehearsal",
                  cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    with History.open(prod.with_schema(""), audit_path=None) as h:
        applied = h.latest_apply(prod.schema, kinds=["apply"])
    assert applied is not None and applied.notes.get("skip_rehearsal") is True


@pytest.mark.parametrize(
    ("desired", "observed", "rows"),
    [
        # A trailing column is INSTANT on MariaDB 10.3+: same table id, nothing copied.
        (BASE.replace("n int)", "n int, x int)"), "no rebuild", 0),
        # Changing a column's type copies every row (rows affected = rows copied).
        (BASE.replace("n int)", "n bigint)"), "COPY", 100),
    ],
)
def test_observed_algorithm(
    prod: Endpoint,
    server2: LocalServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    desired: str,
    observed: str,
    rows: int,
) -> None:
    monkeypatch.chdir(tmp_path)
    plan = _plan(prod, tmp_path, desired)
    r = rehearse(plan, prod, _opts(server2, data="sample:100"))
    assert r.passed, r.to_text()
    (st,) = r.statements
    assert (st.observed, st.rows) == (observed, rows)
    assert not st.warning, st.warning  # the server did what the plan predicted


def test_unreadable_checks_file_is_refused_before_anything_runs(
    prod: Endpoint, server2: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from myshift.errors import UsageError

    monkeypatch.chdir(tmp_path)
    plan = _plan(prod, tmp_path)
    missing = str(tmp_path / "no-such-checks.sql")
    with pytest.raises(UsageError, match=r"no-such-checks\.sql"):
        rehearse(plan, prod, _opts(server2, data="none", check=missing))
    # Refused before the sandbox was made: no rehearsal in production's history.
    with History.open(prod) as h:
        assert h.list_applies(prod.schema) == []


def test_rehearse_shows_each_statement_like_apply(
    prod: Endpoint, server2: LocalServer, tmp_path: Path
) -> None:
    """One start line and one done line per statement on stderr, as apply shows them."""
    plan = _plan(prod, tmp_path, BASE.replace("n int)", "n bigint)"))
    sandbox = f"server:mysql://root@127.0.0.1:{server2.port}"
    res = run_cli("rehearse", "--plan", str(plan), "--to", _url(prod), "--sandbox", sandbox,
                  "--data", "sample:100", cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("[1/1] users:")]
    # Before: a third line per statement, "[1/1] users: 2 ms, 100 rows (COPY)".
    assert len(lines) == 2, res.stderr
    assert lines[0] == "[1/1] users: ALTER TABLE `users` MODIFY COLUMN `n` bigint(20) DEFAULT NULL"
    assert lines[1].startswith("[1/1] users: done in "), res.stderr
    # The time, rows and algorithm seen are in the report's table.
    assert "ok" in res.stdout and "100" in res.stdout and "COPY/COPY" in res.stdout, res.stdout
    # apply shows the statement with the same two lines.
    res = run_cli("apply", "--plan", str(plan), "--to", _url(prod), "--yes", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    applied = [ln for ln in res.stderr.splitlines() if ln.startswith("[1/1] users:")]
    assert applied[0] == lines[0] and len(applied) == 2, res.stderr
    assert applied[1].startswith("[1/1] users: done in "), res.stderr
