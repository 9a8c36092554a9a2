"""``myshift report``: one self-contained HTML page per apply, for people to look at.

What the page holds, top to bottom: the apply (who, when, outcome), the plan
with its risks (from the plan file when given, else the statements history
recorded), the rehearsal history recorded for it, the statement timeline,
the watch charts (before / during / after, inline SVG from workflows.svgchart)
and the rollback runbook (workflows.runbook.format_runbook).  No script, no
external resource: the file can be mailed or attached to a ticket as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from myshift.db.connect import Endpoint
from myshift.errors import UsageError
from myshift.workflows.history import ApplyDetail, ApplyRecord, History
from myshift.workflows.history.records import DEFAULT_SCHEMA
from myshift.workflows.planfile import PlanFile
from myshift.workflows.report import format_sql
from myshift.workflows.svgchart import Bar, Series, line_chart, timeline
from myshift.workflows.watch.watcher import fmt


@dataclass(frozen=True)
class ReportOptions:
    apply_id: int | None = None  # the apply (else the latest apply of the plan file)
    plan_path: str | None = None
    output: str = "report.html"
    history_schema: str = DEFAULT_SCHEMA
    lang: str = "en"  # the runbook's language


@dataclass(frozen=True)
class ReportData:
    target: str
    detail: ApplyDetail
    pf: PlanFile | None = None
    plan_path: str | None = None
    rehearsal: ApplyRecord | None = None
    lang: str = "en"


def report(target: Endpoint, opts: ReportOptions) -> str:
    """Write the page; return the line saying where."""
    pf = PlanFile.read(opts.plan_path) if opts.plan_path else None
    with History.open(target, schema=opts.history_schema, audit_path=None) as h:
        apply_id = opts.apply_id if opts.apply_id is not None else _apply_of(h, target, pf)
        detail = h.get_apply(apply_id)
        if pf is not None and detail.record.plan_hash not in (None, pf.plan_hash):
            raise UsageError(
                f"The plan file {opts.plan_path} is not the plan apply {apply_id} ran "
                f"(its hash is {detail.record.plan_hash}).",
                "Give that apply's plan file, or leave --plan out.",
            )
        rehearsal = _rehearsal(h, detail)
    page = render_page(ReportData(str(target), detail, pf, opts.plan_path, rehearsal, opts.lang))
    try:
        Path(opts.output).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"Cannot write {opts.output}: {exc.strerror or exc}.", "Choose another -o path."
        ) from None
    return f"Report of apply {apply_id} written to {opts.output}."


def _apply_of(h: History, target: Endpoint, pf: PlanFile | None) -> int:
    assert pf is not None  # the CLI asks for --apply or --plan
    for rec in h.list_applies(target.schema, 500, kinds=("apply", "rollback")):
        if rec.plan_hash == pf.plan_hash:
            return rec.id
    raise UsageError(
        f"The history of {target} records no apply of this plan ({pf.plan_hash[:19]}...).",
        "Give the apply's id with --apply (see `myshift history`).",
    )


def _rehearsal(h: History, detail: ApplyDetail) -> ApplyRecord | None:
    """The rehearsal the apply's gate linked; else (a target that is not protected has
    no gate) the latest passed rehearsal of the same plan from the same schema that
    ended before the apply began, as history records it."""
    rec = detail.record
    noted = rec.notes.get("rehearsal")
    if isinstance(noted, dict) and isinstance(noted.get("history_id"), int):
        try:
            return h.get_apply(int(noted["history_id"])).record
        except UsageError:
            return None
    if not rec.plan_hash or not rec.from_fingerprint or rec.kind != "apply":
        return None
    for r in h.passed_rehearsals(rec.target_schema, rec.plan_hash, rec.from_fingerprint):
        if r.finished_at is not None and r.finished_at <= rec.started_at:
            return r
    return None


# ----------------------------------------------------------------------------- page

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
 color:#1d2329;background:#f6f7f9}
main{max-width:1120px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid
 #d8dde3;padding-bottom:4px}
section{background:#fff;border:1px solid #e1e5ea;border-radius:8px;padding:14px 18px;
 margin-bottom:16px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #eceff3;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f2f4f7}code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}
pre{background:#f7f8fa;border:1px solid #e6e9ee;border-radius:6px;padding:10px;
 overflow-x:auto;white-space:pre-wrap}
.pill{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;color:#fff}
.safe,.ok{background:#2e7d32}.data-dependent,.running{background:#b26a00}
.destructive,.failed,.interrupted,.regression{background:#c62828}
.meta td:first-child{color:#5b6570;width:170px}
.charts{display:grid;grid-template-columns:repeat(2,1fr);gap:10px}
.charts svg{background:#fff;border:1px solid #eceff3;border-radius:6px;max-width:100%}
svg text{font:11px system-ui,sans-serif;fill:#3c4650}svg .title{font-weight:600;fill:#1d2329}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px;
 border:1px solid #ccd}
.flag{color:#c62828;font-weight:600}.muted{color:#6b7580}
"""


def _pill(text: str) -> str:
    return f'<span class="pill {escape(text)}">{escape(text)}</span>'


def _dash(value: object) -> str:
    return "—" if value is None else escape(str(value))


def _when(dt: datetime | None) -> str:
    return f"{dt:%Y-%m-%d %H:%M:%S} UTC" if dt else "—"


def render_page(d: ReportData) -> str:
    rec = d.detail.record
    title = f"myshift {rec.kind} #{rec.id} · {rec.target_schema} · {d.target}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{escape(title)} {_pill(rec.outcome)}</h1>",
        f'<p class="muted">Written by myshift on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</p>',
        _summary(d),
        _plan(d),
        _rehearsal_part(d),
        _timeline_part(d),
        _watch_part(d),
        _runbook_part(d),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _summary(d: ReportData) -> str:
    rec = d.detail.record
    rows = [
        ("Target", rec.target),
        ("Operator", f"{rec.operator_user}@{rec.operator_host}"),
        ("Started", _when(rec.started_at)),
        ("Finished", _when(rec.finished_at)),
        ("Duration", f"{rec.duration:.2f} s" if rec.duration is not None else "—"),
        ("Statements", f"{rec.statements_ok} ok of {rec.statements_total}"),
        ("Plan hash", rec.plan_hash or "—"),
        ("myshift", rec.tool_version),
    ]
    if rec.error:
        rows.append(("Error", rec.error))
    body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return f'<section><h2>The apply</h2><table class="meta">{body}</table></section>'


def _plan(d: ReportData) -> str:
    out = ["<section><h2>The plan and its risks</h2>"]
    if d.pf is not None:
        pf = d.pf
        out.append(f'<p class="muted">From the plan file {escape(d.plan_path or "")}.</p>')
        out += [f'<p class="flag">warning: {escape(w)}</p>' for w in pf.warnings]
        out.append(
            "<table><tr><th>#</th><th>object</th><th>change</th><th>risk</th>"
            "<th>algorithm / lock</th><th>path</th></tr>"
        )
        for i, st in enumerate(pf.statements, start=1):
            risk = _pill(st.risk.value) + (
                ' <span class="muted">held back</span>' if st.skipped else ""
            )
            why = f'<br><span class="muted">{escape(st.reason)}</span>' if st.reason else ""
            out.append(
                f"<tr><td>{i}</td><td><code>{escape(st.subject)}</code></td>"
                f"<td>{escape(st.description)}</td><td>{risk}{why}</td>"
                f"<td>{escape(st.algorithm.value)} / {escape(st.lock.value)}</td>"
                f"<td>{escape(st.path)}</td></tr>"
            )
        out.append("</table>")
        out.append(f"<details><summary>SQL</summary><pre>{escape(format_sql(pf))}</pre></details>")
    else:
        out.append(
            '<p class="muted">The statements as history recorded them (give --plan for '
            "the plan's descriptions).</p>"
        )
        out.append("<table><tr><th>#</th><th>risk</th><th>statement</th></tr>")
        for rs in d.detail.statements:
            out.append(
                f"<tr><td>{rs.seq}</td><td>{_pill(rs.risk or 'unknown')}</td>"
                f"<td><pre>{escape(rs.sql)}</pre></td></tr>"
            )
        out.append("</table>")
    return "".join(out) + "</section>"


def _rehearsal_part(d: ReportData) -> str:
    notes = d.detail.record.notes
    out = ["<section><h2>The rehearsal</h2>"]
    r = d.rehearsal
    if r is not None:
        result = str(r.notes.get("result") or r.outcome)
        out.append(
            f"<p>Rehearsal {escape(str(r.notes.get('rehearsal_id') or r.id))} "
            f"{_pill(r.outcome)}: {escape(result)} on sandbox "
            f"<code>{escape(str(r.notes.get('sandbox')))}</code>, data "
            f"<code>{escape(str(r.notes.get('data')))}</code>, by "
            f"{escape(r.operator_user)}@{escape(r.operator_host)}, {_when(r.finished_at)}.</p>"
        )
        steps = r.notes.get("statements") or []
        if steps:
            out.append(
                "<table><tr><th>#</th><th>object</th><th>status</th><th>seconds</th>"
                "<th>rows</th></tr>"
            )
            for s in steps:
                secs = s.get("seconds")
                out.append(
                    f"<tr><td>{escape(str(s.get('seq')))}</td><td><code>"
                    f"{escape(str(s.get('subject')))}</code></td><td>{escape(str(s.get('status')))}"
                    f"</td><td>{f'{secs:.3f}' if isinstance(secs, int | float) else '—'}</td>"
                    f"<td>{_dash(s.get('rows'))}</td></tr>"
                )
            out.append("</table>")
        if not isinstance(notes.get("rehearsal"), dict):
            out.append(
                '<p class="muted">Found in history by the plan\'s hash; the apply did not '
                "require it (the target is not protected).</p>"
            )
    elif notes.get("skip_rehearsal"):
        out.append('<p class="flag">Applied without a rehearsal (--skip-rehearsal, recorded).</p>')
    elif isinstance(notes.get("rehearsal"), str):
        out.append(f"<p>{escape(str(notes['rehearsal']))}.</p>")
    else:
        out.append("<p>No rehearsal is recorded for this apply.</p>")
    if r is None and d.pf is not None and d.pf.rehearsals:
        out.append(
            f'<p class="muted">The plan file lists {len(d.pf.rehearsals)} rehearsal(s); '
            "history, which the apply gate reads, does not link one.</p>"
        )
    return "".join(out) + "</section>"


def _timeline_part(d: ReportData) -> str:
    rec = d.detail.record
    stmts = d.detail.statements
    out = ["<section><h2>Statement timeline</h2>"]
    if not stmts:
        return out[0] + "<p>No statement was recorded.</p></section>"
    bars = []
    for st in stmts:
        start = (st.started_at - rec.started_at).total_seconds()
        end = (
            (st.finished_at - rec.started_at).total_seconds()
            if st.finished_at
            else start + (st.duration or 0.0)
        )
        label = f"{st.seq}. " + " ".join(st.sql.split())[:60]
        bars.append(Bar(label, max(start, 0.0), max(end, start), st.outcome))
    out.append(timeline(bars))
    out.append(
        "<table><tr><th>#</th><th>started</th><th>seconds</th><th>outcome</th>"
        "<th>rows</th><th>error</th></tr>"
    )
    for st in stmts:
        out.append(
            f"<tr><td>{st.seq}</td><td>{_when(st.started_at)}</td>"
            f"<td>{f'{st.duration:.3f}' if st.duration is not None else '—'}</td>"
            f"<td>{_pill(st.outcome)}</td><td>{_dash(st.rows_affected)}"
            f"</td><td>{escape(st.error or '')}</td></tr>"
        )
    return "".join(out) + "</table></section>"


def watch_of(notes: Any) -> dict[str, Any] | None:
    """The apply's own watch, else the latest `watch --apply` recorded with it."""
    w = notes.get("watch")
    if isinstance(w, dict):
        return w
    later = notes.get("watches")
    return later[-1] if isinstance(later, list) and later and isinstance(later[-1], dict) else None


def _watch_part(d: ReportData) -> str:
    w = watch_of(d.detail.record.notes)
    out = ["<section><h2>The watch: before, during and after</h2>"]
    if w is None:
        return out[0] + "<p>This apply was not watched (<code>apply --watch</code>).</p></section>"
    flags = w.get("flags") or []
    verdict = str(w.get("verdict", "ok"))
    out.append(
        f"<p>{_pill(verdict)} {len(w.get('samples') or [])} samples every "
        f"{float(w.get('interval') or 0):g} s; performance_schema digests "
        f"{'on' if w.get('performance_schema') else 'off'}; tables judged: "
        f"{escape(', '.join(w.get('tables') or []) or 'the whole schema')}"
        + (" (cut short)" if w.get("cut_short") else "")
        + ".</p>"
    )
    labels = dict(zip(w.get("figures") or [], w.get("labels") or [], strict=False))
    for f in flags:
        at = datetime.fromtimestamp(float(f.get("at", 0)), UTC)
        name = str(f.get("figure"))
        out.append(
            f'<p class="flag">Regression at {at:%H:%M:%S} UTC ({escape(str(f.get("phase")))}): '
            f"{escape(labels.get(name, name))} {escape(fmt(f.get('value')))} against a baseline "
            f"of {escape(fmt(f.get('baseline')))} ({escape(str(f.get('why')))})"
            + (f" — {escape(str(f.get('detail')))}" if f.get("detail") else "")
            + "</p>"
        )
    phases = {
        k: (float(v[0]), float(v[1]))
        for k, v in (w.get("phases") or {}).items()
        if k != "end" and isinstance(v, list) and len(v) == 2
    }
    out.append(
        '<p class="legend">'
        + "".join(
            f'<span><i style="background:{c}"></i>{escape(p)}</span>'
            for p, c in (("baseline", "#e8eef5"), ("during", "#fdf0d5"), ("after", "#e3f2e6"))
        )
        + '<span><i style="background:#c62828"></i>regression</span>'
        "<span>- - - baseline median</span></p>"
    )
    out.append('<div class="charts">')
    out += _charts(w, phases)
    out.append("</div>")
    return "".join(out) + "</section>"


def _charts(w: dict[str, Any], phases: dict[str, tuple[float, float]]) -> list[str]:
    names = list(w.get("figures") or [])
    labels = list(w.get("labels") or names)
    units = list(w.get("units") or [""] * len(names))
    samples = w.get("samples") or []
    base = w.get("baseline") or {}
    flags = w.get("flags") or []
    charts = []
    for i, name in enumerate(names):
        points = [(float(s["t"]), s["v"][i]) for s in samples if i < len(s.get("v", []))]
        if all(v is None for _, v in points):
            continue  # a figure the server does not have (no replica, no digests)
        series = Series(
            name,
            labels[i] if i < len(labels) else name,
            units[i] if i < len(units) else "",
            points,
            base.get(name),
            [float(f["at"]) for f in flags if f.get("figure") == name],
        )
        charts.append(line_chart(series, phases))
    return charts


def _runbook_part(d: ReportData) -> str:
    rec = d.detail.record
    cmd = f"myshift rollback {rec.id} --to {d.target}"
    out = [
        "<section><h2>Rollback runbook</h2>",
        f"<p>To undo this apply: <code>{escape(cmd)}</code>"
        " (add <code>--plan-only</code> to review the reverse plan first).</p>",
    ]
    if d.pf is not None:
        from myshift.workflows.runbook import format_runbook

        text = format_runbook(d.pf, d.target, plan_path=d.plan_path, lang=d.lang)
        out.append(f'<pre class="runbook">{escape(text)}</pre>')
    else:
        out.append('<p class="muted">Give --plan for the full runbook of the plan.</p>')
    return "".join(out) + "</section>"


__all__ = ["ReportData", "ReportOptions", "render_page", "report", "watch_of"]
