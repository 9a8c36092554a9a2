"""One small class per kind of schema change.

Every change can ``render(flavor, opts)`` itself as ONE statement (no trailing
``;``), ``assess(flavor)`` its risk and online-DDL cost, ``reverse()`` itself
(each change carries the before/after objects it needs for that), name its
``subject`` (the table or object it touches) and ``describe()`` itself in a
few words for plans.

ALTER TABLE is one change (``AlterTable``) holding ordered ``Clause`` objects;
its risk is the worst clause's, its algorithm and lock the most expensive
clause's. SQL fragments (column/index/FK/CHECK definitions, CREATE statements)
come from ``myshift.engine.ddl``, never from here; flavor differences in ALTER
syntax are the few ``flavor.`` checks in this package.

The package, by seam (import every name from here):

* ``base``: ``Change``, ``Clause``, ``Position``, ``RenderOptions``.
* ``columns``: the column clauses of an ALTER TABLE (and ``needs_recreate``).
* ``clauses``: its index, foreign key, CHECK, option and partitioning clauses.
* ``tables``: ``AlterTable`` and CREATE / DROP / RENAME TABLE.
* ``objects``: views, routines, triggers and events.
* ``table_diff``: ``diff_table``, the clauses that turn one table into
  another: engine/diff.py calls it for every paired table, and
  ``AlterTable.reverse`` re-diffs its after-state back with it.
"""

from myshift.engine.changes.base import (
    DEFAULT_OPTIONS,
    NO_SESSION,
    Change,
    Clause,
    Position,
    RenderOptions,
    Session,
    q,
)
from myshift.engine.changes.clauses import (
    AddCheck,
    AddForeignKey,
    AddIndex,
    ChangeOptions,
    ChangePartitioning,
    DropCheck,
    DropForeignKey,
    DropIndex,
    RemovePartitioning,
    RenameIndex,
    TableOptions,
)
from myshift.engine.changes.columns import (
    AddColumn,
    DropColumn,
    ModifyColumn,
    RecreateColumn,
    RenameColumn,
    cast_refused,
    needs_recreate,
)
from myshift.engine.changes.objects import (
    AlterEvent,
    AlterView,
    CreateEvent,
    CreateRoutine,
    CreateTrigger,
    CreateView,
    DropEvent,
    DropRoutine,
    DropTrigger,
    DropView,
    ReplaceRoutine,
    ReplaceTrigger,
)
from myshift.engine.changes.partitions import (
    STANDALONE_PARTITION_CLAUSES,
    AddPartitions,
    DropPartitions,
    ReorganizePartitions,
    ResizeHashPartitions,
    partition_clause,
    partitions_rebuilt_by,
)
from myshift.engine.changes.tables import (
    PARTITION_CLAUSES,
    AlterTable,
    CreateTable,
    DropTable,
    RenameTable,
)

__all__ = [
    "DEFAULT_OPTIONS",
    "NO_SESSION",
    "PARTITION_CLAUSES",
    "STANDALONE_PARTITION_CLAUSES",
    "AddCheck",
    "AddColumn",
    "AddForeignKey",
    "AddIndex",
    "AddPartitions",
    "AlterEvent",
    "AlterTable",
    "AlterView",
    "Change",
    "ChangeOptions",
    "ChangePartitioning",
    "Clause",
    "CreateEvent",
    "CreateRoutine",
    "CreateTable",
    "CreateTrigger",
    "CreateView",
    "DropCheck",
    "DropColumn",
    "DropEvent",
    "DropForeignKey",
    "DropIndex",
    "DropPartitions",
    "DropRoutine",
    "DropTable",
    "DropTrigger",
    "DropView",
    "ModifyColumn",
    "Position",
    "RecreateColumn",
    "RemovePartitioning",
    "RenameColumn",
    "RenameIndex",
    "RenameTable",
    "RenderOptions",
    "ReorganizePartitions",
    "ReplaceRoutine",
    "ReplaceTrigger",
    "ResizeHashPartitions",
    "Session",
    "TableOptions",
    "cast_refused",
    "needs_recreate",
    "partition_clause",
    "partitions_rebuilt_by",
    "q",
]
