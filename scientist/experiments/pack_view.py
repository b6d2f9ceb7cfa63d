"""What the code model sees of a pack: its file tree, the files an idea needs in full within
a token budget, outlines of the rest, and the full text of files it asks to READ.

The pack's manifest (`[agent]` in template.toml) says which files are readable and which
editable. The entrypoint and the files the idea names are always shown in full; then the
editable files that mention its knobs, smallest first, while the budget lasts (the pack's
`context_tokens`, or less for a model with a small window). Every other
file is outlined: the model asks to READ what it needs, rather than every call carrying
files the idea has no reason to touch.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from scientist.safe_tree import is_regular_file, read_bytes, read_text, walk_files
from scientist.templates import Template

CHARS_PER_TOKEN = 4
UNBOUNDED = 10**9
OUTLINE_LINE_CHARS = 100
_READ = re.compile(r"^[ \t`*]*READ[ \t]+`?([\w./-]+)`?[ \t]*$", re.MULTILINE)


def matches(relative: str, patterns: Iterable[str]) -> bool:
    """Whether a pack-relative posix path matches a glob (`**/x` also matches at the root)."""
    return any(
        fnmatch(relative, pattern) or (pattern.startswith("**/") and fnmatch(relative, pattern[3:]))
        for pattern in patterns
    )


def tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN


def read_requests(answer: str) -> list[str]:
    """The files an answer asks to read, one `READ <path>` line each."""
    return list(dict.fromkeys(_READ.findall(answer)))


@dataclass
class PackView:
    """The agent's view of one code folder (the idea's copy of `template`)."""

    template: Template
    code_dir: Path

    def files(self, patterns: list[str]) -> list[str]:
        found = [str(path) for path in walk_files(self.code_dir, skip=["__pycache__"])]
        return [name for name in found if matches(name, patterns) and name != "overrides.json"]

    @property
    def readable(self) -> list[str]:
        agent = self.template.manifest.agent
        return self.files(agent.readable + agent.editable)

    @property
    def protected(self) -> set[str]:
        """Files the agent may read, never edit: the grader and its held-out data."""
        return set(self.files(self.template.protected))

    @property
    def editable(self) -> set[str]:
        return set(self.files(self.template.manifest.agent.editable)) - self.protected

    def text(self, name: str) -> str:
        return read_text(self.code_dir, name)

    def changed(self) -> list[str]:
        """Files of the folder that differ from the pack's (new files included)."""
        pack = self.template.root
        return [
            name
            for name in self.files(["**/*"])
            if not is_regular_file(pack, name)
            or read_bytes(pack, name) != read_bytes(self.code_dir, name)
        ]

    def tree(self) -> str:
        editable, protected = self.editable, self.protected
        rows = []
        for name in self.readable:
            lines = self.text(name).count("\n")
            mark = ", editable" if name in editable else ""
            mark = ", protected: the grader's, read only" if name in protected else mark
            rows.append(f"- {name} ({lines} lines{mark})")
        return "\n".join(rows)

    def ranked(self, hints: str, knobs: Iterable[str]) -> list[tuple[int, str]]:
        """Readable files with their tier for an idea (its text `hints`, its `knobs`), most
        relevant first: 0 the entrypoint, 1 files the idea names (by path, file name or
        dotted module), 2 files that mention its knobs, 3 the others; smaller files first
        within a tier."""
        entrypoint = self.template.manifest.entrypoint
        words = set(re.findall(r"\w+(?:\.\w+)*", hints.lower()))

        def named(name: str) -> bool:
            module = name.lower().removesuffix(".py").replace("/", ".")
            return name.lower() in hints.lower() or bool({Path(name).name.lower(), module} & words)

        def tier(name: str) -> int:
            if name == entrypoint:
                return 0
            if named(name):
                return 1
            return 2 if any(f'"{knob}"' in self.text(name) for knob in knobs) else 3

        tiers = {name: tier(name) for name in self.readable}
        order = sorted(tiers, key=lambda name: (tiers[name], len(self.text(name))))
        return [(tiers[name], name) for name in order]

    def render(
        self,
        *,
        hints: str,
        knobs: Iterable[str],
        wanted: Iterable[str] = (),
        budget: int | None = None,
    ) -> str:
        """The tree; then in full the `wanted` files, the entrypoint and the files the idea
        names, and editable files naming its knobs while the pack's budget (or `budget`,
        when smaller) lasts; outlines of the rest."""
        budget = min(self.template.manifest.agent.context_tokens, budget or UNBOUNDED)
        wanted = set(wanted)
        full, outlined, used = [], [], 0
        for tier, name in self.ranked(hints, knobs):
            cost = tokens(self.text(name))
            fits = tier == 2 and name in self.editable and used + cost <= budget
            if name in wanted or tier <= 1 or fits:
                full.append(name)
                used += cost
            else:
                outlined.append(name)
        parts = ["## Pack files\n\n" + self.tree(), "## Files in full\n\n" + self.fenced(full)]
        if outlined:
            outlines = "\n\n".join(f"{name}\n```\n{self.outline(name)}\n```" for name in outlined)
            parts.append(
                "## Outlines (answer `READ <path>`, one per line, for a file's full text)\n\n"
                + outlines
            )
        return "\n\n".join(parts)

    def overview(self) -> str:
        """For ideation: the tree, the entrypoint in full and outlines of the other editable
        modules (an idea cannot change the protected ones)."""
        entrypoint = self.template.manifest.entrypoint
        editable = self.editable
        others = [
            name
            for name in self.readable
            if name in editable and name != entrypoint and name.endswith(".py")
        ]
        outlines = "\n\n".join(f"{name}\n```\n{self.outline(name)}\n```" for name in others)
        return "\n\n".join(
            ["## Pack files\n\n" + self.tree(), self.fenced([entrypoint]), outlines or ""]
        ).strip()

    def fenced(self, names: Iterable[str]) -> str:
        """The named files in full, each under its path in a fenced block."""
        blocks = []
        for name in names:
            if is_regular_file(self.code_dir, name):
                language = "python" if name.endswith(".py") else ""
                blocks.append(f"{name}\n```{language}\n{self.text(name)}```")
        return "\n\n".join(blocks) or "(none)"

    def outline(self, name: str) -> str:
        """A file's shape: a Python module's top-level names, signatures and first docstring
        lines; the first lines of any other file."""
        text = self.text(name)
        if not name.endswith(".py"):
            return "\n".join(text.splitlines()[:15])
        try:
            module = ast.parse(text)
        except SyntaxError:
            return "\n".join(text.splitlines()[:15])
        return "\n".join(_outline_nodes(module.body, text, ""))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _assigned(node: ast.Assign | ast.AnnAssign) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return [t.id for t in targets if isinstance(t, ast.Name)]


def _outline_nodes(nodes: list[ast.stmt], source: str, indent: str) -> list[str]:
    """The public names among `nodes` (a leading underscore marks a private one, which a
    READ of the file shows)."""
    rows = []
    for node in nodes:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if _private(node.name):
                continue
        elif isinstance(node, ast.Assign | ast.AnnAssign) and all(
            _private(name) for name in _assigned(node) or ["_"]
        ):
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
            rows.append(
                f"{indent}def {node.name}({ast.unparse(node.args)}){returns}:  # line {node.lineno}"
            )
            rows += _docstring(node, indent + "    ")
        elif isinstance(node, ast.ClassDef):
            rows.append(f"{indent}class {node.name}:  # line {node.lineno}")
            rows += _docstring(node, indent + "    ")
            rows += _outline_nodes(node.body, source, indent + "    ")
        elif isinstance(node, ast.Assign | ast.AnnAssign) and not indent:
            first = (ast.get_source_segment(source, node) or "").splitlines()[0]
            rows.append(first[:OUTLINE_LINE_CHARS])
    return rows


def _docstring(node: ast.AST, indent: str) -> list[str]:
    doc = ast.get_docstring(node)  # type: ignore[arg-type]
    return [f'{indent}"""{doc.splitlines()[0]}"""'] if doc else []
