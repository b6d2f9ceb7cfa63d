"""The view in a real headless Chromium: every page loads cleanly, the lineage graph has one
node per idea, the paper is embedded, traversal is refused, and a running campaign's new
idea appears without a manual reload."""

from __future__ import annotations

import http.client
import random
import time
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest
from conftest import IDEAS, console_errors, open_page, serve
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from view_campaign import add_idea, build_campaign, figure_bytes, idea_id, write_run

from scientist.campaign import Campaign
from scientist.view.export import export_site
from scientist.view.server import ViewServer
from scientist.view.site import Site

POLL_S = 0.5  # how often a live page asks whether the campaign changed (static/view.js)


def test_every_page_loads_without_console_errors(
    browser: WebDriver, server: ViewServer, campaign: Campaign
) -> None:
    open_page(browser, server.url)
    assert console_errors(browser) == []
    images = browser.find_elements(By.CSS_SELECTOR, "img")
    assert len(images) == 3
    assert all(browser.execute_script("return arguments[0].naturalWidth", img) for img in images)
    for entry in campaign.archive():
        open_page(browser, f"{server.url}ideas/{entry.id}.html")
        assert browser.find_element(By.TAG_NAME, "h1").text == entry.idea.title
        assert console_errors(browser) == [], entry.id


def test_console_errors_are_seen(browser: WebDriver, server: ViewServer) -> None:
    open_page(browser, server.url)
    browser.execute_script("console.error('seen')")
    assert any("seen" in message for message in console_errors(browser))


def test_lineage_graph_has_one_node_per_idea_linking_to_its_page(
    browser: WebDriver, server: ViewServer, campaign: Campaign
) -> None:
    open_page(browser, server.url)
    nodes = browser.find_elements(By.CSS_SELECTOR, "#lineage svg g.node")
    ids = {entry.id for entry in campaign.archive()}
    assert len(nodes) == len(ids) == IDEAS
    assert {node.get_attribute("id") for node in nodes} == {f"idea-{i}" for i in ids}
    edges = browser.find_elements(By.CSS_SELECTOR, "#lineage svg g.edge")
    assert len(edges) == sum(len(entry.idea.parents) for entry in campaign.archive())
    # Code ideas are boxes (polygons), settings-only ideas ellipses.
    code = browser.find_element(By.ID, f"idea-{idea_id(0, 0)}")
    settings = browser.find_element(By.ID, f"idea-{idea_id(1, 0)}")
    assert code.find_elements(By.TAG_NAME, "polygon")
    assert settings.find_elements(By.TAG_NAME, "ellipse")
    code.find_element(By.TAG_NAME, "a").click()
    WebDriverWait(browser, 10).until(lambda driver: driver.current_url.endswith(".html"))
    assert browser.current_url == f"{server.url}ideas/{idea_id(0, 0)}.html"


def test_leaderboard_sorts_by_a_clicked_column(browser: WebDriver, server: ViewServer) -> None:
    open_page(browser, server.url)
    header = browser.find_element(By.XPATH, "//section[@id='leaderboard']//th[text()='score']")
    header.click()
    cells = browser.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr td:nth-child(6)")
    values = [float(cell.get_attribute("data-value")) for cell in cells]
    assert values == sorted(values)
    header.click()
    cells = browser.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr td:nth-child(6)")
    assert [float(cell.get_attribute("data-value")) for cell in cells] == sorted(values)[::-1]


def test_idea_page_embeds_the_paper_and_shows_reviews_runs_and_diff(
    browser: WebDriver, server: ViewServer, campaign: Campaign
) -> None:
    idea = idea_id(0, 0)
    open_page(browser, f"{server.url}ideas/{idea}.html")
    frame = browser.find_element(By.CSS_SELECTOR, "#paper iframe.pdf")
    source = frame.get_attribute("src")
    assert source == f"{server.url}files/ideas/{idea}/paper/paper.pdf"
    connection = http.client.HTTPConnection(*server.server_address[:2])
    connection.request("GET", f"/files/ideas/{idea}/paper/paper.pdf")
    reply = connection.getresponse()
    assert reply.status == 200 and reply.getheader("Content-Type") == "application/pdf"
    assert reply.read().startswith(b"%PDF")
    reviews = browser.find_element(By.ID, "reviews").text
    assert f"Meta-review of {idea}." in reviews and f"Review summary of {idea}." in reviews
    assert "run_1 (result)" in browser.find_element(By.ID, "runs").text
    assert "+BONUS = 0.05" in browser.find_element(By.ID, "diff-1").text
    figure = browser.find_element(By.CSS_SELECTOR, ".figures img")
    assert browser.execute_script("return arguments[0].naturalWidth", figure) > 0


def test_tree_search_shows_each_node_with_its_model(browser: WebDriver, server: ViewServer) -> None:
    open_page(browser, f"{server.url}ideas/{idea_id(1, 0)}.html")
    nodes = browser.find_elements(By.CSS_SELECTOR, "#search svg g.node")
    assert {node.get_attribute("id") for node in nodes} == {
        "search-pack",
        "search-node-1",
        "search-node-2",
        "search-node-3",
    }
    assert "model-b" in browser.find_element(By.ID, "search-node-2").text


def test_model_pool_and_plots(browser: WebDriver, server: ViewServer) -> None:
    open_page(browser, server.url)
    pool = browser.find_element(By.ID, "pool").text
    assert "model-a" in pool and "model-b" in pool


@pytest.mark.parametrize(
    "path",
    [
        "/files/../../../../etc/passwd",
        "/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/files//etc/passwd",
        "/files/ideas/..%2f..%2f..%2fetc/passwd",
    ],
)
def test_a_traversal_is_refused(server: ViewServer, path: str) -> None:
    connection = http.client.HTTPConnection(*server.server_address[:2])
    connection.request("GET", path)
    reply = connection.getresponse()
    assert reply.status == 403
    assert b"root:" not in reply.read()


def test_a_traversal_is_refused_in_the_browser(browser: WebDriver, server: ViewServer) -> None:
    open_page(browser, f"{server.url}files/%2e%2e%2f%2e%2e%2fcampaign.toml")
    assert "refused" in browser.find_element(By.TAG_NAME, "body").text


def test_a_link_out_of_the_campaign_is_refused(server: ViewServer, campaign: Campaign) -> None:
    link = campaign.root / "escape"
    link.unlink(missing_ok=True)
    link.symlink_to("/etc")
    connection = http.client.HTTPConnection(*server.server_address[:2])
    connection.request("GET", "/files/escape/passwd")
    assert connection.getresponse().status == 403


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_nothing_can_be_written(server: ViewServer, method: str) -> None:
    connection = http.client.HTTPConnection(*server.server_address[:2])
    connection.request(method, "/files/archive.jsonl", body=b"x")
    assert connection.getresponse().status == 405


def test_head_answers_without_a_body(server: ViewServer) -> None:
    connection = http.client.HTTPConnection(*server.server_address[:2])
    connection.request("HEAD", "/index.html")
    reply = connection.getresponse()
    assert reply.status == 200 and int(reply.getheader("Content-Length")) > 0
    assert reply.read() == b""


def test_a_request_for_another_host_is_refused(server: ViewServer) -> None:
    """A page on another site that rebinds its name to 127.0.0.1 cannot read the campaign."""
    connection = http.client.HTTPConnection(*server.server_address[:2])
    connection.request("GET", "/", headers={"Host": f"evil.example:{server.server_address[1]}"})
    assert connection.getresponse().status == 403


def test_the_static_site_opens_from_disk(
    browser: WebDriver, campaign: Campaign, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    export_site(Site(campaign, live=False), site)
    open_page(browser, (site / "index.html").as_uri())
    nodes = browser.find_elements(By.CSS_SELECTOR, "#lineage svg g.node")
    assert len(nodes) == IDEAS
    assert console_errors(browser) == []
    nodes[0].find_element(By.TAG_NAME, "a").click()
    WebDriverWait(browser, 10).until(lambda driver: "/ideas/" in driver.current_url)
    frame = browser.find_element(By.CSS_SELECTOR, "#paper iframe.pdf")
    assert Path(url2pathname(urlsplit(frame.get_attribute("src")).path)).is_file()
    assert console_errors(browser) == []


def test_a_running_campaigns_new_idea_appears_after_a_refresh(
    browser: WebDriver, tmp_path: Path
) -> None:
    running = build_campaign(tmp_path / "running", 4)
    with serve(running) as server:
        open_page(browser, server.url)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#lineage svg g.node")) == 4
        parents = [idea_id(0, 0), idea_id(1, 0)]
        pdf, png = figure_bytes("pdf", "paper"), figure_bytes("png", "score")
        new = add_idea(running, 4, 1, parents, rng=random.Random(1), pdf=pdf, png=png)
        WebDriverWait(browser, 15).until(
            lambda driver: driver.find_elements(By.ID, f"row-{new.id}")
        )
        assert len(browser.find_elements(By.CSS_SELECTOR, "#lineage svg g.node")) == 5
        assert console_errors(browser) == []


def test_an_idea_page_updates_for_its_own_progress_only(browser: WebDriver, tmp_path: Path) -> None:
    running = build_campaign(tmp_path / "running", 2)
    with serve(running) as server:
        open_page(browser, f"{server.url}ideas/{idea_id(0, 0)}.html")
        browser.execute_script("window.unreloaded = true")
        write_run(running, idea_id(1, 0), 2, 0.7, "")  # another idea's progress
        time.sleep(2 * POLL_S + 0.5)
        assert browser.execute_script("return window.unreloaded") is True
        write_run(running, idea_id(0, 0), 2, 0.7, "")
        WebDriverWait(browser, 15).until(lambda driver: driver.find_elements(By.ID, "run-2"))
        assert browser.execute_script("return window.unreloaded") is True  # patched in place
