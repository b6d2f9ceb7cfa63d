"""A campaign on a real multi-node Ray cluster goes on when a node dies mid-run: the run it
held starts once more on the node left, and no finished run is lost or run again."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("ray")

from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign
from scientist.records.runs import OVERRIDES, RESULT
from scientist.sandbox.ray_backend import SCRATCH_PREFIX
from tests.fixtures.ray_cluster import LocalCluster, WorkerNode, in_background, local_cluster

pytestmark = pytest.mark.slow

SLEEPY_PACK = Path(__file__).resolve().parent.parent / "fixtures" / "sleepy"
LONG_RUN = "0_0_long_run/run_1"


def _events(cache: Path) -> list[tuple[str, str]]:
    """(event, run id) of every start and end the sleepy pack logged, in every try."""
    log = cache / "sleepy_runs.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [(line.split()[0], line.split()[1]) for line in lines]


def _holds_the_long_run(node: WorkerNode) -> bool:
    """Whether the scratch copy of the long run's workspace (5 s of sleep) is on `node`."""
    for overrides in node.root.glob(f"{SCRATCH_PREFIX}*/workspace/{OVERRIDES}"):
        try:
            if json.loads(overrides.read_text()).get("sleep_s") == 5:
                return True
        except (OSError, ValueError):
            continue
    return False


def _kill_the_long_runs_node(cluster: LocalCluster, cache: Path) -> WorkerNode:
    """Once the long run has started, remove the node that runs it."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if ("start", LONG_RUN) in _events(cache):
            for node in cluster.workers:
                if _holds_the_long_run(node):
                    cluster.remove(node)
                    return node
        time.sleep(0.05)
    raise TimeoutError("the long run never started")


def test_a_campaign_goes_on_when_a_node_dies_and_repeats_no_finished_run(
    tmp_path: Path, run_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with local_cluster(2) as cluster:
        monkeypatch.setenv("RAY_ADDRESS", cluster.address)  # the config names no address
        killed = in_background(_kill_the_long_runs_node, cluster, run_cache)
        config = CampaignConfig(
            template=str(SLEEPY_PACK),
            campaign_dir=tmp_path / "c",
            seeds=[0],
            max_ideas=3,
            max_parallel=2,
            writeup={"enabled": False},
            sandbox={"kind": "ray"},
        )
        campaign = start_campaign(config, quiet=True)
        lost = killed.result(timeout=10)

    entries = campaign.archive()
    assert len(entries) == 3 and {entry.status for entry in entries} == {"done"}, entries
    events = _events(run_cache)
    starts = Counter(run for event, run in events if event == "start")
    ends = Counter(run for event, run in events if event == "done")
    assert set(ends) == set(starts) and set(ends.values()) == {1}, events
    assert starts[LONG_RUN] == 2  # the try on the lost node, and the one after it
    assert all(count == 1 for run, count in starts.items() if run != LONG_RUN), events
    result = json.loads((campaign.run_dir("0_0_long_run", 1) / RESULT).read_text())["result"]
    assert result["status"] == "ok"
    assert f"started again after node {lost.node_id[:8]} (NodeDiedError)" in result["message"]
