"""Tell the team: plans made, rehearsals, applies, rollbacks and watch alerts.

A workflow calls ``notify(event)`` when its options carry one (``notify``:
a ``Notifier``; None when the environment names no channel).  The
``Notifier`` stamps the event (environment, redacted server, operator, time,
sequence number: ``message.Message``), scrubs the command's secrets out of it
and hands it to one sender thread per channel, so a slow or dead channel never
holds the apply up and never delays another channel.  Each channel gets the
command's events in the order they happened, once each (``send.deliver``: one
retry, only when the first try cannot have arrived).  A delivery that fails
prints one warning line on stderr naming the channel and the fix; nothing
raises.  ``close()`` waits for what is queued (the CLI calls it when the
command ends, on every path, an interrupted apply included, so its "apply
interrupted" is sent before the process exits).

The API the watch uses: ``notify(watch_alert(summary, plan_hash=...,
link=..., apply_id=..., rollback="myshift rollback 12 --to prod",
figures=(("errors/s", "0.1 -> 12"),)))`` (``events.watch_alert`` builds the
``Event(kind="watch.alert", outcome="alert", ...)``), with the ``notify`` its
command's options carry (None: nothing configured, send nothing).
"""

from __future__ import annotations

import collections
import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from myshift.config.settings import EnvConfig, Settings
from myshift.db.connect import Endpoint
from myshift.workflows.notify.channel import Channel, open_channel
from myshift.workflows.notify.message import Event, Message, new_command_id, scrub

Notify = Callable[[Event], None]
Say = Callable[[str], None]


class _Sender:
    """One channel's queue and its sender thread (started while there is work)."""

    def __init__(self, channel: Channel, say: Say) -> None:
        self.channel = channel
        self.say = say
        self._queue: collections.deque[Message] = collections.deque()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def put(self, msg: Message) -> None:
        with self._lock:
            self._queue.append(msg)
            if self._thread is None:
                # A daemon: close() (run on every exit of the CLI) waits for it,
                # bounded, so a channel that hangs cannot keep the process alive.
                self._thread = threading.Thread(
                    target=self._drain,
                    name=f"myshift-notify-{self.channel.config.name}",
                    daemon=True,
                )
                self._thread.start()

    def _drain(self) -> None:
        # smtplib, urllib and ssl load here, in the sender thread: a command that
        # sends nothing never pays for them.
        from myshift.workflows.notify.send import deliver

        while True:
            with self._lock:
                if not self._queue:
                    self._thread = None
                    return
                msg = self._queue.popleft()
            try:
                warning = deliver(self.channel, msg)
            except Exception as exc:  # a bug here must not cost the other events
                warning = f"Warning: notification to {self.channel.config.name!r} failed: {exc}."
            if warning:
                self.say(warning)

    def wait(self, deadline: float) -> bool:
        """Wait until the queue is sent (or ``deadline``); True when it was."""
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            thread.join(left)


class Notifier:
    """``notify(event)`` for one command in one environment: stamps, scrubs, queues.

    ``environment`` and ``server`` say where (``server`` already redacted:
    no password); ``secrets`` are scrubbed out of every message (the target's
    password, the channels' own secrets are added here).
    """

    def __init__(
        self,
        channels: Sequence[Channel],
        *,
        environment: str,
        server: str,
        who: str,
        secrets: Sequence[str] = (),
        say: Say = lambda s: None,
    ) -> None:
        self.environment = environment
        self.server = server
        self.who = who
        self.say = say
        self.command_id = new_command_id()
        self._seq = itertools.count(1)
        self._secrets = tuple(secrets) + tuple(
            s for ch in channels for s in (ch.url, ch.token, ch.password) if s
        )
        secret_values = self._secrets

        def warn(text: str) -> None:  # a receiver's answer could echo a secret back
            say(scrub(text, secret_values))

        self._senders = []
        for ch in channels:
            if ch.unusable:
                warn(ch.unusable)
            else:
                self._senders.append(_Sender(ch, warn))
        self.sent: list[Message] = []  # what was queued, in order (for tests and reports)

    def __bool__(self) -> bool:
        return bool(self._senders)

    def __call__(self, event: Event) -> None:
        """Queue ``event`` for every channel that wants it; returns at once and never
        raises (a thread that cannot start, a bug here: a warning, the apply goes on)."""
        try:
            msg = self._message(event)
            self.sent.append(msg)
            for sender in self._senders:
                if sender.channel.config.wants(event.kind):
                    sender.put(msg)
        except Exception as exc:
            self.say(f"Warning: notification {event.kind} not sent: {exc}.")

    def _message(self, event: Event) -> Message:
        s = self._secrets

        def clean(text: str) -> str:
            return scrub(text, s)

        safe = Event(
            kind=event.kind,
            outcome=clean(event.outcome),
            summary=clean(event.summary),
            plan_hash=clean(event.plan_hash),
            link=clean(event.link),
            apply_id=event.apply_id,
            details=tuple((clean(k), clean(v)) for k, v in event.details),
        )
        return Message(
            event=safe,
            environment=clean(self.environment),
            server=clean(self.server),
            who=clean(self.who),
            seq=next(self._seq),
            command_id=self.command_id,
        )

    def close(self, timeout: float | None = None) -> None:
        """Wait for the queued events to be sent (at most ``timeout`` seconds; default:
        as long as every queued event's two tries can take)."""
        if timeout is None:
            longest = max((s.channel.config.timeout for s in self._senders), default=0.0)
            timeout = 2 * (2 * longest + 1) * max(len(self.sent), 1) + 1
        deadline = time.monotonic() + timeout
        late = [s.channel.config.name for s in self._senders if not s.wait(deadline)]
        if late:
            self.say(
                f"Warning: notifications to {', '.join(late)} are still being sent after "
                f"{timeout:.0f} s; the command ends without waiting for them."
            )


def server_label(target: Endpoint, env: EnvConfig | None) -> str:
    """Where, for a message: ``mysql://user@host:port/schema`` (no password); the
    server's own address when this machine reaches it through an SSH tunnel."""
    if env is not None and env.ssh_tunnel and env.host:
        target = replace(target, host=env.host, port=env.port or 3306, socket=None)
    return target.redacted()


def notifier_for(
    settings: Settings,
    target: Endpoint,
    *,
    say: Say = lambda s: None,
    environ: Mapping[str, str] | None = None,
) -> Notifier | None:
    """The ``notify`` of a command on ``target``: its environment's channels, or
    None (a URL target, or an environment that names none)."""
    from myshift.workflows.history import operator

    env = settings.environments.get(target.env_name or "")
    if env is None or not env.notify:
        return None
    channels = [open_channel(settings.notify[name], environ) for name in env.notify]
    return Notifier(
        channels,
        environment=env.name,
        server=server_label(target, env),
        who=operator(),
        secrets=(target.password or "",),
        say=say,
    )


def close_notify(notify: Notify | None) -> None:
    """Wait for what ``notify`` queued (nothing to do for None or a plain function)."""
    if isinstance(notify, Notifier):
        notify.close()


__all__ = [
    "Channel",
    "Event",
    "Message",
    "Notifier",
    "Notify",
    "close_notify",
    "notifier_for",
    "open_channel",
    "server_label",
]
