"""myshift: safe, rehearsed schema migrations for MySQL and MariaDB."""

__version__ = "0.1.0"
