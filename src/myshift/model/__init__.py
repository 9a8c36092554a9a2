"""The schema model (standard library only)."""

from myshift.model.flavor import MARIADB_10_11, MYSQL_8_0, MYSQL_8_4, Flavor, Vendor
from myshift.model.schema import (
    Check,
    Column,
    Event,
    ForeignKey,
    Index,
    IndexKind,
    IndexPart,
    Partition,
    Partitioning,
    Routine,
    Schema,
    Table,
    Trigger,
    View,
)

__all__ = [
    "MARIADB_10_11",
    "MYSQL_8_0",
    "MYSQL_8_4",
    "Check",
    "Column",
    "Event",
    "Flavor",
    "ForeignKey",
    "Index",
    "IndexKind",
    "IndexPart",
    "Partition",
    "Partitioning",
    "Routine",
    "Schema",
    "Table",
    "Trigger",
    "Vendor",
    "View",
]
