"""Ensemble members send requests that differ: spread temperatures, the role's models in turn,
or distinct seeds where the API takes one; where it takes neither, one request per model,
and the log says so. Checked at the replay server through the real openai and anthropic
clients."""

from __future__ import annotations

import logging

import pytest

from scientist.config import CapabilityOverride, ModelsConfig, ReviewConfig
from scientist.llm import RetryPolicy, open_llm
from scientist.llm.replay_server import ReplayServer
from scientist.review.pdf import PdfText
from scientist.review.service import review_text
from tests.review.test_llm_review import review_json

FAST_RETRY = RetryPolicy(max_retries=1, base_delay_s=0.001, max_delay_s=0.01)
PAPER = PdfText(
    path="paper.txt",  # type: ignore[arg-type]
    pages=None,
    text="We merge two models and report exact match over 3 seeds.",
    truncated=False,
)


@pytest.fixture(autouse=True)
def _no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def ensemble_of_three(server: ReplayServer, models: ModelsConfig):
    server.load([{"json": review_json(overall, "reject")} for overall in (4, 5, 6)])
    config = ReviewConfig(ensemble=3, reflections=0)
    with open_llm(models, retry=FAST_RETRY) as llm:
        return review_text(PAPER, model=llm.for_role("review"), config=config, area_chair=False)


def test_a_single_openai_reasoning_model_varies_the_seed(replay_server) -> None:
    models = ModelsConfig(review="openai:o3-mini", base_url=f"{replay_server.url}/v1")
    meta, records = ensemble_of_three(replay_server, models)
    bodies = [request["body"] for request in replay_server.requests]
    assert [body.get("seed") for body in bodies] == [None, 1, 2]
    assert not any("temperature" in body for body in bodies)
    assert len(set(replay_server.fingerprints)) == 3  # no two requests alike
    assert [record.seed for record in records] == [None, 1, 2]
    assert meta.n_reviews == 3


def test_a_single_model_without_temperature_or_seed_sends_one_request(
    replay_server, caplog
) -> None:
    spec = "anthropic:claude-reasoner"
    models = ModelsConfig(
        review=spec,
        base_url=replay_server.url,
        capabilities={spec: CapabilityOverride(reasoning=True)},
    )
    with caplog.at_level(logging.WARNING, logger="scientist.review.llm_reviewer"):
        meta, records = ensemble_of_three(replay_server, models)
    [request] = replay_server.requests
    assert request["path"].endswith("/messages") and "seed" not in request["body"]
    assert "temperature" not in request["body"]
    assert meta.n_reviews == 1 and len(records) == 1
    [said] = [r.getMessage() for r in caplog.records if "byte-identical" in r.getMessage()]
    assert said.startswith(f"review ensemble of 3 is 1 member(s), one per model: {spec}")


def test_a_model_that_takes_temperatures_spreads_them_and_sends_no_seed(replay_server) -> None:
    models = ModelsConfig(review="openai:gpt-4o", base_url=f"{replay_server.url}/v1")
    ensemble_of_three(replay_server, models)
    bodies = [request["body"] for request in replay_server.requests]
    assert [body["temperature"] for body in bodies] == [0.5, 0.75, 1.0]
    assert not any("seed" in body for body in bodies)


def test_a_reviewer_s_reflection_reads_the_paper_from_the_prompt_cache(replay_server) -> None:
    spec = "anthropic:claude-sonnet-4-5"
    # the first review names no weakness, so a reflection round follows
    first_review = review_json(5, "reject", weaknesses=[])
    replay_server.load([{"json": first_review}, {"json": review_json(6, "reject")}])
    long_paper = PAPER.model_copy(update={"text": PAPER.text + " Details follow." * 600})
    config = ReviewConfig(ensemble=1, reflections=1)
    models = ModelsConfig(review=spec, base_url=replay_server.url)
    with open_llm(models, retry=FAST_RETRY) as llm:
        review_text(long_paper, model=llm.for_role("review"), config=config, area_chair=False)
    first, reflection = (request["body"]["messages"] for request in replay_server.requests)
    assert first[0]["content"][-1]["cache_control"] == {"type": "ephemeral"}  # the paper
    assert reflection[0] == first[0] and "cache_control" not in str(reflection[1:])
