"""A deterministic pack: one run is exact, so neither the rubric nor the LLM form asks for seeds."""

from __future__ import annotations

from pathlib import Path

from scientist.review.llm_reviewer import paper_prompt
from scientist.review.pdf import PdfText
from scientist.review.rubric import review_evidence
from tests.review.test_rubric import evidence_for


def review(paper, runs, baseline, *, deterministic: bool):
    evidence = evidence_for(paper, runs, baseline, deterministic=deterministic)
    return review_evidence(evidence, threshold=6)


def test_one_run_of_a_deterministic_pack_is_not_asked_for_seeds(make_run, make_paper) -> None:
    baseline = make_run(0, [0.70], idea_id="baseline")
    runs = [make_run(1, [0.80], overrides={"lr": 0.1}), make_run(2, [0.75], overrides={"lr": 1})]
    exact = review(make_paper(), runs, baseline, deterministic=True)
    noisy = review(make_paper(), runs, baseline, deterministic=False)

    text = " ".join(exact.review.weaknesses + exact.review.questions).lower()
    assert "seed" not in text
    assert any("deterministic" in point for point in exact.review.strengths)
    assert exact.review.soundness >= 3 and exact.review.decision == "accept"

    assert any("seed" in point.lower() for point in noisy.review.weaknesses)
    assert noisy.score < exact.score and noisy.review.decision == "reject"


def test_deterministic_pack_with_no_effect_is_a_tie(make_run, make_paper) -> None:
    baseline = make_run(0, [0.70], idea_id="baseline")
    tie = review(make_paper(), [make_run(1, [0.70])], baseline, deterministic=True)
    assert any("ties the baseline" in point for point in tie.review.weaknesses)
    assert tie.review.decision == "reject"


def test_the_llm_reviewer_is_told_not_to_ask_for_seeds() -> None:
    pdf = PdfText(path=Path("paper.pdf"), text="A paper.", pages=1, truncated=False)
    assert "Do not ask for more\nseeds" in paper_prompt(pdf, deterministic=True)
    assert "deterministic" not in paper_prompt(pdf)
