"""Where the ledger is summarised (report.md, `scientist status`, the view), the images'
share of the cost shows once any call sent an image; old ledger lines still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.commands import status
from scientist.config import CampaignConfig
from scientist.models import LedgerEntry, Usage
from scientist.report import render_report
from scientist.templates import load_template
from scientist.view.site import Site

IMAGES = "images: 1,049 input tokens, $0.0031"


@pytest.fixture
def campaign(tmp_path: Path) -> Campaign:
    campaign = Campaign.create(tmp_path / "campaign", CampaignConfig(template="merge"))
    text = Usage(input_tokens=500, output_tokens=100, cost_usd=0.003)
    campaign.record_call(LedgerEntry(call_id="a", role="ideas", model="m", usage=text, latency_s=1))
    return campaign


def summaries(campaign: Campaign, capsys: pytest.CaptureFixture[str]) -> list[str]:
    report = render_report(campaign, load_template("merge"), None, [])
    status(campaign.root)
    index = Site(campaign, live=False).page("index.html")
    assert index is not None
    return [report, capsys.readouterr().out, index.body.decode()]


def test_image_tokens_and_their_cost_show_once_images_were_sent(campaign, capsys):
    assert not any("images:" in summary for summary in summaries(campaign, capsys))
    seen = Usage(
        input_tokens=1200, output_tokens=50, cost_usd=0.0044, image_tokens=1049, image_usd=0.003147
    )
    looked = LedgerEntry(call_id="b", role="review", model="m", usage=seen, latency_s=1)
    campaign.record_call(looked)
    report, status_out, index = summaries(campaign, capsys)
    assert f"Total: $0.0074 ({IMAGES})" in report
    assert IMAGES in " ".join(status_out.split())  # rich may wrap the line
    assert IMAGES in index


def test_a_ledger_line_from_before_image_pricing_loads(campaign):
    old = {"input_tokens": 10, "output_tokens": 2, "cost_usd": 0.1, "priced": True}
    line = {"call_id": "x", "role": "ideas", "model": "m", "usage": old, "latency_s": 1.0}
    with campaign.ledger_path.open("a") as ledger:
        ledger.write(json.dumps(line) + "\n")
    loaded = campaign.ledger()[-1].usage
    assert (loaded.image_tokens, loaded.image_usd) == (0, 0.0)


def test_the_report_counts_prompt_cache_tokens_once_a_call_used_the_cache(campaign):
    assert "prompt cache" not in render_report(campaign, load_template("merge"), None, [])
    cached = Usage(
        input_tokens=20_000,
        output_tokens=10,
        cost_usd=0.0101,
        cached_input_tokens=16_384,
        cache_write_tokens=0,
    )
    entry = LedgerEntry(call_id="c", role="code", model="m", usage=cached, latency_s=1)
    campaign.record_call(entry)
    report = render_report(campaign, load_template("merge"), None, [])
    assert "Total: $0.0131 (prompt cache: 16,384 input tokens read, 0 written)" in report
