"""MySQL's INSTANT / INPLACE / COPY predictions and the table they run on (issue 16).

Split from test_mysql_fidelity.py (which keeps the shared table helpers): the
rules of engine/instant.py (FULLTEXT, ROW_FORMAT=COMPRESSED, the added column,
the row-version and column-count limits) and the refusals recorded in
tests/data/mysql/outcomes-instant-ddl-limitations.json.  MariaDB's side of
the same rules is measured live in tests/test_instant_live.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from myshift.engine.changes import AlterTable
from myshift.engine.changes.table_diff import diff_table
from myshift.engine.risk import Algorithm, Lock, Risk
from myshift.model import Column, Flavor, Index, IndexKind, IndexPart, Table
from test_mysql_fidelity import (
    BODY,
    FT,
    ID,
    MARIADB,
    MYSQL_80,
    MYSQL_84,
    MYSQL_91,
    MYSQL_8012,
    MYSQL_8028,
    NOTE,
    PK,
    PLAIN,
    alter,
    appended,
    build,
    col,
    stat,
)


def test_add_column_instant_on_a_plain_table() -> None:
    for flavor in (MYSQL_80, MYSQL_84, MARIADB):
        a = alter(PLAIN, appended(PLAIN, NOTE)).assess(flavor)
        assert a.algorithm is Algorithm.INSTANT, (flavor, a)


def test_add_column_on_compressed_table_is_inplace() -> None:
    before = replace(PLAIN, row_format="COMPRESSED")
    a = alter(before, appended(before, NOTE)).assess(MYSQL_80)
    assert a.algorithm is Algorithm.INPLACE, a
    assert "rules out instant column changes" in a.reason
    # Dropping a column there is refused INSTANT as well.
    d = alter(appended(before, NOTE), before).assess(MYSQL_80)
    assert d.algorithm is Algorithm.INPLACE, d


def test_rebuilding_a_fulltext_table_copies_it() -> None:
    """Not INSTANT, and not INPLACE either: InnoDB refuses to rebuild in place a table
    whose FULLTEXT index survives (ER_INNODB_FT_LIMIT, recorded innodb-alter:484 and
    instant_ddl_limitations:63/65, see instant.fulltext_rebuild_refused)."""
    ft = replace(PLAIN, indexes=(PK, FT))
    for flavor in (MYSQL_80, MYSQL_84, MYSQL_91):
        a = alter(ft, appended(ft, NOTE)).assess(flavor)
        assert (a.algorithm, a.lock) == (Algorithm.COPY, Lock.SHARED), a
        assert "keeps FULLTEXT index" in a.reason and "rules out instant" in a.reason
        d = alter(appended(ft, NOTE), ft).assess(flavor)
        assert d.algorithm is Algorithm.COPY, d
    # Other rebuilds too: a moved column, a column made NOT NULL.
    body_first = replace(ft, columns=(ft.columns[1], ft.columns[0], *ft.columns[2:]))
    assert alter(ft, body_first).assess(MYSQL_80).algorithm is Algorithm.COPY
    # No rebuild (a plain index, a default), or the FULLTEXT index goes: unchanged.
    ix = Index("ix_id", IndexKind.INDEX, (IndexPart("id"),))
    assert alter(ft, replace(ft, indexes=(*ft.indexes, ix))).assess(MYSQL_80).algorithm is (
        Algorithm.INPLACE
    )
    bare = replace(PLAIN, indexes=(PK,))
    assert alter(ft, bare).assess(MYSQL_80).algorithm is Algorithm.INPLACE
    # MariaDB rebuilds it in place (not instantly): measured in tests/test_instant_live.py.
    assert alter(ft, appended(ft, NOTE)).assess(MARIADB).algorithm is Algorithm.INPLACE


def test_added_column_itself_can_refuse_instant() -> None:
    point = Column("p", "point", nullable=False)
    a = alter(PLAIN, appended(PLAIN, point)).assess(MYSQL_80)
    assert (a.algorithm, a.risk) == (Algorithm.INPLACE, Risk.DATA_DEPENDENT), a
    day = Column("d", "date", nullable=False)
    a = alter(PLAIN, appended(PLAIN, day)).assess(MYSQL_80)
    assert (a.algorithm, a.risk) == (Algorithm.INPLACE, Risk.DATA_DEPENDENT), a
    # A nullable POINT, or one with a default, stays instant.
    assert alter(PLAIN, appended(PLAIN, Column("p", "point"))).assess(MYSQL_80).algorithm is (
        Algorithm.INSTANT
    )
    expr = Column("b", "blob", default="(repeat(_utf8mb4'b',`id`))")
    a = alter(PLAIN, appended(PLAIN, expr)).assess(MYSQL_80)
    assert (a.algorithm, a.risk) == (Algorithm.COPY, Risk.DATA_DEPENDENT), a
    assert "evaluated for every existing row" in a.reason


def test_add_column_last_is_instant_from_8_0_12() -> None:
    last = alter(PLAIN, appended(PLAIN, NOTE))
    first = alter(PLAIN, replace(PLAIN, columns=(NOTE, ID, BODY)))
    for flavor in (MYSQL_8012, MYSQL_8028):
        assert last.assess(flavor).algorithm is Algorithm.INSTANT, flavor
        assert first.assess(flavor).algorithm is Algorithm.INPLACE, flavor
    assert first.assess(MYSQL_80).algorithm is Algorithm.INSTANT
    # Two columns appended in one statement: both land after every old column.
    two = alter(PLAIN, appended(PLAIN, NOTE, Column("n2", "int", default="NULL")))
    assert two.assess(MYSQL_8012).algorithm is Algorithm.INSTANT


def test_add_column_past_innodb_column_limit_is_inplace() -> None:
    """ER_INNODB_INSTANT_ADD_NOT_SUPPORTED_MAX_FIELDS (instant.column_count_exhausted):
    1017 stored columns is the most an instant ADD COLUMN leaves; Vitess's case
    "add columns max capacity" (1021 + 2) is refused."""
    wide = Table("w", tuple(_int(f"c{i}") for i in range(1016)), collation="utf8mb4_0900_ai_ci")
    one = alter(wide, appended(wide, _int("x"))).assess(MYSQL_80)
    assert one.algorithm is Algorithm.INSTANT, one
    a = alter(wide, appended(wide, _int("x"), _int("y"))).assess(MYSQL_84)
    assert a.algorithm is Algorithm.INPLACE and "1017" in a.reason, a
    # Virtual columns are not stored: they do not count.
    virtual = Column("v", "int", generated="(`c0` + 1)", stored=False)
    b = alter(wide, appended(wide, _int("x"), virtual)).assess(MYSQL_80)
    assert b.algorithm is Algorithm.INSTANT, b


def test_virtual_columns_are_instant_whatever_the_table() -> None:
    v = Column("v", "int", generated="(`id` + 1)")
    ft = replace(PLAIN, indexes=(PK, FT))
    for flavor in (MYSQL_8012, MYSQL_80):
        assert alter(ft, appended(ft, v)).assess(flavor).algorithm is Algorithm.INSTANT


def test_drop_indexed_column_is_inplace() -> None:
    ix = Index("ix_note", IndexKind.INDEX, (IndexPart("note"),))
    before = replace(appended(PLAIN, NOTE), indexes=(PK, ix))
    a = alter(before, PLAIN).assess(MYSQL_80)
    assert a.algorithm is Algorithm.INPLACE, a


def test_rename_index_is_inplace_on_mysql() -> None:
    ix = Index("ix_a", IndexKind.INDEX, (IndexPart("id"),))
    before = replace(PLAIN, indexes=(PK, ix))
    after = replace(PLAIN, indexes=(PK, replace(ix, name="ix_b")))
    stmt = alter(before, after)
    assert stmt.render(MYSQL_80) == "ALTER TABLE `t` RENAME INDEX `ix_a` TO `ix_b`"
    assert stmt.assess(MYSQL_80).algorithm is Algorithm.INPLACE
    assert stmt.assess(MARIADB).algorithm is Algorithm.INSTANT


def test_row_version_limit_predicts_inplace() -> None:
    for flavor, limit in ((MYSQL_80, 64), (MYSQL_84, 64), (MYSQL_91, 255)):
        assert flavor.instant_row_version_limit == limit
        full = replace(PLAIN, row_versions=limit)
        a = alter(full, appended(full, NOTE)).assess(flavor)
        assert a.algorithm is Algorithm.INPLACE, a
        assert f"({limit})" in a.reason and "rebuilds it in place" in a.reason
        room = replace(PLAIN, row_versions=limit - 1)
        assert alter(room, appended(room, NOTE)).assess(flavor).algorithm is Algorithm.INSTANT
    # Unknown count (no PROCESS privilege, older server), MariaDB, 8.0.28: no limit.
    assert MYSQL_8028.instant_row_version_limit is None
    assert MARIADB.instant_row_version_limit is None
    full = replace(PLAIN, row_versions=64)
    assert alter(full, appended(full, NOTE)).assess(MARIADB).algorithm is Algorithm.INSTANT
    # A rename adds no row version.
    renamed = replace(full, columns=(ID, replace(BODY, name="content")))
    stmt = AlterTable(
        "t", diff_table(full, renamed, column_renames={"content": "body"}).clauses, full, renamed
    )
    assert stmt.assess(MYSQL_80).algorithm is Algorithm.INSTANT


def test_row_versions_come_from_innodb_tables() -> None:
    """build_table carries TOTAL_ROW_VERSIONS (fetch puts it on the TABLES row)."""
    sql = (
        "CREATE TABLE `t` (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`)\n"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci"
    )
    t = build(
        MYSQL_80,
        sql,
        [col("id", "int", 1, nullable="NO")],
        "utf8mb4_0900_ai_ci",
        [stat("PRIMARY", "id", unique=True)],
        extra_rows={"row_versions": 64},
    )
    assert t.unsupported is None and t.row_versions == 64
    assert t == replace(t, row_versions=0)  # not structure


# ------------------------------------------------------------------ recorded refusals

# mysql-test/suite/innodb/r/instant_ddl_limitations.result as stored for
# mysql/mysql-server (a 9.1+ tree: MAX_ROW_VERSION 255), read with read_file.
OUTCOMES = json.loads(
    (Path(__file__).parent / "data" / "mysql" / "outcomes-instant-ddl-limitations.json").read_text(
        encoding="utf-8"
    )
)
RECORDED = Flavor.from_string(OUTCOMES["flavor"])


def _recorded(key: str, statement: str) -> str:
    """The server's reply to ``statement`` in the recorded excerpt ``key``."""
    text: list[str] = OUTCOMES["excerpts"][key]
    return text[text.index(statement) + 1]


def _int(name: str, *, null: bool = True) -> Column:
    return Column(name, "int", nullable=null, default="NULL" if null else None)


def test_recorded_instant_refusals_are_never_predicted_instant() -> None:
    """Each ALTER the server refused with ALGORITHM=INSTANT is predicted costlier."""
    refused = "ERROR 0A000: ALGORITHM=INSTANT is not supported"
    ab = (_int("a"), _int("b"))
    # ROW_FORMAT=COMPRESSED: ADD COLUMN c1 INT DEFAULT 5 and DROP COLUMN a.
    t1 = Table("t1", ab, row_format="COMPRESSED", collation="utf8mb4_0900_ai_ci")
    stmt = "ALTER TABLE t1 ADD COLUMN c1 INT DEFAULT 5, ALGORITHM=INSTANT;"
    assert _recorded("compressed", stmt).startswith(refused)
    added = appended(t1, Column("c1", "int", default="'5'"))
    assert alter(t1, added).assess(RECORDED).algorithm is not Algorithm.INSTANT
    stmt = "ALTER TABLE t1 DROP COLUMN a, ALGORITHM=INSTANT;"
    assert _recorded("compressed", stmt).startswith(refused)
    assert (
        alter(t1, replace(t1, columns=ab[1:])).assess(RECORDED).algorithm is not Algorithm.INSTANT
    )
    # Spatial NOT NULL columns on a table with rows.
    t1 = Table("t1", ab, collation="utf8mb4_0900_ai_ci")
    spatial = {
        "c1": "POINT", "d1": "LINESTRING", "e1": "POLYGON", "f1": "MULTIPOINT",
        "g1": "MULTILINESTRING", "h1": "MULTIPOLYGON", "i1": "GEOMETRYCOLLECTION", "j1": "GEOMETRY",
    }  # fmt: skip
    for name, typ in spatial.items():
        sep = " " if name == "c1" else "  "  # the test file's own spacing
        stmt = f"ALTER TABLE t1 ADD COLUMN {name} {typ}{sep}NOT NULL, ALGORITHM = INSTANT;"
        assert _recorded("spatial_not_null", stmt).startswith(refused), stmt
        col_ = Column(name, typ.lower(), nullable=False)
        a = alter(t1, appended(t1, col_)).assess(RECORDED)
        assert a.algorithm is not Algorithm.INSTANT and a.risk is Risk.DATA_DEPENDENT, (typ, a)
    # A FULLTEXT table: ADD COLUMN c INT and DROP COLUMN b.
    text_ab = (Column("a", "text", charset="utf8mb4", collation="utf8mb4_0900_ai_ci"),
               Column("b", "text", charset="utf8mb4", collation="utf8mb4_0900_ai_ci"))  # fmt: skip
    ft = Index("a", IndexKind.FULLTEXT, (IndexPart("a"), IndexPart("b")))
    t1 = Table("t1", text_ab, (ft,), collation="utf8mb4_0900_ai_ci")
    for stmt, after in (
        ("ALTER TABLE t1 ADD COLUMN c INT, ALGORITHM=INSTANT;", appended(t1, _int("c"))),
        (
            "ALTER TABLE t1 DROP COLUMN b, ALGORITHM=INSTANT;",
            replace(t1, columns=text_ab[:1], indexes=(replace(ft, parts=ft.parts[:1]),)),
        ),
    ):
        assert _recorded("fulltext", stmt).startswith(refused)
        assert alter(t1, after).assess(RECORDED).algorithm is not Algorithm.INSTANT
    # DROP of an indexed column.
    c12 = (_int("c1", null=False), _int("c2"))
    pk = Index("PRIMARY", IndexKind.PRIMARY, (IndexPart("c1"),))
    t1 = Table(
        "t1",
        c12,
        (pk, Index("idx", IndexKind.INDEX, (IndexPart("c2"),))),
        collation="utf8mb4_0900_ai_ci",
    )
    stmt = "ALTER TABLE t1 DROP COLUMN c2, ALGORITHM=INSTANT;"
    assert _recorded("drop_indexed_column", stmt).startswith(refused)
    dropped = replace(t1, columns=c12[:1], indexes=(pk,))
    assert alter(t1, dropped).assess(RECORDED).algorithm is not Algorithm.INSTANT


def test_recorded_row_version_limit() -> None:
    """TOTAL_ROW_VERSIONS at the limit recorded; INSTANT then refused, the default falls
    back to INPLACE and the rebuilt table counts 0 again."""
    rows = OUTCOMES["excerpts"]["row_versions"]
    header, values = rows[-2].split("\t"), rows[-1].split("\t")
    versions = int(dict(zip(header, values, strict=True))["TOTAL_ROW_VERSIONS"])
    assert versions == 255 == RECORDED.instant_row_version_limit
    stmt = "ALTER TABLE t1 ADD COLUMN c257 INT, ALGORITHM=INSTANT;"
    assert _recorded("row_versions_refused", stmt).startswith("ERROR HY000: Maximum row versions")
    cols = tuple(_int(f"c{i}") for i in range(1, 257))
    t1 = Table("t1", cols, collation="utf8mb4_0900_ai_ci", row_versions=versions)
    a = alter(t1, appended(t1, _int("c257"))).assess(RECORDED)
    assert a.algorithm is Algorithm.INPLACE and "(255)" in a.reason
    rebuilt = OUTCOMES["excerpts"]["row_versions_refused"][-1].split("\t")
    assert rebuilt[-1] == "0"
    fresh = replace(appended(t1, _int("c257")), row_versions=0)
    assert alter(fresh, appended(fresh, _int("c258"))).assess(RECORDED).algorithm is (
        Algorithm.INSTANT
    )


def test_rename_of_a_referenced_column_is_inplace_on_mysql() -> None:
    """ok_to_rename_column() (handler0alter.cc 774-805 of 8.0.41): a column a foreign key
    points at is renamed in place; others instantly (8.0.28+)."""
    from myshift.engine.diff import diff_schemas
    from myshift.engine.split import RenameHints
    from myshift.model import ForeignKey, Schema

    pk = Index("PRIMARY", IndexKind.PRIMARY, (IndexPart("id"),))
    parent = Table("parent", (ID, _int("n")), (pk,), collation="utf8mb4_0900_ai_ci")
    fk = ForeignKey(
        "fk_p", ("pid",), "parent", ("id",), on_delete="NO ACTION", on_update="NO ACTION"
    )
    pid_ix = Index("fk_p", IndexKind.INDEX, (IndexPart("pid"),))
    child = Table("child", (ID, _int("pid")), (pk, pid_ix), (fk,), collation="utf8mb4_0900_ai_ci")
    current = Schema("s", tables=(child, parent))

    def renamed(old: str, new: str) -> Algorithm:
        cols = tuple(replace(c, name=new) if c.name == old else c for c in parent.columns)
        des_parent = replace(parent, columns=cols)
        if old == "id":
            des_parent = replace(
                des_parent, indexes=(Index("PRIMARY", IndexKind.PRIMARY, (IndexPart(new),)),)
            )
        des_child = replace(
            child, foreign_keys=(replace(fk, ref_columns=(new,)),) if old == "id" else (fk,)
        )
        hints = RenameHints(columns={("parent", new): old})
        changes = diff_schemas(current, Schema("s", tables=(des_child, des_parent)), hints=hints)
        (stmt,) = [c for c in changes if isinstance(c, AlterTable) and c.table == "parent"]
        assert stmt.render(MYSQL_80) == f"ALTER TABLE `parent` RENAME COLUMN `{old}` TO `{new}`"
        return stmt.assess(MYSQL_80).algorithm

    assert renamed("n", "m") is Algorithm.INSTANT
    assert renamed("id", "pk") is Algorithm.INPLACE


def test_row_versions_rows_per_table() -> None:
    """INNODB_TABLES rows as recorded (``test/t1``); partitions count by their highest."""
    from myshift.engine.introspect.catalog import row_versions_of

    rows = [
        ("test/t1", 64),
        ("test/p#p#p0", 3),
        ("test/p#p#p1", 5),
        ("other/t1", 9),
        ("test/x", None),
    ]
    assert row_versions_of(rows, "test/") == {"t1": 64, "p": 5}
