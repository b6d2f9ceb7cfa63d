"""A proposal that repeats an idea of the campaign is never run: it is named in the
reflection round (the same two calls), and one still repeated after it is recorded as a
duplicate. Driven through the real openai client against the replay server."""

from __future__ import annotations

import json
from pathlib import Path

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.context import open_context
from scientist.ideas.duplicates import same_idea, split_duplicates
from scientist.ideas.proposals import propose_ideas
from scientist.llm.replay_server import ReplayServer
from scientist.models import ArchiveEntry, ExperimentRun, Idea, RunResult
from scientist.report import leaderboard, render_report

WAITING = Idea(
    name="ties_density_per_layer",
    title="Per-layer TIES densities evolved by CMA-ES",
    hypothesis="Evolving one TIES density per layer raises target accuracy over one density.",
    plan="Add a per-layer density genome to the parameter-space search and run it.",
)
REWORDED = {
    "name": "layerwise_ties_density",
    "title": "Evolved per-layer densities for TIES",
    "hypothesis": "Evolving a TIES density for each layer raises target accuracy over one density.",
    "plan": "Give the CMA-ES genome one density per layer.",
    "interestingness": 6,
    "feasibility": 8,
    "novelty": 5,
    "overrides": {},
}
WIDER = {**REWORDED, "name": "wider", "title": "Wider layers", "overrides": {"width": 32},
         "hypothesis": "Width 32 sits at the optimum.", "plan": "Run with width 32."}  # fmt: skip
DEEPER = {**WIDER, "name": "deeper", "title": "Deeper model", "overrides": {"depth": 3},
          "hypothesis": "Three layers beat two.", "plan": "Run with depth 3."}  # fmt: skip


def test_a_reworded_copy_is_the_same_idea_and_a_new_one_is_not() -> None:
    copy = Idea(**{k: v for k, v in REWORDED.items() if k in Idea.model_fields})
    assert same_idea(copy, WAITING)
    assert not same_idea(
        Idea(**{k: v for k, v in WIDER.items() if k in Idea.model_fields}), WAITING
    )
    twice = [Idea(name="a", title="t", hypothesis="h", plan="p", overrides={"width": 32})] * 2
    kept, repeats = split_duplicates(twice, [])
    assert len(kept) == 1 and [r.of for r in repeats] == ["a"]  # repeats within a batch too


def _context(tmp_path: Path, toy_pack: Path, server: ReplayServer, script: list[dict]):
    server.load(script)
    config = CampaignConfig(
        template=str(toy_pack),
        smoke=True,
        campaign_dir=tmp_path / "c",
        max_parallel=2,
        models={"default": "openai:replay-model", "base_url": f"{server.url}/v1"},
    )
    campaign = Campaign.create(tmp_path / "c", config)
    campaign.record_idea(ArchiveEntry(id="0_0_ties_density_per_layer", idea=WAITING))
    baseline = ExperimentRun(
        idea_id="baseline",
        index=0,
        result=RunResult(exit_code=0, status="ok"),
        run_dir=tmp_path / "b",
    )
    return campaign, open_context(campaign, literature=False), baseline


def _propose(ctx, baseline) -> list[ArchiveEntry]:
    return propose_ideas(ctx, [], baseline, generation=1, wanted=2)


def test_a_waiting_idea_proposed_again_is_rejected_before_any_run(
    tmp_path, toy_pack, replay_server, monkeypatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    script = [
        {"match": "Propose 2 new research ideas", "json": {"ideas": [REWORDED, WIDER]}},
        {"match": "Reflection round 1", "json": {"ideas": [REWORDED, WIDER]}},
    ]
    campaign, ctx, baseline = _context(tmp_path, toy_pack, replay_server, script)
    accepted = _propose(ctx, baseline)

    assert [e.id for e in accepted] == ["1_0_wider"]
    recorded = {e.id: e for e in campaign.archive()}
    rejected = recorded["1_1_layerwise_ties_density"]
    assert rejected.status == "duplicate" and rejected.runs == 0
    assert rejected.error == "repeats 0_0_ties_density_per_layer"
    assert rejected not in leaderboard(campaign.archive())
    report = render_report(campaign, ctx.template, baseline, campaign.archive())
    assert "## Duplicate proposals (not run)" in report and "1_1_layerwise" in report
    prompts = [json.dumps(r["body"]["messages"]) for r in replay_server.requests]
    assert len(prompts) == 2  # the reflection round is the second chance, no extra call
    assert "0_0_ties_density_per_layer (Per-layer TIES densities" in prompts[0]  # waiting
    assert "layerwise_ties_density repeats 0_0_ties_density_per_layer" in prompts[1]


def test_a_repeat_replaced_in_reflection_runs_nothing_twice(
    tmp_path, toy_pack, replay_server, monkeypatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    script = [
        {"match": "Propose 2 new research ideas", "json": {"ideas": [REWORDED, WIDER]}},
        {"match": "would not run", "json": {"ideas": [DEEPER, WIDER]}},
    ]
    campaign, ctx, baseline = _context(tmp_path, toy_pack, replay_server, script)
    accepted = _propose(ctx, baseline)

    assert [e.id for e in accepted] == ["1_0_deeper", "1_1_wider"]
    assert not [e for e in campaign.archive() if e.status == "duplicate"]
    assert _propose(ctx, baseline) == accepted  # the generation is recorded: no new calls
