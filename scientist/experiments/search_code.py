"""Multi-LLM AB-MCTS over an idea's experiment code: the arms, the score, the model rewards.

A node is a `CodeVersion`: the edited code and the run that tested it. Each model in the
`code` role is one arm, so the search learns which model to ask. The research loop supplies
`attempt(parent, model)`; this module turns it into arms, scores each version against the
pack's baseline, and rewards or penalises the model that wrote it.

Score (what AB-MCTS maximises, in [0, 1]):
    failed run, or no finite metric            -> 0
    completed run                              -> 0.1 + 0.9 * sigmoid(gain / 0.1)
where `gain` is the improvement over the baseline relative to |baseline| (the absolute
difference when the baseline is 0), signed so that better is positive for both goals.
The baseline itself scores 0.55, +10 % scores 0.76, +30 % 0.96, -30 % 0.14: a completed
run always outranks a crash, and returns flatten for gains far beyond the baseline.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from scientist.experiments.search import SearchAlgorithm, SearchOutcome, tree_search
from scientist.manifest import Metric
from scientist.models import ExperimentRun

COMPLETED_FLOOR = 0.1
GAIN_SCALE = 0.1


@dataclass(frozen=True)
class CodeVersion:
    """One version of an idea's experiment code and the run that tested it.

    `run` is None when no run happened (the model produced no usable edit); `call_ids` are
    the model calls that wrote this version, rewarded or penalised by its outcome.
    """

    code_dir: Path
    run: ExperimentRun | None
    model: str
    call_ids: tuple[str, ...] = ()
    note: str = ""


Attempt = Callable[[CodeVersion | None, str], CodeVersion]
"""`attempt(parent, model)`: implement the idea afresh from the pack's code when `parent` is
None, else improve the parent's code (debug it when its run failed), asking `model` for the
edits; then run the result once in the sandbox and return the new version. When the model
gives no usable edit, return a version with `run=None` (it scores 0 and penalises the model);
raise only for what should stop the search (`BudgetExceeded`, an unavailable sandbox)."""


class RewardablePool(Protocol):
    def reward(self, call_id: str, success: bool) -> None: ...


def metric_of(run: ExperimentRun | None, metric: Metric) -> float | None:
    """The run's metric mean, or None when the run failed or did not report a finite one."""
    if run is None or not run.result.ok:
        return None
    value = run.metric(metric.name)
    return value if value is not None and math.isfinite(value) else None


def relative_gain(value: float, reference: float, metric: Metric) -> float:
    """Improvement of `value` over `reference`, relative to |reference|; better is positive."""
    difference = value - reference if metric.goal == "maximize" else reference - value
    return difference / abs(reference) if reference != 0 else difference


def normalised_score(run: ExperimentRun | None, *, metric: Metric, baseline: float) -> float:
    """The AB-MCTS score of a run, in [0, 1] (see the module docstring)."""
    value = metric_of(run, metric)
    if value is None:
        return 0.0
    gain = relative_gain(value, baseline, metric) / GAIN_SCALE
    squashed = 0.5 * (1.0 + math.tanh(0.5 * gain))  # the logistic sigmoid, overflow-free
    return COMPLETED_FLOOR + (1.0 - COMPLETED_FLOOR) * squashed


def reward_code_models(
    llm: RewardablePool, version: CodeVersion, *, reference: float, metric: Metric
) -> bool:
    """Reward the calls that wrote `version` when its run succeeded and beat `reference`
    (the parent's metric, or the baseline for a fresh draft); penalise them otherwise.
    Returns whether it was a success."""
    value = metric_of(version.run, metric)
    success = value is not None and relative_gain(value, reference, metric) > 0
    for call_id in version.call_ids:
        llm.reward(call_id, success)
    return success


def code_arms(
    attempt: Attempt,
    models: Sequence[str],
    *,
    metric: Metric,
    baseline: float,
    llm: RewardablePool | None = None,
) -> dict[str, Callable[[CodeVersion | None], tuple[CodeVersion, float]]]:
    """One arm per model: run `attempt` with that model, score it, reward the model."""

    def arm(model: str) -> Callable[[CodeVersion | None], tuple[CodeVersion, float]]:
        def draft(parent: CodeVersion | None) -> tuple[CodeVersion, float]:
            version = attempt(parent, model)
            if llm is not None:
                reference = metric_of(parent.run, metric) if parent is not None else None
                reward_code_models(
                    llm,
                    version,
                    reference=baseline if reference is None else reference,
                    metric=metric,
                )
            return version, normalised_score(version.run, metric=metric, baseline=baseline)

        return draft

    return {model: arm(model) for model in dict.fromkeys(models)}


def search_experiment(
    attempt: Attempt,
    *,
    models: Sequence[str],
    budget: int,
    metric: Metric,
    baseline: float,
    llm: RewardablePool | None = None,
    parallel: int = 1,
    algorithm: SearchAlgorithm = "abmcts-a",
    seed: int = 0,
) -> SearchOutcome[CodeVersion]:
    """Implement and run one idea by AB-MCTS; `outcome.best.state.run` is its result."""
    arms = code_arms(attempt, models, metric=metric, baseline=baseline, llm=llm)
    return tree_search(arms, budget, parallel=parallel, algorithm=algorithm, seed=seed)
