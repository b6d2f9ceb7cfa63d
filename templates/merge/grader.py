"""The merge pack's grader: python grader.py --run-dir DIR --config F --out-dir OUT [--smoke].

Runs from the pristine pack, never an idea's edited copy. Loads each seed's saved models
from DIR/models/ (written by experiment.py), scores them on the held-out test items
(`mergepack.grading`, a seed stream no training or search uses) and writes OUT/grade.json:
the pack's test metrics in final_info.json's schema.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mergepack.grading import MODELS_DIR, aggregate, grade_seed
from mergepack.settings import UsageError, grading_config
from mergepack.world import World


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True, help="the run's outputs")
    parser.add_argument("--config", type=Path, required=True, help="the run's overrides")
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    try:
        cfg = grading_config(args.config, args.smoke)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    folder = args.run_dir / MODELS_DIR
    missing = [s for s in cfg["seeds"] if not (folder / f"seed_{s}.pt").is_file()]
    if missing:
        print(f"error: the run saved no models for seeds {missing} in {folder}", file=sys.stderr)
        return 1
    world = World(cfg["digits"])
    seeds = [grade_seed(folder, seed, world, cfg["test_size"]) for seed in cfg["seeds"]]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    grade = {"metrics": aggregate(seeds), "seeds": cfg["seeds"]}
    (args.out_dir / "grade.json").write_text(json.dumps(grade, indent=2))
    target = grade["metrics"]["target_accuracy"]
    print(f"graded target_accuracy {target['mean']:.3f} over seeds {cfg['seeds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
