"""The package's import graph: no cycles, and no stage importing the graph that drives it.

Every import counts, those inside functions too (a lazy import hides a cycle from Python,
not from this test). An import of a package points at its `__init__`; a submodule's own
parent packages are not counted as imports of it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import scientist

PACKAGE = Path(scientist.__file__).resolve().parent
STAGES = ("ideas", "experiments", "writeup", "review")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the modules of this package it imports."""
    files = {module_name(path, root): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in node.names:
                    child = f"{base}.{alias.name}"
                    targets.add(child if child in files else base)
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Stage modules that import `scientist.graph` (the stages sit below the graph)."""
    stage_prefixes = tuple(f"scientist.{stage}" for stage in STAGES)
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module.startswith(stage_prefixes)
        for target in targets
        if target == "scientist.graph" or target.startswith("scientist.graph.")
    )


def test_the_package_has_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_no_stage_imports_the_graph() -> None:
    assert upward_imports(import_graph()) == []


def test_the_walker_sees_a_cycle_and_an_upward_import(tmp_path: Path) -> None:
    """The checks above would fail on a package that had either fault."""
    root = tmp_path / "scientist"
    for folder in (root, root / "graph", root / "review"):
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text("")
    (root / "a.py").write_text("def f():\n    from scientist import b\n")
    (root / "b.py").write_text("from scientist.a import f\n")
    (root / "review" / "x.py").write_text("from scientist.graph import y\n")
    (root / "graph" / "y.py").write_text("")
    graph = import_graph(root)
    assert cycles(graph) == [["scientist.a", "scientist.b"]]
    assert upward_imports(graph) == ["scientist.review.x -> scientist.graph.y"]
