"""A budget stop is a pause: the run that succeeded keeps its result, `status` and the report
say "paused: budget", and `resume --budget-usd` continues at the paused step until the idea
has its paper and reviews, with no run repeated and no request sent twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scientist.config import load_config
from scientist.errors import ConfigError
from scientist.graph.runner import resume_campaign, start_campaign
from scientist.llm.replay_server import ReplayServer
from tests.graph.scripted_campaign import (
    CALL_USD,
    IMPLEMENT,
    RESERVE_USD,
    USAGE,
    pack_without_seeds,
    script,
    write_config,
)

pytestmark = [pytest.mark.slow, pytest.mark.latex]

IDEA_ID = "0_0_depth_one"


def test_a_budget_pause_resumes_with_a_raised_budget(
    tmp_path: Path, run_log, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    second_run = {"match": IMPLEMENT, "text": "No code change is needed.\n", "usage": USAGE}
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
        status = subprocess.run(
            [sys.executable, "-m", "scientist", "status", str(campaign.root)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "250"},
        )
        assert status.returncode == 0 and "paused: budget" in status.stdout

        with pytest.raises(ConfigError, match="not above what"):
            resume_campaign(campaign.root, quiet=True, budget_usd=CALL_USD)
        resumed = resume_campaign(campaign.root, quiet=True, budget_usd=100.0)
        fingerprints = server.fingerprints

    [entry] = resumed.archive()
    assert entry.status == "done" and entry.runs == 2 and entry.review_score == 7
    assert resumed.paper_dir(IDEA_ID).joinpath("paper.pdf").is_file()
    assert '"n_reviews": 2' in resumed.reviews_dir(IDEA_ID).joinpath("meta.json").read_text()
    assert not (resumed.root / "pause.json").exists()
    assert "paused" not in resumed.report_path.read_text()
    assert len(fingerprints) == len(set(fingerprints))
    starts = [run for event, run in run_log() if event == "start"]
    assert sorted(starts) == sorted(["baseline/run_0", f"{IDEA_ID}/run_1", f"{IDEA_ID}/run_2"])
    assert resumed.config.budget_usd == 100.0
