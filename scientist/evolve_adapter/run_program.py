"""The pack's experiment: python run_program.py --out-dir DIR [--config F] [--smoke].

Scores the program (evolve_task.json's "program", the file ideas change) with the task's
own evaluator once per seed, writes DIR/final_info.json with every number the evaluator
returned, and keeps a copy of the program in DIR, the one grade_program.py scores again.
`--smoke` evaluates the first seed only.
"""

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from evolve_task import PACK, TASK, EvaluationFailed, evaluate, seeds_of


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--config", type=Path, help="the run's overrides: its seeds")
    parser.add_argument("--smoke", action="store_true", help="evaluate the first seed only")
    args = parser.parse_args()
    seeds = seeds_of(args.config, args.smoke)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    program = args.out_dir / TASK["program"]
    shutil.copyfile(PACK / TASK["program"], program)
    started = time.time()
    try:
        per_seed = [evaluate(program, seed) for seed in seeds]
    except EvaluationFailed as exc:
        sys.exit(str(exc))
    names = sorted(set.intersection(*(set(metrics) for metrics in per_seed)))
    for seed, metrics in zip(seeds, per_seed, strict=True):
        print(f"seed {seed}: {TASK['metric']} {metrics[TASK['metric']]:.6g}", flush=True)
    info = {
        "metrics": {name: {"values": [m[name] for m in per_seed]} for name in names},
        "config": {"seeds": seeds},
        "seeds": seeds,
        "runtime_s": time.time() - started,
    }
    (args.out_dir / "final_info.json").write_text(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
