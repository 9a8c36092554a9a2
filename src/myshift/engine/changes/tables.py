"""Table-level changes: one ALTER TABLE (its clauses together), CREATE, DROP, RENAME."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from myshift.engine import ddl
from myshift.engine.changes.base import (
    DEFAULT_OPTIONS,
    NO_SESSION,
    Change,
    Clause,
    RenderOptions,
    Session,
    TableStates,
    q,
)
from myshift.engine.changes.clauses import (
    AddForeignKey,
    AddIndex,
    ChangeOptions,
    ChangePartitioning,
    DropIndex,
    RemovePartitioning,
)
from myshift.engine.changes.columns import (
    AddColumn,
    DropColumn,
    ModifyColumn,
    RecreateColumn,
    RenameColumn,
    bumps_row_version,
)
from myshift.engine.changes.partitions import (
    AddPartitions,
    DropPartitions,
    ReorganizePartitions,
    ResizeHashPartitions,
)
from myshift.engine.changes.table_diff import diff_table
from myshift.engine.instant import (
    column_count_exhausted,
    downgraded,
    fulltext_rebuild_refused,
    instant_columns_refused,
    row_versions_exhausted,
)
from myshift.engine.risk import (
    Algorithm,
    Assessment,
    Lock,
    Op,
    Risk,
    assess_op,
    combine,
)
from myshift.model.flavor import Flavor
from myshift.model.schema import IndexKind, Table

PARTITION_CLAUSES = (
    ChangePartitioning,
    RemovePartitioning,
    AddPartitions,
    DropPartitions,
    ReorganizePartitions,
    ResizeHashPartitions,
)
FK_CHECKS_OFF = "SET SESSION foreign_key_checks = 0"
FK_CHECKS_ON = "SET SESSION foreign_key_checks = 1"


def _keep_fk_index_names(flavor: Flavor, table: Table, clauses: tuple[Clause, ...]) -> list[str]:
    """MariaDB: re-create, in the same ALTER, the index an added foreign key will use.

    An index MariaDB created implicitly for a foreign key is flagged as
    "generated" in the table definition (invisible in SHOW CREATE TABLE).
    When a foreign key named ``c`` is added over the same columns, MariaDB
    creates a new generated index named ``c`` and drops the old one, so an
    index ``author_id`` silently becomes ``posts_ibfk_1`` (sqldef case
    ModifyUnnamedForeignKey). Dropping and re-adding the index explicitly in
    the same statement makes it a normal index the new key reuses. With
    foreign_key_checks=1 the add copies the table anyway; with it off
    (AddForeignKey.unchecked) MariaDB 10.11 still renames the index, and the
    statement stays INPLACE with LOCK=NONE (measured), rebuilding that index.
    ``table`` must be the table after the statement.
    """
    if not flavor.replaces_generated_fk_index:
        return []
    names = {ix.name for ix in table.indexes}
    out: list[str] = []
    done: set[str] = set()
    for clause in clauses:
        if not isinstance(clause, AddForeignKey):
            continue
        fk = clause.foreign_key
        if fk.name in names:
            continue
        for ix in table.indexes:
            if (
                ix.kind is IndexKind.INDEX
                and ix.name not in done
                and tuple(p.column for p in ix.parts) == fk.columns
                and all(p.length is None and p.expression is None for p in ix.parts)
            ):
                done.add(ix.name)
                out += [f"DROP INDEX {q(ix.name)}", f"ADD {ddl.index_definition(ix, flavor)}"]
                break
    return out


def rebuilds_in_place(clause: Clause) -> bool:
    """Whether InnoDB rebuilds the table for ``clause`` when it is not run instantly
    (innobase_need_rebuild(), ADD_PK_INDEX; manual "Online DDL Operations": the
    "Rebuilds Table" column)."""
    if isinstance(clause, AddColumn | DropColumn | RecreateColumn):
        return bumps_row_version(clause)
    if isinstance(clause, ModifyColumn | RenameColumn):
        return clause.position is not None or clause.before.nullable != clause.after.nullable
    if isinstance(clause, AddIndex | DropIndex):
        return clause.index.is_primary
    if isinstance(clause, ChangeOptions):
        return clause.before.row_format != clause.after.row_format
    return False


@dataclass(frozen=True)
class AlterTable(Change):
    """One ALTER TABLE with comma-separated clauses.

    ``before``/``after`` are the table exactly before and after this statement
    (foreign keys aside: those travel in their own ALTERs, see diff.py). When
    both are known, ``reverse()`` re-diffs them, which gets column positions
    right where reversing clause by clause cannot.
    """

    table: str
    clauses: tuple[Clause, ...]
    before: Table | None = field(default=None, compare=False, repr=False)
    after: Table | None = field(default=None, compare=False, repr=False)
    # Columns of ``before`` other tables' (or its own) foreign keys point at
    # while this runs (engine.diff): MySQL renames those in place, not instantly.
    referenced: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    @property
    def subject(self) -> str:
        return self.table

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        sql = f"ALTER TABLE {q(self.table)}"
        body = self.clause_text(flavor, opts)
        return f"{sql} {body}" if body else sql

    def clause_text(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        """What follows ``ALTER TABLE name``: the clauses as ``render`` writes them (the
        online schema change tool gets exactly this as its ``--alter``)."""
        ctx = self.after or self.before or Table(self.table, ())
        if (
            self.before is not None
            and self.after is not None
            and self.before.collation != self.after.collation
        ):
            # The table default changes in this very statement: spell out
            # every column's charset instead of relying on which default
            # the server applies to MODIFY/ADD without one.
            ctx = replace(ctx, collation="")
        specs = [
            c.render(flavor, ctx) for c in self.clauses if not isinstance(c, PARTITION_CLAUSES)
        ]
        specs += _keep_fk_index_names(flavor, ctx, self.clauses)
        if opts.algorithm:
            specs.append(f"ALGORITHM={opts.algorithm}")
        if opts.lock:
            specs.append(f"LOCK={opts.lock}")
        # partition_options follow the alter options without a comma (both grammars).
        tail = [c.render(flavor, ctx) for c in self.clauses if isinstance(c, PARTITION_CLAUSES)]
        return " ".join(part for part in (", ".join(specs), " ".join(tail)) if part)

    def assess(self, flavor: Flavor) -> Assessment:
        tables = TableStates(self.before, self.after, self.referenced)
        a = combine(c.assess(flavor, tables) for c in self.clauses)
        if a.algorithm is Algorithm.INSTANT and any(rebuilds_in_place(c) for c in self.clauses):
            # MariaDB's instant ADD/DROP/move of a column (MySQL's add/drop are
            # refused per clause, and it never moves a column instantly).
            why = instant_columns_refused(flavor, self.before)
            if why is not None:
                a = downgraded(a, Algorithm.INPLACE, why)
        if a.algorithm is Algorithm.INSTANT and any(bumps_row_version(c) for c in self.clauses):
            # One instant ADD/DROP statement is one more row version (engine.risk).
            why = row_versions_exhausted(flavor, self.before)
            if any(isinstance(c, AddColumn | RecreateColumn) for c in self.clauses):
                why = why or column_count_exhausted(flavor, self.after)
            if why is not None:
                a = downgraded(a, Algorithm.INPLACE, why)
        return self._fulltext_copy(flavor, a)

    def _fulltext_copy(self, flavor: Flavor, a: Assessment) -> Assessment:
        """``a``, or COPY where a FULLTEXT index that stays rules out working in place:
        a rebuild (instant.fulltext_rebuild_refused), or renaming FTS_DOC_ID
        (handler0alter.cc: "Prevent dropping or renaming the FTS_DOC_ID",
        ER_ALTER_OPERATION_NOT_SUPPORTED_REASON_CHANGE_FTS; recorded innodb-alter:583)."""
        why = fulltext_rebuild_refused(flavor, self.before, self.after)
        if why is None or a.algorithm is Algorithm.COPY:
            return a
        if a.algorithm is Algorithm.INPLACE and any(rebuilds_in_place(c) for c in self.clauses):
            return downgraded(a, Algorithm.COPY, why)
        for c in self.clauses:
            if isinstance(c, RenameColumn) and c.before.name.upper() == "FTS_DOC_ID":
                why = f"renames {c.before.name}, the FULLTEXT document id: InnoDB only copies"
                return downgraded(a, Algorithm.COPY, why)
        return a

    @property
    def rechecks(self) -> bool:
        return any(isinstance(c, AddForeignKey) and c.unchecked for c in self.clauses)

    def session(self, flavor: Flavor) -> Session:
        if self.rechecks:
            return (FK_CHECKS_OFF,), (FK_CHECKS_ON,)
        return NO_SESSION

    def reverse(self) -> Change:
        if self.before is not None and self.after is not None:
            # Diff the after-state back to the before-state (renames reversed).
            renames = {
                c.before.name: c.after.name for c in self.clauses if isinstance(c, RenameColumn)
            }
            d = diff_table(self.after, self.before, column_renames=renames)
            pointed = frozenset(renames.get(c, c) for c in self.referenced)
            clauses = d.clauses
            reorg = [c for c in self.clauses if isinstance(c, ReorganizePartitions)]
            if reorg:
                # Undo a split as a merge: the re-diff alone would read the
                # vanished partition as a DROP PARTITION, deleting its rows.
                clauses = (
                    *(c for c in clauses if not isinstance(c, PARTITION_CLAUSES)),
                    reorg[0].reverse(),
                )
            return AlterTable(self.table, clauses, self.after, self.before, pointed)
        return AlterTable(self.table, tuple(c.reverse() for c in reversed(self.clauses)))

    def describe(self) -> str:
        return f"alter table {self.table}: " + ", ".join(c.describe() for c in self.clauses)


@dataclass(frozen=True)
class CreateTable(Change):
    """CREATE TABLE."""

    table: Table

    @property
    def subject(self) -> str:
        return self.table.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        sql = ddl.create_table(self.table, flavor)
        if opts.if_not_exists and sql.startswith("CREATE TABLE "):
            sql = "CREATE TABLE IF NOT EXISTS " + sql[len("CREATE TABLE ") :]
        return sql

    def assess(self, flavor: Flavor) -> Assessment:
        return Assessment(
            Risk.SAFE, Algorithm.INSTANT, Lock.NONE, f"creates table {self.table.name}"
        )

    def reverse(self) -> Change:
        return DropTable(self.table)

    def describe(self) -> str:
        return f"create table {self.table.name}"


@dataclass(frozen=True)
class DropTable(Change):
    """DROP TABLE (destructive)."""

    table: Table

    @property
    def subject(self) -> str:
        return self.table.name

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return f"DROP TABLE {'IF EXISTS ' * opts.if_exists}{q(self.table.name)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return Assessment(
            Risk.DESTRUCTIVE,
            Algorithm.INSTANT,
            Lock.EXCLUSIVE,
            f"drops table {self.table.name} and all its rows",
        )

    def reverse(self) -> Change:
        return CreateTable(self.table)

    def describe(self) -> str:
        return f"drop table {self.table.name}"


@dataclass(frozen=True)
class RenameTable(Change):
    """RENAME TABLE, from a rename hint."""

    old: str
    new: str

    @property
    def subject(self) -> str:
        return self.new

    def render(self, flavor: Flavor, opts: RenderOptions = DEFAULT_OPTIONS) -> str:
        return f"RENAME TABLE {q(self.old)} TO {q(self.new)}"

    def assess(self, flavor: Flavor) -> Assessment:
        return assess_op(flavor, Op.RENAME_TABLE, reason=f"renames table {self.old} to {self.new}")

    def reverse(self) -> Change:
        return RenameTable(self.new, self.old)

    def describe(self) -> str:
        return f"rename table {self.old} to {self.new}"
