"""The pack's grader: python grade_program.py --run-dir DIR --config F --out-dir OUT [--smoke].

scientist runs it from the unedited pack after each successful run. It refuses the run's
copy of the program (DIR/<program>) when it was changed outside its evolve blocks, scores
it with the task's evaluator from this unedited pack, seed by seed as the run did, and
writes OUT/grade.json with the pack's metric.
"""

import argparse
import json
import sys
from pathlib import Path

from evolve_task import TASK, EvaluationFailed, check_evolve_blocks, evaluate, seeds_of


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    program = args.run_dir / TASK["program"]
    try:
        check_evolve_blocks(program)
        seeds = seeds_of(args.config, args.smoke)
        values = [evaluate(program, seed)[TASK["metric"]] for seed in seeds]
    except EvaluationFailed as exc:
        sys.exit(str(exc))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    grade = {"metrics": {TASK["metric"]: {"values": values}}}
    (args.out_dir / "grade.json").write_text(json.dumps(grade, indent=2))


if __name__ == "__main__":
    main()
