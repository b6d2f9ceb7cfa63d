"""The evidence a paper stands on: effect vs baseline with a Welch interval, seeds, completeness."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from scientist.models import ExperimentRun, NoveltyStatus, Paper
from scientist.stats import mean_std, welch_interval

Goal = Literal["maximize", "minimize"]
_CITE = re.compile(r"\\cite[a-zA-Z]*\*?(?:\[[^\]]*\])*\{([^}]*)\}")


class Comparison(BaseModel):
    """The best run against the baseline; `effect` is signed so that positive means better."""

    model_config = ConfigDict(frozen=True)

    run_index: int
    mean: float
    std: float
    n: int
    baseline_mean: float
    baseline_std: float
    baseline_n: int
    effect: float
    relative: float | None
    ci_low: float | None
    ci_high: float | None

    @property
    def significant(self) -> bool:
        """The 95 % interval on the effect lies entirely above zero."""
        return self.ci_low is not None and self.ci_low > 0

    @property
    def significantly_worse(self) -> bool:
        return self.ci_high is not None and self.ci_high < 0


class Evidence(BaseModel):
    """Everything the rubric reviewer scores, gathered from runs, paper and idea."""

    model_config = ConfigDict(frozen=True)

    metric: str
    goal: Goal
    comparison: Comparison | None
    runs_total: int
    runs_ok: int
    failed_runs: list[str]
    configs: int
    compiled: bool
    compile_errors: list[str]
    pages: int | None
    page_limit: int
    unsourced_numbers: list[str]
    citations: int
    novelty: NoveltyStatus

    @property
    def seeds(self) -> int:
        return self.comparison.n if self.comparison else 0

    @property
    def within_page_limit(self) -> bool:
        return self.pages is not None and self.pages <= self.page_limit


def compare(
    runs: list[ExperimentRun], baseline: ExperimentRun | None, metric: str, goal: Goal
) -> Comparison | None:
    """The finished run with the best mean `metric`, against the baseline's per-seed values."""
    if baseline is None or baseline.final_info is None:
        return None
    base = baseline.final_info.metrics.get(metric)
    scored = [
        (run, run.final_info.metrics[metric].values)
        for run in runs
        if run.result.ok and run.final_info is not None and metric in run.final_info.metrics
    ]
    if base is None or not scored:
        return None
    sign = 1.0 if goal == "maximize" else -1.0
    best, values = max(scored, key=lambda pair: sign * mean_std(pair[1])[0])
    (mean, std), (base_mean, base_std) = mean_std(values), mean_std(base.values)
    effect = sign * (mean - base_mean)
    interval = welch_interval(values, base.values)
    low, high = (None, None) if interval is None else sorted(sign * bound for bound in interval)
    return Comparison(
        run_index=best.index,
        mean=mean,
        std=std,
        n=len(values),
        baseline_mean=base_mean,
        baseline_std=base_std,
        baseline_n=len(base.values),
        effect=effect,
        relative=effect / abs(base_mean) if base_mean else None,
        ci_low=low,
        ci_high=high,
    )


def count_citations(tex_path: Path) -> int:
    """Distinct keys cited in the LaTeX source (0 when the source is missing)."""
    if not tex_path.is_file():
        return 0
    keys = {
        key.strip()
        for group in _CITE.findall(tex_path.read_text(encoding="utf-8", errors="replace"))
        for key in group.split(",")
        if key.strip()
    }
    return len(keys)


def gather_evidence(
    *,
    paper: Paper,
    runs: list[ExperimentRun],
    baseline: ExperimentRun | None,
    metric: str,
    goal: Goal,
    page_limit: int,
    novelty: NoveltyStatus = "unchecked",
) -> Evidence:
    failed = [f"run_{run.index}: {run.result.status}" for run in runs if not run.result.ok]
    configs = {  # the effective configuration a run reports, else the overrides it was given
        json.dumps(run.final_info.config or run.overrides, sort_keys=True, default=str)
        for run in runs
        if run.result.ok and run.final_info is not None
    }
    return Evidence(
        metric=metric,
        goal=goal,
        comparison=compare(runs, baseline, metric, goal),
        runs_total=len(runs),
        runs_ok=len(runs) - len(failed),
        failed_runs=failed,
        configs=len(configs),
        compiled=paper.compiled,
        compile_errors=paper.errors,
        pages=paper.pages,
        page_limit=page_limit,
        unsourced_numbers=paper.unsourced_numbers,
        citations=count_citations(paper.tex_path),
        novelty=novelty,
    )
