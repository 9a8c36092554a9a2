"""The ``ALGORITHM=`` clause apply sends under an ``--algorithm`` policy.

Without ``--algorithm`` nothing is added: the server chooses, as before, and
the plan shows the prediction (``myshift rehearse`` shows what the server did).

With ``--algorithm instant|inplace`` a statement predicted costlier than the
policy is refused before anything runs (runner.check_algorithms); every other
ALTER TABLE that runs on the server itself is sent with an ``ALGORITHM=``
clause, so that a wrong prediction makes the server refuse the statement
instead of silently rebuilding or copying the table:

* MySQL: the *predicted* algorithm.  MySQL runs exactly the algorithm named:
  ``ALGORITHM=INPLACE`` on an ADD COLUMN that could be instant rebuilds the
  table ("Still fall back to INPLACE since the behaviour is different",
  ha_innobase::check_if_supported_inplace_alter()), so the policy's own value
  would cost more than the prediction (handler0alter.cc line 1041 of MySQL
  8.0.41).
* MariaDB: the *policy*.  MariaDB reads the clause as the least efficient
  algorithm acceptable (KB "InnoDB Online DDL Overview": "If the user specifies
  any other algorithm, then InnoDB interprets that choice as the least
  efficient algorithm that the user is willing to accept"), which is the
  policy exactly; MariaDB plans that ran before still run.

``--algorithm copy`` allows everything: nothing is added.  Statements run by
an online schema change tool (path ``pt-osc``), partitioning statements
(``PARTITION BY``, ``REMOVE PARTITIONING``, and ADD / DROP / REORGANIZE /
COALESCE PARTITION, beside which MariaDB takes no ALGORITHM= at all) and
statements already carrying ``ALGORITHM=`` are left as they are.
"""

from __future__ import annotations

import re
from dataclasses import replace

from myshift.engine.risk import Algorithm
from myshift.errors import ApplyFailed
from myshift.model import Flavor
from myshift.workflows.planmodel import PlannedStatement

# ER_ALTER_OPERATION_NOT_SUPPORTED, ER_ALTER_OPERATION_NOT_SUPPORTED_REASON
# (both flavors), ER_INNODB_MAX_ROW_VERSION (MySQL 8.0.29+).
_PARTITION_MAINTENANCE = re.compile(
    r"^ALTER TABLE `(?:[^`]|``)+` (?:ADD|DROP|REORGANIZE|COALESCE) PARTITION\b"
)
REFUSED = frozenset({1845, 1846, 4092})


def clause_for(st: PlannedStatement, policy: Algorithm | None, flavor: Flavor) -> str | None:
    """The algorithm to name for ``st`` under ``policy``, or None to send it as planned."""
    if policy is None or policy is Algorithm.COPY or st.path != "server":
        return None
    sql = st.sql.lstrip()
    if not sql.upper().startswith("ALTER TABLE ") or "ALGORITHM=" in sql.upper():
        return None
    if " PARTITION BY " in sql or sql.endswith("REMOVE PARTITIONING"):
        return None  # partition options follow the alter options without a comma
    if _PARTITION_MAINTENANCE.search(sql):
        # MariaDB's grammar takes no ALGORITHM= beside ADD/DROP/REORGANIZE/COALESCE
        # PARTITION (error 1064, measured on 10.11.19).
        return None
    algorithm = policy if flavor.is_mariadb else st.algorithm
    return algorithm.value


def with_algorithm(
    st: PlannedStatement, policy: Algorithm | None, flavor: Flavor
) -> PlannedStatement:
    """``st`` as apply sends it (see the module docstring)."""
    name = clause_for(st, policy, flavor)
    if name is None:
        return st
    return replace(st, sql=f"{st.sql}, ALGORITHM={name}")


def refused(code: int, err: str, st: PlannedStatement, seq: int, total: int) -> ApplyFailed | None:
    """The error for a statement the server refused to run with the algorithm sent."""
    if code not in REFUSED or "ALGORITHM=" not in st.sql:
        return None
    return ApplyFailed(
        f"Statement {seq} of {total} on {st.subject!r} was refused by the server with the "
        f"algorithm sent under --algorithm ({err}); myshift predicted "
        f"{st.algorithm.value} ({st.reason}), and the statement did not run.",
        (f"Statements 1..{seq - 1} were applied" if seq > 1 else "No statement was applied")
        + "; re-run without --algorithm to let the server choose (try it with `myshift "
        "rehearse` first), and report the wrong prediction to myshift.",
    )
