"""Ledger lines, prices and the budget's hard stop."""

from __future__ import annotations

import pytest

from scientist.errors import BudgetExceeded, LLMProviderError
from scientist.llm.pricing import PriceTable
from scientist.models import LedgerEntry, Usage
from tests.llm.conftest import Verdict, openai_llm

HELLO = [{"role": "user", "content": "hello"}]


def test_every_call_is_a_ledger_line_success_or_failure(replay_server, campaign, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-value")
    replay_server.load(
        [
            {"text": "hi", "usage": {"input_tokens": 1000, "output_tokens": 500}},
            {"status": 403, "error": "forbidden"},
        ]
    )
    with openai_llm(replay_server, campaign=campaign) as llm:
        llm.complete("write", HELLO)
        with pytest.raises(LLMProviderError):
            llm.complete("review", HELLO)
    first, second = campaign.ledger()
    assert (first.role, first.model, first.ok) == ("write", "openai:gpt-4o", True)
    assert first.usage == Usage(input_tokens=1000, output_tokens=500, cost_usd=0.0075)
    assert first.latency_s > 0
    assert (second.role, second.ok) == ("review", False)
    assert "forbidden" in second.error
    assert "sk-test-secret-value" not in campaign.ledger_path.read_text()
    assert all("authorization" not in str(r).lower() for r in replay_server.requests)


def test_repair_rounds_are_summed_into_one_ledger_line(replay_server, campaign):
    replay_server.load(
        [
            {"text": "oops", "usage": {"input_tokens": 10, "output_tokens": 2}},
            {"json": {"label": "a", "score": 1}, "usage": {"input_tokens": 20, "output_tokens": 5}},
        ]
    )
    with openai_llm(replay_server, campaign=campaign) as llm:
        completion = llm.complete("review", HELLO, schema=Verdict)
    [entry] = campaign.ledger()
    assert entry.usage.input_tokens == 30 and entry.usage.output_tokens == 7
    assert entry.call_id == completion.call_id and entry.usage == completion.usage


def test_budget_stops_before_the_request_is_sent(replay_server, campaign):
    replay_server.load([{"text": "never served"}])
    llm = openai_llm(replay_server, campaign=campaign, budget_usd=0.01)
    with llm, pytest.raises(BudgetExceeded) as caught:
        llm.complete("ideas", HELLO, max_tokens=2000)  # up to 2000 * $10/1M = $0.02
    assert replay_server.requests == []
    assert campaign.ledger() == []
    assert "budget" in str(caught.value)


def test_budget_counts_what_the_campaign_already_spent(replay_server, campaign):
    spent = Usage(input_tokens=1, output_tokens=1, cost_usd=0.995)
    earlier = LedgerEntry(call_id="x", role="ideas", model="m", usage=spent, latency_s=1)
    campaign.record_call(earlier)
    replay_server.load([{"text": "ok"}, {"text": "never served"}])
    with openai_llm(replay_server, campaign=campaign, budget_usd=1.0) as llm:
        llm.complete("ideas", HELLO, max_tokens=100)  # worst case $0.001: fits
        assert llm.spent_usd == pytest.approx(0.995 + campaign.ledger()[-1].usage.cost_usd)
        with pytest.raises(BudgetExceeded):
            llm.complete("ideas", HELLO, max_tokens=1000)  # worst case $0.01: does not
    assert len(replay_server.requests) == 1


def test_prices_prefix_match_override_and_unknown_models():
    table = PriceTable({"my-model": (1.0, 2.0), "openai:gpt-4o": (3.0, 6.0)})
    assert table.price("openai:gpt-4o-mini-2024-07-18")[:2] == (0.15, 0.60)
    assert table.price("openai:gpt-4o-2024-08-06") == (3.0, 6.0, 3.0, 3.0)  # no cache discount
    assert table.price("openai:my-model") == (1.0, 2.0, 1.0, 1.0)
    assert table.usage("anthropic:claude-sonnet-4-5", 1_000_000, 0).cost_usd == 3.0
    unknown = table.usage("openai:mystery", 100, 100)
    assert unknown.cost_usd == 0 and unknown.priced is False
