"""``myshift runbook --emergency``: what to do when applying a plan goes wrong.

Filled in with this plan's objects and this environment's names: how to find
and kill a stuck ALTER (metadata-lock waits included), how to clean up after a
stuck pt-online-schema-change run, how to roll back with myshift and without
it (the reverse statements, from the plan file's snapshots), how to restore a
kept table or kept column values by hand, and whom to tell (the environment's
notification channels).  With a target, the apply of this plan that history
records (by plan hash) and what it kept fill in the ids and held names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from myshift.config.settings import Settings
from myshift.db.connect import DEFAULT_LOCK_WAIT_TIMEOUT, Endpoint, connected
from myshift.workflows import emergency_sql as sql
from myshift.workflows.emergency_text import TEXTS
from myshift.workflows.history import ApplyRecord, History
from myshift.workflows.history.records import DEFAULT_SCHEMA
from myshift.workflows.keepdata import (
    DEFAULT_HOLDING,
    Held,
    HeldColumns,
    HeldPartition,
    HeldTable,
    held_for_apply,
)
from myshift.workflows.planfile import PlanFile


@dataclass(frozen=True)
class EmergencyFacts:
    """What the runbook says about the environment (resolved by the CLI, then the server)."""

    target: str  # how commands name it: the environment's name, else the redacted URL
    server: str  # redacted: no password
    channels: tuple[str, ...] = ()  # "team-slack (slack)", ...
    lock_wait_timeout: int = DEFAULT_LOCK_WAIT_TIMEOUT
    rds: bool = False  # RDS: KILL through mysql.rds_kill*
    holding: str = DEFAULT_HOLDING
    apply: ApplyRecord | None = None  # this plan's apply, as history records it
    held: tuple[Held, ...] = ()  # what that apply kept


def _block(text: str, lang: str = "sql") -> list[str]:
    return ["", f"```{lang}", text, "```", ""]


def format_emergency(
    pf: PlanFile, facts: EmergencyFacts, *, plan_path: str = "plan.json", lang: str = "en"
) -> str:
    """The emergency runbook for one plan file, in ``lang`` (pure: no server)."""
    t = TEXTS[lang]
    lines = _head(t, pf, facts, plan_path)
    lines += _notify(t, pf, facts)
    lines += _stuck(t, pf, facts)
    lines += _online(t, pf)
    lines += _rollback(t, facts)
    lines += _manual(t, pf, facts)
    lines += _kept(t, pf, facts)
    lines += ["", t["s_after"], "", t["after"].format(target=facts.target)]
    return "\n".join(lines) + "\n"


def _objects(pf: PlanFile) -> list[str]:
    names: list[str] = []
    for st in pf.runnable:
        names += [n.strip() for n in st.subject.split(",") if n.strip()]
    return list(dict.fromkeys(names))


def _altered_tables(pf: PlanFile) -> list[str]:
    tables = {t.name.lower() for t in pf.current.tables}
    return list(
        dict.fromkeys(
            s.subject
            for s in pf.runnable
            if s.sql.upper().startswith("ALTER TABLE") and s.subject.lower() in tables
        )
    )


def _apply_id(facts: EmergencyFacts) -> str:
    return str(facts.apply.id) if facts.apply is not None else "<ID>"


def _head(t: dict[str, str], pf: PlanFile, facts: EmergencyFacts, plan: str) -> list[str]:
    objects = ", ".join(f"`{n}`" for n in _objects(pf)) or "—"
    a = facts.apply
    apply_line = (
        t["f_apply"].format(
            id=a.id,
            outcome=a.outcome,
            when=f"{a.started_at:%Y-%m-%d %H:%M}",
            who=f"{a.operator_user}@{a.operator_host}",
        )
        if a is not None
        else t["f_apply_none"].format(target=facts.target, plan=plan)
    )
    return [
        t["title"].format(schema=pf.schema, target=facts.target),
        "",
        t["intro"].format(plan=plan),
        "",
        t["f_plan"].format(plan=plan, hash=pf.plan_hash[:19], n=len(pf.runnable), objects=objects),
        t["f_server"].format(server=facts.server, flavor=pf.flavor),
        apply_line,
        t["f_lock"].format(n=facts.lock_wait_timeout),
    ]


def _notify(t: dict[str, str], pf: PlanFile, facts: EmergencyFacts) -> list[str]:
    env = facts.target
    said = (
        t["notify_channels"].format(env=env, channels=", ".join(facts.channels))
        if facts.channels
        else t["notify_none"].format(env=env)
    )
    return ["", t["s_notify"], "", said, t["notify_what"].format(env=env, hash=pf.plan_hash)]


def _stuck(t: dict[str, str], pf: PlanFile, facts: EmergencyFacts) -> list[str]:
    tables = [n for n in _objects(pf) if n.lower() in {x.name.lower() for x in pf.current.tables}]
    lines = ["", t["s_stuck"], "", t["find"].format(ref=_apply_id(facts))]
    lines += _block(sql.processlist_sql(pf.schema, _objects(pf)))
    lines.append(t["mdl"].format(lw=facts.lock_wait_timeout))
    lines += _block(sql.mdl_waits_sql() + "\n\n" + sql.open_transactions_sql())
    if tables:
        lines.append(t["holders"])
        lines += _block(sql.lock_holders_sql(pf.flavor_value, pf.schema, tables))
    lines += [f"- {t['kill_query']}", f"- {t['kill']}"]
    if facts.rds:
        lines.append(f"- {t['rds']}")
    lines += ["", t["after_kill"].format(target=facts.target)]
    return lines


def _online(t: dict[str, str], pf: PlanFile) -> list[str]:
    tables = _altered_tables(pf)
    lines = ["", t["s_online"], ""]
    if not tables:
        return [*lines, t["online_none"]]
    lines.append(t["online_intro"].format(tables=", ".join(f"`{n}`" for n in tables)))
    lines.append("")
    lines.append(t["online_ps"])
    lines += _block("pgrep -af pt-online-schema-change\nkill -TERM <PID>", "sh")
    lines.append(t["online_left"])
    lines += _block(sql.online_leftovers_sql(pf.schema, tables))
    for table in tables:
        lines.append(f"### `{table}`")
        lines += ["", t["online_sessions"]]
        lines += _block(sql.online_sessions_sql(pf.schema, table))
        lines.append(t["online_moved"].format(table=table))
        lines += _block(sql.moved_triggers_sql(pf.schema, table))
        lines.append(t["online_clean"].format(table=table))
        lines += _block(sql.online_cleanup_sql(pf.schema, table))
        lines.append(t["online_old"].format(table=table))
        lines += _block(sql.old_table_back_sql(pf.schema, table))
    return lines


def _rollback(t: dict[str, str], facts: EmergencyFacts) -> list[str]:
    target, ref = facts.target, _apply_id(facts)
    lines = ["", t["s_rollback"], "", t["rb_history"]]
    lines += _block(f"myshift history --to {target}\nmyshift history {ref} --to {target}", "sh")
    lines.append(t["rb_run"])
    lines += _block(
        f"myshift rollback {ref} --to {target} --plan-only\nmyshift rollback {ref} --to {target}",
        "sh",
    )
    lines.append(t["rb_flags"])
    return lines


def _manual(t: dict[str, str], pf: PlanFile, facts: EmergencyFacts) -> list[str]:
    lines = ["", t["s_manual"], ""]
    if not pf.runnable:
        return [*lines, t["manual_none"]]
    lines.append(t["manual_intro"].format(target=facts.target, ref=_apply_id(facts)))
    kept = sql.kept_tables(pf)
    if kept:
        lines += ["", t["manual_kept_first"].format(tables=", ".join(f"`{n}`" for n in kept))]
    lines += _block(sql.reverse_sql(pf, facts.lock_wait_timeout, t["kept_note"]))
    cols = sql.kept_columns(pf)
    if cols:
        what = ", ".join(f"`{tb}`.{'/'.join(cs)}" for tb, cs in cols)
        lines.append(t["manual_kept_after"].format(cols=what))
    parts = sql.kept_partitions(pf)
    if parts:
        what = ", ".join(f"`{tb}` {p}" for tb, p in parts)
        lines.append(t["manual_parts_after"].format(parts=what))
    lines.append(t["manual_loss"])
    return lines


def _held_for(facts: EmergencyFacts, table: str, kind: type) -> Held | None:
    for h in reversed(facts.held):  # the latest kept of that table
        if isinstance(h, kind) and h.table.lower() == table.lower():
            return h
    return None


def _kept(t: dict[str, str], pf: PlanFile, facts: EmergencyFacts) -> list[str]:
    tables, cols, parts = sql.kept_tables(pf), sql.kept_columns(pf), sql.kept_partitions(pf)
    lines = ["", t["s_kept"], ""]
    if not tables and not cols and not parts:
        return [*lines, t["kept_none"]]
    names = [*tables, *(tb for tb, _ in cols), *(tb for tb, _ in parts)]
    lines.append(t["kept_intro"].format(holding=facts.holding, target=facts.target))
    lines += _block(sql.held_rows_sql(facts.holding, pf.schema, list(dict.fromkeys(names))))
    apply_id = facts.apply.id if facts.apply is not None else None
    for table in tables:
        held = _held_for(facts, table, HeldTable)
        name = held.held_name if held is not None else sql.held_name_guess(apply_id, table)
        lines.append(t["kept_table"].format(table=table))
        lines += _block(sql.restore_table_sql(facts.holding, pf.schema, table, name))
    for table, columns in cols:
        held = _held_for(facts, table, HeldColumns)
        assert held is None or isinstance(held, HeldColumns)
        lines.append(t["kept_cols"].format(table=table, cols=", ".join(f"`{c}`" for c in columns)))
        lines += _block(sql.restore_columns_by_hand(pf, facts.holding, table, columns, held))
    for table, part in parts:
        found = [
            h
            for h in facts.held
            if isinstance(h, HeldPartition) and (h.table, h.partition) == (table, part)
        ]
        name = found[-1].held_name if found else sql.held_name_guess(apply_id, table, f"__{part}")
        lines.append(t["kept_parts"].format(table=table, partition=part))
        lines += _block(sql.restore_partition_by_hand(facts.holding, pf.schema, table, part, name))
    if not facts.held:
        lines.append(t["kept_guess"])
    return lines


# --------------------------------------------------------------------------- with a server


def environment_facts(settings: Settings, target: Endpoint | None) -> EmergencyFacts:
    """What myshift.toml says about ``target``'s environment (no target: nothing but
    the lock wait; the runbook then names the plan's own target)."""
    from myshift.workflows.notify import server_label

    env = settings.environments.get(target.env_name or "") if target is not None else None
    return EmergencyFacts(
        target=str(target) if target is not None else "",
        server=server_label(target, env) if target is not None else "",
        channels=tuple(settings.notify[n].label for n in env.notify) if env is not None else (),
        lock_wait_timeout=settings.lock_wait_timeout,
        rds=env is not None and env.rds_instance is not None,
    )


def this_plans_apply(records: Sequence[ApplyRecord], pf: PlanFile) -> ApplyRecord | None:
    """The latest apply of exactly this plan (by plan hash) among ``records``."""
    found = [r for r in records if r.kind == pf.kind and r.plan_hash == pf.plan_hash]
    return max(found, key=lambda r: r.id) if found else None


def emergency_for(
    pf: PlanFile,
    target: Endpoint,
    facts: EmergencyFacts,
    *,
    plan_path: str = "plan.json",
    history_schema: str = DEFAULT_SCHEMA,
    lang: str = "en",
) -> str:
    """The emergency runbook with history's apply of this plan and what it kept (best
    effort: a runbook without them still says how to find them)."""
    try:
        with connected(replace(target, schema="")) as conn:
            records = History(conn, schema=history_schema, audit_path=None).list_applies(
                pf.schema, limit=50
            )
            found = this_plans_apply(records, pf)
            held = held_for_apply(conn, found.id, holding=facts.holding) if found else []
        facts = replace(facts, apply=found, held=tuple(held))
    except Exception:  # the runbook matters most when the server is in trouble
        pass
    return format_emergency(pf, facts, plan_path=plan_path, lang=lang)


__all__ = [
    "EmergencyFacts",
    "emergency_for",
    "environment_facts",
    "format_emergency",
    "this_plans_apply",
]
