"""The campaign graph: baseline -> schedule (again and again) -> archive -> (schedule | end).

`schedule` (`scientist.graph.scheduler`) waits for the first job to end, folds it into the
state and starts what can start: ideas on free slots, papers off the slots, the next
ideation. Each call is one superstep, checkpointed to `checkpoints.sqlite` with what is in
flight; resuming means invoking the same thread with no input, and the scheduler submits
the work in flight again. `archive` ends a campaign (or sends a reopened one back to
`schedule`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Literal, get_type_hints

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from scientist.campaign import Campaign
from scientist.context import Context
from scientist.errors import CampaignError
from scientist.graph import nodes
from scientist.graph.scheduler import Scheduler
from scientist.graph.state import CampaignState, ideas_started, state_serializer


def should_continue(state: CampaignState) -> Literal["schedule", "archive"]:
    """After `schedule`: again while anything is in flight (a call that leaves nothing in
    flight has started everything that could start)."""
    return "schedule" if state.get("flights") or state.get("ideation") else "archive"


def _reopened(ctx: Context, state: CampaignState) -> Literal["schedule", "__end__"]:
    """After `archive`: the end, unless a resume cleared the stop of an unfinished campaign."""
    if state.get("stop_reason") or ideas_started(ctx.campaign, state) >= ctx.config.max_ideas:
        return END
    return "schedule"


def build_graph(
    ctx: Context, scheduler: Scheduler, checkpointer: SqliteSaver | None = None
) -> CompiledStateGraph:
    builder = StateGraph(CampaignState)
    builder.add_node("baseline", partial(nodes.baseline, ctx))
    builder.add_node("schedule", scheduler)
    builder.add_node("archive", partial(nodes.archive, ctx))
    builder.add_edge(START, "baseline")
    builder.add_edge("baseline", "schedule")
    builder.add_conditional_edges("schedule", should_continue, ["schedule", "archive"])
    builder.add_conditional_edges("archive", partial(_reopened, ctx), ["schedule", END])
    return builder.compile(checkpointer=checkpointer)


@contextmanager
def open_checkpointer(campaign: Campaign) -> Iterator[SqliteSaver]:
    """The campaign's SQLite checkpointer (one connection, closed on exit)."""
    conn = sqlite3.connect(campaign.checkpoints, check_same_thread=False)
    try:
        try:
            (verdict,) = conn.execute("PRAGMA quick_check").fetchone()
        except sqlite3.DatabaseError as exc:
            verdict = str(exc)
        if verdict != "ok":
            raise CampaignError(
                f"{campaign.checkpoints} is not a readable checkpoint database ({verdict})",
                hint="restore it from a copy; `scientist ideas` and `view` still read the archive",
            )
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
