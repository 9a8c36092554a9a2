"""Pre-flight data checks: queries that prove a data-dependent statement will succeed.

Each check is a ``SELECT COUNT(*)`` of the rows (or groups) that would make
the statement fail or lose data; 0 means it is safe to run.  ``plan`` runs
them and reports the counts; ``apply`` runs them again right before applying.
Only checks whose columns exist in the current table are produced (a check
on a column added by the same statement cannot be run beforehand).
"""

from __future__ import annotations

import re

from myshift.engine import ddl
from myshift.engine.changes import (
    AddCheck,
    AddForeignKey,
    AddIndex,
    AlterTable,
    Change,
    ModifyColumn,
    RenameColumn,
)
from myshift.model import Column, ForeignKey, Index, Schema, Table

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

Check = tuple[str, str]


def _q(name: str) -> str:
    return ddl.quote(name)


def _value_loss(table: str, old: Column, new: Column) -> list[Check]:
    """Rows whose value of ``old`` would not survive conversion to ``new``'s type."""
    col = _q(old.name)
    checks: list[Check] = []
    if old.nullable and not new.nullable:
        checks.append(
            (
                f"NULLs in {table}.{old.name} (becomes NOT NULL)",
                f"SELECT COUNT(*) FROM {_q(table)} WHERE {col} IS NULL",
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
        cond = f"{col} NOT IN ({args})"
    if cond is not None:
        checks.append(
            (
                f"values of {table}.{old.name} that do not fit {new.type}",
                f"SELECT COUNT(*) FROM {_q(table)} WHERE {col} IS NOT NULL AND {cond}",
            )
        )
    return checks


def _part_expr(ix: Index, table: Table) -> list[str] | None:
    exprs = []
    for p in ix.parts:
        if p.column is None or p.column not in table.column_map:
            return None
        exprs.append(f"LEFT({_q(p.column)}, {p.length})" if p.length else _q(p.column))
    return exprs


def _duplicates(table: Table, ix: Index) -> list[Check]:
    exprs = _part_expr(ix, table)
    if not exprs:
        return []
    cols = ", ".join(exprs)
    not_null = " AND ".join(f"{e} IS NOT NULL" for e in exprs)
    checks = [
        (
            f"duplicate values in {table.name} for new unique key {ix.name} ({cols})",
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {_q(table.name)} WHERE {not_null} "
            f"GROUP BY {cols} HAVING COUNT(*) > 1) d",
        )
    ]
    if ix.is_primary:
        nullable = [
            e
            for e, p in zip(exprs, ix.parts, strict=True)
            if p.column and table.column_map[p.column].nullable
        ]
        if nullable:
            checks.append(
                (
                    f"NULLs in {table.name} for new primary key",
                    f"SELECT COUNT(*) FROM {_q(table.name)} WHERE "
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


def _orphans(table: Table, fk_clause: AddForeignKey, schema: Schema) -> list[Check]:
    fk = fk_clause.foreign_key
    if any(c not in table.column_map for c in fk.columns):
        return []
    parent = schema.table_map.get(fk.ref_table) if fk.ref_schema is None else None
    if fk.ref_schema is None and parent is None:
        return []  # the parent is created by this plan: it has no rows yet
    ref = (_q(fk.ref_schema) + "." if fk.ref_schema else "") + _q(fk.ref_table)
    on = " AND ".join(
        f"c.{_q(a)} = p.{_q(b)}" for a, b in zip(fk.columns, fk.ref_columns, strict=True)
    )
    present = " AND ".join(f"c.{_q(a)} IS NOT NULL" for a in fk.columns)
    return [
        (
            f"rows of {table.name} without a parent in {fk.ref_table} (new foreign key {fk.name})",
            f"SELECT COUNT(*) FROM {_q(table.name)} c LEFT JOIN {ref} p ON {on} "
            f"WHERE {present} AND p.{_q(fk.ref_columns[0])} IS NULL",
        )
    ]


def preflight_checks(change: Change, current: Schema, schema_name: str = "") -> list[Check]:
    """(description, SELECT COUNT(*) ...) pairs for one change; empty when nothing to prove."""
    if not isinstance(change, AlterTable):
        return []
    table = current.table_map.get(change.table)
    if table is None:
        return []
    checks: list[Check] = []
    for clause in change.clauses:
        if isinstance(clause, ModifyColumn | RenameColumn):
            if clause.before.name in table.column_map:
                checks += _value_loss(table.name, clause.before, clause.after)
        elif isinstance(clause, AddIndex) and clause.index.is_unique:
            checks += _duplicates(table, clause.index)
        elif isinstance(clause, AddForeignKey):
            checks += _orphans(table, clause, current)
        elif isinstance(clause, AddCheck) and clause.check.enforced:
            checks.append(
                (
                    f"rows of {table.name} violating CHECK {clause.check.name}",
                    f"SELECT COUNT(*) FROM {_q(table.name)} WHERE NOT ({clause.check.clause})",
                )
            )
    return checks
