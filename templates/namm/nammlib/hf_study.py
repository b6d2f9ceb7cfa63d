"""NAMM on a Hugging Face causal LM: evolve the scorer on the model itself, then compare.

With no labelled task, the target is the model's own behaviour: the greedy continuation it
writes with its full cache. A policy's accuracy is the fraction of those continuation tokens
it still predicts (teacher-forced, top-1) while the `EvictingGenerator` shrinks every layer's
cache to the budget. CMA-ES evolves the NAMM genome on the first half of the prompts; every
policy is then scored on the held-out second half, once per seed.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import torch

from nammlib.evolve import evolve_scorer
from nammlib.hf_eviction import EvictingGenerator
from nammlib.policies import Namm, Policy, make_policy
from nammlib.study import HAND_DESIGNED, scorer_spec

HF_POLICIES = tuple(name for name in HAND_DESIGNED if name != "oracle")


class PromptsError(ValueError):
    """An unusable --hf-prompts file; reported as one line."""


def read_prompts(path: Path) -> torch.Tensor:
    """A JSON list of token-id lists, all of one length and at least two of them."""
    try:
        rows = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise PromptsError(f"cannot read --hf-prompts {path}: {exc}") from None
    valid = isinstance(rows, list) and len(rows) >= 2 and all(isinstance(r, list) for r in rows)
    if not valid or len({len(r) for r in rows}) != 1 or not rows[0]:
        raise PromptsError("--hf-prompts must hold 2 or more token-id lists of one length")
    return torch.tensor(rows, dtype=torch.long)


class HFEvictionTask:
    """Prompts, the full-cache continuations they lead to, and how to score a policy."""

    def __init__(self, model, prompts: torch.Tensor, new_tokens: int, budget: int, n_up: int):
        self.model, self.prompts, self.budget, self.n_up = model, prompts, budget, n_up
        self.capacity = prompts.shape[1] + new_tokens
        full = EvictingGenerator(model, Policy, self.capacity, n_up, self.capacity)
        self.targets = full.generate(prompts.to(model.device), new_tokens)

    def score(self, make: Callable[[], Policy], rows: slice) -> tuple[float, float]:
        """(continuation tokens predicted as with the full cache, final cache / tokens seen)."""
        runner = EvictingGenerator(self.model, make, self.budget, self.n_up, self.capacity)
        prompts = self.prompts[rows].to(self.model.device)
        predicted = runner.predictions(prompts, self.targets[rows])
        accuracy = (predicted == self.targets[rows]).float().mean().item()
        return accuracy, runner.cache_sizes[-1] / (self.capacity - 1)


def summary(values: list[float]) -> dict[str, Any]:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "std": std, "values": values}


def run_hf_study(
    model_path: str, prompts_path: Path, new_tokens: int, config: dict[str, Any]
) -> dict[str, Any]:
    """Evolve and evaluate NAMM on a local checkpoint: final_info's metrics, and the evolved
    genome of each seed (`Namm(scorer_spec(config), torch.tensor(genome))` reuses one)."""
    from transformers import AutoModelForCausalLM

    prompts = read_prompts(prompts_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, attn_implementation="eager")
    model = model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    budget = max(1, round(config["main_budget"] * prompts.shape[1]))
    task = HFEvictionTask(model, prompts, new_tokens, budget, config["n_up"])
    half = prompts.shape[0] // 2
    train, test = slice(0, half), slice(half, None)
    spec = scorer_spec(config)
    series: dict[str, list[float]] = {}
    genomes: dict[str, list[float]] = {}
    for seed in config["seeds"]:
        result = evolve_scorer(
            lambda genome: task.score(partial(Namm, spec, genome), train),
            spec,
            config,
            seed,
            f"[seed {seed}] hf namm",
        )
        genomes[str(seed)] = result.params.tolist()
        makers: dict[str, Callable[[], Policy]] = {"full": Policy}
        for name in HF_POLICIES:
            makers[name] = partial(make_policy, name, budget, seed, sinks=config["sinks"])
        makers["namm"] = partial(Namm, spec, result.params)
        for name, make in makers.items():
            accuracy, retained = task.score(make, test)
            series.setdefault(f"{name}_accuracy", []).append(accuracy)
            series.setdefault(f"{name}_retained", []).append(retained)
        shown = " ".join(f"{n} {series[f'{n}_accuracy'][-1]:.3f}" for n in makers)
        print(f"[seed {seed}] held-out agreement with the full cache: {shown}", flush=True)
    metrics = {name: summary(values) for name, values in series.items()}
    return {"metrics": metrics, "namm_params": genomes, "budget_tokens": budget}
