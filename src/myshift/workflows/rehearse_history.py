"""A rehearsal's trace: its entry in production's history and its line in the plan file.

Production's history is what the apply's rehearsal gate reads
(workflows.plancheck), so a rehearsal is recorded there, never only in the
plan file a user could edit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from myshift.db.connect import Endpoint
from myshift.workflows.planfile import PlanFile
from myshift.workflows.rehearse_report import RehearsalReport


def begin_history(
    target: Endpoint,
    pf: PlanFile,
    report: RehearsalReport,
    schema: str,
    audit_log: str | None,
    say: Callable[[str], None],
) -> tuple[Any, int] | None:
    """A ``rehearsal`` entry in production's history; a history that cannot be written
    is a note, not a reason to skip the rehearsal."""
    from myshift.workflows.history import History, HistoryError

    try:
        h = History.open(
            target,
            schema=schema,
            audit_path=Path(audit_log) if audit_log else None,
        )
        hid = h.begin_apply(
            kind="rehearsal",
            target_schema=target.schema,
            target=target,
            plan_hash=pf.plan_hash,
            from_fingerprint=pf.from_fingerprint,
            to_fingerprint=pf.to_fingerprint,
            notes={"rehearsal_id": report.id, "sandbox": report.sandbox, "data": report.data},
        )
    except HistoryError as exc:
        report.notes.append(f"Not recorded in production's history: {exc.message}")
        say(report.notes[-1])
        return None
    report.history_id = hid
    return h, hid


def finish_history(history: tuple[Any, int] | None, report: RehearsalReport) -> None:
    if history is None:
        return
    from myshift.workflows.history import HistoryError

    h, hid = history
    try:
        h.add_notes(
            hid,
            {
                "result": report.result,
                "stage": report.stage or None,
                "statements": [
                    {
                        "seq": s.seq,
                        "subject": s.subject,
                        "status": s.status,
                        "seconds": s.seconds,
                        "rows": s.rows,
                        "estimated_seconds": s.estimated_seconds,
                        "observed": s.observed,
                    }
                    for s in report.statements
                ],
            },
        )
        h.finish_apply(hid, "ok" if report.passed else "failed", error=report.error or None)
    except HistoryError as exc:
        report.notes.append(f"Could not finish the history entry: {exc.message}")
    finally:
        h.close()


def record_in_plan(plan_path: str | Path, report: RehearsalReport) -> None:
    """Append the outcome to the plan file, re-read just now so nothing else is lost."""
    pf = PlanFile.read(plan_path)
    pf.rehearsals.append(report.plan_entry())
    pf.write(plan_path)


__all__ = ["begin_history", "finish_history", "record_in_plan"]
