"""A whole campaign driven by the real SmolLM2-135M (`local:smollm2`) through the CLI, on
the toy pack at `--ideas 2 --smoke`. A 135M model rarely gives a usable answer; the campaign
must still conclude every idea (a failed one names its reason), write no number without a
source, spend nothing and exit cleanly. Answers and the model's window are kept short
(`models.local_max_tokens`, `models.local_context_tokens`) so that it fits in CI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scientist.campaign import Campaign
from scientist.models import Paper

pytestmark = pytest.mark.slow

CONFIG = """
max_runs_per_idea = 1
debug_attempts = 0

[models]
local_max_tokens = 48
local_context_tokens = 1024
format_retries = 0

[review]
ensemble = 1
"""
CONCLUDED = {"done", "failed", "no_effect", "needs_code_model", "duplicate"}


def test_smollm2_concludes_every_idea_of_a_campaign(tmp_path, toy_pack, smollm2_cache):
    root, config = tmp_path / "c", tmp_path / "campaign.toml"
    config.write_text(CONFIG, encoding="utf-8")
    command = ["run", "--template", str(toy_pack), "--llm", "local:smollm2", "--ideas", "2"]
    command += ["--smoke", "--campaign", str(root), "--config", str(config), "--quiet"]
    run = subprocess.run(
        [sys.executable, "-m", "scientist", *command],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SCIENTIST_MODEL_CACHE": str(smollm2_cache)},
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert f"report: {root / 'report.md'}" in run.stdout

    campaign = Campaign.open(root)
    ideas = [entry for entry in campaign.archive() if entry.status != "duplicate"]
    assert len(ideas) == 2
    for entry in ideas:
        assert entry.status in CONCLUDED, entry
        if entry.status == "failed":
            assert entry.error, entry  # the reason, e.g. "code model: ... gave no valid ..."
    for entry in ideas:
        path = campaign.paper_dir(entry.id) / "paper.json"
        if path.is_file():
            paper = Paper.model_validate_json(path.read_text(encoding="utf-8"))
            assert paper.unsourced_numbers == [], path

    ledger = campaign.ledger()
    assert ledger and {entry.model for entry in ledger} == {"local:smollm2"}
    assert sum(entry.usage.cost_usd for entry in ledger) == 0
