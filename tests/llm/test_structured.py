"""Structured output through the real SDK clients, and the schema repair loop."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from scientist.errors import LLMFormatError
from scientist.llm import Message
from scientist.llm.structured import extract_json, strict_json_schema
from scientist.models import Idea
from tests.llm.conftest import Verdict, anthropic_llm, openai_llm

ASK = [Message(role="system", content="You judge."), Message(role="user", content="Judge it.")]


def test_openai_parses_schema_with_strict_response_format(replay_server):
    replay_server.load([{"json": {"label": "good", "score": 7}}])
    with openai_llm(replay_server) as llm:
        completion = llm.complete("review", ASK, schema=Verdict)
    assert completion.parsed == Verdict(label="good", score=7)
    sent = replay_server.requests[0]["body"]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["strict"] is True
    assert completion.usage.input_tokens > 0 and completion.usage.cost_usd > 0


def test_openai_uses_json_mode_when_schema_has_defaults(replay_server):
    idea = {"name": "wide", "title": "Wider", "hypothesis": "h", "plan": "p"}
    replay_server.load([{"text": f"Here it is:\n```json\n{json.dumps(idea)}\n```"}])
    with openai_llm(replay_server) as llm:
        completion = llm.complete("ideas", [{"role": "user", "content": "An idea"}], schema=Idea)
    assert isinstance(completion.parsed, Idea) and completion.parsed.name == "wide"
    sent = replay_server.requests[0]["body"]
    assert sent["response_format"] == {"type": "json_object"}
    # the instructions follow the system messages (none here), so they stay in the cached prefix
    instructions, question = sent["messages"]
    assert "JSON Schema" in instructions["content"] and question["content"] == "An idea"


def test_anthropic_answers_through_forced_tool(replay_server):
    replay_server.load([{"json": {"label": "weak", "score": 3}}])
    with anthropic_llm(replay_server) as llm:
        completion = llm.complete("review", ASK, schema=Verdict)
    assert completion.parsed == Verdict(label="weak", score=3)
    sent = replay_server.requests[0]["body"]
    assert sent["tool_choice"] == {"type": "tool", "name": "Verdict"}
    assert sent["tools"][0]["input_schema"]["required"] == ["label", "score"]
    assert sent["system"] == "You judge."
    assert [m["role"] for m in sent["messages"]] == ["user"]


@pytest.mark.parametrize("make_llm", [openai_llm, anthropic_llm])
def test_malformed_output_is_repaired_with_the_error_fed_back(replay_server, make_llm):
    replay_server.load(
        [{"text": "{not json"}, {"json": {"label": "ok"}}, {"json": {"label": "ok", "score": 5}}]
    )
    with make_llm(replay_server) as llm:
        completion = llm.complete("review", ASK, schema=Verdict)
    assert completion.parsed == Verdict(label="ok", score=5)
    assert len(replay_server.requests) == 3
    last = replay_server.requests[2]["body"]["messages"]
    assert last[-2] == {"role": "assistant", "content": '{"label": "ok"}'}
    assert "score" in last[-1]["content"] and "Field required" in last[-1]["content"]
    assert completion.usage.output_tokens > 3  # all three requests are counted


def test_format_error_after_repairs_are_spent_keeps_raw_text(replay_server):
    replay_server.load([{"text": "nope"}, {"text": "still nope"}, {"text": "never"}])
    llm = openai_llm(replay_server, models={"format_retries": 2})
    with llm, pytest.raises(LLMFormatError) as caught:
        llm.complete("review", ASK, schema=Verdict)
    assert caught.value.raw_text == "never"
    assert len(replay_server.requests) == 3


class Loose(BaseModel):
    tags: dict[str, int]


def test_strict_schema_only_when_expressible():
    assert strict_json_schema(Verdict)["additionalProperties"] is False
    assert strict_json_schema(Idea) is None
    assert strict_json_schema(Loose) is None


def test_extract_json_tolerates_prose_and_fences():
    assert extract_json('Sure! {"a": 1} hope that helps') == {"a": 1}
    assert extract_json('```json\n{"a": [1, 2]}\n```') == {"a": [1, 2]}
