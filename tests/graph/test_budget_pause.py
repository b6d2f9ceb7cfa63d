"""A budget stop is a pause: the run that succeeded keeps its result, `status` and the report
say "paused: budget", and `resume --budget-usd` continues at the paused step until the idea
has its paper and reviews, with no run repeated and no request sent twice. Resuming with
exactly the budget a pause prints finishes the step it held: with its model when the
reservation suffices, else offline once the budget runs out again."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from scientist.config import CampaignConfig, load_config
from scientist.errors import ConfigError
from scientist.graph.runner import resume_campaign, start_campaign
from scientist.graph.steps import most_calls
from scientist.llm.replay_server import ReplayServer
from scientist.pause import round_up
from scientist.view.activity import read_activity
from tests.graph.scripted_campaign import (
    BLOCK,
    CALL_USD,
    IMPLEMENT,
    PRICE,
    RESERVE_USD,
    SPEC,
    USAGE,
    pack_without_seeds,
    script,
    status_of,
    write_config,
)

pytestmark = [pytest.mark.slow, pytest.mark.latex]

IDEA_ID = "0_0_depth_one"


def test_a_budget_pause_resumes_with_a_raised_budget(
    tmp_path: Path, run_log, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    edit = BLOCK.format(old="BONUS = 0.05", new="BONUS = 0.06")
    second_run = {"match": IMPLEMENT, "text": edit, "usage": USAGE}
    # propose, reflect, implement, mismatch fit; the second run's implement call does not
    budget = RESERVE_USD + 4 * CALL_USD - CALL_USD / 2
    with ReplayServer([*script(), second_run]) as server:
        path = write_config(tmp_path, server.url, pack_without_seeds(tmp_path), max_runs_per_idea=2)
        overrides = {"budget_usd": budget, "campaign_dir": str(tmp_path / "c")}
        campaign = start_campaign(load_config(path, overrides), quiet=True)

        [paused] = campaign.archive()
        assert paused.status == "done" and paused.metric is not None and paused.runs == 1
        pause = json.loads((campaign.root / "pause.json").read_text())
        assert pause["step"] == f"{IDEA_ID}: experiment"
        assert "paused: budget" in campaign.report_path.read_text()
        status = status_of(campaign.root)
        assert status.returncode == 0 and "paused: budget" in status.stdout
        assert re.search(rf"in flight: {IDEA_ID} \(experiment, slot 0, \d+ (s|min)", status.stdout)
        activity = read_activity(campaign)  # what the view shows, from the same checkpoint
        assert activity.state == "paused" and activity.badge == "stopped"
        [job] = activity.jobs
        assert (job.idea_id, job.step, job.slot) == (IDEA_ID, "experiment", 0)
        assert job.since is not None and job.since <= time.time()

        with pytest.raises(ConfigError, match="not above what"):
            resume_campaign(campaign.root, quiet=True, budget_usd=CALL_USD)
        resumed = resume_campaign(campaign.root, quiet=True, budget_usd=100.0)
        fingerprints = server.fingerprints

    [entry] = resumed.archive()
    assert entry.status == "done", entry.error
    assert entry.runs == 2 and entry.review_score == 7
    assert resumed.paper_dir(IDEA_ID).joinpath("paper.pdf").is_file()
    assert '"n_reviews": 2' in resumed.reviews_dir(IDEA_ID).joinpath("meta.json").read_text()
    assert not (resumed.root / "pause.json").exists()
    assert "paused" not in resumed.report_path.read_text()
    assert len(fingerprints) == len(set(fingerprints))
    starts = [run for event, run in run_log() if event == "start"]
    assert len(starts) == len(set(starts))  # nothing ran twice across the pause
    controls = [run for run in starts if run.startswith("control_")]
    assert len(controls) == 2  # the code idea's control, and again on the confirmation seeds
    ideas = {"baseline/run_0", f"{IDEA_ID}/run_1", f"{IDEA_ID}/run_2", f"{IDEA_ID}/run_0"}
    assert set(starts) - set(controls) == ideas  # run_0: the confirmation on fresh seeds
    assert resumed.config.budget_usd == 100.0


def test_a_pause_in_one_of_parallel_ideas_lets_the_other_finish(
    tmp_path: Path, toy_pack: Path, run_log, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    answers = [
        {"match": f"Idea: {title}", "text": "NO CHANGE\n", "usage": USAGE}
        for title in ("A tenfold", "Wider")
    ]
    with ReplayServer(answers) as server:
        models = {"default": "none", "code": SPEC, "base_url": f"{server.url}/v1"}
        config = CampaignConfig(
            template=str(toy_pack),
            smoke=True,
            seeds=[0],
            max_ideas=2,
            max_parallel=2,
            max_runs_per_idea=1,
            campaign_dir=tmp_path / "c",
            budget_usd=RESERVE_USD + CALL_USD / 2,  # one call fits, the other idea pauses
            literature="off",
            models={**models, "prices": {SPEC: PRICE}},
        )
        campaign = start_campaign(config, quiet=True)
        statuses = sorted(entry.status for entry in campaign.archive())
        assert statuses == ["done", "selected"]
        # counted once the other idea's call is paid: its reservation is no longer committed
        hint = json.loads((campaign.root / "pause.json").read_text())["needed_usd"]
        assert hint == round_up(CALL_USD + RESERVE_USD * most_calls("experiment", config))
        resumed = resume_campaign(campaign.root, quiet=True, budget_usd=hint)
        fingerprints = server.fingerprints

    entries = resumed.archive()
    assert [entry.status for entry in entries] == ["done", "done"]
    assert all(resumed.reviews_dir(entry.id).joinpath("meta.json").is_file() for entry in entries)
    assert len(fingerprints) == 2 == len(set(fingerprints))
    starts = [run for event, run in run_log() if event == "start"]
    assert len(starts) == len(set(starts)) == 3 + 2  # and the best idea's confirmation


def test_resuming_with_the_hinted_budget_finishes_the_held_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """From a budget that refuses the first call, each resume with exactly the budget the
    pause printed finishes the step the pause held, with its model: a later pause holds a
    later step, every scripted answer is asked for once, and the campaign ends reviewed."""
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    answers = script()
    order = ["ideas (generation 0)", "experiment", "write", "review"]
    with ReplayServer(answers) as server:
        path = write_config(tmp_path, server.url, pack_without_seeds(tmp_path))
        overrides = {"budget_usd": RESERVE_USD - CALL_USD, "campaign_dir": str(tmp_path / "c")}
        campaign = start_campaign(load_config(path, overrides), quiet=True)
        held = []
        while (campaign.root / "pause.json").exists():
            pause = json.loads((campaign.root / "pause.json").read_text())
            held.append(order.index(pause["step"].split(": ")[-1]))
            hint = re.search(
                r"continue with: scientist resume \S+ --budget-usd (\S+)\n", capsys.readouterr().out
            )
            assert hint is not None and float(hint[1]) == pause["needed_usd"]
            campaign = resume_campaign(campaign.root, quiet=True, budget_usd=float(hint[1]))
        fingerprints = server.fingerprints

    assert held and held == sorted(set(held))  # no step was held twice
    assert len(fingerprints) == len(set(fingerprints)) == len(answers)
    [entry] = campaign.archive()
    assert entry.status == "done" and entry.review_score == 7


def test_a_held_step_the_resumed_budget_cannot_pay_finishes_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paper paused before its first draft, resumed with room for a few calls only: the
    writer drafts until the budget runs out again, then the step finishes with the offline
    writer, so the paper is there; the campaign pauses again at the review."""
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    with ReplayServer(script()) as server:
        path = write_config(tmp_path, server.url, pack_without_seeds(tmp_path))
        # ideas and experiment (four calls) fit; the first draft does not
        budget = RESERVE_USD + 3.5 * CALL_USD
        overrides = {"budget_usd": budget, "campaign_dir": str(tmp_path / "c")}
        campaign = start_campaign(load_config(path, overrides), quiet=True)
        pause = json.loads((campaign.root / "pause.json").read_text())
        assert pause["step"] == f"{IDEA_ID}: write" and pause["held"] == [IDEA_ID]
        assert not campaign.paper_dir(IDEA_ID).joinpath("paper.pdf").exists()
        sent = len(server.fingerprints)
        room = campaign.spent_usd() + RESERVE_USD + 2.5 * CALL_USD  # three drafts
        resumed = resume_campaign(campaign.root, quiet=True, budget_usd=room)
        drafts = len(server.fingerprints) - sent

    assert drafts == 3
    assert resumed.paper_dir(IDEA_ID).joinpath("paper.pdf").is_file()
    again = json.loads((resumed.root / "pause.json").read_text())
    assert again["step"] == f"{IDEA_ID}: review"
    [entry] = resumed.archive()
    assert entry.status == "done" and entry.review_score is None
