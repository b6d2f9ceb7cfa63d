"""The scheduler's own cost as slots and the archive grow: per-event overhead, checkpoint
bytes per event, total checkpoint size and resume time.

A simulated backend drives the real scheduler, the real campaign graph and the real SQLite
checkpointer (`scientist.graph.runner.drive`) on the sleepy pack. Time is simulated
(`simulated_clock`): an experiment holds its slot for 1 to 30 s, an ideation takes 5 s and
breeds ideas on the pack's knob, the scripted writer and reviewer (`scripted_papers`) take
about 10 and 5 s; no process, sandbox run or model call happens. Each campaign is cut off
like a kill at event 2.7 x ideas (about 90 % of the way) and resumed to its end.

    python benchmarks/scheduler_scale.py [--slots 8 64 256 1024] [--ideas 100 1000 10000]

- overhead: real time between one scheduler wait and the next (fold what ended, dispatch,
  write the checkpoint, submit), median and p95 over every event;
- kB/event: bytes written to the checkpoint database (checkpoints and pending writes) over
  the events; last kB: the size of the last checkpoint, which grows with what it holds;
- total MB: the database file; resume s: from reopening the campaign to the scheduler's
  first wait, with the state rebuilt from the checkpoint and the work in flight resubmitted.
Slots and writers above 64, and ideas above 1,000, are past what the config accepts; the
benchmark sets them directly to see how the scheduler itself scales.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from contextlib import closing, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from machine import describe
from scripted_papers import ScriptedPapers
from simulated_clock import SimulatedClock, SimulatedKill

import scientist.graph.scheduler as scheduler
import scientist.graph.steps as steps
from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.context import Context, open_context
from scientist.graph.runner import drive
from scientist.models import (
    ArchiveEntry,
    ExperimentRun,
    FinalInfo,
    Idea,
    MetricSummary,
    RunResult,
)

SLEEPY_PACK = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "sleepy"
IDEATION_S, WRITE_S, REVIEW_S = 5.0, 10.0, 5.0
KILL_AT = 2.7
"""The kill comes at event KILL_AT x ideas (an idea makes about 3 events)."""
HYPOTHESIS = "Moving x towards the centre of its range raises the score. " * 3
PLAN = "Run the pack with x set as below on every seed and compare with the baseline. " * 5


def simulated_run(campaign: Campaign, idea_id: str, index: int, score: float) -> ExperimentRun:
    """A finished run as the sandbox would have reported it, without running anything."""
    return ExperimentRun(
        idea_id=idea_id,
        index=index,
        result=RunResult(exit_code=0, status="ok", duration_s=1.0, backend="simulated"),
        final_info=FinalInfo(
            metrics={"score": MetricSummary(values=[score])}, seeds=[0], runtime_s=1.0
        ),
        run_dir=campaign.baseline_dir if index == 0 else campaign.run_dir(idea_id, index),
        overrides={"x": 1.0 - score},
    )


def experiment(
    clock: SimulatedClock,
    ctx: Context,
    entry: ArchiveEntry,
    flight: steps.Flight,
    baseline: ExperimentRun,
) -> steps.StepResult:
    """The idea's experiment: 1 to 30 simulated seconds on its slot, scored by its knob."""
    clock.sleep(random.Random(entry.id).uniform(1, 30))
    score = 1 - abs(entry.idea.overrides["x"] - 0.5)
    base = baseline.final_info.metrics["score"].mean  # type: ignore[union-attr]
    run = simulated_run(ctx.campaign, entry.id, 1, score)
    done = entry.model_copy(
        update={
            "status": "done",
            "metric": score,
            "baseline_metric": base,
            "improvement": score - base,
        }
    )
    ctx.campaign.record_idea(done)
    onward = flight.model_copy(update={"step": "write", "slot": None, "runs": [run]})
    return steps.StepResult(entry=done, flight=onward)


def propose(
    clock: SimulatedClock,
    ctx: Context,
    archive: list[ArchiveEntry],
    baseline: ExperimentRun,
    generation: int,
    wanted: int,
) -> list[ArchiveEntry]:
    """A generation of as many ideas as there are slots (or `wanted`), after 5 s."""
    clock.sleep(IDEATION_S)
    rng = random.Random(generation)
    entries = []
    for k in range(min(wanted, ctx.config.max_parallel)):
        name = f"x_{k}"
        idea = Idea(
            name=name,
            title=f"x set to explore generation {generation}",
            hypothesis=HYPOTHESIS,
            plan=PLAN,
            overrides={"x": rng.random()},
            generation=generation,
        )
        entry = ArchiveEntry(id=f"{generation}_{k}_{name}", idea=idea)
        ctx.campaign.record_idea(entry)
        entries.append(entry)
    return entries


ORIGINAL_STEPS = dict(steps.STEPS)


def simulate(clock: SimulatedClock, seed: int) -> None:
    """Point the scheduler's steps, ideation and waits at the simulated backend."""
    papers = ScriptedPapers(WRITE_S, REVIEW_S, seed, sleep=clock.sleep)
    steps.write_paper, steps.review_paper = papers.write_paper, papers.review_paper
    steps.STEPS.update(ORIGINAL_STEPS, experiment=partial(experiment, clock))
    scheduler.propose_ideas = partial(propose, clock)
    scheduler.wait = clock.wait  # type: ignore[assignment]


@dataclass
class Row:
    slots: int
    ideas: int
    events: int
    median_ms: float
    p95_ms: float
    kb_per_event: float
    last_kb: float
    total_mb: float
    resume_s: float
    reviewed: int
    wall_s: float


def checkpoint_bytes(path: Path) -> tuple[int, int]:
    """(bytes written in checkpoints and pending writes, bytes of the last checkpoint)."""
    with closing(sqlite3.connect(path)) as conn:
        (written,) = conn.execute(
            "SELECT coalesce(sum(length(checkpoint) + length(metadata)), 0) FROM checkpoints"
        ).fetchone()
        (writes,) = conn.execute("SELECT coalesce(sum(length(value)), 0) FROM writes").fetchone()
        (last,) = conn.execute(
            "SELECT length(checkpoint) FROM checkpoints ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
    return written + writes, last


def measure(slots: int, ideas: int, folder: Path, seed: int) -> Row:
    started = time.perf_counter()
    clock = SimulatedClock()
    simulate(clock, seed)
    config = CampaignConfig(
        template=str(SLEEPY_PACK), seeds=[0], confirm_seeds=0, literature="off"
    ).model_copy(update={"max_ideas": ideas, "max_parallel": slots, "max_writing": slots})
    campaign = Campaign.create(folder / f"s{slots}_i{ideas}", config)
    baseline = simulated_run(campaign, "baseline", 0, 0.5)
    clock.kill_after = int(KILL_AT * ideas)
    with suppress(SimulatedKill):
        drive(
            open_context(campaign),
            {"generation": 0, "baseline": baseline},
            quiet=True,
        )
    clock.new_segment()
    reopened = time.perf_counter()
    drive(open_context(Campaign(campaign.root, campaign.config)), None, quiet=True)
    resume_s = (clock.first_wait_at or time.perf_counter()) - reopened
    written, last = checkpoint_bytes(campaign.checkpoints)
    overheads = sorted(clock.overheads_s)
    reviewed = sum(1 for entry in campaign.archive() if entry.review_score is not None)
    total_mb = campaign.checkpoints.stat().st_size / 1e6
    shutil.rmtree(campaign.root)  # a large cell leaves gigabytes
    return Row(
        slots=slots,
        ideas=ideas,
        events=clock.events,
        median_ms=1000 * statistics.median(overheads),
        p95_ms=1000 * overheads[int(0.95 * (len(overheads) - 1))],
        kb_per_event=written / clock.events / 1000,
        last_kb=last / 1000,
        total_mb=total_mb,
        resume_s=resume_s,
        reviewed=reviewed,
        wall_s=time.perf_counter() - started,
    )


HEADER = (
    "| slots | ideas | events | overhead median ms | overhead p95 ms | kB/event | last kB "
    "| total MB | resume s | reviewed | wall s |"
)


def format_row(row: Row) -> str:
    return (
        f"| {row.slots} | {row.ideas} | {row.events} | {row.median_ms:.1f} | {row.p95_ms:.1f} "
        f"| {row.kb_per_event:.1f} | {row.last_kb:.1f} | {row.total_mb:.1f} "
        f"| {row.resume_s:.2f} | {row.reviewed} | {row.wall_s:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, nargs="+", default=[8, 64, 256, 1024])
    parser.add_argument("--ideas", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    machine = describe()
    print(HEADER)
    print("|" + "---|" * (HEADER.count("|") - 1))
    with tempfile.TemporaryDirectory(prefix="scheduler-scale-") as tmp:
        for ideas in args.ideas:
            for slots in args.slots:
                print(format_row(measure(slots, ideas, Path(tmp), args.seed)), flush=True)
    print(f"machine: {machine}")


if __name__ == "__main__":
    main()
