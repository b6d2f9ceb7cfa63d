"""What the ray backend adds to the conformance suite: shipping, scheduling, refusals."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")

from scientist.config import SandboxConfig
from scientist.models import RunResult, RunSpec
from scientist.sandbox import open_sandbox
from scientist.sandbox.ray_backend import RaySandbox, pack, unpack

pytestmark = pytest.mark.slow


@pytest.fixture
def ray_sandbox() -> RaySandbox:
    opened = open_sandbox(SandboxConfig(kind="ray"), campaign="ray-tests")
    assert isinstance(opened, RaySandbox) and opened.check().ok
    return opened


def test_outputs_travel_back_as_a_blob_including_nested_folders(
    ray_sandbox: RaySandbox, tmp_path: Path
) -> None:
    workspace = tmp_path / "workspace"
    (workspace / "data").mkdir(parents=True)
    (workspace / "data" / "numbers.txt").write_text("1 2 3")
    source = (
        "import os, pathlib\n"
        "total = sum(map(int, open('data/numbers.txt').read().split()))\n"
        "pathlib.Path('out/figures').mkdir(parents=True)\n"
        "pathlib.Path('out/figures/total.txt').write_text(str(total))\n"
        "print(os.getcwd())\n"
    )
    (workspace / "main.py").write_text(source)
    spec = RunSpec(
        workspace=workspace, argv=["python", "main.py"], timeout_s=60, output_dir=tmp_path / "res"
    )
    result = ray_sandbox.run(spec)
    assert result.status == "ok", result
    assert (tmp_path / "res" / "figures" / "total.txt").read_text() == "6"
    assert str(workspace) not in result.stdout_tail  # it ran in an unpacked copy
    assert "with the local backend" in result.message


def test_runs_share_the_cluster_cpus_in_parallel(ray_sandbox: RaySandbox, tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    spec = RunSpec(workspace=workspace, argv=["python", "-c", "import time; time.sleep(3)"])
    ray_sandbox.run(spec)  # warm the worker pool
    results: list[RunResult] = []
    threads = [threading.Thread(target=lambda: results.append(ray_sandbox.run(spec))) for _ in "ab"]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert [result.status for result in results] == ["ok", "ok"]
    assert elapsed < 5.5, f"two 3 s runs on 2 CPUs took {elapsed:.1f} s"


def test_a_run_larger_than_the_cluster_is_refused_at_once(
    ray_sandbox: RaySandbox, tmp_path: Path
) -> None:
    tmp_path.joinpath("workspace").mkdir()
    for too_big in ({"gpus": [0]}, {"cpus": 512.0}):
        spec = RunSpec(workspace=tmp_path / "workspace", argv=["python", "-V"], **too_big)
        started = time.monotonic()
        result = ray_sandbox.run(spec)
        assert result.status == "infra" and "no node of the Ray cluster" in result.message
        assert time.monotonic() - started < 2


def test_a_missing_workspace_is_an_infra_result(ray_sandbox: RaySandbox, tmp_path: Path) -> None:
    result = ray_sandbox.run(RunSpec(workspace=tmp_path / "nowhere", argv=["python", "-V"]))
    assert result.status == "infra" and "is not a folder" in result.message


def test_pack_keeps_symlinks_as_links_and_unpack_refuses_escapes(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "link").symlink_to("a.txt")
    unpack(pack(folder), tmp_path / "copy")
    assert (tmp_path / "copy" / "link").is_symlink()
    assert (tmp_path / "copy" / "link").read_text() == "a"

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        member = tarfile.TarInfo("../escaped.txt")
        member.size = 4
        archive.addfile(member, io.BytesIO(b"evil"))
    with pytest.raises(tarfile.FilterError):
        unpack(buffer.getvalue(), tmp_path / "target")
    assert not (tmp_path / "escaped.txt").exists()


@pytest.mark.docker
def test_tasks_can_run_the_docker_backend_on_their_node(tmp_path: Path) -> None:
    config = SandboxConfig.model_validate({"kind": "ray", "ray": {"node_backend": "docker"}})
    sandbox = open_sandbox(config, campaign="ray-docker")
    availability = sandbox.check()
    if not availability.ok:
        pytest.skip(f"{availability.reason} ({availability.hint})")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    source = "import os; os.makedirs('out'); open('out/where.txt', 'w').write(os.getcwd())"
    spec = RunSpec(
        workspace=workspace, argv=["python", "-c", source], timeout_s=60, output_dir=tmp_path / "o"
    )
    result = sandbox.run(spec)
    assert result.status == "ok", result
    assert result.backend == "ray" and "with the docker backend" in result.message
    assert (tmp_path / "o" / "where.txt").read_text() == "/workspace"


CLUSTER_WITH_GPUS = """
import ray
ray.init(num_cpus=1, num_gpus=3, include_dashboard=False, log_to_driver=False)
from scientist.config import SandboxConfig
from scientist.sandbox import declared_gpus, open_sandbox
print(declared_gpus(open_sandbox(SandboxConfig(kind="ray"))))
"""


def test_a_cluster_declares_one_slot_per_gpu() -> None:
    """A Ray that declares 3 GPUs (on a machine without any) gives the scheduler 3 slots."""
    done = subprocess.run(
        [sys.executable, "-c", CLUSTER_WITH_GPUS], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[0, 1, 2]"
