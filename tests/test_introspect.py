# ruff: noqa: E501  (the fixture SQL is kept one statement per line, as users write it)
"""Introspection against a live MariaDB: a rich schema must be modelled exactly.

The self-check (model -> SHOW CREATE TABLE) must pass for every table, two
copies of one SQL in differently named schemas must compare equal, and the
rendered DDL must rebuild an equal schema.  The MySQL 8 path is exercised on
recorded rows under tests/data/mysql/.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import endpoint_of
from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.engine import ddl
from myshift.engine.introspect import IntrospectionRows, build_schema, introspect, self_check
from myshift.model import MYSQL_8_0, MYSQL_8_4, IndexKind, Schema

DATA = Path(__file__).parent / "data" / "mysql"

RICH = [
    """CREATE TABLE parent (
  id int unsigned NOT NULL AUTO_INCREMENT,
  code char(3) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL DEFAULT 'x''y',
  name varchar(100) NOT NULL DEFAULT '' COMMENT 'it''s the "name"',
  parent_id int unsigned NULL,
  amount decimal(12,2) NOT NULL DEFAULT 0.00,
  ratio double DEFAULT NULL,
  f float(7,3) unsigned zerofill,
  b bit(3) DEFAULT b'101',
  flag tinyint(1) NOT NULL DEFAULT 1,
  big bigint(20) NOT NULL DEFAULT -5,
  created timestamp NOT NULL DEFAULT current_timestamp(),
  updated datetime(3) NULL DEFAULT current_timestamp(3) ON UPDATE current_timestamp(3),
  d date DEFAULT '2020-01-01',
  t time(2) DEFAULT NULL,
  y year DEFAULT 2000,
  e enum('a','b','c''d') NOT NULL DEFAULT 'a',
  s set('x','y') DEFAULT 'x,y',
  txt text COLLATE utf8mb4_unicode_ci,
  tt tinytext,
  mt mediumtext CHARACTER SET utf8mb3,
  lt longtext,
  bl blob,
  vb varbinary(16),
  bn binary(4) DEFAULT 'ab',
  j json,
  u uuid DEFAULT uuid(),
  ip inet6,
  ex int DEFAULT (1 + 2),
  rnd double DEFAULT rand(),
  g geometry NOT NULL,
  pt point,
  hidden_col int INVISIBLE DEFAULT 7,
  gv int AS (big + 1) VIRTUAL,
  gs varchar(20) AS (concat(name, '-')) STORED COMMENT 'gen',
  pos int CHECK (pos > 0),
  PRIMARY KEY (id),
  UNIQUE KEY uk_code_name (code, name(10)),
  KEY ix_parent (parent_id),
  KEY ix_desc (amount DESC, id) COMMENT 'desc idx',
  KEY ix_ign (ratio) IGNORED,
  KEY ix_hash (big) USING HASH,
  FULLTEXT KEY ft_txt (txt),
  SPATIAL KEY sp_g (g),
  CONSTRAINT fk_self FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE SET NULL,
  CONSTRAINT chk_amount CHECK (amount >= 0),
  CHECK (ratio < 100)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci ROW_FORMAT=DYNAMIC COMMENT='parent''s table' STATS_PERSISTENT=0 AUTO_INCREMENT=42""",
    """CREATE TABLE child (
  a int NOT NULL,
  b int NOT NULL,
  c int unsigned,
  PRIMARY KEY (a, b),
  KEY (c),
  CONSTRAINT fk_c FOREIGN KEY (c) REFERENCES parent (id) ON DELETE CASCADE ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=latin1""",
    """CREATE TABLE grandchild (
  id int NOT NULL PRIMARY KEY,
  a int, b int,
  CONSTRAINT fk_gc FOREIGN KEY (a, b) REFERENCES child (a, b) ON UPDATE CASCADE ON DELETE RESTRICT
)""",
    "CREATE TABLE myi (id int PRIMARY KEY, v varchar(10)) ENGINE=MyISAM DEFAULT CHARSET=utf8mb3 COLLATE utf8mb3_bin CHECKSUM=1",
    "CREATE TABLE ari (id int PRIMARY KEY, v varchar(10)) ENGINE=Aria PAGE_CHECKSUM=1 TRANSACTIONAL=1",
    """CREATE TABLE p_range (id int NOT NULL, d date NOT NULL, PRIMARY KEY (id, d))
  PARTITION BY RANGE (year(d)) (PARTITION p2020 VALUES LESS THAN (2021) COMMENT 'old', PARTITION pmax VALUES LESS THAN MAXVALUE)""",
    "CREATE TABLE p_list (id int NOT NULL, r int NOT NULL) PARTITION BY LIST (r) (PARTITION pa VALUES IN (1,2), PARTITION pb VALUES IN (3))",
    "CREATE TABLE p_hash (id int NOT NULL) PARTITION BY HASH (id) PARTITIONS 4",
    "CREATE TABLE p_key (id int NOT NULL PRIMARY KEY) PARTITION BY KEY (id) PARTITIONS 3",
    "CREATE TABLE p_lkey (id int NOT NULL PRIMARY KEY) PARTITION BY LINEAR KEY ALGORITHM=2 (id) PARTITIONS 2",
    "CREATE TABLE p_rcol (a int NOT NULL, b varchar(5) NOT NULL) PARTITION BY RANGE COLUMNS (a, b) (PARTITION p0 VALUES LESS THAN (10, 'm'), PARTITION p1 VALUES LESS THAN (MAXVALUE, MAXVALUE))",
    "CREATE TABLE p_sub (id int NOT NULL, d date NOT NULL) PARTITION BY RANGE (year(d)) SUBPARTITION BY HASH (to_days(d)) SUBPARTITIONS 2 (PARTITION p0 VALUES LESS THAN (2000), PARTITION p1 VALUES LESS THAN MAXVALUE)",
    "CREATE VIEW v_base AS SELECT id, name FROM parent WHERE amount > 0 WITH LOCAL CHECK OPTION",
    "CREATE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW v_top AS SELECT id FROM v_base WHERE id > 1 WITH CASCADED CHECK OPTION",
    "CREATE ALGORITHM=TEMPTABLE VIEW v_local AS SELECT count(*) AS n FROM child",
    """CREATE PROCEDURE p_do(IN a int, OUT b varchar(10) CHARSET latin1)
  COMMENT 'proc''s comment' MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
  SELECT count(*) INTO b FROM parent WHERE id = a;
END""",
    "CREATE FUNCTION f_add(x int, y int) RETURNS int DETERMINISTIC NO SQL RETURN x + y",
    "CREATE TRIGGER trg_bi BEFORE INSERT ON child FOR EACH ROW SET NEW.c = coalesce(NEW.c, 1)",
    "CREATE TRIGGER trg_bi2 BEFORE INSERT ON child FOR EACH ROW FOLLOWS trg_bi SET NEW.a = NEW.a + 0",
    """CREATE TRIGGER trg_au AFTER UPDATE ON parent FOR EACH ROW BEGIN
  UPDATE child SET c = NEW.id WHERE c = OLD.id;
END""",
    "CREATE EVENT ev_at ON SCHEDULE AT '2035-01-01 00:00:00' ON COMPLETION PRESERVE DISABLE COMMENT 'once' DO DELETE FROM child WHERE a < 0",
    "CREATE EVENT ev_every ON SCHEDULE EVERY 1 HOUR STARTS '2030-01-01 00:00:00' DO UPDATE parent SET flag = 0",
]

EXTRA = [
    # Nullable TIMESTAMP prints NULL explicitly; COMPRESSED columns; odd comments.
    """CREATE TABLE misc (
  id bigint NOT NULL,
  ts timestamp NULL DEFAULT NULL,
  blobby blob COMPRESSED,
  note varchar(20) DEFAULT 'a\\\\b' COMMENT 'line\\nbreak ''q''',
  region int NOT NULL DEFAULT 1,
  PRIMARY KEY (id, region),
  KEY ix_a (note) COMMENT 'x''y'
) PARTITION BY LIST COLUMNS (region) (PARTITION eu VALUES IN (1,2), PARTITION us VALUES IN (3))""",
    """CREATE TABLE two_fks (
  id int PRIMARY KEY,
  z int unsigned,
  a int unsigned,
  CONSTRAINT zz FOREIGN KEY (z) REFERENCES parent (id),
  CONSTRAINT aa FOREIGN KEY (a) REFERENCES parent (id) ON UPDATE CASCADE
)""",
]

ALL = RICH + EXTRA


def _load(conn: Conn, statements: list[str]) -> None:
    for stmt in statements:
        conn.execute(stmt)


@pytest.fixture
def other_schema(server: LocalServer) -> Iterator[Endpoint]:
    """A second empty schema with a different name on the same server."""
    name = f"other_{uuid.uuid4().hex[:8]}"
    admin = connect(endpoint_of(server))
    admin.execute(f"CREATE DATABASE {quote_ident(name)} DEFAULT CHARACTER SET utf8mb4")
    try:
        yield endpoint_of(server, name)
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
        admin.close()


@pytest.fixture
def rich(conn: Conn, fresh_schema: Endpoint) -> Schema:
    _load(conn, ALL)
    return introspect(conn, fresh_schema.schema)


def test_every_table_passes_the_self_check(rich: Schema) -> None:
    assert [t.name for t in rich.tables] == sorted(t.name for t in rich.tables)
    assert len(rich.tables) == 14
    assert {t.name: t.unsupported for t in rich.unsupported_tables} == {}


def test_columns_are_modelled_as_show_create_prints_them(rich: Schema) -> None:
    p = rich.table_map["parent"]
    cols = p.column_map
    assert [c.name for c in p.columns][:3] == ["id", "code", "name"]
    assert cols["id"].auto_increment and cols["id"].default is None
    assert cols["code"].default == "'x''y'"
    assert (cols["code"].charset, cols["code"].collation) == ("latin1", "latin1_bin")
    assert cols["name"].comment == 'it\'s the "name"'
    assert cols["amount"].default == "0.00"
    assert cols["ratio"].default == "NULL"
    assert cols["created"].default == "current_timestamp()"
    assert cols["updated"].on_update == "current_timestamp(3)"
    assert cols["ex"].default == "(1 + 2)"
    assert cols["g"].default is None and not cols["g"].nullable
    assert cols["hidden_col"].invisible
    assert cols["gv"].generated == "`big` + 1" and not cols["gv"].stored
    assert cols["gs"].generated is not None and cols["gs"].stored
    assert cols["gv"].default is None
    # MariaDB's json is longtext plus a column-level json_valid CHECK.
    assert cols["j"].type == "longtext"
    inline = {c.name: c for c in p.checks if c.column is not None}
    assert inline["j"].clause == "json_valid(`j`)"
    assert inline["pos"].clause == "`pos` > 0"
    assert [c.name for c in p.checks if c.column is None] == ["chk_amount", "CONSTRAINT_1"]
    misc = rich.table_map["misc"]
    assert misc.column_map["blobby"].compressed
    assert misc.column_map["ts"].default == "NULL"


def test_indexes_keep_server_order_and_attributes(rich: Schema) -> None:
    p = rich.table_map["parent"]
    assert [i.name for i in p.indexes] == [
        "PRIMARY",
        "uk_code_name",
        "ix_parent",
        "ix_desc",
        "ix_ign",
        "ix_hash",
        "sp_g",
        "ft_txt",
    ]
    ix = p.index_map
    assert ix["PRIMARY"].kind is IndexKind.PRIMARY
    assert ix["uk_code_name"].parts[1].length == 10
    assert ix["ix_desc"].parts[0].descending and not ix["ix_desc"].parts[1].descending
    assert ix["ix_desc"].comment == "desc idx"
    assert ix["ix_ign"].invisible
    assert ix["ix_hash"].using == "HASH"
    assert ix["sp_g"].kind is IndexKind.SPATIAL and ix["sp_g"].parts[0].length is None
    assert ix["ft_txt"].kind is IndexKind.FULLTEXT


def test_foreign_keys_checks_and_options(rich: Schema) -> None:
    p = rich.table_map["parent"]
    assert p.fk_map["fk_self"].ref_table == "parent"
    assert p.fk_map["fk_self"].on_delete == "SET NULL"
    assert p.fk_map["fk_self"].ref_schema is None
    gc = rich.table_map["grandchild"].fk_map["fk_gc"]
    assert gc.columns == ("a", "b") and gc.ref_columns == ("a", "b")
    assert (gc.on_update, gc.on_delete) == ("CASCADE", "RESTRICT")
    child = rich.table_map["child"].fk_map["fk_c"]
    assert (child.on_delete, child.on_update) == ("CASCADE", "NO ACTION")
    assert [f.name for f in rich.table_map["two_fks"].foreign_keys] == ["aa", "zz"] or [
        f.name for f in rich.table_map["two_fks"].foreign_keys
    ] == ["zz", "aa"]
    assert p.row_format == "DYNAMIC"
    assert p.options == (("STATS_PERSISTENT", "0"),)
    assert p.comment == "parent's table"
    assert p.auto_increment == 42
    assert rich.table_map["myi"].engine == "MyISAM"
    assert rich.table_map["myi"].collation == "utf8mb3_bin"
    assert rich.table_map["ari"].options == (("PAGE_CHECKSUM", "1"), ("TRANSACTIONAL", "1"))


def test_partitions(rich: Schema) -> None:
    tm = rich.table_map
    rng = tm["p_range"].partitioning
    assert rng is not None and rng.method == "RANGE" and rng.expression == "year(`d`)"
    assert [(x.name, x.values, x.comment) for x in rng.partitions] == [
        ("p2020", "2021", "old"),
        ("pmax", "MAXVALUE", ""),
    ]
    lst = tm["p_list"].partitioning
    assert lst is not None and [x.values for x in lst.partitions] == ["1,2", "3"]
    hsh = tm["p_hash"].partitioning
    assert hsh is not None and hsh.method == "HASH" and len(hsh.partitions) == 4
    assert tm["p_lkey"].partitioning is not None
    assert tm["p_lkey"].partitioning.method == "LINEAR KEY"
    rc = tm["p_rcol"].partitioning
    assert rc is not None and rc.method == "RANGE COLUMNS"
    sub = tm["p_sub"].partitioning
    assert sub is not None and sub.sub_method == "HASH"
    assert sub.partitions[0].subpartitions == ("p0sp0", "p0sp1")
    assert tm["parent"].partitioning is None


def test_views_routines_triggers_events(rich: Schema, fresh_schema: Endpoint) -> None:
    v = rich.view_map
    assert list(v) == ["v_base", "v_local", "v_top"]
    assert fresh_schema.schema not in v["v_base"].definition
    assert v["v_base"].definition.startswith("select `parent`.`id` AS `id`")
    assert v["v_base"].check_option == "LOCAL"
    assert (v["v_top"].algorithm, v["v_top"].security, v["v_top"].check_option) == (
        "MERGE",
        "INVOKER",
        "CASCADED",
    )
    assert v["v_local"].algorithm == "TEMPTABLE"
    fn = rich.routine_map[("FUNCTION", "f_add")]
    assert (fn.params, fn.returns, fn.deterministic, fn.data_access) == (
        "x int, y int",
        "int(11)",
        True,
        "NO SQL",
    )
    pr = rich.routine_map[("PROCEDURE", "p_do")]
    assert pr.params == "IN a int, OUT b varchar(10) CHARSET latin1"
    assert (pr.security, pr.comment, pr.data_access) == (
        "INVOKER",
        "proc's comment",
        "MODIFIES SQL DATA",
    )
    assert "DEFINER" not in ddl.create_routine(pr, MYSQL_8_0)
    tr = rich.trigger_map
    assert (tr["trg_bi"].order, tr["trg_bi2"].order) == (1, 2)
    assert ddl.trigger_predecessor(rich.triggers, tr["trg_bi2"]) == "trg_bi"
    ev = rich.event_map
    assert ev["ev_at"].schedule == "AT '2035-01-01 00:00:00'"
    assert (ev["ev_at"].status, ev["ev_at"].on_completion, ev["ev_at"].comment) == (
        "DISABLED",
        "PRESERVE",
        "once",
    )
    assert ev["ev_every"].schedule == "EVERY 1 HOUR"
    assert ev["ev_every"].starts == "2030-01-01 00:00:00"


def test_same_sql_in_two_schemas_is_the_same(rich: Schema, other_schema: Endpoint) -> None:
    with connect(other_schema) as c2:
        _load(c2, ALL)
        b = introspect(c2, other_schema.schema)
    assert b.name != rich.name
    assert rich.same_objects(b)


def _apply(conn: Conn, s: Schema) -> None:
    flavor = conn.flavor
    conn.execute("SET SESSION foreign_key_checks = 0")
    for t in s.tables:
        conn.execute(ddl.create_table(t, flavor, with_auto_increment=True))
    # Views in dependency order: a view whose definition names another goes after it.
    pending = list(s.views)
    while pending:
        v = next(
            v
            for v in pending
            if not any(ddl.quote(o.name) in v.definition for o in pending if o is not v)
        )
        conn.execute(ddl.create_view(v, flavor))
        pending.remove(v)
    for r in s.routines:
        conn.execute(ddl.create_routine(r, flavor))
    for tr in sorted(s.triggers, key=lambda t: t.order):
        conn.execute(
            ddl.create_trigger(tr, flavor, follows=ddl.trigger_predecessor(s.triggers, tr))
        )
    for e in s.events:
        conn.execute(ddl.create_event(e, flavor))


def test_rendered_ddl_rebuilds_an_equal_schema(rich: Schema, other_schema: Endpoint) -> None:
    with connect(other_schema) as c2:
        _apply(c2, rich)
        rebuilt = introspect(c2, other_schema.schema)
    assert rebuilt.unsupported_tables == ()
    for t in rich.tables:
        assert rebuilt.table_map[t.name] == t, t.name
        assert rebuilt.table_map[t.name].auto_increment == t.auto_increment
    assert rich.same_objects(rebuilt)


def test_self_check_flags_what_the_model_cannot_reproduce(rich: Schema, conn: Conn) -> None:
    p = rich.table_map["parent"]
    broken = replace(p, comment="something else")
    reason = self_check(broken, conn.flavor)
    assert reason is not None and "COMMENT='something else'" in reason and "line " in reason
    assert self_check(p, conn.flavor) is None


def test_empty_schema(conn: Conn, fresh_schema: Endpoint) -> None:
    s = introspect(conn, fresh_schema.schema)
    assert s.tables == () and s.views == () and s.routines == ()
    assert s.charset == "utf8mb4"


# ----------------------------------------------------------------- MySQL 8


@pytest.mark.parametrize("flavor", [MYSQL_8_0, MYSQL_8_4], ids=str)
def test_mysql_rows_build_the_right_model(flavor: object) -> None:
    from myshift.model import Flavor

    assert isinstance(flavor, Flavor)
    rows = IntrospectionRows.load(DATA / "shop-8.0.json")
    s = build_schema(rows, flavor)
    assert {t.name: t.unsupported for t in s.unsupported_tables} == {}
    o = s.table_map["orders"]
    c = o.column_map
    assert c["total"].default == "'0.00'"
    assert c["qty"].default == "'1'"
    assert c["note"].default is None
    assert c["doc"].default == "NULL"
    assert c["created_at"].default == "CURRENT_TIMESTAMP"
    assert c["updated_at"].on_update == "CURRENT_TIMESTAMP(3)"
    assert c["deleted_at"].default == "NULL"
    assert c["uuid"].default == "(uuid_to_bin(uuid()))"
    assert c["total_cents"].generated == "(`total` * 100)" and not c["total_cents"].stored
    assert c["secret"].invisible
    assert c["loc"].srid == 4326
    assert c["flags"].default == "b'101'"
    ix = o.index_map
    assert ix["ix_func"].parts[0].expression == "lower(`code`)"
    assert ix["ix_func"].parts[0].column is None
    assert ix["ix_hidden"].invisible
    assert ix["ix_customer"].parts[1].descending
    assert [i.name for i in o.indexes][:2] == ["PRIMARY", "uk_code"]
    assert [ch.name for ch in o.checks] == ["chk_total", "chk_qty"]
    assert not o.check_map["chk_qty"].enforced
    fk = o.fk_map["fk_customer"]
    assert (fk.on_delete, fk.on_update, fk.ref_schema) == ("CASCADE", "NO ACTION", None)
    assert o.auto_increment == 1001
    assert s.table_map["customers"].options == (("STATS_PERSISTENT", "0"),)
    assert s.table_map["keyed"].partitioning is not None
    assert s.view_map["v_orders"].definition == (
        "select `orders`.`id` AS `id`,`orders`.`total` AS `total` from `orders` "
        "where (`orders`.`total` > 0)"
    )
    r = s.routine_map[("FUNCTION", "order_total")]
    assert (r.params, r.returns) == ("p_id bigint", "decimal(12,2)")
    assert ddl.create_routine(r, flavor).startswith("CREATE FUNCTION `order_total`(p_id bigint)")
    assert ddl.create_event(s.event_map["nightly"], flavor).startswith(
        "CREATE EVENT `nightly` ON SCHEDULE EVERY 1 DAY"
    )


def test_mysql_self_check_catches_a_wrong_model() -> None:
    rows = IntrospectionRows.load(DATA / "shop-8.0.json")
    rows.create_tables["customers"] = rows.create_tables["customers"].replace(
        "`name` varchar(50) NOT NULL", "`name` varchar(50) NOT NULL COMMENT 'not in I_S'"
    )
    s = build_schema(rows, MYSQL_8_0)
    reason = s.table_map["customers"].unsupported
    assert reason is not None and "not in I_S" in reason


def test_rows_round_trip_through_json(conn: Conn, fresh_schema: Endpoint) -> None:
    from myshift.engine.introspect import fetch_rows

    _load(conn, ALL[:3])
    rows = fetch_rows(conn, fresh_schema.schema)
    again = IntrospectionRows.from_json(rows.to_json())
    a = build_schema(rows, conn.flavor)
    b = build_schema(again, conn.flavor)
    assert a == b and a.same_objects(b)


def test_edge_tables_are_supported_or_reported(conn: Conn, fresh_schema: Endpoint) -> None:
    _load(
        conn,
        [
            "CREATE TABLE a (id int PRIMARY KEY) PAGE_COMPRESSED=1",
            "CREATE TABLE b (id int PRIMARY KEY) KEY_BLOCK_SIZE=8 ROW_FORMAT=COMPRESSED",
            "CREATE TABLE c (id int PRIMARY KEY) MAX_ROWS=100 PACK_KEYS=1 STATS_AUTO_RECALC=0 STATS_SAMPLE_PAGES=5 AVG_ROW_LENGTH=10",
            "CREATE TABLE d (id int PRIMARY KEY, t varchar(10) COLLATE utf8mb4_bin) DEFAULT CHARSET=latin1",
            "CREATE TABLE f (id int NOT NULL, PRIMARY KEY (id) USING BTREE) ENGINE=MEMORY",
            "CREATE TABLE g (`we``ird col` int, `select` int, KEY `ix ``q` (`we``ird col`)) COMMENT 'back\\\\slash'",
            "CREATE TABLE h (id int NOT NULL) PARTITION BY HASH (id) (PARTITION a, PARTITION b)",
            "CREATE TABLE i (id int NOT NULL, d date NOT NULL) PARTITION BY RANGE (year(d)) SUBPARTITION BY HASH (to_days(d)) (PARTITION p0 VALUES LESS THAN (2000) (SUBPARTITION s0, SUBPARTITION s1), PARTITION p1 VALUES LESS THAN MAXVALUE (SUBPARTITION s2, SUBPARTITION s3))",
            "CREATE TABLE j (id int NOT NULL) PARTITION BY HASH (id)",
            "CREATE SEQUENCE sq",
            "CREATE TABLE k (id int NOT NULL PRIMARY KEY, v int) WITH SYSTEM VERSIONING",
        ],
    )
    s = introspect(conn, fresh_schema.schema)
    reasons = {t.name: t.unsupported for t in s.tables}
    assert set(reasons) == set("abcdfghijk") | {"sq"}
    # What the model cannot express is reported with a reason, never dropped or guessed.
    assert reasons.pop("sq") == "sequence objects are not supported"
    k_reason = reasons.pop("k")
    assert k_reason is not None and "WITH SYSTEM VERSIONING" in k_reason
    assert reasons == dict.fromkeys(reasons)
    g = s.table_map["g"]
    assert g.index_map["ix `q"].parts[0].column == "we`ird col"
    assert g.comment == "back\\slash"
    i = s.table_map["i"].partitioning
    assert i is not None and i.partitions[1].subpartitions == ("s2", "s3")
