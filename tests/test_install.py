"""`pip install .` on a machine without make: a fresh venv gets a working `myshift`.

Builds from a copy of the project (so nothing is written into the checkout)
with pip's default build isolation; dependencies come from pip's cache or
the index as for a user.  About 15-30 s with a warm pip cache.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from myshift import __version__

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.install
def test_pip_install_into_a_fresh_venv_gives_a_working_myshift(tmp_path: Path) -> None:
    project = tmp_path / "myshift-src"
    project.mkdir()
    shutil.copy(ROOT / "pyproject.toml", project)
    shutil.copy(ROOT / "README.md", project)
    shutil.copytree(
        ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run(
        # -v: pip shows the build backend's own warnings only when verbose.
        [str(venv / "bin" / "pip"), "install", "-v", "--disable-pip-version-check", str(project)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    # The project's own pyproject.toml causes no setuptools deprecation warning.
    output = pip.stdout + pip.stderr
    warned = [ln for ln in output.splitlines() if "Warning" in ln or "deprecated" in ln]
    assert not any("setuptools" in ln or "BuildBackend" in ln for ln in warned), warned
    version = subprocess.run(
        [str(venv / "bin" / "myshift"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"myshift, version {__version__}"
    helped = subprocess.run(
        [str(venv / "bin" / "myshift"), "plan", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert helped.returncode == 0 and "--desired" in helped.stdout, helped.stderr
