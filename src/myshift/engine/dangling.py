"""Foreign keys whose parent table the schema does not have ("dangling").

mysqldump files turn ``foreign_key_checks`` off, and a schema made that way
may keep an FK to a table it does not define (dropped later, or left out of
the dump).  The server keeps such an FK as written; it only refuses to
*create* it, or to drop a table it points at, with checks on.  myshift plans
such a schema faithfully: the statements that need it run with checks off for
that one statement (MariaDB ``SET STATEMENT foreign_key_checks=0 FOR ...``),
so the session, the verification replay and every other statement keep
checks on.  MySQL has no per-statement form: there the plan is refused,
naming the FK.  Pure (no server).
"""

from __future__ import annotations

from myshift.engine.changes import AddForeignKey, AlterTable, Change, CreateTable, DropTable
from myshift.errors import UnsupportedError
from myshift.model import Flavor, Schema
from myshift.model.schema import ForeignKey

__all__ = ["ChecksOff", "dangling_foreign_keys", "with_checks_off"]

_PREFIX = "SET STATEMENT foreign_key_checks=0 FOR "


def dangling_foreign_keys(schema: Schema) -> list[tuple[str, ForeignKey]]:
    """(table, FK) for each FK of ``schema`` to a table of its own schema it does not have."""
    names = schema.table_map
    return [
        (t.name, fk)
        for t in schema.tables
        for fk in t.foreign_keys
        if fk.ref_schema is None and fk.ref_table not in names
    ]


class ChecksOff:
    """Which changes need foreign_key_checks off, given the schema they build towards
    (``after``); built once per plan (one pass over ``after``'s foreign keys)."""

    def __init__(self, after: Schema) -> None:
        self.names = after.table_map
        # Parent name -> the first (table, FK) pointing at it.
        self.pointed: dict[str, tuple[str, ForeignKey]] = {}
        for t in after.tables:
            for fk in t.foreign_keys:
                if fk.ref_schema is None:
                    self.pointed.setdefault(fk.ref_table, (t.name, fk))

    def why(self, change: Change) -> str | None:
        """Why ``change`` can only run with checks off; None when it runs with them on."""
        if isinstance(change, CreateTable):
            for fk in change.table.foreign_keys:
                if fk.ref_schema is None and fk.ref_table not in self.names:
                    return _why(change.table.name, fk)
                if fk.ref_schema is not None:
                    return (
                        f"foreign key {fk.name} of {change.table.name} points into schema "
                        f"{fk.ref_schema}: created as the desired SQL was, with checks off"
                    )
        elif isinstance(change, AlterTable):
            for clause in change.clauses:
                added = clause.foreign_key if isinstance(clause, AddForeignKey) else None
                if (
                    added is not None
                    and added.ref_schema is None
                    and added.ref_table not in self.names
                ):
                    return _why(change.table, added)
        elif isinstance(change, DropTable) and change.table.name in self.pointed:
            table, fk = self.pointed[change.table.name]
            return (
                f"table {change.table.name} goes while foreign key {fk.name} of {table} "
                "still points at it (as in the desired schema)"
            )
        return None


def _why(table: str, fk: ForeignKey) -> str:
    return (
        f"foreign key {fk.name} of {table} points at table {fk.ref_table}, which the "
        "desired schema does not have (it was made with foreign_key_checks=0)"
    )


def with_checks_off(sql: str, why: str, flavor: Flavor) -> str:
    """``sql`` run with foreign_key_checks off for itself only; refused where impossible."""
    if not flavor.is_mariadb:
        raise UnsupportedError(
            f"Cannot plan this faithfully on {flavor}: {why}.",
            "Add the missing table to the desired schema or drop that foreign key there; "
            "MySQL cannot turn foreign_key_checks off for one statement.",
        )
    return _PREFIX + sql
