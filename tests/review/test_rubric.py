"""The rubric reviewer scores evidence deterministically and names the numbers."""

from __future__ import annotations

from scientist.review.evidence import Evidence, gather_evidence
from scientist.review.rubric import review_evidence
from tests.review.conftest import METRIC


def evidence_for(paper, runs, baseline, *, novelty="unchecked", deterministic=False) -> Evidence:
    return gather_evidence(
        paper=paper,
        runs=runs,
        baseline=baseline,
        metric=METRIC,
        goal="maximize",
        page_limit=8,
        novelty=novelty,
        deterministic=deterministic,
    )


def strong_runs(make_run):
    return [
        make_run(1, [0.80, 0.82, 0.81], overrides={"lr": 0.1}),
        make_run(2, [0.76, 0.77, 0.75], overrides={"lr": 0.01}),
    ]


def test_clearly_better_run_scores_higher_and_is_accepted(make_run, baseline, make_paper) -> None:
    better = review_evidence(
        evidence_for(make_paper(), strong_runs(make_run), baseline), threshold=6
    )
    worse = review_evidence(
        evidence_for(make_paper(), [make_run(1, [0.69, 0.72, 0.68])], baseline), threshold=6
    )
    assert better.score > worse.score + 2
    assert better.review.overall > worse.review.overall
    assert (better.review.decision, worse.review.decision) == ("accept", "reject")
    assert better.review.soundness > worse.review.soundness
    assert better.review.significance > worse.review.significance


def test_strengths_and_weaknesses_name_the_evidence(make_run, baseline, make_paper) -> None:
    better = review_evidence(
        evidence_for(make_paper(), strong_runs(make_run), baseline), threshold=6
    ).review
    headline = better.strengths[0]
    assert "run_1" in headline and "0.81" in headline and "0.7" in headline
    assert "(n=3)" in headline and "+15.7% relative" in headline and "excludes zero" in headline

    noisy = [make_run(1, [0.60, 0.80, 0.75])]
    weak = review_evidence(evidence_for(make_paper(), noisy, baseline), threshold=6).review
    assert any("includes zero" in point for point in weak.weaknesses)
    assert any("no ablation" in point for point in weak.weaknesses)


def test_unsourced_numbers_lower_the_score(make_run, baseline, make_paper) -> None:
    runs = strong_runs(make_run)
    clean = review_evidence(evidence_for(make_paper(), runs, baseline), threshold=6)
    dirty_paper = make_paper(unsourced=["0.93", "4x", "12"])
    dirty = review_evidence(evidence_for(dirty_paper, runs, baseline), threshold=6)
    assert dirty.score < clean.score
    assert dirty.review.presentation < clean.review.presentation
    assert any("0.93, 4x, 12" in point for point in dirty.review.weaknesses)


def test_failed_compile_caps_the_score_and_rejects(make_run, baseline, make_paper) -> None:
    scored = review_evidence(
        evidence_for(make_paper(compiled=False), strong_runs(make_run), baseline), threshold=6
    )
    assert scored.score <= 2
    assert scored.review.decision == "reject"
    assert any("did not compile" in point for point in scored.review.weaknesses)


def test_failed_runs_single_seed_and_no_baseline_are_weaknesses(
    make_run, baseline, make_paper
) -> None:
    runs = [make_run(1, [0.9]), make_run(2, None, status="timeout")]
    review = review_evidence(evidence_for(make_paper(), runs, baseline), threshold=6).review
    assert any("1 of 2 runs did not finish (run_2: timeout)" in p for p in review.weaknesses)
    assert any("no confidence interval" in p for p in review.weaknesses)

    alone = review_evidence(evidence_for(make_paper(), runs, None), threshold=6).review
    assert any("no measured effect" in p for p in alone.weaknesses)
    assert alone.confidence == 2


def test_novelty_check_moves_originality_and_score(make_run, baseline, make_paper) -> None:
    runs = strong_runs(make_run)
    novel = review_evidence(
        evidence_for(make_paper(), runs, baseline, novelty="novel"), threshold=6
    )
    known = review_evidence(
        evidence_for(make_paper(), runs, baseline, novelty="not_novel"), threshold=6
    )
    assert novel.review.originality > known.review.originality
    assert novel.score > known.score


def test_rubric_is_deterministic(make_run, baseline, make_paper) -> None:
    evidence = evidence_for(make_paper(), strong_runs(make_run), baseline)
    assert review_evidence(evidence, threshold=6) == review_evidence(evidence, threshold=6)
