"""`myshift demo`: the whole weekly flow on two throwaway local servers.

dev (``multi-dev``) and prod (``multi-prod``) are seeded with a small
multi-tenant app; prod has rows.  Then: dump dev -> plan prod (plan file) ->
apply the reviewed plan -> re-plan (empty) -> history.  Each step prints the
command a user would type.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from myshift.db.connect import Endpoint, connected, quote_ident
from myshift.db.server import LocalServer
from myshift.engine.split import split_sql
from myshift.workflows import dump as dump_mod
from myshift.workflows.execute import execute_planfile
from myshift.workflows.history.command import HistoryOptions, history
from myshift.workflows.plan import PlanCommandOptions, build_planfile, plan
from myshift.workflows.planfile import PlanFile
from myshift.workflows.planmodel import PlanOptions
from myshift.workflows.report import format_human
from myshift.workflows.runner import ApplyOptions


def _demo_sql(name: str) -> str:
    return resources.files("myshift.demo").joinpath(name).read_text(encoding="utf-8")


def seed(ep: Endpoint, *files: str) -> None:
    with connected(ep, schema="") as conn:
        conn.execute(
            f"CREATE DATABASE IF NOT EXISTS {quote_ident(ep.schema)} "
            "DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
        conn.execute(f"USE {quote_ident(ep.schema)}")
        for name in files:
            for st in split_sql(_demo_sql(name), name):
                conn.execute(st.sql)


def run(say: Callable[[str], None] = print, keep: bool = False) -> None:
    def step(title: str, cmd: str) -> None:
        say("")
        say(f"== {title}")
        say(f"$ {cmd}")

    say("Starting two throwaway MariaDB servers (dev and prod)...")
    dev_srv = LocalServer.start(server_id=1)
    prod_srv = LocalServer.start(server_id=2)
    try:
        dev = Endpoint(port=dev_srv.port, user="root", password="", schema="multi-dev")
        prod = Endpoint(port=prod_srv.port, user="root", password="", schema="multi-prod")
        seed(dev, "dev.sql")
        seed(prod, "prod.sql", "rows.sql")
        say(f"dev  = {dev.redacted()}  (the next release's schema)")
        say(f"prod = {prod.redacted()}  (today's schema, with rows)")
        work = Path(tempfile.mkdtemp(prefix="myshift-demo-"))

        step("1. dump the dev schema", f"myshift dump {dev.redacted()} -o {work}/dev_schema.sql")
        dump_path = work / "dev_schema.sql"
        dump_mod.dump(dev, output=str(dump_path))
        text = dump_path.read_text()
        say(f"wrote {dump_path} ({len(text.splitlines())} lines)")

        plan_path = work / "plan.json"
        step(
            "2. plan: what turns prod into dev (a dry run, nothing is changed)",
            f"myshift plan --to {prod.redacted()} --desired {dump_path} --allow-drop "
            f"-o {plan_path}",
        )
        pf = build_planfile(prod, str(dump_path), PlanOptions(allow_drop=True))
        pf.write(plan_path)
        say(format_human(pf))

        step("3. apply exactly the reviewed plan", f"myshift apply --plan {plan_path} --yes")
        pf = PlanFile.read(plan_path)
        audit = work / "myshift-audit.jsonl"
        apply_id = execute_planfile(prod, pf, ApplyOptions(audit_path=str(audit)), say=say)
        say(f"applied; history id {apply_id}")

        step(
            "4. re-plan: prod now matches dev",
            f"myshift plan --to {prod.redacted()} --desired {dump_path}",
        )
        again = plan(prod, str(dump_path), PlanCommandOptions())
        say(again.text.strip() or "-- nothing to do: prod matches dev")

        step("5. history of everything applied", f"myshift history --to {prod.redacted()}")
        say(history(prod, None, HistoryOptions()).rstrip())
        with connected(prod) as conn:
            n = conn.scalar("SELECT COUNT(*) FROM invoices")
        say("")
        say(f"prod kept its data: {n} invoices. Audit log: {audit}")
        if keep:
            say(f"servers left running: dev port {dev_srv.port}, prod port {prod_srv.port}")
    finally:
        if not keep:
            dev_srv.stop()
            prod_srv.stop()
