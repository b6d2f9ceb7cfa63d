"""An LLM campaign with `scripted:<file>` models, served through the real openai client:
proposals with reflection, SEARCH/REPLACE edits (one mismatching, reported back), a failed
run debugged from its stderr, ledger costs in the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign
from scientist.review.form import REVIEWS_ROOT
from tests.graph.scripted_campaign import BLOCK, status_of
from tests.graph.scripted_campaign import IDEA as LLM_IDEA

BONUS_IDEA = {
    **LLM_IDEA,
    "name": "bonus_term",
    "title": "A bonus term",
    "hypothesis": "A constant bonus raises the score.",
    "plan": "Add 0.05 to the score in experiment.py.",
    "overrides": {},
}
WIDER_IDEA = {
    **LLM_IDEA,
    "name": "wider",
    "title": "Wider layers",
    "hypothesis": "Width 32 sits at the optimum.",
    "overrides": {"width": 32},
}

SCRIPT = [
    {"match": "Propose 1 new research ideas", "json": {"ideas": [BONUS_IDEA]}},
    {"match": "Reflection round 1", "json": {"ideas": [BONUS_IDEA]}},
    {
        "match": "Idea: A bonus term",
        "text": "Adding a bonus.\n" + BLOCK.format(old="BONUS = 9.9", new="BONUS = 0.05"),
    },
    {"match": "could not be applied", "text": BLOCK.format(old="BONUS = 0.0", new="BONUS = 0.05")},
    {"match": "Propose 1 new research ideas", "json": {"ideas": [WIDER_IDEA]}},
    {"match": "Reflection round 1", "json": {"ideas": [WIDER_IDEA]}},
    {
        "match": "Idea: Wider layers",
        "text": BLOCK.format(old="BONUS = 0.0", new="BONUS = undefined_name"),
    },
    {
        "match": "failed \\(error\\)",
        "text": BLOCK.format(old="BONUS = undefined_name", new="BONUS = 0.0"),
    },
    {"match": "Propose 1 new research ideas", "json": {"ideas": [dict(LLM_IDEA, novelty=3)]}},
    {"match": "Reflection round 1", "json": {"ideas": [LLM_IDEA]}},
    {"match": "Idea: One layer is enough", "text": "The overrides are enough.\n\nNO CHANGE\n"},
]


def test_scripted_campaign_edits_code_and_debugs(tmp_path: Path, toy_pack: Path, run_log):
    """The ideas model proposes from generation 0; a code idea is edited (a mismatch goes
    back), a broken edit is debugged from its stderr, a settings-only idea runs unchanged."""
    script = tmp_path / "script.json"
    script.write_text(json.dumps(SCRIPT))
    config = CampaignConfig(
        template=str(toy_pack),
        smoke=True,
        seeds=[0, 1],
        max_ideas=3,
        max_runs_per_idea=1,
        debug_attempts=1,
        campaign_dir=tmp_path / "c",
        models={"default": f"scripted:{script}", "write": "none", "review": "none"},
        literature="off",
    )
    campaign = start_campaign(config, quiet=True)
    entries = {e.id: e for e in campaign.archive()}
    assert list(entries) == ["0_0_bonus_term", "1_0_wider", "2_0_depth_one"]
    assert all(e.status == "done" for e in entries.values()), entries

    bonus = entries["0_0_bonus_term"]
    diff = (campaign.run_dir(bonus.id, 1) / "code.diff").read_text()
    assert "+BONUS = 0.05" in diff
    assert "BONUS = 0.05" in (campaign.idea_dir(bonus.id) / "code" / "experiment.py").read_text()
    assert bonus.runs == 1 and bonus.improvement > 0.04

    wider = entries["1_0_wider"]
    first = json.loads((campaign.run_dir(wider.id, 1) / "result.json").read_text())["result"]
    assert first["status"] == "error" and "undefined_name" in first["stderr_tail"]
    assert wider.runs == 2 and wider.metric is not None
    assert (campaign.run_dir(wider.id, 2) / "outputs" / "final_info.json").exists()

    proposed = entries["2_0_depth_one"]
    assert proposed.idea.origin == "llm" and proposed.idea.overrides == {"depth": 1}
    assert proposed.idea.novelty == 4  # the reflected idea, not the first draft
    assert (campaign.run_dir(proposed.id, 1) / "code.diff").read_text() == ""

    calls = campaign.ledger()
    assert [c.role for c in calls].count("code") == 5
    assert [c.role for c in calls].count("ideas") == 6
    assert all(c.model == f"scripted:{script}" and c.ok for c in calls)
    assert "| code | scripted:" in campaign.report_path.read_text()


def scripted_model(folder: Path, entries: list[dict]) -> str:
    """A `scripted:` model spec replaying `entries` (written to `folder/script.json`)."""
    path = folder / "script.json"
    path.write_text(json.dumps(entries))
    return f"scripted:{path}"


REVIEW_FORM = json.loads((REVIEWS_ROOT / "examples" / "evolved_merge.json").read_text("utf-8"))
AREA_CHAIR = {
    "summary": "A clean single-knob study.",
    "strengths": ["three seeds"],
    "weaknesses": ["one configuration only"],
}


@pytest.mark.latex
def test_an_llm_ensemble_reviews_every_paper_once_across_a_resume(tmp_path: Path, toy_pack):
    """Only `review` has a model: two reviewers and an area chair per paper, scripted through
    the real openai client; `scientist status` shows the decisions and the pool's calls."""
    overall = {"0_0_higher_lr": 8, "0_1_wider": 4}
    script = []
    for idea, score in overall.items():
        decision = "accept" if score >= 6 else "reject"
        review = {**REVIEW_FORM, "overall": score, "decision": decision}
        title = {"0_0_higher_lr": "tenfold", "0_1_wider": "Wider"}[idea]
        script += [{"match": f"(?s)Review the paper.*{title}", "json": review}] * 2
        script.append({"match": "(?s)area chair.*", "json": AREA_CHAIR})
    spec = scripted_model(tmp_path, script)
    config = CampaignConfig(
        template=str(toy_pack),
        smoke=True,
        seeds=[0, 1],
        max_ideas=2,
        campaign_dir=tmp_path / "c",
        models={"review": spec},
        review={"ensemble": 2, "reflections": 0},
        literature="off",
    )
    campaign = start_campaign(config, quiet=True)
    entries = {e.id: e for e in campaign.archive()}
    for idea, score in overall.items():
        reviews = sorted(p.name for p in campaign.reviews_dir(idea).iterdir())
        assert reviews == ["meta.json", "review_0.json", "review_1.json"]
        assert entries[idea].review_score == score
        assert entries[idea].decision == ("accept" if score >= 6 else "reject")
        assert entries[idea].weaknesses == ["one configuration only"]
    calls = campaign.ledger()
    assert [c.role for c in calls] == ["review"] * 6 and all(c.model == spec for c in calls)

    status = status_of(campaign.root)
    assert status.returncode == 0, status.stderr
    pool_rows = [line for line in status.stdout.splitlines() if "│ review" in line]
    assert len(pool_rows) == 1
    assert [cell.strip() for cell in pool_rows[0].strip("│").split("│")][2] == "6"
    assert "accept" in status.stdout and "reject" in status.stdout


@pytest.mark.latex
def test_the_ideas_model_is_rewarded_by_the_review_of_its_idea(tmp_path: Path, toy_pack):
    """The proposal call of an LLM idea (asked from generation 0 on) is credited when its paper
    is accepted, so a pool of ideas models learns which one proposes ideas that pass review."""
    accept = {**REVIEW_FORM, "overall": 8, "decision": "accept"}
    script = [
        {"match": "Propose 1 new research ideas", "json": {"ideas": [LLM_IDEA]}},
        {"match": "Reflection round 1", "json": {"ideas": [LLM_IDEA]}},
        *[{"match": "(?s)Review the paper", "json": accept}] * 3,
        *[{"match": "(?s)area chair", "json": AREA_CHAIR}] * 3,
    ]
    spec = scripted_model(tmp_path, script)
    config = CampaignConfig(
        template=str(toy_pack),
        smoke=True,
        seeds=[0, 1],
        max_ideas=1,
        campaign_dir=tmp_path / "c",
        models={"ideas": spec, "review": spec},
        review={"ensemble": 1, "reflections": 0},
        literature="off",
    )
    campaign = start_campaign(config, quiet=True)

    proposed = {e.id: e for e in campaign.archive()}["0_0_depth_one"]
    assert proposed.decision == "accept"
    assert proposed.idea.proposed_by in {c.call_id for c in campaign.ledger() if c.role == "ideas"}
    pool = json.loads((campaign.root / "pool.json").read_text())
    [ideas_arm] = [arm for arm in pool if arm["role"] == "ideas"]
    assert (ideas_arm["wins"], ideas_arm["losses"]) == (1, 0)
