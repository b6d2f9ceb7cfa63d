"""The campaign's scheduler: every slot kept busy, papers written off the slots, ideas
proposed ahead.

A slot is a GPU (or a CPU slot when the pack uses none); `max_parallel` of them run
experiments. The scheduler is the graph's `schedule` node, called again and again: each call
waits until a job ends, folds what ended into the state, and starts what can start now. So
one call is one checkpointed superstep, and a superstep never waits for more than the first
job to end: there is no batch barrier.

- A slot frees the moment an idea's experiment ends, and the best proposed idea starts on it
  in the same call (`rank_proposed` over the archive as it is then).
- Writing and reviewing run in their own pool (`max_writing` at once), off the slots.
- Ideation runs ahead in its own worker: while fewer proposed ideas wait than there are
  slots (and `max_ideas` leaves room), the next generation is asked for, with the archive as
  it is at that moment, every review finished so far included. The request and that archive
  are checkpointed, so a resumed ideation proposes from the same archive.

What is in flight lives in the state (`flights`, `ideation`), never only in memory: a resumed
campaign submits it again (`_adopt`), and the steps are idempotent on disk and journaled.
The ideas themselves are read from the archive, where the steps record them: the state holds
no idea records.
`scheduling = "batch"` starts a batch of ideas only when the previous one is written and
reviewed, the slots held meanwhile (selection in lockstep, whatever the timings).

A budget stop holds the step that met it (it stays in flight), lets the other jobs end, and
then raises `BudgetExceeded` out of the graph: the campaign pauses with a reservation for each
held step (`reserved`), and resume runs the held steps again first, alone (`finishing`),
then goes on. A STOP file lets what is in flight finish and starts nothing new.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal

from scientist.context import Context
from scientist.errors import BudgetExceeded
from scientist.graph.slots import log_slot, slot_gpus
from scientist.graph.state import (
    CampaignState,
    Flight,
    Ideation,
    in_flight_view,
    started_ids,
)
from scientist.graph.steps import STEPS, StepResult, finishing, most_calls, runs_on_disk
from scientist.ideas.proposals import propose_ideas
from scientist.ideas.selection import rank_proposed
from scientist.models import ArchiveEntry
from scientist.pause import paused_at
from scientist.report import write_report
from scientist.stats import number

POLL_S = 0.5
"""How often a waiting scheduler looks for a STOP file."""

IDEATION = "ideation"

EventKind = Literal["start", "done", "failed"]
OnEvent = Callable[[EventKind, str, str], None]


@dataclass
class Job:
    """A step running in a worker: `key` is the idea's id, or IDEATION."""

    key: str
    label: str
    future: Future[Any]
    started: float
    kind: str
    """The step (`experiment`, `write`, `review`) or IDEATION."""
    slot: int | None = None


class Scheduler:
    """The `schedule` node with its workers; one per command (`close` ends the workers)."""

    def __init__(
        self, ctx: Context, on_event: OnEvent | None = None, finishing: Iterable[str] = ()
    ) -> None:
        self.ctx = ctx
        self.finishing = set(finishing)
        """The keys of the steps a budget pause held: run again first, alone, each finishing
        without the model if the budget runs out once more (`Context.finishing`)."""
        self.slots = slot_gpus(ctx)
        self.on_event = on_event or (lambda kind, label, detail: None)
        self._pools = {
            "slot": ThreadPoolExecutor(len(self.slots), thread_name_prefix="slot"),
            "paper": ThreadPoolExecutor(ctx.config.max_writing, thread_name_prefix="paper"),
            "ideas": ThreadPoolExecutor(1, thread_name_prefix="ideas"),
        }
        self.jobs: dict[str, Job] = {}
        self.held: dict[str, BudgetExceeded] = {}
        """The steps a budget stop holds (by job key), each with the call it refused."""
        self.reserved: dict[str, float] = {}
        """What each held step is reserved for its resume: its refused call's worst case
        times the most calls a step of its kind makes (`steps.most_calls`)."""
        self.budget_stop: BudgetExceeded | None = None
        self.asked_with: tuple[int, list[ArchiveEntry]] | None = None
        """The archive the last ideation this scheduler asked for was asked with (its length
        and its ideas); a resumed ideation reads it back from the archive by that length."""
        self.interrupted = False
        """Set by Ctrl-C (`runner.noting_interrupts`): the next call raises KeyboardInterrupt,
        whatever code the signal itself interrupted, and leaves its step pending."""

    def close(self) -> None:
        """Start nothing more; jobs already running end on their own."""
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ the node
    def __call__(self, state: CampaignState) -> CampaignState:
        self._check_interrupt()
        self._adopt(state)
        ended, stop = self._wait(state)
        if self.budget_stop is not None and not ended and not self._running():
            raise self.budget_stop
        update = self._fold(state, ended)
        if stop:
            update["stop_reason"] = stop
        return {**update, **self._dispatch({**state, **update})}

    def ideas(self, flights: dict[str, Flight]) -> dict[str, ArchiveEntry]:
        """The archive's ideas, as the checkpoint's `flights` know them."""
        return in_flight_view(self.ctx.campaign.idea_archive.ideas(), flights)

    def _running(self) -> bool:
        return any(not job.future.done() for job in self.jobs.values())

    def _wait(self, state: CampaignState) -> tuple[list[Job], str | None]:
        """The jobs that ended (at least one, unless none runs), and 'stop file' when a
        STOP file appeared meanwhile."""
        watch_stop = not state.get("stop_reason")
        while True:
            self._check_interrupt()
            if watch_stop and self.ctx.campaign.stop_file.exists():
                return self._ended(), "stop file"
            pending = [job.future for job in self.jobs.values()]
            if not pending:
                return [], None
            done, _ = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
            if done:
                return self._ended(), None

    def _check_interrupt(self) -> None:
        if self.interrupted:
            raise KeyboardInterrupt

    def _ended(self) -> list[Job]:
        ended = [job for job in self.jobs.values() if job.future.done()]
        for job in ended:
            del self.jobs[job.key]
            self.finishing.discard(job.key)
        return ended

    # ------------------------------------------------------------------ what ended
    def _fold(self, state: CampaignState, ended: list[Job]) -> CampaignState:
        flights = dict(state.get("flights") or {})
        update: CampaignState = {}
        finished = False
        for job in ended:
            try:
                result = job.future.result()
            except BudgetExceeded as exc:
                self.held[job.key] = exc
                calls = most_calls(job.kind, self.ctx.config)
                self.reserved[job.key] = (exc.estimate_usd or 0.0) * calls
                self.budget_stop = self.budget_stop or exc
                self.on_event("failed", job.label, f"paused: {exc.message}")
                continue
            except Exception as exc:  # a bug or hostile output fails its one job, not the campaign
                self._failed(job, exc, flights, update)
                finished = finished or job.key != IDEATION
                continue
            if job.key == IDEATION:
                new: list[ArchiveEntry] = result
                update["ideation"] = None
                update["dry"] = not new
                self.on_event("done", job.label, f"{len(new)} idea(s)")
                continue
            assert isinstance(result, StepResult)
            if result.flight is None:
                flights.pop(job.key, None)
                finished = True
            else:
                flights[job.key] = result.flight
            detail = _outcome(result.entry)
            if job.slot is not None:
                grading_s = sum(run.grading_s for run in runs_on_disk(self.ctx, result.entry))
                self._log_slot(job, result.entry, grading_s)
                detail += f" graded in {grading_s:.1f}s" if grading_s else ""
            self.on_event("done", job.label, detail)
        update["flights"] = flights
        if finished:  # news for the next ideation, and for the report at once
            update["dry"] = False
            ctx = self.ctx
            write_report(ctx.campaign, ctx.template, state.get("baseline"), ctx.campaign.archive())
        return update

    def _failed(
        self,
        job: Job,
        exc: Exception,
        flights: dict[str, Flight],
        update: CampaignState,
    ) -> None:
        """A job raised what no step handles: its traceback goes to the campaign log, and its
        idea fails with the step and the error (an ideation is dropped until news comes)."""
        error = f"{type(exc).__name__}: {exc}"
        self.ctx.campaign.log_failure(job.label, exc)
        self.on_event("failed", job.label, error)
        if job.key == IDEATION:
            update["ideation"] = None
            update["dry"] = True
            return
        entry = self.ideas(flights)[job.key]
        flight = flights.pop(job.key)
        failed = entry.model_copy(update={"status": "failed", "error": f"{flight.step}: {error}"})
        self.ctx.campaign.record_idea(failed)
        if job.slot is not None:
            self._log_slot(job, failed, 0.0)

    def _log_slot(self, job: Job, entry: ArchiveEntry, grading_s: float) -> None:
        gpus = self.slots[job.slot] if job.slot is not None else []
        log_slot(self.ctx.campaign, job.key, job.slot, gpus, job.started, entry, grading_s)

    # ------------------------------------------------------------------ what starts
    def _dispatch(self, state: CampaignState) -> CampaignState:
        """Put the best proposed ideas on the free slots, and ask for the next ideation when
        fewer ideas wait than there are slots (the next call starts them); or end the
        campaign when nothing can start."""
        if state.get("stop_reason") or self.budget_stop is not None or self.finishing:
            return {}
        flights = dict(state.get("flights") or {})
        if self.ctx.config.scheduling == "batch" and (flights or state.get("ideation")):
            return {}
        ideas = self.ideas(flights)
        room = self.ctx.config.max_ideas - len(started_ids(ideas, flights))
        busy = {flight.slot for flight in flights.values() if flight.slot is not None}
        free = [slot for slot in range(len(self.slots)) if slot not in busy]
        chosen = rank_proposed(list(ideas.values()))[: max(0, min(len(free), room))]
        update: CampaignState = {}
        for slot, entry in zip(free, chosen, strict=False):
            self.ctx.campaign.record_idea(entry.model_copy(update={"status": "selected"}))
            flights[entry.id] = Flight(
                idea_id=entry.id, slot=slot, gpus=self.slots[slot], since=time.time()
            )
        update["flights"] = flights
        room -= len(chosen)
        waiting = sum(1 for e in ideas.values() if e.status == "proposed") - len(chosen)
        ideating = state.get("ideation") is not None
        lockstep = self.ctx.config.scheduling == "batch"
        if (
            not ideating
            and not state.get("dry")
            and waiting < min(room, len(self.slots))
            and not (lockstep and flights)
        ):
            self.asked_with = self.ctx.campaign.idea_archive.snapshot()
            ideation = Ideation(
                generation=state.get("generation", 0),
                wanted=room,
                archive_length=self.asked_with[0],
            )
            update["ideation"] = ideation
            update["generation"] = ideation.generation + 1
            ideating = True
        if not flights and not ideating and room > 0:
            update["stop_reason"] = "no new ideas: the last generation proposed none"
        return update

    def _adopt(self, state: CampaignState) -> None:
        """Submit the work the checkpoint has in flight that no worker here runs: what the
        previous call decided (a decision is checkpointed before it is acted on, so a kill
        never leaves work running that the checkpoint does not know), and after a resume
        everything in flight, except the steps a budget stop holds."""
        flights = state.get("flights") or {}
        ideation = state.get("ideation")
        self.finishing &= {*flights, *([IDEATION] if ideation is not None else [])}
        waiting = [
            key
            for key in flights
            if key not in self.jobs
            and key not in self.held
            and (not self.finishing or key in self.finishing)
        ]
        ideas = self.ideas(flights) if waiting else {}
        for key in waiting:
            self._submit_step(flights[key], ideas[key], state)
        if (
            ideation is not None
            and IDEATION not in self.jobs
            and IDEATION not in self.held
            and (not self.finishing or IDEATION in self.finishing)
        ):
            self._submit_ideation(ideation, state)

    def _submit_step(self, flight: Flight, entry: ArchiveEntry, state: CampaignState) -> None:
        step, baseline = STEPS[flight.step], state["baseline"]
        pool = self._pools["slot" if flight.step == "experiment" else "paper"]
        where = f" (slot {flight.slot})" if flight.slot is not None else ""
        label = f"{flight.step} {entry.id}{where}"
        future = pool.submit(step, self._context(entry.id), entry, flight, baseline)
        self.jobs[entry.id] = Job(entry.id, label, future, time.time(), flight.step, flight.slot)
        self.on_event("start", label, "")

    def _submit_ideation(self, ideation: Ideation, state: CampaignState) -> None:
        label = f"ideas (generation {ideation.generation})"

        def propose(ctx: Context) -> list[ArchiveEntry]:
            return propose_ideas(
                ctx,
                self._archive_asked_with(ideation),
                state["baseline"],
                ideation.generation,
                ideation.wanted,
            )

        def finish() -> list[ArchiveEntry]:
            with paused_at(label):
                return finishing(self._context(IDEATION), propose)

        future = self._pools["ideas"].submit(finish)
        self.jobs[IDEATION] = Job(IDEATION, label, future, time.time(), IDEATION)
        self.on_event("start", label, "")

    def _context(self, key: str) -> Context:
        """The context of job `key`: finishing when a budget pause held it."""
        return self.ctx.finishing_step() if key in self.finishing else self.ctx

    def _archive_asked_with(self, ideation: Ideation) -> list[ArchiveEntry]:
        """The ideas `ideation` was asked with: kept when this scheduler asked, else read
        back by the archive's length then (the whole archive for an earlier version's)."""
        if self.asked_with is not None and self.asked_with[0] == ideation.archive_length:
            return self.asked_with[1]
        return self.ctx.campaign.idea_archive.upto(ideation.archive_length)


def _outcome(entry: ArchiveEntry) -> str:
    metric = (
        "" if entry.metric is None else f" metric={number(entry.metric, '.4g')} ({entry.grade})"
    )
    score = "" if entry.review_score is None else f" review={entry.review_score:g}"
    return f"{entry.status}{metric}{score}"
