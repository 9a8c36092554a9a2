"""`myshift demo`: the weekly flow up to rehearse/apply/rollback, honest commands, no leftovers.

The demo starts its own two servers (and each rehearsal a sandbox), so these
tests need no fixture server; each is ~15 s.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from myshift.cli import cli
from myshift.exitcodes import ExitCode
from myshift.workflows import demo


def _ports(text: str) -> list[int]:
    return [
        int(p)
        for p in re.findall(r"^(?:dev |prod)\s*= mysql://root@127\.0\.0\.1:(\d+)/", text, re.M)
    ]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def _merged_output(path: Path) -> Iterator[None]:
    """fd 1 and 2 (the children inherit them) into one file, in the order written."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("wb") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def test_demo_rehearses_fails_fixes_passes_applies_rolls_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    said: list[str] = []
    started = time.monotonic()
    with _merged_output(tmp_path / "out.txt"):
        steps = demo.run(say=said.append)
    took = time.monotonic() - started
    child = (tmp_path / "out.txt").read_text(errors="replace")
    text = "\n".join(said) + "\n" + child

    # the commands printed are the ones that ran, in order, and each is a valid CLI line
    printed = [line[2:] for line in said if line.startswith("$ myshift ")]
    assert printed == [s.command for s in steps]
    for line, step in zip(printed, steps, strict=True):
        argv = shlex.split(line)
        assert argv[0] == "myshift" and tuple(argv[1:]) == step.argv
        cli.make_context("myshift", list(argv[1:]), resilient_parsing=True)
    names = [s.argv[0] for s in steps]
    assert names == [
        "dump", "plan", "rehearse", "dump", "plan", "rehearse", "apply", "rollback", "history"
    ]  # fmt: skip
    codes = [s.exit_code for s in steps]
    assert codes == [0, 0, int(ExitCode.REHEARSAL_FAILED), 0, 0, 0, 0, 0, 0]

    # the children's own output, in order: failed rehearsal, passed one, apply, rollback
    marks = [
        re.search(r"Rehearsal \S+: FAILED \(checks\)", child),
        re.search(r"Rehearsal \S+: PASSED", child),
        re.search(r"Applied 9 statement\(s\) to prod", child),
        re.search(r"Rolled back apply #\d+", child),
    ]
    assert all(marks), child
    starts = [m.start() for m in marks if m]
    assert starts == sorted(starts)
    assert "Unknown column 'legacy_flags'" in child
    assert "prod kept its data: 4 invoices." in text

    # nothing left behind: the work directory and the servers
    work = re.search(r"^Working in (\S+)", "\n".join(said), re.M)
    assert work and Path(work.group(1)).parent == tmp
    assert not list(tmp.glob("myshift-demo-*"))
    ports = _ports("\n".join(said))
    assert len(ports) == 2 and not any(_listening(p) for p in ports)
    assert took < 90, f"the demo took {took:.0f} s"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_demo_ctrl_c_leaves_nothing_behind(tmp_path: Path, sig: signal.Signals) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "myshift", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("Preparing the local sandbox") or time.monotonic() > deadline:
            break
    assert list(tmp_path.glob("myshift-demo-*")), "".join(seen)  # the rehearsal is running
    proc.send_signal(sig)  # what a terminal's Ctrl-C (or kill) sends the demo
    rest, _ = proc.communicate(timeout=90)
    text = "".join(seen) + rest
    assert proc.returncode == 128 + sig, text
    assert "Applied" not in text
    assert not list(tmp_path.glob("myshift-demo-*")), text
    ports = _ports(text)
    assert len(ports) == 2 and not any(_listening(p) for p in ports), text


def test_demo_says_how_to_get_its_myshift_on_path() -> None:
    """After `make demo` myshift is in .venv/bin, off PATH: the `$ myshift` lines it
    prints only work for a user told to put that directory on PATH."""
    bindir = Path(sys.executable).parent
    assert (bindir / "myshift").exists()  # the venv the tests run in
    line = demo.path_hint("/usr/bin:/bin")
    assert line is not None and line.startswith(f"$ export PATH={shlex.quote(str(bindir))}:")
    assert demo.path_hint(f"{bindir}:/usr/bin") is None
