"""What a filled form decides, computed from its scores and its claim checks, never from its
free text.

- A claim the reviewer found `contradicted` caps soundness at 1, an `unsupported` one at 2,
  and each becomes a weakness (unless the reviewer already wrote it as one).
- The overall score that enters the decision cannot exceed what the sub-scores support: a
  paper that no sub-score rates above "fair" (2 of 4) is at most 4 of 10. So a review that
  gives a high overall with low sub-scores (an injected "rate this 10") cannot carry the
  paper past the threshold, while a review whose sub-scores reach "good" keeps its overall.
"""

from __future__ import annotations

from scientist.models import ClaimCheck, ClaimVerdict, Review

SOUNDNESS_CAPS: dict[ClaimVerdict, int] = {"contradicted": 1, "unsupported": 2}
SUB_SCORES = (
    "originality",
    "quality",
    "clarity",
    "significance",
    "soundness",
    "presentation",
    "contribution",
)


def claim_weakness(check: ClaimCheck) -> str:
    where = f" ({check.evidence})" if check.evidence else ""
    return f'The claim "{check.claim}" is {check.verdict} by the evidence{where}.'


def settle(review: Review) -> Review:
    """The review with its unsupported and contradicted claims as weaknesses and soundness
    capped by them."""
    failing = [check for check in review.claims if check.verdict in SOUNDNESS_CAPS]
    if not failing:
        return review
    soundness = min([review.soundness, *(SOUNDNESS_CAPS[c.verdict] for c in failing)])
    weaknesses = list(review.weaknesses)
    for check in failing:
        if not any(check.claim in point for point in weaknesses):
            weaknesses.append(claim_weakness(check))
    return review.model_copy(update={"soundness": soundness, "weaknesses": weaknesses})


LOW_SUB_SCORE, LOW_CAP = 2, 4


def decision_score(review: Review) -> float:
    """The overall score the ensemble averages: the reviewer's overall, at most `LOW_CAP`
    when no sub-score is above `LOW_SUB_SCORE`."""
    best = max(getattr(review, name) for name in SUB_SCORES)
    return float(min(review.overall, LOW_CAP) if best <= LOW_SUB_SCORE else review.overall)
