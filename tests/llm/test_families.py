"""The model-family table: a model finds its row by its longest listed prefix, a row
inherits what it leaves out, and prices, capabilities and image tokens all read that row."""

from __future__ import annotations

from pathlib import Path

import pytest

from scientist.llm import families
from scientist.llm.capabilities import capabilities_for
from scientist.llm.families import family_of, longest_prefix
from scientist.llm.image_tokens import image_tokens
from scientist.llm.pricing import PriceTable


def test_a_model_takes_its_longest_prefix_that_ends_at_a_separator() -> None:
    keys = ["gpt-4o", "gpt-4o-mini", "gpt-5"]
    assert longest_prefix("gpt-4o-2024-08-06", keys) == "gpt-4o"
    assert longest_prefix("gpt-4o-mini-2024-07-18", keys) == "gpt-4o-mini"
    assert longest_prefix("gpt-5.1", keys) == "gpt-5"
    assert longest_prefix("gpt-4omega", keys) is None


@pytest.fixture
def table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "families.toml"
    path.write_text(
        '[acme."m"]\nprice = [1, 2]\nreasoning = true\nvision = true\n'
        "images = { tiles = [10, 20] }\ncontext = 1000\n"
        '[acme."m-small"]\nprice = [0.5, 1]\nimages = { patches = 2.0 }\n'
        '[acme."m-text"]\nvision = false\nimages = {}\n'
    )
    monkeypatch.setattr(families, "FAMILIES_FILE", path)
    families.families.cache_clear()
    yield
    families.families.cache_clear()


@pytest.mark.usefixtures("table")
def test_a_row_inherits_what_it_leaves_out_and_every_reader_uses_it() -> None:
    small = family_of("acme:m-small-2025")
    assert (small.reasoning, small.vision, small.context) == (True, True, 1000)
    assert small.price == [0.5, 1]
    text = family_of("acme:m-text")
    assert (text.vision, text.images.tiles, text.price) == (False, None, [1, 2])
    caps = capabilities_for("acme:m-small")
    assert (caps.reasoning, caps.temperature, caps.context_tokens) == (True, False, 1000)
    assert image_tokens("acme:m", 512, 512) == 10 + 20
    assert image_tokens("acme:m-small", 64, 64) == 2 * 4
    assert PriceTable().price("acme:m-small-2025").input == 0.5
    assert family_of("acme:other").price is None


def test_the_shipped_rows_keep_their_families_apart() -> None:
    assert capabilities_for("openai:o3-mini").reasoning
    assert not capabilities_for("openai:o3-mini").vision
    assert capabilities_for("openai:gpt-5-chat-latest").temperature
    assert capabilities_for("anthropic:claude-any-new-model").vision
    assert capabilities_for("openai:gpt-4o").context_tokens == 128_000
    assert image_tokens("openai:gpt-4o-mini", 512, 512) == 2833 + 5667
    assert PriceTable().price("anthropic:claude-any-new-model") is None
