"""Offline, a free-text idea with no settings is never run as the baseline under its name."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign

FREE_TEXT_IDEAS = [
    {
        "name": "dynamic_block_size",
        "title": "Dynamic block size",
        "hypothesis": "Growing the context during training speeds up learning.",
        "plan": "Start with short blocks and double them every epoch.",
    },
    {
        "name": "same_as_baseline",
        "title": "The default width, named",
        "hypothesis": "Width 16 is enough.",
        "plan": "Run with width = 16.",
        "overrides": {"width": 16},
    },
]


def test_ideas_without_settings_need_a_code_model(tmp_path: Path, toy_pack: Path, run_log):
    pack = tmp_path / "free_text_pack"
    shutil.copytree(toy_pack, pack)
    (pack / "seed_ideas.json").write_text(json.dumps(FREE_TEXT_IDEAS))
    config = CampaignConfig(
        template=str(pack),
        smoke=True,
        campaign_dir=tmp_path / "c",
        seeds=[0, 1],
        max_ideas=3,
        writeup={"enabled": False},
    )
    campaign = start_campaign(config, quiet=True)
    entries = {entry.idea.name: entry for entry in campaign.archive()}
    baseline = json.loads((campaign.baseline_dir / "final_info.json").read_text())
    base_score = baseline["metrics"]["score"]["mean"]

    for name in ("dynamic_block_size", "same_as_baseline"):
        entry = entries[name]
        assert entry.status == "needs_code_model" and entry.runs == 0 and entry.metric is None
        assert entry.error.startswith("needs a code model")
        assert not campaign.run_dir(entry.id, 1).exists()
    done = [entry for entry in entries.values() if entry.status == "done"]
    assert done and all(entry.metric != base_score for entry in done)
    started = [run for event, run in run_log() if event == "start"]
    assert not any("dynamic_block_size" in run or "same_as_baseline" in run for run in started)

    report = campaign.report_path.read_text()
    assert "## Needs a code model (not run)" in report
    assert "Dynamic block size: needs a code model: the idea has no settings" in report
    status = subprocess.run(
        [sys.executable, "-m", "scientist", "status", str(campaign.root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    assert "needs a code model, not run offline: 0_0_dynamic_block_size" in status.stdout
