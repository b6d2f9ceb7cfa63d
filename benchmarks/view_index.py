"""How fast the campaign view's index page loads for a large synthetic campaign.

Builds a synthetic campaign (tests/view/view_campaign.py: finished ideas with runs, papers,
reviews, a ledger and a model pool), serves it on 127.0.0.1 and measures the index page:

    http fresh      GET / right after an idea's review score changed (read the campaign,
                    lay out the lineage graph, render the page)
    http cached     GET / again (the campaign unchanged: version check and cached page)
    browser fresh   headless Chromium, navigation start to the load event (page, stylesheets,
                    script and both plots), right after an idea's review score changed (so the
                    lineage graph and the score plot are drawn afresh)
    browser cached  the same with the campaign unchanged
    http version    GET api/version, what an open page asks every POLL_MS (static/view.js)
    live update     an open index in Chromium: from an idea's review score written to the
                    archive until the page shows it (the page notices the new version on
                    its next poll, fetches itself and patches the changed sections)

Wall times depend on the machine's load (printed); `cpu s` is this process's CPU time per
load (the server's work and the small client; not Chromium's or Graphviz's), which load
barely moves.

    python benchmarks/view_index.py [--ideas 200] [--repeats 5]

Prints the machine and one row per measurement (median, min, max over the repeats).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from machine import describe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "view"))

from conftest import CHROMEDRIVER, CHROMIUM, serve
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from view_campaign import build_campaign

from scientist.campaign import Campaign

NAVIGATION = "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd;"


def rescore(campaign: Campaign, scores: Iterator[int]) -> None:
    """Give one idea a review score not shown before, so that the next load draws afresh."""
    entry = campaign.archive()[0]
    campaign.record_idea(entry.model_copy(update={"review_score": 1 + next(scores) % 900 / 100}))


def http_load(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as reply:
        reply.read()
    return time.perf_counter() - start


def browser_load(driver: webdriver.Chrome, url: str) -> float:
    driver.get("about:blank")
    driver.get(url)
    return driver.execute_script(NAVIGATION) / 1000


def measure(
    repeats: int, load: Callable[[], float], before: Callable[[], None]
) -> list[tuple[float, float]]:
    """(wall s, cpu s) of each load."""
    times = []
    for _ in range(repeats):
        before()
        cpu = time.process_time()
        wall = load()
        times.append((wall, time.process_time() - cpu))
    return times


def live_update(driver: webdriver.Chrome, campaign: Campaign, scores: Iterator[int]) -> float:
    """Seconds from a change written to the campaign until the open index shows it."""
    rescore(campaign, scores)
    start = time.perf_counter()
    entry = campaign.archive()[0]
    shown = f"return document.querySelector('#row-{entry.id} td:nth-child(9)').dataset.value"
    while driver.execute_script(shown) != str(entry.review_score):
        if time.perf_counter() - start > 30:
            raise RuntimeError("the open page did not show the change within 30 s")
        time.sleep(0.01)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    with tempfile.TemporaryDirectory() as folder:
        campaign = build_campaign(Path(folder) / "campaign", args.ideas)
        driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
        try:
            with serve(campaign) as server:
                http_load(server.url)  # imports and the first layout, once
                unchanged = lambda: None  # noqa: E731
                scores = itertools.count()
                changed = lambda: rescore(campaign, scores)  # noqa: E731
                rows = {
                    "http fresh": measure(args.repeats, lambda: http_load(server.url), changed),
                    "http cached": measure(args.repeats, lambda: http_load(server.url), unchanged),
                    "browser fresh": measure(
                        args.repeats, lambda: browser_load(driver, server.url), changed
                    ),
                    "browser cached": measure(
                        args.repeats, lambda: browser_load(driver, server.url), unchanged
                    ),
                    "http version": measure(
                        args.repeats, lambda: http_load(f"{server.url}api/version"), unchanged
                    ),
                }
                driver.get(server.url)
                rows["live update"] = measure(
                    args.repeats, lambda: live_update(driver, campaign, scores), unchanged
                )
        finally:
            driver.quit()
    print(f"machine: {describe()}")
    print(f"index page of a {args.ideas}-idea synthetic campaign, {args.repeats} loads each")
    print(f"{'load':>16} | {'median s':>9} | {'min s':>7} | {'max s':>7} | {'cpu s':>6}")
    for name, measured in rows.items():
        wall = [w for w, _ in measured]
        cpu = statistics.median(c for _, c in measured)
        print(
            f"{name:>16} | {statistics.median(wall):9.3f} | {min(wall):7.3f} | "
            f"{max(wall):7.3f} | {cpu:6.3f}"
        )


if __name__ == "__main__":
    main()
