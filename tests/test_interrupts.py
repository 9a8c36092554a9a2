"""myshift.interrupts with real signals sent to this process (no server needed).

The end-to-end checks (an ALTER killed, a rule closed, a sandbox removed on
SIGTERM) are in test_interrupt.py, test_access.py and test_sandbox_aws.py.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from myshift import interrupts
from myshift.exitcodes import ExitCode


def send(sig: int) -> None:
    os.kill(os.getpid(), sig)
    time.sleep(0.05)  # the handler runs in this (the main) thread at the next check


@pytest.mark.parametrize(
    ("sig", "code", "by"),
    [
        (signal.SIGINT, ExitCode.INTERRUPTED, "by user"),
        (signal.SIGTERM, ExitCode.TERMINATED, "by SIGTERM"),
        (signal.SIGHUP, ExitCode.HANGUP, "by SIGHUP (the terminal went away)"),
    ],
)
def test_each_stop_signal_raises_as_ctrl_c_and_names_itself(
    sig: signal.Signals, code: ExitCode, by: str
) -> None:
    with interrupts.installed():
        with pytest.raises(KeyboardInterrupt) as got:
            send(sig)
        assert interrupts.exit_code() == int(code) == 128 + sig
        assert interrupts.by() == by
    assert isinstance(got.value, interrupts.Stopped) == (sig != signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # put back
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_repeat_within_the_window_is_the_same_stop_a_later_one_insists() -> None:
    """timeout(1) sends SIGTERM twice, microseconds apart: one stop; an operator's
    second signal, later, stops the clean-up as a second Ctrl-C does."""
    with interrupts.installed():
        with pytest.raises(KeyboardInterrupt):
            try:
                send(signal.SIGTERM)
            finally:
                send(signal.SIGTERM)  # the same stop: clean-up goes on
        time.sleep(interrupts.REPEAT_WINDOW)
        with pytest.raises(KeyboardInterrupt):
            send(signal.SIGINT)
        assert interrupts.exit_code() == 143  # the first signal names the stop


def test_a_signal_ignored_at_start_stays_ignored() -> None:
    """nohup ignores SIGHUP: it must not stop myshift."""
    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with interrupts.installed():
            send(signal.SIGHUP)
            with pytest.raises(KeyboardInterrupt):
                send(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGHUP, old)


def test_routed_sends_every_stop_signal_to_the_handler() -> None:
    seen: list[int] = []

    def handler(signum: int, frame: object) -> None:
        if interrupts.note(signum):
            seen.append(signum)

    with interrupts.installed():
        with interrupts.routed(handler):
            send(signal.SIGTERM)
            time.sleep(interrupts.REPEAT_WINDOW)
            send(signal.SIGHUP)
        assert seen == [signal.SIGTERM, signal.SIGHUP]
        time.sleep(interrupts.REPEAT_WINDOW)
        with pytest.raises(KeyboardInterrupt):
            send(signal.SIGTERM)  # the block is over: back to raising


@pytest.mark.parametrize("readme", ["README.md", "README.es.md"])
def test_every_exit_code_is_in_the_readmes_table(readme: str) -> None:
    text = (Path(__file__).parent.parent / readme).read_text()
    missing = [f"{c.name} = {int(c)}" for c in ExitCode if f"\n| {int(c)} | " not in text]
    assert not missing, missing
