"""Where to connect and how: ``myshift.toml``, option files, passwords, endpoints.

- ``settings``: ``myshift.toml`` (top-level settings, named environments);
- ``optionfile``: ``~/.my.cnf`` / ``--defaults-file`` as the mysql client reads them;
- ``passwords``: the password sources, and the guards against a password in ``argv``;
- ``endpoint``: ``resolve_endpoint``, which layers all of them into an ``Endpoint``.
"""

from __future__ import annotations

# The names tests/test_config.py imports from here; src/ imports from the submodules.
from myshift.config.endpoint import EndpointSpec, resolve_endpoint
from myshift.config.optionfile import read_option_file
from myshift.config.passwords import reject_inline_password
from myshift.config.settings import load_settings

__all__ = [
    "EndpointSpec",
    "load_settings",
    "read_option_file",
    "reject_inline_password",
    "resolve_endpoint",
]
