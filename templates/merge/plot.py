"""Figures for merge runs: python plot.py --runs DIR... --out-dir DIR (PNG + PDF each).

Runs are named as the paper's table names them (run_labels.json beside the run folders).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

MODELS = ("A", "B", "linear", "task_arithmetic", "ties", "dare_ties", "evolved")
SKILLS = {
    "A": "skill A (add, lang 1)",
    "B": "skill B (translate 1->2)",
    "C": "target (add, lang 2)",
}


def load(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "results.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run experiment.py first")
    return json.loads(path.read_text())


def save(fig: plt.Figure, out_dir: Path, name: str) -> None:
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(out_dir / f"{name}.{ext}", dpi=150)
    plt.close(fig)


def plot_fitness(runs: dict[str, dict], out_dir: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, data in runs.items():
        for run in data["runs"]:
            for stage, history in run["history"].items():
                if history:
                    gens = [h["generation"] for h in history]
                    ax.plot(
                        gens,
                        [h["best_so_far"] for h in history],
                        label=f"{label} {stage} seed {run['seed']}",
                    )
    ax.set_xlabel("generation")
    ax.set_ylabel("dev fitness (best so far)")
    ax.legend(fontsize=6)
    save(fig, out_dir, "fitness")


def plot_accuracy(runs: dict[str, dict], out_dir: Path) -> None:
    fig, axes = plt.subplots(1, len(runs), figsize=(6 * len(runs), 3.5), squeeze=False)
    for ax, (label, data) in zip(axes[0], runs.items(), strict=True):
        names = [m for m in MODELS if m in data["runs"][0]["models"]]
        x = np.arange(len(names))
        for k, skill in enumerate(SKILLS):
            values = np.array([[r["models"][m][skill] for m in names] for r in data["runs"]])
            ax.bar(
                x + (k - 1) * 0.27, values.mean(0), 0.27, yerr=values.std(0), label=SKILLS[skill]
            )
        ax.set_xticks(x, names, rotation=30, fontsize=7)
        ax.set_ylabel("test exact match")
        ax.set_title(label, fontsize=8)
        ax.legend(fontsize=6)
    save(fig, out_dir, "accuracy")


def plot_recipe(runs: dict[str, dict], out_dir: Path) -> None:
    recipes = [(label, r) for label, d in runs.items() for r in d["runs"] if "recipe" in r]
    if not recipes:
        return
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for label, run in recipes:
        recipe = run["recipe"]
        groups = recipe["groups"]
        for k, source in enumerate(("A", "B")):
            style = "-o" if k == 0 else "--s"
            axes[0].plot(
                groups,
                [recipe["weights"][g][k] for g in groups],
                style,
                label=f"{label} seed {run['seed']} {source}",
            )
            if recipe["densities"]:
                axes[1].plot(groups, [recipe["densities"][g][k] for g in groups], style)
    axes[0].set_ylabel("evolved weight")
    axes[1].set_ylabel("evolved density")
    axes[0].legend(fontsize=6)
    save(fig, out_dir, "recipe")


def plot_paths(runs: dict[str, dict], out_dir: Path) -> None:
    paths = [
        (f"{label} s{r['seed']}", r["path"])
        for label, d in runs.items()
        for r in d["runs"]
        if "path" in r
    ]
    if not paths:
        return
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(paths) + 1))
    for row, (_, path) in enumerate(paths):
        for step, (layer, scale) in enumerate(zip(path["path"], path["scales"], strict=True)):
            ax.text(
                step,
                row,
                f"{layer}\n×{scale:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                bbox={"boxstyle": "round", "fc": "#dde"},
            )
    ax.set_yticks(range(len(paths)), [p[0] for p in paths], fontsize=7)
    ax.set_xlim(-0.5, max(len(p[1]["path"]) for p in paths) + 0.5)
    ax.set_ylim(-0.5, len(paths) - 0.5)
    ax.set_xlabel("position in the evolved layer path")
    save(fig, out_dir, "layer_path")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", nargs="+", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        labels_file = args.runs[0].parent / "run_labels.json"
        labels = json.loads(labels_file.read_text()) if labels_file.is_file() else {}
        runs = {labels.get(d.name, d.name): load(d) for d in args.runs}
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)
    plot_fitness(runs, args.out_dir)
    plot_accuracy(runs, args.out_dir)
    plot_recipe(runs, args.out_dir)
    plot_paths(runs, args.out_dir)
    print(f"figures written to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
