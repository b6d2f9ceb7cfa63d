"""The pack's figure: python plot_runs.py --runs RUN_DIR... --out-dir DIR.

One bar per run: the mean of the task's metric over its seeds (dots: each seed), named as
the paper's table names it (run_labels.json beside the run directories).
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from evolve_task import TASK


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", nargs="+", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    metric = TASK["metric"]
    figure, axis = plt.subplots(figsize=(4, 3))
    for position, run in enumerate(args.runs):
        values = json.loads((run / "final_info.json").read_text())["metrics"][metric]["values"]
        axis.bar(position, sum(values) / len(values), color="tab:blue", alpha=0.5)
        axis.plot([position] * len(values), values, "k.")
    labels_file = args.runs[0].parent / "run_labels.json"
    labels = json.loads(labels_file.read_text()) if labels_file.is_file() else {}
    axis.set_xticks(range(len(args.runs)), [labels.get(run.name, run.name) for run in args.runs])
    axis.set_ylabel(metric.replace("_", " "))
    figure.tight_layout()
    figure.savefig(args.out_dir / "score.pdf")
    name = metric.replace("_", " ")
    caption = f"The evaluator's {name} per run: the mean (bar) and each seed (dots)."
    (args.out_dir / "captions.json").write_text(json.dumps({"score": caption}))


if __name__ == "__main__":
    main()
