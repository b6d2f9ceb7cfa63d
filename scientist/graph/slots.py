"""The campaign's slots: one GPU each (or a CPU slot when the pack uses none), and
`slots.jsonl`, a line per experiment with the slot it held."""

from __future__ import annotations

import json
import time

from scientist.campaign import Campaign
from scientist.context import Context
from scientist.models import ArchiveEntry
from scientist.sandbox import declared_gpus

SLOT_LOG = "slots.jsonl"


def slot_gpus(ctx: Context) -> list[list[int]]:
    """The GPUs of each slot: one GPU a slot when the pack uses GPUs and some are known
    (`sandbox.gpus`, or those the sandbox backend declares), none otherwise; at most
    `max_parallel` slots."""
    slots = ctx.config.max_parallel
    if ctx.template.manifest.resources.gpu == "none":
        return [[] for _ in range(slots)]
    gpus = ctx.config.sandbox.gpus or declared_gpus(ctx.sandbox)
    if not gpus:
        return [[] for _ in range(slots)]
    return [[gpu] for gpu in gpus[:slots]]


def log_slot(
    campaign: Campaign,
    idea: str,
    slot: int | None,
    gpus: list[int],
    started: float,
    entry: ArchiveEntry,
    grading_s: float,
) -> None:
    """One line per experiment in `slots.jsonl`: which slot it held, from when to when, and
    how much of it its runs' grading took."""
    line = {
        "idea": idea,
        "slot": slot,
        "gpus": gpus,
        "start": started,
        "end": time.time(),
        "status": entry.status,
        "grade": entry.grade,
        "grading_s": round(grading_s, 3),
    }
    with (campaign.root / SLOT_LOG).open("a", encoding="utf-8") as log:
        log.write(json.dumps(line) + "\n")
