"""Command line: parse options, call one workflow, turn errors into messages and exit codes."""

from __future__ import annotations

import sys

import click

from myshift import __version__


@click.group()
@click.version_option(__version__, prog_name="myshift")
def cli() -> None:
    """Safe, rehearsed schema migrations for MySQL and MariaDB."""


def main() -> None:
    cli(prog_name="myshift")


if __name__ == "__main__":
    main()
    sys.exit(0)
