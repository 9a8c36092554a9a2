"""Run one ALTER TABLE through pt-online-schema-change, and leave nothing behind.

The tool creates ``_<table>_new`` with the change, adds three triggers
(``pt_osc_<db>_<table>_{ins,upd,del}``) that carry the application's writes
over, copies the rows in chunks of ``chunk_time`` seconds (pausing while
``Threads_running`` is over ``max_threads_running``, aborting above
``critical_threads_running``), moves the table's own triggers onto the copy
(``--preserve-triggers``, under LOCK TABLES), swaps the two tables with one
RENAME (its sessions' ``lock_wait_timeout`` short, retried) and drops the
old one.  Its sessions get the credentials from a 0600 option file (``F=``
in the DSN), deleted afterwards: no password on its command line, in the
process list, in myshift's output or in history.

What the tool changes besides the table: the copy's foreign keys (and, with
``rebuild_constraints``, the children's that reference it) are created
under other names (``fk`` -> ``_fk``), because constraint names are unique
per schema and the old table still holds them.  After the swap
``restore_fk_names`` renames them back with ``foreign_key_checks=0``
(``ALGORITHM=INPLACE, LOCK=NONE``: metadata only, no copy, no row check --
the rows were checked when they were written).

When the tool fails, or myshift is interrupted (Ctrl-C, the tool killed),
the tool is stopped (SIGTERM: it has no handler, so it stops at once) and
``clean_up`` removes what it made: its triggers, the shadow table, the old
table after a swap -- only objects that were not there before it started --
and says what it removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from myshift.config.settings import OnlineSettings
from myshift.db import sessions
from myshift.db.connect import Conn, DriverError, Endpoint, quote_ident
from myshift.db.own import REGISTRY
from myshift.engine import ddl
from myshift.engine.introspect.catalog import (
    existing_tables,
    foreign_keys_around,
    table_triggers,
)
from myshift.errors import ApplyFailed
from myshift.model.schema import ForeignKey, Trigger

OnProgress = Callable[[float, str], None]
Say = Callable[[str], None]

TOOL_TRIGGER_PREFIX = "pt_osc_"
DEFAULTS_PLACEHOLDER = "<defaults-file>"


def shadow_names(table: str) -> list[str]:
    """The tables the tool may create for ``table``: ``_t_new`` (with more leading
    underscores when taken) and ``_t_old``."""
    names = [("_" * n + f"{table}_new")[:64] for n in range(1, 4)]
    return [*names, f"_{table}_old"[:64]]


def command(
    tool: str,
    schema: str,
    table: str,
    alter: str,
    settings: OnlineSettings,
    defaults_file: str,
    *,
    replicas: bool,
    children: bool,
) -> list[str]:
    """The tool's argv: the change, throttling, cut-over lock wait, and a DSN naming
    the option file that holds the credentials (never the password itself)."""
    argv = [
        tool,
        f"--alter={alter}",
        "--execute",
        "--preserve-triggers",
        "--no-version-check",
        f"--max-load=Threads_running={settings.max_threads_running}",
        f"--critical-load=Threads_running={settings.critical_threads_running}",
        f"--chunk-time={settings.chunk_time:g}",
        f"--set-vars=lock_wait_timeout={settings.cutover_lock_wait_timeout}",
        "--progress=time,1",
    ]
    if children:
        # Tables referencing this one: point their foreign keys at the new table
        # by rebuilding them (drop_swap would leave a moment with no table at all).
        argv.append("--alter-foreign-keys-method=rebuild_constraints")
    if not replicas:
        argv.append("--recursion-method=none")
    argv.append(f"D={schema},t={table},F={defaults_file}")
    return argv


def _option_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextlib.contextmanager
def defaults_file(target: Endpoint) -> Iterator[str]:
    """A 0600 ``[client]`` option file with the target's credentials, deleted after."""
    lines = ["[client]", f"user={_option_value(target.user)}"]
    if target.password:
        lines.append(f"password={_option_value(target.password)}")
    if target.socket:
        lines += ["host=localhost", f"socket={_option_value(target.socket)}"]
    else:
        lines += [f"host={_option_value(target.host)}", f"port={int(target.port)}"]
    for key, value in (
        ("ssl-ca", target.ssl_ca),
        ("ssl-cert", target.ssl_cert),
        ("ssl-key", target.ssl_key),
    ):
        if value:
            lines.append(f"{key}={_option_value(value)}")
    fd, path = tempfile.mkstemp(prefix="myshift-osc-", suffix=".cnf")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            Path(path).unlink()


_COPY = re.compile(r"Copying .*?:\s+(\d+(?:\.\d+)?)% (.*)$")
_APPROX = re.compile(r"Copying approximately (\d+) rows")
_STAGES = (
    ("Creating new table", 0.0),
    ("Created new table", 0.0),
    ("Altering new table", 0.0),
    ("Creating triggers", 0.0),
    ("Copied rows OK", 100.0),
    ("Adding original triggers", 100.0),
    ("Swapping tables", 100.0),
    ("Swapped original and new tables", 100.0),
    ("Dropping old table", 100.0),
    ("Successfully altered", 100.0),
)


def parse_progress(line: str) -> tuple[float, str] | None:
    """``(percent, detail)`` from one line of the tool's output, or None."""
    m = _COPY.search(line)
    if m:
        return float(m[1]), f"copying rows, {m[2].strip()}"
    for text, pct in _STAGES:
        if text in line:
            return pct, line.split(" ", 1)[-1].strip() if line[:4].isdigit() else line.strip()
    return None


@dataclass
class OscOutcome:
    """What one run did: rows the tool said it copies, seconds, the argv it ran."""

    argv: list[str]
    rows: int | None
    seconds: float
    cleaned: list[str]


def run_statement(
    conn: Conn,
    target: Endpoint,
    table: str,
    alter: str,
    settings: OnlineSettings,
    tool: str,
    *,
    on_progress: OnProgress,
    say: Say,
    on_start: Callable[[list[str]], None] = lambda argv: None,
    stop: threading.Event | None = None,
) -> OscOutcome:
    """Run the change through the tool; on failure or interrupt clean up and re-raise.

    ``stop`` set (Ctrl-C seen by the statement watch) stops the tool as a
    KeyboardInterrupt would: the tool is ended and its leftovers removed."""
    schema = target.schema
    before_tables = existing_tables(conn, schema, shadow_names(table))
    fks_before = foreign_keys_around(conn, schema, table)
    own = _own_triggers(conn, schema, table)
    replicas = bool(sessions.replica_connections(conn))
    children = any(child != table for child, _ in fks_before)
    with defaults_file(target) as cnf:
        argv = command(
            tool, schema, table, alter, settings, cnf, replicas=replicas, children=children
        )
        shown = [a.replace(cnf, DEFAULTS_PLACEHOLDER) for a in argv]
        on_start(shown)
        t0 = time.monotonic()
        # Its output goes to a file, not a pipe: a killed myshift must not take
        # the tool down mid-change with SIGPIPE (it runs on to the end, as the
        # server runs on an ALTER whose client died; apply refuses meanwhile).
        with (
            tempfile.NamedTemporaryFile("w+", prefix="myshift-osc-", suffix=".log") as log,
            # Its sessions are myshift's work the watch cannot see (db.own).
            REGISTRY.outside(target.server_key()),
        ):
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # myshift stops it, then cleans up after it
            )
            try:
                code, tail, rows = _watch(proc, log.name, on_progress, stop)
            except BaseException:
                _stop(proc)
                cleaned = clean_up(conn, schema, table, before_tables, proc.pid, own)
                say(_cleaned_text(table, cleaned))
                raise
        seconds = time.monotonic() - t0
    if code != 0:
        cleaned = clean_up(conn, schema, table, before_tables, proc.pid, own)
        raise ApplyFailed(
            f"pt-online-schema-change failed on {table!r} (exit {code}): "
            + _last_error(tail)
            + f" {_cleaned_text(table, cleaned)}",
            f"The table is as it was before this statement; fix the cause and apply again "
            f"(its output ended: {' | '.join(list(tail)[-3:])[:400]}).",
        )
    renamed = restore_fk_names(conn, schema, fks_before)
    if renamed:
        say(f"{table}: foreign key name(s) {', '.join(renamed)} restored after the swap.")
    return OscOutcome(shown, rows, seconds, [])


def _watch(
    proc: subprocess.Popen[bytes], log: str, on_progress: OnProgress, stop: threading.Event | None
) -> tuple[int, list[str], int | None]:
    """Follow the tool's output until it exits: its exit code, last lines, and the
    rows it said it would copy."""
    tail: deque[str] = deque(maxlen=25)
    rows: int | None = None
    partial = ""
    with open(log, encoding="utf-8", errors="replace") as fh:
        while True:
            code = proc.poll()
            text = partial + fh.read()
            lines = text.split("\n")
            partial = lines.pop() if code is None else ""  # a line still being written
            for line in lines:
                tail.append(line)
                m = _APPROX.search(line)
                if m:
                    rows = int(m[1])
                got = parse_progress(line)
                if got is not None:
                    on_progress(*got)
            if code is not None:
                return code, list(tail), rows
            if stop is not None and stop.wait(0.1):
                raise KeyboardInterrupt
            if stop is None:
                time.sleep(0.1)


def _last_error(tail: Sequence[str]) -> str:
    for line in reversed(tail):
        text = line.strip()
        if text and not text.startswith(("#", "Exiting", "Dropping", "Dropped", "`")):
            return text.rstrip(".") + "."
    return "no error text."


def _cleaned_text(table: str, cleaned: list[str]) -> str:
    if not cleaned:
        return f"Nothing of the online copy of {table} was left behind."
    return f"Cleaned up what the online copy of {table} left behind: {', '.join(cleaned)}."


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the tool (it has no handler: it stops at once), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _retry(conn: Conn, sql: str, tries: int = 5) -> None:
    for n in range(tries):
        try:
            conn.execute(sql)
            return
        except DriverError as exc:
            code = exc.args[0] if exc.args else 0
            if code != 1205 or n == tries - 1:  # lock wait timeout: the tool's chunk ends
                raise
            time.sleep(0.5)


def clean_up(
    conn: Conn,
    schema: str,
    table: str,
    existed: set[str],
    pid: int | None = None,
    own: Sequence[Trigger] = (),
) -> list[str]:
    """Remove what a stopped run left: the tool's statements still running, its
    triggers, a shadow table it made (after moving back any of the table's own
    triggers it had moved there), and the old table after a completed swap.
    Objects that existed before the run (``existed``) are never touched.

    ``own`` are the table's triggers as they were before the run: the tool
    drops each from the table before creating it on its copy (trigger names are
    unique per schema), so a run stopped between the two has it nowhere; such
    a trigger is created again on the table."""
    q = quote_ident
    done: list[str] = []
    if pid is not None:
        for tid in sessions.threads_running(conn, f"pt-online-schema-change {pid} "):
            if sessions.kill_connection(conn, tid):
                done.append(f"its statement on connection {tid}")
    present = existing_tables(conn, schema, [table, *shadow_names(table)])
    for owner in [table, *sorted(present - {table})]:
        if owner not in present:
            continue
        for trig in table_triggers(conn, schema, owner):
            if trig.startswith(TOOL_TRIGGER_PREFIX):
                _retry(conn, f"DROP TRIGGER IF EXISTS {q(schema)}.{q(trig)}")
                done.append(f"trigger {trig}")
    for name in shadow_names(table):
        if name not in present or name in existed:
            continue
        if name.endswith("_old") and table not in present:
            continue  # never drop the only copy
        if name.endswith("_new"):
            done += _move_triggers_back(conn, schema, name, table)
        _retry(conn, f"DROP TABLE IF EXISTS {q(schema)}.{q(name)}")
        done.append(f"table {name}")
    if own and table in existing_tables(conn, schema, [table]):
        done += _recreate_missing(conn, schema, table, own)
    return done


def _own_triggers(conn: Conn, schema: str, table: str) -> list[Trigger]:
    """The table's triggers before the run, to re-create any a stopped run lost."""
    from myshift.engine.introspect import introspect

    return [t for t in introspect(conn, schema).triggers if t.table == table]


def _recreate_missing(conn: Conn, schema: str, table: str, own: Sequence[Trigger]) -> list[str]:
    present = set(table_triggers(conn, schema, table))
    done = []
    for trig in own:  # in their order (ACTION_ORDER) as introspected
        if trig.name in present:
            continue
        conn.execute(ddl.create_trigger(replace(trig, table=table), conn.flavor))
        done.append(f"trigger {trig.name} created again on {table}")
    return done


def _move_triggers_back(conn: Conn, schema: str, shadow: str, table: str) -> list[str]:
    """The tool moves the table's own triggers onto its copy just before the swap;
    stopped in between, they are put back on the table before the copy is dropped."""
    own = [t for t in table_triggers(conn, schema, shadow) if not t.startswith(TOOL_TRIGGER_PREFIX)]
    if not own:
        return []
    from myshift.engine.introspect import introspect

    model = introspect(conn, schema)
    moved = []
    for trig in model.triggers:
        if trig.table != shadow or trig.name not in own:
            continue
        conn.execute(f"DROP TRIGGER IF EXISTS {quote_ident(schema)}.{quote_ident(trig.name)}")
        conn.execute(ddl.create_trigger(replace(trig, table=table), conn.flavor))
        moved.append(f"trigger {trig.name} moved back onto {table}")
    return moved


def _fk_key(child: str, fk: ForeignKey) -> tuple[object, ...]:
    return (child, fk.columns, fk.ref_schema, fk.ref_table, fk.ref_columns)


def restore_fk_names(
    conn: Conn, schema: str, before: Sequence[tuple[str, ForeignKey]]
) -> list[str]:
    """Rename the foreign keys the tool renamed back to their names before the run."""
    if not before:
        return []
    table_of = {fk.name: child for child, fk in before}
    renamed = []
    tables = {child for child, _ in before} | {fk.ref_table for _, fk in before}
    now: list[tuple[str, ForeignKey]] = []
    seen: set[tuple[str, str]] = set()
    for t in sorted(tables):
        for child, fk in foreign_keys_around(conn, schema, t):
            if (child, fk.name) not in seen:
                seen.add((child, fk.name))
                now.append((child, fk))
    names_now = {(c, fk.name) for c, fk in now}
    for child, old in before:
        if (child, old.name) in names_now:
            continue
        match = [
            fk for c, fk in now if _fk_key(c, fk) == _fk_key(child, old) and fk.name not in table_of
        ]
        if len(match) != 1:
            continue
        cur = match[0]
        wanted = replace(cur, name=old.name)
        conn.execute("SET SESSION foreign_key_checks = 0")
        try:
            conn.execute(
                f"ALTER TABLE {quote_ident(child)} DROP FOREIGN KEY {quote_ident(cur.name)}, "
                f"ADD {ddl.foreign_key_definition(wanted, conn.flavor)}, "
                "ALGORITHM=INPLACE, LOCK=NONE"
            )
        finally:
            conn.execute("SET SESSION foreign_key_checks = 1")
        renamed.append(f"{cur.name} -> {old.name}")
    return renamed


__all__ = [
    "DEFAULTS_PLACEHOLDER",
    "OscOutcome",
    "clean_up",
    "command",
    "defaults_file",
    "parse_progress",
    "restore_fk_names",
    "run_statement",
    "shadow_names",
]
