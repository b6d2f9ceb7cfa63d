"""The LLM reviewer ensemble and the area chair through the real openai client (replay server)."""

from __future__ import annotations

import json

import pytest

from scientist.config import ModelsConfig, ReviewConfig
from scientist.errors import LLMFormatError
from scientist.llm import RetryPolicy, open_llm
from scientist.review import review_paper
from scientist.review.form import REVIEWS_ROOT
from scientist.review.llm_reviewer import ensemble_temperatures, reviewer_system_prompt
from scientist.review.meta import ReviewRecord
from tests.conftest import stage_context, user_text

pytestmark = pytest.mark.latex

FAST_RETRY = RetryPolicy(max_retries=1, base_delay_s=0.001, max_delay_s=0.01)
PAPER = "Review the paper below"
NOTES = {
    "summary": "The reviewers agree the merge result is clean but small.",
    "strengths": ["dev/test split"],
    "weaknesses": ["3 seeds only"],
}


@pytest.fixture(autouse=True)
def _no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def review_json(overall: int, decision: str, **changes) -> dict:
    data = json.loads((REVIEWS_ROOT / "examples" / "evolved_merge.json").read_text("utf-8"))
    return {**data, "overall": overall, "decision": decision, **changes}


def llm_for(server, campaign=None):
    models = ModelsConfig(review="openai:reviewer-1", base_url=f"{server.url}/v1")
    return open_llm(models, campaign=campaign, retry=FAST_RETRY, seed=0)


def review(campaign, llm, paper, template, runs, baseline, *, ensemble=2, reflections=1):
    config = ReviewConfig(ensemble=ensemble, reflections=reflections, accept_threshold=6)
    ctx = stage_context(campaign, template, llm=llm, review=config)
    return review_paper(ctx, idea_id="idea_a", paper=paper, baseline=baseline, runs=runs)


def test_ensemble_reflects_and_area_chair_aggregates(
    replay_server, campaign, make_paper, make_run, baseline, template, paper_pdf
) -> None:
    replay_server.load(
        [
            {"json": review_json(8, "accept", soundness=2), "match": PAPER},
            {"json": review_json(5, "accept"), "match": "Reflection round 1 of 1"},
            {"json": review_json(6, "reject", claims=[]), "match": PAPER},
            {"json": review_json(6, "reject"), "match": "Reflection round 1 of 1"},
            {"json": NOTES, "match": "area chair"},
        ]
    )
    paper = make_paper(pdf_path=paper_pdf)
    with llm_for(replay_server, campaign) as llm:
        meta = review(campaign, llm, paper, template, [make_run(1, [0.8, 0.8])], baseline)

    assert meta.overall == pytest.approx(5.5)
    assert meta.decision == "reject"  # both reviewers said accept once; the mean decides
    assert (meta.n_reviews, meta.reviewer) == (2, "openai:reviewer-1")
    assert meta.summary == NOTES["summary"] and meta.weaknesses == ["3 seeds only"]

    bodies = [request["body"] for request in replay_server.requests]
    assert [body.get("temperature") for body in bodies[:4]] == [0.5, 0.5, 1.0, 1.0]
    assert "Evolved merge weights transfer a skill" in user_text(bodies[0])
    assert "- overall 8 with soundness 2 of 4" in user_text(bodies[1])  # what checks found
    assert "- no claim of the paper is checked" in user_text(bodies[3])
    assert "mean overall score is 5.50" in user_text(bodies[4])
    assert "**reject**ed" in user_text(bodies[4])

    folder = campaign.reviews_dir("idea_a")
    first = ReviewRecord.model_validate_json((folder / "review_0.json").read_text())
    assert (first.score, first.reflections, first.temperature) == (5, 1, 0.5)
    assert json.loads((folder / "meta.json").read_text())["overall"] == 5.5
    assert {entry.role for entry in campaign.ledger()} == {"review"}
    assert len(campaign.ledger()) == 5


def test_a_review_checks_find_nothing_in_is_not_sent_to_reflection(
    replay_server, campaign, make_paper, make_run, baseline, template, paper_pdf
) -> None:
    replay_server.load(
        [
            {"json": review_json(7, "accept"), "match": PAPER},
            {"json": review_json(2, "reject"), "match": "Reflection round"},
            {"json": NOTES, "match": "area chair"},
        ]
    )
    paper = make_paper(pdf_path=paper_pdf)
    with llm_for(replay_server, campaign) as llm:
        meta = review(
            campaign, llm, paper, template, [make_run(1, [0.8, 0.8])], baseline, ensemble=1
        )

    assert meta.overall == 7  # the first review stands: no round was sent
    assert not any("Reflection round" in user_text(r["body"]) for r in replay_server.requests)
    record = ReviewRecord.model_validate_json(
        (campaign.reviews_dir("idea_a") / "review_0.json").read_text()
    )
    assert record.reflections == 0
    assert len(campaign.ledger()) == 2  # the review and the area chair


def test_resume_reuses_reviews_on_disk(
    replay_server, campaign, make_paper, make_run, baseline, template, paper_pdf
) -> None:
    replay_server.load(
        [
            {"json": review_json(7, "accept"), "match": PAPER},
            {"json": NOTES, "match": "area chair"},
        ]
    )
    paper = make_paper(pdf_path=paper_pdf)
    runs = [make_run(1, [0.8, 0.8])]
    with llm_for(replay_server, campaign) as llm:
        first = review(campaign, llm, paper, template, runs, baseline, ensemble=1, reflections=0)
        calls = len(replay_server.requests)
        again = review(campaign, llm, paper, template, runs, baseline, ensemble=1, reflections=0)
    assert again == first
    assert len(replay_server.requests) == calls == 2


def test_malformed_review_json_is_repaired_by_the_llm_layer(
    replay_server, campaign, make_paper, make_run, baseline, template, paper_pdf
) -> None:
    replay_server.load(
        [
            {"text": 'My review: {"summary": "fine", "overall": 7'},
            {"json": review_json(7, "accept")},
            {"json": NOTES, "match": "area chair"},
        ]
    )
    paper = make_paper(pdf_path=paper_pdf)
    with llm_for(replay_server, campaign) as llm:
        meta = review(
            campaign,
            llm,
            paper,
            template,
            [make_run(1, [0.8])],
            baseline,
            ensemble=1,
            reflections=0,
        )
    assert (meta.overall, meta.decision) == (7.0, "accept")
    assert len(replay_server.requests) == 3


def test_offline_llm_uses_the_rubric(campaign, make_paper, make_run, baseline, template) -> None:
    with open_llm(ModelsConfig()) as llm:
        meta = review(campaign, llm, make_paper(), template, [make_run(1, [0.9, 0.9])], baseline)
    assert meta.reviewer == "rubric"
    assert (campaign.reviews_dir("idea_a") / "review_0.json").is_file()


def test_prompt_carries_form_guidelines_and_examples() -> None:
    prompt = reviewer_system_prompt()
    assert "10 = award quality" in prompt
    assert "One seed is a smoke test" in prompt
    assert prompt.count("### Example") == 6
    assert "$" not in prompt.replace("$0", "")


def test_ensemble_temperatures_spread() -> None:
    assert ensemble_temperatures(1) == [0.75]
    assert ensemble_temperatures(3) == [0.5, 0.75, 1.0]


def test_member_that_never_validates_is_left_out(
    replay_server, campaign, make_paper, make_run, baseline, template, paper_pdf
) -> None:
    broken = {"text": '{"summary": "cut off'}
    replay_server.load(
        [
            broken,
            broken,
            broken,
            {"json": review_json(7, "accept")},
            {"json": NOTES, "match": "area chair"},
        ]
    )
    paper = make_paper(pdf_path=paper_pdf)
    with llm_for(replay_server, campaign) as llm:
        meta = review(
            campaign,
            llm,
            paper,
            template,
            [make_run(1, [0.8])],
            baseline,
            ensemble=2,
            reflections=0,
        )
    assert (meta.n_reviews, meta.overall) == (1, 7.0)
    folder = campaign.reviews_dir("idea_a")
    assert not (folder / "review_0.json").exists()
    assert (folder / "review_1.json").exists()


def test_ensemble_fails_when_every_member_fails(
    replay_server, campaign, make_paper, make_run, baseline, template, paper_pdf
) -> None:
    replay_server.load([{"text": "no json here"}] * 3)
    paper = make_paper(pdf_path=paper_pdf)
    with llm_for(replay_server, campaign) as llm, pytest.raises(LLMFormatError):
        review(campaign, llm, paper, template, [], baseline, ensemble=1, reflections=0)
    assert not (campaign.reviews_dir("idea_a") / "meta.json").exists()
