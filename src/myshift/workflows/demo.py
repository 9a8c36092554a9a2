"""`myshift demo`: the whole weekly flow on two throwaway local servers.

dev (``multi-dev``) and prod (``multi-prod``) are seeded with a small
multi-tenant app; prod has rows and is ``protected``.  The demo then runs the
real ``myshift`` command line, step by step, in a temporary directory that
holds ``myshift.toml`` and ``checks.sql``:

dump dev -> plan prod -> rehearse (a check fails: the plan drops a column the
app still reads) -> fix dev, dump and plan again -> rehearse (passes) -> apply
-> history -> rollback.

Every ``$ myshift …`` line it prints is the argv of the child process it runs
(``python -m myshift`` with that argv, in that directory), so a user can type
it.  The directory is a ``TemporaryDirectory``: it is removed on success,
failure and Ctrl-C alike.  The children run in their own process group, so a
Ctrl-C reaches them once, forwarded by the demo, which then waits for them to
clean up (a rehearsal stops its sandbox) before it stops its own servers.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from myshift import interrupts
from myshift.db.connect import Endpoint, connected, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.split import split_sql
from myshift.errors import MyshiftError
from myshift.exitcodes import ExitCode

# The check the first plan breaks: it drops users.legacy_flags, which billing
# still reads.  The second check passes either way.
CHECKS_SQL = """\
-- check: billing still reads users.legacy_flags (2 flagged users)
SELECT COUNT(*) = 2 FROM users WHERE legacy_flags > 0;

-- check: every invoice has its tenant
SELECT i.id FROM invoices i LEFT JOIN tenants t ON t.id = i.tenant_id WHERE t.id IS NULL;
"""

# The fix, made on dev: keep the column one more release.
FIX_SQL = "ALTER TABLE users ADD COLUMN legacy_flags int DEFAULT NULL AFTER full_name"


class DemoFailed(MyshiftError):
    """A demo step did not end as the demo expects."""


@dataclass(frozen=True)
class Step:
    """One command the demo ran: its argv (after ``myshift``) and exit code."""

    argv: tuple[str, ...]
    exit_code: int

    @property
    def command(self) -> str:
        return "myshift " + shlex.join(self.argv)


def _demo_sql(name: str) -> str:
    return resources.files("myshift.demo").joinpath(name).read_text(encoding="utf-8")


def seed(ep: Endpoint, *files: str) -> None:
    with connected(ep, schema="") as conn:
        conn.execute(
            f"CREATE DATABASE IF NOT EXISTS {quote_ident(ep.schema)} "
            "DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
        conn.execute(f"USE {quote_ident(ep.schema)}")
        for name in files:
            for st in split_sql(_demo_sql(name), name):
                conn.execute(st.sql)


def config_text(dev_port: int, prod_port: int) -> str:
    """The demo's ``myshift.toml``: dev and a protected prod on the local servers."""
    return (
        "# written by `myshift demo`: two throwaway local servers\n"
        "[env.dev]\n"
        f'host = "127.0.0.1"\nport = {dev_port}\nuser = "root"\nschema = "multi-dev"\n\n'
        "[env.prod]\n"
        f'host = "127.0.0.1"\nport = {prod_port}\nuser = "root"\nschema = "multi-prod"\n'
        "protected = true\n\n"
        "# the watch around prod's apply, short for the demo (default: 10s before, 2m after)\n"
        "[watch]\n"
        'interval = "1s"\nbaseline = "2s"\nafter = "3s"\n'
    )


# Would make the commands use another config file or password than the demo's.
_UNSET = ("MYSHIFT_CONFIG", "MYSQL_PWD")


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _UNSET}


def path_hint(path_var: str | None) -> str | None:
    """``export PATH=…`` when a typed ``myshift`` would not be the one the demo runs.

    After ``make demo`` myshift is in ``.venv/bin``, which is not on PATH: the
    ``$ myshift …`` lines would then fail for a user who types them.
    """
    bindir = Path(sys.executable).parent
    ours = bindir / "myshift"
    if not ours.exists():
        return None
    found = shutil.which("myshift", path=path_var)
    if found is not None and Path(found).resolve() == ours.resolve():
        return None
    return f'$ export PATH={shlex.quote(str(bindir))}:"$PATH"   # the myshift these commands run'


def run_child(argv: Sequence[str], cwd: Path) -> int:
    """Run ``myshift ARGV`` in CWD; forward one Ctrl-C (or the SIGTERM, SIGHUP that
    stopped the demo: ``myshift.interrupts``) and wait for it to clean up."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "myshift", *argv],
        cwd=cwd,
        env=_child_env(),
        stdin=subprocess.DEVNULL,
        process_group=0,  # a terminal's Ctrl-C reaches the demo only; it forwards one
    )
    try:
        return proc.wait()
    except BaseException:
        if proc.poll() is None:
            proc.send_signal(interrupts.received())
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        raise


def run(say: Callable[[str], None] = print, keep: bool = False) -> list[Step]:
    """Run the demo; return the commands it ran, in order."""
    say("Starting two throwaway MariaDB servers (dev and prod)...")
    dev_srv = prod_srv = None
    try:
        dev_srv = LocalServer.start(server_id=1)
        prod_srv = LocalServer.start(server_id=2)
        dev = Endpoint(port=dev_srv.port, user="root", password="", schema="multi-dev")
        prod = Endpoint(port=prod_srv.port, user="root", password="", schema="multi-prod")
        seed(dev, "dev.sql")
        seed(prod, "prod.sql", "rows.sql")
        with tempfile.TemporaryDirectory(prefix="myshift-demo-") as tmp:
            steps = _flow(Path(tmp), dev, prod, say)
        if keep:
            say(f"servers left running: dev {dev.redacted()}, prod {prod.redacted()}")
        return steps
    finally:
        if not keep:
            for srv in (prod_srv, dev_srv):
                if srv is not None:
                    srv.stop()


def _flow(work: Path, dev: Endpoint, prod: Endpoint, say: Callable[[str], None]) -> list[Step]:
    steps: list[Step] = []

    def step(title: str, *argv: str, expect: int = 0) -> None:
        say("")
        say(f"== {title}")
        s = Step(tuple(argv), -1)
        say(f"$ {s.command}")
        code = run_child(argv, work)
        steps.append(Step(tuple(argv), code))
        if code != expect:
            raise DemoFailed(
                f"`{s.command}` exited {code}, the demo expected {expect}.",
                "Look at its output above; `make test` checks the demo.",
            )

    (work / "myshift.toml").write_text(config_text(dev.port, prod.port), encoding="utf-8")
    (work / "checks.sql").write_text(CHECKS_SQL, encoding="utf-8")
    say(f"dev  = {dev.redacted()}  (the next release's schema)")
    say(f"prod = {prod.redacted()}  (today's schema, with rows; protected)")
    say(f"Working in {work} (removed at the end), which holds myshift.toml:")
    say(config_text(dev.port, prod.port).rstrip())
    say("and checks.sql, the queries a rehearsal must pass:")
    say(CHECKS_SQL.rstrip())
    path_line = path_hint(os.environ.get("PATH"))
    if path_line:
        say(path_line)
    unset = [k for k in _UNSET if k in os.environ]
    if unset:
        say(f"$ unset {' '.join(unset)}   # the demo's myshift.toml and passwords must be used")
    say(f"$ cd {shlex.quote(str(work))}")

    step("1. dump the dev schema", "dump", "--from", "dev", "-o", "dev_schema.sql")
    step(
        "2. plan: what turns prod into dev (a dry run, nothing is changed)",
        *("plan", "--from", "dev_schema.sql", "--to", "prod", "--allow-drop"),
        *("-o", "plan.json"),
    )
    prod_yes = ("--to", "prod", "--yes")
    rehearse = ("rehearse", "--plan", "plan.json", "--to", "prod", "--data", "full")
    step(
        "3. rehearse on a copy of prod: the plan drops a column billing reads",
        *rehearse,
        *("--check", "checks.sql"),
        expect=int(ExitCode.REHEARSAL_FAILED),
    )
    say("")
    say("== 4. fix it on dev: keep users.legacy_flags one more release")
    say(f"dev> {FIX_SQL};")
    with connected(dev) as conn:
        conn.execute(FIX_SQL)
    step("5. dump dev again", "dump", "--from", "dev", "-o", "dev_schema.sql")
    step("6. plan again", "plan", "--from", "dev_schema.sql", "--to", "prod", "-o", "plan.json")
    step("7. rehearse the new plan: the checks pass", *rehearse, "--check", "checks.sql")
    step("8. apply exactly the rehearsed plan", *("apply", "--plan", "plan.json"), *prod_yes)
    step("9. roll the apply back (the latest one)", "rollback", *prod_yes)
    step("10. history of prod: both rehearsals, the apply, the rollback", "history", "--to", "prod")
    with connected(prod) as conn:
        n = conn.scalar("SELECT COUNT(*) FROM invoices")
    say("")
    say(f"prod kept its data: {n} invoices.")
    return steps
