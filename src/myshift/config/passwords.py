"""Password sources, and the guards that keep a password off the command line.

The password comes from the first of: the URL, ``MYSQL_PWD``, the
environment's ``password_env`` variable, a terminal prompt when ``-p`` was
given alone (or the option file says ``password`` with no value), the option
file.  It is never taken from the command line: ``reject_inline_password``
refuses ``-pSECRET`` before the CLI parser sees it.
"""

from __future__ import annotations

import getpass
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence

from myshift.config.settings import EnvConfig
from myshift.errors import UsageError


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


def choose_password(
    *,
    url_password: str | None,
    env: EnvConfig | None,
    environ: Mapping[str, str],
    password_prompt: bool,
    cnf_password: str | None,
    cnf_prompt: bool,
    prompt: Callable[[str], str] | None,
    where: str,
) -> str | None:
    """The password from the first source that has one (see the module docstring)."""
    if url_password is not None:
        return url_password
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
    if password_prompt or (cnf_prompt and cnf_password is None):
        ask = prompt or getpass.getpass
        return ask(f"Enter password for {where}: ")
    return cnf_password
