"""Which ALTER TABLE statements an online schema change tool can run, and with what.

pt-online-schema-change copies the table into a shadow table in chunks while
triggers carry the application's writes over, then swaps the two by RENAME.
That works for most clauses, but not for all (its documentation, "LIMITATIONS"
and ``--alter``):

* a column rename: the copy matches columns by name, so the renamed column's
  values would be lost (the tool refuses without ``--no-check-alter``);
* a new UNIQUE index: the copy is ``INSERT IGNORE``, so duplicate rows would
  silently disappear instead of the statement failing;
* a primary key change, or a table with neither a primary key nor a UNIQUE
  index: the chunks and the triggers need a stable unique key;
* foreign key clauses: the shadow table's constraints are renamed (``_name``),
  so ``DROP FOREIGN KEY name`` no longer names anything there;
* table-level CHECK constraints: renamed the same way, and a CHECK cannot be
  renamed back without another table copy on MariaDB;
* DROP PARTITION: the copy into the shadow table would put the dropped
  partition's rows into the next range instead of deleting them (measured,
  ``make bench ONLY=partition``).  Other partitioning clauses are run on the
  empty shadow table and the rows copied in: a re-partition (``PARTITION BY``,
  ``REMOVE PARTITIONING``), a HASH/KEY count change or a REORGANIZE that would
  block writes on a big table runs online (HASH 4 -> 6 at 1,000,000 rows: 0.76 s
  max stall through the tool, writes blocked for the whole copy without it).

``osc_alter`` answers from the change itself (never from SQL text): the
``--alter`` text for the tool, or why the tool cannot run it.
"""

from __future__ import annotations

from myshift.engine.changes import (
    AddCheck,
    AddForeignKey,
    AddIndex,
    AlterTable,
    Change,
    DropCheck,
    DropForeignKey,
    DropIndex,
    DropPartitions,
    RenameColumn,
    RenderOptions,
)
from myshift.engine.risk import Algorithm, Lock
from myshift.model.flavor import Flavor
from myshift.model.schema import IndexKind, Table


def blocks_writes(algorithm: Algorithm, lock: Lock) -> bool:
    """A statement that holds writes off for its whole run: a table copy, or an
    in-place rebuild under a SHARED/EXCLUSIVE lock (an INSTANT one is a metadata
    swap, over at once)."""
    return algorithm is Algorithm.COPY or (
        algorithm is not Algorithm.INSTANT and lock is not Lock.NONE
    )


def _unfit_clause(change: AlterTable) -> str:
    for c in change.clauses:
        if isinstance(c, RenameColumn):
            return f"it renames column {c.before.name} (the copy would lose its values)"
        if isinstance(c, AddIndex) and c.index.kind is IndexKind.UNIQUE:
            return (
                f"it adds UNIQUE index {c.index.name} (the tool's INSERT IGNORE copy would "
                "silently drop duplicate rows)"
            )
        if isinstance(c, AddIndex | DropIndex) and c.index.is_primary:
            return "it changes the primary key"
        if isinstance(c, AddForeignKey | DropForeignKey):
            return "it changes a foreign key (the tool renames foreign keys on its copy)"
        if isinstance(c, AddCheck | DropCheck):
            return "it changes a CHECK constraint (the tool renames constraints on its copy)"
        if isinstance(c, DropPartitions):
            return (
                "it drops partitions (the tool's copy would move their rows into the next "
                "partition instead of deleting them)"
            )
    return ""


def _unfit_table(table: Table | None) -> str:
    if table is None:
        return "the table's structure before the statement is unknown"
    # A generated invisible primary key (Table.gipk, MySQL 8.0.30+) is a PRIMARY KEY too.
    if not table.gipk and not any(
        ix.is_primary or ix.kind is IndexKind.UNIQUE for ix in table.indexes
    ):
        return f"{table.name} has no PRIMARY KEY or UNIQUE index to copy it by"
    if any(ck.column is None for ck in table.checks):
        return (
            f"{table.name} has table-level CHECK constraints (the tool renames them, and "
            "renaming them back copies the table again)"
        )
    return ""


def osc_alter(change: Change, flavor: Flavor) -> tuple[str, str]:
    """``(alter, "")`` with the clauses for the tool's ``--alter``, or ``("", why not)``."""
    if not isinstance(change, AlterTable):
        return "", "it is not an ALTER TABLE"
    why = _unfit_clause(change) or _unfit_table(change.before)
    if why:
        return "", why
    return change.clause_text(flavor, RenderOptions()), ""


__all__ = ["blocks_writes", "osc_alter"]
