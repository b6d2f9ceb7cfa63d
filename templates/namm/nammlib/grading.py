"""The pack's held-out evaluation: test prompts, every policy at every budget, the metrics.

Test prompts come from their own seed stream (`TEST_STREAM` + seed), which neither training
nor evolution uses. experiment.py reports its claim with `evaluate_seed` and saves each
seed's evolved scorers (`save_scorers`); grader.py, run from the pristine pack, trains (or
loads from its own cache) the same model, loads those scorers and evaluates them again with
the same function. This module is protected: the code model may read it, never edit it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from nammlib.inference import EpisodeResult, run_episode
from nammlib.policies import Namm, Policy, make_policy
from nammlib.scorer import ScorerSpec
from nammlib.world import (
    Batch,
    ModelSpec,
    RecallLM,
    TrainSpec,
    WorldSpec,
    load_or_train,
    make_batch,
)

HAND_DESIGNED = ("recency", "h2o", "l2", "l2_inverted", "random", "oracle")
TEST_STREAM = 20_000
SCORERS_DIR = "scorers"

Scorers = dict[str, tuple[ScorerSpec, torch.Tensor]]


def world_of(config: dict[str, Any]) -> WorldSpec:
    return WorldSpec(context=config["context"], n_pairs=config["n_pairs"])


def budget_tokens(config: dict[str, Any]) -> dict[float, int]:
    return {b: max(1, round(b * config["context"])) for b in config["budgets"]}


def trained_model(config: dict[str, Any], n_layers: int, seed: int, cache_dir: Path) -> RecallLM:
    spec = ModelSpec(config["d_model"], n_layers, config["n_heads"], config["qk_norm"])
    train = TrainSpec(steps=config["train_steps"])
    return load_or_train(world_of(config), spec, train, seed, cache_dir)


def test_prompts(config: dict[str, Any], seed: int) -> Batch:
    """The held-out test prompts of `seed`."""
    generator = torch.Generator().manual_seed(TEST_STREAM + seed)
    return make_batch(world_of(config), config["test_prompts"], generator)


def row(result: EpisodeResult) -> dict[str, float]:
    tokens = result.keep_mask.shape[0] * (result.keep_mask.shape[-1])
    return {
        "accuracy": result.accuracy.mean().item(),
        "retained": result.retained,
        "us_per_token": 1e6 * result.seconds / tokens,
        "eviction_us_per_token": 1e6 * result.eviction_seconds / tokens,
    }


def evaluate_seed(
    config: dict[str, Any], seed: int, model: RecallLM, test: Batch, scorers: Scorers
) -> dict[str, Any]:
    """Every policy at every budget on the test prompts (`budgets`: fraction -> policy ->
    row), and the main NAMM with the whole context as its budget (`namm_adaptive`)."""

    def evaluate(policy: Policy, budget: int) -> dict[str, float]:
        return row(run_episode(model, test, policy, budget, config["n_up"]))

    table: dict[str, dict[str, dict[str, float]]] = {}
    full = evaluate(Policy(), config["context"])
    for fraction, budget in budget_tokens(config).items():
        rows = {"full": full}
        for name in HAND_DESIGNED:
            rows[name] = evaluate(make_policy(name, budget, seed, sinks=config["sinks"]), budget)
        for name, (spec, params) in scorers.items():
            rows[name] = evaluate(Namm(spec, params), budget)
        table[f"{fraction:g}"] = rows
    spec, params = scorers["namm"]
    return {"budgets": table, "namm_adaptive": evaluate(Namm(spec, params), config["context"])}


def graded_metrics(config: dict[str, Any], per_seed: list[dict[str, Any]]) -> dict[str, Any]:
    """The accuracy and retention metrics over seeds: <policy>_accuracy (main budget),
    <policy>_accuracy_b<pct>, <policy>_retained[_b<pct>], namm_adaptive_*."""
    series: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        series.setdefault(name, []).append(value)

    main = f"{config['main_budget']:g}"
    for seed in per_seed:
        for fraction, rows in seed["budgets"].items():
            pct = round(float(fraction) * 100)
            for policy, values in rows.items():
                add(f"{policy}_accuracy_b{pct}", values["accuracy"])
                add(f"{policy}_retained_b{pct}", values["retained"])
                if fraction == main:
                    add(f"{policy}_accuracy", values["accuracy"])
                    add(f"{policy}_retained", values["retained"])
        add("namm_adaptive_accuracy", seed["namm_adaptive"]["accuracy"])
        add("namm_adaptive_retained", seed["namm_adaptive"]["retained"])
    return {name: {"values": values} for name, values in series.items()}


def save_scorers(folder: Path, seed: int, scorers: Scorers) -> None:
    """Each evolved scorer of `seed` (its spec and flat parameters) for the grader."""
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        name: {"spec": asdict(spec), "params": params.tolist()}
        for name, (spec, params) in scorers.items()
    }
    (folder / f"seed_{seed}.json").write_text(json.dumps(payload))


def load_scorers(folder: Path, seed: int) -> Scorers:
    payload = json.loads((folder / f"seed_{seed}.json").read_text())
    return {
        name: (ScorerSpec(**saved["spec"]), torch.tensor(saved["params"], dtype=torch.float32))
        for name, saved in payload.items()
    }
