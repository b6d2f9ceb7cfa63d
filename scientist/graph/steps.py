"""One idea's steps, experiment -> write -> review, each run as a job by the scheduler.

A step takes the idea's `Flight` (what its earlier steps handed on) and returns a
`StepResult`: the idea's new archive record, and the flight's next step or None when the
idea is finished. The steps are idempotent on disk (finished runs, a compiled `paper.json`,
reviews in `reviews/`) and their paid calls are journaled, so a step a kill cut short runs
again on resume without running or paying for anything twice.

An idea is measured against its own control (`experiments.controls`), which the paper and
the review compare it with. A failed idea, and one without effect, gets no paper;
`writeup.enabled` / `review.enabled` switch the steps off.
A model that fails for good (`LLMError`: output that never validates, a provider that
refuses or stays down) fails that one idea, with the step and the error in the archive; the
campaign goes on. A budget stop (`BudgetExceeded`) leaves the step unfinished: its
successful runs are archived, and the step runs again on resume. Run again so (the context
is `finishing`), a step that meets the budget once more finishes without the model: the
experiment concludes with the runs it made, the paper is written and the review done by
their offline strategies, and the archive says why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from scientist.config import CampaignConfig
from scientist.context import Context
from scientist.errors import BudgetExceeded, LLMError
from scientist.experiments.controls import attribute
from scientist.experiments.develop import develop_idea
from scientist.experiments.outcome import Outcome, conclude
from scientist.graph.state import Flight, Step
from scientist.models import ArchiveEntry, ExperimentRun, MetaReview, Paper
from scientist.pause import paused_at
from scientist.records.runs import finished_run
from scientist.review import archive_fields, review_paper
from scientist.writeup import write_paper
from scientist.writeup.context import SECTIONS

BUDGET_NOTE = "the budget ran out"
Done = TypeVar("Done")
log = logging.getLogger(__name__)


class StepResult(BaseModel):
    """A finished step: the idea's record now, and its flight onwards (None: the idea is done)."""

    entry: ArchiveEntry
    flight: Flight | None


def _finished(ctx: Context, entry: ArchiveEntry) -> StepResult:
    ctx.campaign.record_idea(entry)
    return StepResult(entry=entry, flight=None)


def finishing(ctx: Context, step: Callable[[Context], Done]) -> Done:
    """`step(ctx)`; a step held by a budget pause (`ctx.finishing`) that meets the budget
    once more is done again offline (logged)."""
    try:
        return step(ctx)
    except BudgetExceeded as exc:
        if not ctx.finishing:
            raise
        log.warning("%s: %s; finishing it without the model", exc.step or "a step", BUDGET_NOTE)
        return step(ctx.offline())


def _noted(entry: ArchiveEntry) -> ArchiveEntry:
    """`entry` concluded early because the budget ran out, which its error says."""
    if entry.status == "failed":
        return entry
    return entry.model_copy(update={"error": f"{BUDGET_NOTE}: concluded with the runs made"})


def _failed(ctx: Context, entry: ArchiveEntry, step: str, exc: LLMError) -> StepResult:
    """The idea failed at `step` because its model failed for good; the campaign goes on."""
    error = f"{step}: {exc.message}"
    return _finished(ctx, entry.model_copy(update={"status": "failed", "error": error}))


def runs_on_disk(ctx: Context, entry: ArchiveEntry) -> list[ExperimentRun]:
    """The idea's finished runs (`runs/run_<k>/result.json`), in order."""
    runs = []
    for index in range(1, 1 + len(list(ctx.campaign.idea_dir(entry.id).glob("runs/run_*")))):
        run = finished_run(ctx.campaign.run_dir(entry.id, index), ctx.template, entry.id, index)
        if run is not None:
            runs.append(run)
    return runs


def experiment(
    ctx: Context, entry: ArchiveEntry, flight: Flight, baseline: ExperimentRun
) -> StepResult:
    """Implement and run the idea (`develop_idea`) on the flight's slot."""
    try:
        with paused_at(f"{entry.id}: experiment"):
            outcome = develop_idea(ctx, entry, baseline, flight.gpus)
    except BudgetExceeded:
        runs = runs_on_disk(ctx, entry)  # kept in the archive while the step is paused
        if not ctx.finishing:
            if any(run.result.ok for run in runs):
                ctx.campaign.record_idea(conclude(ctx, entry, runs, baseline))
            raise
        concluded = conclude(ctx, entry, runs, baseline, note=BUDGET_NOTE)
        outcome = Outcome(entry=_noted(concluded), runs=runs)
    except LLMError as exc:
        return _failed(ctx, entry, "code model", exc)
    with paused_at(f"{entry.id}: experiment"):
        entry, control = attribute(ctx, outcome.entry, outcome.runs, baseline, flight.gpus)
    ctx.campaign.record_idea(entry)
    if entry.status != "done" or entry.metric is None or not ctx.config.writeup.enabled:
        return StepResult(entry=entry, flight=None)
    onward = flight.model_copy(
        update={
            "step": "write",
            "since": time.time(),
            "slot": None,
            "runs": outcome.runs,
            "control": control.run if control is not None else None,
        }
    )
    return StepResult(entry=entry, flight=onward)


def finished_paper(ctx: Context, idea_id: str) -> Paper | None:
    """The idea's paper from an earlier attempt, when that one compiled to a PDF."""
    path = ctx.campaign.paper_dir(idea_id) / "paper.json"
    try:
        paper = Paper.model_validate_json(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValidationError):
        return None
    paper = ctx.campaign.localized(paper)
    if paper.compiled and paper.pdf_path is not None and paper.pdf_path.is_file():
        return paper
    return None


def write(ctx: Context, entry: ArchiveEntry, flight: Flight, baseline: ExperimentRun) -> StepResult:
    """Write the idea's paper (`write_paper`), unless a compiled one is already on disk."""
    paper = finished_paper(ctx, entry.id)
    if paper is None:

        def written(ctx: Context) -> Paper:
            return write_paper(
                ctx,
                idea_id=entry.id,
                idea=entry.idea,
                baseline=flight.control or baseline,
                runs=flight.runs,
                control=entry.control,
            )

        try:
            with paused_at(f"{entry.id}: write"):
                paper = finishing(ctx, written)
        except LLMError as exc:
            return _failed(ctx, entry, "writeup", exc)
    if not ctx.config.review.enabled:
        return StepResult(entry=entry, flight=None)
    onward = flight.model_copy(update={"step": "review", "since": time.time(), "paper": paper})
    return StepResult(entry=entry, flight=onward)


def review(
    ctx: Context, entry: ArchiveEntry, flight: Flight, baseline: ExperimentRun
) -> StepResult:
    """Review the paper (`review_paper`, reusing reviews on disk) and archive the scores."""

    def reviewed(ctx: Context) -> MetaReview:
        return review_paper(
            ctx,
            idea_id=entry.id,
            paper=flight.paper,
            baseline=flight.control or baseline,
            runs=flight.runs,
        )

    try:
        with paused_at(f"{entry.id}: review"):
            meta = finishing(ctx, reviewed)
    except LLMError as exc:
        return _failed(ctx, entry, "review", exc)
    if entry.idea.proposed_by:  # the ideas model that proposed it earns the review's verdict
        ctx.llm.reward(entry.idea.proposed_by, meta.decision == "accept")
    return _finished(ctx, entry.model_copy(update=archive_fields(meta)))


def most_calls(kind: str, config: CampaignConfig) -> int:
    """How many model calls one step of `kind` makes when all goes as usual: a code call and
    a next-run call per run and each debug round; a draft per section, the figure review, a
    critique and each fix round; each reviewer and its reflection, and the area chair; an
    ideation's proposal and reflection. A pause reserves this many worst cases of the step's
    refused call; a step that needs more finishes offline."""
    calls = {
        "experiment": 2 * config.max_runs_per_idea + config.debug_attempts,
        "write": len(SECTIONS) + 2 + config.writeup.fix_rounds,
        "review": config.review.ensemble * (1 + config.review.reflections) + 1,
    }
    return calls.get(kind, 2)


STEPS: dict[Step, Callable[[Context, ArchiveEntry, Flight, ExperimentRun], StepResult]] = {
    "experiment": experiment,
    "write": write,
    "review": review,
}
