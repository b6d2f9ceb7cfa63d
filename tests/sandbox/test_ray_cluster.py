"""The ray backend on a real multi-node cluster (`tests/fixtures/ray_cluster.py`): runs
spread over the nodes, their outputs come back through Ray, and a node lost under a run
starts that run once more elsewhere; a second loss fails it with one line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import pytest

pytest.importorskip("ray")

from scientist.config import SandboxConfig
from scientist.models import RunResult, RunSpec
from scientist.sandbox import open_sandbox
from scientist.sandbox.ray_backend import RaySandbox
from tests.fixtures.ray_cluster import LocalCluster, in_background, local_cluster

pytestmark = pytest.mark.slow

NODE_ID = r"ran on node ([0-9a-f]{8})"


@pytest.fixture(scope="module")
def shared_cluster() -> Iterator[LocalCluster]:
    """One cluster for the module (starting one costs seconds); nodes of 1 CPU and 2
    declared GPUs."""
    with local_cluster(2, gpus=2) as cluster:
        yield cluster


@pytest.fixture
def cluster(shared_cluster: LocalCluster) -> LocalCluster:
    """The module's cluster with two worker nodes alive, whatever earlier tests removed."""
    shared_cluster.top_up(2)
    return shared_cluster


DOUBLE = """
import os, pathlib, time
time.sleep(float(os.environ["SLEEP_S"]))
number = int(pathlib.Path("number.txt").read_text())
pathlib.Path("out").mkdir()
devices = os.environ.get("CUDA_VISIBLE_DEVICES", "")
pathlib.Path("out/result.txt").write_text(f"{2 * number} {devices}")
"""


def _sandbox(cluster: LocalCluster) -> RaySandbox:
    config = SandboxConfig.model_validate({"kind": "ray", "ray": {"address": cluster.address}})
    opened = open_sandbox(config, campaign="ray-cluster")
    assert isinstance(opened, RaySandbox)
    return opened


def _spec(root: Path, number: int, sleep_s: float, **fields: object) -> RunSpec:
    workspace = root / f"workspace{number}"
    workspace.mkdir(parents=True)
    (workspace / "number.txt").write_text(str(number))
    (workspace / "main.py").write_text(DOUBLE)
    return RunSpec(
        workspace=workspace,
        argv=["python", "main.py"],
        timeout_s=120,
        env={"SLEEP_S": str(sleep_s)},
        output_dir=root / f"outputs{number}",
        **fields,
    )


def _node_of(result: RunResult) -> str:
    found = re.search(NODE_ID, result.message or "")
    assert found, result.message
    return found.group(1)


def test_runs_spread_over_the_nodes_and_their_outputs_come_back_through_ray(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    """Two nodes of 1 CPU and 2 declared GPUs each; four runs of half a CPU and one GPU at
    once, as four slots would start them."""
    sandbox = _sandbox(cluster)
    availability = sandbox.check()
    assert availability.ok and "3 node(s)" in availability.reason, availability
    assert sandbox.gpu_slots() == [0, 1, 2, 3]
    specs = [_spec(tmp_path, number, 3, cpus=0.5, gpus=[0]) for number in range(4)]
    hosting: set[str] = set()
    with ThreadPoolExecutor(len(specs)) as pool:
        futures = [pool.submit(sandbox.run, spec) for spec in specs]
        while wait(futures, timeout=0.05).not_done:
            hosting |= {node.node_id for node in cluster.workers if node.running()}
        results = [future.result() for future in futures]
    assert [result.status for result in results] == ["ok"] * 4, results
    workers = {node.node_id[:8] for node in cluster.workers}
    assert {_node_of(result) for result in results} == workers
    assert {node_id[:8] for node_id in hosting} == workers
    devices = set()
    for number, (spec, result) in enumerate(zip(specs, results, strict=True)):
        assert spec.output_dir is not None
        doubled, device = (spec.output_dir / "result.txt").read_text().split()
        assert int(doubled) == 2 * number
        devices.add((_node_of(result), device))
        assert not (spec.workspace / "out").exists()
    assert len(devices) == 4  # each run held a declared GPU of its own
    assert not any(node.running() for node in cluster.workers)  # scratch copies are gone


def test_a_run_whose_node_dies_starts_once_more_on_another_node(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    sandbox = _sandbox(cluster)
    spec = _spec(tmp_path, 21, 4)
    future = in_background(sandbox.run, spec)
    first = cluster.wait_for_a_run()
    cluster.remove(first)
    result = future.result(timeout=90)
    assert result.status == "ok", result
    (survivor,) = cluster.workers
    assert _node_of(result) == survivor.node_id[:8]
    lost = f"started again after node {first.node_id[:8]} (NodeDiedError) was lost"
    assert lost in (result.message or "")
    assert spec.output_dir is not None
    assert (spec.output_dir / "result.txt").read_text().split()[0] == "42"


def test_a_run_that_loses_its_node_twice_fails_with_one_line(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    sandbox = _sandbox(cluster)
    spec = _spec(tmp_path, 1, 60)
    future = in_background(sandbox.run, spec)
    first = cluster.wait_for_a_run()
    cluster.remove(first)
    second = cluster.wait_for_a_run()
    cluster.remove(second)
    result = future.result(timeout=60)
    assert result.status == "infra" and result.backend == "ray"
    message = result.message or ""
    assert "\n" not in message and "none of its outputs came back" in message
    assert f"node {first.node_id[:8]} (NodeDiedError), then node {second.node_id[:8]}" in (message)
    assert spec.output_dir is not None and not spec.output_dir.exists()


def test_a_run_whose_node_dies_with_no_node_left_for_it_fails_at_once(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    """Ray would queue the second try for ever; the backend says no node is left."""
    cluster.remove(cluster.workers[0], graceful=True)
    sandbox = _sandbox(cluster)
    future = in_background(sandbox.run, _spec(tmp_path, 1, 60))
    only = cluster.wait_for_a_run()
    cluster.remove(only)
    result = future.result(timeout=60)
    assert result.status == "infra"
    assert result.message == (
        "the run needs 1 CPUs and 0 GPUs on one node; "
        f"no node left has them after node {only.node_id[:8]} (NodeDiedError) was lost"
    )
