"""Offline campaigns end to end on the toy pack, in process and through the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.errors import CampaignError, ConfigError
from scientist.graph.build import read_state
from scientist.graph.runner import resume_campaign, start_campaign
from scientist.report import best_idea


def _config(toy_pack: Path, root: Path, **changes) -> CampaignConfig:
    return CampaignConfig(
        template=str(toy_pack), smoke=True, campaign_dir=root, seeds=[0, 1], **changes
    )


def test_offline_campaign_runs_every_idea_once(tmp_path, toy_pack, run_log):
    config = _config(toy_pack, tmp_path / "c", max_ideas=4, writeup={"enabled": False})
    campaign = start_campaign(config, quiet=True)
    entries = campaign.archive()
    assert len(entries) == 4 and all(e.status == "done" for e in entries)
    assert [e.id for e in entries][:2] == ["0_0_higher_lr", "0_1_wider"]
    bred = [e for e in entries if e.idea.origin == "offline"]
    assert bred and all(e.idea.parents for e in bred)
    baseline = json.loads((campaign.baseline_dir / "outputs" / "final_info.json").read_text())
    for entry in entries:
        outputs = campaign.run_dir(entry.id, 1) / "outputs"
        info = json.loads((outputs / "final_info.json").read_text())
        assert entry.metric == info["metrics"]["score"]["mean"]
        expected = info["metrics"]["score"]["mean"] - baseline["metrics"]["score"]["mean"]
        assert abs(entry.improvement - expected) < 1e-12
        assert info["config"]["seeds"] == [0, 1]
    started = [run for event, run in run_log() if event == "start"]
    best = best_idea(entries)
    confirmation = [f"{best.id}/run_0", f"control_{best.confirmation.vs.split('/')[1]}/run_0"]
    assert best.confirmation.vs.startswith("controls/")  # the baseline's settings, new seeds
    expected = ["baseline/run_0", *(f"{e.id}/run_1" for e in entries), *confirmation]
    assert sorted(started) == sorted(expected)  # each once; the controls were run already
    report = campaign.report_path.read_text()
    assert all(e.id in report for e in entries) and "Baseline" in report
    assert read_state(campaign).get("stop_reason") is None


def test_resuming_a_finished_campaign_says_so_and_runs_nothing(tmp_path, toy_pack, run_log, capsys):
    config = _config(toy_pack, tmp_path / "c", max_ideas=1, writeup={"enabled": False})
    campaign = start_campaign(config, quiet=True)
    runs_before = run_log()
    capsys.readouterr()
    resume_campaign(campaign.root, quiet=True)
    assert "already finished (ideas done: 1); nothing to do" in capsys.readouterr().out
    assert run_log() == runs_before


@pytest.mark.latex
def test_parallel_ideas_share_the_loop(tmp_path, toy_pack, run_log):
    campaign = start_campaign(
        _config(toy_pack, tmp_path / "c", max_ideas=4, max_parallel=2), quiet=True
    )
    entries = campaign.archive()
    assert len(entries) == 4 and all(e.status == "done" for e in entries)
    assert len({e.idea.generation for e in entries}) == 2
    done = [run for event, run in run_log() if event == "done"]
    assert len(done) == 5 + 2  # the baseline, four ideas, and the best idea's confirmation
    for entry in entries:  # each idea's chain wrote and reviewed its own paper
        assert (campaign.paper_dir(entry.id) / "paper.pdf").is_file()
        assert (campaign.reviews_dir(entry.id) / "meta.json").is_file()


def test_stop_file_ends_cleanly_and_resume_continues(tmp_path, toy_pack):
    root = tmp_path / "c"
    config = _config(toy_pack, root, max_ideas=3, writeup={"enabled": False})
    root.mkdir()
    (root / "STOP").write_text("")
    campaign = start_campaign(config, quiet=True)  # the baseline runs; no idea starts
    assert (root / "baseline/run_0/result.json").is_file()
    assert [e for e in campaign.archive() if e.status != "proposed"] == []
    assert read_state(campaign)["stop_reason"] == "stop file"
    resumed = resume_campaign(root, quiet=True)
    assert [e.status for e in resumed.archive()] == ["done"] * 3


@pytest.mark.parametrize(
    ("llm", "expected"),
    [("gpt-4o", "unknown model 'gpt-4o'"), ("scripted:/missing.json", "does not exist")],
)
def test_bad_model_fails_before_any_run_and_leaves_no_campaign(tmp_path, toy_pack, llm, expected):
    root = tmp_path / "c"
    with pytest.raises(ConfigError, match=expected):
        start_campaign(_config(toy_pack, root, models={"default": llm}), quiet=True)
    assert not root.exists()


def test_campaign_path_under_a_file_is_refused(tmp_path, toy_pack):
    (tmp_path / "file").write_text("")
    with pytest.raises(CampaignError, match="is a file"):
        start_campaign(_config(toy_pack, tmp_path / "file" / "c"), quiet=True)


def test_cli_run_status_ideas(tmp_path, toy_pack):
    root = tmp_path / "c"
    scientist = [sys.executable, "-m", "scientist"]
    run = subprocess.run(
        [
            *scientist,
            "run",
            "--template",
            str(toy_pack),
            "--llm",
            "none",
            "--ideas",
            "3",
            "--smoke",
            "--campaign",
            str(root),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert f"report: {root / 'report.md'}" in run.stdout
    status = subprocess.run(
        [*scientist, "status", str(root)], capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0
    for entry in Campaign.open(root).archive():
        assert entry.id in status.stdout
    assert "baseline score" in status.stdout and "$0.0000" in status.stdout
    ideas = subprocess.run([*scientist, "ideas", str(root)], capture_output=True, text=True)
    assert "0_0_higher_lr" in ideas.stdout and "seed" in ideas.stdout
    again = subprocess.run(
        [*scientist, "run", "--template", str(toy_pack), "--campaign", str(root)],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 2 and "already holds a campaign" in again.stderr


def test_cli_templates_list_and_check(toy_pack, run_cache):
    scientist = [sys.executable, "-m", "scientist", "templates"]
    listing = subprocess.run([*scientist, "list"], capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0 and "merge" in listing.stdout and "namm" in listing.stdout
    check = subprocess.run(
        [*scientist, "check", str(toy_pack)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stderr
    assert "ok: toy: manifest, 2 seed ideas, smoke run score =" in check.stdout
    missing = subprocess.run([*scientist, "check", "nope"], capture_output=True, text=True)
    assert missing.returncode == 2 and "no experiment pack 'nope'" in missing.stderr


def test_cli_templates_check_fails_a_seed_idea_that_is_the_baseline(toy_pack, run_cache, tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(toy_pack, pack)
    idea = {"name": "same", "title": "t", "hypothesis": "h", "plan": "p", "overrides": {"lr": 0.01}}
    (pack / "seed_ideas.json").write_text(json.dumps([idea]))
    check = subprocess.run(
        [sys.executable, "-m", "scientist", "templates", "check", str(pack)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 2
    assert "seed idea(s) same of pack 'toy' resolve to the baseline's configuration" in (
        check.stderr
    )
