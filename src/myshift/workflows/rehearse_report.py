"""What a rehearsal reports: per statement, the run as a whole, as text, Markdown, JSON.

``rehearse`` (workflows.rehearse) fills it in; the plan file's entry
(``plan_entry``) and production's history record its outcome.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from myshift.errors import UsageError
from myshift.workflows.validate import CheckResult, CommandResult


@dataclass
class StatementReport:
    seq: int
    subject: str
    sql: str
    risk: str
    planned_algorithm: str
    status: str = "not run"  # ok | failed | not run
    seconds: float | None = None
    rows: int | None = None  # rows affected, as the server reported them
    sandbox_rows: int | None = None  # rows in the table before the statement (sandbox)
    production_rows: int | None = None  # InnoDB's estimate on production
    estimated_seconds: float | None = None  # on production
    # COPY | rebuild | no rebuild | pt-osc | "" (not observable); for a partitioned
    # table: table copied | rebuilt 1 of 12 partitions | no partition rebuilt.
    observed: str = ""
    # A partitioned table's partitions that got new InnoDB table ids, that the
    # statement created, that it removed (workflows.rehearse_observe).
    partitions_rebuilt: list[str] = field(default_factory=list)
    partitions_added: list[str] = field(default_factory=list)
    partitions_dropped: list[str] = field(default_factory=list)
    path: str = "server"  # server | pt-osc: the path apply takes on production
    error: str = ""
    error_code: int = 0
    warning: str = ""
    description: str = ""  # what the statement does: "drop trigger t_ai", "create trigger …"

    @property
    def label(self) -> str:
        """The statement in a few words: two statements on one table read differently."""
        return self.description or " ".join(self.sql.split()[:3])


@dataclass
class RehearsalReport:
    id: str
    plan: str
    plan_hash: str
    from_fingerprint: str
    target: str
    sandbox: str
    data: str
    started_at: str
    finished_at: str = ""
    seconds: float = 0.0
    result: str = "failed"  # passed | failed
    stage: str = ""  # where it failed: sandbox | run | pre-flight | verify | checks | command
    error: str = ""
    statements: list[StatementReport] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    command: CommandResult | None = None
    clone: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    history_id: int | None = None
    kept: str = ""  # how to connect to the kept sandbox

    @property
    def passed(self) -> bool:
        return self.result == "passed"

    def plan_entry(self) -> dict[str, Any]:
        """The plan file's entry (``apply.rehearsal_passed`` reads result, plan_hash, from)."""
        return {
            "id": self.id,
            "result": self.result,
            "at": self.finished_at,
            "started_at": self.started_at,
            "plan_hash": self.plan_hash,
            "from": self.from_fingerprint,
            "target": self.target,
            "sandbox": self.sandbox,
            "data": self.data,
            "seconds": round(self.seconds, 3),
            "stage": self.stage or None,
            "error": self.error or None,
            "history_id": self.history_id,
        }

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["checks"] = [
            {
                "name": c.name,
                "where": c.where,
                "passed": c.passed,
                "row_count": c.row_count,
                "error": c.error,
                "columns": list(c.columns),
                "rows": [[_jsonable(v) for v in r] for r in c.rows],
            }
            for c in self.checks
        ]
        if self.command is not None:
            d["command"] = {
                "command": self.command.command,
                "exit_code": self.command.exit_code,
                "seconds": round(self.command.seconds, 3),
                "output_tail": self.command.output_tail,
            }
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str) + "\n"

    def to_text(self) -> str:
        return _format(self, markdown=False)

    def to_markdown(self) -> str:
        return _format(self, markdown=True)


def _jsonable(v: Any) -> Any:
    if isinstance(v, bytes | bytearray):
        return "0x" + bytes(v).hex()
    if v is None or isinstance(v, int | float | str | bool):
        return v
    return str(v)


# --------------------------------------------------------------------------- formatting


def _secs(v: float | None) -> str:
    if v is None:
        return "—"
    if v < 1:
        return f"{v * 1000:.0f} ms"
    if v < 120:
        return f"{v:.1f} s"
    return f"{v / 60:.1f} min"


def _num(v: int | None) -> str:
    return "—" if v is None else f"{v:,}"


def _estimate(text: str) -> str:
    """An estimate, marked as one (``~``): InnoDB's row count, the time on production."""
    return text if text == "—" else f"~{text}"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _format(r: RehearsalReport, *, markdown: bool) -> str:
    out = _head(r, markdown)
    out += _statements(r, markdown)
    out += _failures(r, markdown)
    out += _tail(r, markdown)
    return "\n".join(out) + "\n"


def _head(r: RehearsalReport, markdown: bool) -> list[str]:
    out: list[str] = []
    verdict = "PASSED" if r.passed else f"FAILED ({r.stage})"
    if markdown:
        out += [f"# Rehearsal {r.id}: {verdict}", ""]
        out += [
            f"- plan: `{r.plan}` ({r.plan_hash[:19]}…)",
            f"- target: `{r.target}`",
            f"- sandbox: {r.sandbox}, data: {r.data}",
            f"- started {r.started_at}, took {_secs(r.seconds)}",
        ]
        if r.history_id is not None:
            out.append(f"- history id {r.history_id} (kind rehearsal)")
    else:
        out.append(f"Rehearsal {r.id}: {verdict}")
        out.append(f"  plan {r.plan}  target {r.target}")
        out.append(f"  sandbox {r.sandbox}, data {r.data}, {_secs(r.seconds)}")
    if r.clone:
        c = r.clone
        line = (
            f"copied {c.get('tables', 0)} tables, {c.get('rows', 0):,} rows in "
            f"{_secs(c.get('seconds'))}"
        )
        out.append(f"- {line}" if markdown else f"  {line}")
    return out


def _statements(r: RehearsalReport, markdown: bool) -> list[str]:
    out: list[str] = []
    if markdown:
        out += ["", "## Statements", ""]
        out.append(
            "| # | statement | status | time | rows touched | rows in sandbox | rows in prod "
            "| est. on prod | algorithm planned / seen |"
        )
        out.append("|---|---|---|---|---|---|---|---|---|")
        for s in r.statements:
            out.append(
                f"| {s.seq} | {s.label} | {s.status} | {_secs(s.seconds)} | {_num(s.rows)} "
                f"| {_num(s.sandbox_rows)} | {_estimate(_num(s.production_rows))} "
                f"| {_estimate(_secs(s.estimated_seconds))} "
                f"| {s.planned_algorithm} / {s.observed or '—'} |"
            )
        out += ["", "Values marked ~ are estimates (InnoDB's row count, a time scaled to it)."]
    else:
        out.append("")
        out.append(
            f"  {'#':>3} {'statement':<36} {'status':<8} {'time':>9} {'rows':>10} "
            f"{'est. prod':>10}  algorithm (planned/seen)"
        )
        for s in r.statements:
            out.append(
                f"  {s.seq:>3} {_cut(s.label, 36):<36} {s.status:<8} {_secs(s.seconds):>9} "
                f"{_num(s.rows):>10} {_estimate(_secs(s.estimated_seconds)):>10}  "
                f"{s.planned_algorithm}/{s.observed or '—'}"
            )
        if r.statements:
            out.append("  (~: an estimate)")
    return out


def _failures(r: RehearsalReport, markdown: bool) -> list[str]:
    out: list[str] = []
    failed = [s for s in r.statements if s.status == "failed"]
    warned = [s for s in r.statements if s.warning]
    if failed or r.error:
        out += ["", "## Failure" if markdown else "Failure:"]
        if r.error:
            out.append(r.error if markdown else f"  {r.error}")
        for s in failed:
            if markdown:
                out += [
                    "",
                    f"Statement {s.seq} ({s.label}) failed: **{s.error}**",
                    "",
                    "```sql",
                    s.sql,
                    "```",
                ]
            else:
                out += [f"  statement {s.seq} ({s.label}): {s.error}", f"    {s.sql}"]
    if warned:
        out += ["", "## Warnings" if markdown else "Warnings:"]
        out += [f"- {s.label}: {s.warning}" if markdown else f"  {s.warning}" for s in warned]
    return out


def _tail(r: RehearsalReport, markdown: bool) -> list[str]:
    out: list[str] = []
    if r.checks:
        out += ["", "## Checks" if markdown else "Checks:"]
        for chk in r.checks:
            text = chk.describe()
            out.append(("    " + text.replace("\n", "\n    ")) if markdown else "  " + text)
    if r.command is not None:
        cmd = r.command
        status = "ok" if cmd.ok else f"FAILED (exit {cmd.exit_code})"
        head = f"command `{cmd.command}`: {status} in {_secs(cmd.seconds)}"
        out += ["", "## Command" if markdown else "Command:", head if markdown else "  " + head]
        if not cmd.ok and cmd.output_tail:
            tail = cmd.output_tail.rstrip("\n")
            out += ["```", tail, "```"] if markdown else ["    " + tail.replace("\n", "\n    ")]
    if r.notes:
        out += ["", "## Notes" if markdown else "Notes:"]
        out += [f"- {n}" if markdown else f"  {n}" for n in r.notes]
    if r.kept:
        out += ["", r.kept]
    if r.next_steps:
        out += ["", "## Next steps" if markdown else "Next:"]
        out += [f"- {n}" if markdown else f"  {n}" for n in r.next_steps]
    return out


def write_report(path: str, text: str) -> None:
    """Write a report file atomically (a reader never sees half of it)."""
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(p)
    except OSError as exc:
        raise UsageError(
            f"Cannot write the report {path}: {exc.strerror}.", "Check the path."
        ) from None


__all__ = ["RehearsalReport", "StatementReport"]
