"""SIGKILL a campaign whose every role has a model at six points, resume it from another
working directory: the replay server, which fingerprints every request it receives, sees no
request twice except at most the one in flight at the kill, and the resumed campaign costs
what the uninterrupted one cost plus at most that call."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.llm.replay_server import ReplayServer
from tests.graph.scripted_campaign import (
    CALL_USD,
    CHAIR,
    MISMATCH,
    REFLECT,
    RESERVE_USD,
    REVIEWER,
    answer_to,
    critique_request,
    finish,
    kill_when,
    resume_elsewhere,
    scientist_env,
    script,
    start_run,
    writable_cache,
)

pytestmark = [pytest.mark.slow, pytest.mark.latex]

IDEA_ID = "0_0_depth_one"
TIMEOUT_S = 240


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Counter, Campaign]:
    """The uninterrupted campaign: every request it sends, and its folder."""
    folder = tmp_path_factory.mktemp("reference")
    with ReplayServer(script()) as server:
        process, root = start_run(server.url, folder, scientist_env(writable_cache(folder)))
        finish(process, TIMEOUT_S)
        return Counter(server.fingerprints), Campaign.open(root)


# a request held in flight at the kill, or (None) a kill while the idea's run runs
KILL_POINTS: dict[str, tuple[str | None, int]] = {
    "during ideation": (REFLECT, 0),
    "during a code call": (MISMATCH, 0),
    "during a run": (None, 0),
    "during a section": (critique_request("Method"), 0),
    "during the reviews": (REVIEWER, 1),
    "during the area chair": (CHAIR, 0),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_killed_campaign_resumes_without_paying_twice(
    point, tmp_path, run_cache, run_log, reference
):
    expected, uninterrupted = reference
    match, skip = KILL_POINTS[point]
    env = scientist_env(run_cache)
    with ReplayServer(script()) as server:
        held = server.hold(match, skip=skip) if match else None
        process, root = start_run(server.url, tmp_path, env)
        if held is not None:
            kill_when(process, held.arrived.is_set, TIMEOUT_S)
            server.load([answer_to(match)])  # the killed request took its answer with it
            held.release()
        else:
            started = ("start", f"{IDEA_ID}/run_1")
            kill_when(process, lambda: started in run_log(), TIMEOUT_S)
        if point == "during a run":  # the campaign folder moves; it resumes from its new place
            root = Path(shutil.move(root, tmp_path / "moved"))
        finish(resume_elsewhere(root, tmp_path, env), TIMEOUT_S)
        sent = Counter(server.fingerprints)

    repeated = {request: n for request, n in sent.items() if n > expected[request]}
    assert set(sent) == set(expected)
    assert sum(n - expected[request] for request, n in repeated.items()) <= (held is not None)

    campaign = Campaign.open(root)
    [entry] = campaign.archive()
    assert entry.status == "done" and entry.metric == uninterrupted.archive()[0].metric
    assert entry.review_score == 7 and entry.decision == "accept"
    assert campaign.paper_dir(IDEA_ID).joinpath("paper.pdf").is_file()
    meta = campaign.reviews_dir(IDEA_ID).joinpath("meta.json").read_text()
    assert '"n_reviews": 2' in meta and "rubric" not in meta
    unsettled = [e for e in campaign.ledger() if not e.settled]
    assert len(unsettled) == (held is not None)
    costs = [sum(e.usage.cost_usd for e in c.ledger()) for c in (campaign, uninterrupted)]
    assert costs[1] == pytest.approx(CALL_USD * sum(expected.values()))
    extra = costs[0] - costs[1]
    assert extra == pytest.approx(RESERVE_USD if held is not None else 0.0)
    starts = Counter(run for event, run in run_log() if event == "start")
    assert starts[f"{IDEA_ID}/run_1"] == 1 + (point == "during a run")
