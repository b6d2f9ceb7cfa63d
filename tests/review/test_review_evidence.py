"""Effect vs baseline, the Welch interval, and the evidence gathered from runs and paper."""

from __future__ import annotations

import pytest
from scipy import stats

from scientist.comparison import compare
from scientist.review.evidence import count_citations, gather_evidence
from scientist.stats import welch_interval
from tests.review.conftest import METRIC, write_tex


def test_welch_interval_matches_scipy() -> None:
    treated, control = [0.81, 0.84, 0.80, 0.86], [0.70, 0.74, 0.69]
    expected = stats.ttest_ind(treated, control, equal_var=False).confidence_interval(0.95)
    low, high = welch_interval(treated, control)
    assert low == pytest.approx(expected.low)
    assert high == pytest.approx(expected.high)


def test_welch_interval_needs_two_values_per_side() -> None:
    assert welch_interval([0.8], [0.7, 0.71]) is None
    assert welch_interval([0.8, 0.8], [0.7, 0.7]) == pytest.approx((0.1, 0.1))


def test_compare_picks_best_finished_run_and_signs_by_goal(make_run, baseline) -> None:
    runs = [
        make_run(1, [0.60, 0.61, 0.62]),
        make_run(2, [0.50, 0.52, 0.51]),
        make_run(3, [0.10, 0.10, 0.10], status="error"),
    ]
    minimized = compare(runs, baseline, METRIC, "minimize")
    assert minimized.run_index == 2
    assert minimized.effect == pytest.approx(0.70 - 0.51)
    assert minimized.ci_low > 0
    assert minimized.significant

    maximized = compare(runs, baseline, METRIC, "maximize")
    assert maximized.run_index == 1
    assert maximized.effect == pytest.approx(0.61 - 0.70)
    assert maximized.significantly_worse
    assert maximized.relative == pytest.approx(-0.09 / 0.70)


def test_compare_without_baseline_or_metric_is_none(make_run, baseline) -> None:
    runs = [make_run(1, [0.8, 0.9])]
    assert compare(runs, None, METRIC, "maximize") is None
    assert compare(runs, baseline, "loss", "maximize") is None
    assert compare([make_run(1, None, status="timeout")], baseline, METRIC, "maximize") is None


def test_count_citations_counts_distinct_keys(tmp_path) -> None:
    tex = write_tex(tmp_path, ["a2020", "b2021,a2020", "c2022"])
    assert count_citations(tex) == 3
    assert count_citations(tmp_path / "missing.tex") == 0


def test_gather_evidence_counts_configs_and_failures(make_run, baseline, make_paper) -> None:
    runs = [
        make_run(1, [0.8, 0.8, 0.8], overrides={"lr": 0.1}),
        make_run(2, [0.8, 0.8, 0.8], overrides={"lr": 0.01}),
        make_run(3, None, status="oom"),
    ]
    evidence = gather_evidence(
        paper=make_paper(pages=9),
        runs=runs,
        baseline=baseline,
        metric=METRIC,
        goal="maximize",
        page_limit=8,
    )
    assert (evidence.runs_total, evidence.runs_ok, evidence.configs) == (3, 2, 2)
    assert evidence.failed_runs == ["run_3: oom"]
    assert evidence.citations == 2
    assert evidence.seeds == 3
    assert not evidence.within_page_limit


def test_configs_are_the_effective_configurations_reported(make_run, baseline, make_paper) -> None:
    first, second = make_run(1, [0.8, 0.8]), make_run(2, [0.7, 0.7])
    first.final_info.config = {"lr": 0.1, "width": 16}
    second.final_info.config = {"lr": 0.1, "width": 32}
    evidence = gather_evidence(
        paper=make_paper(),
        runs=[first, second],
        baseline=baseline,
        metric=METRIC,
        goal="maximize",
        page_limit=8,
    )
    assert evidence.configs == 2
