"""Figures for the NAMM pack: python plot.py --runs DIR... --out-dir DIR

accuracy_vs_budget: recall accuracy per policy against cache budget (mean, std over seeds);
evolution: CMA-ES best and mean fitness over generations; kept_tokens: which context tokens
NAMM kept per (layer, head) on one held-out prompt, with the needed pair tokens marked.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

CEILINGS = {"full": "k--", "oracle": "k:"}


def save(figure: plt.Figure, out_dir: Path, stem: str) -> None:
    figure.tight_layout()
    for suffix in ("png", "pdf"):
        figure.savefig(out_dir / f"{stem}.{suffix}", dpi=150)
    plt.close(figure)


def accuracy_vs_budget(runs: list[dict], out_dir: Path, stem: str) -> None:
    figure, axis = plt.subplots(figsize=(5.5, 4))
    seeds = runs[0]["seeds"]
    fractions = sorted(seeds[0]["budgets"], key=float)
    learned_and_heuristic = [p for p in seeds[0]["budgets"][fractions[0]] if p not in CEILINGS]
    for index, policy in enumerate([*CEILINGS, *learned_and_heuristic]):
        style = CEILINGS.get(policy, f"C{index % 10}o-")
        values = np.array([[s["budgets"][f][policy]["accuracy"] for f in fractions] for s in seeds])
        x = [float(f) for f in fractions]
        axis.errorbar(
            x,
            values.mean(0),
            yerr=values.std(0),
            fmt=style,
            label=policy,
            capsize=3,
            markersize=4,
        )
    axis.set_xscale("log", base=2)
    axis.set_xlabel("cache budget (fraction of the context)")
    axis.set_ylabel("recall accuracy (held-out prompts)")
    axis.legend(fontsize=7, ncol=2)
    save(figure, out_dir, stem)


def evolution(runs: list[dict], out_dir: Path, stem: str) -> None:
    figure, axis = plt.subplots(figsize=(5.5, 4))
    for index, seed in enumerate(runs[0]["seeds"]):
        for variant, history in seed["evolution"].items():
            generations = [h["generation"] for h in history]
            label = f"{variant} seed {seed['seed']}"
            axis.plot(
                generations,
                [h["best_so_far"] for h in history],
                f"C{index}-",
                label=label,
                alpha=1.0 if variant == "namm" else 0.4,
            )
            axis.plot(generations, [h["mean"] for h in history], f"C{index}:", alpha=0.5)
    axis.set_xlabel("CMA-ES generation")
    axis.set_ylabel("training recall accuracy (solid: best so far, dotted: mean)")
    axis.legend(fontsize=6)
    save(figure, out_dir, stem)


def kept_tokens(runs: list[dict], out_dir: Path, stem: str) -> None:
    example = runs[0]["seeds"][0]["example"]
    keep = np.array(example["keep"], dtype=float)  # (L, H, context)
    rows = keep.reshape(-1, keep.shape[-1])
    figure, axis = plt.subplots(figsize=(7, 0.35 * len(rows) + 1.2))
    axis.imshow(rows, aspect="auto", cmap="Greys", interpolation="nearest", vmin=0, vmax=1)
    for key, value in example["pair_positions"]:
        axis.axvline(key, color="C0", lw=0.6, alpha=0.6)
        axis.axvline(value, color="C3", lw=0.6, alpha=0.8)
    labels = [
        f"L{layer} H{head}" for layer in range(keep.shape[0]) for head in range(keep.shape[1])
    ]
    axis.set_yticks(range(len(rows)), labels)
    axis.set_xlabel("context position (black: kept; blue: pair key, red: pair value)")
    save(figure, out_dir, stem)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="plot NAMM pack results")
    parser.add_argument("--runs", type=Path, nargs="+", required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    runs = []
    for run in args.runs:
        path = run / "results.json"
        if not path.is_file():
            print(f"error: {path} not found (run experiment.py first)", file=sys.stderr)
            return 2
        runs.append(json.loads(path.read_text()))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for index, run in enumerate(runs):
        suffix = "" if len(runs) == 1 else f"_{args.runs[index].name}"
        accuracy_vs_budget([run], args.out_dir, f"accuracy_vs_budget{suffix}")
        evolution([run], args.out_dir, f"evolution{suffix}")
        kept_tokens([run], args.out_dir, f"kept_tokens{suffix}")
    print(f"figures written to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
