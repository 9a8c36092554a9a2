"""Which path each statement takes: a plain ALTER on the server, or the online tool.

A statement that blocks writes for its whole run (a table copy, or a rebuild
under a SHARED/EXCLUSIVE lock: ``engine.online.blocks_writes``) on a big
table goes through pt-online-schema-change, which copies in chunks while
writes continue; everything else runs as planned on the DDL session, where
the bounded lock wait applies.  "Big" is ``[online] min_rows`` rows or
``min_bytes`` bytes in the catalogue's estimate (myshift.toml; defaults
100,000 rows / 64 MiB).

``--online``: ``auto`` (the default) as above; ``always`` sends every
blocking ALTER the tool can run through it, whatever the size; ``never``
never uses it.  A blocking statement on a big table that cannot take the
online path -- ``never``, the tool missing, or a statement the tool cannot
run (``engine.online.osc_alter``) -- is *refused* before anything runs: it
would hold the application's writes off for the whole copy.

gh-ost is not driven (yet): when it is on PATH the plan says so, and the
statement still goes through pt-online-schema-change.

The path is decided from the live target at apply time (sizes change
between plan and apply) from the re-derived statements (workflows.plancheck):
nothing of it is read from a plan file.  The plan shows the same decision
made at plan time, for review.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from myshift.config.settings import OnlinePolicy, OnlineSettings
from myshift.engine.online import blocks_writes
from myshift.errors import UnsafeError
from myshift.workflows.planmodel import PlannedStatement

MODES = ("auto", "always", "never")
SERVER, PT_OSC, REFUSED = "server", "pt-osc", "refused"
TOOL_PACKAGE = "percona-toolkit"


@dataclass(frozen=True)
class Size:
    rows: int
    bytes: int


def tool_path(policy: OnlinePolicy) -> str | None:
    """The tool's executable, or None when it is not installed (not on PATH)."""
    return shutil.which(policy.settings.tool)


def _size_text(size: Size | None) -> str:
    if size is None:
        return "a table not there yet"
    return f"~{size.rows:,} rows / {size.bytes / 1048576:,.1f} MiB"


def _big(size: Size | None, s: OnlineSettings) -> bool:
    return size is not None and (size.rows >= s.min_rows or size.bytes >= s.min_bytes)


def _threshold_text(s: OnlineSettings) -> str:
    return f"[online] min_rows {s.min_rows:,} / min_bytes {s.min_bytes / 1048576:,.0f} MiB"


def decide_one(
    st: PlannedStatement,
    size: Size | None,
    policy: OnlinePolicy,
    tool: str | None,
    unusable: str = "",
) -> PlannedStatement:
    """``st`` with ``path`` and ``path_reason`` set (pure: sizes and tool given).

    ``unusable`` says why the installed tool cannot reach this target (an IAM
    token login): a statement that would need it is refused with that reason.
    """
    for sql, path, reason in policy.forced:
        if sql == st.sql:
            return replace(st, path=path, path_reason=reason)
    if st.skipped or not blocks_writes(st.algorithm, st.lock):
        return replace(st, path=SERVER, path_reason="")
    s = policy.settings
    cost = f"{st.algorithm.value}, lock {st.lock.value} on {_size_text(size)}"
    if policy.mode != "always" and not _big(size, s):
        return replace(
            st,
            path=SERVER,
            path_reason=f"{cost}: below {_threshold_text(s)}, a plain ALTER "
            "(its lock wait bounded by lock_wait_timeout)",
        )
    if policy.mode == "always" and size is None:
        return replace(st, path=SERVER, path_reason=f"{cost}: nothing to copy online")
    why_big = "--online always" if policy.mode == "always" else f"over {_threshold_text(s)}"
    if policy.mode == "never":
        return replace(
            st,
            path=REFUSED,
            path_reason=f"{cost} ({why_big}) blocks writes for the whole copy, and "
            "--online never rules out the online tool",
        )
    if st.restore_held:
        # A rollback's restore of kept data: it runs as planned (refusing it would
        # leave the rollback half done).
        return replace(st, path=SERVER, path_reason=f"{cost}: a rollback restore, run as planned")
    if st.keeps:
        st = replace(st, online_alter="", online_unfit="keep-data backs up its rows first")
    if st.session_before or st.session_after or st.recheck:
        st = replace(st, online_alter="", online_unfit="it runs between session statements")
    if not st.online_alter:
        if policy.mode == "always" and not _big(size, s):
            return replace(
                st,
                path=SERVER,
                path_reason=f"{cost}: the online tool cannot run it ({st.online_unfit}); "
                "small enough for a plain ALTER",
            )
        return replace(
            st,
            path=REFUSED,
            path_reason=f"{cost} ({why_big}) blocks writes for the whole copy, and the "
            f"online tool cannot run it: {st.online_unfit}",
        )
    blocker = f"{s.tool} ({TOOL_PACKAGE}) is not installed" if tool is None else unusable
    if blocker:
        return replace(
            st,
            path=REFUSED,
            path_reason=f"{cost} ({why_big}) blocks writes for the whole copy, and {blocker}",
        )
    note = (
        "; gh-ost is on PATH but myshift does not drive it, so pt-online-schema-change"
        if shutil.which("gh-ost")
        else ""
    )
    return replace(
        st,
        path=PT_OSC,
        path_reason=f"{cost} ({why_big}): pt-online-schema-change copies it in chunks "
        f"while writes continue{note}",
    )


def decide_paths(
    statements: Sequence[PlannedStatement],
    sizes: Mapping[str, Size],
    policy: OnlinePolicy,
    tool: str | None,
    unusable: str = "",
    moved: Mapping[str, Size] | None = None,
) -> list[PlannedStatement]:
    """Every statement with its path decided (see ``decide_one``).

    ``moved``: by SQL, the size of what a statement really rewrites when that is
    less than its table (REORGANIZE PARTITION: only the partitions named).
    """
    moved = moved or {}
    return [
        decide_one(st, moved.get(st.sql, sizes.get(st.subject)), policy, tool, unusable)
        for st in statements
    ]


def refuse_blocked(statements: Sequence[PlannedStatement], policy: OnlinePolicy) -> None:
    """Raise UnsafeError naming the first refused statement and the fix, if any is."""
    refused = [(n, s) for n, s in enumerate(statements, start=1) if s.path == REFUSED]
    if not refused:
        return
    n, st = refused[0]
    more = f" ({len(refused)} statement(s) refused)" if len(refused) > 1 else ""
    s = policy.settings
    if policy.mode == "never":
        fix = "Apply with --online auto (the default) to run it through pt-online-schema-change"
    elif not st.online_alter:
        fix = "Split the change so the blocking part is one the online tool can run"
    else:
        fix = (
            f"Install {TOOL_PACKAGE} (`apt-get install {TOOL_PACKAGE}`, or `make server-deps`) "
            f"so {s.tool} is on PATH"
        )
    raise UnsafeError(
        # The clause description, not the SQL cut at a length (it ended mid-name).
        f"Statement {n} on {st.subject!r} ({st.description}) was refused: {st.path_reason}"
        f"{more}. Nothing was run.",
        f"{fix}; or, to accept a plain ALTER that blocks writes, raise [online] min_rows / "
        "min_bytes in myshift.toml above the table's size.",
    )


__all__ = [
    "MODES",
    "PT_OSC",
    "REFUSED",
    "SERVER",
    "OnlinePolicy",
    "Size",
    "decide_one",
    "decide_paths",
    "refuse_blocked",
    "tool_path",
]
