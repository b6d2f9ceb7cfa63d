"""A synthetic campaign for the view, written through `Campaign` and the records: ideas over
generations with parents, runs (code and settings-only), papers with a real PDF, reviews,
a model ledger, the model pool and one idea's tree search. Nothing is run.

Shared by tests/view and benchmarks/view_index.py (which puts this folder on sys.path).
"""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from langgraph.checkpoint.base import empty_checkpoint
from matplotlib.figure import Figure

from scientist.atomic_files import atomic_write_json, atomic_write_text
from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.experiments.runs import seal_run
from scientist.graph.build import open_checkpointer, thread_of
from scientist.graph.state import CampaignState, Flight, Step
from scientist.llm.pool import STATS, ModelStats
from scientist.models import (
    ArchiveEntry,
    Effect,
    FinalInfo,
    Idea,
    LedgerEntry,
    MetaReview,
    MetricSummary,
    Paper,
    Review,
    RunResult,
    SearchNodeRecord,
    Usage,
)
from scientist.records.runs import CODE_DIFF, FINAL_INFO, OUTPUTS, finished_run
from scientist.review.meta import ReviewRecord
from scientist.templates import load_template

TOY_PACK = Path(__file__).resolve().parents[1] / "fixtures" / "toy"
BASELINE = 0.5
DIFF = "--- a/experiment.py\n+++ b/experiment.py\n@@ -1 +1 @@\n-BONUS = 0.0\n+BONUS = 0.05\n"
MODELS = ("model-a", "model-b")
SEARCHED = 1  # the index of the idea that was developed by a tree search
SPREAD = 0.03  # half the width of each idea's 95 % interval


def figure_bytes(kind: str, title: str) -> bytes:
    figure = Figure(figsize=(4, 3))
    axes = figure.subplots()
    axes.plot([0, 1, 2], [0.5, 0.6, 0.55])
    axes.set_title(title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=kind)
    return buffer.getvalue()


def idea_id(index: int, generation: int) -> str:
    return f"{generation}_{index}_idea_{index}"


def write_run(
    campaign: Campaign,
    idea: str,
    index: int,
    value: float,
    diff: str,
    others: dict[str, float] | None = None,
) -> None:
    """A finished run of `idea` on seed 0: `score` (the toy pack's metric) = `value`, and
    `others` as further metrics."""
    run_dir = campaign.run_dir(idea, index)
    metrics = {name: MetricSummary(mean=v, values=[v]) for name, v in (others or {}).items()}
    metrics["score"] = MetricSummary(mean=value, values=[value])
    info = FinalInfo(metrics=metrics, seeds=[0], runtime_s=1.0)
    atomic_write_text(run_dir / OUTPUTS / FINAL_INFO, info.model_dump_json())
    atomic_write_text(run_dir / CODE_DIFF, diff)
    stdout = f"score {value}\n"
    result = RunResult(
        exit_code=0, status="ok", stdout_tail=stdout, duration_s=1.5, backend="local"
    )
    seal_run(run_dir, load_template(str(TOY_PACK)), result)


def write_reviews(campaign: Campaign, idea: str, score: float, pdf: bytes) -> None:
    paper_dir = campaign.paper_dir(idea)
    atomic_write_text(paper_dir / "paper.tex", "\\documentclass{article}\n")
    (paper_dir / "paper.pdf").write_bytes(pdf)
    paper = Paper(
        idea_id=idea,
        tex_path=paper_dir / "paper.tex",
        pdf_path=paper_dir / "paper.pdf",
        compiled=True,
        pages=1,
    )
    atomic_write_json(paper_dir / "paper.json", paper)
    decision = "accept" if score >= 6 else "reject"
    review = Review(
        summary=f"Review summary of {idea}.",
        strengths=["Clear baseline."],
        weaknesses=[f"Weakness of {idea}."],
        originality=2,
        quality=2,
        clarity=3,
        significance=2,
        soundness=2,
        presentation=3,
        contribution=2,
        overall=round(score),
        confidence=3,
        decision=decision,
    )
    record = ReviewRecord(reviewer="rubric", score=score, review=review)
    atomic_write_json(campaign.reviews_dir(idea) / "review_0.json", record)
    meta = MetaReview(
        summary=f"Meta-review of {idea}.",
        strengths=review.strengths,
        weaknesses=review.weaknesses,
        overall=score,
        decision=decision,
        threshold=6,
        n_reviews=1,
        reviewer="rubric",
    )
    atomic_write_json(campaign.reviews_dir(idea) / "meta.json", meta)


def add_idea(
    campaign: Campaign,
    index: int,
    generation: int,
    parents: list[str],
    *,
    rng: random.Random,
    pdf: bytes,
    png: bytes,
) -> ArchiveEntry:
    """One finished idea: a run, a figure, a paper and its reviews, recorded in the archive."""
    identifier = idea_id(index, generation)
    idea = Idea(
        name=f"idea_{index}",
        title=f"Idea number {index}",
        hypothesis=f"Hypothesis {index}: a change helps.",
        plan="Run it once.",
        overrides={"lr": 0.1},
        parents=parents,
        generation=generation,
    )
    value = BASELINE + rng.uniform(-0.1, 0.2)
    write_run(campaign, identifier, 1, value, DIFF if index % 3 == 0 else "")
    figures = campaign.idea_dir(identifier) / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    (figures / "score.png").write_bytes(png)
    score = round(rng.uniform(2, 8), 1)
    write_reviews(campaign, identifier, score, pdf)
    gain = Effect(
        vs="baseline/run_0",
        metric="score",
        mean=value - BASELINE,
        low=value - BASELINE - SPREAD,
        high=value - BASELINE + SPREAD,
        n=[3, 3],
        test="welch",
    )
    entry = ArchiveEntry(
        id=identifier,
        idea=idea,
        status="done",
        metric=value,
        baseline_metric=BASELINE,
        improvement=value - BASELINE,
        control="baseline",
        effect=gain,
        gain=gain,
        review_score=score,
        decision="accept" if score >= 6 else "reject",
        weaknesses=[f"Weakness of {identifier}."],
        runs=1,
    )
    campaign.record_idea(entry)
    return entry


def build_campaign(root: Path, ideas: int, *, seed: int = 0) -> Campaign:
    """A campaign of `ideas` finished ideas, 4 per generation after 4 seed ideas."""
    rng = random.Random(seed)
    campaign = Campaign.create(root, CampaignConfig(template=str(TOY_PACK), name="synthetic"))
    write_baseline(campaign)
    pdf, png = figure_bytes("pdf", "paper"), figure_bytes("png", "score")
    entries: list[ArchiveEntry] = []
    for index in range(ideas):
        generation = index // 4
        previous = [e.id for e in entries if e.idea.generation == generation - 1]
        parents = rng.sample(previous, k=min(2, len(previous)))
        entries.append(add_idea(campaign, index, generation, parents, rng=rng, pdf=pdf, png=png))
    write_costs(campaign, calls=3 * ideas)
    if ideas > SEARCHED:
        write_search(campaign, entries[SEARCHED].id)
    return campaign


def write_baseline(campaign: Campaign) -> None:
    run_dir = campaign.baseline_dir
    info = FinalInfo(
        metrics={"score": MetricSummary(mean=BASELINE, values=[BASELINE])},
        seeds=[0],
        runtime_s=1.0,
    )
    atomic_write_text(run_dir / OUTPUTS / FINAL_INFO, info.model_dump_json())
    result = RunResult(exit_code=0, status="ok", duration_s=1.0)
    seal_run(run_dir, load_template(str(TOY_PACK)), result)


def write_costs(campaign: Campaign, calls: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    stats = {model: ModelStats(role="ideas", model=model) for model in MODELS}
    for k in range(calls):
        model = MODELS[k % 2]
        cost = 0.01 * (1 + k % 3)
        time = (start + timedelta(minutes=5 * k)).isoformat(timespec="seconds")
        usage = Usage(input_tokens=1000, output_tokens=200, cost_usd=cost)
        campaign.record_call(
            LedgerEntry(
                call_id=f"c{k}", role="ideas", model=model, usage=usage, latency_s=1.0, time=time
            )
        )
        arm = stats[model]
        arm.calls += 1
        arm.cost_usd += cost
        arm.wins += k % 3 == 0
        arm.losses += k % 3 != 0
    atomic_write_json(campaign.pool_path, STATS.dump_python(list(stats.values())))


def write_search(campaign: Campaign, idea: str) -> None:
    """Three nodes: a fresh draft by each model, and one improvement of the first."""
    nodes = [
        SearchNodeRecord(node=1, model="model-a", score=0.6),
        SearchNodeRecord(node=2, model="model-b", score=0.0, ran=False, note="no edit applied"),
        SearchNodeRecord(node=3, parent=1, model="model-a", score=0.8),
    ]
    for node in nodes:
        campaign.record_search_node(idea, node)


def write_checkpoint(campaign: Campaign, state: CampaignState) -> None:
    """A checkpoint holding `state`, written through the campaign's own checkpointer (as the
    scheduler's graph writes one), so that `read_state` reads it back."""
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = dict(state)
    with open_checkpointer(campaign) as saver:
        saver.put(thread_of(campaign), checkpoint, {"source": "loop", "step": 1}, {})


def flying(campaign: Campaign, steps: dict[str, Step], *, since: float) -> CampaignState:
    """A running campaign's state: its baseline and `steps` in flight (idea id
    -> step), the experiments on slots 0, 1, ... with one GPU each."""
    baseline = finished_run(campaign.baseline_dir, load_template(str(TOY_PACK)), "baseline", 0)
    flights = {}
    for slot, (idea, step) in enumerate(steps.items()):
        on_slot = slot if step == "experiment" else None
        gpus = [slot] if on_slot is not None else []
        flights[idea] = Flight(idea_id=idea, step=step, slot=on_slot, gpus=gpus, since=since)
    return {"baseline": baseline, "flights": flights, "generation": 1}
