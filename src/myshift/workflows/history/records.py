"""The records of the apply history: one apply, one statement, one apply in full."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from myshift.errors import MyshiftError
from myshift.exitcodes import ExitCode
from myshift.model.serialize import schema_from_json

if TYPE_CHECKING:
    from myshift.model import Schema

DEFAULT_SCHEMA = "_myshift"
DEFAULT_AUDIT_PATH = Path("myshift-audit.jsonl")

ApplyKind = Literal["apply", "rollback", "rehearsal"]
ApplyOutcome = Literal["running", "ok", "failed", "interrupted"]
StatementOutcome = Literal["running", "ok", "failed"]


class HistoryError(MyshiftError):
    """The history schema cannot be written or read (usually a missing privilege)."""

    exit_code = ExitCode.CONNECTION


@dataclass(frozen=True)
class ApplyRecord:
    id: int
    kind: str
    target_schema: str
    target: str  # Endpoint.redacted() of the target: no password, ever
    operator_user: str
    operator_host: str
    tool_version: str
    plan_hash: str | None
    from_fingerprint: str | None
    to_fingerprint: str | None
    started_at: datetime  # UTC
    finished_at: datetime | None
    outcome: str
    error: str | None
    undoes_apply_id: int | None
    notes: Mapping[str, Any] = field(default_factory=dict)
    statements_total: int = 0
    statements_ok: int = 0

    @property
    def duration(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class StatementRecord:
    apply_id: int
    seq: int
    sql: str
    risk: str | None
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    error: str | None
    rows_affected: int | None
    duration: float | None  # seconds


@dataclass(frozen=True)
class ApplyDetail:
    record: ApplyRecord
    statements: tuple[StatementRecord, ...]
    snapshot_json: str | None  # schema_to_json of the target before the apply

    def snapshot(self) -> Schema | None:
        """The pre-apply model, for rollback; None when none was recorded."""
        return schema_from_json(self.snapshot_json) if self.snapshot_json else None

    @property
    def stopped_at(self) -> StatementRecord | None:
        """The first statement that did not finish ok (running after a crash, or failed)."""
        return next((s for s in self.statements if s.outcome != "ok"), None)
