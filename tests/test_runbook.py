"""The Markdown runbook generated per plan (plan --runbook, myshift runbook --plan)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from myshift.cli import cli
from myshift.db.connect import Conn, Endpoint
from myshift.workflows.apply import ApplyCommandOptions, apply
from myshift.workflows.plan import PlanCommandOptions, PlanOptions, build_planfile, plan
from myshift.workflows.planfile import PlanFile
from myshift.workflows.runbook import format_runbook


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def url(ep: Endpoint) -> str:
    return f"mysql://{ep.user}@{ep.host}:{ep.port}/{ep.schema}"


DESIRED = """CREATE TABLE orders (
  id INT NOT NULL PRIMARY KEY,
  total DECIMAL(12,2) NOT NULL,
  status VARCHAR(10) NOT NULL DEFAULT 'new',
  UNIQUE KEY total_u (total)
);
"""


def _seed(conn: Conn) -> None:
    conn.execute(
        "CREATE TABLE orders (id INT NOT NULL PRIMARY KEY, total DECIMAL(12,2) NOT NULL, note TEXT)"
    )
    conn.execute("CREATE TABLE old_stuff (id INT NOT NULL PRIMARY KEY)")
    conn.execute("INSERT INTO orders VALUES (1, 10, 'a'), (2, 10, 'b'), (3, 30, NULL)")


def test_plan_runbook_names_changes_risks_rollback_and_checks(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    _seed(conn)
    (tmp_path / "d.sql").write_text(DESIRED, encoding="utf-8")
    plan(
        fresh_schema,
        "d.sql",
        PlanCommandOptions(
            plan=PlanOptions(allow_drop=True, keep_data=True),
            output="plan.json",
            runbook="runbook.md",
        ),
    )
    text = Path("runbook.md").read_text(encoding="utf-8")
    pf = PlanFile.read("plan.json")
    assert text.startswith(f"# Runbook: `{fresh_schema.schema}`")
    assert pf.plan_hash[:19] in text
    # Every statement is a row with its risk and what is kept.
    assert "| `old_stuff` | drop table old_stuff" in text
    assert "yes: table moved to `_myshift_trash`" in text
    assert "yes: note backed up (verified)" in text
    assert "**destructive**" in text and "fails on duplicate rows" in text
    # The duplicate totals make the UNIQUE key's pre-flight check fail: the runbook says so.
    assert "1 row(s) now" in text
    # Rollback: the command and what it brings back.
    assert f"`myshift rollback --to {fresh_schema}`" in text
    assert "table `old_stuff` comes back with every row it had" in text
    assert "`orders`: reversed by DDL (alter table orders: drop column note" in text
    assert "`note` come back with their original definitions and values" in text
    # Operator and the checks to run after.
    from myshift.workflows.history import operator

    assert f"Operator (history will record): {operator()}" in text
    assert "myshift drift --to" in text and "myshift trash list" in text


def test_runbook_says_plainly_what_a_rollback_cannot_restore(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    _seed(conn)
    (tmp_path / "d.sql").write_text(DESIRED, encoding="utf-8")
    pf = build_planfile(fresh_schema, "d.sql", PlanOptions(allow_drop=True, keep_data=False))
    text = format_runbook(pf, "prod", operator="alice@ops1")
    assert "Operator (history will record): alice@ops1" in text
    assert "**not restored**" in text
    assert text.count("| **no** |") == 2  # the column drop and the table drop


def test_runbook_command_and_history_operator(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    _seed(conn)
    (tmp_path / "d.sql").write_text(
        DESIRED.replace(",\n  UNIQUE KEY total_u (total)", ""), encoding="utf-8"
    )
    done = apply(
        fresh_schema,
        "d.sql",
        ApplyCommandOptions(plan=PlanOptions(allow_drop=True), keep_data=True, yes=True),
    )
    assert done.apply_id
    plan(fresh_schema, "d.sql", PlanCommandOptions(output="empty.json"))
    out = CliRunner().invoke(
        cli, ["runbook", "--plan", "empty.json", "--to", url(fresh_schema), "-o", "rb.md"]
    )
    assert out.exit_code == 0, out.output
    text = Path("rb.md").read_text(encoding="utf-8")
    # The recent applies, with the operator history recorded for them.
    assert "Recent applies of this schema in history:" in text
    assert f"| {done.apply_id} | apply |" in text
    assert "Nothing: the target already matches." in text


def _prod_env(fresh_schema: Endpoint, tmp_path: Path, extra: str = "") -> None:
    (tmp_path / "myshift.toml").write_text(
        f'{extra}[env.prod]\nhost = "{fresh_schema.host}"\nport = {fresh_schema.port}\n'
        f'user = "{fresh_schema.user}"\nschema = "{fresh_schema.schema}"\n',
        encoding="utf-8",
    )


def test_runbook_in_spanish_names_this_environment_and_its_commands(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """`runbook --lang es`: Spanish prose, the environment's name in every command."""
    _seed(conn)
    (tmp_path / "d.sql").write_text(DESIRED, encoding="utf-8")
    _prod_env(fresh_schema, tmp_path)
    out = CliRunner().invoke(
        cli, ["plan", "--to", "prod", "--from", "d.sql", "--allow-drop", "-o", "plan.json"]
    )
    assert out.exit_code == 0, out.output
    out = CliRunner().invoke(
        cli, ["runbook", "--plan", "plan.json", "--to", "prod", "--lang", "es"]
    )
    assert out.exit_code == 0, out.output
    es = out.stdout  # (stderr names the config file used)
    assert es.startswith(f"# Runbook: `{fresh_schema.schema}` en prod\n")
    for heading in (
        "## Qué va a cambiar",
        "## Antes de empezar",
        "## Rollback",
        "## Comprobaciones posteriores",
    ):
        assert f"\n{heading}\n" in es, heading
    for command in (
        "- Ensayar: `myshift rehearse --plan plan.json --to prod`",
        "- Aplicar: `myshift apply --plan plan.json --to prod`",
        "Comando: `myshift rollback --to prod` (el último apply)",
        "`myshift history --to prod`",
        "`myshift drift --to prod --from <deseado>`",
    ):
        assert command in es, command
    # Destructive without keep-data: said plainly, in Spanish.
    assert "**no se restaura**" in es
    # The pre-flights count rows (SELECT COUNT(*)): the count must be 0, not "no rows".
    assert "(apply las vuelve a ejecutar; cada una debe contar 0 filas)" in es
    for english in ("What will change", "Before you start", "Checks after", "not restored"):
        assert english not in es
    # The same plan in English still reads as before.
    out = CliRunner().invoke(cli, ["runbook", "--plan", "plan.json", "--to", "prod"])
    assert "## What will change" in out.output and "Qué va a cambiar" not in out.output


def test_runbook_language_from_myshift_toml_and_plan_runbook(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """`lang = "es"` in myshift.toml: runbook and plan --runbook write Spanish; --lang wins."""
    _seed(conn)
    (tmp_path / "d.sql").write_text(DESIRED, encoding="utf-8")
    _prod_env(fresh_schema, tmp_path, extra='lang = "es"\n')
    out = CliRunner().invoke(
        cli, ["plan", "--to", "prod", "--from", "d.sql", "-o", "plan.json", "--runbook", "rb.md"]
    )
    assert out.exit_code == 0, out.output
    assert "## Qué va a cambiar" in Path("rb.md").read_text(encoding="utf-8")
    out = CliRunner().invoke(cli, ["runbook", "--plan", "plan.json"])
    assert "## Antes de empezar" in out.output
    out = CliRunner().invoke(cli, ["runbook", "--plan", "plan.json", "--lang", "en"])
    assert "## Before you start" in out.output
    _prod_env(fresh_schema, tmp_path, extra='lang = "fr"\n')
    out = CliRunner().invoke(cli, ["runbook", "--plan", "plan.json"])
    assert out.exit_code == 3 and "`lang` must be one of en, es" in out.output


def test_checks_after_read_routines_and_triggers_not_count_them(
    conn: Conn, fresh_schema: Endpoint, tmp_path: Path
) -> None:
    """Only tables and views have rows to count: a changed procedure or trigger gets
    its SHOW CREATE, never `SELECT COUNT(*) FROM schema.procedure`."""
    conn.execute("CREATE TABLE t (id INT PRIMARY KEY, n INT)")
    conn.execute("CREATE PROCEDURE p() SELECT 1")
    conn.execute("CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW SET NEW.n = 1")
    desired = (
        "CREATE TABLE t (id INT PRIMARY KEY, n INT, m INT);\n"
        "CREATE PROCEDURE p() SELECT 2;\n"
        "CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW SET NEW.n = 2;\n"
    )
    (tmp_path / "d.sql").write_text(desired, encoding="utf-8")
    plan(
        fresh_schema,
        "d.sql",
        PlanCommandOptions(plan=PlanOptions(), output="plan.json", runbook="runbook.md"),
    )
    text = Path("runbook.md").read_text(encoding="utf-8")
    s = fresh_schema.schema
    assert f"SELECT COUNT(*) FROM {s}.t;" in text
    assert f"SHOW CREATE PROCEDURE {s}.p;" in text
    assert f"SELECT COUNT(*) FROM {s}.p;" not in text
    assert f"SELECT COUNT(*) FROM {s}.t_bi;" not in text


def test_plan_runbook_without_output_is_refused(conn: Conn, fresh_schema: Endpoint) -> None:
    """The runbook's commands name the plan file: without -o they would name a
    plan.json that may not exist (or be another plan)."""
    from myshift.errors import UsageError

    _seed(conn)
    Path("d.sql").write_text(DESIRED, encoding="utf-8")
    with pytest.raises(UsageError, match=r"-o plan\.json"):
        plan(fresh_schema, "d.sql", PlanCommandOptions(runbook="runbook.md"))
    assert not Path("runbook.md").exists()
