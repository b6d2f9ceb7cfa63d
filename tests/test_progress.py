"""Live progress: its last line ends before whatever the CLI prints next."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.progress import CampaignProgress


def test_the_last_progress_line_ends_with_a_newline_in_a_log_file(tmp_path: Path, toy_pack):
    campaign = Campaign.create(tmp_path / "c", CampaignConfig(template=str(toy_pack)))
    stream = io.StringIO()
    with CampaignProgress(campaign, console=Console(file=stream, force_terminal=False)) as live:
        live.handle({"name": "baseline", "id": "1", "input": {}})
        live.handle({"name": "baseline", "id": "1", "result": {}})
    assert stream.getvalue().endswith("$0.0000\n")
