"""`review_paper` on a campaign: files on disk, resume without re-spending, rubric fallback."""

from __future__ import annotations

import json

import pytest

from scientist.config import ModelsConfig, ReviewConfig
from scientist.llm import open_llm
from scientist.models import ArchiveEntry, Idea, MetaReview
from scientist.review import review_paper
from scientist.review.meta import ReviewRecord
from tests.conftest import stage_context

CONFIG = ReviewConfig(ensemble=3, reflections=1, accept_threshold=6)


def run_review(campaign, paper, template, runs, baseline, llm=None) -> MetaReview:
    ctx = stage_context(campaign, template, llm=llm, review=CONFIG)
    return review_paper(ctx, idea_id="idea_a", paper=paper, baseline=baseline, runs=runs)


def test_rubric_review_writes_review_and_meta(
    campaign, make_paper, make_run, baseline, template
) -> None:
    runs = [make_run(1, [0.80, 0.82, 0.81], overrides={"lr": 0.1})]
    meta = run_review(campaign, make_paper(), template, runs, baseline)

    folder = campaign.reviews_dir("idea_a")
    record = ReviewRecord.model_validate_json((folder / "review_0.json").read_text())
    assert record.reviewer == meta.reviewer == "rubric"
    assert meta.n_reviews == 1
    assert meta.overall == pytest.approx(record.score, abs=1e-4)
    assert meta.decision == ("accept" if record.score >= 6 else "reject")
    assert MetaReview.model_validate_json((folder / "meta.json").read_text()) == meta


def test_reviews_on_disk_are_reused(campaign, make_paper, make_run, baseline, template) -> None:
    runs = [make_run(1, [0.80, 0.82, 0.81])]
    run_review(campaign, make_paper(), template, runs, baseline)
    path = campaign.reviews_dir("idea_a") / "review_0.json"
    data = json.loads(path.read_text())
    data["score"] = 9.0
    path.write_text(json.dumps(data))

    again = run_review(campaign, make_paper(), template, runs, baseline)
    assert (again.overall, again.decision) == (9.0, "accept")


def test_novelty_check_in_the_archive_reaches_the_rubric(
    campaign, make_paper, make_run, baseline, template
) -> None:
    idea = Idea(name="idea_a", title="t", hypothesis="h", plan="p", novelty_status="not_novel")
    campaign.record_idea(ArchiveEntry(id="idea_a", idea=idea))
    run_review(campaign, make_paper(), template, [make_run(1, [0.8, 0.8, 0.8])], baseline)
    record = ReviewRecord.model_validate_json(
        (campaign.reviews_dir("idea_a") / "review_0.json").read_text()
    )
    assert record.review.originality == 1


def test_paper_without_pdf_gets_the_rubric_even_with_a_model(
    replay_server, campaign, make_paper, make_run, baseline, template, monkeypatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    models = ModelsConfig(review="openai:reviewer", base_url=f"{replay_server.url}/v1")
    with open_llm(models) as llm:
        paper = make_paper(compiled=False)
        meta = run_review(campaign, paper, template, [make_run(1, [0.9, 0.9])], baseline, llm)
    assert meta.reviewer == "rubric"
    assert meta.decision == "reject" and meta.overall <= 2
    assert replay_server.requests == []


def test_the_rubric_never_takes_a_model_review_as_its_own(
    campaign, make_paper, make_run, baseline, template
) -> None:
    runs = [make_run(1, [0.80, 0.82, 0.81])]
    run_review(campaign, make_paper(), template, runs, baseline)
    path = campaign.reviews_dir("idea_a") / "review_0.json"
    saved = json.loads(path.read_text())
    path.write_text(json.dumps({**saved, "reviewer": "openai:gpt-4o", "score": 9.0}))

    rubric = run_review(campaign, make_paper(), template, runs, baseline)
    assert rubric.reviewer == "rubric" and rubric.overall == saved["score"]
