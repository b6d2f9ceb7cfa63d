"""Fixtures for the view: a synthetic campaign, its live server, and headless Chromium.

Chromium and its driver come from Debian's packages (`chromium`, `chromium-driver`, installed
by .ci/setup); Selenium is pointed at /usr/bin/chromedriver so it never downloads a browser.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from view_campaign import build_campaign

from scientist.campaign import Campaign
from scientist.view.server import ViewServer
from scientist.view.site import Site

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
IDEAS = 12


@pytest.fixture(scope="session")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Campaign:
    return build_campaign(tmp_path_factory.mktemp("view") / "campaign", IDEAS)


@contextmanager
def serve(campaign: Campaign) -> Iterator[ViewServer]:
    """The campaign's live view on a free loopback port, served from a thread."""
    server = ViewServer(Site(campaign, live=True), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def server(campaign: Campaign) -> Iterator[ViewServer]:
    with serve(campaign) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[WebDriver]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            pytest.fail("CI needs Debian's chromium and chromium-driver (see .ci/setup)")
        pytest.skip("needs Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(browser: WebDriver, url: str) -> None:
    browser.get("about:blank")  # the previous page stops polling (its server may be gone)
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(url)
    WebDriverWait(browser, 10).until(
        lambda driver: driver.execute_script("return document.readyState") == "complete"
    )


def console_errors(browser: WebDriver) -> list[str]:
    """What the page logged at level SEVERE: script errors, failed loads, CSP refusals."""
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
