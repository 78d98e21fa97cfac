"""The packages show their layers (issue 20, items 1 and 2): no import circle anywhere in engine/ or bridge/, and
each layer imports only the layers below it, so a newcomer can read the tree from the bottom up.

Every import counts: at module level, under `if TYPE_CHECKING:`, and inside functions (the lazy imports that keep
the command line fast), because each is a dependency a reader has to follow. The graph is read from the source
with `ast`, not by importing, so nothing here loads torch."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"engine": "sonocanvas.engine", "bridge": "sonocanvas.bridge"}
LAYERS = ("engine", "bridge", "bridge.log", "bridge.store", "bridge.request", "bridge.output", "bridge.jobs",
          "bridge.studio", "bridge.device", "bridge.osc", "bridge.commands", "bridge.cli")
"""Bottom to top, as docs/architecture.md draws them: a module may import its own layer's modules and those of
the layers before its own. `bridge` is the package itself (its docstring only)."""


def module_files() -> dict[str, Path]:
    modules = {}
    for folder, package in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = [package, *path.relative_to(ROOT / folder).with_suffix("").parts]
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def import_graph() -> dict[str, set[str]]:
    """Each module's imports of other modules in engine/ and bridge/, relative imports resolved."""
    modules = module_files()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: package.count(".") + 2 - node.level]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                targets.add(base)
                targets.update(f"{base}.{alias.name}" for alias in node.names)
        graph[name] = {t for t in targets if t in modules and t != name and t not in ancestors}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def layer_of(module: str) -> str:
    inner = module.removeprefix("sonocanvas.")
    return max((layer for layer in LAYERS if inner == layer or inner.startswith(layer + ".")), key=len)


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_relative_type_checking_and_function_level_imports():
    graph = import_graph()
    assert "sonocanvas.bridge.commands" in graph["sonocanvas.bridge.cli"]  # `from . import commands`
    assert "sonocanvas.bridge.jobs.queue" in graph["sonocanvas.bridge.studio.studio"]  # `from ..jobs.queue`
    assert "sonocanvas.engine.art" in graph["sonocanvas.bridge.studio.studio"]  # inside `Studio.encode`


def test_no_import_circle_in_engine_or_bridge():
    assert cycles(import_graph()) == []


def test_each_layer_imports_only_the_layers_below_it():
    graph = import_graph()
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if LAYERS.index(layer_of(target)) > LAYERS.index(layer_of(module))
    )
    assert upward == []
