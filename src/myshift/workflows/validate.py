"""Validation in the sandbox after a rehearsal: SQL checks and the user's own command.

checks.sql
----------
A file of SQL queries, separated by ``;`` (split like the ``mysql`` client
does: quotes, comments and ``DELIMITER`` lines are understood).  Each query is
run against the sandbox schema after the plan was applied and **passes** when
it returns

* no rows at all (write the query to find the bad rows), or
* exactly one row with one column whose value is true: ``1``, ``'1'``,
  ``TRUE`` (write the query as an assertion).

Anything else fails: more rows, more columns, a false/NULL value, or an SQL
error.  A comment ``-- check: name`` on the lines just before a query names
it; otherwise the name is ``file:line``.  A failing check reports its name,
``file:line`` and the first offending rows::

    -- check: every order has a customer
    SELECT o.id, o.customer_id FROM orders o
      LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL;

    -- check: no negative totals
    SELECT COUNT(*) = 0 FROM orders WHERE total < 0;

--run "CMD"
-----------
``run_command`` runs the command in a shell, with the sandbox described in the
environment: ``MYSHIFT_DSN`` (``mysql://user@host:port/schema``, never with
the password), ``MYSQL_HOST``, ``MYSQL_TCP_PORT``, ``MYSQL_USER``,
``MYSQL_PWD``, ``MYSQL_DATABASE`` — for drivers and scripts — and an option
file the stock clients read, since they ignore ``MYSQL_DATABASE`` (and
``MYSQL_USER``): ``$MYSQL_DEFAULTS_FILE`` names it (``mysql
--defaults-file="$MYSQL_DEFAULTS_FILE" -e …`` reads it and nothing else), and
``MYSQL_HOME`` is its directory.  It holds the sandbox's host, port, user and
password in ``[client]`` and the schema in ``[mysql]``; mode 0600 in a private
directory, deleted when the command ends.  ``MYSQL_HOME`` alone is not enough:
MariaDB's clients read a ``~/.my.cnf`` after it (its host wins, and may be
production's) and MySQL's ignore it.  So ``mysql`` and ``mariadb`` on the
command's ``PATH`` are wrappers, in that directory, that run the real client
with ``--defaults-file`` first (unless the command gives its own
``--defaults-file``, ``--defaults-extra-file`` or ``--no-defaults``): a bare
``mariadb -e …`` or ``mysql -e …`` reaches the sandbox whatever the user's
option files say.
Its output is streamed as it comes; the exit code and duration are returned.

The command is the application's test suite, not something production should
trust: it gets the sandbox's connection details and nothing of production's.
A sandbox that is a copy of production's server (the RDS ones) has production's
accounts, so the command gets an account made there for it (``run_account``).
Every ``password_env`` variable named in ``myshift.toml``, production's
``MYSQL_PWD`` (replaced by the sandbox's), ``MYSQL_UNIX_PORT`` when the sandbox
has no socket and the plan-signing key ``MYSHIFT_PLAN_KEY`` are removed from
its environment (``child_environment``).
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from myshift.db.connect import Conn, DriverError, Endpoint, connect, quote_ident
from myshift.engine.split import split_sql
from myshift.errors import UsageError

_CHECK_NAME = re.compile(r"^\s*--\s*check:\s*(.+?)\s*$", re.IGNORECASE)
MAX_SHOWN_ROWS = 5


@dataclass(frozen=True)
class CheckResult:
    name: str
    path: str
    line: int
    passed: bool
    sql: str
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()  # the first offending rows, at most MAX_SHOWN_ROWS
    row_count: int = 0
    error: str = ""

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def describe(self) -> str:
        """One line for a pass; for a failure, a header plus the first offending rows."""
        if self.passed:
            return f"ok    {self.name}"
        head = f"FAIL  {self.name} ({self.where})"
        if self.error:
            return f"{head}: {self.error}"
        lines = [f"{head}: {self.row_count} offending row(s)"]
        if self.columns:
            lines.append("      " + " | ".join(self.columns))
        lines += ["      " + " | ".join(_show(v) for v in row) for row in self.rows]
        if self.row_count > len(self.rows):
            lines.append(f"      … {self.row_count - len(self.rows)} more")
        return "\n".join(lines)


def _show(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bytes | bytearray):
        return "0x" + bytes(v).hex()
    return str(v)


def _is_true(v: Any) -> bool:
    if isinstance(v, bytes | bytearray):
        v = bytes(v).decode(errors="replace")
    if isinstance(v, str):
        return v.strip().upper() in ("1", "TRUE")
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v == 1
    try:  # Decimal
        return bool(v == 1)
    except TypeError:
        return False


def _names(text: str) -> dict[int, str]:
    """Map line number -> name, for every ``-- check: name`` comment line."""
    out: dict[int, str] = {}
    for i, line in enumerate(text.splitlines(), start=1):
        m = _CHECK_NAME.match(line)
        if m:
            out[i] = m[1]
    return out


def _name_for(line: int, prev_end: int, names: dict[int, str]) -> str | None:
    """The last ``-- check:`` comment after the previous statement and up to ``line``."""
    found = [n for ln, n in names.items() if prev_end < ln <= line]
    return found[-1] if found else None


def read_checks_file(path: str | Path) -> str:
    """The text of a checks.sql file; a path that cannot be read is a UsageError."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(
            f"Cannot read the checks file {str(path)!r}: {why}.", "Check the --check path."
        ) from None


def run_checks(conn: Conn, path: str | Path) -> list[CheckResult]:
    """Run every query of a checks.sql file on ``conn`` (see the module docstring)."""
    p = Path(path)
    text = read_checks_file(p)
    statements = split_sql(text, str(p))
    names = _names(text)
    results: list[CheckResult] = []
    prev_end = 0
    for st in statements:
        name = _name_for(st.line, prev_end, names) or f"{p.name}:{st.line}"
        prev_end = st.line + st.sql.count("\n")
        results.append(_run_one(conn, st.sql, name, str(p), st.line))
    return results


def _run_one(conn: Conn, sql: str, name: str, path: str, line: int) -> CheckResult:
    try:
        with conn.raw.cursor() as cur:
            cur.execute(sql)
            cols = tuple(d[0] for d in (cur.description or ()))
            rows = cur.fetchmany(MAX_SHOWN_ROWS + 1)
            rest = len(cur.fetchall())
    except DriverError as exc:
        msg = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
        return CheckResult(name, path, line, False, sql, error=msg)
    count = len(rows) + rest
    passed = count == 0 or (count == 1 and len(cols) == 1 and _is_true(rows[0][0]))
    return CheckResult(
        name,
        path,
        line,
        passed,
        sql,
        columns=cols,
        rows=() if passed else tuple(tuple(r) for r in rows[:MAX_SHOWN_ROWS]),
        row_count=0 if passed else count,
    )


@dataclass(frozen=True)
class CommandResult:
    command: str
    exit_code: int
    seconds: float
    output_tail: str = ""  # the last lines of the output, for the rehearsal report
    env_keys: tuple[str, ...] = field(default=(), compare=False)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def command_env(ep: Endpoint) -> dict[str, str]:
    """The variables a ``--run`` command sees (the password only in MYSQL_PWD)."""
    host = ep.host
    env = {
        "MYSHIFT_DSN": f"mysql://{ep.user}@{host}:{ep.port}/{ep.schema}",
        "MYSQL_HOST": host,
        "MYSQL_TCP_PORT": str(ep.port),
        "MYSQL_USER": ep.user,
        "MYSQL_PWD": ep.password or "",
        "MYSQL_DATABASE": ep.schema,
    }
    if ep.socket:
        env["MYSQL_UNIX_PORT"] = ep.socket
    return env


# Secrets of production (or of the team) a --run command never sees, besides the
# password_env variables of myshift.toml.
ALWAYS_SCRUBBED = ("MYSQL_PWD", "MYSHIFT_PLAN_KEY")


def secret_variables(password_envs: Iterable[str | None] = ()) -> frozenset[str]:
    """The variables removed from a --run command's environment (see the module docstring)."""
    return frozenset(ALWAYS_SCRUBBED) | {name for name in password_envs if name}


def child_environment(
    sandbox_ep: Endpoint,
    scrub: Iterable[str] = (),
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``base`` (this process's environment) without ``scrub`` and ALWAYS_SCRUBBED,
    plus the sandbox's connection variables."""
    drop = secret_variables(scrub) | {"MYSQL_UNIX_PORT"}
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in drop}
    return {**env, **command_env(sandbox_ep)}


def defaults_file_text(ep: Endpoint) -> str:
    """The sandbox as a my.cnf: the connection in [client], the schema in [mysql]."""

    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["[client]", f"host={ep.host}", f"port={ep.port}", f"user={quoted(ep.user)}"]
    if ep.password:
        lines.append(f"password={quoted(ep.password)}")
    if ep.socket:
        lines.append(f"socket={ep.socket}")
    # `database` only in the [mysql] group (mysql and mariadb read it): other
    # clients reading [client] (mysqldump, mysqladmin) would refuse the option.
    lines += ["", "[mysql]", f"database={quoted(ep.schema)}", ""]
    return "\n".join(lines)


@contextmanager
def sandbox_defaults_file(ep: Endpoint, path_var: str | None = None) -> Iterator[Path]:
    """A 0600 ``my.cnf`` for the sandbox in a private directory, removed afterwards,
    with the client wrappers (see the module docstring) for ``path_var``'s clients
    in its ``bin/``."""
    directory = Path(tempfile.mkdtemp(prefix="myshift-run-"))  # mode 0700
    path = directory / "my.cnf"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(defaults_file_text(ep))
        _write_client_wrappers(directory / "bin", path, path_var)
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# The clients a --run command reaches the sandbox with, whatever ~/.my.cnf says.
WRAPPED_CLIENTS = ("mysql", "mariadb")
# Options that choose the option files themselves: the wrapper then adds nothing.
_OWN_DEFAULTS = "--no-defaults|--defaults-file=*|--defaults-extra-file=*|--print-defaults"


def _write_client_wrappers(bindir: Path, cnf: Path, path_var: str | None) -> None:
    bindir.mkdir(mode=0o700)
    for name in WRAPPED_CLIENTS:
        real = shutil.which(name, path=path_var)
        if real is None:
            continue
        q_real, q_cnf = shlex.quote(real), shlex.quote(str(cnf))
        script = (
            "#!/bin/sh\n"
            "# myshift rehearse --run: the sandbox's option file first, so that no\n"
            "# ~/.my.cnf sends this client to another server.\n"
            f'case "$1" in {_OWN_DEFAULTS}) exec {q_real} "$@" ;; esac\n'
            f'exec {q_real} --defaults-file={q_cnf} "$@"\n'
        )
        wrapper = bindir / name
        wrapper.write_text(script, encoding="utf-8")
        wrapper.chmod(0o700)


def run_command(
    cmd: str,
    sandbox_ep: Endpoint,
    *,
    echo: Callable[[str], None] | None = None,
    cwd: str | Path | None = None,
    tail_lines: int = 40,
    scrub: Iterable[str] = (),
) -> CommandResult:
    """Run ``cmd`` in a shell against the sandbox, streaming its output line by line.

    ``echo`` receives each output line (stdout and stderr merged, in order);
    by default lines go to this process's stderr so they never mix with a
    machine-readable report on stdout.  ``scrub``: more variables to withhold
    (production's ``password_env`` names), see ``child_environment``.
    """
    out: Callable[[str], None] = echo or (lambda s: print(s, end="", file=sys.stderr))
    base = child_environment(sandbox_ep, scrub)
    with sandbox_defaults_file(sandbox_ep, base.get("PATH")) as cnf:
        extra = {**command_env(sandbox_ep), **defaults_env(cnf)}
        env = {**base, **defaults_env(cnf), "PATH": _with_wrappers(cnf, base.get("PATH"))}
        start = time.monotonic()
        tail: list[str] = []
        proc = subprocess.Popen(
            cmd,
            shell=True,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            out(line)
            tail.append(line)
            if len(tail) > tail_lines:
                del tail[0]
        code = proc.wait()
    return CommandResult(cmd, code, time.monotonic() - start, "".join(tail), tuple(extra))


@contextmanager
def run_account(ep: Endpoint) -> Iterator[Endpoint]:
    """An account made on the sandbox ``ep`` for a --run command, dropped afterwards.

    For a sandbox reached with production's own account (a copy of production's
    server): the command gets this account's random password, never production's
    (or an IAM token).  It may do anything in the sandbox's schema, nothing else.
    Raises UsageError when ``ep``'s account may not make it (nothing is run).
    """
    name = f"myshift_{secrets.token_hex(3)}"  # 14 characters: MySQL 5.7 allows 16
    user = f"{quote_ident(name)}@'%'"
    password = secrets.token_urlsafe(24)
    with connect(ep, schema="") as c:
        try:
            c.execute(f"CREATE USER {user.replace('%', '%%')} IDENTIFIED BY %s", (password,))
        except DriverError as exc:
            raise _no_run_account(ep, exc) from None
        try:
            # In GRANT a schema name is a pattern: its "_" and "%" must match literally.
            literal = ep.schema.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
            c.execute(f"GRANT ALL PRIVILEGES ON {quote_ident(literal)}.* TO {user}")
        except DriverError as exc:
            c.execute(f"DROP USER {user}")
            raise _no_run_account(ep, exc) from None
    try:
        yield replace(ep, user=name, password=password, fresh_password=None)
    finally:
        with connect(ep, schema="") as c:
            c.execute(f"DROP USER IF EXISTS {user}")


def _no_run_account(ep: Endpoint, exc: DriverError) -> UsageError:
    code = exc.args[0] if exc.args else "?"
    return UsageError(
        "The sandbox holds production's accounts, so --run gets an account of its own "
        f"rather than production's password, but {ep.user!r} may not make it there "
        f"(error {code}).",
        f"Grant {ep.user!r} CREATE USER and GRANT OPTION on the schema (on RDS the master "
        "user has both), or rehearse with --keep and run the command against the kept "
        "sandbox with an account you make.",
    )


def defaults_env(cnf: Path) -> dict[str, str]:
    """The variables that point a --run command's clients at the sandbox's option file."""
    return {"MYSQL_DEFAULTS_FILE": str(cnf), "MYSQL_HOME": str(cnf.parent)}


def _with_wrappers(cnf: Path, path_var: str | None) -> str:
    """``PATH`` with the client wrappers first."""
    bindir = str(cnf.parent / "bin")
    return bindir if not path_var else bindir + os.pathsep + path_var


def summarize(results: Sequence[CheckResult]) -> str:
    failed = sum(not r.passed for r in results)
    return f"{len(results) - failed}/{len(results)} checks passed"
