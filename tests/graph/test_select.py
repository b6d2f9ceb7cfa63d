"""`select`: how many ideas go in flight and which GPU each one gets."""

from __future__ import annotations

from pathlib import Path

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.context import Context, campaign_literature
from scientist.graph.nodes import select
from scientist.llm import open_llm
from scientist.models import ArchiveEntry, Idea
from scientist.templates import load_template


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


def _proposed(count: int) -> dict[str, ArchiveEntry]:
    entries = {}
    for k in range(count):
        idea = Idea(name=f"i{k}", title="t", hypothesis="h", plan="p", novelty=10 - k)
        entries[f"1_{k}_i{k}"] = ArchiveEntry(id=f"1_{k}_i{k}", idea=idea)
    return entries


def test_each_gpu_serves_one_idea_at_a_time(tmp_path, toy_pack):
    ctx = _context(tmp_path, toy_pack, "optional", max_parallel=4, max_ideas=10)
    ctx.config.sandbox.gpus = [2, 5]
    update = select(ctx, {"entries": _proposed(4)})
    assert [(t.idea_id, t.gpus) for t in update["batch"]] == [("1_0_i0", [2]), ("1_1_i1", [5])]
    assert {e.status for e in update["entries"].values()} == {"selected"}
    assert {e.id for e in ctx.campaign.archive()} == {"1_0_i0", "1_1_i1"}


def test_cpu_packs_get_no_gpus_and_respect_the_idea_budget(tmp_path, toy_pack):
    ctx = _context(tmp_path, toy_pack, "none", max_parallel=4, max_ideas=3)
    ctx.config.sandbox.gpus = [0, 1]
    update = select(ctx, {"entries": _proposed(5)})
    assert [t.gpus for t in update["batch"]] == [[], [], []]
