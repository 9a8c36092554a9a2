"""Every shell and TOML block of README.md and README.es.md works (issue 13).

A block is a fenced code block.  ``toml`` blocks are parsed with tomllib and
loaded through myshift's own loader (unknown keys fail).  ``sh``/``bash``/
``console`` blocks are run, in order, with ``bash -e`` in one temporary
directory against two throwaway servers started here — as a reader following
the README would, each block after the ones before it.

Markers, an HTML comment on the line before a block:

- ``<!-- readme-test: skip (REASON) -->``: not run; the reason is required.
- ``<!-- readme-test: file NAME -->``: the block is that file's content in the
  reader's directory (``myshift.toml``, ``checks.sql``).

The README's placeholders and how this test maps them:

- hosts ``dev-db.internal`` / ``prod-db.internal`` with port ``3306``: the dev
  and prod throwaway servers (127.0.0.1 and their ports), in ``myshift.toml``
  and on the command line (``-h prod-db.internal -P 3306``);
- ``ssl_*`` lines of ``myshift.toml`` are dropped (the servers have no TLS), and a
  ``[watch]`` table shortens the watch around prod's applies to seconds;
- user ``migrator`` exists on both servers with all privileges, and its
  password is in ``DEV_DB_PASSWORD``, ``PROD_DB_PASSWORD`` and ``MYSQL_PWD``
  (so ``-p`` does not prompt: there is no terminal here);
- schemas ``multi-dev`` / ``multi-prod`` hold the demo's dev and prod schemas
  (``src/myshift/demo``), prod with its rows.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from myshift.config.settings import load_settings
from myshift.db.connect import Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.split import split_sql

ROOT = Path(__file__).resolve().parent.parent
READMES = ("README.md", "README.es.md")
DEMO = ROOT / "src" / "myshift" / "demo"
SHELL = {"sh", "bash", "console"}
PASSWORD = "readme-test-pw"
_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*readme-test:\s*(skip|file)\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    readme: str
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    marker: str | None = None  # "skip" or "file"
    arg: str = ""  # the skip reason or the file name

    def where(self) -> str:
        return f"{self.readme}:{self.line} ({self.lang})"


def blocks(readme: str) -> list[Block]:
    """The fenced blocks of one README, each with the marker on the line before it."""
    lines = (ROOT / readme).read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        prev = next((ln for ln in reversed(lines[:start]) if ln.strip()), "")
        mk = _MARKER.match(prev.strip())
        found.append(
            Block(
                readme=readme,
                line=start + 1,
                lang=m.group(1),
                text="\n".join(body) + "\n",
                marker=mk.group(1) if mk else None,
                arg=mk.group(2).strip("() ") if mk else "",
            )
        )
        i += 1
    return found


def _strip_comments(b: Block) -> str:
    """A block's code without its comments (which are translated)."""
    out = []
    for ln in b.text.splitlines():
        if b.lang in SHELL | {"toml"}:
            if ln.lstrip().startswith("#"):
                continue
            ln = re.sub(r"\s+#\s.*$", "", ln) if b.lang == "toml" else re.sub(r"\s{2,}#.*$", "", ln)
        elif b.lang == "sql" and ln.lstrip().startswith("-- check:"):
            continue  # check names are prose
        out.append(ln.rstrip())
    return "\n".join(ln for ln in out if ln)


# ------------------------------------------------------------------ static checks


@pytest.mark.parametrize("readme", READMES)
def test_markers_are_valid(readme: str) -> None:
    for b in blocks(readme):
        if b.marker == "skip":
            assert b.arg, f"{b.where()}: a skip marker needs a reason in parentheses"
        if b.marker == "file":
            assert re.fullmatch(r"[\w.-]+", b.arg), f"{b.where()}: bad file name {b.arg!r}"
    assert any(b.lang in SHELL and b.marker is None for b in blocks(readme)), "nothing runs"


@pytest.mark.parametrize("readme", READMES)
def test_toml_blocks_load(readme: str, tmp_path: Path) -> None:
    tomls = [b for b in blocks(readme) if b.lang == "toml"]
    assert tomls, f"{readme} has no TOML block"
    for b in tomls:
        try:
            tomllib.loads(b.text)
        except tomllib.TOMLDecodeError as exc:
            pytest.fail(f"{b.where()}: not TOML: {exc}")
        (tmp_path / "myshift.toml").write_text(b.text, encoding="utf-8")
        settings = load_settings(tmp_path)  # unknown [env.*] / [online] keys raise here
        # The loader keeps unknown top-level keys for later readers; a README must not
        # show one (a typo there would be silently ignored).
        assert not settings.extra, f"{b.where()}: unknown top-level keys {sorted(settings.extra)}"


def test_both_readmes_have_the_same_blocks() -> None:
    """The Spanish README keeps in step: same blocks, same order, same code."""
    en, es = blocks("README.md"), blocks("README.es.md")
    summary_en = [(b.lang, b.marker, b.arg if b.marker == "file" else "") for b in en]
    summary_es = [(b.lang, b.marker, b.arg if b.marker == "file" else "") for b in es]
    assert summary_en == summary_es
    for a, b in zip(en, es, strict=True):
        if a.lang in SHELL | {"toml", "sql"}:
            assert _strip_comments(a) == _strip_comments(b), (
                f"{a.where()} and {b.where()} differ (comments aside)"
            )


def test_blocks_differ_in_comments_only_is_detected() -> None:
    """The comparison above can fail: a changed flag is a difference, a comment is not."""
    a = Block("a", 1, "sh", "myshift plan --to prod   # plan it\n")
    b = Block("b", 1, "sh", "myshift plan --to prod   # planificar\n")
    c = Block("c", 1, "sh", "myshift plan --to dev\n")
    assert _strip_comments(a) == _strip_comments(b) != _strip_comments(c)


# ------------------------------------------------------------------ running the blocks


@dataclass(frozen=True)
class Servers:
    dev: LocalServer
    prod: LocalServer


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    dev = LocalServer.start(server_id=31)
    try:
        prod = LocalServer.start(server_id=32)
        try:
            yield Servers(dev, prod)
        finally:
            prod.stop()
    finally:
        dev.stop()


def _reset(srv: LocalServer, schema: str, files: tuple[str, ...]) -> None:
    """The schema as the demo has it, no myshift state, and the `migrator` account."""
    c = connect(Endpoint(host=srv.host, port=srv.port, user="root", password="", schema=""))
    try:
        for s in (schema, "_myshift", "_myshift_trash"):
            c.execute(f"DROP DATABASE IF EXISTS {quote_ident(s)}")
        c.execute(f"CREATE DATABASE {quote_ident(schema)} DEFAULT CHARACTER SET utf8mb4")
        c.execute(f"USE {quote_ident(schema)}")
        for f in files:
            for st in split_sql((DEMO / f).read_text(encoding="utf-8"), f):
                c.execute(st.sql)
        for host in ("127.0.0.1", "localhost"):
            c.execute(f"CREATE USER IF NOT EXISTS 'migrator'@'{host}' IDENTIFIED BY '{PASSWORD}'")
            c.execute(f"GRANT ALL ON *.* TO 'migrator'@'{host}' WITH GRANT OPTION")
    finally:
        c.close()


def _map_toml(text: str, srv: Servers) -> str:
    ports = {"dev-db.internal": srv.dev.port, "prod-db.internal": srv.prod.port}
    out: list[str] = []
    port: int | None = None
    for ln in text.splitlines():
        m = re.match(r'\s*host\s*=\s*"([^"]+)"', ln)
        if m and m.group(1) in ports:
            port = ports[m.group(1)]
            ln = 'host = "127.0.0.1"'
        elif re.match(r"\s*port\s*=", ln) and port is not None:
            ln = f"port = {port}"
        elif re.match(r"\s*ssl_", ln):
            continue
        elif ln.startswith("["):
            port = None
        out.append(ln)
    # The watch around prod's applies, in seconds rather than the default minutes.
    out.append('\n[watch]\ninterval = "0.5s"\nbaseline = "1s"\nafter = "1s"')
    return "\n".join(out) + "\n"


def _map_shell(text: str, srv: Servers) -> str:
    for name, s in (("dev-db.internal", srv.dev), ("prod-db.internal", srv.prod)):
        text = text.replace(f"-h {name} -P 3306", f"-h 127.0.0.1 -P {s.port}")
        assert name not in text, f"unmapped host {name} in:\n{text}"
    return text


@pytest.mark.parametrize("readme", READMES)
def test_shell_blocks_run(readme: str, servers: Servers, tmp_path: Path) -> None:
    """Followed literally, every shell block of the README succeeds."""
    _reset(servers.dev, "multi-dev", ("dev.sql",))
    _reset(servers.prod, "multi-prod", ("prod.sql", "rows.sql"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL", "MYSHIFT"))}
    env.update(
        HOME=str(tmp_path),  # no ~/.my.cnf of the machine's
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        DEV_DB_PASSWORD=PASSWORD,
        PROD_DB_PASSWORD=PASSWORD,
        MYSQL_PWD=PASSWORD,
        NO_COLOR="1",
    )
    # The files the README describes are in the reader's directory before they start.
    for b in blocks(readme):
        if b.marker == "file":
            text = _map_toml(b.text, servers) if b.arg == "myshift.toml" else b.text
            (tmp_path / b.arg).write_text(text, encoding="utf-8")
    ran = 0
    for b in blocks(readme):
        if b.lang not in SHELL or b.marker is not None:
            continue
        res = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", _map_shell(b.text, servers)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert res.returncode == 0, (
            f"{b.where()} failed (exit {res.returncode}):\n{b.text}\n"
            f"--- stdout\n{res.stdout[-3000:]}\n--- stderr\n{res.stderr[-3000:]}"
        )
        print(f"== {b.where()}\n{res.stdout}{res.stderr}")
        ran += 1
    assert ran >= 2
