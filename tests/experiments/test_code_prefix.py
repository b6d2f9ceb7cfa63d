"""The code conversation's stable prefix: every code call of one idea starts with the same
first message, byte for byte (the instructions and the pack as shipped), later turns say what
changed (the diff, the runs, plot feedback) and never send the pack again; the providers'
prompt caches serve the prefix and the ledger prices it as cached input. The real openai and
anthropic clients against the replay server, the toy pack in the local sandbox."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.llm.pricing import PriceTable
from scientist.llm.replay_server import ReplayServer
from scientist.models import Idea, LedgerEntry
from tests.experiments.test_agent import block, develop

IDEA = Idea(name="bonus", title="A bonus", hypothesis="It helps.", plan="Raise BONUS.")
VIEW = ("## Pack files", "## Files in full")
LOOK = {"match": "drew these", "json": {"figures": [], "summary": "The curves are clear."}}


def edit(before: str, after: str) -> str:
    return block("experiment.py", f"BONUS = {before}", f"BONUS = {after}")


def code_requests(server: ReplayServer) -> list[dict[str, Any]]:
    """The bodies of the code conversation's requests (not the figure looks)."""
    bodies = [request["body"] for request in server.requests]
    return [body for body in bodies if "# The pack as shipped" in json.dumps(body)]


def code_calls(campaign: Campaign) -> list[LedgerEntry]:
    """The code conversation's ledger lines (the figure looks are the code role's too)."""
    return [e for e in campaign.ledger() if e.role == "code" and not e.usage.image_tokens]


def later_turns(body: dict[str, Any]) -> list[str]:
    """Every turn after the stable prefix, as text."""
    return [json.dumps(message["content"]) for message in body["messages"][1:]]


def linear_config(toy_pack: Path, models: dict[str, str]) -> CampaignConfig:
    return CampaignConfig(
        template=str(toy_pack), smoke=True, seeds=[0], max_runs_per_idea=3, models=models
    )


LINEAR_SCRIPT = [
    {"match": "No runs yet", "text": edit("0.0", "0.05")},
    {"match": "A bonus, run 2", "text": edit("0.05", "0.1")},
    {"match": "A bonus, run 3", "text": "DONE"},
    LOOK,
    LOOK,
]


def test_an_ideas_openai_code_calls_share_a_byte_stable_prefix_served_from_the_cache(
    tmp_path: Path, toy_pack: Path, run_cache, replay_server, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    replay_server.load(LINEAR_SCRIPT)
    models = {"code": "openai:gpt-4o", "base_url": f"{replay_server.url}/v1"}
    campaign, outcome = develop(tmp_path, linear_config(toy_pack, models), IDEA)
    assert outcome.entry.status == "done" and len(outcome.runs) == 2

    requests = code_requests(replay_server)
    assert len(requests) == 3
    [prefix] = {json.dumps(body["messages"][0]) for body in requests}
    assert all(text in prefix for text in VIEW) and "BONUS = 0.0" in prefix
    for earlier, later in itertools.pairwise(requests):  # the conversation grows
        assert later["messages"][: len(earlier["messages"])] == earlier["messages"]
    assert not any(text in turn for body in requests for turn in later_turns(body) for text in VIEW)
    next_run = requests[1]["messages"][-1]["content"]
    assert "+BONUS = 0.05" in next_run and "## Figures of run 1" in next_run

    first, *later = code_calls(campaign)
    assert first.usage.cached_input_tokens == 0
    price = PriceTable().price("openai:gpt-4o")
    for entry in later:
        usage = entry.usage
        assert usage.cached_input_tokens >= len(prefix) // 4 // 128 * 128 > 1024
        assert usage.cost_usd == pytest.approx(
            (usage.input_tokens - usage.cached_input_tokens) * price.input / 1e6
            + usage.cached_input_tokens * price.cached_input / 1e6
            + usage.output_tokens * price.output / 1e6
        )


def test_anthropic_code_calls_mark_the_prefix_write_it_once_and_read_it_after(
    tmp_path: Path, toy_pack: Path, run_cache, replay_server, monkeypatch
):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    replay_server.load(LINEAR_SCRIPT)
    models = {"code": "anthropic:claude-haiku-4-5", "base_url": replay_server.url}
    campaign, outcome = develop(tmp_path, linear_config(toy_pack, models), IDEA)
    assert outcome.entry.status == "done"

    requests = code_requests(replay_server)
    [system] = {json.dumps(body["system"]) for body in requests}
    [block_sent] = json.loads(system)
    assert block_sent["cache_control"] == {"type": "ephemeral"}
    assert all(text in block_sent["text"] for text in VIEW)
    assert not any(text in json.dumps(body["messages"]) for body in requests for text in VIEW)

    first, *later = code_calls(campaign)
    written = first.usage.cache_write_tokens
    assert written > 1024 and first.usage.cached_input_tokens == 0
    assert len(later) == 2
    assert all(entry.usage.cached_input_tokens == written for entry in later)
    assert all(entry.usage.cache_write_tokens == 0 for entry in later)


def test_every_node_of_a_tree_search_starts_with_the_same_prefix(
    tmp_path: Path, toy_pack: Path, run_cache, replay_server, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    replay_server.load(
        [{"match": "No runs yet", "text": edit("0.0", "0.05")}] * 3
        + [{"match": "+BONUS = 0.05", "text": edit("0.05", "0.1")}] * 3
        + [{"match": "+BONUS = 0.1", "text": edit("0.1", "0.15")}] * 3
        + [LOOK] * 3
    )
    models = {"code": "openai:gpt-4o", "base_url": f"{replay_server.url}/v1"}
    config = CampaignConfig(
        template=str(toy_pack),
        smoke=True,
        seeds=[0],
        search="abmcts",
        search_budget=3,
        models=models,
    )
    _, outcome = develop(tmp_path, config, IDEA, search=True)
    assert len(outcome.runs) == 3 and all(run.result.ok for run in outcome.runs)

    requests = code_requests(replay_server)
    assert len(requests) == 3
    assert len({json.dumps(body["messages"][0]) for body in requests}) == 1
    assert not any(text in turn for body in requests for turn in later_turns(body) for text in VIEW)
