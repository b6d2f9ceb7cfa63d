"""Transient failures are retried with backoff (honouring retry-after); others are not."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from scientist.errors import LLMProviderError
from scientist.llm import RetryPolicy
from scientist.llm.base import TransientError
from scientist.llm.retry import call_with_retries, parse_retry_after
from tests.llm.conftest import anthropic_llm, openai_llm

HELLO = [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize("make_llm", [openai_llm, anthropic_llm])
def test_429_with_retry_after_then_success(replay_server, make_llm):
    replay_server.load(
        [{"status": 429, "headers": {"retry-after": "0.05"}, "error": "slow down"}, {"text": "hi"}]
    )
    with make_llm(replay_server) as llm:
        completion = llm.complete("ideas", HELLO)
    assert completion.text == "hi"
    assert len(replay_server.requests) == 2
    assert completion.latency_s >= 0.05  # the retry-after wait was honoured


def test_500_exhausted_into_provider_error(replay_server):
    replay_server.load([{"status": 500, "error": "boom"}] * 3)
    with openai_llm(replay_server) as llm, pytest.raises(LLMProviderError) as caught:
        llm.complete("ideas", HELLO)
    assert len(replay_server.requests) == 3  # one try and max_retries=2 retries
    assert "after 3 attempts" in str(caught.value) and "boom" in str(caught.value)


@pytest.mark.parametrize("make_llm", [openai_llm, anthropic_llm])
def test_400_is_not_retried_and_keeps_the_provider_message(replay_server, make_llm):
    replay_server.load([{"status": 400, "error": "max_tokens is too large"}, {"text": "unused"}])
    with make_llm(replay_server) as llm, pytest.raises(LLMProviderError) as caught:
        llm.complete("ideas", HELLO)
    assert len(replay_server.requests) == 1
    assert "HTTP 400" in str(caught.value) and "max_tokens is too large" in str(caught.value)
    assert replay_server.remaining == 1


def test_exhausted_script_is_a_clear_provider_error(replay_server):
    with openai_llm(replay_server) as llm, pytest.raises(LLMProviderError) as caught:
        llm.complete("ideas", HELLO)
    assert "replay script exhausted" in str(caught.value)


def test_connection_refused_is_retried_then_reported():
    from scientist.config import ModelsConfig
    from scientist.llm import open_llm
    from tests.llm.conftest import FAST_RETRY

    models = ModelsConfig(default="openai:gpt-4o", base_url="http://127.0.0.1:9/v1")
    with open_llm(models, retry=FAST_RETRY) as llm, pytest.raises(LLMProviderError) as caught:
        llm.complete("ideas", HELLO)
    assert "APIConnectionError" in str(caught.value)


def test_retry_after_parses_seconds_milliseconds_and_http_dates():
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= parse_retry_after({"retry-after": later}) <= 30
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_backoff_grows_and_retry_after_is_capped():
    policy = RetryPolicy(max_retries=3, base_delay_s=1, max_delay_s=5, max_retry_after_s=10)
    rng = random.Random(0)
    waits = [policy.delay(attempt, None, rng) for attempt in range(4)]
    assert 0.5 <= waits[0] <= 1 and 1 <= waits[1] <= 2 and 2 <= waits[2] <= 4
    assert waits[3] <= 5
    assert policy.delay(0, 3600, rng) == 10


def test_loop_sleeps_between_attempts_only():
    slept: list[float] = []
    outcomes = iter([TransientError("busy", retry_after=0.5), "done"])

    def request() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    policy = RetryPolicy(max_retries=1)
    assert call_with_retries(request, policy, describe="x", sleep=slept.append) == "done"
    assert slept == [0.5]
