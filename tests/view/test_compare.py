"""Two ideas compared in headless Chromium (ticked in the leaderboard: metrics side by side,
per seed, the code between them), and an idea page's diff against its parent."""

from __future__ import annotations

from pathlib import Path

from conftest import console_errors, open_page, serve
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from view_campaign import BASELINE, build_campaign, idea_id

from scientist.campaign import Campaign
from scientist.view.compare import code_between
from scientist.view.site import Site

CODE_IDEA = idea_id(0, 0)  # changes BONUS from 0.0 to 0.05 (view_campaign.DIFF)
SETTINGS_IDEA = idea_id(1, 0)  # runs the pack's code with other settings


def test_two_ticked_ideas_are_compared_side_by_side(browser: WebDriver, tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "pair", 4)
    metric = {entry.id: entry.metric for entry in campaign.archive()}
    with serve(campaign) as server:
        open_page(browser, server.url)
        link = browser.find_element(By.ID, "compare-link")
        assert link.get_attribute("href") is None
        for idea in (CODE_IDEA, SETTINGS_IDEA):
            browser.find_element(By.CSS_SELECTOR, f"input.pick[value='{idea}']").click()
        assert link.text == f"Compare {CODE_IDEA} with {SETTINGS_IDEA}"
        link.click()
        WebDriverWait(browser, 10).until(lambda driver: "/compare/" in driver.current_url)
        assert browser.find_element(By.TAG_NAME, "h1").text == (
            f"{CODE_IDEA} compared with {SETTINGS_IDEA}"
        )
        first_row = browser.find_element(By.CSS_SELECTOR, "#compare-metrics tbody tr").text
        a, b = metric[CODE_IDEA], metric[SETTINGS_IDEA]
        assert first_row == f"score {a:.4g} {b:.4g} {b - a:.4g}"
        seeds = browser.find_elements(By.CSS_SELECTOR, "#compare-seeds tbody tr")
        assert [row.text for row in seeds] == [f"0 {a:.4g} {b:.4g}"]
        code = browser.find_element(By.ID, "code").text
        assert "-BONUS = 0.05" in code and "+BONUS = 0.0" in code
        assert console_errors(browser) == []


def test_an_idea_is_compared_with_its_control(browser: WebDriver, tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "control", 1)
    entry = campaign.archive()[0]
    with serve(campaign) as server:
        open_page(browser, f"{server.url}ideas/{entry.id}.html")
        browser.find_element(By.LINK_TEXT, "Compare with its control").click()
        WebDriverWait(browser, 10).until(lambda driver: "/compare/" in driver.current_url)
        assert browser.current_url == f"{server.url}compare/{entry.id}/control.html"
        first_row = browser.find_element(By.CSS_SELECTOR, "#compare-metrics tbody tr").text
        value = entry.metric
        assert value is not None
        assert first_row == f"score {value:.4g} {BASELINE:.4g} {BASELINE - value:.4g}"
        ideas = browser.find_element(By.ID, "ideas").text
        assert f"control of {entry.id}" in ideas and "baseline (baseline/run_0)" in ideas
        code = browser.find_element(By.ID, "code").text
        assert "-BONUS = 0.05" in code and "+BONUS = 0.0" in code  # back to the pack's code
        assert console_errors(browser) == []


def test_an_idea_page_shows_its_diff_against_its_parent(tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "family", 8)
    site = Site(campaign, live=False)
    children = [entry for entry in campaign.archive() if entry.idea.parents]
    seen = set()
    for child in children:
        parent = child.idea.parents[0]
        page = site.page(f"ideas/{child.id}.html")
        assert page is not None
        html = page.body.decode()
        differs = kind(campaign, parent) != kind(campaign, child.id)
        if differs:
            assert f"diff against its parent {parent}" in html
            assert "BONUS" in html.split('id="parent-diff"')[1]
        else:
            assert f"the same code as its parent {parent}" in html
        seen.add(differs)
    assert seen == {True, False}  # the synthetic campaign has both kinds of family


def kind(campaign: Campaign, idea: str) -> str:
    return Site(campaign, live=False).reader.kind(idea)


def test_the_code_between_two_ideas_undoes_one_and_makes_the_other(tmp_path: Path) -> None:
    pack = Path(__file__).resolve().parents[1] / "fixtures" / "toy"
    first = "--- a/experiment.py\n+++ b/experiment.py\n@@ -14 +14 @@\n-BONUS = 0.0\n+BONUS = 0.05\n"
    second = first.replace("0.05", "0.07")
    between = code_between(pack, first, second)
    assert "-BONUS = 0.05\n+BONUS = 0.07\n" in between
    assert code_between(pack, first, first) == ""
    assert "-BONUS = 0.05\n+BONUS = 0.0\n" in code_between(pack, first, "")
