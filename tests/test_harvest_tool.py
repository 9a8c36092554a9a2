"""tools/harvest_mysql_results.py, the harvester of the recorded MySQL fixtures (issue 16).

The .result files are not in the repository (their text stays upstream), so the
harvester is checked two ways: its SOURCES list must be the one the fixtures
in tests/data/mysql_recorded/ were written from (repository, path, pinned
commit, licence), and it must read a mysql-test excerpt, written here in the
format mysqltest records, into the facts the truth tests use.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "tools"))

import harvest_mysql_results as harvester  # noqa: E402

DATA = HERE / "data" / "mysql_recorded"


def test_sources_are_the_fixtures_sources() -> None:
    by_id = {s["id"]: s for s in harvester.SOURCES}
    fixtures = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in DATA.glob("*.json")}
    assert set(by_id) == set(fixtures)
    for sid, fx in fixtures.items():
        src, kept = by_id[sid], fx["source"]
        assert re.fullmatch(r"[0-9a-f]{40}", src["commit"]), sid
        assert src["path"].startswith("mysql-test/") and src["path"].endswith(".result")
        for key in ("repo", "path", "commit", "version", "flavor", "version_evidence"):
            assert kept[key] == src[key], (sid, key)
        assert kept["license"] == harvester.LICENSE and "GPL-2.0" in kept["license"]
        assert kept["url"] == (
            f"https://github.com/{src['repo']}/blob/{src['commit']}/{src['path']}"
        )
        assert 0 < kept["chars"] <= src["total_chars"], sid


# The mysqltest record format: statements echoed as written, result sets as a
# tab-separated header and rows, errors as "ERROR <sqlstate>: <message>".
EXCERPT = """\
#
# an excerpt in the mysqltest format
#
CREATE TABLE t1 (a INT, b TEXT, FULLTEXT(b));
SHOW CREATE TABLE t1;
Table\tCreate Table
t1\tCREATE TABLE `t1` (
  `a` int DEFAULT NULL,
  `b` text,
  FULLTEXT KEY `b` (`b`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci
SELECT NAME, TOTAL_ROW_VERSIONS FROM INFORMATION_SCHEMA.INNODB_TABLES WHERE NAME = 'test/t1';
NAME\tTOTAL_ROW_VERSIONS
test/t1\t7
ALTER TABLE t1 ADD COLUMN c INT, ALGORITHM=INSTANT;
ERROR 0A000: ALGORITHM=INSTANT is not supported. Reason: a reason. Try ALGORITHM=COPY/INPLACE.
ALTER TABLE t1 DROP INDEX b, ALGORITHM=INPLACE;
SHOW CREATE TABLE t1;
Table\tCreate Table
t1\tCREATE TABLE `t1` (
  `a` int DEFAULT NULL,
  `b` text
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci
ALTER TABLE t1 ADD INDEX (a), LOCK=NONE, ALGORITHM=COPY;
ERROR 0A000: LOCK=NONE is not supported. Reason: COPY algorithm requires a lock. Try LOCK=SHARED.
DROP TABLE t1;
"""


def test_harvester_reads_the_mysqltest_format() -> None:
    source = {"id": "excerpt", "repo": "r/r", "path": "mysql-test/r/x.result", "commit": "0" * 40}
    fx = harvester.harvest(EXCERPT, source)
    first, second = fx["tables"]
    assert (first["id"], first["statement_line"]) == ("excerpt:7", 5)
    assert first["show_create"].endswith("COLLATE=utf8mb4_0900_ai_ci")
    assert [h["line"] for h in first["history"]] == [4]
    refused, accepted, lock = fx["outcomes"]
    assert (refused["id"], refused["algorithm"], refused["outcome"]) == (
        "excerpt:15",
        "INSTANT",
        "refused",
    )
    assert refused["error"].startswith("ERROR 0A000: ALGORITHM=INSTANT is not supported")
    assert refused["total_row_versions"] == 7
    assert refused["before"]["line"] == 7 and refused["after"] is None
    assert (accepted["algorithm"], accepted["outcome"]) == ("INPLACE", "accepted")
    assert accepted["after"] == {"line": 20, "text": second["show_create"]}
    assert (lock["outcome"], lock["lock"]) == ("lock-refused", "NONE")


FK_EXCERPT = """\
CREATE TABLE child (a1 INT PRIMARY KEY, a2 INT) ENGINE = InnoDB;
ALTER TABLE child ADD FOREIGN KEY(a2) REFERENCES parent(b),
ALGORITHM = INPLACE;
ERROR 0A000: ALGORITHM=INPLACE is not supported. Reason: Adding foreign keys needs \
foreign_key_checks=OFF. Try ALGORITHM=COPY.
SET foreign_key_checks = 0;
ALTER TABLE child ADD CONSTRAINT fk_1 FOREIGN KEY (a2)
REFERENCES parent(b) ON DELETE SET NULL ON UPDATE CASCADE,
ALGORITHM = INPLACE;
ALTER TABLE child ADD INDEX (a1), ALGORITHM = INPLACE;
"""


def test_harvester_keeps_foreign_key_checks_with_a_key_add() -> None:
    """The session's foreign_key_checks decides whether a key add is in place, so
    an outcome that adds one keeps it; other outcomes do not carry it."""
    source = {"id": "fk", "repo": "r/r", "path": "mysql-test/r/x.result", "commit": "0" * 40}
    refused, added, index = harvester.harvest(FK_EXCERPT, source)["outcomes"]
    assert (refused["outcome"], refused["foreign_key_checks"]) == ("refused", "ON")
    assert (added["outcome"], added["foreign_key_checks"]) == ("accepted", "OFF")
    assert "foreign_key_checks" not in index


QUOTE_EXCERPT = """\
CREATE TABLE t1 (i INT);
SET @old_sql_quote_show_create= @@sql_quote_show_create, sql_quote_show_create= OFF;
SHOW CREATE TABLE t1;
Table\tCreate Table
t1\tCREATE TABLE t1 (
  i int DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci
SET sql_quote_show_create= @old_sql_quote_show_create;
SET sql_mode= 'ANSI_QUOTES';
SHOW CREATE TABLE t1;
Table\tCreate Table
t1\tCREATE TABLE "t1" (
  "i" int DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci
SET sql_mode= '';
SHOW CREATE TABLE t1;
Table\tCreate Table
t1\tCREATE TABLE `t1` (
  `i` int DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci
"""


def test_harvester_skips_texts_quoted_otherwise() -> None:
    """SHOW CREATE under sql_quote_show_create=OFF or ANSI_QUOTES quotes names as
    no tool's session sees them: only the text in the default quoting is kept."""
    source = {"id": "q", "repo": "r/r", "path": "mysql-test/r/x.result", "commit": "0" * 40}
    (table,) = harvester.harvest(QUOTE_EXCERPT, source)["tables"]
    assert table["id"] == "q:18" and table["show_create"].startswith("CREATE TABLE `t1`")
