"""Thompson sampling over a role's models, persisted across a resume."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from scientist.campaign import Campaign
from scientist.config import ModelsConfig
from scientist.errors import ConfigError, LLMFormatError, LLMProviderError
from scientist.llm import open_llm
from scientist.llm.pool import ModelPool
from tests.llm.conftest import FAST_RETRY, Verdict

POOL = ["openai:good", "anthropic:bad"]


def test_pool_converges_to_the_rewarded_model():
    pool = ModelPool(seed=0)
    models = ["openai:a", "openai:b", "anthropic:c"]
    success_rate = {"openai:a": 0.3, "openai:b": 0.7, "anthropic:c": 0.5}
    outcomes = random.Random(1)
    late: Counter[str] = Counter()
    for step in range(1000):
        model = pool.choose("ideas", models)
        pool.record_call(f"c{step}", "ideas", model, 0.0)
        pool.reward(f"c{step}", outcomes.random() < success_rate[model])
        if step >= 800:
            late[model] += 1
    assert late["openai:b"] >= 160  # >= 80% of the last 200 choices go to the best arm
    assert sum(arm.calls for arm in pool.stats()) == 1000


def test_llm_routes_a_pool_and_keeps_it_across_a_resume(replay_server, campaign):
    models = ModelsConfig(default="none", ideas=POOL, base_url=f"{replay_server.url}/v1")
    replay_server.load([{"text": "answer"}] * 30)
    with open_llm(models, campaign=campaign, seed=0, retry=FAST_RETRY) as llm:
        assert llm.for_role("review") is None and not llm.offline
        assert llm.for_role("ideas").models == POOL
        for step in range(30):
            completion = llm.complete("ideas", [{"role": "user", "content": f"q{step}"}])
            llm.reward(completion.call_id, success=completion.model == "openai:good")
        stats = {arm.model: arm for arm in llm.stats()}
    assert stats["openai:good"].calls > stats["anthropic:bad"].calls >= 1
    assert stats["anthropic:bad"].wins == 0 and stats["openai:good"].losses == 0
    assert {r["path"] for r in replay_server.requests} == {"/v1/chat/completions", "/v1/messages"}
    assert len(campaign.ledger()) == 30

    resumed = ModelPool(Campaign.open(campaign.root).root / "pool.json")
    assert {arm.model: (arm.wins, arm.losses) for arm in resumed.stats()} == {
        model: (stats[model].wins, stats[model].losses) for model in POOL
    }


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


def test_a_pinned_model_answers_and_a_foreign_one_is_refused(replay_server, campaign):
    models = ModelsConfig(default="none", code=POOL, base_url=f"{replay_server.url}/v1")
    replay_server.load([{"text": "answer"}] * 4)
    with open_llm(models, campaign=campaign, seed=0, retry=FAST_RETRY) as llm:
        answered = {
            llm.complete("code", [{"role": "user", "content": "q"}], model="anthropic:bad").model
            for _ in range(4)
        }
        with pytest.raises(ConfigError, match="not one of role 'code'"):
            llm.complete("code", [{"role": "user", "content": "q"}], model="openai:other")
    assert answered == {"anthropic:bad"}
    assert {r["path"] for r in replay_server.requests} == {"/v1/messages"}


def test_a_reward_after_a_resume_still_reaches_the_model(replay_server, campaign):
    models = ModelsConfig(default="none", ideas=POOL, base_url=f"{replay_server.url}/v1")
    replay_server.load([{"text": "answer"}])
    with open_llm(models, campaign=campaign, seed=0, retry=FAST_RETRY) as llm:
        completion = llm.complete("ideas", [{"role": "user", "content": "q"}])
    with open_llm(models, campaign=Campaign.open(campaign.root), seed=0) as resumed:
        resumed.reward(completion.call_id, success=True)
        stats = {arm.model: arm for arm in resumed.stats()}
    assert stats[completion.model].wins == 1


def test_an_outage_is_no_loss_but_bad_output_is(replay_server, campaign):
    models = ModelsConfig(default="none", ideas=POOL, base_url=f"{replay_server.url}/v1")
    replay_server.load([{"status": 503}] * 3 + [{"text": "not json"}] * 3)
    with open_llm(models, campaign=campaign, seed=0, retry=FAST_RETRY) as llm:
        with pytest.raises(LLMProviderError):
            llm.complete("ideas", [{"role": "user", "content": "hi"}], model="openai:good")
        assert all(arm.losses == 0 for arm in llm.stats())
        with pytest.raises(LLMFormatError):
            llm.complete("ideas", [{"role": "user", "content": "hi"}], Verdict, model="openai:good")
        assert [(arm.model, arm.losses) for arm in llm.stats()] == [("openai:good", 1)]
