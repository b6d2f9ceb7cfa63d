"""Helpers shared by the merge pack tests: import path, tiny Llama checkpoints, pack runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import torch

PACK = Path(__file__).resolve().parents[2] / "templates" / "merge"
if str(PACK) not in sys.path:
    sys.path.insert(0, str(PACK))


def tiny_llama_config():
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        tie_word_embeddings=False,
    )


def save_llama_family(root: Path, seed: int = 0) -> dict[str, Path]:
    """Save a random tiny Llama base and two 'fine-tunes' (base + distinct perturbations)."""
    from transformers import LlamaForCausalLM

    torch.manual_seed(seed)
    base = LlamaForCausalLM(tiny_llama_config())
    paths = {"base": root / "base"}
    base.save_pretrained(paths["base"])
    for k, name in enumerate(("model_a", "model_b")):
        generator = torch.Generator().manual_seed(seed * 10 + k + 1)
        model = LlamaForCausalLM(tiny_llama_config())
        model.load_state_dict(base.state_dict())
        with torch.no_grad():
            for param in model.parameters():
                param.add_(0.02 * torch.randn(param.shape, generator=generator))
        paths[name] = root / name
        model.save_pretrained(paths[name])
    return paths


def copy_pack(destination: Path) -> Path:
    """The pack as a sandbox sees it: only the pack directory, copied."""
    target = destination / "merge"
    shutil.copytree(PACK, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def run_script(pack: Path, args: list[str], cache: Path | None = None, timeout: float = 300):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if cache is not None:
        env["SCIENTIST_CACHE"] = str(cache)
    return subprocess.run(
        [sys.executable, *args],
        cwd=pack,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def save_word_llama(folder: Path, seed: int = 0) -> Path:
    """A tiny random Llama with a word-level tokenizer over the real-model study's words
    (prompts, lexicon and every made-up word the cipher can draw), saved as a base model."""
    from mergepack.real_tasks import CONSONANTS, LEXICON, VOWELS
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

    syllables = [c + v for c in CONSONANTS for v in VOWELS]
    words = ["[PAD]", "[UNK]", "Zel", "Rev", ":", "=", *LEXICON]
    words += [a + b for a in syllables for b in syllables]
    word_level = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, "[UNK]"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=word_level, pad_token="[PAD]", unk_token="[UNK]"
    )
    config = tiny_llama_config()
    config.vocab_size = len(words)
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_smollm2_family(root: Path, folder: Path, layers: int = 2) -> dict[str, Path]:
    """SmolLM2's real tensors (embeddings, its first `layers` decoder layers, final norm) as a
    base, and two 'fine-tunes': the base plus distinct perturbations, each tensor's scaled
    to 1 % of its standard deviation."""
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(folder, num_hidden_layers=layers)
    paths = {"base": root / "base"}
    base.save_pretrained(paths["base"])
    state = {k: v.clone() for k, v in base.state_dict().items()}
    for k, name in enumerate(("model_a", "model_b")):
        generator = torch.Generator().manual_seed(k + 1)
        with torch.no_grad():
            for key, param in base.state_dict().items():
                noise = torch.randn(param.shape, generator=generator)
                param.copy_(state[key] + 0.01 * state[key].std() * noise)
        paths[name] = root / name
        base.save_pretrained(paths[name])
    return paths
