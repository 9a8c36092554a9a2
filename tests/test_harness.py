from __future__ import annotations

from myshift.db.connect import Conn
from myshift.model import Vendor


def test_throwaway_server_is_mariadb(conn: Conn) -> None:
    assert conn.flavor.vendor is Vendor.MARIADB
    assert conn.flavor.min(10, 11)
    assert conn.scalar("SELECT @@session.lock_wait_timeout") == 5
