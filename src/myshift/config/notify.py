"""``[notify.NAME]`` in myshift.toml: the channels that tell the team what myshift did.

An environment names the channels its commands report to
(``notify = ["team-slack", "dba-mail"]`` in ``[env.prod]``); each channel is
one table::

    [notify.team-slack]
    type = "slack"                      # POST {"text": ...}: Slack, Mattermost, Rocket.Chat
    url_env = "MYSHIFT_SLACK_WEBHOOK"   # the webhook URL is a secret: read from the environment

    [notify.audit-hook]
    type = "webhook"                    # POST the event itself as JSON
    url = "https://ops.example.com/myshift"
    token_env = "OPS_TOKEN"             # optional: sent as "Authorization: Bearer ..."
    events = ["apply.*", "rollback.*"]  # optional: only these events (default: all)

    [notify.dba-mail]
    type = "email"
    smtp_host = "smtp.example.com"
    smtp_port = 587                     # default: 587 starttls, 465 tls, 25 none
    tls = "starttls"                    # starttls | tls (implicit) | none (no login then)
    from = "myshift@example.com"
    to = ["dba@example.com"]
    user = "myshift"                    # optional login ...
    password_env = "MYSHIFT_SMTP_PASSWORD"  # ... its password, only ever from the environment

No secret is ever stored here: passwords and tokens are named by the
variable that holds them.  Unknown keys, keys of another channel type and
unknown event names are errors, as everywhere in myshift.toml.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from myshift.config.tomltypes import a_type, is_a, widen
from myshift.errors import UsageError

# Every event myshift sends (workflows.notify); ``events`` patterns must match one.
EVENT_KINDS = (
    "plan.created",
    "rehearsal.passed",
    "rehearsal.failed",
    "apply.started",
    "apply.finished",
    "apply.failed",
    "rollback.started",
    "rollback.finished",
    "rollback.failed",
    "watch.alert",
)
CHANNEL_TYPES = ("slack", "webhook", "email")
TLS_MODES = ("starttls", "tls", "none")
DEFAULT_TIMEOUT = 5.0
_DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}

_COMMON: dict[str, type] = {"type": str, "events": list, "timeout": float}
_KEYS: dict[str, dict[str, type]] = {
    "slack": {"url": str, "url_env": str},
    "webhook": {"url": str, "url_env": str, "token_env": str},
    "email": {
        "smtp_host": str,
        "smtp_port": int,
        "tls": str,
        "ca_file": str,
        "from": str,
        "to": list,
        "user": str,
        "password_env": str,
    },
}


@dataclass(frozen=True)
class ChannelConfig:
    """One ``[notify.NAME]`` table (``ca_file`` already made absolute)."""

    name: str
    type: str
    url: str | None = None
    url_env: str | None = None
    token_env: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    tls: str = "starttls"
    ca_file: str | None = None
    sender: str | None = None  # the table's `from`
    to: tuple[str, ...] = ()
    user: str | None = None
    password_env: str | None = None
    events: tuple[str, ...] = ()  # fnmatch patterns over EVENT_KINDS; empty: all
    timeout: float = DEFAULT_TIMEOUT

    def wants(self, kind: str) -> bool:
        return not self.events or any(fnmatch.fnmatchcase(kind, p) for p in self.events)

    @property
    def where(self) -> str:
        """Where it sends, for messages: the SMTP server, or the URL's scheme and host
        only (a webhook URL's path is often its secret)."""
        if self.type == "email":
            return f"smtp {self.smtp_host}:{self.smtp_port}"
        if self.url:
            from urllib.parse import urlsplit

            parts = urlsplit(self.url)
            return f"{parts.scheme}://{parts.hostname or ''}"
        return f"the URL in ${self.url_env}"

    @property
    def label(self) -> str:
        """How a runbook names it: ``dba-mail (email to dba@example.com)``."""
        if self.type == "email":
            return f"{self.name} (email to {', '.join(self.to)})"
        return f"{self.name} ({self.type})"

    @property
    def section(self) -> str:
        return f"[notify.{self.name}]"


def secret_variables(channels: Mapping[str, ChannelConfig]) -> tuple[str, ...]:
    """The environment variables the channels read secrets from (kept out of the
    environment of commands myshift runs, like the database passwords)."""
    return tuple(
        name
        for c in channels.values()
        for name in (c.url_env, c.token_env, c.password_env)
        if name is not None
    )


def parse_channels(path: Path, body: object) -> dict[str, ChannelConfig]:
    """The ``[notify.NAME]`` tables of ``path``."""
    if not isinstance(body, dict):
        raise UsageError(f"{path}: `notify` must be a table.", "Use [notify.NAME] sections.")
    return {name: _parse_channel(path, name, table) for name, table in body.items()}


def check_env_channels(
    path: Path, env: str, names: object, channels: dict[str, ChannelConfig]
) -> tuple[str, ...]:
    """``notify = [...]`` of ``[env.ENV]``: a list of channel names defined in the file."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise UsageError(
            f"{path}: `env.{env}.notify` must be a list of channel names, not {names!r}.",
            'Write it as notify = ["team-slack"], naming [notify.NAME] tables.',
        )
    unknown = [n for n in names if n not in channels]
    if unknown:
        known = ", ".join(channels) or "none"
        raise UsageError(
            f"{path}: `env.{env}.notify` names no channel {', '.join(map(repr, unknown))} "
            f"(defined: {known}).",
            f"Add a [notify.{unknown[0]}] table, or fix the name.",
        )
    return tuple(dict.fromkeys(names))


def _fail(path: Path, name: str, what: str, fix: str) -> UsageError:
    return UsageError(f"{path}: [notify.{name}] {what}.", fix)


def _parse_channel(path: Path, name: str, body: object) -> ChannelConfig:
    if not isinstance(body, dict):
        raise UsageError(f"{path}: `notify.{name}` must be a table.", f"Write [notify.{name}].")
    kind = body.get("type")
    if kind not in CHANNEL_TYPES:
        raise _fail(
            path,
            name,
            f"has type {kind!r}" if kind is not None else "has no type",
            f"Set type = one of {', '.join(map(repr, CHANNEL_TYPES))}.",
        )
    allowed = {**_COMMON, **_KEYS[kind]}
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise _fail(
            path,
            name,
            f"has unknown key(s) {', '.join(unknown)} for a {kind} channel",
            f"Known keys are {', '.join(allowed)}.",
        )
    values: dict[str, Any] = {}
    for key, value in body.items():
        tp = allowed[key]
        value = widen(value, tp)
        ok = is_a(value, tp)
        if tp is list:
            ok = ok and all(isinstance(v, str) for v in value)
        if not ok:
            want = "a list of strings" if tp is list else a_type(tp)
            raise _fail(path, name, f"`{key}` must be {want}, not {value!r}", "Fix the value.")
        values[key] = value
    return _build(path, name, kind, values)


def _build(path: Path, name: str, kind: str, v: dict[str, Any]) -> ChannelConfig:
    events = tuple(v.get("events", ()))
    for pattern in events:
        if not any(fnmatch.fnmatchcase(k, pattern) for k in EVENT_KINDS):
            raise _fail(
                path,
                name,
                f"`events` has {pattern!r}, which matches no event",
                f'Events are {", ".join(EVENT_KINDS)} (patterns like "apply.*" work).',
            )
    timeout = v.get("timeout", DEFAULT_TIMEOUT)
    if not 0 < timeout <= 60:
        raise _fail(path, name, f"`timeout` is {timeout}", "Use seconds between 0 and 60.")
    common = {"name": name, "type": kind, "events": events, "timeout": timeout}
    if kind in ("slack", "webhook"):
        return _build_http(path, name, common, v)
    return _build_email(path, name, common, v)


def _build_http(path: Path, name: str, common: dict[str, Any], v: dict[str, Any]) -> ChannelConfig:
    url, url_env = v.get("url"), v.get("url_env")
    if (url is None) == (url_env is None):
        raise _fail(
            path,
            name,
            "needs exactly one of `url` and `url_env`",
            "Prefer url_env naming the variable that holds the webhook URL (it is a secret).",
        )
    if url is not None and not url.startswith(("https://", "http://")):
        raise _fail(path, name, "`url` is not an http(s) URL", "Write https://host/path.")
    return ChannelConfig(**common, url=url, url_env=url_env, token_env=v.get("token_env"))


def _build_email(path: Path, name: str, common: dict[str, Any], v: dict[str, Any]) -> ChannelConfig:
    for key in ("smtp_host", "from", "to"):
        if not v.get(key):
            raise _fail(path, name, f"has no `{key}`", f"Add {key} to [notify.{name}].")
    tls = v.get("tls", "starttls")
    if tls not in TLS_MODES:
        raise _fail(
            path, name, f"`tls` is {tls!r}", f"Use one of {', '.join(map(repr, TLS_MODES))}."
        )
    user, password_env = v.get("user"), v.get("password_env")
    if (user is None) != (password_env is None):
        raise _fail(
            path,
            name,
            "needs both `user` and `password_env` to log in (or neither)",
            "Add the missing one; the password itself is only read from that variable.",
        )
    if user is not None and tls == "none":
        raise _fail(
            path,
            name,
            'logs in with tls = "none", which would send the password in clear',
            'Use tls = "starttls" or "tls".',
        )
    ca = v.get("ca_file")
    return ChannelConfig(
        **common,
        smtp_host=v["smtp_host"],
        smtp_port=v.get("smtp_port", _DEFAULT_PORTS[tls]),
        tls=tls,
        ca_file=str(path.parent / Path(ca).expanduser()) if ca else None,
        sender=v["from"],
        to=tuple(v["to"]),
        user=user,
        password_env=password_env,
    )


__all__ = [
    "CHANNEL_TYPES",
    "EVENT_KINDS",
    "ChannelConfig",
    "check_env_channels",
    "parse_channels",
    "secret_variables",
]
