"""The package's import graph: no cycles, and the layer table of docs/architecture.md held.

Every import counts, those inside functions too (a lazy import hides a cycle from Python,
not from this test). An import of a package points at its `__init__`; a submodule's own
parent packages are not counted as imports of it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import scientist

PACKAGE = Path(scientist.__file__).resolve().parent
ARCHITECTURE = PACKAGE.parent / "docs" / "architecture.md"


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


def table(fence: str, page: Path = ARCHITECTURE) -> list[list[str]]:
    """The patterns of each row of the page's ```fence block (a row's patterns end where two
    spaces begin its description), top row first."""
    block = re.search(rf"^```{fence}\n(.*?)^```", page.read_text(encoding="utf-8"), re.M | re.S)
    assert block is not None, f"{page} has no ```{fence} block"
    return [re.split(r"\s{2,}", row.strip())[0].split() for row in block[1].splitlines()]


def matches(pattern: str, module: str) -> int:
    """How specifically `pattern` names `module`: 3 a file, 2 `*/cli.py`, 1 a folder, 0 not."""
    parts = module.split(".")[1:]
    if pattern == "*/cli.py":
        return 2 if len(parts) == 2 and parts[1] == "cli" else 0
    if pattern.endswith("/"):
        return 1 if parts[:1] == [pattern[:-1]] else 0
    name = pattern.removesuffix(".py")
    return 3 if parts == ([] if name == "__init__" else [name]) else 0


def layer_of(module: str, rows: list[list[str]]) -> int | None:
    """The row that names `module` most specifically (0 is the top), or None."""
    ranked = [(matches(p, module), row) for row, patterns in enumerate(rows) for p in patterns]
    best = max(ranked, default=(0, None))
    return best[1] if best[0] else None


def layer_faults(graph: dict[str, set[str]], rows: list[list[str]], sealed: list[str]) -> list[str]:
    """Modules no row names, imports of a higher layer, and sandboxed code importing
    scientist."""
    faults = []
    for module, targets in sorted(graph.items()):
        if any(matches(p, module) for p in sealed):
            faults += [f"{module} -> {target} (sandboxed)" for target in sorted(targets)]
            continue
        layer = layer_of(module, rows)
        if layer is None:
            faults.append(f"{module}: in no layer")
            continue
        faults += [
            f"{module} -> {target}"
            for target in sorted(targets)
            if (above := layer_of(target, rows)) is not None and above < layer
        ]
    return faults


def page_faults(graph: dict[str, set[str]], page: Path = ARCHITECTURE) -> list[str]:
    sealed = [pattern for row in table("sandboxed", page) for pattern in row]
    return layer_faults(graph, table("layers", page), sealed)


def test_the_package_has_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_every_module_keeps_to_the_layer_table() -> None:
    assert page_faults(import_graph()) == []


def test_the_walker_sees_a_cycle_an_upward_import_and_an_unlisted_module(
    tmp_path: Path,
) -> None:
    """The checks above would fail on a package that had any of these faults."""
    root = tmp_path / "scientist"
    for folder in (root, root / "graph", root / "review", root / "scaffold"):
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text("")
    (root / "a.py").write_text("def f():\n    from scientist import b\n")
    (root / "b.py").write_text("from scientist.a import f\n")
    (root / "review" / "x.py").write_text("from scientist.graph import y\n")
    (root / "review" / "cli.py").write_text("from scientist.graph import y\n")
    (root / "graph" / "y.py").write_text("")
    (root / "scaffold" / "plot.py").write_text("import scientist.a\n")
    (root / "stray.py").write_text("")
    page = tmp_path / "architecture.md"
    page.write_text(
        "```layers\n*/cli.py  the command line\ngraph/\nreview/  a stage\n"
        "a.py b.py __init__.py  below\n```\n\n```sandboxed\nscaffold/\n```\n"
    )
    graph = import_graph(root)
    assert cycles(graph) == [["scientist.a", "scientist.b"]]
    assert page_faults(graph, page) == [
        "scientist.review.x -> scientist.graph.y",
        "scientist.scaffold.plot -> scientist.a (sandboxed)",
        "scientist.stray: in no layer",
    ]
