"""Multi-LLM AB-MCTS end to end: two scripted code models through the real openai client,
the real model pool and ledger, the toy pack run in the local sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.context import open_context
from scientist.experiments.search_develop import develop_by_search
from scientist.graph.nodes import baseline
from scientist.graph.runner import start_campaign
from scientist.llm import open_llm
from scientist.models import ArchiveEntry, Idea
from scientist.sandbox import open_sandbox

pytestmark = pytest.mark.slow


def block(search: str, replace: str) -> str:
    return f"experiment.py\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"


def write_scripts(folder: Path) -> tuple[Path, Path]:
    """`good` repairs a broken file and raises BONUS one step at a time; `bad` breaks it.
    A fresh draft's request shows no code (the pack is in the first message), a successful
    parent's shows its diff, a failed parent's its changed files in full."""
    broken, working = "def main( -> None:", "def main() -> None:"
    good = [{"text": block(broken, working), "match": r"def main\( -> None:"}] * 3
    steps = (("No runs yet", "0.0", "0.05"), ("+BONUS = 0.05\n", "0.05", "0.1"))
    for shown, before, after in (*steps, ("+BONUS = 0.1\n", "0.1", "0.15")):
        answer = "Raising the bonus.\n" + block(f"BONUS = {before}", f"BONUS = {after}")
        good += [{"text": answer, "match": shown}] * 4
    bad = [{"text": block(working, broken)}] * 12
    paths = folder / "good.json", folder / "bad.json"
    for path, entries in zip(paths, (good, bad), strict=True):
        path.write_text(json.dumps(entries))
    return paths


def test_two_scripted_models_search_and_the_pool_learns_which_writes_working_code(
    tmp_path: Path, toy_pack: Path, run_cache: Path
) -> None:
    good, bad = write_scripts(tmp_path)
    config = CampaignConfig(
        template=str(toy_pack),
        smoke=True,
        seeds=[0],
        search="abmcts",
        search_budget=6,
        models={"code": [f"scripted:{good}", f"scripted:{bad}"]},
    )
    campaign = Campaign.create(tmp_path / "campaign", config)
    sandbox = open_sandbox(config.sandbox, campaign=campaign.name)
    with open_llm(config.models, campaign=campaign, seed=0) as llm:
        ctx = open_context(campaign, sandbox=sandbox, llm=llm)
        base = baseline(ctx, {})["baseline"]
        idea = Idea(name="bonus", title="Bonus", hypothesis="A bonus helps.", plan="Add it.")
        entry = ArchiveEntry(id="1_bonus", idea=idea, status="selected")
        outcome = develop_by_search(ctx, ctx.model("code"), entry, base, [])
        stats = {arm.model: arm for arm in llm.stats() if arm.role == "code"}

    assert outcome.entry.status == "done"
    assert outcome.entry.improvement == pytest.approx(outcome.entry.metric - base.metric("score"))
    assert outcome.entry.improvement >= 0.05 - 1e-9
    best = max((run for run in outcome.runs if run.result.ok), key=lambda run: run.metric("score"))
    assert "+BONUS = " in (best.run_dir / "code.diff").read_text()
    good_arm, bad_arm = stats[f"scripted:{good}"], stats[f"scripted:{bad}"]
    assert good_arm.wins > 0 and bad_arm.wins == 0
    assert good_arm.calls + bad_arm.calls == len(campaign.ledger())
    assert {entry.model for entry in campaign.ledger()} <= {f"scripted:{good}", f"scripted:{bad}"}


def test_a_campaign_with_abmcts_search_develops_its_idea_through_the_tree(
    tmp_path: Path, toy_pack: Path, run_cache: Path
) -> None:
    good, bad = write_scripts(tmp_path)
    config = CampaignConfig(
        template=str(toy_pack),
        campaign_dir=tmp_path / "campaign",
        smoke=True,
        seeds=[0],
        max_ideas=1,
        search="abmcts",
        search_budget=5,
        models={"code": [f"scripted:{good}", f"scripted:{bad}"]},
        writeup={"enabled": False},
        review={"enabled": False},
    )
    campaign = start_campaign(config, quiet=True)

    [entry] = campaign.archive()
    assert entry.status == "done" and entry.improvement is not None
    nodes = sorted((campaign.idea_dir(entry.id) / "search").glob("node_*"))
    assert len(nodes) == len(campaign.ledger()) == 5
    assert {row.role for row in campaign.ledger()} == {"code"}
