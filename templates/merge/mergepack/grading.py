"""The pack's held-out evaluation: test items, scoring, saved models and metrics.

Test problems come from their own seed stream (`TEST_STREAM` + seed, ids = 4 mod 8), which
no training and no search uses. experiment.py reports its claim with these functions and
saves every model it reports (`save_models`); grader.py, run from the pristine pack, loads
those models and scores them again with the same functions (`grade_seed`). This module is
protected: the code model may read it, never edit it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from mergepack.model import ModelConfig, TinyLM, forward_path, score
from mergepack.world import Batch, World

SKILLS = {"A": "add_l1", "B": "tr_12", "C": "add_l2"}
HAND_SET = ("linear", "task_arithmetic", "ties", "dare_ties")
TEST_STREAM = 2000
MODELS_DIR = "models"

StateDict = dict[str, torch.Tensor]


def test_batches(world: World, test_size: int, seed: int) -> dict[str, Batch]:
    """The held-out test batch of every skill for `seed`."""
    return {
        skill: world.eval_batch(task, "test", test_size, TEST_STREAM + seed)
        for skill, task in SKILLS.items()
    }


@torch.no_grad()
def state_accuracy(
    model_cfg: ModelConfig, state: StateDict, batches: dict[str, Batch]
) -> dict[str, float]:
    """Exact-match accuracy of the model `state` on each skill's batch."""
    model = TinyLM(model_cfg).eval()
    model.load_state_dict(state)
    return {skill: score(model(batch.tokens), batch)[0] for skill, batch in batches.items()}


@torch.no_grad()
def path_accuracy(
    model_cfg: ModelConfig,
    pool: list[StateDict],
    path: list[int],
    scales: list[float],
    batches: dict[str, Batch],
) -> dict[str, float]:
    """Exact-match accuracy of a layer path through the blocks of `pool` (pool[0] gives the
    embedding and the head; step p is block p % n_layers of model p // n_layers)."""
    models = []
    for state in pool:
        model = TinyLM(model_cfg).eval()
        model.load_state_dict(state)
        models.append(model)
    blocks = [block for model in models for block in model.blocks]
    layers = [blocks[p] for p in path]
    return {
        skill: score(forward_path(models[0], layers, scales, batch.tokens), batch)[0]
        for skill, batch in batches.items()
    }


def save_models(
    folder: Path,
    seed: int,
    model_cfg: ModelConfig,
    states: dict[str, StateDict],
    evolved: dict[str, Any],
) -> Path:
    """Save the reported models of `seed`: named state dicts (base, A, B, the hand-set
    merges, ...) and the evolved model, either `{"state": name}` or `{"path": {"pool":
    [names], "steps": [...], "scales": [...]}}`."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"seed_{seed}.pt"
    payload = {"model_cfg": model_cfg.as_dict(), "states": states, "evolved": evolved}
    torch.save(payload, target)
    return target


def grade_seed(folder: Path, seed: int, world: World, test_size: int) -> dict[str, Any]:
    """Score the saved models of `seed` on the held-out test batches: the per-model rows
    `aggregate` reads (`models`, `best_hand`)."""
    payload = torch.load(folder / f"seed_{seed}.pt", weights_only=True)
    model_cfg = ModelConfig(**payload["model_cfg"])
    states: dict[str, StateDict] = payload["states"]
    batches = test_batches(world, test_size, seed)
    target = {"C": batches["C"]}  # the metrics read only the target skill of the others
    models = {
        name: state_accuracy(model_cfg, states[name], target)
        for name in ("base", "A", "B", *HAND_SET)
    }
    evolved = payload["evolved"]
    if "state" in evolved:
        models["evolved"] = state_accuracy(model_cfg, states[evolved["state"]], batches)
    else:
        path = evolved["path"]
        pool = [states[name] for name in path["pool"]]
        models["evolved"] = path_accuracy(model_cfg, pool, path["steps"], path["scales"], batches)
    return {"models": models, "best_hand": best_hand(models)}


def best_hand(models: dict[str, dict[str, float]]) -> str:
    return max(HAND_SET, key=lambda method: models[method]["C"])


def summary(values: list[float]) -> dict[str, Any]:
    """Mean, sample standard deviation (ddof=1; 0 for one value) and the per-seed values."""
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
        "values": [float(v) for v in values],
    }


def aggregate(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The pack's test metrics over seeds, from each seed's `models` and `best_hand`."""

    def pick(model: str, skill: str) -> list[float]:
        return [r["models"][model][skill] for r in runs]

    metrics = {
        "target_accuracy": summary(pick("evolved", "C")),
        "skill_a_accuracy": summary(pick("evolved", "A")),
        "skill_b_accuracy": summary(pick("evolved", "B")),
        "target_accuracy_source_a": summary(pick("A", "C")),
        "target_accuracy_source_b": summary(pick("B", "C")),
        "target_accuracy_base": summary(pick("base", "C")),
        "target_accuracy_best_hand": summary([r["models"][r["best_hand"]]["C"] for r in runs]),
    }
    for method in HAND_SET:
        metrics[f"target_accuracy_{method}"] = summary(pick(method, "C"))
    best = metrics["target_accuracy"]["values"]
    rivals = [max(r["models"][m]["C"] for m in ("A", "B", r["best_hand"])) for r in runs]
    metrics["gain_over_best_rival"] = summary([b - r for b, r in zip(best, rivals, strict=True)])
    return metrics
