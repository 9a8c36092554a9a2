"""``myshift.toml``: the top-level settings and the named ``[env.NAME]`` environments."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from myshift.config.notify import (
    ChannelConfig,
    check_env_channels,
    parse_channels,
    secret_variables,
)
from myshift.config.tomltypes import a_type, is_a, widen
from myshift.config.watchsettings import WatchSettings, parse_watch
from myshift.db.connect import DEFAULT_LOCK_WAIT_TIMEOUT
from myshift.errors import UsageError

CONFIG_FILE = "myshift.toml"
# Names the config file to use instead of searching for one (as --config does).
CONFIG_ENV = "MYSHIFT_CONFIG"
DEFAULT_HISTORY_SCHEMA = "_myshift"
DEFAULT_AUDIT_LOG = "myshift-audit.jsonl"
# The languages of the runbook template (workflows.runbook_text.LANGS).
LANGS = ("en", "es")

_ENV_KEYS: dict[str, type] = {
    "host": str,
    "port": int,
    "user": str,
    "socket": str,
    "schema": str,
    "password_env": str,
    "protected": bool,
    "ssl_mode": str,
    "ssl_ca": str,
    "ssl_cert": str,
    "ssl_key": str,
    "defaults_file": str,
    "plan_key_file": str,
    # Ways in (issue 14; workflows.reach): an SSH bastion, the RDS firewall, IAM/Secrets.
    "ssh_tunnel": str,
    "ssh_port": int,
    "ssh_key": str,
    "ssh_known_hosts": str,
    "access": str,
    "security_group": str,
    "allowlist_ip": str,
    "allowlist_ttl": str,
    "auth": str,
    "password_secret": str,
    "rds_instance": str,
    "aws_region": str,
    # Replicas of this environment the watch reads the lag of (environments or URLs).
    "replicas": list,
    # The [notify.NAME] channels its commands report to (config.notify).
    "notify": list,
}
_ENV_PATH_KEYS = (
    "ssl_ca",
    "ssl_cert",
    "ssl_key",
    "defaults_file",
    "plan_key_file",
    "ssh_key",
    "ssh_known_hosts",
)
# Allowed values of the enumerated environment keys.
_ENV_CHOICES: dict[str, tuple[str, ...]] = {
    "access": ("direct", "allowlist"),
    "auth": ("password", "iam"),
}
# The team key that signs plan files (workflows.plancheck); it wins over plan_key_file.
PLAN_KEY_ENV = "MYSHIFT_PLAN_KEY"


@dataclass(frozen=True)
class EnvConfig:
    """One ``[env.NAME]`` table of ``myshift.toml``; paths already made absolute."""

    name: str
    host: str | None = None
    port: int | None = None
    user: str | None = None
    socket: str | None = None
    schema: str | None = None
    password_env: str | None = None
    protected: bool = False
    ssl_mode: str | None = None
    ssl_ca: str | None = None
    ssl_cert: str | None = None
    ssl_key: str | None = None
    defaults_file: str | None = None
    plan_key_file: str | None = None
    # Ways in (workflows.reach).  ssh_tunnel is "user@bastion" (ssh_port, ssh_key and
    # ssh_known_hosts refine it); access "allowlist" opens the RDS security group to
    # this machine's IP around each command; auth "iam" logs in with an RDS IAM token;
    # password_secret names a Secrets Manager secret holding the password.
    ssh_tunnel: str | None = None
    ssh_port: int | None = None
    ssh_key: str | None = None
    ssh_known_hosts: str | None = None
    access: str = "direct"
    security_group: str | None = None
    allowlist_ip: str | None = None
    allowlist_ttl: str | None = None
    auth: str = "password"
    password_secret: str | None = None
    # The RDS instance (DBInstanceIdentifier) behind this environment, and its region.
    rds_instance: str | None = None
    aws_region: str | None = None
    # The replicas `watch` reads the lag of: environment names or mysql:// URLs.
    replicas: tuple[str, ...] = ()
    # The channels (``[notify.NAME]``) told of its plans, rehearsals, applies and rollbacks.
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class AwsSettings:
    """``[aws]`` in myshift.toml: how myshift reaches the AWS APIs (myshift.cloud).

    Credentials always come from boto3's standard chain (environment, profile,
    instance role); nothing here holds a secret.  ``endpoint_url`` points every
    client at another endpoint (a local moto server in tests; boto3 also reads
    ``AWS_ENDPOINT_URL``).
    """

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    # Where `access open` learns this machine's public IP (one line of text).
    ip_url: str = "https://checkip.amazonaws.com"
    # Sandboxes myshift creates: their class (default: the source's), their
    # lifetime (an expiry tag `sandboxes sweep` honours) and the longest wait
    # for any one AWS state change.
    sandbox_instance_class: str | None = None
    sandbox_ttl: str = "6h"
    waiter_timeout: int = 3600
    # The default lifetime of an allowlist rule opened by `access open`.
    allowlist_ttl: str = "30m"


_AWS_KEYS: dict[str, type] = {
    "region": str,
    "profile": str,
    "endpoint_url": str,
    "ip_url": str,
    "sandbox_instance_class": str,
    "sandbox_ttl": str,
    "waiter_timeout": int,
    "allowlist_ttl": str,
}


@dataclass(frozen=True)
class OnlineSettings:
    """``[online]`` in myshift.toml: when a statement that blocks writes goes through
    pt-online-schema-change, and how the tool is throttled (workflows.online).

    A blocking statement (a table copy, or a rebuild under a SHARED/EXCLUSIVE
    lock) on a table with at least ``min_rows`` rows or ``min_bytes`` bytes
    (the catalogue's estimate: data plus indexes) takes the online path; below
    both it runs as a plain ALTER under the bounded lock wait.
    """

    min_rows: int = 100_000
    min_bytes: int = 64 * 1024 * 1024
    # The tool pauses while Threads_running exceeds max_threads_running and
    # aborts (cleaning up) above critical_threads_running.
    max_threads_running: int = 25
    critical_threads_running: int = 50
    # Target seconds per copied chunk, and the lock wait of the tool's own
    # sessions (its trigger creation and the RENAME cut-over retry on timeout).
    chunk_time: float = 0.2
    cutover_lock_wait_timeout: int = 2
    # The command, or a path to it.
    tool: str = "pt-online-schema-change"


@dataclass(frozen=True)
class OnlinePolicy:
    """``--online`` and the ``[online]`` settings: what workflows.online decides each
    statement's path with.  ``forced`` pins paths by statement SQL (rehearsal: the
    paths production's sizes gave, so the sandbox times the same path).  It lives
    here, below workflows, because ``PlanOptions`` (workflows.planmodel) carries it
    and workflows.online reads PlanOptions' statements."""

    mode: str = "auto"
    settings: OnlineSettings = field(default_factory=OnlineSettings)
    forced: tuple[tuple[str, str, str], ...] = ()  # (sql, path, reason)


_ONLINE_KEYS: dict[str, type] = {
    "min_rows": int,
    "min_bytes": int,
    "max_threads_running": int,
    "critical_threads_running": int,
    "chunk_time": float,
    "cutover_lock_wait_timeout": int,
    "tool": str,
}


@dataclass(frozen=True)
class Settings:
    """``myshift.toml``: top-level settings plus the named environments.

    Unknown top-level keys are kept in ``extra`` (other workflows may read
    them); unknown keys inside an environment are an error, since a typo there
    (``pasword_env``) would silently connect somewhere unintended.
    """

    path: Path | None = None
    history_schema: str = DEFAULT_HISTORY_SCHEMA
    lock_wait_timeout: int = DEFAULT_LOCK_WAIT_TIMEOUT
    audit_log: Path = field(default_factory=lambda: Path(DEFAULT_AUDIT_LOG))
    environments: Mapping[str, EnvConfig] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    # A file holding the team key that signs plan files (workflows.plancheck.plan_key).
    plan_key_file: Path | None = None
    online: OnlineSettings = field(default_factory=OnlineSettings)
    # [watch]: sampling and regression limits of `watch` and `apply` (workflows.watch).
    watch: WatchSettings = field(default_factory=WatchSettings)
    aws: AwsSettings = field(default_factory=AwsSettings)
    # DEFINER of views, routines, triggers and events: "keep" (compare it and
    # create objects with it), "ignore" or "current" (see engine.definers).
    definer: str = "keep"
    # The runbook's language (`runbook --lang` wins).
    lang: str = "en"
    # ``[notify.NAME]``: the channels environments name in their ``notify`` list.
    notify: Mapping[str, ChannelConfig] = field(default_factory=dict)

    def environment(self, name: str) -> EnvConfig:
        """``[env.NAME]``; a name not there is refused, naming those that are."""
        if name not in self.environments:
            known = ", ".join(sorted(self.environments)) or "none"
            raise UsageError(
                f"Unknown environment {name!r} (known: {known}).",
                "Give --env NAME of an [env.NAME] table in myshift.toml.",
            )
        return self.environments[name]

    def secret_variables(self) -> tuple[str | None, ...]:
        """The variables secrets are read from: the environments' ``password_env``
        (None where unset) and the channels' (config.notify.secret_variables).
        ``rehearse --run`` keeps them out of its command's environment."""
        return tuple(e.password_env for e in self.environments.values()) + secret_variables(
            self.notify
        )


def find_config(
    cwd: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    explicit: str | Path | None = None,
) -> Path | None:
    """The ``myshift.toml`` to read, found the way git finds ``.git``.

    ``explicit`` (``--config PATH``) wins, then ``$MYSHIFT_CONFIG``; either
    must name an existing file.  Otherwise the first ``myshift.toml`` in
    ``cwd`` (default: the working directory) or one of its parents, or None.
    """
    env_vars: Mapping[str, str] = os.environ if environ is None else environ
    for value, label in ((explicit, "--config"), (env_vars.get(CONFIG_ENV) or None, CONFIG_ENV)):
        if value is not None:
            path = Path(value).expanduser()
            if not path.is_file():
                raise UsageError(
                    f"The config file {path} given by {label} does not exist.",
                    f"Fix {label}, or leave it out to search for myshift.toml from here upwards.",
                )
            return path.resolve()
    base = (cwd or Path.cwd()).resolve()
    for directory in (base, *base.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def load_settings(
    cwd: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    explicit: str | Path | None = None,
) -> Settings:
    """Read the ``myshift.toml`` that ``find_config`` picks (no file gives the defaults).

    Relative paths are relative to the file's directory.
    """
    base = (cwd or Path.cwd()).resolve()
    path = find_config(base, environ=environ, explicit=explicit)
    if path is None:
        return Settings(audit_log=base / DEFAULT_AUDIT_LOG)
    return read_settings(path)


def read_settings(path: Path) -> Settings:
    """Parse one ``myshift.toml``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already ends with "(at line N, column M)".
        raise UsageError(f"{path}: {exc}.", "Fix the TOML syntax and run again.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read {path}: {exc}.", "Check the file.") from None

    envs_raw = data.pop("env", {})
    if not isinstance(envs_raw, dict):
        raise UsageError(f"{path}: `env` must be a table.", "Use [env.NAME] sections.")
    channels = parse_channels(path, data.pop("notify", {}))
    envs = {name: _parse_env(path, name, body, channels) for name, body in envs_raw.items()}

    history_schema = data.pop("history_schema", DEFAULT_HISTORY_SCHEMA)
    _check_type(path, "history_schema", history_schema, str)
    lock_wait = data.pop("lock_wait_timeout", DEFAULT_LOCK_WAIT_TIMEOUT)
    _check_type(path, "lock_wait_timeout", lock_wait, int)
    if lock_wait < 1:
        # MariaDB reads 0 or less as "never wait": every contended DDL would fail at once.
        raise UsageError(
            f"{path}: `lock_wait_timeout` must be at least 1 second, not {lock_wait}.",
            "Fix the value in myshift.toml.",
        )
    audit = data.pop("audit_log", DEFAULT_AUDIT_LOG)
    _check_type(path, "audit_log", audit, str)
    online = _parse_online(path, data.pop("online", {}))
    watch = parse_watch(path, data.pop("watch", {}))
    aws = _parse_aws(path, data.pop("aws", {}))
    definer = data.pop("definer", "keep")
    _check_type(path, "definer", definer, str)
    if definer not in ("keep", "ignore", "current"):
        raise UsageError(
            f'{path}: `definer` must be "keep", "ignore" or "current", not {definer!r}.',
            'Fix the value in myshift.toml ("keep" compares DEFINER and creates objects with it).',
        )
    lang = data.pop("lang", "en")
    _check_type(path, "lang", lang, str)
    if lang not in LANGS:
        raise UsageError(
            f"{path}: `lang` must be one of {', '.join(LANGS)}, not {lang!r}.",
            "Fix the value in myshift.toml.",
        )
    key_file = data.pop("plan_key_file", None)
    if key_file is not None:
        _check_type(path, "plan_key_file", key_file, str)
    return Settings(
        path=path,
        history_schema=history_schema,
        lock_wait_timeout=lock_wait,
        audit_log=_relative_to(path.parent, audit),
        environments=envs,
        extra=data,
        plan_key_file=_relative_to(path.parent, key_file) if key_file is not None else None,
        online=online,
        watch=watch,
        aws=aws,
        definer=definer,
        lang=lang,
        notify=channels,
    )


def _parse_online(path: Path, body: object) -> OnlineSettings:
    if not isinstance(body, dict):
        raise UsageError(f"{path}: `online` must be a table.", "Write it as [online].")
    unknown = sorted(set(body) - set(_ONLINE_KEYS))
    if unknown:
        raise UsageError(
            f"{path}: [online] has unknown key(s) {', '.join(unknown)}.",
            f"Known keys are {', '.join(_ONLINE_KEYS)}.",
        )
    values: dict[str, Any] = {}
    for key, value in body.items():
        tp = _ONLINE_KEYS[key]
        value = widen(value, tp)
        _check_type(path, f"online.{key}", value, tp)
        if tp is not str and value < 0:
            raise UsageError(
                f"{path}: `online.{key}` must not be negative, not {value}.",
                "Fix the value in myshift.toml.",
            )
        values[key] = value
    return OnlineSettings(**values)


def _parse_aws(path: Path, body: object) -> AwsSettings:
    if not isinstance(body, dict):
        raise UsageError(f"{path}: `aws` must be a table.", "Write it as [aws].")
    unknown = sorted(set(body) - set(_AWS_KEYS))
    if unknown:
        raise UsageError(
            f"{path}: [aws] has unknown key(s) {', '.join(unknown)}.",
            f"Known keys are {', '.join(_AWS_KEYS)}.",
        )
    for key, value in body.items():
        _check_type(path, f"aws.{key}", value, _AWS_KEYS[key])
    return AwsSettings(**body)


def _check_type(path: Path, key: str, value: object, tp: type) -> None:
    if not is_a(value, tp):
        raise UsageError(
            f"{path}: `{key}` must be {a_type(tp)}, not {value!r}.",
            "Fix the value in myshift.toml.",
        )


def _relative_to(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _parse_env(
    path: Path, name: str, body: object, channels: dict[str, ChannelConfig]
) -> EnvConfig:
    if not isinstance(body, dict):
        raise UsageError(f"{path}: `env.{name}` must be a table.", f"Write it as [env.{name}].")
    unknown = sorted(set(body) - set(_ENV_KEYS))
    if unknown:
        raise UsageError(
            f"{path}: environment {name!r} has unknown key(s) {', '.join(unknown)}.",
            f"Known keys are {', '.join(_ENV_KEYS)}.",
        )
    values: dict[str, Any] = {}
    for key, value in body.items():
        _check_type(path, f"env.{name}.{key}", value, _ENV_KEYS[key])
        choices = _ENV_CHOICES.get(key)
        if choices is not None and value not in choices:
            raise UsageError(
                f"{path}: `env.{name}.{key}` must be one of {', '.join(choices)}, not {value!r}.",
                "Fix the value in myshift.toml.",
            )
        if key in _ENV_PATH_KEYS:
            value = str(_relative_to(path.parent, value))
        if key == "replicas":
            if not all(isinstance(r, str) and r for r in value):
                raise UsageError(
                    f"{path}: `env.{name}.replicas` must be a list of environment names or "
                    f"mysql:// URLs, not {value!r}.",
                    "Fix the value in myshift.toml.",
                )
            value = tuple(value)
        if key == "notify":
            value = check_env_channels(path, name, value, channels)
        values[key] = value
    return EnvConfig(name=name, **values)
