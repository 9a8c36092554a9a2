"""The text of ``myshift history``: the list of applies, and one apply in detail."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from myshift.workflows.history.records import ApplyDetail, ApplyRecord


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def _when(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S") if dt is not None else "-"


def _secs(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}s" if value < 60 else f"{value / 60:.1f}m"


def _one_line(text: str | None, width: int = 60) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _counts(r: ApplyRecord) -> str:
    """OK/STMTS. A rehearsal runs its statements in the sandbox, not on the target, so
    its counts come from the statements its notes list (``-`` before it ran any)."""
    if r.kind != "rehearsal":
        return f"{r.statements_ok}/{r.statements_total}"
    listed = (r.notes or {}).get("statements")
    if not isinstance(listed, list) or not listed:
        return "-"
    ok = sum(1 for s in listed if isinstance(s, Mapping) and s.get("status") == "ok")
    return f"{ok}/{len(listed)}"


def format_history_table(records: Sequence[ApplyRecord]) -> str:
    """``myshift history``: one aligned line per apply, newest first, times in UTC."""
    if not records:
        return "No applies recorded."
    rows = []
    for r in records:
        note = f"undoes #{r.undoes_apply_id}" if r.undoes_apply_id is not None else ""
        if r.error:
            note = (note + "; " if note else "") + _one_line(r.error, 50)
        rows.append(
            [
                str(r.id),
                r.kind,
                r.target_schema,
                _when(r.started_at),
                _secs(r.duration),
                r.outcome,
                _counts(r),
                f"{r.operator_user}@{r.operator_host}",
                note,
            ]
        )
    headers = [
        "ID",
        "KIND",
        "SCHEMA",
        "STARTED (UTC)",
        "DURATION",
        "OUTCOME",
        "OK/STMTS",
        "OPERATOR",
        "NOTE",
    ]
    return _table(headers, rows)


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, Mapping | list | tuple)


def _compact(value: Any) -> str:
    return _scalar(value) if _is_scalar(value) else json.dumps(value, default=str)


def note_lines(notes: Mapping[str, Any], indent: str) -> list[str]:
    """An apply's notes (nested JSON) as indented ``key: value`` lines, not raw JSON.

    Lists of plain values are joined with commas; a list of records gives one
    ``- k v, k v`` line per record.
    """
    out: list[str] = []
    for key in sorted(notes):
        value = notes[key]
        label = str(key).replace("_", " ")
        if _is_scalar(value):
            out.append(f"{indent}{label}: {_scalar(value)}")
        elif isinstance(value, Mapping):
            if not value:
                out.append(f"{indent}{label}: -")
                continue
            out.append(f"{indent}{label}:")
            out.extend(note_lines(value, indent + "  "))
        elif all(_is_scalar(v) for v in value):
            out.append(f"{indent}{label}: {', '.join(_scalar(v) for v in value) or '-'}")
        else:
            out.append(f"{indent}{label}:")
            for item in value:
                if isinstance(item, Mapping):
                    pairs = ", ".join(
                        f"{str(k).replace('_', ' ')} {_compact(v)}" for k, v in item.items()
                    )
                    out.append(f"{indent}  - {pairs}")
                else:
                    out.append(f"{indent}  - {_compact(item)}")
    return out


def _watch_brief(w: Any) -> Any:
    """A watch (workflows.watch) in a line or two: its samples are for `myshift report`."""
    if not isinstance(w, Mapping):
        return w
    flags = w.get("flags") or []
    return {
        "verdict": w.get("verdict"),
        "samples": len(w.get("samples") or []),
        "interval": w.get("interval"),
        "flagged": ", ".join(str(f.get("figure")) for f in flags if isinstance(f, Mapping)) or "-",
    }


def _brief_watches(notes: Mapping[str, Any]) -> Mapping[str, Any]:
    if "watch" not in notes and "watches" not in notes:
        return notes
    shown = dict(notes)
    if "watch" in shown:
        shown["watch"] = _watch_brief(shown["watch"])
    if isinstance(shown.get("watches"), list):
        shown["watches"] = [_watch_brief(w) for w in shown["watches"]]
    return shown


def format_apply_detail(detail: ApplyDetail) -> str:
    """``myshift history ID``: the apply's header, then every statement with its outcome."""
    r = detail.record
    fields = [
        ("Apply", f"#{r.id} ({r.kind})"),
        ("Target", r.target),
        ("Outcome", r.outcome),
        ("Started", _when(r.started_at) + " UTC"),
        ("Finished", _when(r.finished_at) + (" UTC" if r.finished_at else "")),
        ("Duration", _secs(r.duration)),
        ("Operator", f"{r.operator_user}@{r.operator_host} (myshift {r.tool_version})"),
        ("Plan", r.plan_hash or "-"),
        ("From", r.from_fingerprint or "-"),
        ("To", r.to_fingerprint or "-"),
    ]
    if r.undoes_apply_id is not None:
        fields.append(("Undoes", f"#{r.undoes_apply_id}"))
    if r.error:
        fields.append(("Error", r.error))
    fields.append(("Snapshot", "recorded" if detail.snapshot_json else "none"))
    width = max(len(k) for k, _ in fields) + 1
    out = [f"{(k + ':').ljust(width)} {v}" for k, v in fields]
    if r.notes:
        out.append("Notes:")
        out.extend(note_lines(_brief_watches(r.notes), "  "))
    out.append("")
    if not detail.statements:
        out.append("No statements recorded.")
        return "\n".join(out)
    stopped = detail.stopped_at
    if stopped is not None and stopped.outcome == "running":
        out.append(
            f"Statement {stopped.seq} was running when the record stops "
            "(the process died or is still running)."
        )
        out.append("")
    rows = [
        [
            str(s.seq),
            s.outcome,
            s.risk or "-",
            _secs(s.duration),
            str(s.rows_affected) if s.rows_affected is not None else "-",
        ]
        for s in detail.statements
    ]
    headers = ["SEQ", "OUTCOME", "RISK", "DURATION", "ROWS"]
    table = _table(headers, rows).splitlines()
    out.append(table[0])
    for s, text in zip(detail.statements, table[1:], strict=True):
        out.append(text)
        out.extend("    " + ln for ln in s.sql.strip().splitlines())
        if s.error:
            out.append(f"    error: {s.error}")
    return "\n".join(out)
