"""What sends a first review to its reflection round: the problems code can see in the form."""

from __future__ import annotations

import json

import pytest

from scientist.models import ClaimCheck, Review
from scientist.review.form import REVIEWS_ROOT
from scientist.review.review_checks import review_problems

GOOD = Review.model_validate(
    json.loads((REVIEWS_ROOT / "examples" / "evolved_merge.json").read_text("utf-8"))
)
UNSUPPORTED = ClaimCheck(claim="It beats H2O", verdict="unsupported", evidence="one seed")


def test_a_review_like_the_examples_has_nothing_for_reflection() -> None:
    assert review_problems(GOOD, has_evidence=True) == []


@pytest.mark.parametrize(
    ("change", "found"),
    [
        ({"strengths": ["Nice work."], "weaknesses": ["Could be clearer."]}, "cite no evidence"),
        ({"weaknesses": []}, "no weakness is named"),
        ({"claims": []}, "no claim of the paper is checked"),
        ({"claims": [UNSUPPORTED], "soundness": 3}, "soundness does not reflect"),
        ({"overall": 7, "soundness": 2}, "overall 7 with soundness 2 of 4"),
        (
            {"overall": 2, "originality": 3, "significance": 3},
            "overall 2 while every sub-score is 3 or 4",
        ),
    ],
)
def test_each_problem_is_named(change: dict, found: str) -> None:
    problems = review_problems(GOOD.model_copy(update=change), has_evidence=True)
    assert any(found in problem for problem in problems), problems


def test_unchecked_claims_matter_only_when_there_is_evidence_to_check_them_against() -> None:
    unchecked = GOOD.model_copy(update={"claims": []})
    assert review_problems(unchecked, has_evidence=False) == []
