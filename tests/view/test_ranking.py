"""Effects in the ranking: each row's effect with its interval and n against its control,
the confirmation label, "not distinguishable" for rows whose interval overlaps the leader's,
and the plot of the primary metric per idea over time with the baseline."""

from __future__ import annotations

from pathlib import Path

from conftest import console_errors, open_page
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from view_campaign import build_campaign

from scientist.campaign import Campaign
from scientist.models import ArchiveEntry, Effect, Idea
from scientist.report import best_idea
from scientist.view.ranking import tied_with_leader
from scientist.view.server import ViewServer
from scientist.view.site import Site

TIE = "not distinguishable from #1"


def test_the_ranking_shows_each_effect_with_its_interval_and_n(
    browser: WebDriver, server: ViewServer, campaign: Campaign
) -> None:
    open_page(browser, server.url)
    entries = campaign.archive()
    leader = best_idea(entries)
    assert leader is not None and leader.gain is not None
    ties = 0
    for entry in entries:
        row = browser.find_element(By.ID, f"row-{entry.id}").text
        effect = entry.effect
        assert effect is not None and effect.low is not None and effect.high is not None
        assert f"{effect.mean:+.3g} [{effect.low:+.3g}, {effect.high:+.3g}]" in row
        assert "welch, n = 3/3 · vs baseline" in row
        gain = entry.gain
        overlaps = gain.low <= leader.gain.high and gain.high >= leader.gain.low
        tied = entry.id != leader.id and overlaps
        assert (TIE in row) == tied, entry.id
        ties += tied
    assert 0 < ties < len(entries) - 1  # the synthetic campaign has both kinds of rows
    assert console_errors(browser) == []


def test_the_metric_plot_draws_each_idea_with_its_interval_and_the_baseline(
    browser: WebDriver, server: ViewServer
) -> None:
    open_page(browser, server.url)
    image = browser.find_element(By.CSS_SELECTOR, "#plots img[src^='plots/metric.svg']")
    assert "interval" in image.get_attribute("alt")
    assert browser.execute_script("return arguments[0].naturalWidth", image) > 0
    svg = browser.execute_script(
        "return fetch(arguments[0]).then((reply) => reply.text())", image.get_attribute("src")
    )
    assert "baseline" in svg and "idea (mean, 95 % interval)" in svg


def entry(name: str, low: float, high: float, status: str = "done") -> ArchiveEntry:
    idea = Idea(name=name, title=name, hypothesis="h", plan="p")
    gain = Effect(
        vs="baseline/run_0", metric="m", mean=(low + high) / 2, low=low, high=high, n=[3, 3],
        test="welch",
    )  # fmt: skip
    return ArchiveEntry(id=name, idea=idea, status=status, metric=1.0, gain=gain)  # type: ignore[arg-type]


def test_ties_are_the_rows_whose_interval_overlaps_the_leaders() -> None:
    entries = [
        entry("leader", 0.6, 0.8),
        entry("touching", 0.3, 0.6),
        entry("overlapping", 0.55, 0.65),
        entry("apart", 0.1, 0.5),
        entry("failed", 0.6, 0.9, status="failed"),
    ]
    assert tied_with_leader(entries) == {"touching", "overlapping"}
    unmeasured = [e.model_copy(update={"gain": None, "improvement": 0.1}) for e in entries]
    assert tied_with_leader(unmeasured) == set()  # no interval, no claim either way


def test_a_confirmed_idea_says_so_in_the_ranking(tmp_path: Path) -> None:
    campaign = build_campaign(tmp_path / "confirmed", 2)
    first, second = campaign.archive()
    confirmation = first.gain.model_copy(update={"low": 0.01})  # type: ignore[union-attr]
    campaign.record_idea(first.model_copy(update={"confirmation": confirmation}))
    failed = confirmation.model_copy(update={"low": -0.5})
    campaign.record_idea(second.model_copy(update={"confirmation": failed}))
    page = Site(campaign, live=False).page("index.html")
    assert page is not None
    html = page.body.decode()
    assert '<small class="confirmed">confirmed</small>' in html
    assert '<small class="error">did not confirm</small>' in html
