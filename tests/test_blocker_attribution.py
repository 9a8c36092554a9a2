"""Issue 13 item 6: a transaction that only read `products` is never reported as holding
`orders`.

The blocker of a DDL on `orders` is named from the metadata locks sessions actually
hold (MariaDB's METADATA_LOCK_INFO here); on a server that shows no metadata locks the
open transactions are listed as what they are -- "a transaction open since ... (its
tables unknown)" -- and none is called the holder.  Real sessions on real servers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from clitools import run_cli
from myshift.db.connect import Conn, DriverError, Endpoint, connect
from myshift.db.server import LocalServer
from myshift.exitcodes import ExitCode
from myshift.workflows.blockers import (
    SOURCE_MDL_INFO,
    explain,
    mdl_source,
    parse_fallback,
    table_holders,
)

SHOP = (
    "CREATE TABLE orders (id INT NOT NULL PRIMARY KEY, v INT NOT NULL);\n"
    "CREATE TABLE products (id INT NOT NULL PRIMARY KEY);\n"
)
DESIRED = SHOP.replace("v INT NOT NULL)", "v INT NOT NULL, c INT NULL)")


def _url(ep: Endpoint) -> str:
    return f"mysql://{ep.user}@127.0.0.1:{ep.port}/{ep.schema}"


def _open_reading(ep: Endpoint, table: str) -> Conn:
    """A session in an open transaction that has read ``table`` (and nothing else)."""
    c = connect(ep)
    c.execute("START TRANSACTION")
    c.query(f"SELECT COUNT(*) FROM {table}")
    return c


def _plan(ep: Endpoint, tmp_path: Path, env: dict[str, str] | None = None) -> Path:
    desired = tmp_path / "d.sql"
    desired.write_text(DESIRED)
    out = tmp_path / "p.json"
    r = run_cli(
        "plan", "--to", _url(ep), "--desired", str(desired), "-o", str(out),
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert r.returncode in (0, ExitCode.CHANGES_PENDING), r.stderr
    return out


def _apply(ep: Endpoint, plan: Path, tmp_path: Path, env: dict[str, str] | None = None) -> str:
    r = run_cli(
        "apply", "--plan", str(plan), "--to", _url(ep), "--yes", "--lock-wait-timeout", "2",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert r.returncode == ExitCode.LOCKED, (r.returncode, r.stderr)
    return " ".join(r.stderr.split())


@pytest.fixture
def shop(fresh_schema: Endpoint) -> Endpoint:
    with connect(fresh_schema) as c:
        for stmt in SHOP.split(";\n")[:2]:
            c.execute(stmt)
    return fresh_schema


def test_explain_names_a_holder_only_when_the_server_says_so() -> None:
    started = dt.datetime(2026, 12, 3, 10, 41, 7)
    rows = [
        {"ID": 7, "USER": "app", "HOST": "h:1", "DB": "shop", "COMMAND": "Sleep", "TIME": 9,
         "INFO": None, "TRX_SECONDS": 30, "TRX_STARTED": started},
        {"ID": 8, "USER": "app", "HOST": "h:2", "DB": "shop", "COMMAND": "Query", "TIME": 1,
         "INFO": "SELECT * FROM products", "TRX_SECONDS": 2, "TRX_STARTED": started},
    ]  # fmt: skip
    maybes = parse_fallback(rows, "shop", "orders")
    text = explain(maybes, "orders")
    assert "which session holds orders is unknown" in text
    assert "a transaction open since 10:41:07 (thread 7, app@h:1, db shop, idle;" in text
    assert "now running: SELECT * FROM products; its tables unknown" in text
    assert "blocked by" not in text and "holds" not in text.split("unknown")[1]
    # A statement that names the table is certain, and only it is named.
    rows.append(
        {"ID": 9, "USER": "app", "HOST": "h:3", "DB": "shop", "COMMAND": "Query", "TIME": 4,
         "INFO": "SELECT SLEEP(9) FROM orders", "TRX_SECONDS": None}
    )  # fmt: skip
    text = explain(parse_fallback(rows, "shop", "orders"), "orders")
    assert text.startswith("blocked by thread 9 (") and "thread 7" not in text
    assert explain([], "orders") == "no blocking transaction visible now"


@contextlib.contextmanager
def _alter_waiting(ep: Endpoint) -> Iterator[Conn]:
    """An ALTER on `orders` that waits for its metadata lock (lock_wait_timeout 20 s)."""
    ddl = connect(ep)
    ddl.execute("SET SESSION lock_wait_timeout = 20")

    def run() -> None:
        with contextlib.suppress(DriverError):
            ddl.execute("ALTER TABLE orders ADD COLUMN w INT NULL")

    t = threading.Thread(target=run, daemon=True)
    t.start()
    with connect(ep) as watch:
        for _ in range(100):
            state = watch.scalar(
                "SELECT STATE FROM information_schema.PROCESSLIST WHERE ID = %s",
                (ddl.thread_id(),),
            )
            if state == "Waiting for table metadata lock":
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"the ALTER never waited (state {state!r})")
    try:
        yield ddl
    finally:
        with connect(ep) as k:
            k.execute(f"KILL QUERY {ddl.thread_id()}")
        t.join(timeout=10)
        ddl.close()


def test_while_the_alter_waits_the_orders_holder_is_named_not_the_products_reader(
    shop: Endpoint, tmp_path: Path
) -> None:
    reader = _open_reading(shop, "products")  # older: the oldest open transaction
    time.sleep(0.3)
    holder = _open_reading(shop, "orders")
    try:
        with connect(shop) as c:
            assert mdl_source(c) == SOURCE_MDL_INFO
            with _alter_waiting(shop):
                # The holder first (oldest); the waiting ALTER holds orders' upgradable
                # lock too; the reader of products is not there.
                found = table_holders(c, shop.schema, "orders")
                ids = [b.thread_id for b in found]
                assert ids[0] == holder.thread_id() and reader.thread_id() not in ids, ids
                text = explain(found, "orders")
                assert text.startswith(f"blocked by thread {holder.thread_id()} (")
                assert "MDL_SHARED_READ" in text
                # The reader holds products, and only products.
                readers = table_holders(c, shop.schema, "products")
                assert [b.thread_id for b in readers] == [reader.thread_id()]
        # Through the CLI: apply refuses naming the holder of orders, and only it.
        time.sleep(1.0)
        err = _apply(shop, _plan(shop, tmp_path), tmp_path)
        assert f"is held by thread {holder.thread_id()} " in err, err
        assert f"thread {reader.thread_id()} " not in err, err
    finally:
        reader.close()
        holder.close()


def test_without_a_metadata_lock_view_no_transaction_is_called_the_holder(
    tmp_path: Path,
) -> None:
    """A user who may not load the plugin, on a server without it: the ALTER is sent,
    times out, and the report lists the open transactions honestly."""
    with LocalServer.start(server_id=23) as srv:
        root = Endpoint(port=srv.port, password="", schema="")
        with connect(root) as a:
            a.execute("CREATE DATABASE shop")
            for stmt in SHOP.split(";\n")[:2]:
                a.execute(stmt.replace("TABLE ", "TABLE shop.", 1))
            a.execute("CREATE USER app@'127.0.0.1' IDENTIFIED BY 'pw'")
            a.execute("GRANT ALL ON shop.* TO app@'127.0.0.1'")
            a.execute("GRANT ALL ON `\\_myshift%`.* TO app@'127.0.0.1'")
            a.execute("GRANT PROCESS ON *.* TO app@'127.0.0.1'")
        ep = replace(root, user="app", password="pw", schema="shop")
        env = {"MYSQL_PWD": "pw"}
        plan = _plan(ep, tmp_path, env)
        reader = _open_reading(ep, "products")
        holder = _open_reading(ep, "orders")
        try:
            err = _apply(ep, plan, tmp_path, env)
        finally:
            reader.close()
            holder.close()
    assert "could not get its metadata lock" in err, err
    assert "which session holds orders is unknown" in err, err
    for who in (reader, holder):
        assert f"(thread {who.thread_id()}, app@127.0.0.1:" in err, err
    assert err.count("a transaction open since ") == 2 and "its tables unknown" in err, err
    assert "blocked by thread" not in err and "held by" not in err, err
