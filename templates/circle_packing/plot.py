"""The pack's figures: python plot.py --runs RUN_DIR... --out-dir DIR.

Each run directory holds the final_info.json and packings.json its experiment wrote;
run_labels.json beside them names each run as the paper's table does. Two figures: each
run's best packing, and the sum of radii of every seed of every run.
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Circle, Rectangle

RECORDS = {"AlphaEvolve": 2.635, "ShinkaEvolve": 2.63598}


def run_label(run: Path) -> str:
    labels_file = run.parent / "run_labels.json"
    labels = json.loads(labels_file.read_text()) if labels_file.is_file() else {}
    return labels.get(run.name, run.name)


def draw_packings(runs: list[Path], out_dir: Path) -> None:
    figure, axes = plt.subplots(1, len(runs), figsize=(2.4 * len(runs), 2.6), squeeze=False)
    for axis, run in zip(axes[0], runs, strict=True):
        packings = json.loads((run / "packings.json").read_text()).values()
        best = max(packings, key=lambda packing: sum(packing["radii"]))
        axis.add_patch(Rectangle((0, 0), 1, 1, fill=False, color="black"))
        for (x, y), r in zip(best["centers"], best["radii"], strict=True):
            axis.add_patch(Circle((x, y), r, alpha=0.5, color="tab:blue"))
        axis.set(xlim=(0, 1), ylim=(0, 1), aspect="equal", xticks=[], yticks=[])
        axis.set_title(f"{run_label(run)}: {sum(best['radii']):.4f}", fontsize=9)
    figure.tight_layout()
    figure.savefig(out_dir / "packings.pdf")


def draw_scores(runs: list[Path], out_dir: Path) -> None:
    figure, axis = plt.subplots(figsize=(4, 3))
    per_run = [
        json.loads((run / "final_info.json").read_text())["metrics"]["sum_radii"]["values"]
        for run in runs
    ]
    for position, values in enumerate(per_run):
        axis.plot([position] * len(values), values, "k.")
        axis.bar(position, sum(values) / len(values), color="tab:blue", alpha=0.5)
    for (name, value), style in zip(RECORDS.items(), ("--", ":"), strict=True):
        axis.axhline(value, color="tab:red", linestyle=style, label=f"{name} {value}")
    lowest = min(min(values) for values in per_run)
    axis.set_ylim(max(0.0, lowest - 0.02), 2.645)
    axis.set_xticks(range(len(runs)), [run_label(run) for run in runs])
    axis.set_ylabel("sum of radii")
    axis.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    figure.savefig(out_dir / "sum_radii.pdf")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", nargs="+", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    draw_packings(args.runs, args.out_dir)
    draw_scores(args.runs, args.out_dir)
    captions = {
        "packings": "The best packing of each run (its seed with the largest sum of radii).",
        "sum_radii": "Sum of radii per run: the mean (bar) and each seed (dots); red lines: "
        "the published records.",
    }
    (args.out_dir / "captions.json").write_text(json.dumps(captions))


if __name__ == "__main__":
    main()
