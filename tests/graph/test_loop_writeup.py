"""Write and review inside the campaign: a paper and a review for every finished idea, none for
a failed one, the steps' switches, the literature switch, and report.md ranked by review."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.context import campaign_literature, literature_online
from scientist.graph.runner import start_campaign
from scientist.models import MetaReview, Paper
from scientist.report import generation_scores, leaderboard

BROKEN_IDEA = {
    "name": "broken",
    "title": "A knob the pack does not have",
    "hypothesis": "An unknown knob breaks the run.",
    "plan": "Run with bogus = 1.",
    "overrides": {"bogus": 1},
}


@pytest.fixture
def pack_with_a_broken_seed(toy_pack: Path, tmp_path: Path) -> Path:
    """The toy pack whose third seed idea fails (experiment.py rejects unknown keys)."""
    pack = tmp_path / "toy"
    shutil.copytree(toy_pack, pack)
    seeds = json.loads((pack / "seed_ideas.json").read_text())
    (pack / "seed_ideas.json").write_text(json.dumps([*seeds, BROKEN_IDEA]))
    return pack


def _config(pack: Path, root: Path, **changes) -> CampaignConfig:
    changes.setdefault("seeds", [0, 1])
    return CampaignConfig(template=str(pack), smoke=True, campaign_dir=root, **changes)


def _report_rows(report: str) -> list[list[str]]:
    rows = [line for line in report.splitlines() if re.match(r"^\| \d+ \|", line)]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


@pytest.mark.latex
def test_every_finished_idea_gets_a_paper_and_a_review(tmp_path, pack_with_a_broken_seed):
    config = _config(pack_with_a_broken_seed, tmp_path / "c", max_ideas=3)
    campaign = start_campaign(config, quiet=True)
    entries = {e.id: e for e in campaign.archive()}
    assert sorted(entries) == ["0_0_higher_lr", "0_1_wider", "0_2_broken"]
    broken = entries.pop("0_2_broken")
    assert broken.status == "failed" and broken.review_score is None
    assert not campaign.paper_dir(broken.id).exists()
    assert not campaign.reviews_dir(broken.id).exists()
    for entry in entries.values():
        paper = Paper.model_validate_json((campaign.paper_dir(entry.id) / "paper.json").read_text())
        assert paper.compiled and (campaign.paper_dir(entry.id) / "paper.pdf").stat().st_size > 0
        meta = MetaReview.model_validate_json(
            (campaign.reviews_dir(entry.id) / "meta.json").read_text()
        )
        assert meta.reviewer == "rubric" and (campaign.reviews_dir(entry.id) / "review_0.json")
        assert entry.review_score == meta.overall and entry.decision == meta.decision
        assert entry.weaknesses == meta.weaknesses[:3]
    # the seed with the tenfold gain is reviewed higher than the one with the small gain
    assert entries["0_0_higher_lr"].review_score > entries["0_1_wider"].review_score

    report = campaign.report_path.read_text()
    rows = _report_rows(report)
    assert [row[1].split("**")[1] for row in rows] == ["0_0_higher_lr", "0_1_wider", "0_2_broken"]
    lower_bounds = [entries[row[1].split("**")[1]].gain.low for row in rows[:2]]
    assert lower_bounds == sorted(lower_bounds, reverse=True)  # ranked by the gain's bound
    assert rows[0][4].startswith(f"{entries['0_0_higher_lr'].effect.mean:+.4g} [")
    assert "(vs the campaign baseline" in rows[0][4]
    assert rows[0][7] == entries["0_0_higher_lr"].decision
    assert "[paper.pdf](ideas/0_0_higher_lr/paper/paper.pdf)" in rows[0][9]
    assert "[reviews](ideas/0_0_higher_lr/reviews)" in rows[0][9]
    assert rows[2][9] == "—"
    seed_mean = sum(e.review_score for e in entries.values()) / 2
    assert f"first generation (seed ideas): {seed_mean:.4g} (2 reviewed)" in report
    assert "ideas bred from reviewed parents: — (0 reviewed)" in report


def test_switched_off_steps_leave_no_paper_or_review(tmp_path, toy_pack):
    root = tmp_path / "c"
    no_writeup = start_campaign(
        _config(toy_pack, root, max_ideas=1, writeup={"enabled": False}), quiet=True
    )
    (entry,) = no_writeup.archive()
    assert entry.status == "done" and entry.review_score is None
    assert not no_writeup.paper_dir(entry.id).exists()
    assert not no_writeup.reviews_dir(entry.id).exists()


@pytest.mark.latex
def test_review_switched_off_keeps_the_paper(tmp_path, toy_pack):
    campaign = start_campaign(
        _config(toy_pack, tmp_path / "c", max_ideas=1, review={"enabled": False}), quiet=True
    )
    (entry,) = campaign.archive()
    assert (campaign.paper_dir(entry.id) / "paper.pdf").is_file()
    assert not campaign.reviews_dir(entry.id).exists() and entry.review_score is None


@pytest.mark.parametrize(
    ("models", "setting", "env", "online"),
    [
        ("none", "semantic_scholar", None, False),
        ("scripted", "semantic_scholar", None, True),
        ("scripted", "off", None, False),
        ("scripted", "semantic_scholar", "off", False),
    ],
)
def test_literature_goes_online_only_for_model_campaigns_with_it_on(
    tmp_path, toy_pack, monkeypatch, models, setting, env, online
):
    if env is None:
        monkeypatch.delenv("SCIENTIST_LITERATURE", raising=False)
    else:
        monkeypatch.setenv("SCIENTIST_LITERATURE", env)
    config = _config(toy_pack, tmp_path / "c", literature=setting)
    campaign = Campaign.create(tmp_path / "c", config)
    router = SimpleNamespace(offline=models == "none")  # the part of the LLM router it reads
    assert literature_online(config, router) is online
    literature = campaign_literature(campaign, online=online)
    assert literature.offline is not online
    assert literature.cache_dir == campaign.root / "literature"


@pytest.mark.slow
@pytest.mark.latex
def test_ideas_are_bred_from_the_best_measured_parents(tmp_path, toy_pack):
    """Offline breeding picks parents by `fitness`, the lower bound of the gain's interval
    over the baseline, among the ideas the review did not reject: after the seed generation
    (a tenfold learning rate, the toy's optimum, and a wider layer) the first child starts
    from the better-measured seed idea, and every child is measured against its parent's
    settings. Batch scheduling makes every parent's review arrive before its children are
    bred, so the gate sees it."""
    config = _config(toy_pack, tmp_path / "c", max_ideas=6, seeds=[0, 1, 2], scheduling="batch")
    campaign = start_campaign(config, quiet=True)
    entries = campaign.archive()
    assert len(entries) == 6
    assert all(e.review_score is not None for e in entries if e.status == "done")
    by_id = {e.id: e for e in entries}
    seeds = [e for e in entries if e.idea.generation == 0]
    first_child = next(e for e in entries if e.idea.generation == 1)
    assert first_child.idea.parents == [max(seeds, key=lambda e: e.fitness).id]
    for child in (e for e in entries if e.idea.parents):
        parent = by_id[child.idea.parents[0]]
        assert parent.may_parent and parent.decision == "accept"
        assert child.control.startswith(f"its parent {parent.id}'s settings")
        assert child.effect.vs.startswith(("ideas/", "controls/"))
    first, _ = generation_scores(entries)
    assert len(first) == 2
    report = campaign.report_path.read_text()
    assert report.index("## Headline") < report.index("## Leaderboard")
    best = leaderboard(entries)[0]
    assert f"- Best of 6 idea(s) tested: **{best.id}** ({best.idea.title}): effect " in report
    assert "on fresh seeds" in report
    bred_best = next(e for e in leaderboard(entries) if e.idea.parents)
    parents = ", ".join(f"**{parent}**" for parent in bred_best.idea.parents)
    assert f"- Best idea bred from reviewed parents ({parents}): **{bred_best.id}**" in report
