"""A served view of a running campaign in headless Chromium: the ideas in flight with their
step, slot and elapsed time (from the checkpoint `scientist status` reads), a badge that
follows the campaign and notices when the server stops, an empty campaign's baseline and
activity, and live updates patched in place without losing the sort order or open details."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import console_errors, open_page, serve
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from view_campaign import (
    TOY_PACK,
    add_idea,
    build_campaign,
    figure_bytes,
    flying,
    idea_id,
    write_baseline,
    write_checkpoint,
    write_run,
)

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.graph.state import Ideation
from scientist.view.activity import read_activity

WAIT_S = 15


def text_of(browser: WebDriver, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def wait_for_text(browser: WebDriver, element_id: str, wanted: str) -> None:
    WebDriverWait(browser, WAIT_S).until(lambda driver: wanted in text_of(driver, element_id))


def test_a_running_campaign_shows_its_jobs_in_flight_with_their_step(
    browser: WebDriver, tmp_path: Path
) -> None:
    campaign = build_campaign(tmp_path / "running", 4)
    first, second = idea_id(0, 0), idea_id(1, 0)
    state = flying(campaign, {first: "experiment", second: "write"}, since=time.time() - 125)
    write_checkpoint(campaign, state)
    with campaign.running(), serve(campaign) as server:
        open_page(browser, server.url)
        experiment = browser.find_element(By.ID, f"flight-{first}")
        cells = [cell.text for cell in experiment.find_elements(By.TAG_NAME, "td")]
        assert cells[0].startswith(first) and "Idea number 0" in cells[0]
        assert cells[1:4] == ["experiment (runs and grading)", "0", "0"]
        assert re.fullmatch(r"2 min \d\d s", cells[4])
        writing = browser.find_element(By.ID, f"flight-{second}").text
        assert "writing the paper" in writing
        assert "2 idea(s) in flight" in text_of(browser, "activity")
        assert "in flight: experiment" in text_of(browser, f"row-{first}")
        assert text_of(browser, "badge") == "live"
        # The writer finishes: the idea moves on to its review, in place.
        state["flights"][second] = state["flights"][second].model_copy(update={"step": "review"})
        write_checkpoint(campaign, state)
        wait_for_text(browser, f"flight-{second}", "reviewing the paper")
        assert console_errors(browser) == []


def test_the_badge_follows_the_campaign_and_notices_the_server_stop(
    browser: WebDriver, tmp_path: Path
) -> None:
    campaign = build_campaign(tmp_path / "ending", 2)
    write_checkpoint(campaign, flying(campaign, {idea_id(0, 0): "review"}, since=time.time()))
    with campaign.running(), serve(campaign) as server:
        open_page(browser, server.url)
        assert text_of(browser, "badge") == "live"
        done = {**flying(campaign, {}, since=time.time()), "stop_reason": "budget spent"}
        write_checkpoint(campaign, done)
        wait_for_text(browser, "badge", "finished")
        assert "finished: budget spent" in text_of(browser, "activity")
        assert not browser.find_elements(By.CSS_SELECTOR, "#activity tr")
    WebDriverWait(browser, WAIT_S).until(lambda driver: text_of(driver, "badge") == "unreachable")


def test_a_campaign_whose_process_was_killed_mid_work_is_stopped(
    browser: WebDriver, tmp_path: Path
) -> None:
    campaign = build_campaign(tmp_path / "killed", 2)
    write_checkpoint(campaign, flying(campaign, {idea_id(0, 0): "write"}, since=time.time()))
    holder = (
        "import sys, time\nfrom scientist.campaign import Campaign\n"
        "with Campaign.open(sys.argv[1]).running():\n    print('held', flush=True)\n"
        "    time.sleep(120)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", holder, str(campaign.root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        with serve(campaign) as server:
            open_page(browser, server.url)
            assert text_of(browser, "badge") == "live"
            process.send_signal(signal.SIGKILL)
            process.wait()
            wait_for_text(browser, "badge", "stopped")
            assert "its process is not running" in text_of(browser, "activity")
    finally:
        process.kill()
        process.wait()


def test_an_empty_campaign_shows_its_baseline_and_what_it_is_doing(
    browser: WebDriver, tmp_path: Path
) -> None:
    campaign = Campaign.create(tmp_path / "empty", CampaignConfig(template=str(TOY_PACK)))
    assert read_activity(campaign).summary == "measuring the baseline"
    with campaign.running(), serve(campaign) as server:
        open_page(browser, server.url)
        assert "measuring the baseline" in text_of(browser, "activity")
        assert "not measured yet" in text_of(browser, "activity")
        write_baseline(campaign)
        state = flying(campaign, {}, since=time.time())
        write_checkpoint(
            campaign, {**state, "ideation": Ideation(generation=0, wanted=4, archive_length=0)}
        )
        wait_for_text(browser, "activity", "proposing generation 0")
        activity = text_of(browser, "activity")
        assert "Baseline score: 0.5." in activity and "No ideas yet." in activity
        assert browser.find_element(By.TAG_NAME, "h1").text == campaign.name
        assert console_errors(browser) == []


def test_a_live_update_keeps_the_sort_order(browser: WebDriver, tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "sorted", 4)
    browser.set_window_size(1400, 600)  # a page taller than the window, so it can scroll
    with serve(campaign) as server:
        open_page(browser, server.url)
        header = browser.find_element(By.XPATH, "//table[@id='ranking']//th[text()='score']")
        header.click()
        browser.execute_script("window.unreloaded = true; window.scrollTo(0, 200)")
        pdf, png = figure_bytes("pdf", "paper"), figure_bytes("png", "score")
        parents = [idea_id(0, 0)]
        new = add_idea(campaign, 4, 1, parents, rng=random.Random(7), pdf=pdf, png=png)
        WebDriverWait(browser, WAIT_S).until(
            lambda driver: driver.find_elements(By.ID, f"row-{new.id}")
        )
        cells = browser.find_elements(By.CSS_SELECTOR, "#ranking tbody tr td:nth-child(6)")
        values = [float(cell.get_attribute("data-value")) for cell in cells]
        assert len(values) == 5 and values == sorted(values)
        header = browser.find_element(By.XPATH, "//table[@id='ranking']//th[text()='score']")
        assert header.get_attribute("aria-sort") == "ascending"
        assert browser.execute_script("return window.unreloaded") is True
        assert browser.execute_script("return window.scrollY") == 200
        assert len(browser.find_elements(By.CSS_SELECTOR, "#lineage svg g.node")) == 5


def test_an_idea_page_updates_in_place_keeping_closed_details(
    browser: WebDriver, tmp_path: Path
) -> None:
    campaign = build_campaign(tmp_path / "details", 1)
    idea = idea_id(0, 0)
    with serve(campaign) as server:
        open_page(browser, f"{server.url}ideas/{idea}.html")
        browser.find_element(By.CSS_SELECTOR, "#diff-1 summary").click()
        assert browser.find_element(By.ID, "diff-1").get_attribute("open") is None
        browser.execute_script("window.unreloaded = true")
        write_run(campaign, idea, 2, 0.7, "")
        WebDriverWait(browser, WAIT_S).until(lambda driver: driver.find_elements(By.ID, "run-2"))
        assert browser.find_element(By.ID, "diff-1").get_attribute("open") is None
        assert browser.execute_script("return window.unreloaded") is True


def test_a_sortable_header_sorts_from_the_keyboard(browser: WebDriver, tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "keys", 4)
    with serve(campaign) as server:
        open_page(browser, server.url)
        header = browser.find_element(By.XPATH, "//table[@id='ranking']//th[text()='score']")
        assert header.get_attribute("tabindex") == "0"
        browser.execute_script("arguments[0].focus()", header)
        header.send_keys("\n")
        assert header.get_attribute("aria-sort") == "ascending"
        header.send_keys(" ")
        assert header.get_attribute("aria-sort") == "descending"
