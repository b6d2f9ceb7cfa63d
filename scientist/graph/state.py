"""The campaign's graph state: a TypedDict of pydantic records, checkpointed to SQLite.

The state holds what is in flight and the decisions not yet acted on, never the idea records:
those live only in the archive (`scientist.archive`), so a checkpoint's size follows what is
in flight, not how many ideas the campaign has had.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from pydantic import BaseModel, Field

from scientist.campaign import Campaign
from scientist.models import ArchiveEntry, ExperimentRun, Paper

Step = Literal["experiment", "write", "review"]


class Flight(BaseModel):
    """One selected idea in flight: the step it is at, the slot its experiment holds (None
    once the experiment is over: writing and reviewing run off the slots), and what its
    finished steps handed on."""

    idea_id: str
    step: Step = "experiment"
    slot: int | None = None
    gpus: list[int] = Field(default_factory=list)
    since: float | None = None
    """When the idea entered its step (Unix time; None in checkpoints of earlier versions)."""
    runs: list[ExperimentRun] = Field(default_factory=list)
    control: ExperimentRun | None = None
    """The run the idea is measured against (None: the campaign baseline)."""
    paper: Paper | None = None


class Ideation(BaseModel):
    """The generation being proposed, with the archive's length when it was asked for (a
    resumed ideation proposes from the same archive, so the same ideas; None: asked by an
    earlier version, which kept no length)."""

    generation: int
    wanted: int
    archive_length: int | None = None


def latest(current: str | None, update: str | None) -> str | None:
    """Last write wins; unlike a plain channel, parallel ideas may all write in one step."""
    return update


class CampaignState(TypedDict, total=False):
    baseline: ExperimentRun | None
    generation: int
    flights: dict[str, Flight]
    ideation: Ideation | None
    dry: bool
    """The last ideation proposed nothing new; none is asked for until an idea finishes."""
    stop_reason: Annotated[str | None, latest]


STATE_TYPES = [
    ("scientist.models", name)
    for name in (
        "ArchiveEntry",
        "Idea",
        "ExperimentRun",
        "RunResult",
        "FinalInfo",
        "MetricSummary",
        "Paper",
    )
] + [
    ("scientist.graph.state", "Flight"),
    ("scientist.graph.state", "Ideation"),
    ("pathlib", "PosixPath"),
]


class CampaignSerializer(JsonPlusSerializer):
    """Checkpoints with every path relative to the campaign directory (`Campaign.portable`),
    made absolute under the directory the campaign is opened from when read back."""

    def __init__(self, campaign: Campaign) -> None:
        super().__init__(allowed_msgpack_modules=STATE_TYPES)
        self.campaign = campaign

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        return super().dumps_typed(self.campaign.portable(obj))

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        return self.campaign.localized(super().loads_typed(data))


def state_serializer(campaign: Campaign) -> JsonPlusSerializer:
    """The checkpoint serializer, allowed to revive exactly the records the state holds."""
    return CampaignSerializer(campaign)


def in_flight_view(
    ideas: dict[str, ArchiveEntry], flights: dict[str, Flight]
) -> dict[str, ArchiveEntry]:
    """The archive's ideas as the checkpoint knows them: an idea recorded `selected` that is
    not in flight was selected by a call whose checkpoint a kill lost, so it never started
    and is proposed again."""
    return {
        key: entry.model_copy(update={"status": "proposed"})
        if entry.status == "selected" and key not in flights
        else entry
        for key, entry in ideas.items()
    }


def started_ids(ideas: dict[str, ArchiveEntry], flights: dict[str, Flight]) -> list[str]:
    """Ideas that were selected for running (whatever their outcome, in flight included);
    never a duplicate, which is not run."""
    return [
        key
        for key, entry in in_flight_view(ideas, flights).items()
        if entry.status not in ("proposed", "duplicate")
    ]


def ideas_started(campaign: Campaign, state: CampaignState) -> int:
    """How many of the campaign's ideas were selected for running, by the archive and the
    state's flights."""
    return len(started_ids(campaign.idea_archive.ideas(), state.get("flights") or {}))
