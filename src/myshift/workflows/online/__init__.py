"""The online path: blocking ALTERs on big tables through pt-online-schema-change.

``decide`` chooses each statement's path (and refuses what must not block
writes); ``ptosc`` runs one statement through the tool and cleans up after
it.  ``live_paths`` and ``run_online`` are what the workflows call.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence

from myshift.db.connect import Conn, Endpoint
from myshift.engine.online import blocks_writes
from myshift.workflows.online.decide import (
    MODES,
    PT_OSC,
    REFUSED,
    SERVER,
    OnlinePolicy,
    Size,
    decide_paths,
    refuse_blocked,
    tool_path,
)
from myshift.workflows.online.ptosc import OnProgress, OscOutcome, run_statement
from myshift.workflows.planmodel import PlannedStatement


def live_paths(
    conn: Conn, schema: str, statements: Sequence[PlannedStatement], policy: OnlinePolicy
) -> list[PlannedStatement]:
    """The statements with their paths decided from the live sizes of ``schema``'s tables
    (read only when some statement blocks writes: it opens every table)."""
    if policy.forced or not any(
        blocks_writes(s.algorithm, s.lock) and not s.skipped for s in statements
    ):
        return decide_paths(statements, {}, policy, tool_path(policy))
    from myshift.engine.introspect.catalog import table_sizes

    sizes = {
        name: Size(t.rows, t.data_bytes + t.index_bytes)
        for name, t in table_sizes(conn, schema).items()
        if t.type == "BASE TABLE"
    }
    moved = _reorganized_sizes(conn, schema, statements)
    return decide_paths(
        statements, sizes, policy, tool_path(policy), _unusable(conn.endpoint), moved
    )


# REORGANIZE PARTITION as engine.changes.partitions renders it.
_REORGANIZE = re.compile(r"^ALTER TABLE `((?:[^`]|``)+)` REORGANIZE PARTITION (.+?) INTO \(")
_NAME = re.compile(r"`((?:[^`]|``)+)`")


def _reorganized_sizes(
    conn: Conn, schema: str, statements: Sequence[PlannedStatement]
) -> dict[str, Size]:
    """The size of the partitions each REORGANIZE PARTITION rewrites: splitting the
    MAXVALUE catch-all of a big table moves only that partition's (often no) rows,
    under a lock held for that long (14 ms for an empty one at 1M rows; 0.13 s of
    stall for one holding ~83,000 rows, ``make bench ONLY=partition``)."""
    found = [(st, _REORGANIZE.match(st.sql)) for st in statements if not st.skipped]
    todo = [(st, m) for st, m in found if m is not None]
    if not todo:
        return {}
    from myshift.engine.introspect.catalog import partition_sizes

    parts = partition_sizes(conn, schema)
    out: dict[str, Size] = {}
    for st, m in todo:
        table = m.group(1).replace("``", "`")
        names = [n.replace("``", "`") for n in _NAME.findall(m.group(2))]
        known = [parts[(table, n)] for n in names if (table, n) in parts]
        if len(known) == len(names):
            out[st.sql] = Size(sum(r for r, _ in known), sum(b for _, b in known))
    return out


def _unusable(target: Endpoint) -> str:
    """Why pt-online-schema-change cannot log in to ``target``, or ""."""
    if target.fresh_password is not None:
        # Its option file would hold a token that expires in 15 minutes, and the
        # tool's DBD::mysql needs the cleartext plugin and TLS set up for it.
        return (
            'the target logs in with an RDS IAM token (auth = "iam"), which '
            "pt-online-schema-change cannot use (log in with a password for this apply)"
        )
    return ""


def refuse_online_in_progress(conn: Conn, schema: str) -> None:
    """Refuse while the tool's triggers are on the schema: an online change still runs
    (the tool outlives a killed myshift, as a server outlives it with its ALTER) or
    was stopped without its clean-up."""
    from myshift.engine.introspect.catalog import trigger_names
    from myshift.errors import UnsafeError
    from myshift.workflows.online.ptosc import TOOL_TRIGGER_PREFIX

    found = [t for t in trigger_names(conn, schema) if t.startswith(TOOL_TRIGGER_PREFIX)]
    if found:
        raise UnsafeError(
            f"An online schema change is running on schema {schema!r}, or was stopped "
            f"without cleaning up: its triggers {', '.join(found)} are there. Nothing was run.",
            "If pt-online-schema-change still runs (ps), wait for it to finish; if it does "
            "not, drop those triggers and its `_<table>_new` table, then apply again.",
        )


def run_online(
    conn: Conn,
    target: Endpoint,
    st: PlannedStatement,
    policy: OnlinePolicy,
    *,
    on_progress: OnProgress,
    say: Callable[[str], None],
    on_start: Callable[[list[str]], None] = lambda argv: None,
    stop: threading.Event | None = None,
) -> OscOutcome:
    """Run ``st`` on its online path (``st.path``); the --alter is the re-derived
    statement's own ``online_alter``."""
    tool = tool_path(policy)
    if st.path != PT_OSC or tool is None or not st.online_alter:
        raise ValueError(f"statement on {st.subject} has no runnable online path ({st.path})")
    return run_statement(
        conn,
        target,
        st.subject,
        st.online_alter,
        policy.settings,
        tool,
        on_progress=on_progress,
        say=say,
        on_start=on_start,
        stop=stop,
    )


__all__ = [
    "MODES",
    "PT_OSC",
    "REFUSED",
    "SERVER",
    "OnlinePolicy",
    "OscOutcome",
    "live_paths",
    "refuse_blocked",
    "refuse_online_in_progress",
    "run_online",
    "tool_path",
]
