"""What a campaign is doing now, read from the records `scientist status` reads: the latest
checkpoint (`read_state`: the baseline, the ideas in flight with their step, slot and GPUs,
the ideation under way, the stop reason) and the budget pause (`read_pause`).

The checkpoint says what the campaign process last decided; whether that process is still
alive is its run lock's to say (`Campaign.is_running`): a campaign in the middle of its work
whose process is gone (killed, crashed) is `stopped`. A page learns that the *view's* server
stopped from its own polling.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from scientist.campaign import Campaign
from scientist.errors import ScientistError
from scientist.graph.build import read_state
from scientist.graph.state import Step, ideas_started
from scientist.pause import PAUSE_FILE, read_pause

CampaignState = Literal[
    "starting", "running", "paused", "stopping", "stopped", "finished", "unknown"
]
BADGES: dict[CampaignState, str] = {
    "starting": "live",
    "running": "live",
    "paused": "stopped",
    "stopped": "stopped",
    "stopping": "stopping",
    "finished": "finished",
    "unknown": "unknown",
}
STEP_WORDS: dict[Step, str] = {
    "experiment": "experiment (runs and grading)",
    "write": "writing the paper",
    "review": "reviewing the paper",
}


def elapsed(seconds: float) -> str:
    """'42 s', '3 min 05 s', '2 h 07 min' (static/view.js counts on in the same words)."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


class InFlight(BaseModel):
    """One idea in flight."""

    idea_id: str
    title: str
    step: Step
    slot: int | None
    gpus: list[int]
    since: float | None
    """When it entered its step (Unix time); None when the checkpoint does not say."""

    @property
    def doing(self) -> str:
        return STEP_WORDS[self.step]


class Activity(BaseModel):
    state: CampaignState
    jobs: list[InFlight]
    ideating: int | None
    """The generation being proposed, when an ideation is under way."""
    has_baseline: bool
    note: str
    """One line: why it stopped or paused, or why the checkpoint could not be read."""
    read_at: float

    @property
    def badge(self) -> str:
        """The word a live page's badge shows."""
        return BADGES[self.state]

    @property
    def by_idea(self) -> dict[str, InFlight]:
        return {job.idea_id: job for job in self.jobs}

    @property
    def summary(self) -> str:
        """What the campaign is doing, in a few words."""
        if self.state == "starting":
            return "measuring the baseline" if not self.has_baseline else "starting"
        if self.state == "finished":
            return "finished" + (f": {self.note}" if self.note else "")
        parts = [f"{len(self.jobs)} idea(s) in flight"]
        if self.ideating is not None:
            parts.append(f"proposing generation {self.ideating}")
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)


def files_read(campaign: Campaign) -> list[Path]:
    """The files `read_activity` depends on (the checkpoint database, its write-ahead log and
    the pause record): when none of them changed, neither did the activity."""
    database = campaign.checkpoints
    return [database, database.with_name(database.name + "-wal"), campaign.root / PAUSE_FILE]


def read_activity(campaign: Campaign) -> Activity:
    now = time.time()
    try:
        state = read_state(campaign)
    except ScientistError as exc:
        return Activity(
            state="unknown", jobs=[], ideating=None, has_baseline=False, note=str(exc), read_at=now
        )
    entries = campaign.idea_archive.ideas()
    flights = state.get("flights") or {}
    jobs = [
        InFlight(
            idea_id=flight.idea_id,
            title=entries[key].idea.title if key in entries else "",
            step=flight.step,
            slot=flight.slot,
            gpus=flight.gpus,
            since=flight.since,
        )
        for key, flight in sorted(flights.items())
    ]
    ideation = state.get("ideation")
    stop = state.get("stop_reason") or ""
    pause = read_pause(campaign)
    busy = bool(jobs) or ideation is not None
    if not state and campaign.archive_path.is_file():
        status: CampaignState = "unknown"
        stop = "the campaign has ideas but no checkpoint to say what it is doing"
    elif not state:
        status = "starting"
    elif pause is not None:
        status, stop = "paused", pause.describe()
    elif not busy and (stop or ideas_started(campaign, state) >= campaign.config.max_ideas):
        status = "finished"
    elif stop:
        status = "stopping"
    else:
        status = "running" if state.get("baseline") is not None else "starting"
    if status in ("running", "stopping") and not campaign.is_running():
        status, stop = "stopped", f"its process is not running: scientist resume {campaign.root}"
    return Activity(
        state=status,
        jobs=jobs,
        ideating=ideation.generation if ideation is not None else None,
        has_baseline=state.get("baseline") is not None,
        note=stop,
        read_at=now,
    )
