"""The pack's grader: python grader.py --run-dir DIR --config F --out-dir OUT [--smoke].

scientist runs it from the unedited pack after each successful run, with the run's outputs
in DIR (read-only) and the run's overrides in F. It scores the models the run saved
(DIR/weights.json) on the held-out data of heldout.py and writes OUT/grade.json, in the
schema of final_info.json's metrics. The experiment's own numbers must agree with it.
"""

import argparse
import json
from pathlib import Path

from heldout import test_r2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    seeds = json.loads(args.config.read_text())["seeds"]
    saved = json.loads((args.run_dir / "weights.json").read_text())
    values = [test_r2(saved[str(seed)], seed) for seed in seeds]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    grade = {"metrics": {"test_r2": {"values": values}}}
    (args.out_dir / "grade.json").write_text(json.dumps(grade, indent=2))


if __name__ == "__main__":
    main()
