"""Evolutionary model merging: python experiment.py --out-dir DIR [--config F] [--smoke].

Synthetic study by default (see README.md); with --hf-models, merges and evolves Hugging Face
causal LMs from local paths with the same operators (see mergepack/hf.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mergepack.lab import HAND_SET, SEARCHES, run_seed
from mergepack.merging import METHODS

DEFAULTS: dict[str, Any] = {
    "method": "ps",
    "ps_operator": "task_arithmetic",
    "population": 12,
    "generations": 40,
    "dfs_generations": 15,
    "dfs_repeats": 2,
    "weight_low": -0.5,
    "weight_high": 2.0,
    "density_low": 0.1,
    "density_high": 1.0,
    "hand_weight": 1.0,
    "hand_density": 0.5,
    "soft_weight": 0.5,
    "seeds": [0, 1, 2],
    "digits": 3,
    "d_model": 64,
    "n_layers": 2,
    "n_heads": 4,
    "pretrain_steps": 1500,
    "finetune_steps": 200,
    "batch_size": 64,
    "lr": 3e-3,
    "finetune_lr": 1e-3,
    "dev_size": 256,
    "test_size": 512,
}
SMOKE = {
    "seeds": [0],
    "pretrain_steps": 150,
    "finetune_steps": 30,
    "population": 6,
    "generations": 3,
    "dfs_generations": 2,
    "dev_size": 64,
    "test_size": 128,
}
CHOICES = {
    "method": (*SEARCHES, *METHODS),
    "ps_operator": ("task_arithmetic", "ties", "dare_ties", "dare_linear"),
}


class UsageError(Exception):
    """A bad command line or configuration: reported on one line, exit code 2."""


def load_config(path: Path | None, smoke: bool) -> dict[str, Any]:
    cfg = dict(DEFAULTS)
    if smoke:
        cfg.update(SMOKE)
    if path is None:
        return cfg
    try:
        overrides = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read config {path}: {exc}") from None
    if not isinstance(overrides, dict):
        raise UsageError(f"config {path} must be a JSON object of knob -> value")
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise UsageError(f"unknown config keys {unknown}; known: {sorted(DEFAULTS)}")
    for key, value in overrides.items():
        default = DEFAULTS[key]
        numeric = isinstance(default, float) and isinstance(value, int | float)
        if not numeric and (isinstance(value, bool) or not isinstance(value, type(default))):
            raise UsageError(f"config key '{key}' must be {type(default).__name__}, got {value!r}")
        cfg[key] = value
    return validate(cfg)


def validate(cfg: dict[str, Any]) -> dict[str, Any]:
    for key, allowed in CHOICES.items():
        if cfg[key] not in allowed:
            raise UsageError(f"'{key}' must be one of {list(allowed)}, got {cfg[key]!r}")
    if cfg["method"] == "slerp":
        raise UsageError("slerp is a two-model operator without a base; use it via mergepack")
    if not cfg["seeds"] or not all(isinstance(s, int) for s in cfg["seeds"]):
        raise UsageError("'seeds' must be a non-empty list of integers")
    if not cfg["weight_low"] < cfg["weight_high"]:
        raise UsageError("weight_low must be below weight_high")
    if not 0 < cfg["density_low"] <= cfg["density_high"] <= 1:
        raise UsageError("densities need 0 < density_low <= density_high <= 1")
    for key in (
        "population",
        "generations",
        "dfs_generations",
        "dfs_repeats",
        "digits",
        "n_layers",
        "pretrain_steps",
        "finetune_steps",
        "batch_size",
        "dev_size",
        "test_size",
        "n_heads",
        "d_model",
    ):
        if cfg[key] < 1:
            raise UsageError(f"'{key}' must be >= 1")
    if cfg["d_model"] % cfg["n_heads"]:
        raise UsageError("d_model must be divisible by n_heads")
    return cfg


def cache_dir(out_dir: Path) -> Path:
    if os.environ.get("SCIENTIST_CACHE"):
        return Path(os.environ["SCIENTIST_CACHE"])
    return out_dir.resolve().parent / ".cache"


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values)),
        "values": [float(v) for v in values],
    }


def aggregate(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    def pick(model: str, skill: str) -> list[float]:
        return [r["models"][model][skill] for r in runs]

    metrics = {
        "target_accuracy": summary(pick("evolved", "C")),
        "skill_a_accuracy": summary(pick("evolved", "A")),
        "skill_b_accuracy": summary(pick("evolved", "B")),
        "target_accuracy_source_a": summary(pick("A", "C")),
        "target_accuracy_source_b": summary(pick("B", "C")),
        "target_accuracy_best_hand": summary([r["models"][r["best_hand"]]["C"] for r in runs]),
        "dev_fitness": summary([r["dev_fitness"] for r in runs]),
    }
    for method in HAND_SET:
        metrics[f"target_accuracy_{method}"] = summary(pick(method, "C"))
    best = metrics["target_accuracy"]["values"]
    rivals = [max(r["models"][m]["C"] for m in ("A", "B", r["best_hand"])) for r in runs]
    metrics["gain_over_best_rival"] = summary([b - r for b, r in zip(best, rivals, strict=True)])
    return metrics


def write_json(path: Path, payload: dict[str, Any]) -> None:
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(payload, indent=2))
    partial.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--hf-models", nargs="+", help="local paths of the source models")
    parser.add_argument("--hf-base", help="local path of the shared base model")
    parser.add_argument("--eval", dest="eval_fn", help="module:function scoring a model")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.time()
    try:
        cfg = load_config(args.config, args.smoke)
        args.out_dir.mkdir(parents=True, exist_ok=True)
        if args.hf_models:
            from mergepack.hf import run_hf

            final = run_hf(args.hf_models, args.hf_base, args.eval_fn, cfg, args.out_dir)
        else:
            cache = cache_dir(args.out_dir)
            runs = [
                run_seed(cfg, seed, cache, lambda m: print(m, flush=True)) for seed in cfg["seeds"]
            ]
            write_json(args.out_dir / "results.json", {"config": cfg, "runs": runs})
            final = {"metrics": aggregate(runs), "best_hand": [r["best_hand"] for r in runs]}
        final.update(config=cfg, seeds=cfg["seeds"], runtime_s=time.time() - started)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_json(args.out_dir / "final_info.json", final)
    target = final["metrics"]["target_accuracy"]
    print(
        f"target_accuracy {target['mean']:.3f} +- {target['std']:.3f} "
        f"({time.time() - started:.1f}s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
