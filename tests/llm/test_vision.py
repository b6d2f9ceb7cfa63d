"""Images in requests: their wire format as the server received it, their tokens in the
ledger, the budget that counts them before a call, the journal that replays a vision call,
and the replay server refusing a malformed image part as the real APIs do."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import anthropic
import openai
import pytest
from PIL import Image as PILImage

from scientist.campaign import Campaign
from scientist.config import ModelsConfig
from scientist.errors import BudgetExceeded, LLMProviderError
from scientist.llm import Message, open_llm
from scientist.llm.image_tokens import image_tokens
from scientist.llm.images import Image
from scientist.llm.pricing import PriceTable
from tests.llm.conftest import anthropic_llm, openai_llm

GPT_4O_1024x768 = 765  # 2 x 2 tiles of 512 px: 85 + 4 x 170
CLAUDE_1024x768 = 1049  # 1024 x 768 / 750, rounded up


def figure(folder: Path, name: str = "figure.png", colour: str = "white") -> Image:
    """A 1024x768 PNG figure with a line drawn on it, read as the code loop reads one."""
    picture = PILImage.new("RGB", (1024, 768), colour)
    picture.paste((200, 30, 30), (100, 380, 900, 388))
    path = folder / name
    picture.save(path)
    return Image.from_file(path)


def look_at(*images: Image) -> list[Message]:
    return [Message(role="user", content="What does the figure show?", images=images)]


def decoded_png(data: str) -> tuple[bytes, tuple[int, int]]:
    raw = base64.b64decode(data, validate=True)
    with PILImage.open(io.BytesIO(raw)) as picture:
        assert picture.format == "PNG"
        return raw, picture.size


def test_openai_request_carries_image_url_parts_and_the_ledger_prices_them(
    replay_server, campaign, tmp_path
):
    shown = figure(tmp_path)
    replay_server.load([{"text": "a rising curve"}])
    with openai_llm(replay_server, campaign=campaign) as llm:
        completion = llm.complete("review", look_at(shown))
    [request] = replay_server.requests
    [message] = request["body"]["messages"]
    assert [part["type"] for part in message["content"]] == ["text", "image_url"]
    url = message["content"][1]["image_url"]["url"]
    prefix, _, data = url.partition(",")
    assert prefix == "data:image/png;base64"
    assert decoded_png(data) == (base64.b64decode(shown.data), (1024, 768))

    [entry] = campaign.ledger()
    assert entry.usage.image_tokens == GPT_4O_1024x768
    input_price = PriceTable().price("openai:gpt-4o")[0]
    assert entry.usage.image_usd == pytest.approx(GPT_4O_1024x768 * input_price / 1e6)
    assert 0 < entry.usage.input_tokens - GPT_4O_1024x768 < 50  # the text; base64 is no text
    assert completion.usage == entry.usage


def test_anthropic_request_carries_base64_image_blocks_and_the_ledger_prices_them(
    replay_server, campaign, tmp_path
):
    shown = figure(tmp_path)
    replay_server.load([{"text": "a rising curve"}])
    with anthropic_llm(replay_server, campaign=campaign) as llm:
        llm.complete("review", look_at(shown))
    [request] = replay_server.requests
    [turn] = request["body"]["messages"]
    assert [block["type"] for block in turn["content"]] == ["image", "text"]
    source = turn["content"][0]["source"]
    assert (source["type"], source["media_type"]) == ("base64", "image/png")
    assert decoded_png(source["data"]) == (base64.b64decode(shown.data), (1024, 768))

    [entry] = campaign.ledger()
    assert entry.usage.image_tokens == CLAUDE_1024x768
    input_price = PriceTable().price("anthropic:claude-haiku-4-5")[0]
    assert entry.usage.image_usd == pytest.approx(CLAUDE_1024x768 * input_price / 1e6)
    assert entry.usage.input_tokens > CLAUDE_1024x768


def test_a_budget_too_small_for_the_images_refuses_the_call_unsent(
    replay_server, campaign, tmp_path
):
    shown = tuple(figure(tmp_path, f"f{k}.png") for k in range(4))  # 4 x 765 tokens: $0.0077
    replay_server.load([{"text": "text alone fits"}])
    with openai_llm(replay_server, campaign=campaign, budget_usd=0.005) as llm:
        with pytest.raises(BudgetExceeded):
            llm.complete("review", look_at(*shown), max_tokens=100)
        assert replay_server.requests == [] and campaign.ledger() == []
        text_only = [Message(role="user", content=look_at()[0].content)]
        assert llm.complete("review", text_only, max_tokens=100).text == "text alone fits"
    assert len(replay_server.requests) == 1


def test_a_resumed_vision_call_is_answered_from_the_journal(replay_server, campaign, tmp_path):
    shown = figure(tmp_path)
    replay_server.load([{"text": "first look"}])
    with openai_llm(replay_server, campaign=campaign) as llm:
        first = llm.complete("review", look_at(shown))
    journal_text = campaign.journal_path.read_text()
    assert shown.data[:200] not in journal_text and len(journal_text) < 4000

    other = figure(tmp_path, "other.png", colour="lightgrey")  # same size, other pixels
    replay_server.load([{"text": "another figure"}])
    with openai_llm(replay_server, campaign=Campaign.open(campaign.root)) as llm:
        assert llm.complete("review", look_at(other)).text == "another figure"  # sent
        assert len(replay_server.requests) == 2
        replayed = llm.complete("review", look_at(shown))
        assert (replayed.text, replayed.call_id) == ("first look", first.call_id)
    assert len(replay_server.requests) == 2  # nothing sent for the replayed call
    assert len(campaign.ledger()) == 2


def test_a_malformed_image_part_is_a_400_that_uses_no_script_entry(replay_server, tmp_path):
    jpeg = io.BytesIO()
    PILImage.new("RGB", (8, 8)).save(jpeg, format="JPEG")
    not_a_png = base64.b64encode(jpeg.getvalue()).decode()
    replay_server.load([{"text": "never served"}])
    client = openai.OpenAI(api_key="sk-test", base_url=f"{replay_server.url}/v1", max_retries=0)
    bad_openai_parts = [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{not_a_png}"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,!!not base64!!"}},
        {"type": "image_url", "image_url": {"url": "https://example.org/figure.png"}},
        {"type": "image_url", "image_url": {}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": ""}},
    ]
    for part in bad_openai_parts:
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": [part]}]
            )
        assert caught.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError, match="only allowed for messages with role 'user'"):
        good = {"type": "image_url", "image_url": {"url": figure(tmp_path).data_url}}
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "system", "content": [good]}]
        )

    claude = anthropic.Anthropic(api_key="sk-test", base_url=replay_server.url, max_retries=0)
    source = {"type": "base64", "media_type": "image/png", "data": not_a_png}
    with pytest.raises(anthropic.BadRequestError, match="not appear to be a valid png image"):
        claude.messages.create(
            model="claude-haiku-4-5",
            max_tokens=10,
            messages=[{"role": "user", "content": [{"type": "image", "source": source}]}],
        )
    assert replay_server.remaining == 1


def test_our_wire_format_with_a_broken_image_fails_as_a_provider_error(replay_server, tmp_path):
    broken = figure(tmp_path).model_copy(update={"data": base64.b64encode(b"GIF89a").decode()})
    replay_server.load([{"text": "never served"}])
    with openai_llm(replay_server) as llm, pytest.raises(LLMProviderError, match="valid png"):
        llm.complete("review", look_at(broken))


def test_a_local_model_refuses_images_before_loading_weights(tmp_path):
    models = ModelsConfig(default=f"local:{tmp_path}")  # no weights: loading would fail
    with open_llm(models) as llm, pytest.raises(LLMProviderError, match="takes no images"):
        llm.complete("review", look_at(figure(tmp_path)))


@pytest.mark.parametrize(
    ("spec", "size", "tokens"),
    [
        ("openai:gpt-4o", (1024, 1024), 765),  # the published examples
        ("openai:gpt-4o-2024-08-06", (2048, 4096), 1105),
        ("openai:gpt-4.1", (500, 500), 255),
        ("openai:gpt-4o-mini", (1024, 768), 2833 + 4 * 5667),
        ("openai:gpt-5", (1024, 768), 70 + 4 * 140),
        ("openai:o3", (1024, 768), 75 + 4 * 150),
        ("openai:gpt-4.1-mini", (1024, 1024), 1659),  # 1024 patches x 1.62
        ("openai:o4-mini", (4096, 4096), 2642),  # capped at 1536 patches x 1.72
        ("anthropic:claude-sonnet-4-5", (1024, 768), CLAUDE_1024x768),
        ("anthropic:claude-opus-4-1", (3000, 3000), 1600),  # shrunk to about 1.2 MP
        ("openai:llava-13b", (1024, 768), 1049),  # unknown: pixels / 750, no shrinking
        ("openai:llava-13b", (3000, 3000), 12000),
    ],
)
def test_image_tokens_follow_each_familys_rule(spec, size, tokens):
    assert image_tokens(spec, *size) == tokens
