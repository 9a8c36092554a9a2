"""What a notification says: the event a workflow reports, stamped with where and who.

A workflow (or the watch) builds an ``Event``: what happened (``kind``,
``outcome``, a one-line ``summary``), the plan hash, a link or path to the
report or plan file, and optional ``details`` (label, value) lines.  The
``Notifier`` stamps it with the environment, the server (redacted: user,
host, port and schema, never a password), the operator (OS user@host), the
time and a sequence number, giving a ``Message``; the channels send its text
(Slack, email) or its JSON (webhook).  Every string that leaves is passed
through ``scrub`` with the command's known secrets first.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from myshift import __version__

# Outcomes: "created", "passed", "failed", "started", "ok", "interrupted", "alert".
_TITLES = {
    "plan.created": "plan created",
    "rehearsal.passed": "rehearsal passed",
    "rehearsal.failed": "rehearsal failed",
    "apply.started": "apply started",
    "apply.finished": "apply finished",
    "apply.failed": "apply failed",
    "rollback.started": "rollback started",
    "rollback.finished": "rollback finished",
    "rollback.failed": "rollback failed",
    "watch.alert": "watch alert",
}
REDACTED = "***"


@dataclass(frozen=True)
class Event:
    """One thing to tell the team, as a workflow knows it.

    ``kind`` is one of ``config.notify.EVENT_KINDS``; ``outcome`` a word
    ("ok", "failed", "interrupted", "passed", "alert"...); ``summary`` one
    line saying what happened; ``link`` a path or URL to the report or plan
    file; ``details`` extra (label, value) lines (the watch's figures, the
    rollback command to paste).
    """

    kind: str
    outcome: str
    summary: str = ""
    plan_hash: str = ""
    link: str = ""
    apply_id: int | None = None
    details: tuple[tuple[str, str], ...] = ()

    @property
    def title(self) -> str:
        title = _TITLES.get(self.kind, self.kind)
        if self.outcome == "interrupted" and title.endswith(" failed"):
            return title.replace(" failed", " interrupted")
        return title


@dataclass(frozen=True)
class Message:
    """An event as sent: stamped by the Notifier, scrubbed of the command's secrets."""

    event: Event
    environment: str
    server: str
    who: str
    seq: int
    command_id: str
    at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat("T", "seconds"))

    @property
    def id(self) -> str:
        """Unique per event: a receiver can drop a duplicate delivery by it."""
        return f"{self.command_id}-{self.seq}"

    def subject(self) -> str:
        e = self.event
        return f"[myshift] {self.environment}: {e.title} ({e.outcome})"

    def lines(self) -> list[str]:
        e = self.event
        out = [f"myshift: {e.title} on {self.environment} ({e.outcome})"]
        if e.summary:
            out.append(e.summary)
        out.append(f"where: {self.environment}, {self.server}")
        out.append(f"who: {self.who}")
        if e.plan_hash:
            out.append(f"plan: {e.plan_hash}")
        out.append(f"outcome: {e.outcome}")
        if e.apply_id is not None:
            out.append(f"history id: {e.apply_id}")
        if e.link:
            out.append(f"report: {e.link}")
        out += [f"{label}: {value}" for label, value in e.details]
        out.append(f"at: {self.at} (event {self.id})")
        return out

    def text(self) -> str:
        return "\n".join(self.lines())

    def payload(self) -> dict[str, object]:
        """The event as the generic webhook receives it."""
        e = asdict(self.event)
        e["details"] = dict(self.event.details)
        return {
            "id": self.id,
            "seq": self.seq,
            **e,
            "title": self.event.title,
            "environment": self.environment,
            "server": self.server,
            "who": self.who,
            "at": self.at,
            "tool": f"myshift {__version__}",
            "text": self.text(),
        }


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every known secret (longest first) replaced by ***."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def one_line(text: str, limit: int = 500) -> str:
    """An error message as a summary line: whitespace folded, bounded."""
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def secrets_of(values: Sequence[str | None]) -> tuple[str, ...]:
    return tuple(v for v in values if v)


def new_command_id() -> str:
    return uuid.uuid4().hex[:12]


__all__ = ["REDACTED", "Event", "Message", "new_command_id", "one_line", "scrub", "secrets_of"]
