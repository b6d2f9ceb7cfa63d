"""The ray backend: each spec runs as a Ray task, on whichever node has its resources.

The task requests `num_cpus=spec.cpus` and `num_gpus=len(spec.gpus)`: Ray picks the
devices on the node it chooses, and the run sees those as CUDA_VISIBLE_DEVICES (the ids in
the spec name a count, not devices, here). Nodes need not share a filesystem: the
workspace travels to the task as a tar blob, the task runs the spec with the local or
docker backend on its node (`[sandbox.ray] node_backend`), and the outputs travel back as a
blob that is unpacked into `spec.output_dir` on the driver. Allowlisted variables are read
on the driver; credentials never leave it.

A node (or the Ray worker) that dies under a run takes that try's outputs with it: the run
starts again once from its workspace, wherever Ray places it, and a second loss is an
`infra` result that says so. Ray's own task retries are off, so the driver knows every try.

Ray starts once per process: `ray.init()` on this machine (all its CPUs, no dashboard, no
network needed), or `ray.init(address=...)` with `[sandbox.ray] address` (else the
`RAY_ADDRESS` variable) to join a cluster whose nodes have scientist installed.
"""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import tarfile
import tempfile
import threading
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal, cast

import ray
from pydantic import BaseModel, ConfigDict, Field

from scientist.backends import register_backend
from scientist.config import SandboxConfig
from scientist.errors import SandboxUnavailable
from scientist.models import RunResult, RunSpec
from scientist.sandbox.base import Availability, backend_options, open_sandbox
from scientist.sandbox.common import is_secret

_START_LOCK = threading.Lock()

TRIES = 2
"""How often a run is started when its node is lost under it: once more."""

NODE_LOSS = (
    ray.exceptions.NodeDiedError,
    ray.exceptions.WorkerCrashedError,
    ray.exceptions.ObjectLostError,
)
"""What Ray raises when the node or worker under a task died, or the node holding its
result did before the result came back."""

_NODE_ID = re.compile(r"node ID: ([0-9a-f]{8})")

SCRATCH_PREFIX = "scientist-ray-"
"""The scratch folder of a run on its node, in the node's temp folder."""


def pack(folder: Path) -> bytes:
    """The folder as an uncompressed tar blob (symlinks kept as links, never followed)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(folder, arcname=".")
    return buffer.getvalue()


def unpack(blob: bytes, target: Path) -> None:
    """Extract a blob into `target`; the `data` filter refuses paths and links that escape."""
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r") as archive:
        archive.extractall(target, filter="data")


def start_ray(address: str | None) -> None:
    """Start (or join) Ray once per process; later calls reuse the running instance. Without
    `address`, `RAY_ADDRESS` names the cluster to join, and unset a local Ray starts."""
    with _START_LOCK:
        if ray.is_initialized():
            return
        address = address or os.environ.get("RAY_ADDRESS") or None
        options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
        try:
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, **options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the cluster at {address}" if address else "a local Ray instance"
            raise SandboxUnavailable(
                f"could not start {where}: {exc}",
                hint="check sandbox.ray.address or RAY_ADDRESS (unset both to run Ray here)",
            ) from None


@ray.remote
def _run_on_node(
    blob: bytes, spec_json: str, node_config_json: str, campaign: str | None
) -> tuple[str, bytes | None]:
    """Runs in a Ray worker: unpack, run with the node's backend, pack the outputs."""
    spec = RunSpec.model_validate_json(spec_json)
    gpu_ids = [str(int(gpu)) for gpu in ray.get_gpu_ids()]
    with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX) as scratch:
        workspace, outputs = Path(scratch) / "workspace", Path(scratch) / "outputs"
        unpack(blob, workspace)
        env = {**spec.env, "CUDA_VISIBLE_DEVICES": ",".join(gpu_ids)} if gpu_ids else spec.env
        local_spec = spec.model_copy(
            update={
                "workspace": workspace,
                "output_dir": outputs if spec.output_dir is not None else None,
                "gpus": [int(gpu) for gpu in gpu_ids],
                "env": env,
            }
        )
        node_config = SandboxConfig.model_validate_json(node_config_json)
        result = open_sandbox(node_config, campaign=campaign).run(local_spec)
        returned = pack(outputs) if outputs.is_dir() else None
        node_id = ray.get_runtime_context().get_node_id()[:8]
        node = f"ran on node {node_id} ({socket.gethostname()}) with the {node_config.kind} backend"
        message = "; ".join(part for part in (result.message, node) if part)
        return result.model_copy(update={"message": message}).model_dump_json(), returned


def _node_resources(lost: Collection[str] = ()) -> list[dict[str, float]]:
    """The total resources of each live node (a task must fit on one of them), leaving out
    the nodes whose id starts with one in `lost` (Ray may not know yet that they died)."""
    return [
        node["Resources"]
        for node in ray.nodes()
        if node.get("Alive") and not str(node.get("NodeID", "")).startswith(tuple(lost))
    ]


@ray.remote(num_cpus=0)
def _check_on_node(node_config_json: str) -> str:
    """Runs in a Ray worker: can this node open its backend?"""
    try:
        sandbox = open_sandbox(SandboxConfig.model_validate_json(node_config_json))
    except SandboxUnavailable as exc:
        return Availability(ok=False, reason=exc.message, hint=exc.hint).model_dump_json()
    return sandbox.check().model_dump_json()


class RayOptions(BaseModel):
    """`[sandbox.ray]`: the cluster to join and the backend each task runs its spec with."""

    model_config = ConfigDict(extra="forbid")

    address: str | None = Field(default=None, description="default: a local Ray on this machine")
    node_backend: Literal["local", "docker"] = "local"


class RaySandbox:
    """Runs specs as Ray tasks; limits are enforced by the node backend inside each task."""

    name = "ray"

    def __init__(self, config: SandboxConfig, *, campaign: str | None = None) -> None:
        self.options = cast(RayOptions, backend_options(config, "ray"))
        self.campaign = campaign
        self.node_config = config.model_copy(update={"kind": self.options.node_backend})

    def check(self) -> Availability:
        try:
            start_ray(self.options.address)
        except SandboxUnavailable as exc:
            return Availability(ok=False, reason=exc.message, hint=exc.hint)
        on_node = Availability.model_validate_json(
            ray.get(_check_on_node.remote(self.node_config.model_dump_json()))
        )
        kind = self.node_config.kind
        if not on_node.ok:
            return on_node.model_copy(update={"reason": f"{kind} on a Ray node: {on_node.reason}"})
        resources = ray.cluster_resources()
        nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
        return Availability(
            ok=True,
            reason=f"ray {ray.__version__}: {nodes} node(s), {resources.get('CPU', 0):g} CPUs, "
            f"{resources.get('GPU', 0):g} GPUs; tasks run the {kind} backend ({on_node.reason})",
            guarantees=on_node.guarantees,
        )

    def gpu_slots(self) -> list[int]:
        """One slot per GPU the cluster declares: a run asks Ray for one GPU, and Ray picks
        which, on whichever node has it free (the ids only count)."""
        start_ray(self.options.address)
        return list(range(int(ray.cluster_resources().get("GPU", 0))))

    def run(self, spec: RunSpec) -> RunResult:
        if not spec.workspace.is_dir():
            return self._infra(f"workspace {spec.workspace} is not a folder")
        start_ray(self.options.address)
        lost: list[str] = []
        lost_ids: list[str] = []
        refused = self._no_room(spec, lost, lost_ids)
        if refused is not None:
            return refused
        task = _run_on_node.options(num_cpus=spec.cpus, num_gpus=len(spec.gpus), max_retries=0)
        shipped = self._driver_side_env(spec).model_dump_json()
        arguments = (ray.put(pack(spec.workspace)), shipped, self.node_config.model_dump_json())
        while True:
            try:
                result_json, outputs = ray.get(task.remote(*arguments, self.campaign))
                break
            except NODE_LOSS as exc:
                lost.append(_lost_node(exc))
                lost_ids.extend(_NODE_ID.findall(str(exc)))
                if len(lost) == TRIES:
                    return self._infra(
                        f"the run lost its Ray node on each of {TRIES} tries "
                        f"({', then '.join(lost)}); none of its outputs came back"
                    )
                refused = self._no_room(spec, lost, lost_ids)
                if refused is not None:
                    return refused
            except ray.exceptions.RayError as exc:
                return self._infra(f"the Ray task failed: {exc}")
        result = RunResult.model_validate_json(result_json)
        if spec.output_dir is not None:
            if outputs is not None:
                unpack(outputs, spec.output_dir)
            spec.output_dir.mkdir(parents=True, exist_ok=True)
        message = result.message
        if lost:
            message = f"{message}; started again after {lost[0]} was lost"
        return result.model_copy(
            update={"backend": self.name, "output_dir": spec.output_dir, "message": message}
        )

    def _no_room(self, spec: RunSpec, lost: list[str], lost_ids: list[str]) -> RunResult | None:
        """An infra result when no live node but those lost has the CPUs and GPUs the run
        asks for (Ray would queue it for ever), else None."""
        if any(
            node.get("CPU", 0) >= spec.cpus and node.get("GPU", 0) >= len(spec.gpus)
            for node in _node_resources(lost_ids)
        ):
            return None
        nodes = (
            f"no node left has them after {lost[-1]} was lost"
            if lost
            else "no node of the Ray cluster has them"
        )
        return self._infra(
            f"the run needs {spec.cpus:g} CPUs and {len(spec.gpus)} GPUs on one node; {nodes}"
        )

    @staticmethod
    def _driver_side_env(spec: RunSpec) -> RunSpec:
        """Resolve the allowlist on the driver, so a run sees the campaign's host variables
        wherever it lands; names that look like credentials are dropped before shipping."""
        env = {name: os.environ[name] for name in spec.env_allowlist if name in os.environ}
        env.update(spec.env)
        safe = {name: value for name, value in env.items() if not is_secret(name)}
        return spec.model_copy(update={"env": safe, "env_allowlist": []})

    def _infra(self, message: str) -> RunResult:
        return RunResult(exit_code=None, status="infra", backend=self.name, message=message)


def _lost_node(exc: ray.exceptions.RayError) -> str:
    """The lost node as Ray names it (the first 8 digits of its id), and what Ray raised."""
    found = _NODE_ID.search(str(exc))
    return f"{'node ' + found.group(1) if found else 'its node'} ({type(exc).__name__})"


@register_backend("ray", options=RayOptions)
def _open_ray(config: SandboxConfig, campaign: str | None) -> RaySandbox:
    return RaySandbox(config, campaign=campaign)
