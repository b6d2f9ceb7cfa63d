"""SEARCH/REPLACE edit blocks: parsing, validation and all-or-nothing application.

experiment.py
<<<<<<< SEARCH
old lines (must match the file exactly, once)
=======
new lines
>>>>>>> REPLACE
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from scientist.campaign import atomic_write_text

_BLOCK = re.compile(
    r"^(?P<path>[^\n`<>=]+?)\s*\n(?:```[^\n]*\n)?<<<<<<< SEARCH\n(?P<search>.*?)^=======\n"
    r"(?P<replace>.*?)^>>>>>>> REPLACE",
    re.DOTALL | re.MULTILINE,
)


class EditBlock(BaseModel):
    path: str
    search: str
    replace: str


class EditReport(BaseModel):
    blocks: list[EditBlock]
    failures: list[str]

    @property
    def ok(self) -> bool:
        return not self.failures


def parse_blocks(text: str) -> list[EditBlock]:
    return [
        EditBlock(
            path=m["path"].strip().strip("`*").strip(), search=m["search"], replace=m["replace"]
        )
        for m in _BLOCK.finditer(text)
    ]


def apply_blocks(code_dir: Path, blocks: list[EditBlock]) -> EditReport:
    """Apply every block or none: a block whose file is unknown, or whose SEARCH text is
    absent or ambiguous, is reported (with the reason) and nothing is written."""
    root = code_dir.resolve()
    contents: dict[Path, str] = {}
    failures: list[str] = []
    for number, block in enumerate(blocks, start=1):
        target = (root / block.path).resolve()
        label = f"block {number} ({block.path})"
        if not target.is_relative_to(root) or not target.is_file():
            failures.append(f"{label}: no such file in the pack")
            continue
        text = contents.get(target, target.read_text(encoding="utf-8"))
        hits = text.count(block.search) if block.search else 0
        if hits != 1:
            reason = "SEARCH text not found" if hits == 0 else f"SEARCH text matches {hits} times"
            first = block.search.strip().splitlines()[:1]
            failures.append(f"{label}: {reason}: {first[0] if first else '(empty)'!r}")
            continue
        contents[target] = text.replace(block.search, block.replace, 1)
    if not failures:
        for target, text in contents.items():
            atomic_write_text(target, text)
    return EditReport(blocks=blocks, failures=failures)


def render_files(code_dir: Path, names: list[str]) -> str:
    """The named files of the idea's code, fenced, for a prompt."""
    parts = []
    for name in names:
        path = code_dir / name
        if path.is_file():
            parts.append(f"{name}\n```python\n{path.read_text(encoding='utf-8')}```")
    return "\n\n".join(parts)
