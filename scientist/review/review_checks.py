"""What a first review gets wrong, as far as code can tell: the items of a reflection round.

The reflection round asks a reviewer to revisit exactly what its checklist names: points that
cite no evidence, a missed flaw, claims left unchecked, and scores that disagree with the
review's own findings. Code can see each of these in the filled form; a review with none of
them has nothing the round would change, so it is not sent.
"""

from __future__ import annotations

import re

from scientist.models import Review
from scientist.review.verdict import SOUNDNESS_CAPS, SUB_SCORES

# A point names its evidence: a number, a part of the paper, or what a comparison rests on.
_SPECIFIC = re.compile(
    r"\d|\"|“|\b(?:table|figure|fig\.|section|appendix|equation|eq\.|seeds?|baselines?|"
    r"ablations?|controls?|intervals?|std|variance|spread|runs?|metrics?|claims?|"
    r"experiments?|results?|comparisons?|citations?|references?)\b",
    re.IGNORECASE,
)
HIGH_OVERALL, LOW_OVERALL = 6, 4  # of 10


def unspecific_points(review: Review) -> list[str]:
    """The strengths and weaknesses that point at nothing in the paper."""
    return [p for p in [*review.strengths, *review.weaknesses] if not _SPECIFIC.search(p)]


def review_problems(review: Review, *, has_evidence: bool) -> list[str]:
    """Each problem of `review` a reflection round is to fix, in a line ([] when none).
    `has_evidence`: the paper came with an evidence packet whose claims can be checked."""
    problems = []
    points = len(review.strengths) + len(review.weaknesses)
    if (vague := unspecific_points(review)) and 2 * len(vague) > points:
        problems.append(f"{len(vague)} of {points} strengths and weaknesses cite no evidence")
    if not review.weaknesses:
        problems.append("no weakness is named")
    if has_evidence and not review.claims:
        problems.append("no claim of the paper is checked against the evidence")
    failing = [c for c in review.claims if c.verdict in SOUNDNESS_CAPS]
    if any(review.soundness > SOUNDNESS_CAPS[c.verdict] for c in failing):
        problems.append("soundness does not reflect the unsupported or contradicted claims")
    if review.overall >= HIGH_OVERALL and review.soundness <= 2:
        problems.append(f"overall {review.overall} with soundness {review.soundness} of 4")
    if review.overall < LOW_OVERALL and min(getattr(review, s) for s in SUB_SCORES) >= 3:
        problems.append(f"overall {review.overall} while every sub-score is 3 or 4")
    return problems
