"""The ways-in guide (docs/access.md, docs/access.es.md) stays valid and in step.

* every ``json`` block is valid JSON (an IAM policy), with well-formed action
  names, each of them listed in the guide's "Permissions by command" table;
* every ``toml`` block loads through myshift's own settings loader (an unknown
  or mistyped key fails, as it would for a user copying it);
* both guides have the same sections and the same code blocks: the same JSON,
  the same TOML values, the same commands (comments may be translated);
* both READMEs link their guide.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from myshift.config.settings import read_settings

ROOT = Path(__file__).resolve().parent.parent
GUIDES = {"en": ROOT / "docs" / "access.md", "es": ROOT / "docs" / "access.es.md"}
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z][A-Za-z0-9]+$")


def blocks(lang: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(GUIDES[lang].read_text())]


def headings(lang: str) -> list[str]:
    text = BLOCK.sub("", GUIDES[lang].read_text())
    return [line.split(" ", 1)[0] for line in text.splitlines() if line.startswith("#")]


def actions(policy: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for stmt in policy["Statement"]:
        acts = stmt["Action"]
        out.extend([acts] if isinstance(acts, str) else acts)
    return out


def _uncommented(code: str) -> list[str]:
    return [line.split("#", 1)[0].rstrip() for line in code.splitlines()]


@pytest.mark.parametrize("lang", sorted(GUIDES))
def test_policies_are_json_with_listed_actions(lang: str) -> None:
    text = GUIDES[lang].read_text()
    table = text[text.rindex("\n## ") :]  # the last section: permissions by command
    policies = [json.loads(code) for kind, code in blocks(lang) if kind == "json"]
    assert len(policies) == 4
    for policy in policies:
        assert policy["Version"] == "2012-10-17"
        for action in actions(policy):
            assert ACTION.match(action), action
            assert f"`{action}`" in table, f"{action} is not in the permissions table"
        for stmt in policy["Statement"]:
            assert stmt["Effect"] == "Allow" and stmt["Resource"]


@pytest.mark.parametrize("lang", sorted(GUIDES))
def test_toml_blocks_load_with_myshifts_loader(lang: str, tmp_path: Path) -> None:
    tomls = [code for kind, code in blocks(lang) if kind == "toml"]
    assert len(tomls) == 4
    keys: set[str] = set()
    for i, code in enumerate(tomls):
        path = tmp_path / f"myshift{i}.toml"
        path.write_text(code)
        settings = read_settings(path)  # unknown keys and wrong types raise
        for env in settings.environments.values():
            keys.update(k for k, v in vars(env).items() if v not in (None, False))
    # The guide shows each way in.
    assert {"ssh_tunnel", "ssh_known_hosts", "access", "security_group", "password_secret"} <= keys


def test_both_guides_have_the_same_sections_and_code() -> None:
    assert headings("en") == headings("es")
    en, es = blocks("en"), blocks("es")
    assert [k for k, _ in en] == [k for k, _ in es]
    for (kind, a), (_, b) in zip(en, es, strict=True):
        if kind == "json":
            assert json.loads(a) == json.loads(b)
        elif kind == "toml":
            assert tomllib.loads(a) == tomllib.loads(b)
        else:
            assert _uncommented(a) == _uncommented(b)


def test_readmes_link_their_guide() -> None:
    assert "(docs/access.md)" in (ROOT / "README.md").read_text()
    assert "(docs/access.es.md)" in (ROOT / "README.es.md").read_text()
    assert "(access.es.md)" in GUIDES["en"].read_text()
    assert "(access.md)" in GUIDES["es"].read_text()
