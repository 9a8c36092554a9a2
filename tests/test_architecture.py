"""The house rules of COMMON.md that a parser can check, so they stay true.

Layers (cli -> workflows -> engine -> db -> model), each driver or SDK imported
by its one package, no import cycle, no module over 600 lines, no function
over 80.  Pure ``ast`` over src/myshift: no server, well under a second.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "myshift"

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

# The myshift packages each layer may import (itself always).  cli and workflows
# may import every layer below them; nothing below the CLI imports it.
ALLOWED: dict[str, frozenset[str]] = {
    "exitcodes": frozenset(),
    "errors": frozenset({"exitcodes"}),
    "model": frozenset(),
    "db": frozenset({"model", "errors", "exitcodes"}),
    "engine": frozenset({"model", "db", "errors", "exitcodes"}),
    "config": frozenset({"db", "errors", "exitcodes"}),
    "cloud": frozenset({"config", "db", "errors", "exitcodes"}),
    "net": frozenset({"config", "errors", "exitcodes"}),
    "demo": frozenset(),
}
# Third-party packages only one layer may import: the driver, the AWS SDK, SSH, the CLI.
CONFINED = {"pymysql": "db", "boto3": "cloud", "botocore": "cloud", "paramiko": "net"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> str:
    """``cli`` for cli.py, cli_*.py and __main__.py, else the first name under myshift."""
    parts = module.split(".")
    if len(parts) == 1:
        return "myshift"
    name = parts[1]
    return "cli" if name in ("cli", "__main__") or name.startswith("cli_") else name


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:
        here = module.split(".")
        if _modules()[module].name != "__init__.py":
            here = here[:-1]
        here = here[: len(here) - node.level + 1]
        base = ".".join([*here, base] if base else here)
    mods = _modules()
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]


def _imports(module: str) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import: at load, inside functions and
    under TYPE_CHECKING alike."""
    tree = ast.parse(_modules()[module].read_text(encoding="utf-8"))
    for n in ast.walk(tree):
        if isinstance(n, ast.Import | ast.ImportFrom):
            for target in _targets(module, n):
                yield target, n.lineno


def test_each_layer_imports_only_the_layers_below_it() -> None:
    wrong = []
    for module in _modules():
        layer = _layer(module)
        for target, line in _imports(module):
            if not target.startswith("myshift."):
                continue
            other = _layer(target)
            if other == layer or layer in ("cli", "myshift"):
                continue
            if other == "cli" or (layer in ALLOWED and other not in ALLOWED[layer]):
                wrong.append(f"{module}:{line} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_drivers_and_sdks_are_imported_by_their_one_package() -> None:
    wrong = []
    stdlib = sys.stdlib_module_names
    for module in _modules():
        layer = _layer(module)
        for target, line in _imports(module):
            top = target.split(".")[0]
            if CONFINED.get(top, layer) != layer:
                wrong.append(f"{module}:{line} imports {top} (only {CONFINED[top]}/ may)")
            if top == "click" and layer != "cli":
                wrong.append(f"{module}:{line} imports click (only the CLI may)")
            if layer == "model" and top not in stdlib and not target.startswith("myshift.model"):
                wrong.append(f"{module}:{line}: the model imports {target} (stdlib only)")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle() -> None:
    """Imports inside functions and under TYPE_CHECKING count too: moving one there
    keeps Python from failing at load, but the modules still depend on each other.
    Break a cycle by moving what both need to a lower module (engine.pairing,
    notify.channel), or the factory above its kinds (workflows.sandbox_kinds)."""
    mods = _modules()
    graph = {m: {t for t, _ in _imports(m) if t in mods and t != m} for m in mods}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                return [*path[path.index(t) :], t]
            if t not in state and (cycle := visit(t)):
                return cycle
        path.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)):
            raise AssertionError("import cycle: " + " -> ".join(cycle))


def test_no_module_or_function_is_too_long() -> None:
    long = []
    for module, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_MODULE_LINES:
            long.append(f"{module}: {text.count(chr(10))} lines (at most {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{module}:{node.lineno} {node.name}: {n} lines")
    assert not long, "\n".join(long)
