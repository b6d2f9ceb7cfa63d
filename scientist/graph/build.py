"""The campaign graph: baseline -> ideate -> select -> idea* -> archive -> (loop | end).

`idea` (experiment -> write -> review, `scientist.graph.idea`) is fanned out with `Send`, one
per selected idea, so up to `max_parallel` ideas run side by side. Every superstep, the
chains' inner steps included, is checkpointed to `checkpoints.sqlite`; resuming means
invoking the same thread with no input.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import get_type_hints

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Send

from scientist.campaign import Campaign
from scientist.context import Context
from scientist.graph import nodes
from scientist.graph.idea import build_idea_graph
from scientist.graph.state import CampaignState, IdeaInput, state_serializer


def _fan_out(state: CampaignState) -> list[Send] | str:
    if state.get("stop_reason") or not state.get("batch"):
        return "archive"
    entries = state["entries"]
    return [
        Send(
            "idea",
            IdeaInput(task=task, entry=entries[task.idea_id], baseline=state["baseline"]),
        )
        for task in state["batch"]
    ]


def _after_ideate(state: CampaignState) -> str:
    return "archive" if state.get("stop_reason") else "select"


def build_graph(ctx: Context, checkpointer: SqliteSaver | None = None) -> CompiledStateGraph:
    builder = StateGraph(CampaignState)
    builder.add_node("baseline", partial(nodes.baseline, ctx))
    builder.add_node("ideate", partial(nodes.ideate, ctx))
    builder.add_node("select", partial(nodes.select, ctx))
    builder.add_node("idea", build_idea_graph(ctx))
    builder.add_node("archive", partial(nodes.archive, ctx))
    builder.add_edge(START, "baseline")
    builder.add_edge("baseline", "ideate")
    builder.add_conditional_edges("ideate", _after_ideate, ["select", "archive"])
    builder.add_conditional_edges("select", _fan_out, ["idea", "archive"])
    builder.add_edge("idea", "archive")
    builder.add_conditional_edges(
        "archive", partial(nodes.should_continue, ctx), {"ideate": "ideate", "end": END}
    )
    return builder.compile(checkpointer=checkpointer)


@contextmanager
def open_checkpointer(campaign: Campaign) -> Iterator[SqliteSaver]:
    """The campaign's SQLite checkpointer (one connection, closed on exit)."""
    conn = sqlite3.connect(campaign.checkpoints, check_same_thread=False)
    try:
        yield SqliteSaver(conn, serde=state_serializer(campaign))
    finally:
        conn.close()


def thread_of(campaign: Campaign) -> dict[str, dict[str, str]]:
    """The campaign's checkpoint thread (one per campaign, named after it)."""
    return {"configurable": {"thread_id": campaign.name, "checkpoint_ns": ""}}


def read_state(campaign: Campaign) -> CampaignState:
    """The campaign state in the latest top-level checkpoint (empty before the first step),
    straight from the checkpointer: no graph is built and no service is opened."""
    if not campaign.checkpoints.is_file():
        return {}
    with open_checkpointer(campaign) as saver:
        saved = saver.get_tuple(thread_of(campaign))
    if saved is None:
        return {}
    fields = get_type_hints(CampaignState, include_extras=False).keys()
    values = saved.checkpoint["channel_values"]
    return {key: values[key] for key in fields if key in values}  # type: ignore[return-value]
