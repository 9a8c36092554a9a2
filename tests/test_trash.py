"""The holding schema as a trash can: list, age, purge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest import MonkeyPatch

from myshift.cli import cli
from myshift.db.connect import Conn, Endpoint, quote_ident
from myshift.errors import UsageError
from myshift.workflows.keepdata import CATALOG, backup_columns, held_for_apply, soft_drop_table
from myshift.workflows.trash import format_trash, list_trash, parse_age, purge_trash


@pytest.fixture
def holding(conn: Conn, fresh_schema: Endpoint) -> Iterator[str]:
    name = f"{fresh_schema.schema}_trash"
    try:
        yield name
    finally:
        conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("2w", timedelta(days=14)),
        ("1d12h", timedelta(days=1, hours=12)),
        (" 45s ", timedelta(seconds=45)),
    ],
)
def test_parse_age(text: str, expected: timedelta) -> None:
    assert parse_age(text) == expected


@pytest.mark.parametrize("text", ["", "7", "d", "7x", "-1d", "1.5h", "7 days", "h7"])
def test_parse_age_rejects_bad_input(text: str) -> None:
    with pytest.raises(UsageError, match=r"is not an age.*7d, 12h or 30m"):
        parse_age(text)


def test_empty_trash(conn: Conn, holding: str) -> None:
    assert list_trash(conn, holding) == []
    assert purge_trash(conn, holding, timedelta(0), dry_run=False) == []
    assert format_trash([]) == "The trash is empty."


def _age(conn: Conn, holding: str, held_name: str, days: int) -> None:
    conn.execute(
        f"UPDATE {quote_ident(holding)}.{quote_ident(CATALOG)} "
        "SET created_at = NOW(6) - INTERVAL %s DAY WHERE held_name = %s",
        (days, held_name),
    )


def _tables(conn: Conn, holding: str) -> set[str]:
    rows = conn.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (holding,)
    )
    return {str(r[0]) for r in rows}


def test_list_and_purge_by_age(conn: Conn, holding: str) -> None:
    schema = conn.endpoint.schema
    conn.execute("CREATE TABLE old_t (id INT PRIMARY KEY, v INT)")
    conn.execute("INSERT INTO old_t SELECT seq, seq FROM seq_1_to_1000")
    conn.execute("CREATE TABLE mid_t (id INT PRIMARY KEY, v INT)")
    conn.execute("INSERT INTO mid_t SELECT seq, seq FROM seq_1_to_10")
    conn.execute("CREATE TABLE new_t (id INT PRIMARY KEY, v INT)")
    old = soft_drop_table(conn, schema, "old_t", 1, holding)
    mid = backup_columns(conn, schema, "mid_t", ["v"], 2, holding)
    new = soft_drop_table(conn, schema, "new_t", 3, holding)
    conn.execute(f"CREATE TABLE {quote_ident(holding)}.not_ours (id INT)")
    _age(conn, holding, old.held_name, 10)
    _age(conn, holding, mid.held_name, 3)

    entries = list_trash(conn, holding)
    assert [(e.apply_id, e.kind, e.original, e.held_name, e.rows) for e in entries] == [
        ("1", "table", f"{schema}.old_t", old.held_name, 1000),
        ("2", "columns", f"{schema}.mid_t", mid.held_name, 10),
        ("3", "table", f"{schema}.new_t", new.held_name, 0),
    ]
    assert entries[0].age >= timedelta(days=10) and entries[2].age < timedelta(hours=1)
    assert all(e.size_bytes is not None and e.size_bytes > 0 for e in entries)
    text = format_trash(entries)
    assert "old_t" in text and "10d 0h" in text and "3 held object(s)" in text

    # Dry run: reports, touches nothing.
    would = purge_trash(conn, holding, parse_age("7d"), dry_run=True)
    assert [e.held_name for e in would] == [old.held_name]
    assert old.held_name in _tables(conn, holding)

    gone = purge_trash(conn, holding, parse_age("2d"), dry_run=False)
    assert [e.held_name for e in gone] == [old.held_name, mid.held_name]
    assert _tables(conn, holding) == {CATALOG, new.held_name, "not_ours"}
    assert [e.held_name for e in list_trash(conn, holding)] == [new.held_name]
    assert held_for_apply(conn, 1, holding=holding) == []
    assert [h.held_name for h in held_for_apply(conn, 3, holding=holding)] == [new.held_name]


def test_a_held_table_dropped_by_hand_shows_as_gone_and_purges(conn: Conn, holding: str) -> None:
    conn.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    held = soft_drop_table(conn, conn.endpoint.schema, "t", 4, holding)
    conn.execute(f"DROP TABLE {quote_ident(holding)}.{quote_ident(held.held_name)}")
    [entry] = list_trash(conn, holding)
    assert entry.size_bytes is None
    assert "gone" in format_trash([entry])
    assert purge_trash(conn, holding, timedelta(0), dry_run=False) == [entry]
    assert list_trash(conn, holding) == []


def test_trash_cli_lists_and_purges_only_with_confirmation(
    conn: Conn, fresh_schema: Endpoint, holding: str, tmp_path: Path, monkeypatch: MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    conn.execute("CREATE TABLE old (id INT PRIMARY KEY)")
    conn.execute("CREATE TABLE new (id INT PRIMARY KEY)")
    conn.execute("INSERT INTO old VALUES (1), (2), (3)")
    a = soft_drop_table(conn, fresh_schema.schema, "old", 901, holding)
    b = soft_drop_table(conn, fresh_schema.schema, "new", 902, holding)
    _age(conn, holding, a.held_name, 8)
    url = f"mysql://root@{fresh_schema.host}:{fresh_schema.port}/{fresh_schema.schema}"
    run = CliRunner()

    listed = run.invoke(cli, ["trash", "list", "--to", url, "--holding", holding])
    assert listed.exit_code == 0, listed.output
    assert f"{fresh_schema.schema}.old" in listed.output and "2 held object(s)" in listed.output

    # Not a terminal and no --yes: nothing is dropped.
    refused = run.invoke(
        cli, ["trash", "purge", "--older-than", "7d", "--to", url, "--holding", holding]
    )
    assert refused.exit_code != 0 and "needs confirmation" in refused.output
    assert _tables(conn, holding) >= {a.held_name, b.held_name}

    purged = run.invoke(
        cli, ["trash", "purge", "--older-than", "7d", "--to", url, "--holding", holding, "--yes"]
    )
    assert purged.exit_code == 0, purged.output
    assert "Purged 1 held object(s)" in purged.output
    left = _tables(conn, holding)
    assert a.held_name not in left and b.held_name in left

    bad = run.invoke(cli, ["trash", "purge", "--older-than", "soon", "--to", url, "--yes"])
    assert bad.exit_code != 0 and "is not an age" in bad.output
