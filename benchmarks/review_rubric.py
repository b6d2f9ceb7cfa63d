"""How well the rubric reviewer's decision tracks a run's true effect, by number of seeds.

Simulates ideas whose true improvement over a baseline (mean 0.70) is drawn uniformly from
[-0.05, 0.10]; each seed adds Gaussian noise. Ground truth: accept iff the true improvement
is at least 0.02 (about 3 % relative). The rubric sees only the per-seed values, as it would
in a campaign, with a clean compiled paper. Prints agreement metrics and the time per review.

    python benchmarks/review_rubric.py [--ideas 400] [--noise 0.02]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from machine import describe

from scientist.models import ExperimentRun, FinalInfo, MetricSummary, Paper, RunResult
from scientist.review.evidence import gather_evidence
from scientist.review.metrics import decision_metrics
from scientist.review.rubric import review_evidence

BASELINE_MEAN = 0.70
TRUE_EFFECT_RANGE = (-0.05, 0.10)
MEANINGFUL = 0.02


def run(index: int, values: np.ndarray, root: Path) -> ExperimentRun:
    info = FinalInfo(
        metrics={"accuracy": MetricSummary(mean=float(values.mean()), values=values.tolist())},
        seeds=list(range(len(values))),
        runtime_s=1.0,
    )
    return ExperimentRun(
        idea_id="sim",
        index=index,
        result=RunResult(exit_code=0, status="ok"),
        final_info=info,
        run_dir=root / f"run_{index}",
        overrides={"knob": index},
    )


def simulate(seeds: int, ideas: int, noise: float, paper: Paper, root: Path) -> dict:
    rng = np.random.default_rng(seeds)
    truth, predicted, scores, elapsed = [], [], [], 0.0
    for _ in range(ideas):
        effect = rng.uniform(*TRUE_EFFECT_RANGE)
        baseline = run(0, BASELINE_MEAN + noise * rng.standard_normal(seeds), root)
        runs = [
            run(1, BASELINE_MEAN + effect + noise * rng.standard_normal(seeds), root),
            run(2, BASELINE_MEAN + effect / 2 + noise * rng.standard_normal(seeds), root),
        ]
        started = time.perf_counter()
        evidence = gather_evidence(
            paper=paper,
            runs=runs,
            baseline=baseline,
            metric="accuracy",
            goal="maximize",
            page_limit=8,
        )
        scored = review_evidence(evidence, threshold=6.0)
        elapsed += time.perf_counter() - started
        truth.append(effect >= MEANINGFUL)
        predicted.append(scored.review.decision == "accept")
        scores.append(scored.score)
    metrics = decision_metrics(truth, predicted, scores)
    return {"seeds": seeds, "ms_per_review": 1000 * elapsed / ideas, **metrics.model_dump()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=400)
    parser.add_argument("--noise", type=float, default=0.02, help="per-seed std of the metric")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tex = root / "paper.tex"
        tex.write_text(r"Prior work \citep{akiba2024,yadav2023}.", encoding="utf-8")
        paper = Paper(idea_id="sim", tex_path=tex, compiled=True, pages=5)
        rows = [simulate(seeds, args.ideas, args.noise, paper, root) for seeds in (1, 2, 3, 5, 10)]
    print(
        f"machine: {describe()}; {args.ideas} ideas per row, per-seed noise "
        f"{args.noise}, accept iff true effect >= {MEANINGFUL}"
    )
    columns = ["seeds", "accuracy", "balanced_accuracy", "f1", "auc", "fpr", "fnr", "ms_per_review"]
    print(" | ".join(f"{c:>17}" for c in columns))
    for row in rows:
        print(
            " | ".join(
                f"{row[c]:>17.3f}" if isinstance(row[c], float) else f"{row[c]:>17}"
                for c in columns
            )
        )


if __name__ == "__main__":
    main()
