"""Prompt caching in the ledger: cached input at its price for OpenAI's automatic cache and
for Anthropic's cache reads and writes, reported by the replay server as the APIs report it,
read by the real SDK clients."""

from __future__ import annotations

import json

import pytest

from scientist.config import ModelsConfig
from scientist.llm import Message
from scientist.llm.journal import request_key
from scientist.llm.pricing import PriceTable
from tests.llm.conftest import anthropic_llm, openai_llm
from tests.llm.test_vision import GPT_4O_1024x768, figure

GPT_4O = PriceTable().price("openai:gpt-4o")
HAIKU = PriceTable().price("anthropic:claude-haiku-4-5")
OPENAI_BLOCK = 128  # OpenAI caches whole blocks of 128 tokens, from 1024 tokens on
PACK = "def layer(x):\n    return x * 2  # a line of the pack the model reads\n" * 200
"""About 13,600 characters: a stable prefix well above the 1024-token cache minimum."""


def usd(tokens: int, per_million: float) -> float:
    return tokens * per_million / 1_000_000


def conversation(question: str, *, mark: bool = False) -> list[Message]:
    return [
        Message(role="system", content="You edit code.\n\n" + PACK, cache_prefix=mark),
        Message(role="user", content=question),
    ]


def test_shipped_prices_have_cache_prices():
    assert GPT_4O == (2.50, 10.00, 1.25, 2.50)
    assert PriceTable().price("openai:gpt-4.1-2025-04-14") == (2.00, 8.00, 0.50, 2.00)
    assert HAIKU == (1.00, 5.00, 0.10, 1.25)


def test_a_price_override_without_cache_prices_has_no_cache_discount():
    models = ModelsConfig(prices={"openai:gpt-4o": [3.0, 6.0], "mine": [1.0, 2.0, 0.5]})
    table = PriceTable(models.prices)
    assert table.price("openai:gpt-4o") == (3.0, 6.0, 3.0, 3.0)
    assert table.price("openai:mine") == (1.0, 2.0, 0.5, 1.0)
    with pytest.raises(ValueError):
        ModelsConfig(prices={"mine": [1.0]})


def test_a_cached_openai_request_costs_its_cached_tokens_at_the_cached_price(
    replay_server, campaign
):
    usage = {"input_tokens": 5000, "output_tokens": 100}
    replay_server.load([{"text": "a", "usage": usage}])
    replay_server.load([{"text": "b", "usage": {**usage, "cached_input_tokens": 4096}}])
    with openai_llm(replay_server, campaign=campaign) as llm:
        llm.complete("code", conversation("question A"))
        llm.complete("code", conversation("question B"))
    uncached, cached = campaign.ledger()
    assert (uncached.usage.cached_input_tokens, cached.usage.cached_input_tokens) == (0, 4096)
    assert cached.usage.input_tokens == 5000
    saving = usd(4096, GPT_4O.input - GPT_4O.cached_input)
    assert uncached.usage.cost_usd - cached.usage.cost_usd == pytest.approx(saving, abs=1e-12)
    assert cached.usage.cost_usd == pytest.approx(
        usd(904, GPT_4O.input) + usd(4096, GPT_4O.cached_input) + usd(100, GPT_4O.output)
    )


def test_the_replay_server_caches_an_openai_prefix_as_openai_does(replay_server, campaign):
    replay_server.load([{"text": "a"}, {"text": "b"}, {"text": "c"}])
    with openai_llm(replay_server, campaign=campaign) as llm:
        llm.complete("code", conversation("question A"))
        llm.complete("code", conversation("question B"))
        llm.complete("code", [Message(role="user", content="short")])
    first, second, short = campaign.ledger()
    assert first.usage.cached_input_tokens == 0  # nothing was sent before it
    text = json.dumps(replay_server.requests[0]["body"]["messages"])
    shared_tokens = len(text[: text.index("question A") + len("question ")]) // 4  # 4 chars a token
    assert shared_tokens > 3000
    expected = shared_tokens // OPENAI_BLOCK * OPENAI_BLOCK
    assert second.usage.cached_input_tokens == expected
    assert second.usage.input_tokens == first.usage.input_tokens
    assert short.usage.cached_input_tokens == 0  # below 1024 tokens nothing is cached
    saving = usd(expected, GPT_4O.input - GPT_4O.cached_input)
    assert first.usage.cost_usd - second.usage.cost_usd == pytest.approx(saving, abs=1e-12)


def test_anthropic_marks_the_prefix_and_prices_cache_writes_and_reads(replay_server, campaign):
    replay_server.load([{"text": "a"}, {"text": "b"}, {"text": "c"}])
    with anthropic_llm(replay_server, campaign=campaign) as llm:
        llm.complete("code", conversation("question A", mark=True))
        llm.complete("code", conversation("question B", mark=True))
        llm.complete("code", conversation("question C"))  # unmarked: Anthropic caches nothing
    marked, _, unmarked = (request["body"] for request in replay_server.requests)
    [block] = marked["system"]
    assert block["cache_control"] == {"type": "ephemeral"}
    assert block["text"].endswith(PACK)
    assert isinstance(unmarked["system"], str)

    write, read, plain = campaign.ledger()
    prefix = write.usage.cache_write_tokens
    assert prefix > 1024 and write.usage.cached_input_tokens == 0
    assert (read.usage.cached_input_tokens, read.usage.cache_write_tokens) == (prefix, 0)
    assert (plain.usage.cached_input_tokens, plain.usage.cache_write_tokens) == (0, 0)
    assert write.usage.input_tokens == read.usage.input_tokens > prefix  # parts of the prompt
    assert write.usage.cost_usd == pytest.approx(
        usd(write.usage.input_tokens - prefix, HAIKU.input)
        + usd(prefix, HAIKU.cache_write)
        + usd(write.usage.output_tokens, HAIKU.output)
    )
    assert read.usage.cost_usd == pytest.approx(
        usd(read.usage.input_tokens - prefix, HAIKU.input)
        + usd(prefix, HAIKU.cached_input)
        + usd(read.usage.output_tokens, HAIKU.output)
    )
    assert read.usage.cost_usd < plain.usage.cost_usd < write.usage.cost_usd


def test_scripted_anthropic_cache_usage_reaches_the_ledger_as_the_api_reports_it(
    replay_server, campaign
):
    usage = {"input_tokens": 3000, "output_tokens": 10, "cache_write_tokens": 2000}
    replay_server.load([{"text": "a", "usage": usage}])
    with anthropic_llm(replay_server, campaign=campaign) as llm:
        llm.complete("code", conversation("question A", mark=True))
    [entry] = campaign.ledger()
    assert (entry.usage.input_tokens, entry.usage.cache_write_tokens) == (3000, 2000)
    assert entry.usage.cost_usd == pytest.approx(
        usd(1000, HAIKU.input) + usd(2000, HAIKU.cache_write) + usd(10, HAIKU.output)
    )


def test_the_budget_reserves_a_marked_prefix_at_the_cache_write_price():
    table = PriceTable()
    chars = len(PACK)
    plain = table.worst_case_usd("anthropic:claude-haiku-4-5", chars, 100)
    marked = table.worst_case_usd("anthropic:claude-haiku-4-5", chars, 100, cacheable_chars=chars)
    assert marked > plain
    openai = table.worst_case_usd("openai:gpt-4o", chars, 100, cacheable_chars=chars)
    assert openai == table.worst_case_usd("openai:gpt-4o", chars, 100)


def test_a_cache_mark_leaves_the_journal_key_alone():
    keys = {
        request_key("code", conversation("q", mark=mark), None, None, 100, None)
        for mark in (False, True)
    }
    assert len(keys) == 1


def test_an_image_inside_the_prefix_is_cached_with_it_and_another_image_is_not(
    replay_server, campaign, tmp_path
):
    plot, other = figure(tmp_path, "plot.png"), figure(tmp_path, "other.png", colour="grey")

    def paper(image, question: str) -> list[Message]:
        return [
            Message(role="system", content="You review.\n\n" + PACK),
            Message(role="user", content="The paper's figure.", images=(image,)),
            Message(role="user", content=question),
        ]

    replay_server.load([{"text": "a"}, {"text": "b"}, {"text": "c"}])
    with openai_llm(replay_server, campaign=campaign) as llm:
        for image, question in ((plot, "review A"), (plot, "review B"), (other, "review C")):
            llm.complete("review", paper(image, question))
    first, same, changed = (entry.usage for entry in campaign.ledger())
    assert first.image_tokens == same.image_tokens == GPT_4O_1024x768
    # everything before the question is shared, the figure's 765 tokens included
    assert same.cached_input_tokens > first.input_tokens - OPENAI_BLOCK - 16
    # a different figure ends the shared prefix where it begins: the system text only
    system_tokens = len(json.dumps(replay_server.requests[0]["body"]["messages"][0])) // 4
    assert changed.cached_input_tokens == system_tokens // OPENAI_BLOCK * OPENAI_BLOCK
