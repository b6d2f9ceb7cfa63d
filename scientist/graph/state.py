"""The campaign's graph state: a TypedDict of pydantic records, checkpointed to SQLite."""

from __future__ import annotations

import operator
from typing import Annotated, TypedDict

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from pydantic import BaseModel, Field

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


def state_serializer() -> JsonPlusSerializer:
    """The checkpoint serializer, allowed to revive exactly the records the state holds."""
    return JsonPlusSerializer(allowed_msgpack_modules=STATE_TYPES)


def finished_ids(state: CampaignState) -> list[str]:
    """Ideas that were selected for running (whatever their outcome)."""
    entries = state.get("entries") or {}
    return [key for key, entry in entries.items() if entry.status != "proposed"]
