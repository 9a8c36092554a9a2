"""The events plan, rehearse, apply and rollback send (``workflows.notify``).

Pure: each builds an ``Event`` from what the workflow has at that point.
``link`` is an absolute path where there is a file (the plan, the rehearsal
report), else the command that shows the record (``myshift history ID``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from myshift import interrupts
from myshift.engine.risk import Risk
from myshift.errors import Interrupted, MyshiftError
from myshift.workflows.notify.message import Event, one_line

if TYPE_CHECKING:
    from myshift.workflows.planfile import PlanFile
    from myshift.workflows.rehearse_report import RehearsalReport


def file_link(path: str | Path | None) -> str:
    """An absolute path to ``path`` (a file the team can open), or ""."""
    if not path:
        return ""
    return str(Path(path).expanduser().resolve())


def error_text(exc: BaseException) -> str:
    """What went wrong, one line: the message (and fix) of a MyshiftError."""
    if isinstance(exc, KeyboardInterrupt):
        by = interrupts.by()
        return "interrupted by user (Ctrl-C)" if by == "by user" else f"interrupted {by}"
    if isinstance(exc, MyshiftError):
        return one_line(str(exc))
    return one_line(f"{type(exc).__name__}: {exc}")


def stopped_outcome(exc: BaseException) -> str:
    return "interrupted" if isinstance(exc, KeyboardInterrupt | Interrupted) else "failed"


def _counts(pf: PlanFile) -> str:
    """``1 statement``, ``3 statements (1 destructive)``: read inside a sentence, the
    destructive count is bracketed so it cannot run into what follows ("to schema")."""
    runnable = pf.runnable
    destructive = sum(1 for s in runnable if s.risk is Risk.DESTRUCTIVE)
    n = len(runnable)
    return f"{n} statement{'' if n == 1 else 's'}" + (
        f" ({destructive} destructive)" if destructive else ""
    )


def plan_created(pf: PlanFile, path: str | Path) -> Event:
    held = sum(1 for s in pf.statements if s.skipped)
    return Event(
        kind="plan.created",
        outcome="created",
        summary=f"Plan of schema {pf.schema}: {_counts(pf)} to run"
        + (f", {held} held back" if held else "")
        + ".",
        plan_hash=pf.plan_hash,
        link=file_link(path),
    )


def _kind(pf: PlanFile) -> str:
    return "rollback" if pf.kind == "rollback" else "apply"


def _undoes(pf: PlanFile) -> str:
    return f" (undoes apply #{pf.undoes_apply_id})" if pf.undoes_apply_id else ""


def apply_started(pf: PlanFile, link: str) -> Event:
    return Event(
        kind=f"{_kind(pf)}.started",
        outcome="started",
        summary=f"Applying {_counts(pf)} to schema {pf.schema}{_undoes(pf)}.",
        plan_hash=pf.plan_hash,
        link=link,
    )


def apply_finished(pf: PlanFile, link: str, apply_id: int | None, target: str) -> Event:
    return Event(
        kind=f"{_kind(pf)}.finished",
        outcome="ok",
        summary=f"Applied {_counts(pf)} to schema {pf.schema}{_undoes(pf)}.",
        plan_hash=pf.plan_hash,
        link=link or (f"myshift history {apply_id} --to {target}" if apply_id else ""),
        apply_id=apply_id,
        details=(
            (("undo", f"myshift rollback {apply_id} --to {target}"),)
            if apply_id and pf.kind != "rollback"
            else ()
        )
        + ((("html report", report_command(apply_id, target)),) if apply_id else ()),
    )


def report_command(apply_id: int, target: str) -> str:
    """The command that writes the apply's HTML page (`myshift report`)."""
    return f"myshift report --apply {apply_id} --to {target} -o apply-{apply_id}.html"


def apply_failed(pf: PlanFile, link: str, exc: BaseException, target: str) -> Event:
    outcome = stopped_outcome(exc)
    return Event(
        kind=f"{_kind(pf)}.failed",
        outcome=outcome,
        summary=f"The {_kind(pf)} of {_counts(pf)} to schema {pf.schema}{_undoes(pf)} "
        f"{'was interrupted' if outcome == 'interrupted' else 'failed'}: {error_text(exc)}",
        plan_hash=pf.plan_hash,
        link=link or f"myshift history --to {target}",
    )


def rehearsal_done(report: RehearsalReport, link: str) -> Event:
    how = f"in a {report.sandbox} sandbox ({report.data} data)"
    if report.passed:
        took = f" in {report.seconds:.1f} s" if report.seconds else ""
        summary = f"Rehearsal {report.id} {how} passed{took}."
    else:
        summary = f"Rehearsal {report.id} {how} failed at {report.stage}: {one_line(report.error)}"
    return Event(
        kind=f"rehearsal.{'passed' if report.passed else 'failed'}",
        outcome=report.result,
        summary=summary,
        plan_hash=report.plan_hash,
        link=link,
    )


def rehearsal_stopped(report: RehearsalReport, link: str, exc: BaseException) -> Event:
    outcome = stopped_outcome(exc)
    return Event(
        kind="rehearsal.failed",
        outcome=outcome,
        summary=f"Rehearsal {report.id} in a {report.sandbox} sandbox stopped "
        f"({outcome}): {error_text(exc)}",
        plan_hash=report.plan_hash,
        link=link,
    )


def watch_alert(
    summary: str,
    *,
    plan_hash: str = "",
    link: str = "",
    apply_id: int | None = None,
    rollback: str = "",
    figures: Sequence[tuple[str, str]] = (),
) -> Event:
    """A regression the watch flagged: ``summary`` says which (one line), ``rollback``
    is the command to paste, ``figures`` (label, value) lines: baseline vs now."""
    details = ((("rollback", rollback),) if rollback else ()) + tuple(figures)
    return Event(
        kind="watch.alert",
        outcome="alert",
        summary=one_line(summary),
        plan_hash=plan_hash,
        link=link,
        apply_id=apply_id,
        details=details,
    )


def tell_rehearsal(
    notify: Callable[[Event], None],
    report: RehearsalReport,
    link: str | Path,
    exc: BaseException | None = None,
) -> None:
    """How a rehearsal ended: passed or failed, or stopped by ``exc``."""
    if exc is not None:
        notify(rehearsal_stopped(report, file_link(link), exc))
    else:
        notify(rehearsal_done(report, file_link(link)))


__all__ = [
    "apply_failed",
    "apply_finished",
    "apply_started",
    "error_text",
    "file_link",
    "plan_created",
    "rehearsal_done",
    "rehearsal_stopped",
    "report_command",
    "tell_rehearsal",
    "watch_alert",
]
