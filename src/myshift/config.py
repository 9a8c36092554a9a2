"""Resolve where to connect, the way MySQL users expect.

The CLI collects what the user typed into an ``EndpointSpec``;
``resolve_endpoint`` turns it into an ``Endpoint`` by layering, lowest first:

1. built-in defaults (TCP ``127.0.0.1:3306``, the OS login name as user, like
   the ``mysql`` client);
2. the ``[client]`` then ``[myshift]`` sections of ``~/.my.cnf`` (or of
   ``--defaults-file`` / an environment's ``defaults_file``, which *replaces*
   ``~/.my.cnf`` as in the mysql client);
3. the named environment from ``myshift.toml`` *or* the ``mysql://`` URL;
4. explicit command-line flags.

The positional ``ref`` is a ``mysql://`` URL, a named environment from
``myshift.toml``, or a bare schema name (``myshift plan -h HOST -u USER -p
multi-prod`` — as with ``mysql``, ``-p`` takes no value and ``multi-prod`` is
the schema).

The password comes from the first of: the URL, ``MYSQL_PWD``, the
environment's ``password_env`` variable, a terminal prompt when ``-p`` was
given alone, the option file.  It is never taken from the command line
(``-pSECRET`` is visible to every user in the process list):
``reject_inline_password(argv)`` refuses it before the CLI parser sees it.
"""

from __future__ import annotations

import configparser
import getpass
import os
import re
import tomllib
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from myshift.db.connect import DEFAULT_LOCK_WAIT_TIMEOUT, Endpoint, is_url, redact_url
from myshift.errors import UsageError

CONFIG_FILE = "myshift.toml"
DEFAULT_HISTORY_SCHEMA = "_myshift"
DEFAULT_AUDIT_LOG = "myshift-audit.jsonl"
SSL_MODES = ("DISABLED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY")
# A scheme of two letters or more ("C:/dump.sql" stays a path).
_LOOKS_LIKE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")
# Option-file sections read, later ones overriding earlier ones.
MYCNF_SECTIONS = ("client", "myshift")

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
}
_ENV_PATH_KEYS = ("ssl_ca", "ssl_cert", "ssl_key", "defaults_file", "plan_key_file")
# The team key that signs plan files (workflows.plancheck); it wins over plan_key_file.
PLAN_KEY_ENV = "MYSHIFT_PLAN_KEY"


@dataclass(frozen=True)
class EndpointSpec:
    """What the CLI collected.  Every field is optional; ``None`` means "not given".

    CLI mapping (mysql-client compatible): ``-h/--host``, ``-P/--port``,
    ``-u/--user``, ``-S/--socket``, ``-p/--password`` as a *flag* (sets
    ``password_prompt``), ``--defaults-file``, ``-D/--schema``, ``--ssl-mode``,
    ``--ssl-ca``, ``--ssl-cert``, ``--ssl-key``; the positional argument is
    ``ref``.  Because ``-h`` is the host, help is ``--help`` only.
    """

    ref: str | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    socket: str | None = None
    password_prompt: bool = False
    defaults_file: str | Path | None = None
    schema: str | None = None
    ssl_mode: str | None = None
    ssl_ca: str | Path | None = None
    ssl_cert: str | Path | None = None
    ssl_key: str | Path | None = None


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


# --------------------------------------------------------------------------- toml


def load_settings(cwd: Path | None = None) -> Settings:
    """Read ``myshift.toml`` from ``cwd`` (default: the working directory).

    No file gives the defaults.  Relative paths are relative to the file's directory.
    """
    base = (cwd or Path.cwd()).resolve()
    path = base / CONFIG_FILE
    if not path.is_file():
        return Settings(audit_log=base / DEFAULT_AUDIT_LOG)
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
    envs = {name: _parse_env(path, name, body) for name, body in envs_raw.items()}

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
    )


def looks_like_url(text: str) -> bool:
    """A ``mysql://`` URL, or something meant as a URL (refused with a clear message)."""
    return is_url(text) or _LOOKS_LIKE_URL.match(text) is not None


def _check_type(path: Path, key: str, value: object, tp: type) -> None:
    # bool is an int subclass: `port = true` must not pass as a port.
    ok = isinstance(value, tp) and not (tp is int and isinstance(value, bool))
    if not ok:
        raise UsageError(
            f"{path}: `{key}` must be {'an' if tp is int else 'a'} {tp.__name__}, not {value!r}.",
            "Fix the value in myshift.toml.",
        )


def _relative_to(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _parse_env(path: Path, name: str, body: object) -> EnvConfig:
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
        if key in _ENV_PATH_KEYS:
            value = str(_relative_to(path.parent, value))
        values[key] = value
    return EnvConfig(name=name, **values)


# --------------------------------------------------------------------------- my.cnf


_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "r": "\r", "s": " ", "\\": "\\"}


def _unquote_option(raw: str) -> str:
    """An option-file value as the mysql client reads it.

    Quoted values (``'...'`` or ``"..."``) keep ``#`` and spaces; outside
    quotes ``#`` starts a comment.  Backslash escapes ``\\b \\t \\n \\r \\s \\\\``
    are decoded (and ``\\"``/``\\'`` inside quotes).
    """
    text = raw.strip()
    if text[:1] in ("'", '"'):
        quote = text[0]
        out: list[str] = []
        i = 1
        while i < len(text):
            ch = text[i]
            if ch == "\\" and i + 1 < len(text):
                nxt = text[i + 1]
                out.append(_ESCAPES.get(nxt, nxt))
                i += 2
                continue
            if ch == quote:
                return "".join(out)
            out.append(ch)
            i += 1
        # No closing quote: mysql takes the text literally.
        return text
    hash_at = text.find("#")
    if hash_at >= 0:
        text = text[:hash_at].rstrip()
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def read_option_file(path: Path) -> dict[str, str | None]:
    """The merged ``[client]`` + ``[myshift]`` options of a my.cnf-style file.

    Keys are normalised to underscores (``ssl-ca`` → ``ssl_ca``).  Options
    without a value (``skip-ssl``) map to ``None``.  ``!include`` and
    ``!includedir`` are ignored.  A missing file gives ``{}``.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"Cannot read option file {path}: {exc}.", "Check the file.") from None
    # mysql ignores leading whitespace (configparser would read it as a
    # continuation line) and the !include directives (configparser would choke).
    lines = [ln.lstrip() for ln in text.splitlines()]
    lines = ["" if ln.startswith("!") else ln for ln in lines]
    parser = configparser.ConfigParser(
        allow_no_value=True,
        delimiters=("=",),  # ':' is legal inside a password
        comment_prefixes=("#", ";"),
        inline_comment_prefixes=None,
        strict=False,  # mysql allows repeated sections/options; the last wins
        interpolation=None,  # '%' is legal inside a password
        empty_lines_in_values=False,
    )
    try:
        parser.read_string("\n".join(lines), source=str(path))
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        raise UsageError(f"Option file {path} is malformed: {first}.", "Fix the file.") from None
    out: dict[str, str | None] = {}
    for section in MYCNF_SECTIONS:
        if parser.has_section(section):
            for key, value in parser.items(section):
                norm = key.strip().replace("-", "_")
                out[norm] = None if value is None else _unquote_option(value)
    return out


# --------------------------------------------------------------------------- resolve


def reject_inline_password(argv: Sequence[str]) -> None:
    """Refuse ``-pSECRET`` / ``--password=SECRET`` before the CLI parser runs.

    A password on the command line is readable by every local user through
    the process list, so myshift never accepts one (unlike the mysql client,
    which merely warns).  Call with ``sys.argv[1:]``.
    """
    for arg in argv:
        if arg == "--":
            break
        if (arg.startswith("-p") and len(arg) > 2) or arg.startswith("--password="):
            raise UsageError(
                "A password on the command line (-pSECRET or --password=SECRET) is refused "
                "because every local user can read it in the process list.",
                "Use -p alone to be prompted, or set MYSQL_PWD, password_env in myshift.toml, "
                "or ~/.my.cnf.",
            )


# A mysql:// URL anywhere in an argument (also inside server:URL or a --run command).
_URL_IN_ARG = re.compile(r"(?:mysql|mariadb)://[^\s'\"]+", re.IGNORECASE)
_warned_url_password = False


def warn_url_password(argv: Sequence[str], write: Callable[[str], None]) -> bool:
    """Warn once (through ``write``) when a ``mysql://`` URL in ``argv`` carries a password.

    Unlike ``-pSECRET`` it is not refused -- a URL is how many tools pass a
    DSN -- but every local user can read it in ``/proc/<pid>/cmdline``.
    Returns whether a warning was written.
    """
    global _warned_url_password
    if _warned_url_password:
        return False
    for arg in argv:
        for m in _URL_IN_ARG.finditer(arg):
            try:
                password = urllib.parse.urlsplit(m.group(0)).password
            except ValueError:
                continue
            if password:
                _warned_url_password = True
                write(
                    "myshift: warning: a password in a mysql:// URL on the command line is "
                    "readable by every local user (ps, /proc/<pid>/cmdline); leave it out of "
                    "the URL and set MYSQL_PWD, password_env in myshift.toml, or ~/.my.cnf."
                )
                return True
    return False


def _os_user(environ: Mapping[str, str]) -> str:
    for var in ("USER", "LOGNAME"):
        if environ.get(var):
            return environ[var]
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers): mysql falls back the same way
        return "root"


def _port(value: object, where: str) -> int:
    try:
        port = int(str(value))
    except ValueError:
        raise UsageError(f"Bad port {value!r} in {where}.", "Use a number.") from None
    if not 0 < port < 65536:
        raise UsageError(f"Port {port} in {where} is out of range.", "Use 1-65535.")
    return port


@dataclass
class _Layer:
    """Connection fields found in one source (None = not given there)."""

    host: str | None = None
    port: int | None = None
    user: str | None = None
    socket: str | None = None
    schema: str | None = None
    password: str | None = None
    ssl_mode: str | None = None
    ssl_ca: str | None = None
    ssl_cert: str | None = None
    ssl_key: str | None = None

    def over(self, lower: _Layer) -> _Layer:
        return _Layer(
            **{k: (v if v is not None else getattr(lower, k)) for k, v in vars(self).items()}
        )


def _url_layer(url: str) -> _Layer:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("mysql", "mariadb") or not url.partition(":")[2].startswith("//"):
        raise UsageError(
            f"{redact_url(url)!r} is not a mysql:// URL.",
            "Use mysql://user[:password]@host[:port]/schema.",
        )
    try:
        port = parsed.port
    except ValueError:
        raise UsageError(f"Bad port in {redact_url(url)!r}.", "Use a number.") from None
    query = dict(urllib.parse.parse_qsl(parsed.query))
    return _Layer(
        host=parsed.hostname or None,
        port=port,
        user=urllib.parse.unquote(parsed.username) if parsed.username else None,
        password=urllib.parse.unquote(parsed.password) if parsed.password is not None else None,
        schema=urllib.parse.unquote(parsed.path.lstrip("/")) or None,
        socket=query.get("socket"),
        ssl_mode=query.get("ssl_mode"),
        ssl_ca=query.get("ssl_ca"),
        ssl_cert=query.get("ssl_cert"),
        ssl_key=query.get("ssl_key"),
    )


def _cnf_layer(opts: Mapping[str, str | None], path: Path) -> _Layer:
    def get(*keys: str) -> str | None:
        for k in keys:
            v = opts.get(k)
            if v is not None and v != "":
                return v
        return None

    port = get("port")
    return _Layer(
        host=get("host"),
        port=_port(port, str(path)) if port is not None else None,
        user=get("user"),
        socket=get("socket"),
        # `password=` with an empty value is an empty password, as in mysql.
        password=opts.get("password"),
        ssl_mode=get("ssl_mode"),
        ssl_ca=get("ssl_ca"),
        ssl_cert=get("ssl_cert"),
        ssl_key=get("ssl_key"),
    )


def _str_or_none(value: str | Path | None) -> str | None:
    return None if value is None else str(value)


def resolve_endpoint(
    spec: EndpointSpec,
    *,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    prompt: Callable[[str], str] | None = None,
) -> Endpoint:
    """Turn what the user typed into an ``Endpoint`` (see the module docstring for the rules)."""
    env_vars: Mapping[str, str] = os.environ if environ is None else environ
    settings = load_settings(cwd)
    ref = spec.ref or None

    url: _Layer | None = None
    env: EnvConfig | None = None
    bare_schema: str | None = None
    # "postgres://…" or "mysql:/h/db" is a mistyped URL, not a schema name: _url_layer says so.
    if ref is not None and looks_like_url(ref):
        url = _url_layer(ref)
    elif ref is not None and ref in settings.environments:
        env = settings.environments[ref]
    elif ref is not None:
        direct = spec.host or spec.socket or spec.port
        if settings.environments and not direct:
            known = ", ".join(sorted(settings.environments))
            raise UsageError(
                f"Unknown environment {ref!r} in {settings.path}; known environments: {known}.",
                f"Use one of them, or give -h HOST to target the schema {ref!r} directly.",
            )
        bare_schema = ref

    # Option file: --defaults-file replaces ~/.my.cnf, as in the mysql client.
    if spec.defaults_file is not None:
        cnf_path = Path(spec.defaults_file).expanduser()
        if not cnf_path.is_file():
            raise UsageError(
                f"The defaults file {cnf_path} does not exist.", "Fix --defaults-file."
            )
    elif env is not None and env.defaults_file is not None:
        cnf_path = Path(env.defaults_file)
        if not cnf_path.is_file():
            raise UsageError(
                f"The defaults file {cnf_path} of environment {env.name!r} does not exist.",
                f"Fix defaults_file in {settings.path}.",
            )
    else:
        home = env_vars.get("HOME")
        cnf_path = (Path(home) if home else Path.home()) / ".my.cnf"
    cnf_opts = read_option_file(cnf_path)
    cnf = _cnf_layer(cnf_opts, cnf_path)
    # `password` with no value in an option file means "prompt", as in mysql.
    cnf_prompt = "password" in cnf_opts and cnf_opts["password"] is None

    middle = _Layer()
    if url is not None:
        middle = url
    elif env is not None:
        middle = _Layer(
            host=env.host,
            port=env.port,
            user=env.user,
            socket=env.socket,
            schema=env.schema,
            ssl_mode=env.ssl_mode,
            ssl_ca=env.ssl_ca,
            ssl_cert=env.ssl_cert,
            ssl_key=env.ssl_key,
        )
    flags = _Layer(
        host=spec.host,
        port=spec.port,
        user=spec.user,
        socket=spec.socket,
        schema=spec.schema or bare_schema,
        ssl_mode=spec.ssl_mode,
        ssl_ca=_str_or_none(spec.ssl_ca),
        ssl_cert=_str_or_none(spec.ssl_cert),
        ssl_key=_str_or_none(spec.ssl_key),
    )
    # The option file's password is the last resort (see _password), not a layer.
    merged = flags.over(middle.over(_Layer(**{**vars(cnf), "password": None})))

    host = merged.host
    socket = merged.socket
    # As in mysql, a socket is only used for "localhost" (or no host at all).
    if socket is not None and host not in (None, "localhost"):
        socket = None
    port = _port(merged.port, "the port") if merged.port is not None else 3306
    user = merged.user or _os_user(env_vars)
    ssl_mode = _check_ssl_mode(merged.ssl_mode)
    for label, value in (
        ("ssl_ca", merged.ssl_ca),
        ("ssl_cert", merged.ssl_cert),
        ("ssl_key", merged.ssl_key),
    ):
        if value is not None and not Path(value).expanduser().is_file():
            raise UsageError(
                f"The {label} file {value} does not exist.",
                "Fix the path (relative paths in myshift.toml are relative to that file).",
            )
    if merged.ssl_key is not None and merged.ssl_cert is None:
        raise UsageError("ssl_key was given without ssl_cert.", "Give both, or neither.")

    address = socket or f"{host or '127.0.0.1'}:{port}"
    where = f"{user}@{address}"
    password = _password(spec, url, env, env_vars, cnf, cnf_prompt, prompt, where)
    return Endpoint(
        host=host or "127.0.0.1",
        port=port,
        user=user,
        password=password,
        schema=merged.schema or "",
        socket=socket,
        ssl_mode=ssl_mode,
        ssl_ca=_expand(merged.ssl_ca),
        ssl_cert=_expand(merged.ssl_cert),
        ssl_key=_expand(merged.ssl_key),
        env_name=env.name if env is not None else None,
        protected=env.protected if env is not None else False,
    )


def _expand(value: str | None) -> str | None:
    return None if value is None else str(Path(value).expanduser())


def _check_ssl_mode(mode: str | None) -> str | None:
    if mode is None:
        return None
    norm = mode.strip().upper().replace("-", "_")
    if norm not in SSL_MODES:
        raise UsageError(f"Unknown ssl_mode {mode!r}.", f"Use one of {', '.join(SSL_MODES)}.")
    return norm


def _password(
    spec: EndpointSpec,
    url: _Layer | None,
    env: EnvConfig | None,
    environ: Mapping[str, str],
    cnf: _Layer,
    cnf_prompt: bool,
    prompt: Callable[[str], str] | None,
    where: str,
) -> str | None:
    if url is not None and url.password is not None:
        return url.password
    if "MYSQL_PWD" in environ:
        return environ["MYSQL_PWD"]
    if env is not None and env.password_env is not None:
        if env.password_env not in environ:
            raise UsageError(
                f"Environment {env.name!r} takes its password from ${env.password_env}, "
                "which is not set.",
                f"Export {env.password_env} and run again.",
            )
        return environ[env.password_env]
    if spec.password_prompt or (cnf_prompt and cnf.password is None):
        ask = prompt or getpass.getpass
        return ask(f"Enter password for {where}: ")
    return cnf.password


__all__ = [
    "CONFIG_FILE",
    "DEFAULT_AUDIT_LOG",
    "DEFAULT_HISTORY_SCHEMA",
    "SSL_MODES",
    "EndpointSpec",
    "EnvConfig",
    "Settings",
    "load_settings",
    "looks_like_url",
    "read_option_file",
    "reject_inline_password",
    "resolve_endpoint",
    "warn_url_password",
]
