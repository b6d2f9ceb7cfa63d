"""Helpers for the NAMM pack tests: import path and hand-made cache views."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

PACK = Path(__file__).resolve().parents[2] / "templates" / "namm"
if str(PACK) not in sys.path:
    sys.path.insert(0, str(PACK))

from nammlib.policies import CacheView  # noqa: E402


@pytest.fixture(autouse=True)
def single_thread() -> Iterator[None]:
    """One torch thread, as the pack runs (tiny models are far slower on two)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def tiny_llama():
    """A random 2-layer Llama (vocabulary 96, eager attention, so attentions are returned)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=96,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        attn_implementation="eager",
    )
    return LlamaForCausalLM(config).eval()


def view(
    end: int,
    attention: torch.Tensor | None = None,
    keys: torch.Tensor | None = None,
    alive: torch.Tensor | None = None,
) -> CacheView:
    """A one-prompt, one-layer, one-head view over `end` cached tokens."""
    if attention is None:
        attention = torch.full((1, 1, 1, 2, end), 1.0 / end)
    if keys is None:
        keys = torch.ones(1, 1, 1, end, 4)
    if alive is None:
        alive = torch.ones(1, 1, 1, end, dtype=torch.bool)
    return CacheView(attention=attention, keys=keys, alive=alive, end=end)


def kept(mask: torch.Tensor) -> set[int]:
    return set(torch.nonzero(mask.reshape(-1)).reshape(-1).tolist())


def run_pack(script: str, *args: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SCIENTIST_CACHE": str(cache)}
    return subprocess.run(
        [sys.executable, script, *args],
        cwd=PACK,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
