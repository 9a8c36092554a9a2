"""Issue 9, item 5: the README's grants are exact, and a missing one is named as such.

The README's "Privileges" section holds one ``sql`` block per command, each
starting ``-- for: <command>``.  For every command this test creates a user
with exactly that block's grants (schema and account substituted) on a MariaDB
server with binary logging -- as production runs -- and runs the command
through the real CLI: it must succeed, with the same result root gets.  Then
it revokes the key grants one at a time: the command must stop with exit 4 (or
apply's 11, which keeps saying which statements ran) and a message naming the
missing privilege and the GRANT that fixes it -- never a traceback, never "a
myshift bug", never bad SQL.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from clitools import run_cli
from conftest import endpoint_of
from myshift.db.connect import Conn, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.exitcodes import ExitCode

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"```sql\n-- for: (?P<names>[^\n]+)\n(?P<body>.*?)```", re.DOTALL)

PROD_SQL = """
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, legacy VARCHAR(20));
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2),
  CONSTRAINT fk_c FOREIGN KEY (customer_id) REFERENCES customers (id));
CREATE TABLE old_log (id INT PRIMARY KEY, msg TEXT);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
CREATE TRIGGER orders_bi BEFORE INSERT ON orders FOR EACH ROW
  SET NEW.total = COALESCE(NEW.total, 0);
CREATE PROCEDURE touch_orders() SQL SECURITY INVOKER SELECT COUNT(*) FROM orders;
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC NO SQL RETURN x * 2;
CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM old_log WHERE id < 0;
INSERT INTO customers VALUES (1, 'a', 'x'), (2, 'b', 'y');
INSERT INTO orders VALUES (1, 1, 50), (2, 2, 150);
INSERT INTO old_log VALUES (1, 'm');
CREATE TABLE events (id INT NOT NULL, m INT NOT NULL, PRIMARY KEY (id, m))
  PARTITION BY RANGE (m) (PARTITION p1 VALUES LESS THAN (2), PARTITION p2 VALUES LESS THAN (3));
INSERT INTO events VALUES (1, 1), (2, 1), (3, 2);
"""

# Every kind of change: a dropped table, column and partition (keep-data), an
# added column and index, a new table, a changed view, function and trigger.
DEV_SQL = """
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, email VARCHAR(100),
  KEY k_name (name));
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2),
  CONSTRAINT fk_c FOREIGN KEY (customer_id) REFERENCES customers (id));
CREATE TABLE notes (id INT PRIMARY KEY, body TEXT);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 200;
CREATE TRIGGER orders_bi BEFORE INSERT ON orders FOR EACH ROW
  SET NEW.total = COALESCE(NEW.total, 1);
CREATE PROCEDURE touch_orders() SQL SECURITY INVOKER SELECT COUNT(*) FROM orders;
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC NO SQL RETURN x * 3;
CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM old_log WHERE id < 0;
CREATE TABLE events (id INT NOT NULL, m INT NOT NULL, PRIMARY KEY (id, m))
  PARTITION BY RANGE (m) (PARTITION p2 VALUES LESS THAN (3));
"""

_n = itertools.count(1)


def readme_grants() -> dict[str, list[str]]:
    """command -> its GRANT statements, from the README's ``-- for:`` blocks."""
    out: dict[str, list[str]] = {}
    for m in _BLOCK.finditer(README.read_text(encoding="utf-8")):
        body = " ".join(m["body"].split())
        stmts = [s.strip() for s in body.split(";") if s.strip()]
        for name in m["names"].split(","):
            out[name.strip()] = stmts
    return out


GRANTS = readme_grants()


def test_readme_has_a_block_for_every_command() -> None:
    assert set(GRANTS) == {
        "dump",
        "plan",
        "plan --workspace local",
        "drift",
        "rehearse (production)",
        "rehearse (sandbox)",
        "apply",
        "apply --keep-data",
        "rollback",
        "history",
        "trash",
    }
    for stmts in GRANTS.values():
        assert all(s.startswith("GRANT ") for s in stmts)


# --------------------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def prod() -> Iterator[LocalServer]:
    """Production-like: binary logging on, so routines and triggers meet its rules."""
    srv = LocalServer.start(extra_args=("--log-bin=mysql-bin", "--binlog-format=ROW"), server_id=31)
    try:
        with connect(endpoint_of(srv)) as admin:
            # What an administrator sets so non-SUPER users may create triggers and
            # functions (the workspace, apply); the README says so.
            admin.execute("SET GLOBAL log_bin_trust_function_creators = 1")
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def root(prod: LocalServer) -> Iterator[Conn]:
    c = connect(endpoint_of(prod))
    try:
        yield c
    finally:
        c.close()


@contextmanager
def new_schema(root: Conn) -> Iterator[str]:
    """A fresh target schema holding PROD_SQL, dropped afterwards."""
    name = f"app_{next(_n)}_{secrets.token_hex(2)}"
    root.execute(f"CREATE DATABASE {quote_ident(name)}")
    with connect(root.endpoint.with_schema(name), multi=True) as c:
        for _ in c.multi_query(PROD_SQL):
            pass
    try:
        yield name
    finally:
        root.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")


@pytest.fixture
def schema(root: Conn) -> Iterator[str]:
    with new_schema(root) as name:
        yield name


PASSWORD = "pw-" + secrets.token_hex(6)


def make_user(
    conn: Conn,
    command: str,
    schema: str,
    revoke: tuple[str, str] | None = None,
    sandbox_schema: str = "rehearsal",
) -> str:
    """A new account with exactly the README's grants for ``command``, minus ``revoke``."""
    user = f"u{next(_n)}_{secrets.token_hex(2)}"
    conn.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (PASSWORD,))
    for stmt in GRANTS[command]:
        sql = (
            stmt.replace("'migrator'@'%'", f"'{user}'@'%'")
            .replace("'rehearser'@'%'", f"'{user}'@'%'")
            .replace("`app`", quote_ident(schema))
            .replace("`rehearsal`", quote_ident(sandbox_schema))
        )
        conn.execute(sql)  # no args: no %-formatting
    if revoke is not None:
        priv, on = revoke
        on = on.replace("`app`", quote_ident(schema)).replace(
            "`rehearsal`", quote_ident(sandbox_schema)
        )
        conn.execute(f"REVOKE {priv} ON {on} FROM '{user}'@'%'")
    return user


def url(srv: LocalServer, user: str, schema: str = "") -> str:
    return f"mysql://{user}@127.0.0.1:{srv.port}/{schema}"


def as_user(*args: str, cwd: Path) -> tuple[int, str, str]:
    r = run_cli(*args, cwd=cwd, env={"MYSQL_PWD": PASSWORD})
    return r.returncode, r.stdout, r.stderr


def as_root(*args: str, cwd: Path) -> tuple[int, str, str]:
    r = run_cli(*args, cwd=cwd)
    return r.returncode, r.stdout, r.stderr


def files(tmp_path: Path) -> tuple[Path, Path]:
    dev = tmp_path / "dev.sql"
    dev.write_text(DEV_SQL)
    return dev, tmp_path / "plan.json"


def assert_names_missing(code: int, err: str, privilege: str, exit_codes: AbstractSet[int]) -> None:
    assert code in exit_codes, err
    assert "Traceback" not in err and "myshift bug" not in err, err
    assert "Fix the statement in the desired SQL" not in err, err
    assert privilege in err, err
    assert "grant " in err.lower(), err  # "Grant it: GRANT ...", or the workspace's own wording


# --------------------------------------------------------------------------- running a command


@dataclass
class Ctx:
    prod: LocalServer
    sandbox: LocalServer
    root: Conn
    schema: str
    tmp: Path

    def url(self, user: str) -> str:
        return url(self.prod, user, self.schema)


def _root_plan(ctx: Ctx, *extra: str) -> Path:
    dev, plan = files(ctx.tmp)
    code, _, err = as_root(
        "plan",
        "--from",
        str(dev),
        "--to",
        ctx.url("root"),
        "--allow-drop",
        "-o",
        str(plan),
        *extra,
        cwd=ctx.tmp,
    )
    assert code == 0, err
    return plan


def _root_apply_keep(ctx: Ctx) -> None:
    plan = _root_plan(ctx, "--keep-data")
    code, _, err = as_root(
        "apply", "--plan", str(plan), "--to", ctx.url("root"), "--yes", "--keep-data", cwd=ctx.tmp
    )
    assert code == 0, err


def _plan_args(ctx: Ctx, *extra: str) -> list[str]:
    dev, _ = files(ctx.tmp)
    return ["plan", "--from", str(dev), "--allow-drop", "--format", "sql", *extra]


def run_dump(ctx: Ctx, user: str) -> tuple[int, str, str]:
    return as_user("dump", "--from", ctx.url(user), cwd=ctx.tmp)


def run_plan(ctx: Ctx, user: str) -> tuple[int, str, str]:
    return as_user(*_plan_args(ctx), "--to", ctx.url(user), cwd=ctx.tmp)


def run_plan_local(ctx: Ctx, user: str) -> tuple[int, str, str]:
    return as_user(*_plan_args(ctx, "--workspace", "local"), "--to", ctx.url(user), cwd=ctx.tmp)


def run_drift(ctx: Ctx, user: str) -> tuple[int, str, str]:
    dev, _ = files(ctx.tmp)
    return as_user("drift", "--from", str(dev), "--to", ctx.url(user), cwd=ctx.tmp)


def run_apply(ctx: Ctx, user: str) -> tuple[int, str, str]:
    plan = _root_plan(ctx)
    return as_user(
        "apply", "--plan", str(plan), "--to", ctx.url(user), "--yes", "--no-keep-data", cwd=ctx.tmp
    )


def run_apply_keep(ctx: Ctx, user: str) -> tuple[int, str, str]:
    plan = _root_plan(ctx, "--keep-data")
    return as_user(
        "apply", "--plan", str(plan), "--to", ctx.url(user), "--yes", "--keep-data", cwd=ctx.tmp
    )


def run_rollback(ctx: Ctx, user: str) -> tuple[int, str, str]:
    _root_apply_keep(ctx)
    return as_user("rollback", "--to", ctx.url(user), "--yes", cwd=ctx.tmp)


def run_history(ctx: Ctx, user: str) -> tuple[int, str, str]:
    _root_apply_keep(ctx)
    return as_user("history", "--to", ctx.url(user), cwd=ctx.tmp)


def run_trash(ctx: Ctx, user: str) -> tuple[int, str, str]:
    _root_apply_keep(ctx)
    code, out, err = as_user("trash", "list", "--to", ctx.url(user), cwd=ctx.tmp)
    if code != 0 or f"{ctx.schema}.old_log" not in out:
        return code or 1, out, err
    return as_user(
        "trash", "purge", "--older-than", "0m", "--to", ctx.url(user), "--yes", cwd=ctx.tmp
    )


def _rehearse(ctx: Ctx, prod_user: str, sandbox_user: str, box: str) -> tuple[int, str, str]:
    plan = _root_plan(ctx)
    return as_user(
        "rehearse",
        "--plan",
        str(plan),
        "--to",
        ctx.url(prod_user),
        "--sandbox",
        f"server:{url(ctx.sandbox, sandbox_user, box)}",
        "--data",
        "sample:100",
        cwd=ctx.tmp,
    )


def run_rehearse_production(ctx: Ctx, user: str) -> tuple[int, str, str]:
    box = f"rehearsal_{next(_n)}"
    with connect(endpoint_of(ctx.sandbox)) as root2:
        sbx = make_user(root2, "rehearse (sandbox)", box, sandbox_schema=box)
    return _rehearse(ctx, user, sbx, box)


def run_rehearse_sandbox(ctx: Ctx, user: str) -> tuple[int, str, str]:
    # ``user`` lives on the sandbox server, made for the schema ``ctx.schema``.
    prod_user = make_user(ctx.root, "rehearse (production)", ctx.schema)
    return _rehearse(ctx, prod_user, user, ctx.schema)


RUN: dict[str, Callable[[Ctx, str], tuple[int, str, str]]] = {
    "dump": run_dump,
    "plan": run_plan,
    "plan --workspace local": run_plan_local,
    "drift": run_drift,
    "apply": run_apply,
    "apply --keep-data": run_apply_keep,
    "rollback": run_rollback,
    "history": run_history,
    "trash": run_trash,
    "rehearse (production)": run_rehearse_production,
    "rehearse (sandbox)": run_rehearse_sandbox,
}
SUCCESS = {"drift": ExitCode.CHANGES_PENDING}


def user_for(ctx: Ctx, command: str, revoke: tuple[str, str] | None = None) -> str:
    if command == "rehearse (sandbox)":
        with connect(endpoint_of(ctx.sandbox)) as root2:
            return make_user(root2, command, ctx.schema, revoke, sandbox_schema=ctx.schema)
    return make_user(ctx.root, command, ctx.schema, revoke)


@pytest.fixture
def ctx(prod: LocalServer, server2: LocalServer, root: Conn, tmp_path: Path) -> Iterator[Ctx]:
    with new_schema(root) as name:
        yield Ctx(prod, server2, root, name, tmp_path)


# --------------------------------------------------------------------------- each command works


@pytest.mark.parametrize("command", sorted(RUN))
def test_documented_grants_are_enough(ctx: Ctx, command: str) -> None:
    user = user_for(ctx, command)
    code, out, err = RUN[command](ctx, user)
    assert code == SUCCESS.get(command, 0), err + out
    assert "Not recorded in production's history" not in out + err


@pytest.mark.parametrize("command", ["dump", "plan", "plan --workspace local"])
def test_the_user_sees_what_root_sees(ctx: Ctx, command: str) -> None:
    """Enough to *see* everything: views' text, triggers, routine bodies, events."""
    code, out, err = RUN[command](ctx, user_for(ctx, command))
    assert code == 0, err
    want = {
        "dump": lambda: as_root("dump", "--from", ctx.url("root"), cwd=ctx.tmp),
        "plan": lambda: as_root(*_plan_args(ctx), "--to", ctx.url("root"), cwd=ctx.tmp),
        "plan --workspace local": lambda: as_root(
            *_plan_args(ctx, "--workspace", "local"), "--to", ctx.url("root"), cwd=ctx.tmp
        ),
    }[command]()
    assert _body(out) == _body(want[1])
    assert "twice" in out and "orders_bi" in out and "big_orders" in out


def _body(text: str) -> list[str]:
    """The output less a plan's header, which names the target (and so its user)."""
    lines = text.splitlines()
    return lines[next((i for i, line in enumerate(lines) if line.startswith("-- [")), 0) :]


def _columns(root: Conn, schema: str, table: str) -> list[str]:
    return [
        str(r[0])
        for r in root.query(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
            (schema, table),
        )
    ]


def test_rollback_as_its_user_brings_the_data_back(ctx: Ctx) -> None:
    code, _, err = run_rollback(ctx, user_for(ctx, "rollback"))
    assert code == 0, err
    q = quote_ident(ctx.schema)
    assert _columns(ctx.root, ctx.schema, "customers") == ["id", "name", "legacy"]
    assert ctx.root.query(f"SELECT legacy FROM {q}.customers ORDER BY id") == [("x",), ("y",)]
    assert ctx.root.scalar(f"SELECT COUNT(*) FROM {q}.old_log") == 1
    assert ctx.root.scalar(f"SELECT COUNT(*) FROM {q}.events PARTITION (p1)") == 2


# --------------------------------------------------------------------------- one grant missing

WS = "`\\_myshift\\_ws\\_%`.*"
HIST = "`\\_myshift`.*"
TRASH = "`\\_myshift\\_trash`.*"
APP = "`app`.*"
PROC = "`mysql`.`proc`"

# (command, privilege, on): the key grants, each revoked alone, must be named.
# The grants that let a user *see* a schema are in VISIBILITY_REVOKES below.
KEY_REVOKES = [
    ("plan", "CREATE", WS),
    ("plan", "DROP", WS),
    ("plan", "ALTER", WS),
    ("plan", "CREATE VIEW", WS),
    ("plan", "TRIGGER", WS),
    ("plan", "CREATE ROUTINE", WS),
    ("plan", "EVENT", WS),
    ("plan", "SELECT", WS),
    ("apply", "CREATE", APP),
    ("apply", "ALTER", APP),
    ("apply", "DROP", APP),
    ("apply", "CREATE VIEW", APP),
    ("apply", "CREATE ROUTINE", APP),
    ("apply", "ALTER ROUTINE", APP),
    ("apply", "PROCESS", "*.*"),
    ("apply", "INSERT", HIST),
    ("apply", "UPDATE", HIST),
    ("apply --keep-data", "CREATE", TRASH),
    ("apply --keep-data", "INSERT", TRASH),
    ("apply --keep-data", "SELECT", TRASH),
    ("rollback", "INSERT", APP),
    ("rollback", "UPDATE", APP),
    ("rollback", "UPDATE", HIST),
    ("rollback", "ALTER", TRASH),
    ("rollback", "DELETE", TRASH),
    ("trash", "DELETE", TRASH),
    ("trash", "DROP", TRASH),
    ("rehearse (sandbox)", "CREATE", APP),
    ("rehearse (sandbox)", "INSERT", APP),
    ("rehearse (sandbox)", "CREATE VIEW", APP),
]


@pytest.mark.parametrize(("command", "privilege", "on"), KEY_REVOKES)
def test_a_missing_grant_is_named_with_its_fix(
    ctx: Ctx, command: str, privilege: str, on: str
) -> None:
    user = user_for(ctx, command, (privilege, on))
    code, out, err = RUN[command](ctx, user)
    exit_codes = {ExitCode.CONNECTION, ExitCode.APPLY_FAILED, ExitCode.REHEARSAL_FAILED}
    assert_names_missing(code, err + out, privilege, exit_codes)


# The grants that let a user *see* a schema (SELECT, SHOW VIEW, TRIGGER, EVENT on it,
# SELECT on mysql.proc) and SELECT on the history: the server raises no error
# without them, it shows less -- myshift must refuse, naming the grant
# (engine/introspect/visibility.py; History._exists).
VISIBILITY_REVOKES = [
    *[
        (command, privilege, on)
        for command in ("plan", "drift", "apply")
        for privilege, on in [
            ("SELECT", APP),
            ("SHOW VIEW", APP),
            ("TRIGGER", APP),
            ("EVENT", APP),
            ("SELECT", PROC),
        ]
    ],
    ("history", "SELECT", HIST),
]


@pytest.mark.parametrize(("command", "privilege", "on"), VISIBILITY_REVOKES)
def test_a_missing_read_grant_is_named_not_a_smaller_schema(
    ctx: Ctx, command: str, privilege: str, on: str
) -> None:
    user = user_for(ctx, command, (privilege, on))
    code, out, err = RUN[command](ctx, user)
    assert_names_missing(code, err + out, privilege, {ExitCode.CONNECTION})
    grant_on = {
        PROC: "`mysql`.`proc`",
        HIST: "`\\_myshift`.*",
        APP: quote_ident(ctx.schema).replace("_", "\\_") + ".*",
    }[on]
    assert f"GRANT {privilege} ON {grant_on} TO '{user}'@'%';" in err, err
    assert "No applies recorded" not in out


def test_a_refused_workspace_names_the_workspace_grant(ctx: Ctx) -> None:
    from myshift.db.privileges import WORKSPACE_PRIVILEGES

    user = user_for(ctx, "plan", ("CREATE", WS))
    code, _, err = run_plan(ctx, user)
    assert code == ExitCode.CONNECTION, err
    assert f"GRANT {WORKSPACE_PRIVILEGES} ON {WS} TO '{user}'@'%';" in err, err


def test_an_apply_whose_first_statement_fails_says_none_ran(ctx: Ctx) -> None:
    user = user_for(ctx, "apply", ("ALTER", APP))
    desired = PROD_SQL.split("INSERT INTO")[0].replace("legacy VARCHAR(20)", "legacy VARCHAR(30)")
    dev, plan = ctx.tmp / "one.sql", ctx.tmp / "one.json"
    dev.write_text(desired)
    code, _, err = as_root(
        "plan", "--from", str(dev), "--to", ctx.url("root"), "-o", str(plan), cwd=ctx.tmp
    )
    assert code == 0, err
    code, out, err = as_user(
        "apply", "--plan", str(plan), "--to", ctx.url(user), "--yes", "--no-keep-data", cwd=ctx.tmp
    )
    assert code == ExitCode.APPLY_FAILED, err + out
    assert "Statement 1 of 1" in err and "No statement was applied" in err, err
    # The statement's clause, not its SQL cut at a length.
    assert "modify column legacy varchar(20) -> varchar(30)) failed: " in err, err
    assert "Statement: ALTER" not in err, err
    assert "Statements 1..0" not in err, err


def _procs_priv(root: Conn) -> list[tuple[object, ...]]:
    return sorted(
        root.query("SELECT Host, Db, User, Routine_name, Proc_priv FROM mysql.procs_priv")
    )


def test_a_plan_leaves_no_routine_grant_behind(ctx: Ctx) -> None:
    """automatic_sp_privileges grants a routine's creator rights DROP DATABASE leaves behind."""
    assert ctx.root.scalar("SELECT @@GLOBAL.automatic_sp_privileges") == 1
    user = user_for(ctx, "plan")
    before = _procs_priv(ctx.root)
    code, out, err = run_plan(ctx, user)
    assert code == 0, err
    assert "twice" in out  # the workspace did create the desired file's function
    assert _procs_priv(ctx.root) == before


# --------------------------------------------------------------------------- the full sweep


def _grant_pairs(command: str) -> list[tuple[str, str]]:
    pairs = []
    for stmt in GRANTS[command]:
        m = re.match(r"GRANT (?P<privs>.+?) ON (?P<on>\S+) TO ", stmt)
        assert m, stmt
        pairs += [(p.strip(), m["on"]) for p in m["privs"].split(",")]
    return pairs


@pytest.mark.skipif(
    not os.environ.get("MYSHIFT_PRIVILEGE_SWEEP"),
    reason="slow (~150 CLI runs): set MYSHIFT_PRIVILEGE_SWEEP=1 to revoke every grant in turn",
)
@pytest.mark.parametrize("command", sorted(RUN))
def test_sweep_every_grant(
    prod: LocalServer, server2: LocalServer, root: Conn, tmp_path: Path, command: str
) -> None:
    """Revoke each documented grant alone and report what the command does without it.

    A grant whose removal changes nothing is not needed by this code path (on
    MariaDB; MySQL may still need it, e.g. REFERENCES): the report says so.
    """
    report = []
    for i, (priv, on) in enumerate(_grant_pairs(command)):
        with new_schema(root) as name:
            sub = tmp_path / str(i)
            sub.mkdir()
            ctx = Ctx(prod, server2, root, name, sub)
            user = user_for(ctx, command, (priv, on))
            code, _, err = RUN[command](ctx, user)
            first = (err.strip().splitlines() or [""])[-1][:160]
            report.append(f"{command:24} -{priv:15} {on:24} exit {code:2}  {first}")
            if code != SUCCESS.get(command, 0):
                bad = "Traceback" in err or "myshift bug" in err or "grant" not in err.lower()
                if bad:
                    report[-1] += "   <-- NOT NAMED"
    print("\n" + "\n".join(report))


# --------------------------------------------------------------------------- the mapping itself


def test_binary_logging_without_trust_names_the_variable(ctx: Ctx) -> None:
    """1419: creating the desired file's trigger/function in the workspace on a binlog server."""
    user = user_for(ctx, "plan")
    ctx.root.execute("SET GLOBAL log_bin_trust_function_creators = 0")
    try:
        code, _, err = run_plan(ctx, user)
    finally:
        ctx.root.execute("SET GLOBAL log_bin_trust_function_creators = 1")
    assert code == ExitCode.CONNECTION, err
    assert "log_bin_trust_function_creators" in err and "SUPER" in err
    assert "--workspace local" in err and "Fix the statement" not in err


@pytest.mark.parametrize(
    ("code", "message", "expect"),
    [
        (
            1142,
            "ALTER command denied to user 'm'@'10.0.0.7' for table `shop`.`orders`",
            ["ALTER privilege on `orders`", "GRANT ALTER ON `shop`.* TO 'm'@'10.0.0.7';"],
        ),
        (  # MySQL spells the table without its schema
            1142,
            "DROP command denied to user 'm'@'localhost' for table 'orders'",
            ["DROP privilege on `orders`", "GRANT DROP ON `app`.*"],
        ),
        (
            1143,
            "SELECT command denied to user 'm'@'h' for column 'secret' in table 'users'",
            ["column `secret`", "GRANT SELECT ON `app`.*"],
        ),
        (
            1142,
            "CREATE VIEW command denied to user 'm'@'h' for table `_myshift_ws_1_ab`.`v`",
            ["workspace schemas", "GRANT CREATE VIEW ON `\\_myshift\\_ws\\_%`.*", "local"],
        ),
        (
            1227,
            "Access denied; you need (at least one of) the PROCESS privilege(s) for this operation",
            ["PROCESS privilege", "GRANT PROCESS ON *.* TO 'm'@'%';"],
        ),
        (
            1227,
            "Access denied; you need (at least one of) the SUPER, SET USER privilege(s) for this "
            "operation",
            ["one of the SUPER, SET USER privileges", "DEFINER"],
        ),
        (
            1370,
            "alter routine command denied to user 'm'@'%' for routine 'shop.twice'",
            [
                "ALTER ROUTINE privilege on routine `shop`.`twice`",
                "GRANT ALTER ROUTINE ON `shop`.*",
            ],
        ),
        (
            1044,
            "Access denied for user 'm'@'%' to database 'shop_2'",
            ["any privilege on schema `shop_2`", "GRANT SELECT ON `shop\\_2`.* TO 'm'@'%';"],
        ),
        (
            1419,
            "You do not have the SUPER privilege and binary logging is enabled (you *might* want "
            "to use the less safe log_bin_trust_function_creators variable)",
            ["log_bin_trust_function_creators = 1", "SUPER"],
        ),
        (
            1290,
            "The MariaDB server is running with the --read-only option so it cannot execute this "
            "statement",
            ["--read-only", "writable primary"],
        ),
    ],
)
def test_each_refusal_becomes_one_sentence_and_a_grant(
    code: int, message: str, expect: list[str]
) -> None:
    from myshift.db.connect import DriverError
    from myshift.db.privileges import explain, from_driver_error
    from myshift.errors import SQLLoadError

    exc = DriverError(code, message)
    err = from_driver_error(exc, "m", "app")
    assert err is not None and err.exit_code == ExitCode.CONNECTION
    text = str(err)
    for piece in expect:
        assert piece in text, text
    assert "bug" not in text
    # Wrapped the way the workspace loader wraps it: still the privilege.
    try:
        try:
            raise exc
        except DriverError:
            raise SQLLoadError("d.sql", 3, message) from None
    except SQLLoadError as wrapped:
        assert str(explain(wrapped, "m", "app")) == text
