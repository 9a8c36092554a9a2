"""Issue 13 item 4: plan output a reader can use — formats, widths, colour rules."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import termios
from pathlib import Path

import pytest

from clitools import MYSHIFT, run_cli
from myshift.db.connect import Conn, Endpoint
from myshift.engine.changes.columns import ModifyColumn
from myshift.model.schema import Column

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG_TABLE = "customer_order_line_items_with_a_deliberately_long_table_name"
LONG_COL = "shipping_address_line_two_for_the_delivery_partner_notes_x"


def url(ep: Endpoint) -> str:
    return f"mysql://root:@{ep.host}:{ep.port}/{ep.schema}"


@pytest.fixture
def long_plan(fresh_schema: Endpoint, conn: Conn, tmp_path: Path) -> list[str]:
    """A plan whose reasons and pre-flights are far wider than 80 columns."""
    conn.execute(
        f"CREATE TABLE {LONG_TABLE} (id int PRIMARY KEY, {LONG_COL} varchar(100) NULL, "
        "note varchar(10))"
    )
    desired = tmp_path / "schema.sql"
    desired.write_text(
        f"CREATE TABLE {LONG_TABLE} (id int PRIMARY KEY, {LONG_COL} varchar(100) NOT NULL, "
        "note varchar(5));\n"
    )
    return ["--to", url(fresh_schema), "--desired", str(desired)]


def comment_lines(text: str) -> list[str]:
    """The comment lines, less the held-back statements (SQL, which may stay long)."""
    return [line for line in text.splitlines() if line.startswith("--") and line[-1] != ";"]


def test_piped_plan_is_sql_that_keeps_risks_and_preflights_within_80_columns(
    long_plan: list[str], tmp_path: Path
) -> None:
    r = run_cli("plan", *long_plan, cwd=tmp_path)  # piped: the sql format
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "[data-dependent]" in out and "[destructive]" in out
    assert "pre-flight:" in out and "NULL -> NOT NULL" in out
    assert "\x1b[" not in out
    wide = [line for line in comment_lines(out) if len(line) > 80]
    assert not wide, wide
    # Long statements stay whole: one line each, runnable as they are.
    assert any(line.startswith("ALTER TABLE") and line.endswith(";") for line in out.splitlines())
    human = run_cli("plan", *long_plan, "--format", "human", cwd=tmp_path).stdout
    assert not [line for line in comment_lines(human) if len(line) > 80]
    assert f"-- {LONG_TABLE}" in human  # grouped by table


def test_json_format_parses(long_plan: list[str], tmp_path: Path) -> None:
    r = run_cli("plan", *long_plan, "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["statements"] and all("sql" in s for s in doc["statements"])


def _on_a_terminal(args: list[str], cwd: Path, env: dict[str, str], cols: int) -> str:
    """stdout of myshift run on a pseudo-terminal ``cols`` wide."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    full = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    full.update({"TERM": "xterm-256color", "COLUMNS": "", **env})
    full = {k: v for k, v in full.items() if v}
    proc = subprocess.Popen(
        [*MYSHIFT, *args], cwd=cwd, stdout=slave, stderr=subprocess.PIPE, env=full
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_colour_on_a_terminal_but_not_with_no_color_or_dumb_terminal(
    long_plan: list[str], tmp_path: Path
) -> None:
    coloured = _on_a_terminal(["plan", *long_plan], tmp_path, {}, 100)
    assert ANSI.search(coloured)  # the check can fail: colour is there by default
    plain = ANSI.sub("", coloured)
    assert "[data-dependent]" in plain  # human format on a terminal
    assert not [line for line in comment_lines(plain) if len(line) > 100]
    assert [line for line in comment_lines(plain) if len(line) > 80]  # uses the width
    for env in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
        out = _on_a_terminal(["plan", *long_plan], tmp_path, env, 100)
        assert "\x1b[" not in out, env
        assert "[data-dependent]" in out


def test_modify_column_says_what_changes() -> None:
    before = Column("email", "varchar(100)", nullable=True, default="NULL")
    after = Column("email", "varchar(100)", nullable=False)
    text = ModifyColumn(before, after).describe()
    assert "NULL -> NOT NULL" in text, text
    assert "varchar(100) -> varchar(100)" not in text
    wider = ModifyColumn(after, Column("email", "varchar(200)", nullable=False)).describe()
    assert "varchar(100) -> varchar(200)" in wider and "NULL" not in wider


def test_rehearsal_report_names_each_statement_and_marks_estimates() -> None:
    from myshift.workflows.rehearse_report import RehearsalReport, StatementReport

    rows = [
        StatementReport(1, "orders", "DROP TRIGGER `orders_ai`", "safe", "DEFAULT",
                        status="ok", seconds=0.01, description="drop trigger orders_ai"),
        StatementReport(2, "orders", "CREATE TRIGGER `orders_ai` AFTER INSERT ON `orders` …",
                        "safe", "DEFAULT", status="ok", seconds=0.02, production_rows=1_000_000,
                        estimated_seconds=12.5,
                        description="create trigger orders_ai on orders"),
    ]  # fmt: skip
    r = RehearsalReport("r1", "plan.json", "sha256:" + "0" * 64, "", "prod", "local", "full",
                        "2026-12-03T14:00:00Z", result="passed", statements=rows)  # fmt: skip
    for text in (r.to_text(), r.to_markdown()):
        assert "drop trigger orders_ai" in text and "create trigger orders_ai on orders" in text
        assert "~12.5 s" in text
    assert "~1,000,000" in r.to_markdown()


def test_colour_codes_come_from_rich_which_honours_no_color_and_dumb_terminals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from myshift.workflows.report import Palette

    for var in ("NO_COLOR", "FORCE_COLOR", "COLORTERM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    on = Palette(True)
    assert on.paint("[safe]", "safe") == "\x1b[32m[safe]\x1b[0m"
    assert on.paint("-- orders", "subject") == "\x1b[2m-- orders\x1b[0m"
    assert on.paint("x\ty", "nope") == "x\ty"  # no such style: unchanged
    assert Palette(False).paint("[safe]", "safe") == "[safe]"
    # Even when a caller asks for colour, rich's console refuses it under these (NO_COLOR
    # leaves rich's non-colour attributes, the headings' dim; TERM=dumb leaves nothing).
    with monkeypatch.context() as m:
        m.setenv("NO_COLOR", "1")
        assert set(Palette(True).codes) == {"subject"}
    with monkeypatch.context() as m:
        m.setenv("TERM", "dumb")
        assert Palette(True).codes == {}


def test_narrow_terminal_wraps_every_comment_line_held_back_header_too(
    long_plan: list[str], tmp_path: Path
) -> None:
    out = ANSI.sub("", _on_a_terminal(["plan", *long_plan], tmp_path, {}, 50))
    assert "-- held back (needs --allow-drop)" in out
    # A name longer than the width (a group's table name) cannot be wrapped.
    wide = [ln for ln in comment_lines(out) if len(ln) > 50 and " " in ln[3:].strip()]
    assert not wide, wide
