"""The namm pack's grader: python grader.py --run-dir DIR --config F --out-dir OUT [--smoke].

Runs from the pristine pack, never an idea's edited copy. For each seed it trains the recall
model (or loads it from the grader's own cache), loads the evolved scorers the run saved in
DIR/scorers/, evaluates every policy under the evicting inference at every budget on the
held-out test prompts (`nammlib.grading`, a seed stream neither training nor evolution uses)
and writes OUT/grade.json: the accuracy and retention metrics in final_info.json's schema.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nammlib.grading import (
    SCORERS_DIR,
    evaluate_seed,
    graded_metrics,
    load_scorers,
    test_prompts,
    trained_model,
)
from nammlib.settings import SettingsError, grading_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True, help="the run's outputs")
    parser.add_argument("--config", type=Path, required=True, help="the run's overrides")
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    try:
        overrides = json.loads(args.config.read_text())
        if not isinstance(overrides, dict):
            raise SettingsError("--config must hold a JSON object of knob -> value")
        config = grading_config(overrides, args.smoke)
    except (OSError, json.JSONDecodeError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    folder = args.run_dir / SCORERS_DIR
    missing = [s for s in config["seeds"] if not (folder / f"seed_{s}.json").is_file()]
    if missing:
        print(f"error: the run saved no scorers for seeds {missing} in {folder}", file=sys.stderr)
        return 1
    cache = Path(os.environ.get("SCIENTIST_CACHE", args.out_dir.resolve().parent)) / "namm"
    per_seed = []
    for seed in config["seeds"]:
        model = trained_model(config, config["n_layers"], seed, cache)
        scorers = load_scorers(folder, seed)
        per_seed.append(evaluate_seed(config, seed, model, test_prompts(config, seed), scorers))
    metrics = graded_metrics(config, per_seed)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    grade = {"metrics": metrics, "seeds": config["seeds"]}
    (args.out_dir / "grade.json").write_text(json.dumps(grade, indent=2))
    print(f"graded namm_accuracy {metrics['namm_accuracy']['values']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
