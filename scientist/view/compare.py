"""Two ideas side by side, and the code change from one idea's code to another's.

A run keeps its code as a diff against the pack (`code.diff`), so the change between two
ideas is found by rebuilding, in a scratch folder, the files either diff touches: from the
pack, with each diff applied by the same editor the code agent's edits go through
(`parse_answer`, `apply_edits`), then diffed with `code_diff`. Nothing is written into the
campaign or the pack.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from pydantic import BaseModel

from scientist.experiments.editing import apply_edits, parse_answer
from scientist.experiments.runs import code_diff
from scientist.safe_tree import is_regular_file, read_text
from scientist.view.snapshot import IdeaDetail, RunView


class Side(BaseModel):
    """One idea of a comparison: its page's detail and the run its result came from."""

    detail: IdeaDetail
    run: RunView | None

    @property
    def id(self) -> str:
        return self.detail.entry.id


class Comparison(BaseModel):
    first: Side
    second: Side
    metrics: list[str]
    """Every metric either result reports, the primary one first."""
    seeds: list[int]
    """The seeds of the primary metric, in the order the results list them."""
    code: str
    """A unified diff from the first idea's code to the second's ('' when the same)."""

    def seed_value(self, side: Side, seed: int) -> float | None:
        run = side.run
        if run is None or seed not in run.seeds:
            return None
        values = run.values.get(self.metrics[0], [])
        index = run.seeds.index(seed)
        return values[index] if index < len(values) else None


def best(detail: IdeaDetail) -> RunView | None:
    return next((run for run in detail.runs if run.index == detail.best_run), None)


def compare(pack: Path, first: IdeaDetail, second: IdeaDetail, metric: str) -> Comparison:
    sides = [Side(detail=detail, run=best(detail)) for detail in (first, second)]
    names = {name for side in sides if side.run for name in side.run.metrics}
    seeds: list[int] = []
    for side in sides:
        if side.run is not None:
            seeds += [seed for seed in side.run.seeds if seed not in seeds]
    return Comparison(
        first=sides[0],
        second=sides[1],
        metrics=[metric, *sorted(names - {metric})],
        seeds=seeds,
        code=code_between(pack, *(side.run.diff if side.run else "" for side in sides)),
    )


@functools.lru_cache(maxsize=64)
def code_between(pack: Path, before: str, after: str) -> str:
    """The change from the code `before` describes to the code `after` does, both diffs
    against `pack` ('' when they describe the same code)."""
    if before == after:
        return ""
    edits = [parse_answer(diff).blocks for diff in (before, after)]
    touched = {block.path for blocks in edits for block in blocks}
    with tempfile.TemporaryDirectory(prefix="scientist-compare-") as scratch:
        folders = [Path(scratch) / "first", Path(scratch) / "second"]
        for folder, blocks in zip(folders, edits, strict=True):
            for relative in touched:
                if is_regular_file(pack, relative):
                    target = folder / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(read_text(pack, relative), encoding="utf-8")
            folder.mkdir(parents=True, exist_ok=True)
            apply_edits(folder, blocks, touched)
        return code_diff(folders[0], folders[1])
