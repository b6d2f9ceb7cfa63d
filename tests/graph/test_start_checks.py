"""Before any sandbox work: a budget with an unpriced model is refused, and a model that does
not answer (a server down) is one line naming it and its URL. A model that fails for good
fails its idea; the campaign goes on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign
from scientist.report import campaign_warnings
from tests.graph.scripted_campaign import REPO

UNPRICED = "openai:llama-3.1-70b-instruct"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _scientist(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scientist", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO), "OPENAI_API_KEY": "test-key", **env},
    )


def test_an_unpriced_model_under_a_budget_is_refused(tmp_path: Path, toy_pack: Path, run_log):
    args = ["run", "--template", str(toy_pack), "--llm", UNPRICED, "--budget-usd", "0.01"]
    refused = _scientist([*args, "--campaign", "c"], tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"{UNPRICED} has no price" in refused.stderr.splitlines()[0]
    assert "--allow-unpriced" in refused.stderr
    assert not (tmp_path / "c").exists() and run_log() == []


def test_a_server_that_is_down_is_one_line_before_any_run(tmp_path: Path, toy_pack: Path, run_log):
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    args = ["run", "--template", str(toy_pack), "--llm", UNPRICED, "--budget-usd", "0.01"]
    down = _scientist([*args, "--allow-unpriced", "--campaign", "c"], tmp_path, OPENAI_BASE_URL=url)
    assert down.returncode == 2 and "Traceback" not in down.stderr
    first = down.stderr.splitlines()[0]
    assert UNPRICED in first and url in first and "unreachable" in first
    assert not (tmp_path / "c").exists() and run_log() == []


def test_a_resume_checks_the_models_first(tmp_path: Path, toy_pack: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    models = {"default": "openai:gpt-4o", "base_url": url}
    campaign = Campaign.create(
        tmp_path / "c", CampaignConfig(template=str(toy_pack), models=models)
    )
    down = _scientist(["resume", str(campaign.root)], tmp_path)
    assert down.returncode == 2 and "Traceback" not in down.stderr
    assert url in down.stderr.splitlines()[0] and "unreachable" in down.stderr


def test_allowed_unpriced_models_are_a_warning(tmp_path: Path):
    config = CampaignConfig(
        template="merge",
        budget_usd=1.0,
        models={"default": UNPRICED, "allow_unpriced": True},
    )
    campaign = Campaign.create(tmp_path / "c", config)
    [warning] = campaign_warnings(campaign)
    assert UNPRICED in warning and "--allow-unpriced" in warning


@pytest.mark.latex
def test_a_writer_that_never_answers_in_format_fails_only_its_idea(tmp_path: Path, toy_pack):
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"text": "no JSON here"}] * 6))
    config = CampaignConfig(
        template=str(toy_pack),
        smoke=True,
        seeds=[0],
        max_ideas=2,
        campaign_dir=tmp_path / "c",
        models={"write": f"scripted:{script}", "format_retries": 2},
        literature="off",
    )
    campaign = start_campaign(config, quiet=True)
    entries = campaign.archive()
    assert len(entries) == 2 and all(e.status == "failed" for e in entries)
    assert all(e.error.startswith("writeup: ") and "SectionDraft" in e.error for e in entries)
    assert all(e.metric is not None for e in entries)
    assert "writeup: " in campaign.report_path.read_text()
