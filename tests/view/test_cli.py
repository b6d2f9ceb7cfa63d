"""`scientist view` from the command line: serving, the static site, and user mistakes as one
line with exit code 2."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from conftest import IDEAS
from view_campaign import build_campaign

from scientist.campaign import Campaign


def scientist(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scientist", *args], capture_output=True, text=True, timeout=120
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert text in result.stderr.splitlines()[0]


def test_a_folder_that_is_not_a_campaign(tmp_path: Path) -> None:
    assert_one_line_error(scientist("view", str(tmp_path)), "is not a campaign directory")


def test_a_port_in_use(campaign: Campaign) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = scientist("view", str(campaign.root), "--port", str(port))
    assert_one_line_error(result, f"port {port} on 127.0.0.1 is in use")


def test_serves_on_loopback_until_stopped(campaign: Campaign) -> None:
    command = [sys.executable, "-m", "scientist", "view", str(campaign.root), "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            line = process.stdout.readline()
            url = line.split(" at ")[1].split()[0]
            assert url.startswith("http://127.0.0.1:")
            with urllib.request.urlopen(url, timeout=30) as reply:
                assert reply.status == 200 and b"Leaderboard" in reply.read()
        finally:
            process.terminate()


def test_static_site(campaign: Campaign, tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = scientist("view", str(campaign.root), "--out", str(site))
    assert result.returncode == 0, result.stderr
    index = (site / "index.html").read_text()
    assert "data-live" not in index
    pages = sorted((site / "ideas").glob("*.html"))
    assert len(pages) == IDEAS
    for entry in campaign.archive():
        page = (site / "ideas" / f"{entry.id}.html").read_text()
        pdf = f"../files/ideas/{entry.id}/paper/paper.pdf"
        assert pdf in page and (site / "ideas" / pdf).resolve().read_bytes().startswith(b"%PDF")
    assert not (site / "files" / "campaign.toml").exists()  # only what the pages link to


def test_static_site_is_never_written_into_the_campaign(campaign: Campaign) -> None:
    result = scientist("view", str(campaign.root), "--out", str(campaign.root / "site"))
    assert_one_line_error(result, "overlaps the campaign directory")


def test_a_static_site_that_cannot_be_written(campaign: Campaign, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = scientist("view", str(campaign.root), "--out", str(blocker / "site"))
    assert_one_line_error(result, f"cannot write the site to {blocker / 'site'}")


def test_an_export_refuses_a_folder_that_holds_something_else(
    campaign: Campaign, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "notes.txt").write_text("mine")
    result = scientist("view", str(campaign.root), "--out", str(site))
    assert_one_line_error(result, f"{site} is not empty and is not an earlier export")
    assert sorted(path.name for path in site.iterdir()) == ["notes.txt"]
    forced = scientist("view", str(campaign.root), "--out", str(site), "--force")
    assert forced.returncode == 0, forced.stderr
    assert (site / "index.html").is_file() and (site / "notes.txt").read_text() == "mine"


def test_an_export_writes_over_an_earlier_export_of_the_same_campaign_only(
    campaign: Campaign, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    assert scientist("view", str(campaign.root), "--out", str(site)).returncode == 0
    again = scientist("view", str(campaign.root), "--out", str(site))
    assert again.returncode == 0, again.stderr
    other = build_campaign(tmp_path / "other", 1)
    result = scientist("view", str(other.root), "--out", str(site))
    assert_one_line_error(result, "is not an earlier export of this campaign")
