"""Issue 11: foreign keys and trigger swaps that take nothing offline.

* An index change under a foreign key, when another index still serves the
  key, is one ALTER (INPLACE, LOCK=NONE) and the key stays (on main: the key
  was dropped and re-added, the re-add a COPY under LOCK=SHARED).
* A foreign key added to an existing table is added with
  foreign_key_checks=0 (INPLACE, no copy) between two runs of its orphan
  pre-flight on the DDL session (workflows.guarded).
* On MySQL a changed trigger is swapped under LOCK TABLES t WRITE; the
  MySQL-flavor plan runs here on MariaDB, whose rules match, to show the
  sequence is valid and no row is written without a trigger.

Goldens: tests/golden/plan_fk_index_<flavor>.sql (MYSHIFT_UPDATE_GOLDEN=1).
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import endpoint_of
from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.changes import Change
from myshift.engine.diff import DiffOptions, diff_schemas
from myshift.engine.introspect import introspect
from myshift.errors import ApplyFailed, UnsafeError
from myshift.model import MARIADB_10_11, MYSQL_8_0, Flavor, Schema
from myshift.model.schema import Column, ForeignKey, Index, IndexKind, IndexPart, Table
from myshift.workflows.execute import execute_planfile
from myshift.workflows.guarded import run_guarded
from myshift.workflows.plan import PlanOptions, build_planfile
from myshift.workflows.planmodel import PlannedStatement, file_statements, planned
from myshift.workflows.runner import ApplyOptions, run_statements

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MYSHIFT_UPDATE_GOLDEN") == "1"

PARENT = "CREATE TABLE customers (id int PRIMARY KEY, name varchar(20))"
ORDERS = (
    "CREATE TABLE orders (id int PRIMARY KEY, customer_id int, created int, "
    "KEY ix_customer (customer_id), "
    "CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id))"
)
ORDERS_WIDER = ORDERS.replace(
    "KEY ix_customer (customer_id)", "KEY ix_customer (customer_id, created)"
)
ROWS = (
    "INSERT INTO customers VALUES (1, 'a'), (2, 'b')",
    "INSERT INTO orders VALUES (1, 1, 10), (2, 2, 20), (3, NULL, 30)",
)


def _load(conn: Conn, *sql: str) -> None:
    for s in sql:
        conn.execute(s)


@pytest.fixture
def history_schema(admin: Conn) -> Iterator[str]:
    name = f"_h_{uuid.uuid4().hex[:8]}"
    yield name
    admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")


def _apply(target: Endpoint, desired: str, tmp_path: Path, history: str) -> list[PlannedStatement]:
    path = tmp_path / "desired.sql"
    path.write_text(desired)
    pf = build_planfile(target, str(path), PlanOptions())
    execute_planfile(target, pf, ApplyOptions(history_schema=history, audit_path=None))
    again = build_planfile(target, str(path), PlanOptions(verify=False))
    assert again.statements == []  # re-plan empty
    return pf.statements


# ------------------------------------------------------------ FK-preserving index changes


def _idx(name: str, *cols: str, kind: IndexKind = IndexKind.INDEX) -> Index:
    return Index(name, kind, tuple(IndexPart(c) for c in cols))


def _fk_index_schemas() -> tuple[Schema, Schema]:
    """orders.ix_customer widened (child side), customers.ux_code widened (parent side),
    lines.ix_order replaced by a new index that serves, refs.ix_code dropped."""
    pk = _idx("PRIMARY", "id", kind=IndexKind.PRIMARY)

    def t(
        name: str, cols: tuple[str, ...], ix: tuple[Index, ...], fks: tuple[ForeignKey, ...] = ()
    ) -> Table:
        return Table(
            name,
            tuple(Column(c, "int(11)") for c in ("id", *cols)),
            indexes=(pk, *ix),
            foreign_keys=fks,
        )

    fk_o = ForeignKey("fk_customer", ("customer_id",), "customers", ("id",))
    fk_l = ForeignKey("fk_order", ("order_id",), "orders", ("id",))
    fk_r = ForeignKey("fk_code", ("code",), "customers", ("code",))
    cur = Schema(
        "s",
        tables=(
            t("customers", ("code",), (_idx("ux_code", "code"),)),
            t("orders", ("customer_id", "created"), (_idx("ix_customer", "customer_id"),), (fk_o,)),
            t("lines", ("order_id",), (_idx("ix_order", "order_id"),), (fk_l,)),
            t(
                "refs",
                ("code",),
                (_idx("ix_code", "code"), _idx("ix_code_id", "code", "id")),
                (fk_r,),
            ),
        ),
    )
    des = Schema(
        "s",
        tables=(
            t("customers", ("code",), (_idx("ux_code", "code", "id"),)),
            t(
                "orders",
                ("customer_id", "created"),
                (_idx("ix_customer", "customer_id", "created"),),
                (fk_o,),
            ),
            t("lines", ("order_id",), (_idx("ix_order_id", "order_id", "id"),), (fk_l,)),
            t("refs", ("code",), (_idx("ix_code_id", "code", "id"),), (fk_r,)),
        ),
    )
    return cur, des


def _text(changes: list[Change], flavor: Flavor) -> str:
    out = []
    for c in changes:
        a = c.assess(flavor)
        before, after = c.session(flavor)
        out.append(f"-- {c.subject}: {a.risk} {a.algorithm} LOCK={a.lock}\n")
        out += [f"{sql};\n" for sql in (*before, c.render(flavor), *after)]
    return "".join(out)


@pytest.mark.parametrize("flavor", [MARIADB_10_11, MYSQL_8_0], ids=["mariadb", "mysql"])
def test_golden_fk_index_changes(flavor: Flavor) -> None:
    cur, des = _fk_index_schemas()
    changes = diff_schemas(cur, des, options=DiffOptions(or_replace=flavor.is_mariadb))
    # One ALTER per table, no foreign key dropped or added (4 on main: 4 drops, 4 adds more).
    assert len(changes) == 4
    assert all("FOREIGN KEY" not in c.render(flavor) for c in changes)
    assert {(c.assess(flavor).algorithm.value, c.assess(flavor).lock.value) for c in changes} == {
        ("INPLACE", "NONE")
    }
    text = f"-- {flavor}: index changes under foreign keys\n{_text(changes, flavor)}"
    path = GOLDEN / f"plan_fk_index_{'mariadb' if flavor.is_mariadb else 'mysql'}.sql"
    if UPDATE:
        path.write_text(text)
    assert text == path.read_text()


def test_widened_index_under_fk_is_one_inplace_alter_and_the_key_stays(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path, history_schema: str
) -> None:
    _load(conn, PARENT, ORDERS, *ROWS)
    statements = _apply(fresh_schema, f"{PARENT};\n{ORDERS_WIDER};\n", tmp_path, history_schema)
    assert [s.sql for s in statements] == [
        "ALTER TABLE `orders` DROP INDEX `ix_customer`, "
        "ADD KEY `ix_customer` (`customer_id`,`created`)"
    ]
    st = statements[0]
    assert (st.algorithm.value, st.lock.value) == ("INPLACE", "NONE")
    after = introspect(conn, fresh_schema.schema)
    assert [f.name for f in after.table_map["orders"].foreign_keys] == ["fk_customer"]
    # The server runs it in place without a lock (it refuses otherwise), FK in place.
    conn.execute(
        "ALTER TABLE orders DROP INDEX ix_customer, ADD KEY ix_customer (customer_id), "
        "ALGORITHM=INPLACE, LOCK=NONE"
    )
    assert [f.name for f in introspect(conn, fresh_schema.schema).table_map["orders"].foreign_keys]


# ------------------------------------------------------------ FK add, unchecked


def test_fk_add_runs_with_checks_off_between_two_preflights(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path, history_schema: str
) -> None:
    no_fk = ORDERS.replace(
        ", CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id)", ""
    )
    _load(conn, PARENT, no_fk, *ROWS)
    statements = _apply(fresh_schema, f"{PARENT};\n{ORDERS};\n", tmp_path, history_schema)
    assert len(statements) == 1
    st = statements[0]
    assert st.session_before == ("SET SESSION foreign_key_checks = 0",)
    assert st.session_after == ("SET SESSION foreign_key_checks = 1",)
    assert st.recheck and len(st.preflight) == 1
    assert (st.algorithm.value, st.lock.value) == ("INPLACE", "NONE")
    fks = introspect(conn, fresh_schema.schema).table_map["orders"].foreign_keys
    assert [f.name for f in fks] == ["fk_customer"]
    # The server agrees it is in place with no lock under foreign_key_checks=0.
    conn.execute("ALTER TABLE orders DROP FOREIGN KEY fk_customer")
    conn.execute("SET SESSION foreign_key_checks = 0")
    conn.execute(
        "ALTER TABLE orders ADD CONSTRAINT fk_customer FOREIGN KEY (customer_id) "
        "REFERENCES customers (id), ALGORITHM=INPLACE, LOCK=NONE"
    )
    conn.execute("SET SESSION foreign_key_checks = 1")


def _fk_statement(conn: Conn, schema: str) -> PlannedStatement:
    """The derived statement adding fk_customer to orders (which has none)."""
    cur = introspect(conn, schema)
    fk = ForeignKey("fk_customer", ("customer_id",), "customers", ("id",))
    orders = cur.table_map["orders"]
    des = Schema(
        schema,
        tables=tuple(
            t if t.name != "orders" else Table(t.name, t.columns, t.indexes, foreign_keys=(fk,))
            for t in cur.tables
        ),
    )
    assert orders.foreign_keys == ()
    changes = diff_schemas(cur, des, options=DiffOptions(or_replace=True))
    sts = file_statements(planned(changes, conn.flavor, PlanOptions()), changes, cur, False)
    assert len(sts) == 1 and sts[0].recheck
    return sts[0]


def test_orphan_written_during_the_fk_add_fails_naming_rows_and_fix(
    conn: Conn, fresh_schema: Endpoint
) -> None:
    no_fk = ORDERS.replace(
        ", CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id)", ""
    )
    _load(conn, PARENT, no_fk, *ROWS)
    st = _fk_statement(conn, fresh_schema.schema)
    other = connect(fresh_schema)

    def send() -> int:
        # A row written by the application while checks are off for this session only.
        other.execute("INSERT INTO orders VALUES (9, 99, 0)")
        return conn.execute(st.sql)

    with pytest.raises(ApplyFailed) as err:
        run_guarded(conn, st, send)
    other.close()
    text = str(err.value)
    assert "1 row(s)" in text and "The foreign key exists now" in text
    # The statement's clause, not its SQL cut at a length.
    assert "the statement (alter table orders: add foreign key fk_customer -> customers)" in text
    assert "`ALTER" not in text and "Statement:" not in text, text
    assert "Fix or delete those rows" in (err.value.fix or "")
    assert conn.scalar("SELECT @@SESSION.foreign_key_checks") == 1
    assert introspect(conn, fresh_schema.schema).table_map["orders"].foreign_keys


def test_orphan_before_the_fk_add_refuses_and_runs_nothing(
    conn: Conn, fresh_schema: Endpoint
) -> None:
    no_fk = ORDERS.replace(
        ", CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id)", ""
    )
    _load(conn, PARENT, no_fk, *ROWS)
    st = _fk_statement(conn, fresh_schema.schema)
    conn.execute("INSERT INTO orders VALUES (9, 99, 0)")
    ran: list[int] = []

    def send() -> int:
        ran.append(1)
        return 0

    with pytest.raises(UnsafeError, match="was not run") as err:
        run_guarded(conn, st, send)
    assert ran == []
    # The statement's clause, not its SQL cut at a length.
    text = str(err.value)
    assert "(alter table orders: add foreign key fk_customer -> customers)" in text, text
    assert "`ALTER" not in text, text
    assert conn.scalar("SELECT @@SESSION.foreign_key_checks") == 1


# ------------------------------------------------------------ MySQL trigger swap


TRIGGERED = (
    "CREATE TABLE a (id int PRIMARY KEY AUTO_INCREMENT, tag varchar(10))",
    "CREATE TABLE audit (id int)",
)
OLD_TRIGGER = (
    "CREATE TRIGGER a_bi BEFORE INSERT ON a FOR EACH ROW "
    "BEGIN SET NEW.tag = 'old'; INSERT INTO audit VALUES (NEW.id); END"
)
NEW_TRIGGER = OLD_TRIGGER.replace("'old'", "'new'")


def _schema_of(server: LocalServer, admin: Conn, *sql: str) -> tuple[Schema, str]:
    name = f"w_{uuid.uuid4().hex[:8]}"
    admin.execute(f"CREATE DATABASE {quote_ident(name)} DEFAULT CHARACTER SET utf8mb4")
    with connect(endpoint_of(server, name)) as c:
        _load(c, *sql)
        return introspect(c, name), name


def test_mysql_trigger_swap_runs_under_lock_tables_with_no_row_missed(
    server: LocalServer, admin: Conn, conn: Conn, fresh_schema: Endpoint, history_schema: str
) -> None:
    from myshift.workflows.history import History

    _load(conn, *TRIGGERED, OLD_TRIGGER)
    desired, ws = _schema_of(server, admin, *TRIGGERED, NEW_TRIGGER)
    try:
        current = introspect(conn, fresh_schema.schema)
        changes = diff_schemas(current, desired, options=DiffOptions(or_replace=False))
        sts = file_statements(planned(changes, MYSQL_8_0, PlanOptions()), changes, current, False)
    finally:
        admin.execute(f"DROP DATABASE {quote_ident(ws)}")
    # (The swap is tested here, not the DEFINER the desired database's trigger has.)
    sent = [re.sub(r"DEFINER=\S+ ", "", s) for st in sts for s in st.with_session()]
    assert sent == [
        "LOCK TABLES `a` WRITE",
        "DROP TRIGGER `a_bi`",
        "CREATE TRIGGER a_bi BEFORE INSERT ON a FOR EACH ROW "
        "BEGIN SET NEW.tag = 'new'; INSERT INTO audit VALUES (NEW.id); END",
        "UNLOCK TABLES",
    ]
    stop = threading.Event()
    errors: list[str] = []

    def writer() -> None:
        with connect(fresh_schema) as w:
            while not stop.is_set():
                try:
                    w.execute("INSERT INTO a (tag) VALUES (NULL)")
                except Exception as exc:
                    errors.append(str(exc))
                time.sleep(0.002)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.2)
        # History on its own connection, written while the DDL session holds the lock.
        with History.open(fresh_schema, schema=history_schema, audit_path=None) as history:
            apply_id = history.begin_apply(kind="apply", target_schema=fresh_schema.schema)
            run_statements(
                fresh_schema,
                sts,
                ApplyOptions(history_schema=history_schema, audit_path=None),
                history=history,
                apply_id=apply_id,
            )
            history.finish_apply(apply_id, "ok")
            outcomes = [s.outcome for s in history.get_apply(apply_id).statements]
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert outcomes == ["ok", "ok"]
    tags = dict(conn.query("SELECT tag, COUNT(*) FROM a GROUP BY tag"))
    assert set(tags) == {"old", "new"}, tags  # every row tagged, by one body or the other
    assert conn.scalar("SELECT COUNT(*) FROM a") == conn.scalar("SELECT COUNT(*) FROM audit")
    after = introspect(conn, fresh_schema.schema)
    same = replace(desired, name=after.name)
    assert diff_schemas(after, same, options=DiffOptions(or_replace=False)) == []


def test_session_statements_come_from_the_derivation_not_the_file(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """A plan file without the checks-off session (or the recheck) is refused at apply."""
    from myshift.workflows.plancheck import PlanMismatch, trusted_planfile

    no_fk = ORDERS.replace(
        ", CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id)", ""
    )
    _load(conn, PARENT, no_fk, *ROWS)
    path = tmp_path / "desired.sql"
    path.write_text(f"{PARENT};\n{ORDERS};\n")
    pf = build_planfile(fresh_schema, str(path), PlanOptions(verify=False))
    st = pf.statements[0]
    assert st.recheck and st.session_before
    assert trusted_planfile(pf, fresh_schema).statements[0] == replace(
        st, preflight=tuple(replace(p, violations=None) for p in st.preflight)
    )
    for edited in (replace(st, recheck=False), replace(st, session_before=(), session_after=())):
        with pytest.raises(PlanMismatch):
            trusted_planfile(replace(pf, statements=[edited]), fresh_schema)
    # The hash covers them too: an edited file does not even load.
    assert replace(pf, statements=[replace(st, recheck=False)]).plan_hash != pf.plan_hash
