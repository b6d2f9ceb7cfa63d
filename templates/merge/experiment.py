"""Evolutionary model merging: python experiment.py --out-dir DIR [--config F] [--smoke].

Synthetic study by default (see README.md): writes final_info.json and every reported model
of each seed to DIR/models/ (grader.py scores them again from the pristine pack). With
--hf-models, merges and evolves Hugging Face causal LMs from local paths with the same
operators (see mergepack/hf.py). With --real smollm2 (or a save_pretrained folder), fine-tunes
two specialists of that model and merges them (see mergepack/real.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mergepack.grading import MODELS_DIR, aggregate, summary
from mergepack.lab import run_seed
from mergepack.settings import UsageError, load_config


def cache_dir(out_dir: Path) -> Path:
    if os.environ.get("SCIENTIST_CACHE"):
        return Path(os.environ["SCIENTIST_CACHE"])
    return out_dir.resolve().parent / ".cache"


def claimed_metrics(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The test metrics the grader measures again, plus the searches' own dev fitness."""
    dev = summary([r["dev_fitness"] for r in runs])
    return {**aggregate(runs), "dev_fitness": dev}


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
    parser.add_argument("--real", help="'smollm2' or a folder: the real-model study's base")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.time()
    try:
        cfg = load_config(args.config, args.smoke, real=args.real is not None)
        args.out_dir.mkdir(parents=True, exist_ok=True)
        if args.real:
            from mergepack.real import run_real

            final = run_real(args.real, cfg, args.out_dir, cache_dir(args.out_dir))
        elif args.hf_models:
            from mergepack.hf import run_hf

            final = run_hf(args.hf_models, args.hf_base, args.eval_fn, cfg, args.out_dir)
        else:
            cache = cache_dir(args.out_dir)
            models = args.out_dir / MODELS_DIR
            runs = [
                run_seed(cfg, seed, cache, lambda m: print(m, flush=True), models)
                for seed in cfg["seeds"]
            ]
            write_json(args.out_dir / "results.json", {"config": cfg, "runs": runs})
            final = {
                "metrics": claimed_metrics(runs),
                "best_hand": [r["best_hand"] for r in runs],
            }
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
