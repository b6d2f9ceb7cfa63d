"""Campaigns checkpointed by the batch scheduler of earlier versions, resumed by this one.

Such a checkpoint holds a `batch` of selected ideas fanned out with `Send` to an `idea`
node that no longer exists, no `flights`, and the idea records in a channel (`entries`)
that the archive has since replaced, read here from the saved channels. Its selected ideas
go back in flight at their experiment, on the slots in order: the steps are idempotent on
disk (a finished run, a compiled paper and saved reviews are reused), so nothing finished
is repeated. Then the scheduler takes over from `baseline`'s edge.
"""

from __future__ import annotations

from typing import Any

from scientist.context import Context
from scientist.graph.slots import slot_gpus
from scientist.graph.state import Flight


def adopt_batch_checkpoint(ctx: Context, graph: Any, config: dict[str, Any]) -> bool:
    """Move an unfinished batch-scheduler checkpoint to the scheduler; True if it did."""
    saved = graph.checkpointer.get_tuple(config)
    channels = saved.checkpoint["channel_values"] if saved is not None else {}
    if "batch" not in channels or "flights" in channels:
        return False
    if channels.get("stop_reason"):
        return False
    entries = channels.get("entries") or {}
    selected = [entry for entry in entries.values() if entry.status == "selected"]
    started = [entry for entry in entries.values() if entry.status != "proposed"]
    if len(started) >= ctx.config.max_ideas and not selected:
        return False
    slots = slot_gpus(ctx)
    flights = {
        entry.id: Flight(idea_id=entry.id, slot=slot, gpus=slots[slot])
        for slot, entry in enumerate(selected[: len(slots)])
    }
    graph.update_state(config, {"flights": flights, "ideation": None}, as_node="baseline")
    return True
