"""Thompson sampling over a role's models, persisted across a resume."""

from __future__ import annotations

from collections import Counter

from scientist.campaign import Campaign
from scientist.config import ModelsConfig
from scientist.llm import open_llm
from scientist.llm.pool import ModelPool
from tests.llm.conftest import FAST_RETRY

POOL = ["openai:good", "anthropic:bad"]


def test_pool_converges_to_the_rewarded_model(replay_server, campaign):
    models = ModelsConfig(default="none", ideas=POOL, base_url=f"{replay_server.url}/v1")
    replay_server.load([{"text": "answer"}] * 200)
    chosen: Counter[str] = Counter()
    with open_llm(models, campaign=campaign, seed=0, retry=FAST_RETRY) as llm:
        assert llm.is_offline("review") and not llm.is_offline("ideas") and not llm.offline
        for step in range(200):
            completion = llm.complete("ideas", [{"role": "user", "content": f"q{step}"}])
            llm.reward(completion.call_id, success=completion.model == "openai:good")
            if step >= 100:
                chosen[completion.model] += 1
        stats = {arm.model: arm for arm in llm.stats()}
    assert chosen["openai:good"] >= 90  # >= 90% of the last 100 calls
    assert stats["openai:good"].wins > 0 and stats["openai:good"].losses == 0
    assert stats["anthropic:bad"].wins == 0
    assert sum(arm.calls for arm in stats.values()) == 200
    assert {r["path"] for r in replay_server.requests} == {"/v1/chat/completions", "/v1/messages"}

    resumed = ModelPool(Campaign.open(campaign.root).root / "pool.json")
    assert {arm.model: arm.wins for arm in resumed.stats()} == {m: stats[m].wins for m in POOL}


def test_a_call_id_is_rewarded_once():
    pool = ModelPool(seed=1)
    pool.record_call("c1", "ideas", "openai:a", 0.5)
    assert pool.reward("c1", True) is True
    assert pool.reward("c1", True) is False
    assert pool.reward("unknown", False) is False
    [arm] = pool.stats()
    assert (arm.calls, arm.wins, arm.losses, arm.cost_usd) == (1, 1, 0, 0.5)


def test_failed_calls_count_as_losses():
    pool = ModelPool(seed=1)
    pool.record_failure("code", "openai:flaky", 0.0)
    [arm] = pool.stats()
    assert (arm.calls, arm.losses) == (1, 1)
