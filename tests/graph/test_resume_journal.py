"""SIGKILL a campaign whose every role has a model at six points, resume it from another
working directory: the replay server, which fingerprints every request it receives, sees no
request twice except at most the one in flight at the kill, and the resumed campaign costs
what the uninterrupted one cost plus at most that call."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.llm.replay_server import Hold, ReplayServer
from tests.graph.scripted_campaign import (
    CALL_USD,
    CHAIR,
    MISMATCH,
    REFLECT,
    RESERVE_USD,
    REVIEWER,
    answer_to,
    critique_request,
    pack_without_seeds,
    scientist,
    scientist_env,
    script,
    write_config,
)

pytestmark = [pytest.mark.slow, pytest.mark.latex]

IDEA_ID = "0_0_depth_one"
TIMEOUT_S = 240


def _run(server: ReplayServer, folder: Path, env: dict[str, str]):
    """`scientist run` of the scripted campaign, started in `folder/start` as `c`."""
    start = folder / "start"
    start.mkdir()
    config = write_config(folder, server.url, pack_without_seeds(folder))
    args = ["run", "--config", str(config), "--campaign", "c", "--quiet"]
    return scientist(args, start, env), start / "c"


def _wait(process, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not ready():
        if process.poll() is not None:
            raise AssertionError(
                f"the campaign ended before the kill point: {process.stderr.read()}"
            )
        assert time.monotonic() < deadline, "the kill point never came"
        time.sleep(0.05)


def _finish(process) -> None:
    out, err = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 0, err or out


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Counter, Campaign]:
    """The uninterrupted campaign: every request it sends, and its folder."""
    folder = tmp_path_factory.mktemp("reference")
    cache = folder / "cache"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)
    with ReplayServer(script()) as server:
        process, root = _run(server, folder, scientist_env(cache))
        _finish(process)
        return Counter(server.fingerprints), Campaign.open(root)


def _held(match: str, skip: int = 0) -> Callable[[ReplayServer], Hold]:
    return lambda server: server.hold(match, skip=skip)


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
        process, root = _run(server, tmp_path, env)
        if held is not None:
            _wait(process, held.arrived.is_set)
        else:
            _wait(process, lambda: ("start", f"{IDEA_ID}/run_1") in run_log())
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if held is not None:
            server.load([answer_to(match)])  # the killed request took its answer with it
            held.release()
        if point == "during a run":  # the campaign folder moves; it resumes from its new place
            root = Path(shutil.move(root, tmp_path / "moved"))
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        _finish(scientist(["resume", os.path.relpath(root, elsewhere), "--quiet"], elsewhere, env))
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
