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

from mergepack.lab import HAND_SET, run_seed
from mergepack.settings import UsageError, load_config


def cache_dir(out_dir: Path) -> Path:
    if os.environ.get("SCIENTIST_CACHE"):
        return Path(os.environ["SCIENTIST_CACHE"])
    return out_dir.resolve().parent / ".cache"


def summary(values: list[float]) -> dict[str, Any]:
    """Mean, sample standard deviation (ddof=1; 0 for one value) and the per-seed values."""
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
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
        "target_accuracy_base": summary(pick("base", "C")),
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
