"""Deterministic generator of a synthetic multi-tenant application schema.

``generate(n)`` builds the *current* (production) schema of ``n`` tables;
``drift(schema)`` returns the *desired* (development) version with about 10 %
of the tables touched: added/dropped columns, added/dropped indexes,
added/dropped tables, plus one changed view, procedure and trigger.  Both are
seeded, so the same arguments always give byte-identical SQL.

The schema is built as plain data first and rendered to SQL last, so the drift
can reason about what is safe to change (a column used by an index, a view or
a foreign key is never dropped; a table referenced by anything is never
dropped) and every generated file loads on a real server.  Nothing here parses
SQL.

``render(schema)`` gives a mysqldump-like file (``DELIMITER ;;`` around
routines and triggers); ``statements(schema)`` gives the same statements one by
one, grouped by phase, for loading through a driver without any splitting.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field

MODULES = (
    "billing", "crm", "inventory", "hr", "support", "catalog", "shipping", "auth",
    "reporting", "marketing", "payroll", "projects", "assets", "audit", "notify",
)  # fmt: skip
ENTITIES = (
    "account", "invoice", "item", "order", "customer", "contact", "ticket", "note",
    "product", "price", "shipment", "address", "employee", "task", "event", "asset",
    "campaign", "session", "payment", "document",
)  # fmt: skip
STATUSES = ("'active'", "'pending'", "'archived'", "'deleted'")

# Column templates: (base name, SQL type, NOT NULL?, DEFAULT clause or None, indexable?).
# VARCHARs stay <= 191 chars so that composite utf8mb4 indexes fit in 3072 bytes.
_TEMPLATES: tuple[tuple[str, str, bool, str | None, bool], ...] = (
    ("name", "varchar(120)", True, "''", True),
    ("title", "varchar(191)", False, None, True),
    ("email", "varchar(191)", False, None, True),
    ("phone", "varchar(32)", False, None, True),
    ("amount", "decimal(12,2)", True, "0.00", True),
    ("tax_rate", "decimal(5,4)", False, None, False),
    ("quantity", "int(11)", True, "0", True),
    ("position", "smallint(5) unsigned", True, "0", True),
    ("is_enabled", "tinyint(1)", True, "1", True),
    ("score", "double", False, None, False),
    ("status", f"enum({','.join(STATUSES)})", True, "'active'", True),
    ("currency", "char(3)", True, "'EUR'", True),
    ("payload", "longtext", False, None, False),  # half become JSON
    ("notes", "text", False, None, False),
    ("happened_on", "date", False, None, True),
    ("expires_at", "datetime", False, "NULL", True),
    ("external_ref", "varchar(64)", False, None, True),
    ("version", "int(10) unsigned", True, "1", False),
)


@dataclass
class Column:
    name: str
    sql_type: str
    not_null: bool = False
    default: str | None = None
    extra: str = ""
    comment: str = ""
    indexable: bool = True

    def render(self) -> str:
        parts = [f"`{self.name}`", self.sql_type]
        parts.append("NOT NULL" if self.not_null else "NULL")
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        if self.extra:
            parts.append(self.extra)
        if self.comment:
            parts.append(f"COMMENT '{self.comment}'")
        return " ".join(parts)


@dataclass
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool = False
    # Indexes that back a foreign key or a unique business key are never dropped by drift.
    droppable: bool = True

    def render(self) -> str:
        cols = ", ".join(f"`{c}`" for c in self.columns)
        return f"{'UNIQUE ' if self.unique else ''}KEY `{self.name}` ({cols})"


@dataclass
class ForeignKey:
    name: str
    column: str
    ref_table: str
    on_delete: str = "RESTRICT"

    def render(self) -> str:
        return (
            f"CONSTRAINT `{self.name}` FOREIGN KEY (`{self.column}`) "
            f"REFERENCES `{self.ref_table}` (`id`) ON DELETE {self.on_delete}"
        )


@dataclass
class Table:
    name: str
    columns: list[Column]
    indexes: list[Index]
    fks: list[ForeignKey]
    comment: str = ""

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def render(self) -> str:
        lines = [c.render() for c in self.columns]
        lines.append("PRIMARY KEY (`id`)")
        lines += [i.render() for i in self.indexes]
        lines += [f.render() for f in self.fks]
        body = ",\n  ".join(lines)
        tail = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"
        if self.comment:
            tail += f" COMMENT='{self.comment}'"
        return f"CREATE TABLE `{self.name}` (\n  {body}\n){tail}"


@dataclass
class View:
    name: str
    select: str
    # Tables/views and columns the view reads: drift must keep them.
    uses: tuple[str, ...] = ()
    uses_columns: tuple[tuple[str, str], ...] = ()

    def render(self) -> str:
        return f"CREATE VIEW `{self.name}` AS {self.select}"


@dataclass
class Routine:
    kind: str  # PROCEDURE | FUNCTION
    name: str
    signature: str  # parameters and, for functions, RETURNS + characteristics
    body: str
    table: str

    def render(self) -> str:
        return f"CREATE {self.kind} `{self.name}`{self.signature}\n{self.body}"


@dataclass
class Trigger:
    name: str
    table: str
    timing: str
    event: str
    body: str

    def render(self) -> str:
        return (
            f"CREATE TRIGGER `{self.name}` {self.timing} {self.event} ON `{self.table}` "
            f"FOR EACH ROW\n{self.body}"
        )


@dataclass
class Schema:
    tables: list[Table] = field(default_factory=list)
    views: list[View] = field(default_factory=list)
    routines: list[Routine] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


# --------------------------------------------------------------------------- generation


def _table_name(i: int, prefix: str = "") -> str:
    module = MODULES[i % len(MODULES)]
    entity = ENTITIES[(i // len(MODULES)) % len(ENTITIES)]
    return f"{prefix}{module}_{entity}_{i:05d}"


def _make_table(rng: random.Random, name: str, parents: list[str]) -> Table:
    cols = [
        Column("id", "bigint(20) unsigned", True, None, "AUTO_INCREMENT"),
        Column("tenant_id", "bigint(20) unsigned", True),
    ]
    indexes: list[Index] = []
    fks: list[ForeignKey] = []
    short = name.rsplit("_", 1)[-1]
    # Multi-tenant: every table carries tenant_id; about one in five also has the FK.
    if parents and rng.random() < 0.2:
        fks.append(ForeignKey(f"fk_{name}_tenant", "tenant_id", "tenants", "CASCADE"))
    for k, parent in enumerate(rng.sample(parents, min(len(parents), rng.choice((0, 1, 1, 2))))):
        col = f"{parent.rsplit('_', 2)[-2]}_{k}_id"
        cols.append(Column(col, "bigint(20) unsigned", rng.random() < 0.5))
        indexes.append(Index(f"ix_{short}_{col}", (col,), droppable=False))
        fks.append(ForeignKey(f"fk_{name}_{k}", col, parent, rng.choice(("CASCADE", "RESTRICT"))))
    seen: dict[str, int] = {}
    for base, typ, nn, default, indexable in rng.sample(_TEMPLATES, rng.randint(3, 12)):
        n = seen.get(base, 0)
        seen[base] = n + 1
        cname = base if n == 0 else f"{base}_{n}"
        c = Column(cname, typ, nn, default, indexable=indexable)
        if base == "payload" and rng.random() < 0.5:
            c.sql_type = "json"
            c.indexable = False
        if rng.random() < 0.1:
            c.comment = f"{base} of the {short} record"
        cols.append(c)
    if rng.random() < 0.4:
        cols.append(Column("code", "varchar(32)", True))
        indexes.append(Index(f"uq_{short}_code", ("tenant_id", "code"), True, droppable=False))
    cols.append(Column("created_at", "datetime", True, "current_timestamp()"))
    cols.append(
        Column(
            "updated_at", "timestamp", True, "current_timestamp()", "ON UPDATE current_timestamp()"
        )
    )
    if rng.random() < 0.3:
        cols.append(Column("deleted_at", "datetime", False, "NULL"))
    indexes.append(
        Index(f"ix_{short}_tenant_created", ("tenant_id", "created_at"), droppable=False)
    )
    candidates = [c.name for c in cols[2:] if c.indexable and not c.name.endswith("_id")]
    for j in range(rng.choice((0, 1, 1, 2))):
        if not candidates:
            break
        width = min(len(candidates), rng.choice((1, 1, 2)))
        picked = tuple(rng.sample(candidates, width))
        indexes.append(Index(f"ix_{short}_{j}_{'_'.join(picked)}"[:64], picked))
    comment = f"{name.split('_')[0]} data" if rng.random() < 0.3 else ""
    return Table(name, cols, indexes, fks, comment)


def _tenants() -> Table:
    return Table(
        "tenants",
        [
            Column("id", "bigint(20) unsigned", True, None, "AUTO_INCREMENT"),
            Column("slug", "varchar(64)", True),
            Column("name", "varchar(191)", True, "''"),
            Column("plan", "enum('free','team','enterprise')", True, "'free'"),
            Column("settings", "json", False),
            Column("created_at", "datetime", True, "current_timestamp()"),
        ],
        [Index("uq_tenants_slug", ("slug",), True, droppable=False)],
        [],
        "one row per customer organisation",
    )


def _view_over_table(i: int, t: Table) -> View:
    cols = ["id", "tenant_id", "created_at"]
    where = ""
    if any(c.name == "deleted_at" for c in t.columns):
        where = " WHERE `deleted_at` IS NULL"
        cols_used = [*cols, "deleted_at"]
    else:
        cols_used = list(cols)
    select = f"SELECT {', '.join(f'`{c}`' for c in cols)} FROM `{t.name}`{where}"
    return View(
        f"v_{i:04d}_{t.name}"[:64], select, (t.name,), tuple((t.name, c) for c in cols_used)
    )


def _view_over_view(i: int, base: View) -> View:
    select = (
        f"SELECT `tenant_id`, COUNT(0) AS `n`, MAX(`created_at`) AS `last_at` "
        f"FROM `{base.name}` GROUP BY `tenant_id`"
    )
    return View(f"vv_{i:04d}_summary", select, (base.name,))


def _procedure(i: int, t: Table, variant: int = 0) -> Routine:
    extra = " AND `updated_at` < p_before" if variant else ""
    params = "IN p_tenant BIGINT UNSIGNED" + (", IN p_before DATETIME" if variant else "")
    body = (
        "BEGIN\n"
        f"  UPDATE `{t.name}` SET `updated_at` = NOW() WHERE `tenant_id` = p_tenant{extra};\n"
        "  SELECT ROW_COUNT() AS touched;\n"
        "END"
    )
    return Routine("PROCEDURE", f"touch_{i:04d}", f"({params})", body, t.name)


def _function(i: int, t: Table) -> Routine:
    body = (
        "BEGIN\n"
        "  DECLARE c BIGINT;\n"
        f"  SELECT COUNT(*) INTO c FROM `{t.name}` WHERE `tenant_id` = p_tenant;\n"
        "  RETURN c;\n"
        "END"
    )
    sig = "(p_tenant BIGINT UNSIGNED) RETURNS bigint(20)\n    READS SQL DATA"
    return Routine("FUNCTION", f"count_{i:04d}", sig, body, t.name)


def _trigger(i: int, t: Table, variant: int = 0) -> Trigger:
    if variant:
        body = (
            "BEGIN\n"
            "  IF NEW.`tenant_id` = 0 THEN\n"
            "    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'tenant_id is required';\n"
            "  END IF;\n"
            "  SET NEW.`created_at` = COALESCE(NEW.`created_at`, NOW());\n"
            "END"
        )
    else:
        body = "BEGIN\n  SET NEW.`created_at` = COALESCE(NEW.`created_at`, NOW());\nEND"
    return Trigger(f"trg_{i:04d}_bi", t.name, "BEFORE", "INSERT", body)


def generate(n_tables: int, seed: int = 42) -> Schema:
    """The current (production) schema: ``n_tables`` tables (``tenants`` included).

    Each table may reference up to two earlier tables, so file order is also a
    valid creation order.  Views, routines and triggers scale with ``n``.
    """
    if n_tables < 10:
        raise ValueError("generate() needs at least 10 tables")
    rng = random.Random(seed)
    s = Schema(tables=[_tenants()])
    names: list[str] = []
    for i in range(1, n_tables):
        name = _table_name(i)
        # Parents come from a sliding window of recent tables: FK graphs in real
        # apps are local (an invoice points to its account, not to any table).
        window = names[-50:]
        s.tables.append(_make_table(rng, name, window))
        names.append(name)
    picks = rng.sample(s.tables[1:], max(8, n_tables // 25))
    n_views = max(4, n_tables // 40)
    for i, t in enumerate(picks[:n_views]):
        s.views.append(_view_over_table(i, t))
    for i, base in enumerate(list(s.views[: max(1, n_views // 5)])):
        s.views.append(_view_over_view(i, base))
    rest = picks[n_views:]
    n_procs = max(2, n_tables // 100)
    n_funcs = max(2, n_tables // 200)
    n_trigs = max(2, n_tables // 100)
    for i in range(n_procs):
        s.routines.append(_procedure(i, rest[i % len(rest)]))
    for i in range(n_funcs):
        s.routines.append(_function(i, rest[(i + n_procs) % len(rest)]))
    for i in range(n_trigs):
        s.triggers.append(_trigger(i, rest[(i + n_procs + n_funcs) % len(rest)]))
    return s


# --------------------------------------------------------------------------- drift


@dataclass
class DriftSummary:
    added_columns: int = 0
    dropped_columns: int = 0
    added_indexes: int = 0
    dropped_indexes: int = 0
    added_tables: int = 0
    dropped_tables: int = 0
    changed_views: int = 0
    changed_procedures: int = 0
    changed_triggers: int = 0
    # drift_dropping_referenced: tables dropped although others keep FKs to them.
    dropped_referenced_tables: int = 0

    def touched_tables(self) -> int:
        return (
            self.dropped_referenced_tables
            + self.added_columns
            + self.dropped_columns
            + self.added_indexes
            + self.dropped_indexes
            + self.added_tables
            + self.dropped_tables
        )


def drift(current: Schema, seed: int = 43, fraction: float = 0.10) -> tuple[Schema, DriftSummary]:
    """The desired (development) schema: about ``fraction`` of the tables changed.

    Each touched table gets exactly one change, so the summary counts tables.
    The current schema is not modified.
    """
    rng = random.Random(seed)
    s = copy.deepcopy(current)
    summary = DriftSummary()
    k = max(6, round(len(s.tables) * fraction))
    # Shares of the touched tables per kind of change.
    quota = {
        "add_col": round(k * 0.30),
        "drop_col": round(k * 0.20),
        "add_idx": round(k * 0.20),
        "drop_idx": round(k * 0.10),
        "drop_table": max(1, round(k * 0.10)),
        "add_table": max(1, round(k * 0.10)),
    }
    pinned_tables = {"tenants"}
    pinned_cols: set[tuple[str, str]] = set()
    for v in s.views:
        pinned_tables.update(v.uses)
        pinned_cols.update(v.uses_columns)
    pinned_tables.update(r.table for r in s.routines)
    pinned_tables.update(t.table for t in s.triggers)
    referenced = {fk.ref_table for t in s.tables for fk in t.fks}
    pool = [t for t in s.tables if t.name != "tenants"]
    rng.shuffle(pool)
    touched: set[str] = set()

    def take(pred: Callable[[Table], bool]) -> list[Table]:
        return [t for t in pool if t.name not in touched and pred(t)]

    # Dropped tables: nothing may reference them (FKs, views, routines, triggers).
    for t in take(lambda t: t.name not in referenced and t.name not in pinned_tables)[
        : quota["drop_table"]
    ]:
        touched.add(t.name)
        s.tables.remove(t)
        summary.dropped_tables += 1

    def droppable_cols(t: Table) -> list[Column]:
        in_use = {c for i in t.indexes for c in i.columns} | {f.column for f in t.fks}
        return [
            c
            for c in t.columns
            if c.name not in ("id", "tenant_id", "created_at", "updated_at", "code")
            and c.name not in in_use
            and (t.name, c.name) not in pinned_cols
        ]

    for t in take(lambda t: bool(droppable_cols(t)))[: quota["drop_col"]]:
        touched.add(t.name)
        t.columns.remove(rng.choice(droppable_cols(t)))
        summary.dropped_columns += 1
    for t in take(lambda t: True)[: quota["add_col"]]:
        touched.add(t.name)
        base, typ, nn, default, indexable = rng.choice(_TEMPLATES)
        new = Column(f"{base}_v2", typ, nn, default, indexable=indexable)
        # New columns go before the timestamps, as a developer would write them.
        at = next(i for i, c in enumerate(t.columns) if c.name == "created_at")
        t.columns.insert(at, new)
        summary.added_columns += 1
    for t in take(lambda t: any(i.droppable for i in t.indexes))[: quota["drop_idx"]]:
        touched.add(t.name)
        t.indexes.remove(next(i for i in t.indexes if i.droppable))
        summary.dropped_indexes += 1

    def indexable_unindexed(t: Table) -> list[str]:
        first = {i.columns[0] for i in t.indexes}
        return [
            c.name
            for c in t.columns[2:]
            if c.indexable and c.name not in first and not c.name.endswith("_id")
        ]

    for t in take(lambda t: bool(indexable_unindexed(t)))[: quota["add_idx"]]:
        touched.add(t.name)
        col = rng.choice(indexable_unindexed(t))
        short = t.name.rsplit("_", 1)[-1]
        t.indexes.append(Index(f"ix_{short}_new_{col}"[:64], (col,)))
        summary.added_indexes += 1
    existing = [t.name for t in s.tables if t.name != "tenants"]
    for i in range(quota["add_table"]):
        s.tables.append(_make_table(rng, _table_name(i, prefix="new_"), rng.sample(existing, 3)))
        summary.added_tables += 1

    # One changed view, one changed procedure, one changed trigger.
    v = s.views[0]
    v.select = v.select.replace("SELECT `id`,", "SELECT `id` AS `id`, 1 AS `revision`,", 1)
    summary.changed_views += 1
    proc_i = next(i for i, r in enumerate(s.routines) if r.kind == "PROCEDURE")
    old = s.routines[proc_i]
    s.routines[proc_i] = _procedure(int(old.name.split("_")[1]), s.table(old.table), variant=1)
    summary.changed_procedures += 1
    trig = s.triggers[0]
    s.triggers[0] = _trigger(int(trig.name.split("_")[1]), s.table(trig.table), variant=1)
    summary.changed_triggers += 1
    return s, summary


def drift_dropping_referenced(
    current: Schema, seed: int = 43, fraction: float = 0.01
) -> tuple[Schema, DriftSummary]:
    """``drift``, and about ``fraction`` of the tables dropped although other tables
    keep their foreign keys to them: what a dev database becomes when tables are
    dropped with foreign_key_checks=0 (issue 12).  It loads only with checks off,
    as ``render`` writes them."""
    s, summary = drift(current, seed)
    rng = random.Random(seed + 7)
    pinned = {"tenants"}
    for v in s.views:
        pinned.update(v.uses)
    pinned.update(r.table for r in s.routines)
    pinned.update(t.table for t in s.triggers)
    referenced = {fk.ref_table for t in s.tables for fk in t.fks}
    pool = sorted(
        t.name
        for t in s.tables
        if t.name in referenced and t.name not in pinned and not t.name.startswith("new_")
    )
    for name in rng.sample(pool, min(len(pool), max(1, round(len(s.tables) * fraction)))):
        s.tables.remove(s.table(name))
        summary.dropped_referenced_tables += 1
    return s, summary


# --------------------------------------------------------------------------- rendering


def statements(schema: Schema) -> dict[str, list[str]]:
    """Statements per loading phase: tables (any order once FK checks are off),
    then views (in dependency order), routines and triggers."""
    return {
        "tables": [t.render() for t in schema.tables],
        "views": [v.render() for v in schema.views],
        "routines": [r.render() for r in schema.routines],
        "triggers": [t.render() for t in schema.triggers],
    }


def render(schema: Schema) -> str:
    """A mysqldump-like schema file: tables, views, then routines and triggers
    inside ``DELIMITER ;;`` blocks (their bodies contain ``;``), with
    foreign_key_checks off around them as mysqldump writes it."""
    out = [
        "-- myshift bench: synthetic multi-tenant schema",
        "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;",
        "",
    ]
    phases = statements(schema)
    for stmt in phases["tables"] + phases["views"]:
        out.append(stmt + ";\n")
    if phases["routines"] or phases["triggers"]:
        out.append("DELIMITER ;;")
        for stmt in phases["routines"] + phases["triggers"]:
            out.append(stmt + ";;")
        out.append("DELIMITER ;\n")
    out.append(
        "/*!40014 SET FOREIGN_KEY_CHECKS=IF(@OLD_FOREIGN_KEY_CHECKS IS NULL, 1,"
        " @OLD_FOREIGN_KEY_CHECKS) */;\n"
    )
    return "\n".join(out)


def main() -> None:
    import argparse
    import sys

    ap = argparse.ArgumentParser(description="Print a synthetic schema (or its drifted twin).")
    ap.add_argument("--tables", type=int, default=100)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--drift", action="store_true", help="print the drifted (desired) version")
    a = ap.parse_args()
    s = generate(a.tables, a.seed)
    if a.drift:
        s, summary = drift(s, a.seed + 1)
        print(f"-- drift: {summary}", file=sys.stderr)
    sys.stdout.write(render(s))


if __name__ == "__main__":
    main()
