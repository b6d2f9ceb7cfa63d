"""Every effect against its own control, on the toy pack: a bred idea against its parent, a
change without effect, and the best idea confirmed on seeds that played no part in choosing
it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.comparison import measure_effect
from scientist.config import CampaignConfig
from scientist.context import open_context
from scientist.experiments.controls import fresh_seeds
from scientist.graph.build import read_state
from scientist.graph.nodes import confirm_best
from scientist.graph.runner import start_campaign
from scientist.graph.state import Flight
from scientist.graph.steps import experiment
from scientist.ideas.breeding import breed_ideas
from scientist.models import ArchiveEntry, ExperimentRun, FinalInfo, Idea, RunResult
from scientist.report import render_report


def _pack(tmp_path: Path, toy_pack: Path, seeds: list[dict], *, bonus: float = 0.0) -> Path:
    """The toy pack with its own seed ideas (and a score `bonus` for every run)."""
    pack = tmp_path / "toy"
    shutil.copytree(toy_pack, pack)
    (pack / "seed_ideas.json").write_text(json.dumps(seeds))
    if bonus:
        script = pack / "experiment.py"
        script.write_text(script.read_text().replace("BONUS = 0.0", f"BONUS = {bonus}"))
    return pack


def _seed(name: str, overrides: dict) -> dict:
    return {"name": name, "title": name, "hypothesis": "h", "plan": "p", "overrides": overrides}


def _campaign(pack: Path, root: Path, **changes) -> Campaign:
    config = CampaignConfig(
        template=str(pack),
        smoke=True,
        campaign_dir=root,
        seeds=[0, 1, 2],
        writeup={"enabled": False},
        **changes,
    )
    return start_campaign(config, quiet=True)


def test_a_bred_idea_identical_to_its_parent_has_no_effect(tmp_path, toy_pack, run_log):
    """depth 1 and depth 3 score alike in the toy pack: the child's control is its parent's
    run (reused, not run again), the child is `no_effect`, gets no paper, is never a parent,
    and its knob change from the parent is not proposed again."""
    pack = _pack(tmp_path, toy_pack, [_seed("shallow", {"depth": 1})])
    campaign = _campaign(pack, tmp_path / "c", max_ideas=1, confirm_seeds=0)
    [parent] = campaign.archive()
    assert parent.status == "done" and parent.control and "campaign baseline" in parent.control
    assert parent.effect == parent.gain and parent.effect.vs == "baseline/run_0"

    child_idea = Idea(
        name="deeper", title="deeper", hypothesis="h", plan="p",
        overrides={"depth": 3}, parents=[parent.id], generation=1,
    )  # fmt: skip
    child = ArchiveEntry(id="1_0_deeper", idea=child_idea, status="selected")
    campaign.record_idea(child)
    ctx = open_context(campaign, literature=False)
    baseline = read_state(campaign)["baseline"]
    runs_before = run_log()
    result = experiment(ctx, child, Flight(idea_id=child.id, slot=0), baseline)

    entry = result.entry
    assert entry.status == "no_effect" and result.flight is None  # no paper, no review
    assert entry.effect.vs == f"ideas/{parent.id}/runs/run_1" and entry.effect.mean == 0
    assert f"its parent {parent.id}'s settings" in entry.control
    assert entry.gain.vs == "baseline/run_0"
    assert [run for _, run in run_log()[len(runs_before) :]] == [
        "1_0_deeper/run_1",
        "1_0_deeper/run_1",
    ]  # start and done of the child's run only: the parent's run is its control
    assert not entry.may_parent

    defaults = baseline.final_info.config
    archive = campaign.archive()
    children = breed_ideas(
        ctx.template.manifest, archive, defaults=defaults, generation=2, count=30, seed=3
    )
    assert children
    for idea in children:
        assert "1_0_deeper" not in idea.parents
        changed = {k for k, v in idea.overrides.items() if {"depth": 1}.get(k) != v}
        assert changed != {"depth"}, idea.overrides  # depth alone, from the parent: no effect


def test_controls_are_shared_and_run_once(tmp_path, toy_pack, run_log):
    """Two settings ideas share the campaign baseline as their control: nothing runs twice."""
    pack = _pack(tmp_path, toy_pack, [_seed("wide", {"width": 32}), _seed("fast", {"lr": 0.1})])
    campaign = _campaign(pack, tmp_path / "c", max_ideas=2, confirm_seeds=0)
    entries = campaign.archive()
    assert {e.effect.vs for e in entries} == {"baseline/run_0"}
    assert all(e.effect.test == "paired" and e.effect.n == [3, 3] for e in entries)
    started = sorted(run for event, run in run_log() if event == "start")
    assert started == sorted(["baseline/run_0", *(f"{e.id}/run_1" for e in entries)])


def test_the_best_idea_is_confirmed_on_fresh_seeds(tmp_path, toy_pack, run_log):
    pack = _pack(tmp_path, toy_pack, [_seed("wide", {"width": 32})])
    campaign = _campaign(pack, tmp_path / "c", max_ideas=1, confirm_seeds=3)
    [entry] = campaign.archive()
    assert fresh_seeds(open_context(campaign, literature=False)) == [3, 4, 5]
    rerun = json.loads((campaign.idea_dir(entry.id) / "confirm/run/overrides.json").read_text())
    assert rerun["seeds"] == [3, 4, 5] and not set(rerun["seeds"]) & {0, 1, 2}
    assert entry.confirmation is not None and entry.confirmation.n == [3, 3]
    assert entry.confirmation.vs.startswith("controls/")  # the baseline's settings, new seeds
    control = campaign.root / entry.confirmation.vs
    assert json.loads((control / "overrides.json").read_text())["seeds"] == [3, 4, 5]
    assert entry.confirmed is True
    report = campaign.report_path.read_text()
    assert "Best of 1 idea(s) tested" in report and "Confirmed on fresh seeds" in report

    runs = len(run_log())
    confirm_best(open_context(campaign, literature=False), read_state(campaign)["baseline"])
    assert len(run_log()) == runs  # confirmed once, never again


def test_a_winner_that_does_not_confirm_is_reported_so(tmp_path, toy_pack):
    """The selection runs scored with a bonus that the fresh-seed runs do not get (the pack
    is edited between the campaign and its confirmation): the winner's effect vanishes on
    fresh seeds, and the headline says so plainly."""
    pack = _pack(tmp_path, toy_pack, [_seed("wide", {"width": 32})])
    campaign = _campaign(pack, tmp_path / "c", max_ideas=1, confirm_seeds=0)
    [entry] = campaign.archive()
    assert entry.effect.low > 0 and entry.confirmation is None
    assert "Not confirmed on fresh seeds (confirm_seeds = 0)" in campaign.report_path.read_text()

    script = pack / "experiment.py"  # from now on, width no longer matters
    script.write_text(
        script.read_text().replace('(math.log2(config["width"]) - 5)', "(math.log2(16) - 5)")
    )
    campaign.update_config(confirm_seeds=3)
    reopened = Campaign.open(campaign.root)
    ctx = open_context(reopened, literature=False)
    confirm_best(ctx, read_state(reopened)["baseline"])
    [entry] = reopened.archive()
    assert entry.confirmation is not None and entry.confirmed is False
    report = render_report(reopened, ctx.template, read_state(reopened)["baseline"], [entry])
    assert "**Did not confirm** on fresh seeds" in report


def test_effects_are_paired_on_shared_seeds():
    seeds = [0, 1, 2]

    def run(values: list[float], run_seeds: list[int]) -> ExperimentRun:
        info = FinalInfo(metrics={"m": {"values": values}}, seeds=run_seeds, runtime_s=1)
        result = RunResult(exit_code=0, status="ok")
        return ExperimentRun(idea_id="i", index=1, result=result, final_info=info, run_dir=".")

    treated, control = run([1.0, 2.0, 3.1], seeds), run([0.9, 1.9, 3.0], seeds)
    paired = measure_effect(treated, control, "m", "maximize", vs="c")
    assert paired.test == "paired" and paired.low > 0  # a consistent +0.1 a seed
    welch = measure_effect(treated, run([0.9, 1.9, 3.0], [7, 8, 9]), "m", "maximize", vs="c")
    assert welch.test == "welch" and welch.low < 0  # the spread across seeds swamps it
    lower_is_better = measure_effect(control, treated, "m", "minimize", vs="c")
    assert lower_is_better.mean == pytest.approx(0.1) and lower_is_better.low > 0
