"""Reading a campaign for the view: change detection, idea kinds, and broken records."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

from conftest import serve
from view_campaign import build_campaign, idea_id, write_run

from scientist.campaign import Campaign
from scientist.view.snapshot import CampaignReader


def test_the_version_changes_when_a_run_finishes(tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "c", 2)
    reader = CampaignReader(campaign)
    before = reader.version()
    assert reader.version() == before
    write_run(campaign, idea_id(0, 0), 2, 0.7, "")
    after = reader.version()
    assert after != before
    detail = reader.idea(idea_id(0, 0))
    assert detail is not None and [run.index for run in detail.runs] == [1, 2]


def test_an_unfinished_run_shows_as_running(tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "c", 1)
    campaign.run_dir(idea_id(0, 0), 2).mkdir(parents=True)
    detail = CampaignReader(campaign).idea(idea_id(0, 0))
    assert detail is not None
    assert [(run.index, run.status) for run in detail.runs] == [(1, "ok"), (2, "running")]
    assert detail.best_run == 1


def test_code_and_settings_ideas_are_told_apart(tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "c", 2)
    reader = CampaignReader(campaign)
    assert reader.kind(idea_id(0, 0)) == "code"
    assert reader.kind(idea_id(1, 0)) == "settings"


def test_a_moved_campaign_still_shows_its_papers(tmp_path: Path) -> None:
    build_campaign(tmp_path / "c", 1)
    moved = (tmp_path / "c").rename(tmp_path / "moved")
    detail = CampaignReader(Campaign.open(moved)).idea(idea_id(0, 0))
    assert detail is not None and detail.pdf == f"ideas/{idea_id(0, 0)}/paper/paper.pdf"


def test_paths_outside_the_campaign_are_not_linked(tmp_path: Path) -> None:
    reader = CampaignReader(build_campaign(tmp_path / "c", 1))
    assert reader.relative(tmp_path / "elsewhere.pdf") is None
    assert reader.relative(reader.root / "ideas" / "x.pdf") == "ideas/x.pdf"


def test_an_invalid_record_is_a_one_line_server_error(tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "c", 1)
    with campaign.archive_path.open("a") as archive:
        archive.write(json.dumps({"id": "broken"}) + "\n")
    with serve(campaign) as server:
        connection = http.client.HTTPConnection(*server.server_address[:2])
        connection.request("GET", "/")
        reply = connection.getresponse()
        assert reply.status == 500
        assert b"archive.jsonl holds a row that is not a valid ArchiveEntry" in reply.read()
