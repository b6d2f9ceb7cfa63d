"""Layout and accessibility in headless Chromium: the index fits a 1440x900 laptop with no
horizontal scrollbar, no page is wider than a 390 px phone, anchors land below the sticky
header, headings go in order, images have alt text, and the lineage graph zooms. Also takes
the README's screenshots (laptop and phone) of a running campaign."""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path

import pytest
from conftest import open_page, serve
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from view_campaign import (
    add_idea,
    build_campaign,
    figure_bytes,
    flying,
    idea_id,
    write_checkpoint,
)

from scientist.campaign import Campaign
from scientist.view.server import ViewServer

SCREENSHOTS_ENV = "SCIENTIST_VIEW_SCREENSHOTS"  # a folder to keep the README's screenshots in
LAPTOP = {"width": 1440, "height": 900, "deviceScaleFactor": 1, "mobile": False}
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}
OVERFLOW = "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
VIEWPORT = "return window.innerWidth"


@contextmanager
def viewport(browser: WebDriver, metrics: dict[str, object]) -> Iterator[None]:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        yield
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_index_fits_a_laptop_with_no_horizontal_scrollbar(
    browser: WebDriver, server: ViewServer
) -> None:
    with viewport(browser, LAPTOP):
        open_page(browser, server.url)
        scroll_width, client_width = browser.execute_script(OVERFLOW)
        assert browser.execute_script(VIEWPORT) == 1440 and scroll_width <= client_width
        board = browser.find_element(By.ID, "leaderboard")
        assert browser.execute_script(
            "return arguments[0].scrollWidth <= arguments[0].clientWidth", board
        )
        headers = browser.find_elements(By.CSS_SELECTOR, "#ranking th")
        shown = {th.text for th in headers if th.is_displayed()}
        assert {"review", "decision", "effect vs control", "gain vs baseline"} <= shown


def test_no_page_is_wider_than_a_phone(
    browser: WebDriver, server: ViewServer, campaign: Campaign
) -> None:
    pages = ["", *(f"ideas/{entry.id}.html" for entry in campaign.archive())]
    with viewport(browser, PHONE):
        for page in pages:
            open_page(browser, server.url + page)
            scroll_width, client_width = browser.execute_script(OVERFLOW)
            assert browser.execute_script(VIEWPORT) == 390 and scroll_width <= client_width, page
            for image in browser.find_elements(By.CSS_SELECTOR, "main img"):
                assert image.rect["x"] + image.rect["width"] <= client_width, page


@pytest.mark.parametrize("section", ["runs", "reviews", "paper"])
def test_a_jump_lands_below_the_sticky_header(
    browser: WebDriver, server: ViewServer, section: str
) -> None:
    open_page(browser, f"{server.url}ideas/{idea_id(0, 0)}.html")
    browser.find_element(By.CSS_SELECTOR, f"nav a[href='#{section}']").click()
    header = browser.find_element(By.TAG_NAME, "header").rect
    heading = browser.find_element(By.CSS_SELECTOR, f"#{section} h2")
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", heading)
    assert top >= header["height"]


def test_headings_go_in_order_and_images_have_alt_text(
    browser: WebDriver, server: ViewServer
) -> None:
    for page in ["", f"ideas/{idea_id(0, 0)}.html", f"ideas/{idea_id(1, 0)}.html"]:
        open_page(browser, server.url + page)
        levels = browser.execute_script(
            "return Array.from(document.querySelectorAll('h1,h2,h3,h4,h5,h6'),"
            " (h) => Number(h.tagName[1]))"
        )
        assert levels[0] == 1 and levels.count(1) == 1, page
        assert all(b - a <= 1 for a, b in pairwise(levels)), (page, levels)
        for image in browser.find_elements(By.TAG_NAME, "img"):
            assert image.get_attribute("alt").strip(), page


def test_the_lineage_graph_zooms_and_pans(browser: WebDriver, server: ViewServer) -> None:
    open_page(browser, server.url)
    graph = browser.find_element(By.ID, "lineage-graph")
    width = lambda: browser.execute_script(  # noqa: E731
        "return arguments[0].querySelector('svg').getBoundingClientRect().width", graph
    )
    fitted = width()
    for _ in range(6):
        browser.find_element(By.CSS_SELECTOR, "[data-zoom='in']").click()
    assert width() == pytest.approx(fitted * 1.25**6, rel=0.01)
    assert browser.execute_script(
        "return arguments[0].scrollWidth > arguments[0].clientWidth", graph
    )  # wider than its frame: it pans
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", graph)
    corner = (graph.rect["width"] / 2 - 30, -graph.rect["height"] / 2 + 4)  # off the nodes
    drag = ActionChains(browser).move_to_element_with_offset(graph, *corner).click_and_hold()
    drag.move_by_offset(-60, 0).release().perform()
    assert browser.execute_script("return arguments[0].scrollLeft", graph) == pytest.approx(
        60, abs=2
    )
    browser.find_element(By.CSS_SELECTOR, "[data-zoom='fit']").click()
    assert width() == pytest.approx(fitted, rel=0.01)


def test_screenshots_of_a_running_campaign(browser: WebDriver, tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "running", 16)
    steps = {idea_id(14, 3): "experiment", idea_id(15, 3): "experiment", idea_id(13, 3): "write"}
    write_checkpoint(campaign, flying(campaign, steps, since=time.time() - 754))
    keep = os.environ.get(SCREENSHOTS_ENV)
    with campaign.running(), serve(campaign) as server:
        for name, metrics in (("laptop", LAPTOP), ("phone", {**PHONE, "deviceScaleFactor": 1})):
            with viewport(browser, metrics):
                open_page(browser, server.url)
                shot = tmp_path / f"view-{name}.png"
                assert browser.save_screenshot(str(shot))
                assert shot.read_bytes().startswith(b"\x89PNG")
                if keep:
                    shutil.copyfile(shot, Path(keep) / shot.name)


def test_a_wide_generation_keeps_the_lineage_labels_legible(
    browser: WebDriver, tmp_path: Path
) -> None:
    """48 ideas side by side: the graph pans instead of shrinking its labels to a strip."""
    campaign = build_campaign(tmp_path / "wide", 1)
    pdf, png = figure_bytes("pdf", "paper"), figure_bytes("png", "score")
    for index in range(1, 48):
        add_idea(campaign, index, 0, [], rng=random.Random(index), pdf=pdf, png=png)
    with viewport(browser, LAPTOP), serve(campaign) as server:
        open_page(browser, server.url)
        graph = browser.find_element(By.ID, "lineage-graph")
        label = graph.find_element(By.CSS_SELECTOR, "g.node text")
        assert label.rect["height"] >= 10  # px on screen
        assert browser.execute_script(
            "return arguments[0].scrollWidth > arguments[0].clientWidth", graph
        )
        scroll_width, client_width = browser.execute_script(OVERFLOW)
        assert scroll_width <= client_width  # the page itself still does not scroll sideways
