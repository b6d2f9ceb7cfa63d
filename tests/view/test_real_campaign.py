"""The view of a real offline campaign on the toy pack (runs, LaTeX papers, rubric reviews):
every idea is in the lineage graph and has its page with the paper embedded and its reviews.
This guards the view against drift between the synthetic fixture and what a campaign writes."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from conftest import console_errors, open_page, serve
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign


@pytest.mark.slow
@pytest.mark.latex
def test_a_real_campaign_shows_every_idea_its_paper_and_reviews(
    browser: WebDriver, tmp_path: Path, toy_pack: Path, run_cache: Path
) -> None:
    config = CampaignConfig(
        template=str(toy_pack), smoke=True, campaign_dir=tmp_path / "c", max_ideas=3
    )
    campaign = start_campaign(config, quiet=True)
    entries = campaign.archive()
    assert len(entries) == 3 and any(entry.idea.parents for entry in entries)
    with serve(campaign) as server:
        open_page(browser, server.url)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#lineage svg g.node")) == 3
        assert len(browser.find_elements(By.CSS_SELECTOR, "#lineage svg g.edge")) >= 1
        assert console_errors(browser) == []
        for entry in entries:
            open_page(browser, f"{server.url}ideas/{entry.id}.html")
            results = browser.find_element(By.ID, "results").text
            assert "effect vs control" in results and entry.control in results
            if entry.status == "no_effect":  # a result without a paper: its note says why
                assert "no effect" in results
                assert (
                    "No paper: the idea measured exactly"
                    in browser.find_element(By.ID, "paper").text
                )
                continue
            pdf = browser.find_element(By.CSS_SELECTOR, "#paper iframe.pdf").get_attribute("src")
            with urllib.request.urlopen(pdf, timeout=30) as reply:
                assert reply.read(4) == b"%PDF"
            reviews = browser.find_element(By.ID, "reviews").text
            assert "Meta-review" in reviews and "Review 1 by rubric" in reviews
            assert "run_1 (result)" in browser.find_element(By.ID, "runs").text
            assert console_errors(browser) == [], entry.id
