"""The apply history: what ran where, by whom, and exactly where it stopped.

Two copies of every record:

* tables in a schema of their own on the target server (``_myshift`` by
  default): ``applies`` (one row per apply / rollback / rehearsal, with the
  pre-apply snapshot of the model) and ``statements`` (one row per statement);
* a local JSONL audit log (``./myshift-audit.jsonl`` by default), one line per
  write, appended, flushed and fsynced — it survives losing the server.

Passwords are never stored: the target is recorded as ``Endpoint.redacted()``.

The package, by seam (import the public names from here):

* ``records``: ``ApplyRecord``, ``StatementRecord``, ``ApplyDetail``, ``HistoryError``.
* ``tables``: the history tables' DDL and ``LAYOUT_VERSION``.
* ``store``: ``History``, the crash-safe writer and the reader.
* ``format``: the text of ``myshift history`` (``format_history_table`` ...).
* ``command``: the ``history`` command itself (``history``, ``HistoryOptions``).
"""

from __future__ import annotations

from myshift.workflows.history.format import format_apply_detail, format_history_table
from myshift.workflows.history.records import (
    DEFAULT_AUDIT_PATH,
    DEFAULT_SCHEMA,
    ApplyDetail,
    ApplyKind,
    ApplyOutcome,
    ApplyRecord,
    HistoryError,
    StatementOutcome,
    StatementRecord,
)
from myshift.workflows.history.store import History, operator
from myshift.workflows.history.tables import LAYOUT_VERSION

__all__ = [
    "DEFAULT_AUDIT_PATH",
    "DEFAULT_SCHEMA",
    "LAYOUT_VERSION",
    "ApplyDetail",
    "ApplyKind",
    "ApplyOutcome",
    "ApplyRecord",
    "History",
    "HistoryError",
    "StatementOutcome",
    "StatementRecord",
    "format_apply_detail",
    "format_history_table",
    "operator",
]
