"""Server vendor and version as one value, passed to every renderer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Vendor(StrEnum):
    MYSQL = "mysql"
    MARIADB = "mariadb"


@dataclass(frozen=True, order=True)
class Flavor:
    """Server vendor and version: every renderer and every online-DDL fact depends on it."""

    vendor: Vendor
    version: tuple[int, int, int]

    @classmethod
    def parse(cls, version: str, comment: str = "") -> Flavor:
        """Build from ``SELECT @@version, @@version_comment``."""
        m = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
        if not m:
            raise ValueError(f"unrecognised server version {version!r}")
        ver = (int(m[1]), int(m[2]), int(m[3]))
        is_maria = "mariadb" in version.lower() or "mariadb" in comment.lower()
        return cls(Vendor.MARIADB if is_maria else Vendor.MYSQL, ver)

    @classmethod
    def from_string(cls, text: str) -> Flavor:
        """Parse ``mariadb:10.11.6`` / ``mysql:8.0.36`` (as written in plan files)."""
        vendor, _, ver = text.partition(":")
        parts = [int(p) for p in ver.split(".")] + [0, 0, 0]
        return cls(Vendor(vendor), (parts[0], parts[1], parts[2]))

    def __str__(self) -> str:
        return f"{self.vendor.value}:{'.'.join(map(str, self.version))}"

    @property
    def is_mariadb(self) -> bool:
        return self.vendor is Vendor.MARIADB

    @property
    def is_mysql(self) -> bool:
        return self.vendor is Vendor.MYSQL

    def min(self, major: int, minor: int = 0, patch: int = 0) -> bool:
        return self.version >= (major, minor, patch)

    def min_mysql(self, major: int, minor: int = 0, patch: int = 0) -> bool:
        return self.is_mysql and self.min(major, minor, patch)

    def min_mariadb(self, major: int, minor: int = 0, patch: int = 0) -> bool:
        return self.is_mariadb and self.min(major, minor, patch)


MARIADB_10_11 = Flavor(Vendor.MARIADB, (10, 11, 0))
MYSQL_8_0 = Flavor(Vendor.MYSQL, (8, 0, 36))
MYSQL_8_4 = Flavor(Vendor.MYSQL, (8, 4, 0))
