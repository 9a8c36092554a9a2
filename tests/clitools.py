"""Run the real `myshift` command in a subprocess (the whole path, as a user would)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MYSHIFT = [sys.executable, "-m", "myshift"]


def run_cli(
    *args: str,
    cwd: Path,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "MYSQL_PWD"}
    full_env.update(env or {})
    return subprocess.run(
        [*MYSHIFT, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )
