"""What an imported template needs, read from its code with `ast` (never imported or run).

- requirements: the top-level modules its Python files import, less the standard library,
  the template's own modules and those that already import in the interpreter scientist
  runs in, named as pip knows them (`sklearn` is scikit-learn);
- GPU: "required" when the code hard-codes CUDA (a device that is the constant "cuda", or a
  `.cuda()` call with no `torch.cuda.is_available()` anywhere), "optional" when it mentions
  CUDA with a fallback, "none" when it never does.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from scientist.safe_tree import read_text, walk_files

# Modules whose distribution on PyPI has another name.
DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "PIL": "Pillow",
    "yaml": "PyYAML",
    "skimage": "scikit-image",
    "bs4": "beautifulsoup4",
}
CUDA_DEVICE = re.compile(r"^cuda(:\d+)?$")
Gpu = Literal["none", "optional", "required"]


def _sources(root: Path) -> Iterator[tuple[Path, ast.Module]]:
    for relative in walk_files(root, skip=["__pycache__"]):
        if relative.suffix != ".py":
            continue
        try:
            yield relative, ast.parse(read_text(root, relative))
        except (SyntaxError, OSError):
            continue


def imported_modules(root: Path) -> set[str]:
    """Top-level names of the absolute imports in the template's Python files."""
    names: set[str] = set()
    for _, tree in _sources(root):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def _own_modules(root: Path) -> set[str]:
    """Modules the template itself provides: its .py files and package folders."""
    own = set()
    for relative in walk_files(root, skip=["__pycache__"]):
        if relative.suffix == ".py":
            own.add(relative.parts[0].removesuffix(".py"))
    return own


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def inferred_requirements(root: Path) -> list[str]:
    """The requirements the template's imports give, beyond what already imports here."""
    wanted = imported_modules(root) - set(sys.stdlib_module_names) - _own_modules(root)
    return sorted(DISTRIBUTIONS.get(m, m) for m in wanted if not _importable(m))


def _hard_coded_devices(tree: ast.Module) -> bool:
    """A "cuda" constant used as a value in its own right (assigned, or a call's argument),
    not as one branch of a conditional or a comparison."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    return any(
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and CUDA_DEVICE.match(node.value) is not None
        and isinstance(parents.get(node), ast.Assign | ast.Call | ast.keyword)
        for node in ast.walk(tree)
    )


def inferred_gpu(root: Path) -> Gpu:
    """How the template's code uses a GPU."""
    trees = [tree for _, tree in _sources(root)]
    text = "\n".join(ast.unparse(tree) for tree in trees)
    if "cuda" not in text:
        return "none"
    fallback = "is_available()" in text
    cuda_calls = re.search(r"\.cuda\(", text) is not None
    if any(_hard_coded_devices(tree) for tree in trees) or (cuda_calls and not fallback):
        return "required"
    return "optional"
