"""An idea page: the pack's primary metric leads each run's metrics (the others folded away
when there are many), and a file rewritten in place shows without a restart."""

from __future__ import annotations

from pathlib import Path

from conftest import open_page, serve
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from view_campaign import build_campaign, idea_id, write_run

from scientist.view.site import Site


def test_the_primary_metric_leads_the_runs_metrics(tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "many", 1)
    idea = idea_id(0, 0)
    others = {f"aux_{k:02d}": float(k) for k in range(84)}
    write_run(campaign, idea, 2, 0.625, "", others)
    page = Site(campaign, live=False).page(f"ideas/{idea}.html")
    assert page is not None
    row = page.body.decode().split('id="run-2"')[1].split("</tr>")[0]
    assert '<strong class="primary">score = 0.625</strong>' in row
    assert row.index("score = 0.625") < row.index("aux_00 = 0")
    assert '<details class="metrics" id="metrics-2"><summary>84 other metrics' in row  # closed


def test_a_file_rewritten_in_place_is_noticed(browser: WebDriver, tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "rewritten", 1)
    idea = idea_id(0, 0)
    meta = campaign.reviews_dir(idea) / "meta.json"
    with serve(campaign) as server:
        open_page(browser, f"{server.url}ideas/{idea}.html")
        assert f"Meta-review of {idea}." in browser.find_element(By.ID, "reviews").text
        text = meta.read_text().replace(f"Meta-review of {idea}.", "Rewritten in place!")
        with meta.open("r+", encoding="utf-8") as same_file:  # the same inode, no rename
            same_file.write(text)
            same_file.truncate()
        WebDriverWait(browser, 15).until(
            lambda driver: "Rewritten in place!" in driver.find_element(By.ID, "reviews").text
        )
