"""The area chair: aggregate reviews into a `MetaReview` with a calibrated decision.

The numbers are computed, never asked for: the overall score is the ensemble's mean, the
decision is `mean >= threshold`. A model may write the prose (`AreaChairNotes`); without one
the prose is gathered from the reviews themselves.
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from scientist.models import Decision, MetaReview, Review

TOP_POINTS = 5


class ReviewRecord(BaseModel):
    """What `reviews/review_<k>.json` holds: one reviewer's form and how it was produced."""

    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(description="'rubric', 'rubric-pdf' or the model that reviewed")
    score: float = Field(ge=1, le=10, description="the overall score the ensemble averages")
    temperature: float | None = None
    seed: int | None = Field(default=None, description="the sampling seed the member asked with")
    reflections: int = Field(default=0, description="reflection rounds the review went through")
    review: Review


class AreaChairNotes(BaseModel):
    """The prose an area chair model writes; scores and decision are computed, not asked."""

    summary: str
    strengths: list[str]
    weaknesses: list[str]


def calibrated_decision(overall: float, threshold: float) -> Decision:
    """Accept iff the ensemble's mean overall score reaches the threshold."""
    return "accept" if overall >= threshold else "reject"


def _most_shared(points: list[list[str]]) -> list[str]:
    """Distinct points, those raised by more reviewers first, then in order of appearance."""
    counts = Counter(point for review_points in points for point in dict.fromkeys(review_points))
    order = {point: i for i, point in enumerate(counts)}
    return sorted(counts, key=lambda point: (-counts[point], order[point]))[:TOP_POINTS]


def gather_notes(records: list[ReviewRecord]) -> AreaChairNotes:
    """Prose without a model: the most representative review's summary and the shared points."""
    mean = statistics.fmean(record.score for record in records)
    closest = min(records, key=lambda record: abs(record.score - mean))
    return AreaChairNotes(
        summary=closest.review.summary,
        strengths=_most_shared([record.review.strengths for record in records]),
        weaknesses=_most_shared([record.review.weaknesses for record in records]),
    )


def aggregate(
    records: list[ReviewRecord], *, threshold: float, notes: AreaChairNotes | None = None
) -> MetaReview:
    """The meta-review of `records` (at least one); `notes` default to `gather_notes`."""
    if not records:
        raise ValueError("a meta-review needs at least one review")
    scores = [record.score for record in records]
    overall = statistics.fmean(scores)
    notes = notes or gather_notes(records)
    return MetaReview(
        summary=notes.summary,
        strengths=notes.strengths,
        weaknesses=notes.weaknesses,
        overall=round(overall, 4),
        overall_std=round(statistics.stdev(scores), 4) if len(scores) > 1 else 0.0,
        decision=calibrated_decision(overall, threshold),
        threshold=threshold,
        n_reviews=len(records),
        reviewer=",".join(dict.fromkeys(record.reviewer for record in records)),
    )


def archive_fields(meta: MetaReview, *, top_weaknesses: int = 3) -> dict[str, Any]:
    """The `ArchiveEntry` fields a review sets: `entry.model_copy(update=archive_fields(m))`."""
    return {
        "review_score": meta.overall,
        "decision": meta.decision,
        "weaknesses": meta.weaknesses[:top_weaknesses],
    }
