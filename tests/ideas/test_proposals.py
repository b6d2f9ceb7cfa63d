"""An ideas model that fails for good does not end the campaign's ideas: the generation is
proposed as offline, and the failure is in the campaign log. Driven through the real openai
client against the replay server."""

from __future__ import annotations

from pathlib import Path

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.context import open_context
from scientist.ideas.proposals import propose_ideas
from scientist.models import ExperimentRun, RunResult


def test_ideas_that_never_validate_leave_the_generation_to_the_seed_ideas(
    tmp_path: Path, toy_pack: Path, replay_server, monkeypatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    replay_server.load([{"text": "# 1.1.1\n# 1.2.1"}, {"text": "not json either"}])
    config = CampaignConfig(
        template=str(toy_pack),
        smoke=True,
        campaign_dir=tmp_path / "c",
        max_parallel=2,
        models={"default": "openai:replay-model", "base_url": f"{replay_server.url}/v1",
                "format_retries": 1},
    )  # fmt: skip
    campaign = Campaign.create(tmp_path / "c", config)
    baseline = ExperimentRun(
        idea_id="baseline", index=0, result=RunResult(exit_code=0, status="ok"), run_dir=tmp_path
    )
    proposed = propose_ideas(open_context(campaign, literature=False), [], baseline, 0, wanted=2)

    assert len(replay_server.requests) == 2  # the answer and its one repair
    assert [e.id for e in proposed] == ["0_0_higher_lr", "0_1_wider"]
    assert all(e.idea.origin == "seed" and e.status == "proposed" for e in proposed)
    log = campaign.log_path.read_text(encoding="utf-8")
    assert "ideas model, generation 0 failed" in log and "LLMFormatError" in log
