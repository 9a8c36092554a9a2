"""Pre-flight data checks: queries that prove a data-dependent statement will succeed.

Each check is a ``SELECT COUNT(*)`` of the rows (or groups) that would make
the statement fail or lose data; 0 means it is safe to run.  ``plan`` runs
them and reports the counts; ``apply`` runs them all again, before the
plan's first statement.

So every check runs against the tables as they are *before the plan*, yet
checks what a statement does to the tables as they are when it runs: a
column added, renamed or converted by the same (or an earlier) statement.
``plan_preflights`` walks the plan in order and keeps, per table, a
*shape*: each column as an SQL expression over the table as it is now (an
added column is its DEFAULT, a converted one is converted to its new
charset and collation, an AUTO_INCREMENT one numbers the rows).  A check
over a shape that is not the table itself reads a derived table
``(SELECT expr AS col, ... FROM t)``, so a CHECK clause, a unique key or an
enum membership test is evaluated with the column's own values and under
its own collation.  What cannot be known beforehand (a generated column over
changed columns, an implicit default) makes a check that is reported with
its reason and an empty query, never one that fails on the server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from myshift.engine import ddl
from myshift.engine.changes import (
    AddCheck,
    AddColumn,
    AddForeignKey,
    AddIndex,
    AlterTable,
    Change,
    ChangePartitioning,
    CreateTable,
    DropColumn,
    DropPartitions,
    DropTable,
    ModifyColumn,
    RecreateColumn,
    RenameColumn,
    RenameTable,
)
from myshift.model import Column, ForeignKey, Index, Partitioning, Schema, Table

_INT_RANGE = {
    "tinyint": (-(2**7), 2**7 - 1),
    "smallint": (-(2**15), 2**15 - 1),
    "mediumint": (-(2**23), 2**23 - 1),
    "int": (-(2**31), 2**31 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
_TEXT_BYTES = {"tinytext": 255, "text": 65535, "mediumtext": 2**24 - 1}
_TYPE = re.compile(r"^([a-z]+)(?:\((.*?)\))?(.*)$", re.DOTALL)
_NUMERIC = frozenset({*_INT_RANGE, "decimal", "numeric", "float", "double", "real", "bit"})
_STRINGS = frozenset(
    {"char", "varchar", "binary", "varbinary"}
    | {f"{size}{kind}" for size in ("tiny", "", "medium", "long") for kind in ("text", "blob")}
)

# (description, SELECT COUNT(*) ...); an empty query: the check cannot be made
# before the plan runs, and the description says why.
Check = tuple[str, str]
NOT_CHECKABLE = "not checkable before the plan runs"


def _q(name: str) -> str:
    return ddl.quote(name)


def _base(col_type: str) -> str:
    m = _TYPE.match(col_type.lower())
    return m[1] if m else col_type.lower()


def _mentions(expression: str, names: Iterable[str]) -> list[str]:
    """The column names that ``expression`` (server-printed, identifiers
    backquoted) mentions: a text search, conservative by design."""
    low = expression.lower()
    return [n for n in names if _q(n).lower() in low]


# --------------------------------------------------------------------------- shapes


@dataclass
class _Shape:
    """A table as the plan has made it so far, over the table as it is now.

    ``exprs``: column (its name at this point of the plan) -> SQL over
    ``source`` (the table's name now) giving the values it will hold, or None
    when they cannot be known beforehand (``why`` says why).
    """

    source: str
    exprs: dict[str, str | None]
    columns: dict[str, Column]
    why: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, table: Table) -> _Shape:
        return cls(
            table.name,
            {c.name: _q(c.name) for c in table.columns},
            dict(table.column_map),
        )

    def copy(self) -> _Shape:
        return _Shape(self.source, dict(self.exprs), dict(self.columns), dict(self.why))

    def same(self, name: str) -> bool:
        """Whether ``name`` holds exactly the values of the table's column ``name`` now."""
        return self.exprs.get(name) == _q(name)

    def unknown(self, names: Iterable[str]) -> list[str]:
        return [n for n in names if n in self.exprs and self.exprs[n] is None]

    def rows(self, names: Iterable[str], alias: str = "t") -> str:
        """FROM-clause text for the rows as the shape has them, for a query that
        reads ``names`` (all known): the table itself when they are unchanged,
        else a derived table of just those columns (another column's expression
        has no say in whether this query runs)."""
        wanted = list(dict.fromkeys(names))
        if all(self.same(n) for n in wanted):
            return _q(self.source)
        cols = ", ".join(f"{self.exprs[n]} AS {_q(n)}" for n in wanted)
        return f"(SELECT {cols} FROM {_q(self.source)}) AS {_q(alias)}"


def _converted(expr: str | None, old: Column, new: Column) -> str | None:
    """``expr`` (values of ``old``) as ``new``'s charset and collation hold them."""
    if expr is None or new.collation is None:
        return expr
    if old.charset != new.charset or old.collation is None:
        return f"CONVERT({expr} USING {new.charset}) COLLATE {new.collation}"
    if old.collation != new.collation:
        return f"{expr} COLLATE {new.collation}"
    return expr


def _fill(col: Column, shape: _Shape) -> tuple[str | None, str]:
    """(SQL for the value every existing row gets in the added column ``col``,
    or None; why it is not known).  ``shape``: the table once the statement ran."""
    if col.auto_increment:
        return "ROW_NUMBER() OVER ()", ""
    if col.generated is not None:
        mentioned = _mentions(col.generated, shape.exprs)
        changed = [n for n in mentioned if n != col.name and not shape.same(n)]
        if changed:
            return None, f"generated column {col.name} reads {', '.join(changed)}, changed too"
        return f"({col.generated})", ""
    value = col.default
    if value is not None:
        # An expression default (MariaDB) over columns this plan changes.
        changed = [n for n in _mentions(value, shape.exprs) if not shape.same(n)]
        if changed:
            return None, f"the default of {col.name} reads {', '.join(changed)}, changed too"
    if value is None:
        base = _base(col.type)
        if col.nullable:
            value = "NULL"
        elif base in _NUMERIC:
            value = "0"
        elif base in _STRINGS:
            value = "''"
        else:
            return None, f"{col.name} gets the implicit default of {col.type}"
    if col.collation is not None and value.upper() != "NULL":
        value = f"CONVERT({value} USING {col.charset}) COLLATE {col.collation}"
    return value, ""


def _constant_fill(col: Column) -> bool:
    """Whether every existing row gets one and the same value in the added ``col``."""
    if col.auto_increment or col.generated is not None:
        return False
    d = col.default
    if d is None:
        return not col.nullable
    return (d.upper() != "NULL" and "(" not in d) or d.lower().startswith("current_timestamp")


def _after(shape: _Shape, change: AlterTable) -> _Shape:
    """The shape once ``change`` has run."""
    out = shape.copy()
    added: list[Column] = []
    moved: list[tuple[Column, Column]] = []
    for cl in change.clauses:
        if isinstance(cl, DropColumn):
            out.exprs.pop(cl.column.name, None)
            out.columns.pop(cl.column.name, None)
        elif isinstance(cl, AddColumn | RecreateColumn):
            added.append(cl.column if isinstance(cl, AddColumn) else cl.after)
        elif isinstance(cl, ModifyColumn | RenameColumn):
            moved.append((cl.before, cl.after))
    # All old names go before any new one is set: renames may swap names.
    for before, _ in moved:
        out.exprs.pop(before.name, None)
        out.columns.pop(before.name, None)
        out.why.pop(before.name, None)
    for before, after in moved:
        out.exprs[after.name] = _converted(shape.exprs.get(before.name), before, after)
        out.columns[after.name] = after
        if before.name in shape.why:
            out.why[after.name] = shape.why[before.name]
    for col in added:
        out.exprs[col.name] = None  # filled in below, once every column is in place
        out.columns[col.name] = col
    # Plain columns first: a generated one may read them.
    for col in sorted(added, key=lambda c: c.generated is not None):
        out.exprs[col.name], why = _fill(col, out)
        if why:
            out.why[col.name] = why
    return out


# --------------------------------------------------------------------------- checks


def _skipped(what: str, shape: _Shape, names: Iterable[str]) -> Check:
    reasons = "; ".join(shape.why.get(n, f"{n} cannot be known") for n in names)
    return (f"{what} ({NOT_CHECKABLE}: {reasons})", "")


def _value_loss(table: str, shape: _Shape, old: Column, new: Column) -> list[Check]:
    """Rows whose value of ``old`` would not survive conversion to ``new``'s type.

    Compared under ``new``'s collation: the server converts into the new
    column, so an ENUM member matches (or not) as the new column compares.
    """
    col = shape.exprs.get(old.name)
    if col is None:
        return [
            _skipped(f"values of {table}.{old.name} that do not fit {new.type}", shape, [old.name])
        ]
    src = _q(shape.source)
    checks: list[Check] = []
    if old.nullable and not new.nullable:
        checks.append(
            (
                f"NULLs in {table}.{old.name} (becomes NOT NULL)",
                f"SELECT COUNT(*) FROM {src} WHERE {col} IS NULL",
            )
        )
    if old.type.lower() == new.type.lower():
        return checks
    m = _TYPE.match(new.type.lower())
    if not m:
        return checks
    base, args, rest = m[1], m[2] or "", m[3]
    cond: str | None = None
    if base in ("varchar", "char", "varbinary", "binary") and args.isdigit():
        fn = "CHAR_LENGTH" if base in ("varchar", "char") else "LENGTH"
        cond = f"{fn}({col}) > {int(args)}"
    elif base in _TEXT_BYTES:
        cond = f"LENGTH({col}) > {_TEXT_BYTES[base]}"
    elif base in _INT_RANGE:
        lo, hi = _INT_RANGE[base]
        if "unsigned" in rest:
            lo, hi = 0, hi * 2 + 1
        cond = f"({col} < {lo} OR {col} > {hi})"
    elif base in ("decimal", "numeric"):
        cond = f"{col} <> CAST({col} AS DECIMAL({args or '10,0'}))"
    elif base == "enum":
        # The members as written in the new type (m[2] stops at the first ')').
        members = new.type[new.type.index("(") + 1 : new.type.rindex(")")]
        cond = f"{_converted(col, old, new)} NOT IN ({members})"
    elif base == "set":
        cond = _not_in_set(_converted(col, old, new) or col, new.type)
    if cond is not None:
        checks.append(
            (
                f"values of {table}.{old.name} that do not fit {new.type}",
                f"SELECT COUNT(*) FROM {src} WHERE {col} IS NOT NULL AND {cond}",
            )
        )
    return checks


_LITERAL = re.compile(r"'(?:[^'\\]|''|\\.)*'")


def _not_in_set(col: str, set_type: str) -> str:
    """SQL true when ``col`` is not a value of ``set_type``: it has an element
    that is no member (compared under ``col``'s collation, as FIND_IN_SET does).

    Elements are counted by their commas and members found with FIND_IN_SET;
    a value repeating an element ('a,a', which the server stores as 'a')
    counts as a violation: the check errs on the side of refusing.
    """
    members = _LITERAL.findall(set_type[set_type.index("(") :])
    found = " + ".join(f"(FIND_IN_SET({m}, {col}) > 0)" for m in members) or "0"
    return (
        f"{col} <> '' AND 1 + CHAR_LENGTH({col}) - CHAR_LENGTH(REPLACE({col}, ',', '')) <> {found}"
    )


def _key_exprs(ix: Index, shape: _Shape) -> list[str] | None:
    exprs = []
    for p in ix.parts:
        if p.column is None:
            if p.expression is None:
                return None
            exprs.append(f"({p.expression})")
        elif p.column not in shape.exprs:
            return None
        else:
            exprs.append(f"LEFT({_q(p.column)}, {p.length})" if p.length else _q(p.column))
    return exprs


def _duplicates(
    table: str, shape: _Shape, ix: Index, added: set[str], *, new: bool = True
) -> list[Check]:
    exprs = _key_exprs(ix, shape)
    if not exprs:
        return []
    cols = ", ".join(exprs)
    if new:
        what = f"duplicate values in {table} for new unique key {ix.name} ({cols})"
    else:
        what = (
            f"duplicate values in {table} for unique key {ix.name} ({cols}) under its "
            "columns' new collation"
        )
    names = [p.column for p in ix.parts if p.column is not None]
    for p in ix.parts:
        if p.expression is not None:
            names += _mentions(p.expression, shape.exprs)
    unknown = shape.unknown(names)
    if unknown:
        return [_skipped(what, shape, unknown)]
    fixed = [n for n in names if n in added and _constant_fill(shape.columns[n])]
    if fixed and len(fixed) == len(names):
        what += (
            f": every existing row gets the same {', '.join(fixed)} (the DEFAULT), "
            "so more than one row makes duplicates certain"
        )
    src = shape.rows(names)
    not_null = " AND ".join(f"{e} IS NOT NULL" for e in exprs)
    checks = [
        (
            what,
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {src} WHERE {not_null} "
            f"GROUP BY {cols} HAVING COUNT(*) > 1) d",
        )
    ]
    if ix.is_primary:
        nullable = [
            e
            for e, p in zip(exprs, ix.parts, strict=True)
            if p.column and shape.columns[p.column].nullable
        ]
        if nullable:
            checks.append(
                (
                    f"NULLs in {table} for new primary key",
                    f"SELECT COUNT(*) FROM {src} WHERE "
                    + " OR ".join(f"{e} IS NULL" for e in nullable),
                )
            )
    return checks


def orphans_checkable(table_name: str, fk: ForeignKey, current: Schema) -> bool:
    """Whether the orphan pre-flight of ``fk`` added to ``table_name`` can run both
    before the plan and around its statement, and covers every row: the table,
    its columns, the parent (same schema) and its columns all exist already
    under those names. Then the key may be added with foreign_key_checks=0
    (AddForeignKey.unchecked): the pre-flight validates instead of a table copy.
    """
    table = current.table_map.get(table_name)
    parent = current.table_map.get(fk.ref_table)
    return (
        fk.ref_schema is None
        and table is not None
        and parent is not None
        and all(c in table.column_map for c in fk.columns)
        and all(c in parent.column_map for c in fk.ref_columns)
    )


def _violations(table: str, shape: _Shape, name: str, clause: str) -> Check:
    """Rows of the table as ``shape`` has it that fail CHECK ``clause``."""
    what = f"rows of {table} violating CHECK {name}"
    unknown = shape.unknown(_mentions(clause, shape.exprs))
    if unknown:
        return _skipped(what, shape, unknown)
    src = shape.rows(_mentions(clause, shape.exprs))
    return (what, f"SELECT COUNT(*) FROM {src} WHERE NOT ({clause})")


def _outside_partitions(table: str, shape: _Shape, after: Partitioning) -> list[Check]:
    """Rows no RANGE/LIST partition of ``after`` takes (the ALTER fails on them)."""
    method = after.method.upper()
    values = [p.values or "" for p in after.partitions]
    if not values or not method.startswith(("RANGE", "LIST")):
        return []
    what = f"rows of {table} outside every partition of the new {after.method} partitioning"
    unknown = shape.unknown(_mentions(after.expression, shape.exprs))
    if unknown:
        return [_skipped(what, shape, unknown)]
    # Values are the catalogue's PARTITION_DESCRIPTION: "10", "MAXVALUE", "1,2", "NULL,4".
    expr = f"({after.expression})"
    if method.startswith("RANGE"):
        last = values[-1]
        if "MAXVALUE" in last.upper():
            return []
        cond = f"{expr} >= ({last})"  # NULL sorts into the first range
    else:
        lists = ", ".join(v for v in values if v)
        # x IN (.., NULL) is NULL, not false, for an x not listed: COALESCE.
        missing = f"NOT COALESCE({expr} IN ({lists}), FALSE)"
        if re.search(r"\bNULL\b", lists, re.IGNORECASE):
            cond = f"{expr} IS NOT NULL AND {missing}"
        else:
            cond = f"{expr} IS NULL OR {missing}"
    src = shape.rows(_mentions(after.expression, shape.exprs))
    return [(what, f"SELECT COUNT(*) FROM {src} WHERE {cond}")]


def _orphans(table: str, child: _Shape, fk: ForeignKey, parent: _Shape | None) -> list[Check]:
    """Rows of ``table`` (as ``child`` has it once the FK's statement ran) whose key
    has no parent row.  A column added by the plan counts with the value every row
    gets (its DEFAULT); a parent the plan creates has no rows, so every child row
    with a non-NULL key is an orphan; a parent in another schema is read as it is."""
    what = f"rows of {table} without a parent in {fk.ref_table} (new foreign key {fk.name})"
    if any(c not in child.exprs for c in fk.columns):
        return []
    unknown = child.unknown(fk.columns)
    if unknown:
        return [_skipped(what, child, unknown)]
    src = child.rows(fk.columns, "c")
    if src == _q(child.source):
        src += " c"
    present = " AND ".join(f"c.{_q(a)} IS NOT NULL" for a in fk.columns)
    if fk.ref_schema is None and parent is None:  # created (or re-created) by the plan
        return [(what, f"SELECT COUNT(*) FROM {src} WHERE {present}")]
    if parent is not None and any(c not in parent.exprs for c in fk.ref_columns):
        return []
    if parent is not None and parent.unknown(fk.ref_columns):
        return [_skipped(what, parent, parent.unknown(fk.ref_columns))]
    if parent is None:
        ref = f"{_q(fk.ref_schema or '')}.{_q(fk.ref_table)} p"
    else:
        ref = parent.rows(fk.ref_columns, "p")
        if ref == _q(parent.source):
            ref += " p"
    on = " AND ".join(
        f"c.{_q(a)} = p.{_q(b)}" for a, b in zip(fk.columns, fk.ref_columns, strict=True)
    )
    return [
        (
            what,
            f"SELECT COUNT(*) FROM {src} LEFT JOIN {ref} ON {on} "
            f"WHERE {present} AND p.{_q(fk.ref_columns[0])} IS NULL",
        )
    ]


def _column_checks(
    change: AlterTable, after: _Shape, added: set[str], touched: dict[str, str]
) -> list[Check]:
    """CHECKs not added by a clause of their own: MariaDB's column-level ones
    travel with their column's ADD/MODIFY, and every CHECK is evaluated again
    when the values it reads are converted."""
    assert change.before is not None and change.after is not None
    own = {cl.check for cl in change.clauses if isinstance(cl, AddCheck)}
    renamed = {
        cl.after.name: cl.before.name
        for cl in change.clauses
        if isinstance(cl, ModifyColumn | RenameColumn)
    }
    old = {(c.column, c.clause) for c in change.before.checks}
    checks: list[Check] = []
    for c in change.after.checks:
        if not c.enforced or c in own:
            continue
        col = c.column
        if (
            (col is not None and col in added)
            or (col is not None and col in renamed and (renamed[col], c.clause) not in old)
            or _mentions(c.clause, touched)
        ):
            checks.append(_violations(change.table, after, c.name, c.clause))
    return checks


def _alter_checks(change: AlterTable, before: _Shape, after: _Shape) -> list[Check]:
    """The checks of one ALTER TABLE: ``before``/``after`` are the table's shapes
    right before and after it runs."""
    table = change.table
    checks: list[Check] = []
    added: set[str] = set()
    touched: dict[str, str] = {}  # column after -> before, for columns whose values change
    for cl in change.clauses:
        if isinstance(cl, ModifyColumn | RenameColumn):
            checks += _value_loss(table, before, cl.before, cl.after)
            if not after.same(cl.after.name):
                touched[cl.after.name] = cl.before.name
        elif isinstance(cl, AddColumn):
            added.add(cl.column.name)
        elif isinstance(cl, RecreateColumn):
            added.add(cl.after.name)
    new_keys = [cl.index for cl in change.clauses if isinstance(cl, AddIndex)]
    keys = [ix for ix in new_keys if ix.is_unique]
    if change.after is not None:
        # A kept unique key over a column converted to another collation or
        # charset is rebuilt: it may find duplicates the old one did not.
        keys += [
            ix
            for ix in change.after.indexes
            if ix.is_unique and ix not in new_keys and any(p.column in touched for p in ix.parts)
        ]
    for ix in keys:
        checks += _duplicates(table, after, ix, added, new=ix in new_keys)
    for cl in change.clauses:
        if isinstance(cl, AddCheck) and cl.check.enforced:
            checks.append(_violations(table, after, cl.check.name, cl.check.clause))
        elif isinstance(cl, ChangePartitioning):
            checks += _outside_partitions(table, after, cl.after)
    if change.after is not None and change.before is not None:
        checks += _column_checks(change, after, added, touched)
    return checks


@dataclass
class _Walk:
    """The tables' shapes as the plan goes, made when first touched."""

    current: Schema
    shapes: dict[str, _Shape | None] = field(default_factory=dict)

    def get(self, name: str) -> _Shape | None:
        """The table's shape now; None for a table the plan created (no rows) or dropped."""
        if name not in self.shapes:
            t = self.current.table_map.get(name)
            self.shapes[name] = _Shape.of(t) if t is not None else None
        return self.shapes[name]

    def checks(self, change: Change) -> list[Check]:
        if isinstance(change, RenameTable):
            self.shapes[change.new] = self.get(change.old)
            self.shapes[change.old] = None
        elif isinstance(change, CreateTable | DropTable):
            self.shapes[change.table.name] = None
        elif isinstance(change, AlterTable):
            before = self.get(change.table)
            if before is None:
                return []
            after = _after(before, change)
            self.shapes[change.table] = after
            checks = _alter_checks(change, before, after)
            for cl in change.clauses:
                if isinstance(cl, AddForeignKey):
                    fk = cl.foreign_key
                    parent = after if fk.ref_table == change.table else self.get(fk.ref_table)
                    if fk.ref_schema is not None:
                        parent = None
                    checks += _orphans(change.table, after, fk, parent)
            return checks
        return []


def deleted_rows(change: Change) -> list[Check]:
    """Counts of the rows ``change`` deletes by design (DROP PARTITION): reported with
    the statement, held back or not, so nobody drops a partition without seeing how
    many rows go with it.  Never a reason to refuse: --allow-drop accepted them."""
    if not isinstance(change, AlterTable):
        return []
    out: list[Check] = []
    for cl in change.clauses:
        if isinstance(cl, DropPartitions):
            names = ", ".join(_q(p.name) for p in cl.dropped)
            what = f"rows of {change.table} in partition {', '.join(p.name for p in cl.dropped)}"
            out.append((what, f"SELECT COUNT(*) FROM {_q(change.table)} PARTITION ({names})"))
    return out


def plan_preflights(changes: Sequence[Change], current: Schema) -> list[list[Check]]:
    """The checks of each change of a plan, all to be run before its first statement."""
    walk = _Walk(current)
    return [walk.checks(ch) for ch in changes]
