"""The SQL of the emergency runbook (workflows.emergency), as text to paste.

Pure: built from the plan file (its tables, its two snapshots) and, when
they are known, the apply's id and what it kept.  Every query here runs on
MariaDB and MySQL alike unless its name says otherwise; tests run them
against a real server.
"""

from __future__ import annotations

from collections.abc import Sequence

from myshift.db.connect import quote_ident as q
from myshift.engine import ddl
from myshift.engine.keeppolicy import CATALOG, apply_prefix
from myshift.engine.load import RenameHints
from myshift.model import Flavor, Schema
from myshift.workflows.keepdata import HeldColumns, restore_columns_sql
from myshift.workflows.keepdata.sql import join_on
from myshift.workflows.online.ptosc import TOOL_TRIGGER_PREFIX, shadow_names
from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import PlannedStatement, PlanOptions, derive


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _in_list(names: Sequence[str]) -> str:
    return ", ".join(lit(n) for n in names)


# --------------------------------------------------------------------------- finding it


def processlist_sql(schema: str, names: Sequence[str]) -> str:
    """myshift's tagged statements and every statement naming one of the plan's objects."""
    # LOCATE, not LIKE: `_` in a name is no wildcard, whatever the sql_mode.
    naming = "".join(f"\n       OR LOCATE({lit(n)}, INFO) > 0" for n in names)
    return (
        "SELECT ID, USER, HOST, DB, COMMAND, TIME, STATE, LEFT(INFO, 200) AS statement\n"
        "FROM information_schema.PROCESSLIST\n"
        "WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN ('Sleep', 'Daemon')\n"
        f"  AND (INFO LIKE '/* myshift %'{naming}\n"
        f"       OR DB = {lit(schema)})\n"
        "ORDER BY TIME DESC;"
    )


def mdl_waits_sql() -> str:
    return (
        "SELECT ID, USER, TIME, STATE, LEFT(INFO, 200) AS statement\n"
        "FROM information_schema.PROCESSLIST\n"
        "WHERE STATE LIKE 'Waiting for table metadata lock%'\n"
        "ORDER BY TIME DESC;"
    )


def open_transactions_sql() -> str:
    """Every open transaction, oldest first: the usual holders of a metadata lock
    (a session idle in a transaction shows COMMAND = 'Sleep' here)."""
    return (
        "SELECT t.trx_mysql_thread_id AS ID, p.USER, p.HOST, p.COMMAND, p.TIME,\n"
        "       t.trx_started, t.trx_state, LEFT(t.trx_query, 200) AS statement\n"
        "FROM information_schema.INNODB_TRX AS t\n"
        "JOIN information_schema.PROCESSLIST AS p ON p.ID = t.trx_mysql_thread_id\n"
        "ORDER BY t.trx_started;"
    )


def lock_holders_sql(flavor: Flavor, schema: str, tables: Sequence[str]) -> str:
    """Who holds or waits for a metadata lock on the plan's tables (flavor-specific)."""
    names = _in_list(tables) or "''"
    if flavor.is_mariadb:
        return (
            "-- needs the metadata_lock_info plugin: INSTALL SONAME 'metadata_lock_info';\n"
            "SELECT THREAD_ID AS ID, LOCK_MODE, LOCK_TYPE, TABLE_NAME\n"
            "FROM information_schema.METADATA_LOCK_INFO\n"
            f"WHERE TABLE_SCHEMA = {lit(schema)} AND TABLE_NAME IN ({names});"
        )
    return (
        "SELECT t.PROCESSLIST_ID AS ID, m.OBJECT_NAME, m.LOCK_TYPE, m.LOCK_STATUS\n"
        "FROM performance_schema.metadata_locks AS m\n"
        "JOIN performance_schema.threads AS t ON t.THREAD_ID = m.OWNER_THREAD_ID\n"
        f"WHERE m.OBJECT_SCHEMA = {lit(schema)} AND m.OBJECT_NAME IN ({names})\n"
        "ORDER BY m.LOCK_STATUS, t.PROCESSLIST_ID;"
    )


# ------------------------------------------------------------------- pt-online-schema-change


def tool_triggers(schema: str, table: str) -> list[str]:
    """The triggers pt-online-schema-change puts on ``table``."""
    return [f"{TOOL_TRIGGER_PREFIX}{schema}_{table}_{op}"[:64] for op in ("ins", "upd", "del")]


def online_leftovers_sql(schema: str, tables: Sequence[str]) -> str:
    shadows = [n for t in tables for n in shadow_names(t)]
    return (
        "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS\n"
        f"WHERE TRIGGER_SCHEMA = {lit(schema)} "
        f"AND LEFT(TRIGGER_NAME, {len(TOOL_TRIGGER_PREFIX)}) = {lit(TOOL_TRIGGER_PREFIX)};\n"
        "SELECT TABLE_NAME, TABLE_ROWS, CREATE_TIME FROM information_schema.TABLES\n"
        f"WHERE TABLE_SCHEMA = {lit(schema)} AND TABLE_NAME IN ({_in_list(shadows)});"
    )


def online_sessions_sql(schema: str, table: str) -> str:
    return (
        "SELECT ID, USER, TIME, STATE, LEFT(INFO, 200) AS statement\n"
        "FROM information_schema.PROCESSLIST\n"
        f"WHERE ID <> CONNECTION_ID() AND DB = {lit(schema)} "
        f"AND LOCATE({lit(f'_{table}_new')}, INFO) > 0;"
    )


def moved_triggers_sql(schema: str, table: str) -> str:
    return f"SHOW TRIGGERS FROM {q(schema)} WHERE `Table` = {lit(f'_{table}_new')};"


def online_cleanup_sql(schema: str, table: str) -> str:
    lines = [f"DROP TRIGGER IF EXISTS {q(schema)}.{q(t)};" for t in tool_triggers(schema, table)]
    lines.append(f"DROP TABLE IF EXISTS {q(schema)}.{q(f'_{table}_new'[:64])};")
    return "\n".join(lines)


def old_table_back_sql(schema: str, table: str) -> str:
    return f"RENAME TABLE {q(schema)}.{q(f'_{table}_old'[:64])} TO {q(schema)}.{q(table)};"


# --------------------------------------------------------------------------- rolling back by hand


def _reverse_hints(pf: PlanFile) -> RenameHints | None:
    d = pf.derivation
    if d is None or not (d.rename_tables or d.rename_columns):
        return None
    back = {new: old for old, new in d.rename_tables}
    return RenameHints(
        tables={old: new for old, new in d.rename_tables},
        columns={(back.get(t, t), old): new for t, old, new in d.rename_columns},
    )


def reverse_statements(pf: PlanFile) -> list[PlannedStatement]:
    """The statements from what the plan reaches back to its ``from`` snapshot: pure,
    from the plan file's two snapshots (derived as ``plan`` derives, drops allowed)."""
    from myshift.workflows.plancheck import reached_by

    hints = _reverse_hints(pf)
    _changes, statements, _reached = derive(
        reached_by(pf),
        pf.current,
        pf.flavor_value,
        PlanOptions(allow_drop=True),
        hints=hints,
    )
    return statements


def kept_tables(pf: PlanFile) -> list[str]:
    return [s.subject for s in pf.runnable if s.keep_table]


def kept_columns(pf: PlanFile) -> list[tuple[str, tuple[str, ...]]]:
    return [(s.subject, s.keep_columns) for s in pf.runnable if s.keep_columns]


def kept_partitions(pf: PlanFile) -> list[tuple[str, str]]:
    """(table, partition) whose rows a keep-data DROP PARTITION swaps into the trash."""
    return [(s.subject, p) for s in pf.runnable for p in s.keep_partitions]


def restore_partition_by_hand(
    holding: str, schema: str, table: str, partition: str, held_name: str
) -> str:
    """What ``keepdata.restore_partition`` runs, for the mysql client."""
    t, h = f"{q(schema)}.{q(table)}", f"{q(holding)}.{q(held_name)}"
    return (
        "-- a partition re-created since the server's innodb_default_row_format changed\n"
        "-- has today's row format: if the EXCHANGE below says 1731 'ROW_FORMAT', run\n"
        f"-- ALTER TABLE {h} ROW_FORMAT=DEFAULT; (before LOCK TABLES) and start again\n"
        f"LOCK TABLES {t} WRITE, {h} WRITE;\n"
        f"-- rows written since into its range: copy them in first (name the columns when the\n"
        f"-- table has generated ones)\n"
        f"SELECT COUNT(*) FROM {t} PARTITION ({q(partition)});\n"
        f"INSERT INTO {h} SELECT * FROM {t} PARTITION ({q(partition)});\n"
        f"ALTER TABLE {t} EXCHANGE PARTITION {q(partition)} WITH TABLE {h};\n"
        "UNLOCK TABLES;\n"
        f"DROP TABLE {h};\n"
        f"DELETE FROM {q(holding)}.{q(CATALOG)} WHERE held_name = {lit(held_name)};"
    )


def reverse_sql(pf: PlanFile, lock_wait_timeout: int, kept_note: str) -> str:
    """The reverse statements as a script; a kept table is not created empty: its
    CREATE is replaced by ``kept_note`` and its foreign keys (it comes back by RENAME)."""
    kept = {t.lower() for t in kept_tables(pf)}
    current = {t.name.lower(): t for t in pf.current.tables}
    lines = [f"USE {q(pf.schema)};", f"SET SESSION lock_wait_timeout = {lock_wait_timeout};"]
    for st in reverse_statements(pf):
        if st.subject.lower() in kept and st.sql.upper().startswith("CREATE TABLE"):
            lines.append(f"-- {st.subject}: {kept_note}")
            table = current[st.subject.lower()]
            lines += [
                f"ALTER TABLE {q(pf.schema)}.{q(table.name)} ADD "
                f"{ddl.foreign_key_definition(fk, pf.flavor_value)};"
                for fk in table.foreign_keys
            ]
            continue
        lines += [s if s.endswith(";") else s + ";" for s in st.with_session()]
    return "\n".join(lines)


def held_rows_sql(holding: str, schema: str, tables: Sequence[str]) -> str:
    only = f"\n  AND original_table IN ({_in_list(tables)})" if tables else ""
    return (
        "SELECT apply_id, kind, original_table, held_name, row_count, created_at, restored_at\n"
        f"FROM {q(holding)}.{q(CATALOG)}\n"
        f"WHERE original_schema = {lit(schema)}{only}\n"
        "ORDER BY created_at DESC;"
    )


def held_name_guess(apply_id: int | None, table: str, suffix: str = "") -> str:
    """``a42__orders`` (``a<ID>__orders`` while the apply's id is not known)."""
    prefix = apply_prefix(apply_id) if apply_id is not None else "a<ID>"
    return f"{prefix}__{table}{suffix}"


def restore_table_sql(holding: str, schema: str, table: str, held_name: str) -> str:
    return (
        f"RENAME TABLE {q(holding)}.{q(held_name)} TO {q(schema)}.{q(table)};\n"
        f"DELETE FROM {q(holding)}.{q(CATALOG)} WHERE held_name = {lit(held_name)};"
    )


def restore_columns_by_hand(
    pf: PlanFile, holding: str, table: str, columns: Sequence[str], held: HeldColumns | None
) -> str:
    """The UPDATE that writes kept values back by key (myshift's own, when the
    backup is known), and the catalog note that they were."""
    if held is not None:
        update = restore_columns_sql(held, pf.schema)
        name = held.held_name
    else:
        name = held_name_guess(None, table, "__cols")
        key = _key_of(pf.current, table)
        backup = f"{q(holding)}.{q(name)} AS b"
        match = join_on(key, "b", "t")
        sets = ", ".join(
            f"t.{q(c)} = (SELECT b.{q(c)} FROM {backup} WHERE {match})" for c in columns
        )
        update = (
            f"UPDATE {q(pf.schema)}.{q(table)} AS t SET {sets} "
            f"WHERE EXISTS (SELECT 1 FROM {backup} WHERE {match})"
        )
    return (
        f"{update};\n"
        f"UPDATE {q(holding)}.{q(CATALOG)} SET restored_at = NOW(6) WHERE held_name = {lit(name)};"
    )


def _key_of(schema: Schema, table: str) -> tuple[str, ...]:
    for t in schema.tables:
        if t.name.lower() == table.lower():
            for ix in t.indexes:
                if ix.is_primary:
                    return tuple(p.column for p in ix.parts if p.column)
    return ("<key column>",)


__all__ = [
    "kept_columns",
    "kept_partitions",
    "kept_tables",
    "lit",
    "lock_holders_sql",
    "mdl_waits_sql",
    "online_cleanup_sql",
    "online_leftovers_sql",
    "open_transactions_sql",
    "processlist_sql",
    "restore_columns_by_hand",
    "restore_table_sql",
    "reverse_sql",
    "reverse_statements",
]
