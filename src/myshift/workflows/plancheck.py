"""Trusting a plan file: apply runs only what the engine itself derives.

A plan file is JSON anyone with the file can edit, and ``plan_hash`` is an
unkeyed digest anyone can recompute.  So before a statement runs, apply
re-derives the plan from

* the target as it is now: introspected for the drift check anyway, its
  fingerprint must be the plan's ``from``, and so must the file's ``from``
  snapshot's (the diff then runs from that snapshot: see trusted_planfile),
* the file's ``to`` snapshot (which must fingerprint to its ``to``), and
* the options the plan was made with (``Derivation``: keep-data, the renames
  the diff used; ``allow_drop`` and the flavor it rendered for),

through the same diff, render, assessment, keep-data marks and pre-flight
queries that ``plan`` uses (``file_statements``), and refuses the file unless
every statement matches, naming the first one the engine would not have
produced.  What runs is the re-derived list, never the file's: pre-flight
queries included.  A rollback plan is re-derived the way ``rollback`` makes
it (the undone apply's snapshot in history, the objects it touched, the held
data in the trash catalog).  Data statements never come from a file: the
keep-data backups and restores are generated at run time (workflows.keepdata).

This makes a plan file *consistent*, not *authentic*: someone who rewrites
the ``to`` snapshot and the statements together produces a consistent plan
(with another ``plan_hash``, which no rehearsal in the target's history
vouches for).  Authenticity is the optional team key: ``plan -o`` signs the
file with HMAC-SHA256 and ``apply --plan``/``rehearse`` refuse unsigned or
badly signed files (``check_signature``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from myshift.errors import UnsafeError, UsageError
from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import (
    Derivation,
    PlannedStatement,
    PlanOptions,
    derive,
    file_statements,
)

if TYPE_CHECKING:
    from myshift.config.settings import Settings
    from myshift.db.connect import Endpoint
    from myshift.engine.changes import Change
    from myshift.model import Schema

REMAKE = "Make a new plan with `myshift plan -o FILE` and review it again."


class PlanMismatch(UnsafeError):
    """A plan file holding something the engine would not have derived from it."""


# --------------------------------------------------------------------------- deriving


def _derived(
    pf: PlanFile, derivation: Derivation
) -> tuple[list[Change], list[PlannedStatement], Schema]:
    from myshift.engine.load import RenameHints

    hints = RenameHints(
        tables={new: old for old, new in derivation.rename_tables},
        columns={(table, new): old for table, old, new in derivation.rename_columns},
    )
    return derive(
        pf.current,
        pf.desired,
        pf.flavor_value,
        PlanOptions(allow_drop=pf.allow_drop, keep_data=derivation.keep_data),
        hints=hints or None,
        definers=derivation.definers,
    )


def reached_by(pf: PlanFile) -> Schema:
    """The schema the plan file's runnable statements reach: its ``desired`` but for
    what it holds back (without --allow-drop, see engine.holdback)."""
    if pf.allow_drop or not any(s.skipped for s in pf.statements):
        return pf.desired
    return _derived(pf, pf.derivation or Derivation())[2]


def _derive_apply(pf: PlanFile, derivation: Derivation) -> list[PlannedStatement]:
    changes, statements, _ = _derived(pf, derivation)
    return file_statements(statements, changes, pf.current, derivation.keep_data)


def _derive_rollback(
    pf: PlanFile,
    target: Endpoint,
    derivation: Derivation,
    history_schema: str,
    holding: str,
    own_lock: int | None,
) -> PlanFile:
    from myshift.workflows.rollbackplan import build_rollback_planfile

    if pf.undoes_apply_id is None:
        raise PlanMismatch("The rollback plan does not say which apply it undoes.", REMAKE)
    again = build_rollback_planfile(
        target,
        pf.undoes_apply_id,
        history_schema=history_schema,
        holding=holding,
        keep_data=derivation.keep_data,
        verify=False,
        own_lock=own_lock,
        reviewed_outside=derivation.take_back,
    )
    if again.to_fingerprint != pf.to_fingerprint:
        raise PlanMismatch(
            f"The rollback plan's `to` is not the schema a rollback of apply "
            f"#{pf.undoes_apply_id} restores now.",
            f"Make a new rollback plan with `myshift rollback {pf.undoes_apply_id} "
            "--plan-only -o FILE` and review it again.",
        )
    return again


# --------------------------------------------------------------------------- checking


def _short(sql: str) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= 120 else flat[:117] + "..."


def _comparable(st: PlannedStatement) -> PlannedStatement:
    """Pre-flight counts are what plan saw on the data, not part of the statement;
    nor is the online path: apply decides it again from live sizes and the
    re-derived ``online_alter`` (workflows.online), never from the file, so plan
    files made before it existed stay valid."""
    st = replace(st, online_alter="", online_unfit="", path="server", path_reason="")
    if not st.preflight:
        return st
    return replace(st, preflight=tuple(replace(p, violations=None) for p in st.preflight))


_FIELDS = (
    "subject",
    "risk",
    "algorithm",
    "lock",
    "skipped",
    "preflight",
    "keep_table",
    "keep_columns",
    "keep_partitions",
    "restore_held",
    "session_before",
    "session_after",
    "recheck",
    "description",
    "reason",
)


def _first_difference(
    claimed: Sequence[PlannedStatement], derived: Sequence[PlannedStatement]
) -> str:
    """'' when equal, else the first thing the file holds that the engine would not
    produce (phrased to go before "from the plan's own snapshots and options")."""
    for n, (a, b) in enumerate(zip(claimed, derived, strict=False), start=1):
        if a.sql != b.sql:
            return f"statement {n} `{_short(a.sql)}` where myshift would produce `{_short(b.sql)}`"
        x, y = _comparable(a), _comparable(b)
        if x != y:
            fields = " and ".join([f for f in _FIELDS if getattr(x, f) != getattr(y, f)][:2])
            return f"statement {n} `{_short(a.sql)}` with another {fields} than myshift would give"
    if len(claimed) > len(derived):
        extra = _short(claimed[len(derived)].sql)
        return f"statement {len(derived) + 1} `{extra}`, which myshift would not produce"
    if len(claimed) < len(derived):
        return (
            f"{len(claimed)} statement(s), leaving out `{_short(derived[len(claimed)].sql)}` "
            f"that myshift would produce"
        )
    return ""


def trusted_planfile(
    pf: PlanFile,
    target: Endpoint,
    *,
    history_schema: str = "_myshift",
    holding: str = "_myshift_trash",
    own_lock: int | None = None,
) -> PlanFile:
    """The plan as the engine derives it, or PlanMismatch when the file differs.

    Call it once ``runner.check_drift`` has shown that the target, introspected
    under the apply's lock, has the plan's ``from`` fingerprint.  The file's
    ``from`` snapshot must have it too, so it is the live model as far as the
    fingerprint can tell (which is all the diff looks at); deriving from it
    rather than from the live objects keeps both sides of the diff sharing
    their unchanged tables (PlanFile reads them as one object), which makes
    the check cheap.  The result is what apply runs: the re-derived
    statements, with pre-flight queries but not the file's counts.
    """
    from myshift.model.serialize import FingerprintCache, fingerprint

    if pf.kind not in ("apply", "rollback"):
        raise PlanMismatch(f"The plan is of an unknown kind {pf.kind!r}.", REMAKE)
    cache: FingerprintCache = {}  # the two snapshots share their unchanged objects
    if fingerprint(pf.current, cache) != pf.from_fingerprint:
        raise PlanMismatch(
            "The plan's `from` snapshot does not match its `from` fingerprint: the file was "
            "edited after it was made.",
            REMAKE,
        )
    if fingerprint(pf.desired, cache) != pf.to_fingerprint:
        raise PlanMismatch(
            "The plan's `to` snapshot does not match its `to` fingerprint: the file was edited "
            "after it was made.",
            REMAKE,
        )
    derivation = pf.derivation
    if derivation is None:  # made before plans recorded it: the marks say whether it kept data
        derivation = Derivation(any(s.keeps for s in pf.statements))
    if pf.kind == "rollback":
        trusted = _derive_rollback(pf, target, derivation, history_schema, holding, own_lock)
    else:
        trusted = replace(pf, statements=_derive_apply(pf, derivation))
    wrong = _first_difference(pf.statements, trusted.statements)
    if wrong:
        raise PlanMismatch(
            f"The plan holds {wrong} from the plan's own snapshots and options: the file "
            "was edited after it was made, and nothing was run.",
            REMAKE,
        )
    return replace(
        pf, statements=trusted.statements, current=trusted.current, desired=trusted.desired
    )


# --------------------------------------------------------------------------- the team key


@dataclass(frozen=True)
class PlanKey:
    """The team key plan files are signed with, and where it came from (for messages)."""

    secret: bytes = field(repr=False)
    source: str


def plan_key(
    settings: Settings, env_name: str | None = None, environ: Mapping[str, str] | None = None
) -> PlanKey | None:
    """The configured plan key: ``MYSHIFT_PLAN_KEY``, else the environment's
    ``plan_key_file``, else the top-level ``plan_key_file``; None when there is none."""
    from myshift.config.settings import PLAN_KEY_ENV

    env_vars: Mapping[str, str] = os.environ if environ is None else environ
    value = env_vars.get(PLAN_KEY_ENV, "").strip()
    if value:
        return PlanKey(value.encode(), f"the {PLAN_KEY_ENV} environment variable")
    env = settings.environments.get(env_name) if env_name else None
    if env is not None and env.plan_key_file is not None:
        where = f"plan_key_file of environment {env.name!r} in {settings.path}"
        return _read_key(Path(env.plan_key_file), where)
    if settings.plan_key_file is not None:
        return _read_key(settings.plan_key_file, f"plan_key_file in {settings.path}")
    return None


def _read_key(path: Path, where: str) -> PlanKey:
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise UsageError(
            f"Cannot read the plan key file {path} ({where}): {exc.strerror}.",
            "Fix the path, or give the key in MYSHIFT_PLAN_KEY.",
        ) from None
    if not secret:
        raise UsageError(
            f"The plan key file {path} ({where}) is empty.",
            "Put the team's key in it (e.g. `openssl rand -hex 32 > FILE`).",
        )
    return PlanKey(secret, f"{where}: {path}")


def check_signature(pf: PlanFile, key: PlanKey | None, origin: str) -> None:
    """With a key configured, the plan file must carry its signature (HMAC-SHA256)."""
    if key is None:
        return
    if pf.signature is None:
        raise UnsafeError(
            f"{origin} is not signed, and a plan key is configured ({key.source}).",
            "Make the plan with `myshift plan -o FILE` where the team key is configured, "
            "and review it again.",
        )
    if not pf.signature_ok(key.secret):
        raise UnsafeError(
            f"{origin} has a signature that does not match the plan key ({key.source}): it was "
            "changed after it was signed, or signed with another key.",
            REMAKE,
        )


__all__ = [
    "PlanKey",
    "PlanMismatch",
    "check_signature",
    "plan_key",
    "trusted_planfile",
]
