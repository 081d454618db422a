"""The collector's packages import each other in one direction only, and the bottom layer imports
nothing of ours, so any package can use the shared types and errors without an import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "collector" / "spanhouse" / "collector"
PREFIX = "spanhouse.collector."

# Shared types and errors: they import nothing of spanhouse.
BOTTOM = ("errors", "rows", "store.base")

# Package-level cycles still standing, with the reason; the list only ever shrinks.
KNOWN_CYCLES: set[frozenset[str]] = {
    # demo/report.py prints with cli/output.py's OutputFormat while cli/app.py runs the demo.
    frozenset({"cli", "demo"}),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """spanhouse.collector modules `path` imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name[len(PREFIX) :] for name in names if name.startswith(PREFIX))
        if any(name == "spanhouse" or name.startswith("spanhouse.instrumentation") for name in names):
            found.add("<instrumentation>")
    return found


def _graph() -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in sorted(ROOT.rglob("*.py"))}


def _package(module: str) -> str:
    return module.split(".", 1)[0]


def _reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _cycles(edges: dict[str, set[str]]) -> set[frozenset[str]]:
    """Groups of packages that import each other, directly or through others."""
    reach = {node: _reachable(edges, node) for node in edges}
    return {
        frozenset({node} | {other for other in reach[node] if node in reach.get(other, set())})
        for node in edges
        if node in reach[node]
    }


def test_the_bottom_layer_imports_nothing_of_ours() -> None:
    graph = _graph()
    for module in BOTTOM:
        assert module in graph, f"{module} is gone; update BOTTOM"
        assert not graph[module], (
            f"{module} imports {sorted(graph[module])}; the bottom layer imports none of ours"
        )


def test_no_import_cycles_between_packages() -> None:
    packages: dict[str, set[str]] = {}
    for module, imported in _graph().items():
        own = _package(module)
        packages.setdefault(own, set()).update(_package(name) for name in imported if _package(name) != own)
    cycles = _cycles(packages)
    assert cycles <= KNOWN_CYCLES, f"new import cycles between packages: {cycles - KNOWN_CYCLES}"
    assert cycles >= KNOWN_CYCLES, f"fixed, remove from KNOWN_CYCLES: {KNOWN_CYCLES - cycles}"
