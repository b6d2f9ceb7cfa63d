"""The pack's grader: python grader.py --run-dir DIR --config F --out-dir OUT [--smoke].

scientist runs it from the unedited pack after each successful run, with the run's outputs
in DIR (read-only) and its overrides in F. It checks each seed's packing in
DIR/packings.json by the rules of packing_check.py and writes OUT/grade.json with the sum of
radii per seed. A packing that breaks a rule is scored invalid: the grader names the first
broken rule and exits with an error, and the run fails.
"""

import argparse
import json
import sys
from pathlib import Path

from packing_check import TOLERANCE, sum_of_radii, violations


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    seeds = json.loads(args.config.read_text())["seeds"]
    packings = json.loads((args.run_dir / "packings.json").read_text())
    values = []
    for seed in seeds:
        packing = packings[str(seed)]
        broken = violations(packing["centers"], packing["radii"])
        if broken:
            sys.exit(
                f"invalid packing (seed {seed}): {broken[0]} (tolerance {TOLERANCE:g}; "
                f"{len(broken)} rule(s) broken)"
            )
        values.append(sum_of_radii(packing["radii"]))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    grade = {"metrics": {"sum_radii": {"values": values}}}
    (args.out_dir / "grade.json").write_text(json.dumps(grade, indent=2))


if __name__ == "__main__":
    main()
