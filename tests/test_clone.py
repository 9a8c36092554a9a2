"""Cloning a schema between two real servers: structure, rows, sampling, triggers."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import pytest

from conftest import endpoint_of
from myshift.db.connect import DEFAULT_LOCK_WAIT_TIMEOUT, Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.ddl import strip_definer
from myshift.errors import UsageError
from myshift.model.flavor import MARIADB_10_11, MYSQL_8_0
from myshift.workflows.clone import (
    CloneError,
    CloneProgress,
    DataMode,
    Progress,
    _chunks,
    _introspect,
    _open_pair,
    clone_schema_data,
)
from myshift.workflows.sandbox import LocalSandbox, ServerSandbox, flavor_note
from myshift.workflows.sandbox_kinds import make_sandbox

SOURCE_SQL = [
    "CREATE TABLE customers (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(50) NOT NULL,"
    " note TEXT, born DATE, ts TIMESTAMP(6) NULL, score DOUBLE, f FLOAT, price DECIMAL(12,2),"
    " flags BIT(5), blob_ BLOB, bin BINARY(4), j JSON, e ENUM('a','b'), s SET('x','y'))"
    " DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE orders (id INT PRIMARY KEY AUTO_INCREMENT, customer_id INT NOT NULL,"
    " total DECIMAL(10,2), doubled DECIMAL(11,2) AS (total * 2) STORED,"
    " half DECIMAL(11,2) AS (total / 2) VIRTUAL,"
    " FOREIGN KEY (customer_id) REFERENCES customers (id))",
    "CREATE TABLE items (order_id INT NOT NULL, line INT NOT NULL, sku VARCHAR(20),"
    " PRIMARY KEY (order_id, line), FOREIGN KEY (order_id) REFERENCES orders (id))",
    "CREATE TABLE tree (id INT PRIMARY KEY, parent_id INT NULL,"
    " FOREIGN KEY (parent_id) REFERENCES tree (id))",
    "CREATE TABLE audit (id INT PRIMARY KEY AUTO_INCREMENT, what VARCHAR(50))",
    "CREATE TABLE nopk (a INT, b VARCHAR(5))",
    "CREATE TRIGGER orders_ai AFTER INSERT ON orders FOR EACH ROW"
    " INSERT INTO audit (what) VALUES (CONCAT('order ', NEW.id))",
    "CREATE VIEW v_big AS SELECT * FROM v_orders WHERE total > 100",
    "CREATE VIEW v_orders AS SELECT id, total FROM orders",
    "CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2",
    "CREATE PROCEDURE noop() BEGIN SELECT 1; END",
]


def _populate(c: Conn) -> None:
    for stmt in SOURCE_SQL:
        if stmt.startswith("CREATE VIEW v_big"):
            continue  # created after v_orders below, but it sorts first by name
        c.execute(stmt)
    c.execute(SOURCE_SQL[7])
    c.execute(
        "INSERT INTO customers (id, name, note, born, ts, score, f, price, flags, blob_, bin,"
        " j, e, s) SELECT seq, CONCAT('n''a\\\\me ', seq, ' ✓'), IF(seq % 3 = 0, NULL,"
        " 'multi\nline\ttab'), '2020-01-01' + INTERVAL seq DAY,"
        " '2021-03-28 01:30:00.123456' + INTERVAL seq HOUR, seq / 7, seq / 3, seq * 1.25,"
        " seq % 32, UNHEX(CONCAT('00', HEX(seq), '27FF5C')), IF(seq % 2, NULL, 'ab\\0c'),"
        " JSON_OBJECT('k', seq), IF(seq % 2, 'a', 'b'), 'x,y' FROM seq_1_to_300"
    )
    c.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
    c.execute("INSERT INTO customers (id, name) VALUES (0, 'zero')")
    c.execute("INSERT INTO orders (customer_id, total) SELECT 1 + seq % 300, seq FROM seq_1_to_900")
    c.execute("INSERT INTO items SELECT o.id, l.seq, 'sku' FROM orders o, seq_1_to_3 l")
    c.execute("INSERT INTO tree VALUES (1, NULL)")
    c.execute("INSERT INTO tree SELECT seq, seq - 1 FROM seq_2_to_50")
    c.execute("INSERT INTO nopk VALUES (1, 'a'), (1, 'a'), (NULL, NULL)")


@pytest.fixture(scope="module")
def source(server: LocalServer) -> Iterator[Endpoint]:
    name = f"src_{uuid.uuid4().hex[:6]}"
    with connect(endpoint_of(server)) as admin:
        admin.execute(f"CREATE DATABASE {quote_ident(name)}")
        with connect(endpoint_of(server, name)) as c:
            _populate(c)
        try:
            yield endpoint_of(server, name)
        finally:
            admin.execute(f"DROP DATABASE {quote_ident(name)}")


TABLES = ("customers", "orders", "items", "tree", "audit", "nopk")


def _checksums(ep: Endpoint) -> dict[str, int]:
    # MariaDB's CHECKSUM TABLE is not stable on tables with VIRTUAL columns (it reads
    # the unset virtual bytes), so `orders.half` is excluded by checksumming a copy.
    with connect(ep) as c:
        c.execute(
            "CREATE TEMPORARY TABLE o_stored AS SELECT id, customer_id, total, doubled FROM orders"
        )
        extra = {"orders": int(c.query("CHECKSUM TABLE o_stored")[0][1])}
        c.execute("DROP TEMPORARY TABLE o_stored")
        rows = c.query("CHECKSUM TABLE " + ", ".join(quote_ident(t) for t in TABLES))
    return {str(r[0]).split(".")[-1]: int(r[1]) for r in rows} | extra


def test_full_clone_has_identical_checksums(source: Endpoint, dest: Endpoint) -> None:
    seen: list[Progress] = []
    stats = clone_schema_data(source, dest, mode=DataMode.parse("full"), progress=seen.append)
    assert _checksums(dest) == _checksums(source)
    with connect(source) as c:
        # 900 orders inserted -> 900 audit rows from the trigger on the source.
        assert c.scalar("SELECT COUNT(*) FROM audit") == 900
    assert stats.rows == 300 + 1 + 900 + 2700 + 50 + 900 + 3
    assert stats.tables == 6 and stats.views == 2 and stats.routines == 2
    assert stats.triggers == 1
    assert seen and seen[-1].tables_done == seen[-1].tables_total == 6
    with connect(dest) as d:
        # The trigger exists but did not fire on the copied orders.
        assert d.scalar("SELECT COUNT(*) FROM audit") == 900
        assert d.scalar("SELECT COUNT(*) FROM v_big") == 800
        assert d.scalar("SELECT twice(21)") == 42
        assert d.scalar("SELECT name FROM customers WHERE id = 0") == "zero"
        d.execute("INSERT INTO orders (customer_id, total) VALUES (1, 1)")
        assert d.scalar("SELECT COUNT(*) FROM audit") == 901
        ddl = str(d.query("SHOW CREATE VIEW v_orders")[0][1])
        assert source.schema not in ddl


def test_full_clone_in_pk_chunks(source: Endpoint, dest: Endpoint) -> None:
    with connect(source) as c:
        c.execute("ANALYZE TABLE items, orders, customers")
        tables, _ = _introspect(c, source.schema)
        items = next(t for t in tables if t.name == "items")
        ranges = _chunks(c, source.schema, items, 500)
        nopk = next(t for t in tables if t.name == "nopk")
        assert _chunks(c, source.schema, nopk, 500) is None  # streamed row by row
        # Rows bigger than a grouped batch: the copier narrows, then streams that key.
        c.execute("CREATE TABLE zz_big (id INT PRIMARY KEY, body LONGTEXT)")
        c.execute(
            "INSERT INTO zz_big SELECT seq, IF(seq % 10 = 0, REPEAT('x', 700000), 'small')"
            " FROM seq_1_to_60"
        )
    try:
        assert ranges is not None and len(ranges) > 2
        assert ranges[0][0] is None and ranges[-1][1] is None
        stats = clone_schema_data(
            source,
            dest,
            mode=DataMode.parse("full"),
            chunk_rows=500,
            workers=3,
            batch_bytes=64 * 1024,
        )
        assert _checksums(dest) == _checksums(source)
        assert stats.rows_per_table["items"] == 2700
        with connect(source) as c, connect(dest) as d:
            assert c.query("CHECKSUM TABLE zz_big")[0][1] == d.query("CHECKSUM TABLE zz_big")[0][1]
    finally:
        with connect(source) as c:
            c.execute("DROP TABLE zz_big")


def test_global_lock_gives_one_snapshot(source: Endpoint, dest: Endpoint) -> None:
    stats = clone_schema_data(
        source, dest, mode=DataMode.parse("full"), workers=2, lock_for_snapshot=True
    )
    assert stats.consistent and stats.notes == []
    with connect(source) as c:  # the lock was released
        c.execute("INSERT INTO nopk VALUES (9, 'w')")
        c.execute("DELETE FROM nopk WHERE a = 9")


def test_structure_only(source: Endpoint, dest: Endpoint) -> None:
    stats = clone_schema_data(source, dest, mode=DataMode.parse("none"))
    assert stats.rows == 0 and stats.tables == 6
    with connect(dest) as d:
        assert d.scalar("SELECT COUNT(*) FROM customers") == 0


def test_sample_keeps_foreign_keys_satisfied(source: Endpoint, dest: Endpoint) -> None:
    stats = clone_schema_data(source, dest, mode=DataMode.parse("sample:40"))
    with connect(dest) as d:
        for t in TABLES:
            assert d.scalar(f"SELECT COUNT(*) FROM {t}") <= 40
        assert d.scalar("SELECT COUNT(*) FROM customers") == 40
        # Children were chosen among the sampled parents, so none are empty.
        assert d.scalar("SELECT COUNT(*) FROM orders") > 0
        assert d.scalar("SELECT COUNT(*) FROM items") > 0
        orphans = d.scalar(
            "SELECT (SELECT COUNT(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id"
            "        WHERE c.id IS NULL)"
            " + (SELECT COUNT(*) FROM items i LEFT JOIN orders o ON o.id = i.order_id"
            "        WHERE o.id IS NULL)"
            " + (SELECT COUNT(*) FROM tree t LEFT JOIN tree p ON p.id = t.parent_id"
            "        WHERE t.parent_id IS NOT NULL AND p.id IS NULL)"
        )
        assert orphans == 0
        # With checks back on, the data is acceptable to the server itself.
        d.execute("SET foreign_key_checks = 1")
        d.execute("ALTER TABLE items ADD COLUMN extra INT, ALGORITHM=COPY")
    assert stats.rows_per_table["customers"] == 40


def test_sample_parse_errors() -> None:
    for bad in ("sample", "sample:0", "sample:x", "most", "full:3"):
        with pytest.raises(Exception, match="--data"):
            DataMode.parse(bad)
    assert str(DataMode.parse("sample:5")) == "sample:5"


def test_copy_reads_on_the_source_wait_only_the_short_lock_wait_timeout(
    source: Endpoint, dest: Endpoint
) -> None:
    src, dst = _open_pair(source, dest)
    try:
        assert int(src.scalar("SELECT @@SESSION.lock_wait_timeout")) == DEFAULT_LOCK_WAIT_TIMEOUT
    finally:
        src.close()
        dst.close()


def test_strip_definer() -> None:
    # The clone and the renderer share engine.ddl.strip_definer.
    sql = "CREATE DEFINER=`ro``ot`@`%` SQL SECURITY DEFINER VIEW v AS SELECT 1"
    assert strip_definer(sql) == "CREATE SQL SECURITY DEFINER VIEW v AS SELECT 1"
    assert strip_definer("CREATE DEFINER=root@localhost TRIGGER t") == "CREATE TRIGGER t"


def test_clone_progress_quiet_off_tty_in_the_first_seconds() -> None:
    buf = io.StringIO()
    tp = CloneProgress(buf)
    tp(Progress(1, 2, 10, 2048, 3.0, "t", 100))
    tp.close()
    assert buf.getvalue() == ""
    line = tp.render(Progress(1, 2, 1234, 2048, 3.0, "t", 5000))
    assert "1/2 tables" in line and "1,234 of ~5,000 rows" in line and "2.0 KB" in line
    assert "ETA 3s" in line


def test_local_sandbox_copies_and_tears_down(source: Endpoint) -> None:
    sb = make_sandbox("local")
    assert isinstance(sb, LocalSandbox)
    with sb:
        ep = sb.prepare(source, data=DataMode.parse("sample:10"))
        assert ep.schema == source.schema and ep.port != source.port
        with connect(ep) as c:
            assert c.scalar("SELECT COUNT(*) FROM customers") == 10
        assert sb.clone_stats is not None and sb.clone_stats.tables == 6
        assert sb.notes == []  # MariaDB target, MariaDB sandbox: nothing to warn about
        srv = sb.server
        assert srv is not None
    assert sb.server is None and not srv.basedir.exists()


def test_kept_sandbox_says_how_to_connect(source: Endpoint, server2: LocalServer) -> None:
    sb = ServerSandbox(f"mysql://root@127.0.0.1:{server2.port}", keep=True)
    ep = sb.prepare(source, data=DataMode.parse("none"))
    assert ep.schema.startswith(f"myshift_rehearse_{source.schema}_")
    msg = sb.finish()
    assert msg is not None and f"-P {server2.port}" in msg and ep.schema in msg
    with connect(ep) as c:  # still there
        assert c.scalar("SELECT COUNT(*) FROM customers") == 0
    sb.keep = False
    sb._finished = False
    assert sb.finish() is None
    with connect(endpoint_of(server2)) as c:
        assert (
            c.scalar(
                "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                (ep.schema,),
            )
            == 0
        )


def test_server_sandbox_refuses_non_empty_schema(source: Endpoint, dest: Endpoint) -> None:
    with connect(dest) as c:
        c.execute("CREATE TABLE precious (id INT)")
    sb = ServerSandbox(f"mysql://root@127.0.0.1:{dest.port}/{dest.schema}")
    with pytest.raises(UsageError, match="already holds 1 tables"):
        sb.prepare(source)


def test_flavor_note() -> None:
    note = flavor_note(MYSQL_8_0, MARIADB_10_11)
    assert note is not None and "mysql:8.0.36" in note and "server:URL" in note
    assert flavor_note(MARIADB_10_11, MARIADB_10_11) is None


def test_refused_object_is_a_clear_error(source: Endpoint, dest: Endpoint) -> None:
    with connect(source) as c:
        c.execute("CREATE TABLE zz_bad (id INT PRIMARY KEY)")
    try:
        with connect(dest) as d:
            # The sandbox already has a table of that name: CREATE TABLE fails.
            d.execute("CREATE TABLE zz_bad (x INT)")
        with pytest.raises(CloneError, match="refused table `zz_bad`"):
            clone_schema_data(source, dest, mode=DataMode.parse("none"))
    finally:
        with connect(source) as c:
            c.execute("DROP TABLE zz_bad")
