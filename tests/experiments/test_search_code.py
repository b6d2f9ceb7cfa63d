"""Scoring code versions against the baseline, rewarding models, multi-model code search."""

from __future__ import annotations

import itertools
import json
import math
import random
from pathlib import Path

import pytest

from scientist.experiments.search_code import (
    CodeVersion,
    normalised_score,
    reward_code_models,
    search_experiment,
)
from scientist.manifest import Metric
from scientist.models import ExperimentRun, FinalInfo, RunResult

ACCURACY = Metric(name="accuracy", goal="maximize")
LOSS = Metric(name="loss", goal="minimize")


def make_run(
    tmp_path: Path, metric: Metric, value: float | None, *, index: int = 1
) -> ExperimentRun:
    run_dir = tmp_path / f"run_{index}"
    if value is None:
        result = RunResult(exit_code=1, status="error", stderr_tail="Traceback ...")
        return ExperimentRun(idea_id="idea", index=index, result=result, run_dir=run_dir)
    info = FinalInfo.model_validate(
        {"metrics": {metric.name: {"mean": value, "values": [value]}}, "seeds": [0], "runtime_s": 1}
    )
    result = RunResult(exit_code=0, status="ok", output_dir=run_dir)
    return ExperimentRun(
        idea_id="idea", index=index, result=result, final_info=info, run_dir=run_dir
    )


class RewardLog:
    """Records `reward(call_id, success)` as the model pool receives it."""

    def __init__(self) -> None:
        self.rewards: dict[str, bool] = {}

    def reward(self, call_id: str, success: bool) -> None:
        assert call_id not in self.rewards, "each call is rewarded once"
        self.rewards[call_id] = success


def test_failed_runs_score_zero_and_completed_runs_rank_by_gain(tmp_path: Path) -> None:
    score = lambda value: normalised_score(  # noqa: E731
        make_run(tmp_path, ACCURACY, value), metric=ACCURACY, baseline=0.5
    )
    assert score(None) == 0.0
    assert score(0.5) == pytest.approx(0.55)
    assert score(0.55) == pytest.approx(0.1 + 0.9 / (1 + math.exp(-1)))
    values = [0.0, 0.2, 0.45, 0.5, 0.52, 0.6, 0.9, 1.0]
    scores = [score(value) for value in values]
    assert scores == sorted(scores) and len(set(scores)) == len(scores)
    assert all(0.1 <= s <= 1.0 for s in scores)


def test_minimised_metrics_score_lower_values_higher(tmp_path: Path) -> None:
    better = normalised_score(make_run(tmp_path, LOSS, 0.8), metric=LOSS, baseline=1.0)
    worse = normalised_score(make_run(tmp_path, LOSS, 1.2), metric=LOSS, baseline=1.0)
    assert better > 0.55 > worse > 0.1


def test_zero_baseline_and_missing_or_non_finite_metrics(tmp_path: Path) -> None:
    at_zero = normalised_score(make_run(tmp_path, LOSS, -0.05), metric=LOSS, baseline=0.0)
    assert 0.55 < at_zero < 1.0
    other_metric = make_run(tmp_path, Metric(name="f1"), 0.9)
    assert normalised_score(other_metric, metric=ACCURACY, baseline=0.5) == 0.0
    nan_run = make_run(tmp_path, ACCURACY, float("nan"))
    assert normalised_score(nan_run, metric=ACCURACY, baseline=0.5) == 0.0


def test_rewards_follow_real_outcomes(tmp_path: Path) -> None:
    log = RewardLog()

    def version(value: float | None, *calls: str) -> CodeVersion:
        return CodeVersion(tmp_path, make_run(tmp_path, LOSS, value), "m", call_ids=calls)

    assert reward_code_models(log, version(0.9, "a", "b"), reference=1.0, metric=LOSS)
    assert not reward_code_models(log, version(1.1, "c"), reference=1.0, metric=LOSS)
    assert not reward_code_models(log, version(None, "d"), reference=1.0, metric=LOSS)
    assert not reward_code_models(log, version(1.0, "e"), reference=1.0, metric=LOSS)
    assert log.rewards == {"a": True, "b": True, "c": False, "d": False, "e": False}


def test_multi_model_search_prefers_the_model_whose_code_works(tmp_path: Path) -> None:
    """`careful` writes code that runs and improves step by step; `sloppy` mostly crashes."""
    rng = random.Random(0)
    counter = itertools.count(1)
    call_ids = itertools.count()
    seen_parents: list[tuple[str, CodeVersion | None]] = []

    def attempt(parent: CodeVersion | None, model: str) -> CodeVersion:
        seen_parents.append((model, parent))
        index = next(counter)
        code_dir = tmp_path / f"code_{index}"
        code_dir.mkdir()
        previous = 0.5 if parent is None or parent.run is None else parent.run.metric("accuracy")
        if model == "careful":
            value = min(1.0, previous + rng.uniform(0.0, 0.08))
        else:
            value = None if rng.random() < 0.8 else previous + rng.uniform(-0.1, 0.05)
        (code_dir / "experiment.py").write_text(json.dumps({"model": model, "value": value}))
        call = f"{model}-{next(call_ids)}"
        return CodeVersion(
            code_dir, make_run(tmp_path, ACCURACY, value, index=index), model, (call,)
        )

    log = RewardLog()
    outcome = search_experiment(
        attempt, models=["careful", "sloppy"], budget=24, metric=ACCURACY, baseline=0.5, llm=log
    )
    assert len(outcome.nodes) == 24 == len(log.rewards)
    expansions = outcome.expansions_by_arm()
    assert expansions["careful"] > 2 * expansions.get("sloppy", 0)
    best = outcome.best.state
    assert best.model == "careful" and best.run is not None and best.run.metric("accuracy") > 0.55
    assert json.loads((best.code_dir / "experiment.py").read_text())["model"] == "careful"
    # A model is rewarded exactly when its run beat its parent's (or the baseline).
    for node, (model, parent) in zip(outcome.nodes, seen_parents, strict=True):
        assert node.arm == model and node.state.model == model
        value = node.state.run.metric("accuracy") if node.state.run.result.ok else None
        reference = 0.5
        if parent is not None and parent.run is not None and parent.run.result.ok:
            reference = parent.run.metric("accuracy")
        assert log.rewards[node.state.call_ids[0]] == (value is not None and value > reference)
    assert any(log.rewards.values()) and not all(log.rewards.values())


def test_duplicate_model_names_make_one_arm(tmp_path: Path) -> None:
    models_asked = []

    def attempt(parent: CodeVersion | None, model: str) -> CodeVersion:
        models_asked.append(model)
        return CodeVersion(tmp_path, make_run(tmp_path, ACCURACY, 0.6), model)

    outcome = search_experiment(attempt, models=["m", "m"], budget=3, metric=ACCURACY, baseline=0.5)
    assert outcome.expansions_by_arm() == {"m": 3} and models_asked == ["m", "m", "m"]
