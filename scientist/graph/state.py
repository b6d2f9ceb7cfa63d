"""The campaign's graph state: a TypedDict of pydantic records, checkpointed to SQLite."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.types import Send
from pydantic import BaseModel, Field

from scientist.campaign import Campaign
from scientist.models import ArchiveEntry, ExperimentRun


class IdeaTask(BaseModel):
    """One selected idea in flight: what the `idea` chain receives through `Send`."""

    idea_id: str
    gpus: list[int] = Field(default_factory=list)


def merge_entries(
    current: dict[str, ArchiveEntry], update: dict[str, ArchiveEntry]
) -> dict[str, ArchiveEntry]:
    """Ideas by id; the newest record of an id wins (parallel ideas update disjoint ids)."""
    return {**(current or {}), **(update or {})}


def latest(current: str | None, update: str | None) -> str | None:
    """Last write wins; unlike a plain channel, parallel ideas may all write in one step."""
    return update


class CampaignState(TypedDict, total=False):
    baseline: ExperimentRun | None
    generation: int
    entries: Annotated[dict[str, ArchiveEntry], merge_entries]
    batch: list[IdeaTask]
    runs: Annotated[list[ExperimentRun], operator.add]
    stop_reason: Annotated[str | None, latest]


class IdeaInput(TypedDict):
    """What `select` sends to each parallel `idea` chain (`scientist.graph.idea`)."""

    task: IdeaTask
    entry: ArchiveEntry
    baseline: ExperimentRun


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
] + [("scientist.graph.state", "IdeaTask"), ("pathlib", "PosixPath")]


class CampaignSerializer(JsonPlusSerializer):
    """Checkpoints with every path relative to the campaign directory (`Campaign.portable`),
    made absolute under the directory the campaign is opened from when read back."""

    def __init__(self, campaign: Campaign) -> None:
        super().__init__(allowed_msgpack_modules=STATE_TYPES)
        self.campaign = campaign

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        return super().dumps_typed(self._convert(obj, self.campaign.portable))

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        return self._convert(super().loads_typed(data), self.campaign.localized)

    def _convert(self, obj: Any, convert: Any) -> Any:
        """`convert` over `obj`, reaching into the arguments of pending `Send`s too."""
        if isinstance(obj, Send):
            return Send(obj.node, self._convert(obj.arg, convert))
        if isinstance(obj, dict):
            return {key: self._convert(value, convert) for key, value in obj.items()}
        if isinstance(obj, list | tuple) and not hasattr(obj, "_fields"):
            return type(obj)(self._convert(item, convert) for item in obj)
        return convert(obj)


def state_serializer(campaign: Campaign) -> JsonPlusSerializer:
    """The checkpoint serializer, allowed to revive exactly the records the state holds."""
    return CampaignSerializer(campaign)


def finished_ids(state: CampaignState) -> list[str]:
    """Ideas that were selected for running (whatever their outcome)."""
    entries = state.get("entries") or {}
    return [key for key, entry in entries.items() if entry.status != "proposed"]
