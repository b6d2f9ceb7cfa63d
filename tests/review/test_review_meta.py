"""The area chair's numbers: mean, spread, calibrated decision, archive fields."""

from __future__ import annotations

import json

import pytest

from scientist.models import ArchiveEntry, Idea, Review
from scientist.review.form import REVIEWS_ROOT
from scientist.review.meta import ReviewRecord, aggregate, archive_fields, gather_notes


def record(overall: int, decision: str, *, weaknesses: list[str], reviewer="openai:a"):
    data = json.loads((REVIEWS_ROOT / "examples" / "evolved_merge.json").read_text("utf-8"))
    data.update(overall=overall, decision=decision, weaknesses=weaknesses)
    return ReviewRecord(reviewer=reviewer, score=overall, review=Review.model_validate(data))


def test_decision_follows_the_mean_score_not_the_reviewers_words() -> None:
    lenient = [record(4, "accept", weaknesses=["w"]), record(5, "accept", weaknesses=["w"])]
    meta = aggregate(lenient, threshold=6)
    assert (meta.overall, meta.decision) == (4.5, "reject")

    harsh = [record(6, "reject", weaknesses=["w"]), record(7, "reject", weaknesses=["w"])]
    assert aggregate(harsh, threshold=6).decision == "accept"
    assert aggregate(harsh, threshold=7).decision == "reject"


def test_mean_spread_and_reviewers() -> None:
    records = [
        record(3, "reject", weaknesses=["a"], reviewer="openai:a"),
        record(6, "accept", weaknesses=["a"], reviewer="anthropic:b"),
        record(6, "accept", weaknesses=["a"], reviewer="openai:a"),
    ]
    meta = aggregate(records, threshold=6)
    assert meta.overall == pytest.approx(5.0)
    assert meta.overall_std == pytest.approx(1.7321, abs=1e-4)
    assert meta.n_reviews == 3
    assert meta.reviewer == "openai:a,anthropic:b"


def test_gathered_notes_put_shared_weaknesses_first() -> None:
    records = [
        record(5, "reject", weaknesses=["only one", "few seeds"]),
        record(5, "reject", weaknesses=["few seeds", "no ablation"]),
        record(6, "accept", weaknesses=["no ablation", "few seeds"]),
    ]
    notes = gather_notes(records)
    assert notes.weaknesses == ["few seeds", "no ablation", "only one"]


def test_archive_fields_gate_the_entry_but_are_not_its_fitness() -> None:
    weaknesses = ["one", "two", "three", "four"]
    meta = aggregate([record(7, "accept", weaknesses=weaknesses)], threshold=6)
    idea = Idea(name="wider", title="t", hypothesis="h", plan="p")
    entry = ArchiveEntry(id="wider", idea=idea, status="done", improvement=0.1)
    updated = entry.model_copy(update=archive_fields(meta))
    assert updated.review_score == 7.0
    assert updated.decision == "accept"
    assert updated.weaknesses == ["one", "two", "three"]
    assert updated.fitness == entry.fitness  # measured, not reviewed
    assert updated.may_parent
    rejected = entry.model_copy(
        update=archive_fields(aggregate([record(3, "reject", weaknesses=[])], threshold=6))
    )
    assert rejected.decision == "reject" and not rejected.may_parent


def test_aggregate_needs_a_review() -> None:
    with pytest.raises(ValueError):
        aggregate([], threshold=6)
