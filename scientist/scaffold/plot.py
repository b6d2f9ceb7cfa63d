"""The pack's figures: `python plot.py --runs RUN_DIR... --out-dir DIR`.

Each run directory holds the final_info.json its experiment wrote; every PNG or PDF
written to --out-dir becomes a figure of the paper (captions.json there may caption them).
run_labels.json beside the run directories names each run as the paper's table does
("Baseline", "Run 1", ...).
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", nargs="+", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    figure, axis = plt.subplots(figsize=(4, 3))
    for position, run in enumerate(args.runs):
        values = json.loads((run / "final_info.json").read_text())["metrics"]["test_r2"]["values"]
        axis.bar(position, sum(values) / len(values), color="tab:blue", alpha=0.5)
        axis.plot([position] * len(values), values, "k.")
    labels_file = args.runs[0].parent / "run_labels.json"
    labels = json.loads(labels_file.read_text()) if labels_file.is_file() else {}
    axis.set_xticks(range(len(args.runs)), [labels.get(run.name, run.name) for run in args.runs])
    axis.set_ylabel("test R$^2$")
    figure.tight_layout()
    figure.savefig(args.out_dir / "test_r2.pdf")
    captions = {"test_r2": "Held-out R$^2$ per run: the mean (bar) and each seed (dots)."}
    (args.out_dir / "captions.json").write_text(json.dumps(captions))


if __name__ == "__main__":
    main()
