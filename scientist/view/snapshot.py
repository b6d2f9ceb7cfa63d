"""What the view shows, read from a campaign directory through its records.

Everything here goes through `Campaign` and the pydantic records (`ArchiveEntry`,
`ExperimentRun` via `finished_run`, `Paper`, `ReviewRecord`, `MetaReview`, `ModelStats`),
so a change in where a stage writes flows through. Paths handed to the pages are relative
to the campaign root; anything that resolves outside it is left out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError

from scientist.campaign import Campaign
from scientist.graph.nodes import BASELINE_ID
from scientist.llm.pool import ModelStats, read_pool
from scientist.models import (
    ArchiveEntry,
    GradeStatus,
    LedgerEntry,
    MetaReview,
    Paper,
    SearchNodeRecord,
)
from scientist.records.runs import changed_code, diff_in, finished_run
from scientist.report import image_spending, leaderboard, provenance, sizes
from scientist.review.meta import ReviewRecord
from scientist.templates import Template, load_template
from scientist.view.activity import Activity, files_read, read_activity
from scientist.view.files import stats, subfolders, tree
from scientist.view.ranking import tied_with_leader

IdeaKind = Literal["code", "settings"]
RecordT = TypeVar("RecordT", bound=BaseModel)
FIGURE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg")
DIFF_LIMIT = 200_000  # characters of a code diff shown on a page
FIGURES = "figures"
RUN_DEPTH = 2  # a run folder's files, and those of its outputs/ (final_info.json)


class RunView(BaseModel):
    """One run of an idea as its page shows it; `status` is 'running' until it finishes."""

    index: int
    status: str
    metrics: dict[str, float]
    values: dict[str, list[float]] = Field(default_factory=dict, description="per seed")
    seeds: list[int] = Field(default_factory=list)
    duration_s: float | None = None
    message: str = ""
    diff: str = ""
    logs: list[str]
    grade: GradeStatus | None = None
    claimed: dict[str, float] = Field(
        default_factory=dict, description="the run's own numbers, when a grader measured them"
    )
    mismatches: list[str] = Field(default_factory=list)


class IdeaDetail(BaseModel):
    entry: ArchiveEntry
    kind: IdeaKind
    children: list[str]
    runs: list[RunView]
    best_run: int | None
    paper: Paper | None
    pdf: str | None
    figures: list[str]
    reviews: list[ReviewRecord]
    meta: MetaReview | None
    search: list[SearchNodeRecord]


class Overview(BaseModel):
    name: str
    template: str
    metric: str
    goal: str
    baseline: float | None
    entries: list[ArchiveEntry]
    kinds: dict[str, IdeaKind]
    ledger: list[LedgerEntry]
    pool: list[ModelStats]
    sizes: str
    """The run size, seeds and confirmation, in one line."""
    provenance: str = Field(description="where the metrics come from (graded, self-reported)")
    activity: Activity
    tied: set[str] = Field(description="ideas not distinguishable from the leader (ranking.py)")

    @property
    def spent_usd(self) -> float:
        return sum(entry.usage.cost_usd for entry in self.ledger)

    @property
    def image_spending(self) -> str | None:
        return image_spending(self.ledger)


class CampaignReader:
    """Reads one campaign for the view; `version()` changes whenever what it shows does."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.root = campaign.root.resolve()
        self.template: Template = load_template(campaign.config.template)
        self._archive: tuple[tuple[int, int], list[ArchiveEntry]] | None = None
        self._activity: tuple[tuple[bytes, bool], Activity] | None = None

    # ------------------------------------------------------------------ change detection
    def version(self, idea_id: str | None = None) -> str:
        """A short hash that changes whenever what a page shows does: the whole campaign's
        files and folders (sizes and times) for the index, or one idea's archive record and
        folders for its page, so that its page does not reload for another idea's progress
        (and, for the index, whether the campaign's process runs).
        The files inside the folders count too, so that a file rewritten in place (which
        leaves its folder's time alone) is noticed."""
        campaign = self.campaign
        digest = hashlib.blake2b(digest_size=8)
        if idea_id is None:
            paths = [campaign.archive_path, campaign.ledger_path, campaign.pool_path]
            paths += [*tree(campaign.baseline_dir, RUN_DEPTH), *files_read(campaign)]
            ideas = [entry.id for entry in self.archive()]
            digest.update(b"running" if campaign.is_running() else b"not running")
        else:
            entry = next((e for e in self.archive() if e.id == idea_id), None)
            digest.update(entry.model_dump_json().encode() if entry else b"none")
            paths, ideas = [], [idea_id]
        for idea in ideas:
            paths += tree(campaign.run_dir(idea, 0).parent, RUN_DEPTH + 1)
            for folder in (
                campaign.search_dir(idea),
                campaign.paper_dir(idea),
                campaign.reviews_dir(idea),
                campaign.idea_dir(idea) / FIGURES,
            ):
                paths += tree(folder, 1)
        digest.update(stats(paths))
        return digest.hexdigest()

    def activity(self) -> Activity:
        """What the campaign is doing (`read_activity`), read again only when the checkpoint
        or the pause record changed, or its process started or ended."""
        key = (stats(files_read(self.campaign)), self.campaign.is_running())
        cached = self._activity
        if cached is None or cached[0] != key:
            cached = self._activity = (key, read_activity(self.campaign))
        return cached[1]

    def archive(self) -> list[ArchiveEntry]:
        """The campaign's archive, parsed again only when its file changed."""
        try:
            stat = self.campaign.archive_path.stat()
        except FileNotFoundError:
            return []
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._archive
        if cached is None or cached[0] != key:
            cached = self._archive = (key, self.campaign.archive())
        return cached[1]

    # ------------------------------------------------------------------ campaign level
    def overview(self) -> Overview:
        entries = leaderboard(self.archive())
        metric = self.template.metric
        baseline = finished_run(self.campaign.baseline_dir, self.template, BASELINE_ID, 0)
        pool_path = self.campaign.pool_path
        pool = read_pool(pool_path)
        return Overview(
            name=self.campaign.name,
            template=self.template.name,
            metric=metric.name,
            goal=metric.goal,
            baseline=baseline.metric(metric.name) if baseline else None,
            entries=entries,
            kinds={entry.id: self.kind(entry.id) for entry in entries},
            ledger=self.campaign.ledger(),
            pool=pool,
            sizes=sizes(self.campaign.config, self.template),
            provenance=provenance(self.template),
            activity=self.activity(),
            tied=tied_with_leader(entries),
        )

    def kind(self, idea_id: str) -> IdeaKind:
        """'code' when any run of the idea changed the pack's code, else 'settings'."""
        for index in self._run_indexes(idea_id):
            if changed_code(self.campaign.run_dir(idea_id, index)):
                return "code"
        return "settings"

    # ------------------------------------------------------------------ one idea
    def idea(self, idea_id: str) -> IdeaDetail | None:
        entries = self.archive()
        entry = next((e for e in entries if e.id == idea_id), None)
        if entry is None:
            return None
        runs = [self._run(idea_id, index) for index in self._run_indexes(idea_id)]
        paper = self._paper(idea_id)
        reviews_dir = self.campaign.reviews_dir(idea_id)
        return IdeaDetail(
            entry=entry,
            kind=self.kind(idea_id),
            children=sorted(e.id for e in entries if idea_id in e.idea.parents),
            runs=runs,
            best_run=_best_run(runs, self.template.metric.name, entry.metric),
            paper=paper,
            pdf=self.relative(paper.pdf_path) if paper and paper.pdf_path else None,
            figures=self._figures(idea_id),
            reviews=_valid_files(
                ReviewRecord, sorted(reviews_dir.glob("review_*.json"), key=_number)
            ),
            meta=next(iter(_valid_files(MetaReview, [reviews_dir / "meta.json"])), None),
            search=self.campaign.search_tree(idea_id),
        )

    def _run_indexes(self, idea_id: str) -> list[int]:
        runs = self.campaign.run_dir(idea_id, 0).parent
        return sorted(_number(path) for path in subfolders(runs) if path.name[4:].isdigit())

    def _run(self, idea_id: str, index: int) -> RunView:
        return self.run_at(self.campaign.run_dir(idea_id, index), idea_id, index)

    def run_at(self, run_dir: Path, owner: str, index: int) -> RunView:
        """The run in `run_dir` (run `index` of `owner`: an idea, or a control)."""
        logs = self._links(sorted(run_dir.glob("*.log")))
        diff = diff_in(run_dir)[:DIFF_LIMIT]
        run = finished_run(run_dir, self.template, owner, index)
        if run is None:
            return RunView(index=index, status="running", metrics={}, diff=diff, logs=logs)
        info = run.final_info
        summaries = info.metrics if info is not None else {}
        return RunView(
            index=index,
            status=run.result.status,
            metrics={name: summary.mean for name, summary in summaries.items()},
            values={name: summary.values for name, summary in summaries.items()},
            seeds=info.seeds if info is not None else [],
            duration_s=run.result.duration_s,
            message=run.result.message,
            diff=diff,
            logs=logs,
            grade=run.grade if run.result.ok else None,
            claimed={name: summary.mean for name, summary in (run.claimed or {}).items()},
            mismatches=run.mismatches,
        )

    def _paper(self, idea_id: str) -> Paper | None:
        """The idea's paper record; its PDF looked up in the paper folder when the recorded
        path is gone (a campaign moved or copied elsewhere), and None when it is not there."""
        paper_dir = self.campaign.paper_dir(idea_id)
        paper = next(iter(_valid_files(Paper, [paper_dir / "paper.json"])), None)
        paper = None if paper is None else self.campaign.localized(paper)
        if paper is None or paper.pdf_path is None or paper.pdf_path.is_file():
            return paper
        moved = paper_dir / paper.pdf_path.name
        return paper.model_copy(update={"pdf_path": moved if moved.is_file() else None})

    def _figures(self, idea_id: str) -> list[str]:
        folder = self.campaign.idea_dir(idea_id) / FIGURES
        if not folder.is_dir():
            return []
        return self._links(p for p in sorted(folder.iterdir()) if p.suffix in FIGURE_SUFFIXES)

    def _links(self, paths: Iterable[Path]) -> list[str]:
        return [link for link in map(self.relative, paths) if link is not None]

    def relative(self, path: Path) -> str | None:
        """`path` relative to the campaign root, or None when it lies outside."""
        try:
            return Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None


def _number(path: Path) -> int:
    """The k of `run_k` or `review_k.json`."""
    digits = path.stem.rpartition("_")[2]
    return int(digits) if digits.isdigit() else -1


def _valid_files(kind: type[RecordT], paths: list[Path]) -> list[RecordT]:
    """Each file parsed as `kind`; missing or half-written ones are left out."""
    records = []
    for path in paths:
        try:
            records.append(kind.model_validate_json(path.read_bytes()))
        except (OSError, ValidationError):
            continue
    return records


def _best_run(runs: list[RunView], metric: str, value: float | None) -> int | None:
    """The run the idea's archived metric came from (else its last finished one)."""
    finished = [run for run in runs if run.status == "ok"]
    matching = [run for run in finished if value is not None and run.metrics.get(metric) == value]
    chosen = matching or finished
    return chosen[-1].index if chosen else None
