"""``myshift watch`` and the watch around ``apply`` (``watching``), recorded in history.

``watch`` samples the target for ``--for`` seconds: a baseline first, then
every sample is judged against it.  ``watching`` wraps an apply: a baseline
before the first statement, sampling in a thread while the statements run,
then the after-window (live on a terminal).  Either way a regression is
printed with the rollback command ready to paste, and the result (phases,
baseline, flags, samples) goes into the apply's history notes, where
``myshift report`` draws it from.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from myshift.config.watchsettings import WatchSettings
from myshift.db.connect import DriverError, Endpoint, connect
from myshift.errors import MyshiftError, UsageError
from myshift.workflows.history.records import DEFAULT_SCHEMA
from myshift.workflows.watch.prom import MetricsServer
from myshift.workflows.watch.sampler import Sampler
from myshift.workflows.watch.view import LiveView, PlainView
from myshift.workflows.watch.watcher import Flag, Watcher

if TYPE_CHECKING:
    from myshift.workflows.notify import Event

Say = Callable[[str], None]


@dataclass(frozen=True)
class WatchOptions:
    """How one watch runs: ``[watch]`` and the flags (workflows.watch.options)."""

    settings: WatchSettings = field(default_factory=WatchSettings)
    duration: float = 600.0  # `watch --for`
    metrics_port: int | None = None
    tables: tuple[str, ...] = ()  # digests of these tables (default: the whole schema)
    replicas: tuple[tuple[str, Endpoint], ...] = ()  # (name, endpoint) of known replicas
    history_schema: str = DEFAULT_SCHEMA
    audit_log: str | None = None
    apply_id: int | None = None  # `watch --apply ID`: its rollback, and its history notes
    live: bool = False  # a live table (a terminal) instead of plain lines
    # Called once per regression flagged (``alerts_to``: a watch.alert notification).
    on_alert: Callable[[Flag, AlertContext], None] | None = None
    # What an alert names: the plan applied (its hash) and its file (the apply sets them).
    plan_hash: str = ""
    link: str = ""


@dataclass(frozen=True)
class AlertContext:
    """What the watch knows of the apply it watches when it flags: the team's message
    names the apply, its plan and where to read more."""

    apply_id: int | None = None
    plan_hash: str = ""
    link: str = ""
    target: str = ""


@dataclass(frozen=True)
class WatchOutcome:
    text: str
    flagged: bool
    result: dict[str, Any]


def alerts_to(
    notify: Callable[[Event], None] | None,
) -> Callable[[Flag, AlertContext], None] | None:
    """A watch's ``on_alert`` that tells the team (a ``watch.alert`` event) of each flag."""
    if notify is None:
        return None
    from myshift.workflows.notify.events import report_command, watch_alert

    def on_alert(f: Flag, ctx: AlertContext) -> None:
        now = "?" if f.value is None else f"{f.value:g}"
        was = "?" if f.baseline is None else f"{f.baseline:g}"
        figures: tuple[tuple[str, str], ...] = ((f.figure, f"{was} -> {now}"),)
        if ctx.apply_id is not None:
            figures += (("html report", report_command(ctx.apply_id, ctx.target)),)
        notify(
            watch_alert(
                f.text(),
                plan_hash=ctx.plan_hash,
                link=ctx.link,
                apply_id=ctx.apply_id,
                rollback=f.rollback,
                figures=figures,
            )
        )

    return on_alert


def rollback_command(target: Endpoint, apply_id: int | None) -> str:
    ref = f"{apply_id} " if apply_id is not None else ""
    return f"myshift rollback {ref}--to {shlex.quote(str(target))}"


def _latest_apply(target: Endpoint, history_schema: str) -> int | None:
    """The latest apply of the target's schema in its history (best effort)."""
    from myshift.workflows.history import History

    try:
        with History.open(target, schema=history_schema, audit_path=None) as h:
            rec = h.latest_apply(target.schema, kinds=("apply",))
    except (MyshiftError, DriverError):
        return None
    return rec.id if rec is not None else None


def _plan_hash_of(target: Endpoint, history_schema: str, apply_id: int) -> str:
    """The plan hash history recorded for apply ``apply_id`` (best effort: "" if unknown)."""
    from myshift.workflows.history import History

    try:
        with History.open(target, schema=history_schema, audit_path=None) as h:
            return h.get_apply(apply_id).record.plan_hash or ""
    except (MyshiftError, DriverError):
        return ""


def _context(
    target: Endpoint, opts: WatchOptions, apply_id: Callable[[], int | None]
) -> Callable[[], AlertContext]:
    """The alert's context: the apply (once known), its plan hash, the plan file or the
    command that shows the apply's record."""

    def context() -> AlertContext:
        aid = apply_id()
        plan_hash = opts.plan_hash
        if not plan_hash and aid is not None:
            plan_hash = _plan_hash_of(target, opts.history_schema, aid)
        link = opts.link or (f"myshift history {aid} --to {target}" if aid is not None else "")
        return AlertContext(aid, plan_hash, link, str(target))

    return context


def _hint(
    target: Endpoint, history_schema: str, known: Callable[[], int | None]
) -> Callable[[], str]:
    found: list[int | None] = []

    def hint() -> str:
        aid = known()
        if aid is None:
            if not found:
                found.append(_latest_apply(target, history_schema))
            aid = found[0]
        return rollback_command(target, aid)

    return hint


def _open_watcher(target: Endpoint, opts: WatchOptions, known: Callable[[], int | None]) -> Watcher:
    conn = connect(target, schema="", connect_timeout=5, read_timeout=30)
    try:
        sampler = Sampler(conn, target.schema, opts.tables, dict(opts.replicas))
        w = Watcher(sampler, opts.settings, rollback_hint=_hint(target, opts.history_schema, known))
        w.start()
    except BaseException:
        conn.close()
        raise
    return w


def _close(w: Watcher) -> None:
    w.sampler.close()
    w.conn.close()


def _alerting(
    w: Watcher,
    opts: WatchOptions,
    show: Callable[[str, Any, list[Flag]], None],
    context: Callable[[], AlertContext],
) -> None:
    def on_sample(phase: str, sample: Any, flags: list[Flag]) -> None:
        show(phase, sample, flags)
        for f in flags:
            if opts.on_alert is not None:
                with contextlib.suppress(Exception):  # a notification never stops the watch
                    opts.on_alert(f, context())

    w.on_sample = on_sample


def summary(w: Watcher, target: Endpoint) -> str:
    n = len(w.samples)
    secs = sum(s.seconds for _, s in w.samples)
    head = f"Watch of {target}: {n} sample(s) over {secs:.0f}s"
    if w.cut_short:
        head += " (cut short)"
    unread = w.unjudged()
    note = (
        f"Not judged against a baseline (it could not read them; only a _max would "
        f"flag them): {', '.join(unread)}.\n"
        if unread
        else ""
    )
    if not w.flags:
        return head + ": no regression against the baseline.\n" + note
    lines = [head + f": {len(w.flags)} regression(s) flagged:"]
    lines += [f"  - {f.text()}" for f in w.flags]
    lines.append(f"To roll back: {w.flags[-1].rollback or w.rollback_hint()}")
    return "\n".join(lines) + "\n" + note


def record(target: Endpoint, opts: WatchOptions, w: Watcher, apply_id: int, key: str) -> str:
    """Add the watch to the apply's history notes (``watch``, or appended to ``watches``)."""
    from myshift.workflows.history import History

    result = w.result()
    try:
        with History.open(
            target,
            schema=opts.history_schema,
            audit_path=Path(opts.audit_log) if opts.audit_log else None,
        ) as h:
            if key == "watch":
                h.add_notes(apply_id, {"watch": result})
            else:
                done = list(h.get_apply(apply_id).record.notes.get("watches", []))
                h.add_notes(apply_id, {"watches": [*done, result][-5:]})
    except (MyshiftError, DriverError) as exc:
        return f"The watch could not be recorded in history: {str(exc)[:300]}"
    return f"Watch recorded in history with apply {apply_id}."


def watch(
    target: Endpoint, opts: WatchOptions, *, write: Say, stream: IO[str] | None = None
) -> WatchOutcome:
    """``myshift watch --to T --for 10m``: baseline, then judge every sample until the end."""
    st = opts.settings
    baseline = max(st.baseline, st.interval)
    if opts.duration < baseline + st.interval:
        raise UsageError(
            f"--for {opts.duration:g}s leaves no time after the {baseline:g}s baseline.",
            f"Watch for at least {baseline + st.interval:g}s (baseline plus one interval).",
        )
    w = _open_watcher(target, opts, lambda: opts.apply_id)
    try:
        with contextlib.ExitStack() as stack:
            if opts.metrics_port is not None:
                server = stack.enter_context(MetricsServer(opts.metrics_port, w, str(target)))
                write(f"Metrics on http://127.0.0.1:{server.port}/metrics")
            view: Any = (
                LiveView(w, stream or sys.stdout, f"watch {target}")
                if opts.live
                else PlainView(write)
            )
            stack.enter_context(view)
            _alerting(w, opts, view, _context(target, opts, lambda: opts.apply_id))
            if not opts.live:
                write(
                    f"Watching {target} every {st.interval:g}s for {opts.duration:g}s "
                    f"(baseline {baseline:g}s); performance_schema digests: "
                    f"{'on' if w.sampler.has_digests else 'off'}."
                )
            try:
                w.run_for(baseline)
                w.set_phase("watching")
                w.run_for(opts.duration - baseline)
            except KeyboardInterrupt:
                w.cut_short = True
        w.set_phase("end")
        text = summary(w, target)
        if opts.apply_id is not None:
            text += record(target, opts, w, opts.apply_id, "watches") + "\n"
        return WatchOutcome(text, bool(w.flags), w.result())
    finally:
        _close(w)


class ApplyWatch:
    """The watch around one apply, as ``watching`` yields it (inactive: does nothing)."""

    def __init__(self, watcher: Watcher | None) -> None:
        self.watcher = watcher
        self.apply_id: int | None = None
        self.summary = ""

    def applied(self, apply_id: int | None) -> None:
        self.apply_id = apply_id


@contextlib.contextmanager
def watching(
    target: Endpoint,
    opts: WatchOptions | None,
    *,
    say: Say,
    after: float | None = None,
    stream: IO[str] | None = None,
) -> Iterator[ApplyWatch]:
    """Watch around an apply: baseline, during (a thread), after (``after`` seconds)."""
    if opts is None:
        yield ApplyWatch(None)
        return
    handle = ApplyWatch(None)
    try:
        w = _open_watcher(target, opts, lambda: handle.apply_id)
    except (MyshiftError, DriverError) as exc:
        say(f"Watch: cannot sample {target} ({str(exc)[:200]}); applying without the watch.")
        yield handle
        return
    handle.watcher = w
    st = opts.settings
    baseline = max(st.baseline, st.interval)
    stop = threading.Event()
    started = datetime.now(UTC).replace(tzinfo=None)
    try:
        with contextlib.ExitStack() as stack:
            if opts.metrics_port is not None:
                server = stack.enter_context(MetricsServer(opts.metrics_port, w, str(target)))
                say(f"Metrics on http://127.0.0.1:{server.port}/metrics")
            say(f"Watch: a {baseline:g}s baseline of {target} before the first statement...")
            context = _context(target, opts, lambda: handle.apply_id)
            _alerting(w, opts, PlainView(say, every=False), context)
            w.run_for(baseline)
            w.set_phase("during")
            thread = threading.Thread(target=w.run_for, args=(float("inf"), stop), daemon=True)
            thread.start()
            ok = False
            try:
                yield handle
                ok = True
            finally:
                stop.set()
                thread.join(timeout=st.interval + 35)
                w.step()  # the end of the run: a (short) last interval of its own
                if ok:
                    seconds = after if after is not None else st.after
                    _after(w, target, opts, say, seconds, stream, context=context)
    finally:
        w.set_phase("end")
        aid = handle.apply_id or _apply_since(target, opts.history_schema, started)
        handle.summary = summary(w, target)
        say(handle.summary.rstrip("\n"))
        if aid is not None:
            say(record(target, opts, w, aid, "watch"))
        _close(w)


def _after(
    w: Watcher,
    target: Endpoint,
    opts: WatchOptions,
    say: Say,
    seconds: float,
    stream: IO[str] | None,
    *,
    context: Callable[[], AlertContext],
) -> None:
    if seconds <= 0:
        return
    w.set_phase("after")
    view: Any = (
        LiveView(w, stream or sys.stderr, f"after the apply · {target}")
        if opts.live
        else PlainView(say)
    )
    if not opts.live:
        say(f"Watch: {seconds:g}s after the apply (Ctrl-C ends it early)...")
    _alerting(w, opts, view, context)
    try:
        with view:
            w.run_for(seconds)
    except KeyboardInterrupt:
        w.cut_short = True


def _apply_since(target: Endpoint, history_schema: str, since: datetime) -> int | None:
    """The apply begun since the watch started (the one that failed before telling its id)."""
    from myshift.workflows.history import History

    try:
        with History.open(target, schema=history_schema, audit_path=None) as h:
            rec = h.latest_apply(target.schema, kinds=("apply",))
    except (MyshiftError, DriverError):
        return None
    return rec.id if rec is not None and rec.started_at >= since else None


__all__ = [
    "AlertContext",
    "ApplyWatch",
    "WatchOptions",
    "WatchOutcome",
    "rollback_command",
    "watch",
    "watching",
]
