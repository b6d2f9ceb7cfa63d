"""A budget stop is a pause: the step that hit the budget stays unfinished in the checkpoint.

A node that meets `BudgetExceeded` records where (`paused_at`) and lets it end the graph
run; LangGraph keeps the step pending, so `scientist resume DIR --budget-usd X` runs it
again (its paid calls answered from the journal) and goes on. `pause.json` in the campaign
directory says that the campaign is paused, at which step, what was spent, and the budget
to resume with; `status` and `report.md` show it; a resume removes it.

That budget is computed when the campaign has paused, once every other job has ended and
nothing is reserved: what is spent, plus a reservation for each held step (`held`), made by
the graph: its refused call's worst-case cost times the most calls such a step makes. A held
step re-asks what it asked before, answered from the journal for free. On resume the held
steps run first and alone, and a held step that meets the budget once more finishes without
the model (`Context.finishing`), so resuming with that budget always completes them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import BaseModel, ConfigDict, ValidationError

from scientist.atomic_files import atomic_write_json
from scientist.campaign import Campaign
from scientist.errors import BudgetExceeded

PAUSE_FILE = "pause.json"


class Pause(BaseModel):
    """What `pause.json` holds."""

    model_config = ConfigDict(extra="forbid")

    reason: str = "budget"
    step: str
    message: str
    spent_usd: float
    budget_usd: float | None
    needed_usd: float | None = None
    held: list[str] = []
    """The scheduler's keys of the held steps (an idea's id, or `ideation`)."""

    def describe(self) -> str:
        return f"paused: {self.reason} (at {self.step})"

    def how_to_continue(self, campaign: Campaign) -> str:
        """The resume command, with the budget the held steps are reserved."""
        needed = self.needed_usd if self.needed_usd is not None else self.spent_usd
        return f"scientist resume {campaign.root} --budget-usd {needed:.4f}"


@contextmanager
def paused_at(step: str) -> Iterator[None]:
    """Name the step (`<idea>: write`) on a `BudgetExceeded` raised inside the block."""
    try:
        yield
    except BudgetExceeded as exc:
        exc.step = exc.step or step
        raise


def record_pause(
    campaign: Campaign, held: dict[str, BudgetExceeded], reserved: dict[str, float]
) -> Pause:
    """Note the pause of the `held` steps (by key, each with the call it refused; the first
    names the step), with the budget that adds each one's `reserved` to what is spent."""
    first = next(iter(held.values()))
    spent = campaign.spent_usd()
    pause = Pause(
        step=first.step or "a model call",
        message=first.message,
        spent_usd=spent,
        budget_usd=campaign.config.budget_usd,
        needed_usd=round_up(spent + sum(reserved.values())),
        held=list(held),
    )
    atomic_write_json(campaign.root / PAUSE_FILE, pause)
    return pause


def round_up(usd: float) -> float:
    """`usd` up to the next 1/10000 (the hint's precision), never below it."""
    return math.ceil(usd * 10_000 + 1e-6) / 10_000


def read_pause(campaign: Campaign) -> Pause | None:
    try:
        return Pause.model_validate_json((campaign.root / PAUSE_FILE).read_bytes())
    except (FileNotFoundError, ValidationError):
        return None


def clear_pause(campaign: Campaign) -> None:
    (campaign.root / PAUSE_FILE).unlink(missing_ok=True)
