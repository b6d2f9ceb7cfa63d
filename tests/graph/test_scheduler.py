"""The scheduler: a freed slot starts the next idea at once, GPUs are shared one a slot, and
`scheduling = "batch"` keeps the old lockstep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.context import Context, campaign_literature
from scientist.graph.build import open_checkpointer, thread_of
from scientist.graph.runner import start_campaign
from scientist.graph.slots import SLOT_LOG, slot_gpus
from scientist.llm import open_llm
from scientist.models import ArchiveEntry
from scientist.templates import load_template

SLEEPY_PACK = Path(__file__).resolve().parent.parent / "fixtures" / "sleepy"


def _sleepy_campaign(root: Path, **changes) -> Campaign:
    """Two slots; the seed ideas run 5 s (`0_0_long_run`) and 1 s (`0_1_short_run`)."""
    config = CampaignConfig(
        template=str(SLEEPY_PACK),
        campaign_dir=root,
        seeds=[0],
        max_ideas=3,
        max_parallel=2,
        writeup={"enabled": False},
        **changes,
    )
    return start_campaign(config, quiet=True)


def _run_times(cache: Path) -> dict[str, dict[str, float]]:
    """When each run started and ended, as the pack itself logged it."""
    times: dict[str, dict[str, float]] = {}
    for line in (cache / "sleepy_runs.log").read_text().splitlines():
        event, run, at = line.split()
        times.setdefault(run.split("/")[0], {})[event] = float(at)
    return times


def _slots(campaign: Campaign) -> dict[str, int]:
    lines = (campaign.root / SLOT_LOG).read_text().splitlines()
    return {row["idea"]: row["slot"] for row in map(json.loads, lines)}


def test_the_short_runs_slot_starts_the_next_idea_before_the_long_run_ends(tmp_path, run_cache):
    campaign = _sleepy_campaign(tmp_path / "c")
    entries = {entry.id: entry for entry in campaign.archive()}
    assert len(entries) == 3 and {e.status for e in entries.values()} == {"done"}
    (third,) = set(entries) - {"0_0_long_run", "0_1_short_run"}
    times, slots = _run_times(run_cache), _slots(campaign)
    assert times[third]["start"] < times["0_0_long_run"]["done"]
    assert slots[third] == slots["0_1_short_run"] != slots["0_0_long_run"]
    assert times[third]["start"] - times["0_1_short_run"]["done"] < 3
    _checkpoints_hold_no_idea_records(campaign)


def _checkpoints_hold_no_idea_records(campaign: Campaign) -> None:
    """Every checkpoint of the campaign holds what was in flight, never an idea's record
    (the archive is their only store): a flight names its idea, an ideation the archive's
    length."""
    with open_checkpointer(campaign) as saver:
        saved = list(saver.list(thread_of(campaign)))
    asked = []
    for checkpoint in saved:
        values = checkpoint.checkpoint["channel_values"]
        assert not any(isinstance(v, (dict, list)) and _holds_entries(v) for v in values.values())
        if values.get("ideation") is not None:
            asked.append(values["ideation"].archive_length)
    assert len(saved) > 5 and asked and all(isinstance(n, int) for n in asked)


def _holds_entries(value: dict | list) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return any(isinstance(item, ArchiveEntry) for item in items)


def test_batch_scheduling_waits_for_the_whole_batch(tmp_path, run_cache):
    campaign = _sleepy_campaign(tmp_path / "c", scheduling="batch")
    entries = {entry.id for entry in campaign.archive()}
    (third,) = entries - {"0_0_long_run", "0_1_short_run"}
    times = _run_times(run_cache)
    assert times[third]["start"] > times["0_0_long_run"]["done"]


def _context(tmp_path: Path, toy_pack: Path, gpu: str, **changes) -> Context:
    config = CampaignConfig(template=str(toy_pack), **changes)
    template = load_template(str(toy_pack))
    resources = template.manifest.resources.model_copy(update={"gpu": gpu})
    manifest = template.manifest.model_copy(update={"resources": resources})
    campaign = Campaign.create(tmp_path / "c", config)
    return Context(
        campaign=campaign,
        template=template.model_copy(update={"manifest": manifest}),
        sandbox=None,
        llm=open_llm(config.models),
        literature=campaign_literature(campaign, online=False),
    )


def test_each_gpu_is_one_slot(tmp_path, toy_pack):
    ctx = _context(tmp_path, toy_pack, "optional", max_parallel=4)
    ctx.config.sandbox.gpus = [2, 5]
    assert slot_gpus(ctx) == [[2], [5]]
    ctx.config.max_parallel = 1
    assert slot_gpus(ctx) == [[2]]


def test_cpu_packs_get_max_parallel_slots_without_gpus(tmp_path, toy_pack):
    ctx = _context(tmp_path, toy_pack, "none", max_parallel=3)
    ctx.config.sandbox.gpus = [0, 1]
    assert slot_gpus(ctx) == [[], [], []]


class DeclaringSandbox:
    """A backend that declares its GPUs (as the ray backend does for its cluster)."""

    def gpu_slots(self) -> list[int]:
        return [0, 1, 2]


@pytest.mark.parametrize(("gpus", "expected"), [([], [[0], [1], [2]]), ([7], [[7]])])
def test_a_backend_declares_the_gpus_unless_the_config_names_them(
    tmp_path, toy_pack, gpus, expected
):
    ctx = _context(tmp_path, toy_pack, "required", max_parallel=8)
    ctx.sandbox = DeclaringSandbox()
    ctx.config.sandbox.gpus = gpus
    assert slot_gpus(ctx) == expected
