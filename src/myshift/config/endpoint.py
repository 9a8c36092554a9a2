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

The password comes from the first of the sources listed in
``myshift.config.passwords``.
"""

from __future__ import annotations

import getpass
import os
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from myshift.config.optionfile import read_option_file
from myshift.config.passwords import choose_password
from myshift.config.settings import EnvConfig, Settings, load_settings
from myshift.db.connect import Endpoint, is_url, redact_url
from myshift.errors import UsageError

SSL_MODES = ("DISABLED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY")
# A scheme of two letters or more ("C:/dump.sql" stays a path).
_LOOKS_LIKE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")


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
    # For messages when no server was named: what this endpoint is, and the option
    # that names it (`dump` reads a source: "the database to dump", --from).
    role: str = "the database to change"
    option: str = "--to"


def looks_like_url(text: str) -> bool:
    """A ``mysql://`` URL, or something meant as a URL (refused with a clear message)."""
    return is_url(text) or _LOOKS_LIKE_URL.match(text) is not None


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
    settings: Settings | None = None,
) -> Endpoint:
    """Turn what the user typed into an ``Endpoint`` (see the module docstring for the rules).

    ``settings`` is the myshift.toml the CLI already read (default: found from ``cwd``).
    There is no implicit server: when neither the reference (URL or
    environment), the flags nor the option file name a host, socket or port,
    this raises a UsageError saying how to give one.
    """
    env_vars: Mapping[str, str] = os.environ if environ is None else environ
    if settings is None:
        settings = load_settings(cwd, environ=env_vars)
    url, env, bare_schema = _classify_ref(spec, settings)

    cnf, cnf_prompt = _read_cnf(_option_file_path(spec, env, settings, env_vars))
    if url is None and env is None and not _names_a_server(spec, cnf):
        _refuse_a_file(spec)
        raise _no_target(spec, settings, cwd)

    flags = _flags_layer(spec, bare_schema)
    # The option file's password is the last resort (see choose_password), not a layer.
    merged = flags.over(_middle_layer(url, env).over(_Layer(**{**vars(cnf), "password": None})))

    host = merged.host
    socket = merged.socket
    # As in mysql, a socket is only used for "localhost" (or no host at all).
    if socket is not None and host not in (None, "localhost"):
        socket = None
    port = _port(merged.port, "the port") if merged.port is not None else 3306
    user = merged.user or _os_user(env_vars)
    ssl_mode = _check_ssl_mode(merged.ssl_mode)
    _check_tls_files(merged)

    address = socket or f"{host or '127.0.0.1'}:{port}"
    password = choose_password(
        url_password=url.password if url is not None else None,
        env=env,
        environ=env_vars,
        password_prompt=spec.password_prompt,
        cnf_password=cnf.password,
        cnf_prompt=cnf_prompt,
        prompt=prompt,
        where=f"{user}@{address}",
    )
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


def _classify_ref(
    spec: EndpointSpec, settings: Settings
) -> tuple[_Layer | None, EnvConfig | None, str | None]:
    """The positional ``ref`` as (URL layer, named environment, bare schema); at most one set."""
    ref = spec.ref or None
    if ref is None:
        return None, None, None
    # "postgres://…" or "mysql:/h/db" is a mistyped URL, not a schema name: _url_layer says so.
    if looks_like_url(ref):
        return _url_layer(ref), None, None
    if ref in settings.environments:
        return None, settings.environments[ref], None
    direct = spec.host or spec.socket or spec.port
    if settings.environments and not direct:
        _refuse_a_file(spec)
        known = ", ".join(sorted(settings.environments))
        raise UsageError(
            f"Unknown environment {ref!r} in {settings.path}; known environments: {known}.",
            f"Use one of them, or give -h HOST to target the schema {ref!r} directly.",
        )
    return None, None, ref


def _refuse_a_file(spec: EndpointSpec) -> None:
    """A SQL file where a database was expected: Atlas's habit (--to = the desired
    side), or a dump given to --from.  Called only where the reference is an error
    anyway (no such environment, no server), to say the real mistake."""
    ref = spec.ref
    if not ref or not (ref.lower().endswith(".sql") or Path(ref).exists()):
        return
    if spec.option == "--to":
        how = (
            "Give the file as --desired FILE (alias --from) and the database to change "
            "as --to (an environment or mysql://user@host:port/schema); unlike Atlas's, "
            "myshift's --to is the current side."
        )
    else:
        how = f"Give {spec.option} an environment or mysql://user@host:port/schema."
    raise UsageError(f"{ref!r} is a file, not a database: {spec.option} names {spec.role}.", how)


def _names_a_server(spec: EndpointSpec, cnf: _Layer) -> bool:
    return any(
        v is not None for v in (spec.host, spec.socket, spec.port, cnf.host, cnf.socket, cnf.port)
    )


def _no_target(spec: EndpointSpec, settings: Settings, cwd: Path | None) -> UsageError:
    """The error for a command that was not told which server to use."""
    ref, opt = spec.ref, spec.option
    if settings.path is None:
        where = (
            f"no myshift.toml was found in {(cwd or Path.cwd()).resolve()} or its parents, "
            "and neither --config nor MYSHIFT_CONFIG was given"
        )
    elif settings.environments:
        known = ", ".join(sorted(settings.environments))
        where = f"the environments in {settings.path} are {known}"
    else:
        where = f"{settings.path} defines no environment"
    how = (
        f"Give {opt} NAME (an [env.NAME] table in myshift.toml), "
        f"{opt} mysql://user@host:port/schema, or -h HOST [-P PORT] with the schema name."
    )
    if ref is None:
        what = "No target database" if opt == "--to" else "No database"
        return UsageError(f"{what} was given ({spec.role}, {opt}); {where}.", how)
    return UsageError(
        f"{ref!r} is not a known environment and no server was given for it "
        f"(-h, -P, -S or ~/.my.cnf): {where}.",
        how,
    )


def _option_file_path(
    spec: EndpointSpec, env: EnvConfig | None, settings: Settings, env_vars: Mapping[str, str]
) -> Path:
    """The option file to read: --defaults-file replaces ~/.my.cnf, as in the mysql client."""
    if spec.defaults_file is not None:
        cnf_path = Path(spec.defaults_file).expanduser()
        if not cnf_path.is_file():
            raise UsageError(
                f"The defaults file {cnf_path} does not exist.", "Fix --defaults-file."
            )
        return cnf_path
    if env is not None and env.defaults_file is not None:
        cnf_path = Path(env.defaults_file)
        if not cnf_path.is_file():
            raise UsageError(
                f"The defaults file {cnf_path} of environment {env.name!r} does not exist.",
                f"Fix defaults_file in {settings.path}.",
            )
        return cnf_path
    home = env_vars.get("HOME")
    return (Path(home) if home else Path.home()) / ".my.cnf"


def _read_cnf(path: Path) -> tuple[_Layer, bool]:
    """The option file's layer, and whether it asks for a prompt."""
    opts = read_option_file(path)
    # `password` with no value in an option file means "prompt", as in mysql.
    return _cnf_layer(opts, path), "password" in opts and opts["password"] is None


def _middle_layer(url: _Layer | None, env: EnvConfig | None) -> _Layer:
    """The URL's fields, or the named environment's, or nothing."""
    if url is not None:
        return url
    if env is None:
        return _Layer()
    return _Layer(
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


def _flags_layer(spec: EndpointSpec, bare_schema: str | None) -> _Layer:
    """The explicit command-line flags (a bare schema ``ref`` yields to ``-D``)."""
    return _Layer(
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


def _check_tls_files(merged: _Layer) -> None:
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


def _expand(value: str | None) -> str | None:
    return None if value is None else str(Path(value).expanduser())


def _check_ssl_mode(mode: str | None) -> str | None:
    if mode is None:
        return None
    norm = mode.strip().upper().replace("-", "_")
    if norm not in SSL_MODES:
        raise UsageError(f"Unknown ssl_mode {mode!r}.", f"Use one of {', '.join(SSL_MODES)}.")
    return norm
