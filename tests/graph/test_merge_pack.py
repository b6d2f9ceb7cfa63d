"""The shipped merge pack through the whole offline loop (smoke size)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign
from scientist.templates import load_template

pytestmark = pytest.mark.slow


def test_merge_pack_smoke_campaign(tmp_path: Path, run_cache: Path):
    config = CampaignConfig(
        template="merge", smoke=True, seeds=[0], max_ideas=2, campaign_dir=tmp_path / "c"
    )
    campaign = start_campaign(config, quiet=True)
    metric = load_template("merge").metric.name
    first, entry = sorted(campaign.archive(), key=lambda e: e.id)
    # the first seed idea's settings are the pack's defaults: offline it would rerun the baseline
    assert first.idea.name == "ps_task_arithmetic" and first.status == "needs_code_model"
    assert entry.status == "done", entry.error
    info = json.loads((campaign.run_dir(entry.id, 1) / "outputs" / "final_info.json").read_text())
    assert entry.metric == info["metrics"][metric]["mean"]
    assert entry.baseline_metric is not None
    assert entry.id in campaign.report_path.read_text()
