"""`local:<path>` with a tiny randomly initialised Llama and a tokenizer built here, and how a
prompt is fitted to a context window."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scientist.config import ModelsConfig
from scientist.errors import ConfigError, LLMProviderError
from scientist.llm import open_llm
from scientist.llm.base import Message
from scientist.llm.context_fit import cut_note, fit_messages
from scientist.llm.providers.local import plain_prompt

WORDS = ["<unk>", "<pad>", "<eos>", "system:", "user:", "assistant:", "hello", "world", "ok"]


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(0)
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("tiny-llama")
    vocab = {word: index for index, word in enumerate(WORDS)}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>"
    )
    config = LlamaConfig(
        vocab_size=len(WORDS),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
        pad_token_id=1,
        eos_token_id=2,
        bos_token_id=None,
    )
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_local_model_answers_with_token_counts(tiny_llama: Path, campaign):
    models = ModelsConfig(default=f"local:{tiny_llama}")
    with open_llm(models, campaign=campaign) as llm:
        ask = [{"role": "user", "content": "hello world"}]
        completion = llm.complete("write", ask, max_tokens=5)
    assert completion.usage.input_tokens == 4  # "user: hello world\nassistant:"
    assert 1 <= completion.usage.output_tokens <= 5
    assert set(completion.text.split()) <= set(WORDS)
    assert completion.usage.priced is False and completion.usage.cost_usd == 0
    [entry] = campaign.ledger()
    assert entry.model == f"local:{tiny_llama}" and entry.ok


def test_plain_prompt_without_chat_template():
    messages = [Message(role="system", content="be brief"), Message(role="user", content="hi")]
    assert plain_prompt(messages) == "system: be brief\nuser: hi\nassistant:"


def test_missing_weights_directory_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"neither a folder nor a \.gguf file"):
        open_llm(ModelsConfig(default=f"local:{tmp_path / 'absent'}"))


def test_a_prompt_longer_than_the_window_is_cut_in_its_middle(tiny_llama: Path, campaign):
    models = ModelsConfig(default=f"local:{tiny_llama}", local_max_tokens=16)
    ask = [{"role": "user", "content": "hello " * 100 + "world"}]
    with open_llm(models, campaign=campaign) as llm:
        completion = llm.complete("write", ask, max_tokens=100)
    window = 64  # the tiny model's max_position_embeddings
    assert completion.usage.input_tokens <= window - 16
    assert completion.usage.output_tokens <= 16


def test_fit_keeps_both_ends_and_says_how_much_was_cut():
    def words(messages: list[Message]) -> int:
        return sum(len(message.content.split()) for message in messages)

    system = Message(role="system", content="answer briefly")
    long = Message(role="user", content="first " + "filler " * 200 + "last question")
    fitted = fit_messages([system, long], words, limit=60, window=80)
    assert words(fitted) <= 60 and fitted[0] == system
    text = fitted[1].content
    assert text.startswith("first ") and text.endswith("last question")
    cut = int(re.search(r"(\d+) characters cut here", text).group(1))
    assert cut == len(long.content) - len(text) + len(cut_note(cut, 80))
    assert "context window of 80 tokens" in text


def test_a_prompt_no_cut_can_fit_is_a_provider_error():
    many = [Message(role="user", content="word") for _ in range(50)]
    with pytest.raises(LLMProviderError, match="does not fit in 10 tokens"):
        fit_messages(many, lambda messages: len(messages), limit=10, window=20)


def test_the_smaller_of_the_window_and_the_configured_cap_wins(tiny_llama: Path):
    from scientist.llm.providers.local import LocalProvider

    assert LocalProvider(str(tiny_llama), max_new_tokens=8).context_tokens == 64
    assert LocalProvider(str(tiny_llama), max_new_tokens=8, context_cap=32).context_tokens == 32
    assert LocalProvider(str(tiny_llama), max_new_tokens=8, context_cap=256).context_tokens == 64


def test_a_role_s_window_is_its_local_model_s_or_its_family_s(tiny_llama: Path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")  # no call is made
    models = ModelsConfig(
        default=f"local:{tiny_llama}", ideas="openai:gpt-4o", write="openai:my-own-model"
    )
    with open_llm(models) as llm:
        assert llm.for_role("code").context_tokens == 64  # type: ignore[union-attr]
        assert llm.for_role("ideas").context_tokens == 128_000  # type: ignore[union-attr]
        assert llm.for_role("write").context_tokens is None  # type: ignore[union-attr]
