"""Random pairs of small schemas converge (Skeema's verify, sqlite-utils' habit of hypothesis).

Hypothesis draws two schemas from the same small pools of table and column
names (so they overlap: most draws alter tables rather than replace them):
a few tables with an int/bigint primary key, columns of assorted types,
nullability and defaults, an optional ordinary/VIRTUAL/STORED computed column,
charsets, collations and comments, named CHECKs, table comments, secondary
and unique indexes (with prefixes on TEXT), composite primary keys, a view and
a trigger per table, and foreign keys between tables whose column type always
matches the referenced primary key. Both are
rendered to CREATE TABLE SQL by the small renderer below, loaded into the live
server, planned with drops allowed, applied, and then the re-plan must be
empty and the two schemas must hold the same objects; then the other way round.
Half the examples also declare rename hints (a table only in one schema renamed
from one only in the other, likewise a column per table), reversed for the way
back, so RENAME TABLE / CHANGE COLUMN plans are checked too.

Deterministic in CI: ``derandomize=True`` makes the examples a function of the
test alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import endpoint_of
from myshift.db.connect import Conn, Endpoint, connect, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.load import load_sql
from myshift.engine.split import RenameHints, split_sql
from myshift.workflows.plan import PlanOptions, make_plan

TABLES = ("t0", "t1", "t2")

# (type, defaults that are valid for it); None means "no DEFAULT clause".
TYPES: dict[str, tuple[str | None, ...]] = {
    "int": (None, "0", "42", "-7"),
    "bigint unsigned": (None, "0", "9000000000"),
    "mediumint unsigned zerofill": (None, "7"),
    "tinyint(1)": (None, "0", "1"),
    "bit(3)": (None, "b'101'", "0"),
    "varchar(20)": (None, "''", "'abc'"),
    "varchar(40)": (None, "'x y'"),
    "char(3)": (None, "'ab'"),
    "varbinary(16)": (None, "'xy'"),
    "decimal(8,2)": (None, "0.00", "1.50"),
    "decimal(10,3)": (None, "2.125"),
    "double": (None, "0", "1.5"),
    "float(7,3)": (None, "0.5"),
    "date": (None, "'2020-01-02'"),
    "year": (None, "2024"),
    "time(6)": (None, "'10:00:00.5'"),
    "datetime": (None, "'2020-01-02 03:04:05'", "CURRENT_TIMESTAMP"),
    "datetime(6)": (None, "CURRENT_TIMESTAMP(6)", "'2020-01-01 00:00:00.123456'"),
    "timestamp(3) NULL": (None, "CURRENT_TIMESTAMP(3)"),
    "text": (None,),
    "blob": (None,),
    "json": (None,),
    "enum('a','b','c')": (None, "'a'", "'c'"),
    "enum('a','b','c','d')": (None, "'b'"),
    "set('x','y','z')": (None, "'x,y'", "''"),
    "uuid": (None,),
    "inet6": (None, "'::1'"),
}
# TEXT gets a prefix index; BLOB and JSON (a LONGTEXT on MariaDB) get none.
INDEXABLE = [t for t in TYPES if t not in ("blob", "json")]


# Extra column attributes; only for string types where it says so.
STRING_ATTRS = ("", " CHARACTER SET latin1", " COLLATE utf8mb4_bin", " CHARACTER SET ascii")
COMMENTS = ("", " COMMENT 'note'", " COMMENT 'it''s'")


@dataclass(frozen=True)
class Col:
    name: str
    type: str
    nullable: bool
    default: str | None
    attrs: str = ""  # charset/collation (strings only) and/or COMMENT


@dataclass(frozen=True)
class Tab:
    name: str
    pk_type: str  # "int" | "bigint"
    auto_increment: bool
    columns: tuple[Col, ...]
    # "none" | "ordinary" | "virtual" | "stored": a column `g` computed from `gb`.
    computed: str
    indexes: tuple[tuple[bool, tuple[str, ...]], ...]  # (unique, column names)
    fks: tuple[tuple[str, str], ...]  # (on delete, referenced table)
    checks: tuple[str, ...] = ()  # names of integer columns that get CHECK (c >= 0)
    comment: str = ""
    # A NOT NULL column `k` that joins `id` in a composite primary key (it stays
    # a left prefix, so FKs to `id` keep their index).
    pk_k: bool = False
    view: int = 0  # 0: no view; n: a view over `id` and the first n-1 columns
    trigger: int = 0  # 0: no trigger; n: a BEFORE INSERT trigger whose body uses n


@st.composite
def columns(draw: st.DrawFn) -> tuple[Col, ...]:
    names = draw(st.lists(st.sampled_from(["c0", "c1", "c2", "c3", "c4"]), unique=True))
    out = []
    for name in names:
        typ = draw(st.sampled_from(sorted(TYPES)))
        nullable = draw(st.booleans()) and "NULL" not in typ
        default = draw(st.sampled_from(TYPES[typ]))
        if default is None and nullable and draw(st.booleans()):
            default = "NULL"
        attrs = draw(st.sampled_from(STRING_ATTRS)) if "char" in typ or typ == "text" else ""
        attrs += draw(st.sampled_from(COMMENTS))
        out.append(Col(name, typ, nullable, default, attrs))
    return tuple(out)


@st.composite
def table(draw: st.DrawFn, name: str, tables: tuple[str, ...]) -> Tab:
    cols = draw(columns())
    indexable = [c.name for c in cols if c.type in INDEXABLE]
    indexes: list[tuple[bool, tuple[str, ...]]] = []
    seen: set[tuple[str, ...]] = set()
    for _ in range(draw(st.integers(0, 2))):
        if not indexable:
            break
        parts = tuple(
            draw(st.lists(st.sampled_from(indexable), min_size=1, max_size=2, unique=True))
        )
        if parts not in seen:
            seen.add(parts)
            indexes.append((draw(st.booleans()), parts))
    refs = draw(st.lists(st.sampled_from(tables), unique=True, max_size=2))
    fks = tuple((draw(st.sampled_from(["RESTRICT", "CASCADE", "SET NULL"])), r) for r in refs)
    return Tab(
        name=name,
        pk_type=draw(st.sampled_from(["int", "bigint"])),
        auto_increment=draw(st.booleans()),
        columns=cols,
        computed=draw(st.sampled_from(["none", "ordinary", "virtual", "stored"])),
        indexes=tuple(indexes),
        fks=fks,
        checks=tuple(
            c.name for c in cols if c.type in ("int", "decimal(8,2)") and draw(st.booleans())
        ),
        comment=draw(st.sampled_from(["", "orders", "v2"])),
        pk_k=draw(st.booleans()),
        view=draw(st.integers(0, 3)),
        trigger=draw(st.integers(0, 2)),
    )


@st.composite
def schemas(draw: st.DrawFn) -> tuple[Tab, ...]:
    names = tuple(sorted(draw(st.sets(st.sampled_from(TABLES), min_size=1))))
    return tuple(draw(table(n, names)) for n in names)


# ------------------------------------------------------------------------------ renderer


def q(name: str) -> str:
    return quote_ident(name)


def render(tables: tuple[Tab, ...]) -> str:
    """CREATE TABLEs without FKs, then one ALTER per table adding them (cycles allowed)."""
    pk_of = {t.name: t.pk_type for t in tables}
    out = []
    for t in tables:
        lines = [
            f"{q('id')} {t.pk_type} NOT NULL" + (" AUTO_INCREMENT" if t.auto_increment else "")
        ]
        for c in t.columns:
            spec = f"{q(c.name)} {c.type}"
            charset, _, comment = c.attrs.partition(" COMMENT ")
            spec += charset
            if "NULL" not in c.type:
                spec += " NULL" if c.nullable else " NOT NULL"
            if c.default is not None:
                spec += f" DEFAULT {c.default}"
            if comment:
                spec += f" COMMENT {comment}"
            lines.append(spec)
        if t.computed != "none":
            # Not computed from `id`: a generated column may not use an AUTO_INCREMENT one.
            lines.append(f"{q('gb')} int NULL")
        if t.computed == "ordinary":
            lines.append(f"{q('g')} bigint NULL")
        elif t.computed != "none":
            lines.append(f"{q('g')} bigint AS ({q('gb')} * 2) {t.computed.upper()}")
        for _, ref in t.fks:
            lines.append(f"{q('r_' + ref)} {pk_of[ref]} NULL")
        if t.pk_k:
            lines.append(f"{q('k')} smallint NOT NULL DEFAULT 0")
            lines.append(f"PRIMARY KEY ({q('id')}, {q('k')})")
        else:
            lines.append(f"PRIMARY KEY ({q('id')})")
        text_cols = {c.name for c in t.columns if c.type == "text"}
        for unique, parts in t.indexes:
            cols = ", ".join(q(p) + ("(10)" if p in text_cols else "") for p in parts)
            kind = "UNIQUE KEY" if unique else "KEY"
            lines.append(f"{kind} {q(('ux_' if unique else 'ix_') + '_'.join(parts))} ({cols})")
        for name in t.checks:
            lines.append(f"CONSTRAINT {q('chk_' + name)} CHECK ({q(name)} >= 0)")
        body = ",\n  ".join(lines)
        comment = f" COMMENT='{t.comment}'" if t.comment else ""
        out.append(f"CREATE TABLE {q(t.name)} (\n  {body}\n) ENGINE=InnoDB{comment};")
    for t in tables:
        adds = [
            f"ADD CONSTRAINT {q(f'fk_{t.name}_{ref}')} FOREIGN KEY ({q('r_' + ref)}) "
            f"REFERENCES {q(ref)} ({q('id')}) ON DELETE {on_delete}"
            for on_delete, ref in t.fks
        ]
        if adds:
            out.append(f"ALTER TABLE {q(t.name)} " + ", ".join(adds) + ";")
    for t in tables:
        if t.view:
            cols = ", ".join(q(n) for n in ["id", *(c.name for c in t.columns[: t.view - 1])])
            out.append(f"CREATE VIEW {q('v_' + t.name)} AS SELECT {cols} FROM {q(t.name)};")
        if t.trigger:
            out.append(
                f"CREATE TRIGGER {q('trg_' + t.name)} BEFORE INSERT ON {q(t.name)} "
                f"FOR EACH ROW SET @x = NEW.id + {t.trigger};"
            )
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------ the test


def _loaded(server: LocalServer, admin: Conn, sql: str) -> Endpoint:
    name = f"h_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE DATABASE {q(name)} DEFAULT CHARACTER SET utf8mb4")
    ep = endpoint_of(server, name)
    load_sql(split_sql(sql, "generated.sql"), ep)
    return ep


def test_renderer_output_loads(server: LocalServer, admin: Conn) -> None:
    """The renderer itself is sound: a hand-built schema with every feature loads."""
    t = Tab(
        "t0",
        "bigint",
        True,
        (Col("c0", "text", True, None), Col("c1", "varchar(20)", False, "'abc'")),
        "stored",
        ((True, ("c1",)), (False, ("c0", "c1"))),
        (("CASCADE", "t0"),),
    )
    ep = _loaded(server, admin, render((t,)))
    try:
        with connect(ep) as c:
            assert (
                c.scalar(
                    "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS "
                    "WHERE CONSTRAINT_SCHEMA = DATABASE()"
                )
                == 1
            )
    finally:
        admin.execute(f"DROP DATABASE {q(ep.schema)}")


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(pair=st.tuples(schemas(), schemas()), renames=st.booleans())
def test_random_schema_pairs_converge(
    server: LocalServer,
    admin: Conn,
    pair: tuple[tuple[Tab, ...], tuple[Tab, ...]],
    renames: bool,
) -> None:
    first, second = render(pair[0]), render(pair[1])
    hints = rename_hints(pair[0], pair[1]) if renames else None
    back = (
        RenameHints({o: n for n, o in hints.tables.items()}, inverse_columns(hints))
        if hints
        else None
    )
    # Both ways, each from freshly loaded schemas.
    converges(server, admin, first, second, hints)
    converges(server, admin, second, first, back)


def rename_hints(cur: tuple[Tab, ...], des: tuple[Tab, ...]) -> RenameHints:
    """Declare renames the pair allows: a table only in ``des`` from one only in
    ``cur``, and in each common table a column only in ``des`` from one only in ``cur``."""
    cur_t, des_t = {t.name: t for t in cur}, {t.name: t for t in des}
    tables: dict[str, str] = {}
    gone, new = sorted(set(cur_t) - set(des_t)), sorted(set(des_t) - set(cur_t))
    if gone and new:
        tables[new[0]] = gone[0]
    columns: dict[tuple[str, str], str] = {}
    for name, t in des_t.items():
        old = cur_t.get(tables.get(name, name))
        if old is None:
            continue
        was = [c.name for c in old.columns if c.name not in {d.name for d in t.columns}]
        now = [c.name for c in t.columns if c.name not in {o.name for o in old.columns}]
        if was and now:
            columns[(name, now[0])] = was[0]
    return RenameHints(tables, columns)


def inverse_columns(h: RenameHints) -> dict[tuple[str, str], str]:
    old_table = {new: old for new, old in h.tables.items()}
    return {(old_table.get(t, t), old): new for (t, new), old in h.columns.items()}


def converges(
    server: LocalServer,
    admin: Conn,
    current_sql: str,
    desired_sql: str,
    hints: RenameHints | None = None,
) -> None:
    a = _loaded(server, admin, current_sql)
    b = _loaded(server, admin, desired_sql)
    try:
        opts = PlanOptions(allow_drop=True, verify=False, hints=hints)
        plan = make_plan(a, b, opts)
        context = f"\n-- current\n{current_sql}-- desired\n{desired_sql}-- plan\n{plan.sql_text()}"
        with connect(a) as c:
            for s in plan.runnable:
                try:
                    c.execute(s.sql)
                except Exception as exc:
                    raise AssertionError(f"{exc}{context}") from None
        again = make_plan(a, b, PlanOptions(allow_drop=True, verify=False))
        assert again.empty, f"re-plan not empty: {again.sql_text()}{context}"
        assert again.current.same_objects(again.desired), context
    finally:
        admin.execute(f"DROP DATABASE {q(a.schema)}")
        admin.execute(f"DROP DATABASE {q(b.schema)}")
