"""One idea's chain, experiment -> write -> review, as a compiled subgraph.

Why a subgraph: `select` sends each chosen idea to the `idea` node with `Send`, and that node
is this compiled graph. Parallel ideas then move through their chains independently (idea A
writes its paper while idea B still runs), instead of in lockstep supersteps as separate
top-level `experiment`/`write`/`review` nodes would. The subgraph inherits the campaign's
SQLite checkpointer: every step inside it is checkpointed under the task's namespace, and
LangGraph marks a subgraph as resuming when the campaign resumes, so a killed chain goes on
from its last finished step. The steps are idempotent on disk as well (finished runs, a
compiled `paper.json`, reviews in `reviews/`), so nothing is run or paid for twice.

Only `entries`, `runs` and `stop_reason` flow back into the campaign state (`IdeaOutput`).
A failed idea gets no paper; `writeup.enabled` / `review.enabled` switch the steps off.

A model that fails for good (`LLMError`: output that never validates, a provider that
refuses or stays down) fails that one idea, with the step and the error in the archive;
the campaign goes on. A budget stop pauses the step instead (`scientist.pause`): its
successful runs are archived, and the step runs again on resume.
"""

from __future__ import annotations

from functools import partial
from typing import TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from pydantic import ValidationError

from scientist.context import Context
from scientist.errors import BudgetExceeded, LLMError
from scientist.experiments.develop import develop_idea
from scientist.experiments.outcome import conclude
from scientist.experiments.runs import finished_run
from scientist.graph.state import IdeaTask
from scientist.models import ArchiveEntry, ExperimentRun, Paper
from scientist.pause import paused_at
from scientist.review import archive_fields, review_paper
from scientist.writeup import write_paper


class IdeaState(TypedDict, total=False):
    task: IdeaTask
    entry: ArchiveEntry
    baseline: ExperimentRun
    runs: list[ExperimentRun]
    paper: Paper | None
    entries: dict[str, ArchiveEntry]
    stop_reason: str | None


class IdeaOutput(TypedDict, total=False):
    """What an idea's chain hands back to the campaign state."""

    entries: dict[str, ArchiveEntry]
    runs: list[ExperimentRun]
    stop_reason: str | None


def _recorded(ctx: Context, entry: ArchiveEntry) -> IdeaState:
    ctx.campaign.record_idea(entry)
    return {"entry": entry, "entries": {entry.id: entry}}


def _failed(ctx: Context, entry: ArchiveEntry, step: str, exc: LLMError) -> IdeaState:
    """The idea failed at `step` because its model failed for good; the campaign goes on."""
    error = f"{step}: {exc.message}"
    return _recorded(ctx, entry.model_copy(update={"status": "failed", "error": error}))


def runs_on_disk(ctx: Context, entry: ArchiveEntry) -> list[ExperimentRun]:
    """The idea's finished runs (`runs/run_<k>/result.json`), in order."""
    runs = []
    for index in range(1, 1 + len(list(ctx.campaign.idea_dir(entry.id).glob("runs/run_*")))):
        run = finished_run(ctx.campaign.run_dir(entry.id, index), ctx.template, entry.id, index)
        if run is not None:
            runs.append(run)
    return runs


def experiment(ctx: Context, state: IdeaState) -> IdeaState:
    """Implement and run the idea (`develop_idea`)."""
    entry, baseline = state["entry"], state["baseline"]
    try:
        with paused_at(f"{entry.id}: experiment"):
            outcome = develop_idea(ctx, entry, baseline, state["task"].gpus)
    except BudgetExceeded:
        runs = runs_on_disk(ctx, entry)  # kept in the archive while the step is paused
        if any(run.result.ok for run in runs):
            ctx.campaign.record_idea(conclude(ctx, entry, runs, baseline))
        raise
    except LLMError as exc:
        return _failed(ctx, entry, "code model", exc)
    update: IdeaState = {**_recorded(ctx, outcome.entry), "runs": outcome.runs}
    if outcome.stop_reason:
        update["stop_reason"] = outcome.stop_reason
    return update


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


def write(ctx: Context, state: IdeaState) -> IdeaState:
    """Write the idea's paper (`write_paper`), unless a compiled one is already on disk."""
    entry = state["entry"]
    paper = finished_paper(ctx, entry.id)
    if paper is not None:
        return {"paper": paper}
    try:
        with paused_at(f"{entry.id}: write"):
            paper = write_paper(
                ctx,
                idea_id=entry.id,
                idea=entry.idea,
                baseline=state["baseline"],
                runs=state.get("runs") or [],
            )
    except LLMError as exc:
        return {**_failed(ctx, entry, "writeup", exc), "paper": None}
    return {"paper": paper}


def review(ctx: Context, state: IdeaState) -> IdeaState:
    """Review the paper (`review_paper`, reusing reviews on disk) and archive the scores."""
    entry = state["entry"]
    try:
        with paused_at(f"{entry.id}: review"):
            meta = review_paper(
                ctx,
                idea_id=entry.id,
                paper=state["paper"],
                baseline=state["baseline"],
                runs=state.get("runs") or [],
            )
    except LLMError as exc:
        return _failed(ctx, entry, "review", exc)
    if entry.idea.proposed_by:  # the ideas model that proposed it earns the review's verdict
        ctx.llm.reward(entry.idea.proposed_by, meta.decision == "accept")
    return _recorded(ctx, entry.model_copy(update=archive_fields(meta)))


def _after_experiment(ctx: Context, state: IdeaState) -> str:
    done = state["entry"].status == "done" and state["entry"].metric is not None
    if state.get("stop_reason") or not done or not ctx.config.writeup.enabled:
        return END
    return "write"


def _after_write(ctx: Context, state: IdeaState) -> str:
    if state.get("stop_reason") or state.get("paper") is None or not ctx.config.review.enabled:
        return END
    return "review"


def build_idea_graph(ctx: Context) -> CompiledStateGraph:
    """The per-idea chain; compiled without a checkpointer so it uses the campaign's."""
    builder = StateGraph(IdeaState, output_schema=IdeaOutput)
    builder.add_node("experiment", partial(experiment, ctx))
    builder.add_node("write", partial(write, ctx))
    builder.add_node("review", partial(review, ctx))
    builder.add_edge(START, "experiment")
    builder.add_conditional_edges("experiment", partial(_after_experiment, ctx), ["write", END])
    builder.add_conditional_edges("write", partial(_after_write, ctx), ["review", END])
    builder.add_edge("review", END)
    return builder.compile()
