"""Model capabilities: reasoning models get `max_completion_tokens` and no temperature (as
checked at the replay server), truncation is reported, and a temperature ensemble of
reasoning models varies the model instead."""

from __future__ import annotations

from scientist.config import CapabilityOverride, ModelsConfig
from scientist.llm import Message, open_llm
from scientist.llm.capabilities import capabilities_for
from scientist.review.llm_reviewer import Reviewer, ensemble_reviewers
from tests.llm.conftest import FAST_RETRY

HELLO = [Message(role="user", content="hello")]


def test_the_family_table_and_its_config_override():
    for spec in ("openai:o1", "openai:o3-mini", "openai:o4-mini", "openai:gpt-5", "openai:gpt-5.1"):
        caps = capabilities_for(spec)
        assert caps.reasoning and not caps.temperature, spec
        assert caps.token_limit_field == "max_completion_tokens"
    for spec in ("openai:gpt-4o", "openai:gpt-4.1-mini", "anthropic:claude-sonnet-4-5"):
        assert capabilities_for(spec).token_limit_field == "max_tokens", spec
    overrides = {"my-reasoner": CapabilityOverride(reasoning=True)}
    assert not capabilities_for("openai:my-reasoner", overrides).temperature
    back = {"openai:o3": CapabilityOverride(reasoning=False, temperature=True)}
    assert capabilities_for("openai:o3", back).token_limit_field == "max_tokens"


def test_a_seed_is_a_matter_of_the_api():
    for spec in ("openai:o3-mini", "openai:gpt-4o", "scripted:answers.json"):
        assert capabilities_for(spec).seed, spec
    for spec in ("anthropic:claude-sonnet-4-5", "local:/models/tiny"):
        assert not capabilities_for(spec).seed, spec


def test_a_reasoning_model_request_carries_max_completion_tokens_and_no_temperature(
    replay_server,
):
    replay_server.load([{"text": "one"}, {"text": "two"}])
    config = ModelsConfig(
        default=["openai:o3", "openai:gpt-4o"], base_url=f"{replay_server.url}/v1"
    )
    with open_llm(config, retry=FAST_RETRY) as llm:
        llm.complete("ideas", HELLO, temperature=0.9, max_tokens=300, model="openai:o3")
        llm.complete("ideas", HELLO, temperature=0.9, max_tokens=300, model="openai:gpt-4o")
    reasoning, standard = (request["body"] for request in replay_server.requests)
    assert reasoning["max_completion_tokens"] == 300
    assert "max_tokens" not in reasoning and "temperature" not in reasoning
    assert standard["max_tokens"] == 300 and standard["temperature"] == 0.9


def test_an_answer_cut_at_the_token_limit_is_marked_truncated(replay_server):
    replay_server.load([{"text": "half an ans", "truncated": True}] * 2)
    for base_url, spec in (
        (f"{replay_server.url}/v1", "openai:gpt-4o"),
        (replay_server.url, "anthropic:claude-haiku-4-5"),
    ):
        config = ModelsConfig(default=spec, base_url=base_url)
        with open_llm(config, retry=FAST_RETRY) as llm:
            completion = llm.complete("code", HELLO)
        assert completion.truncated and completion.text == "half an ans", spec


def test_an_ensemble_of_reasoning_models_varies_the_model_not_the_temperature(replay_server):
    url = f"{replay_server.url}/v1"
    with open_llm(ModelsConfig(review=["openai:o3", "openai:o4-mini"], base_url=url)) as llm:
        reviewers = ensemble_reviewers(llm.for_role("review"), 3)
    assert reviewers == [
        Reviewer(None, "openai:o3"),
        Reviewer(None, "openai:o4-mini"),
        Reviewer(None, "openai:o3", seed=1),  # a repeated model asks with its own seed
    ]
    with open_llm(ModelsConfig(review="openai:gpt-4o", base_url=url)) as llm:
        assert ensemble_reviewers(llm.for_role("review"), 2) == [
            Reviewer(0.5, None),
            Reviewer(1.0, None),
        ]
