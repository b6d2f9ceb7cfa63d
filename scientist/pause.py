"""A budget stop is a pause: the step that hit the budget stays unfinished in the checkpoint.

A node that meets `BudgetExceeded` records where (`paused_at`) and lets it end the graph
run; LangGraph keeps the step pending, so `scientist resume DIR --budget-usd X` runs it
again (its paid calls answered from the journal) and goes on. `pause.json` in the campaign
directory says that the campaign is paused, at which step, and what was spent; `status`
and `report.md` show it; a resume removes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import BaseModel, ConfigDict, ValidationError

from scientist.campaign import Campaign, atomic_write_json
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

    def describe(self) -> str:
        return f"paused: {self.reason} (at {self.step})"

    def how_to_continue(self, campaign: Campaign) -> str:
        """The resume command, with the budget the refused call needs."""
        needed = self.needed_usd if self.needed_usd is not None else self.spent_usd
        return f"scientist resume {campaign.root} --budget-usd <at least {needed:.4f}>"


@contextmanager
def paused_at(step: str) -> Iterator[None]:
    """Name the step (`<idea>: write`) on a `BudgetExceeded` raised inside the block."""
    try:
        yield
    except BudgetExceeded as exc:
        exc.step = exc.step or step
        raise


def record_pause(campaign: Campaign, exc: BudgetExceeded) -> Pause:
    pause = Pause(
        step=exc.step or "a model call",
        message=exc.message,
        spent_usd=campaign.spent_usd(),
        budget_usd=campaign.config.budget_usd,
        needed_usd=exc.needed_usd,
    )
    atomic_write_json(campaign.root / PAUSE_FILE, pause)
    return pause


def read_pause(campaign: Campaign) -> Pause | None:
    try:
        return Pause.model_validate_json((campaign.root / PAUSE_FILE).read_bytes())
    except (FileNotFoundError, ValidationError):
        return None


def clear_pause(campaign: Campaign) -> None:
    (campaign.root / PAUSE_FILE).unlink(missing_ok=True)
