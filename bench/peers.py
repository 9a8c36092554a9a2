"""The tools we compare against, and how one run of any tool is measured.

Every tool — myshift included — runs as a child process and is timed from
spawn to exit, the way a user experiences it (interpreter start-up and imports
included).  Peak RSS is the largest resident set of the tool's process tree
(rusage ``maxrss``, which also covers waited-for descendants such as mysqldump
under mysql-schema-diff).

Run as a script, this module is the Alembic peer:
``python bench/peers.py alembic PROD_URL DEV_URL`` reflects the dev database
with ``MetaData.reflect`` (standing in for the application's models) and runs
``alembic.autogenerate.compare_metadata`` against prod, which reflects prod
through its own inspector — exactly what ``alembic revision --autogenerate``
does.  It prints one JSON line with the number of differences and the split
timings.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"


@dataclass
class Measured:
    """One run of one tool."""

    seconds: float
    peak_rss_mb: float | None  # None when unknown (killed on timeout)
    returncode: int | None
    timed_out: bool
    stdout: str
    stderr_tail: str
    stderr_error: str = ""  # the first line that looks like the cause of a failure


GNU_TIME = "/usr/bin/time"


def measure(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> Measured:
    """Run ``cmd`` once; wall time, peak RSS, output; killed (process group) after ``timeout``.

    Peak RSS comes from GNU time's ``%M`` when it is installed.  Our own
    ``wait4()`` rusage is only the fallback: Linux carries the RSS high-water
    mark of the forking process across ``exec``, so a child of this (large)
    bench process would report at least the bench's own RSS.  Forked from the
    tiny ``time`` binary, the figure is the tool's own.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file,
    ):
        use_time = os.access(GNU_TIME, os.X_OK)
        argv = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *cmd] if use_time else cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, start_new_session=True
        )
        done: list[tuple[float, int, int]] = []  # (end time, wait status, maxrss KiB)

        def reap() -> None:
            _pid, status, ru = os.wait4(proc.pid, 0)
            done.append((time.perf_counter(), status, ru.ru_maxrss))

        waiter = threading.Thread(target=reap, daemon=True)
        waiter.start()
        waiter.join(timeout)
        timed_out = waiter.is_alive()
        if timed_out:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            waiter.join()
        t_end, status, rss_kb = done[0]
        proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
        if use_time:
            # GNU time writes "Command exited with non-zero status N" before %M.
            lines = rss_file.read().split()
            rss_kb = int(lines[-1]) if lines and lines[-1].isdigit() else 0
        out.seek(0)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        return Measured(
            seconds=t_end - t0,
            peak_rss_mb=rss_kb / 1024.0 if rss_kb else None,
            returncode=None if timed_out else proc.returncode,
            timed_out=timed_out,
            stdout=out.read().decode(errors="replace"),
            stderr_tail=stderr[-800:],
            stderr_error=first_error_line(stderr),
        )


def first_error_line(stderr: str) -> str:
    """The line that names the failure: mysql-schema-diff dumps all of mysqldump's
    output after the error, so the last line is noise."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    if not lines:
        return ""
    if lines[0].startswith("Traceback"):
        return lines[-1]  # a Python exception: its message comes last
    return next((ln for ln in lines if "error" in ln.lower() or "failed" in ln.lower()), lines[-1])


# --------------------------------------------------------------------------- myshift


def myshift_bin() -> str:
    return str(VENV_BIN / "myshift")


def myshift_plan_available() -> tuple[bool, str]:
    """Whether ``myshift plan`` exists yet (the CLI is written in parallel)."""
    exe = myshift_bin()
    if not Path(exe).exists():
        return False, f"{exe} not found (run `make install`)"
    res = subprocess.run([exe, "plan", "--help"], capture_output=True, check=False, timeout=60)
    if res.returncode != 0:
        return False, "myshift plan not available yet"
    return True, ""


def myshift_plan_cmd(
    target_url: str, desired: str, *extra: str, allow_drop: bool = True
) -> list[str]:
    """``myshift plan`` printing every statement, drops included, like the peers do
    (``allow_drop=False``: the default invocation, drops held back).

    Verification in the workspace stays on (the default a user gets) unless
    ``extra`` says ``--no-verify``.
    """
    return [
        myshift_bin(),
        "plan",
        "--target",
        target_url,
        "--desired",
        desired,
        "--format",
        "sql",
        *(["--allow-drop"] if allow_drop else []),
        *extra,
    ]


# --------------------------------------------------------------------------- alembic


def alembic_available() -> tuple[bool, str]:
    py = VENV_BIN / "python"
    res = subprocess.run(
        [str(py), "-c", "import alembic, sqlalchemy"], capture_output=True, check=False
    )
    if res.returncode != 0:
        return False, "alembic/SQLAlchemy missing: run `.venv/bin/pip install -e '.[bench]'`"
    return True, ""


def alembic_cmd(prod_url: str, dev_url: str) -> list[str]:
    return [str(VENV_BIN / "python"), str(Path(__file__).resolve()), "alembic", prod_url, dev_url]


def _sqlalchemy_url(url: str) -> str:
    return "mysql+pymysql://" + url.split("://", 1)[1]


def run_alembic(prod_url: str, dev_url: str) -> dict[str, float | int]:
    """The Alembic peer, in this process (called by ``main`` in the child)."""
    t0 = time.perf_counter()
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import MetaData, create_engine

    t_import = time.perf_counter()
    dev_engine = create_engine(_sqlalchemy_url(dev_url))
    prod_engine = create_engine(_sqlalchemy_url(prod_url))
    metadata = MetaData()
    with dev_engine.connect() as conn:
        metadata.reflect(bind=conn)
    t_reflect = time.perf_counter()
    with prod_engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    t_end = time.perf_counter()
    return {
        "diffs": len(diffs),
        "import_s": t_import - t0,
        "reflect_dev_s": t_reflect - t_import,
        "compare_s": t_end - t_reflect,
    }


# --------------------------------------------------------------------------- mysql-schema-diff


def mysql_schema_diff_available(install: bool = True) -> tuple[bool, str]:
    """Find Debian's mysql-schema-diff, installing ``libmysql-diff-perl`` when we are root."""
    if shutil.which("mysql-schema-diff"):
        return True, ""
    hint = "install it with `apt-get install libmysql-diff-perl`"
    if install and os.geteuid() == 0 and shutil.which("apt-get"):
        print("mysql-schema-diff missing: installing libmysql-diff-perl ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "libmysql-diff-perl"],
            capture_output=True,
            check=False,
            env=env,
        )
        if shutil.which("mysql-schema-diff"):
            return True, ""
    return False, f"mysql-schema-diff not installed: {hint}"


def mysql_schema_diff_cmd(
    prod_port: int, dev_port: int, schema: str, host: str = "127.0.0.1"
) -> list[str]:
    # Two servers: the per-database --hostN/--portN options; `db:` forces a
    # database name (a file of that name would otherwise win).  It shells out to
    # mysqldump, which honours --host only over TCP, hence 127.0.0.1.
    return [
        "mysql-schema-diff",
        f"--host1={host}",
        f"--port1={prod_port}",
        "--user1=root",
        f"--host2={host}",
        f"--port2={dev_port}",
        "--user2=root",
        f"db:{schema}",
        f"db:{schema}",
    ]


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "alembic":
        print(json.dumps(run_alembic(argv[1], argv[2])))
        return 0
    print("usage: peers.py alembic PROD_URL DEV_URL", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
