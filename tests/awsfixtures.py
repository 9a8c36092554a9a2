"""A local moto server for the AWS tests: real boto3 HTTP calls to 127.0.0.1, no mocks in myshift.

Use the ``moto_endpoint`` fixture (re-exported by conftest): it starts one
moto server per test session on a free port, points boto3 at it through
``AWS_ENDPOINT_URL`` and dummy credentials (so subprocess runs of ``myshift``
reach it too), and resets its state before each test.
"""

from __future__ import annotations

import os
import socket
import urllib.request
from collections.abc import Iterator

import pytest

AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """One moto server on 127.0.0.1 for the whole session; yields its URL."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    srv.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.stop()


@pytest.fixture
def moto_endpoint(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The moto URL, with boto3 (in-process and subprocesses) pointed at it, state reset."""
    for k, v in {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": moto_server}.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(k, raising=False)
    req = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()
    assert os.environ["AWS_ENDPOINT_URL"] == moto_server
    return moto_server
