"""The eviction policies as a real shrinking cache for a transformers Llama model (CPU)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import torch
from namm_fixtures import run_pack, single_thread, tiny_llama  # noqa: F401  (also puts the pack on sys.path)
from nammlib.hf_eviction import EvictingGenerator
from nammlib.hf_study import HFEvictionTask
from nammlib.policies import CacheView, Namm, Policy, make_policy
from nammlib.scorer import ScorerSpec
from nammlib.study import scorer_spec
from transformers import LlamaConfig, LlamaForCausalLM

PROMPT, NEW, BUDGET, N_UP = 40, 12, 16, 8


@pytest.fixture(scope="module")
def llama() -> LlamaForCausalLM:
    return tiny_llama()


@pytest.fixture(scope="module")
def prompt() -> torch.Tensor:
    return torch.randint(96, (2, PROMPT), generator=torch.Generator().manual_seed(0))


def reference_greedy(model: LlamaForCausalLM, prompt: torch.Tensor) -> torch.Tensor:
    tokens = prompt
    with torch.no_grad():
        for _ in range(NEW):
            token = model(tokens).logits[:, -1].argmax(-1, keepdim=True)
            tokens = torch.cat([tokens, token], dim=1)
    return tokens[:, PROMPT:]


def test_full_policy_reproduces_plain_greedy_decoding(llama, prompt) -> None:
    runner = EvictingGenerator(llama, Policy, BUDGET, N_UP, capacity=PROMPT + NEW)
    assert torch.equal(runner.generate(prompt, NEW), reference_greedy(llama, prompt))
    assert runner.cache.get_seq_length() == PROMPT + NEW - 1  # the last token is not fed


def test_eviction_with_a_budget_above_the_length_changes_nothing(llama, prompt) -> None:
    runner = EvictingGenerator(
        llama, lambda: make_policy("h2o", 64, 0), 64, N_UP, capacity=PROMPT + NEW
    )
    assert torch.equal(runner.generate(prompt, NEW), reference_greedy(llama, prompt))


@pytest.mark.parametrize("name", ["recency", "h2o", "l2", "l2_inverted", "random", "namm"])
def test_eviction_shrinks_the_cache_and_generation_runs(llama, prompt, name: str) -> None:
    spec = ScorerSpec()
    genome = torch.randn(spec.n_params, generator=torch.Generator().manual_seed(3))

    def factory() -> Policy:
        return Namm(spec, genome) if name == "namm" else make_policy(name, BUDGET, 0)

    runner = EvictingGenerator(llama, factory, BUDGET, N_UP, capacity=PROMPT + NEW)
    new = runner.generate(prompt, NEW)
    assert new.shape == (2, NEW)
    assert max(runner.cache_sizes) <= BUDGET
    for layer in runner.cache.layers:
        assert layer.keys.shape[-2] <= BUDGET + N_UP
        assert layer.keys.shape == layer.values.shape
    if name != "namm":
        assert runner.cache_sizes[-1] == BUDGET


def test_recency_keeps_the_newest_positions(llama, prompt) -> None:
    runner = EvictingGenerator(
        llama, lambda: make_policy("recency", BUDGET, 0, sinks=4), BUDGET, N_UP, PROMPT + NEW
    )
    runner.generate(prompt[:, :PROMPT], 1)
    kept = runner.positions[0][0, 0].tolist()
    assert kept == [0, 1, 2, 3, *range(PROMPT - BUDGET + 4, PROMPT)]


class NewestKept(Policy):
    """Keeps the newest `count` tokens through the threshold, so the budget never binds."""

    threshold = 0.0

    def __init__(self, count: int) -> None:
        self.count = count

    def scores(self, view: CacheView) -> torch.Tensor:
        position = torch.arange(view.end, dtype=torch.float32)
        return (position - (view.end - self.count)).expand_as(view.alive)


def newest_kept_per_layer(*counts: int) -> Callable[[], Policy]:
    """A policy factory: the policy made for layer k keeps its newest counts[k] tokens."""
    remaining = iter(counts)
    return lambda: NewestKept(next(remaining))


def test_layers_keeping_different_counts_decode_as_in_chunks(llama, prompt) -> None:
    runner = EvictingGenerator(llama, newest_kept_per_layer(5, 11), BUDGET, N_UP, PROMPT + NEW)
    generated = runner.generate(prompt, NEW)
    fed_since_eviction = (NEW - 1) % N_UP
    lengths = [layer.keys.shape[-2] - fed_since_eviction for layer in runner.cache.layers]
    assert lengths == [5, 11]
    chunked = EvictingGenerator(llama, newest_kept_per_layer(5, 11), BUDGET, N_UP, PROMPT + NEW)
    # the continuation is fed in causally masked n_up-token chunks, not token by token
    assert torch.equal(chunked.predictions(prompt, generated), generated)


def test_sdpa_model_is_refused(prompt) -> None:
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=96,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=4,
            num_key_value_heads=2,
            attn_implementation="sdpa",
        )
    )
    with pytest.raises(ValueError, match="eager"):
        EvictingGenerator(model, Policy, BUDGET, N_UP, capacity=64)


def test_teacher_forced_predictions_with_the_full_cache_are_greedy_decoding(llama, prompt) -> None:
    expected = reference_greedy(llama, prompt)
    runner = EvictingGenerator(llama, Policy, BUDGET, N_UP, capacity=PROMPT + NEW)
    assert torch.equal(runner.predictions(prompt, expected), expected)
    evicting = EvictingGenerator(
        llama, lambda: make_policy("recency", BUDGET, 0), BUDGET, N_UP, capacity=PROMPT + NEW
    )
    assert evicting.predictions(prompt, expected).shape == expected.shape
    assert max(evicting.cache_sizes) <= BUDGET


@pytest.mark.slow
def test_namm_is_evolved_on_a_hf_model_and_scored_on_held_out_prompts(llama, tmp_path) -> None:
    llama.save_pretrained(tmp_path / "llama")
    ids = torch.randint(96, (8, 32), generator=torch.Generator().manual_seed(5))
    (tmp_path / "ids.json").write_text(json.dumps(ids.tolist()))
    (tmp_path / "config.json").write_text(json.dumps({"seeds": [0, 1], "n_up": 8}))
    args = [
        "--out-dir",
        str(tmp_path / "out"),
        "--smoke",
        "--config",
        str(tmp_path / "config.json"),
    ]
    hf = ["--hf-model", str(tmp_path / "llama"), "--hf-prompts", str(tmp_path / "ids.json")]
    completed = run_pack("experiment.py", *args, *hf, "--hf-new-tokens", "8", cache=tmp_path)
    assert completed.returncode == 0, completed.stderr[-3000:]
    info = json.loads((tmp_path / "out" / "final_info.json").read_text())
    metrics, config = info["metrics"], info["config"]
    assert metrics["full_accuracy"]["values"] == [1.0]
    for name in ("recency", "h2o", "l2", "l2_inverted", "random", "namm"):
        assert 0.0 <= metrics[f"{name}_accuracy"]["mean"] <= 1.0
    budget = info["hf"]["budget_tokens"]
    assert budget == round(config["main_budget"] * 32)
    assert metrics["h2o_retained"]["mean"] <= budget / (32 + 8 - 1)
    genome = torch.tensor(info["hf"]["namm_params"]["0"])
    task = HFEvictionTask(llama, ids, 8, budget, config["n_up"])
    accuracy, _ = task.score(lambda: Namm(scorer_spec(config), genome), slice(4, None))
    # the pack ran on CUDA where there is one, this reference on the CPU
    tolerance = 0.1 if torch.cuda.is_available() else 1e-6
    assert accuracy == pytest.approx(metrics["namm_accuracy"]["values"][0], abs=tolerance)


def test_a_ragged_prompts_file_is_a_one_line_error(tmp_path) -> None:
    (tmp_path / "ids.json").write_text(json.dumps([[1, 2, 3], [4, 5]]))
    args = ["--out-dir", str(tmp_path / "out"), "--smoke", "--hf-model", str(tmp_path)]
    completed = run_pack(
        "experiment.py", *args, "--hf-prompts", str(tmp_path / "ids.json"), cache=tmp_path
    )
    assert completed.returncode == 2
    assert "one length" in completed.stderr and completed.stderr.strip().count("\n") == 0
