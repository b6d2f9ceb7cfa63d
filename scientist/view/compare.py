"""Two ideas (or an idea and its control) side by side, and the code change from one's code
to the other's.

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
from scientist.models import ArchiveEntry
from scientist.safe_tree import is_regular_file, read_text
from scientist.view.snapshot import CampaignReader, IdeaDetail, RunView

CONTROL = "control"
"""The second name of a comparison page that sets an idea against its control."""


class Side(BaseModel):
    """One side of a comparison: an idea (with its archive record) or an idea's control,
    and the run its result came from."""

    id: str
    title: str
    entry: ArchiveEntry | None
    """None for a control."""
    kind: str
    run: RunView | None
    page: str | None
    """The side's page, relative to the site's root."""


def idea_side(detail: IdeaDetail) -> Side:
    entry = detail.entry
    return Side(
        id=entry.id,
        title=entry.idea.title,
        entry=entry,
        kind=detail.kind,
        run=best(detail),
        page=f"ideas/{entry.id}.html",
    )


def control_side(reader: CampaignReader, entry: ArchiveEntry) -> Side | None:
    """The run `entry`'s effect was measured against (its `vs`), or None when it has none
    or the path leads outside the campaign."""
    if entry.effect is None:
        return None
    run_dir = (reader.root / entry.effect.vs).resolve()
    if not run_dir.is_relative_to(reader.root) or not run_dir.is_dir():
        return None
    index = run_dir.name.removeprefix("run_")
    run = reader.run_at(run_dir, entry.effect.vs, int(index) if index.isdigit() else 0)
    return Side(
        id=f"control of {entry.id}",
        title=f"{entry.control or 'control'} ({entry.effect.vs})",
        entry=None,
        kind="code" if run.diff else "settings",
        run=run,
        page=None,
    )


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


def compare(pack: Path, first: Side, second: Side, metric: str) -> Comparison:
    names = {name for side in (first, second) if side.run for name in side.run.metrics}
    seeds: list[int] = []
    for side in (first, second):
        if side.run is not None:
            seeds += [seed for seed in side.run.seeds if seed not in seeds]
    return Comparison(
        first=first,
        second=second,
        metrics=[metric, *sorted(names - {metric})],
        seeds=seeds,
        code=code_between(pack, *(side.run.diff if side.run else "" for side in (first, second))),
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
