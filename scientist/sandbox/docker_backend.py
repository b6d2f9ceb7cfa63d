"""The docker backend: one throwaway container per run, locked down.

network none; memory == memory+swap; nano_cpus; pids limit; all capabilities dropped;
no-new-privileges; uid 65534; read-only root with a tmpfs /tmp and one writable anonymous
volume at /workspace; an init process; GPUs pinned by device id; bounded logs. The time
limit is enforced inside (`timeout -k`) and outside (the host kills the container).
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import time
import uuid
from typing import Any, cast

import docker
import docker.errors
import docker.types
import requests
from pydantic import BaseModel, ConfigDict, Field

from scientist.backends import register_backend
from scientist.config import SandboxConfig
from scientist.errors import SandboxUnavailable
from scientist.models import RunResult, RunSpec, RunStatus
from scientist.sandbox.archive import SANDBOX_UID, extract_capped, workspace_tar
from scientist.sandbox.base import Availability, backend_options
from scientist.sandbox.common import OUTPUT_CAP_BYTES, TAIL_BYTES, memory_message, sandbox_env
from scientist.sandbox.image import default_image_tag

WORKDIR = "/workspace"
DEFAULT_SOCKET = "unix:///var/run/docker.sock"
KILL_GRACE_S = 5
HOST_GRACE_S = 15
LABEL_RUN, LABEL_CAMPAIGN, LABEL_OWNER = "scientist.run", "scientist.campaign", "scientist.owner"


def docker_client(timeout_s: float = 120) -> Any:
    """A docker SDK client for the local engine, or SandboxUnavailable with the fix."""
    try:
        client = docker.from_env(timeout=int(timeout_s))
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise SandboxUnavailable(
            f"cannot reach the Docker engine at {os.environ.get('DOCKER_HOST', DEFAULT_SOCKET)}"
            f" ({type(exc).__name__})",
            hint="start it with `sudo dockerd &` (or install docker.io)",
        ) from None
    return client


def owner_label() -> str:
    """host:pid of this process; `cleanup` removes containers whose owner is gone."""
    return f"{socket.gethostname()}:{os.getpid()}"


class DockerSandbox:
    """Runs specs in containers of `image` (default: the offline-built image)."""

    name = "docker"

    def __init__(
        self,
        *,
        image: str | None = None,
        campaign: str | None = None,
        output_cap_bytes: int = OUTPUT_CAP_BYTES,
    ) -> None:
        self.image = image or default_image_tag()
        self.campaign = campaign
        self.output_cap_bytes = output_cap_bytes
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = docker_client()
        return self._client

    def check(self) -> Availability:
        try:
            self.client.images.get(self.image)
        except SandboxUnavailable as exc:
            return Availability(ok=False, reason=exc.message, hint=exc.hint)
        except docker.errors.ImageNotFound:
            return Availability(
                ok=False,
                reason=f"engine reachable, but image {self.image} is not built",
                hint="build it with `scientist sandbox build --offline`",
            )
        return Availability(ok=True, reason=f"engine reachable, image {self.image} present")

    def end_orphans(self) -> list[str]:
        """Remove this campaign's containers that a killed campaign process left running."""
        return remove_orphans(self.client, campaign=self.campaign) if self.campaign else []

    def run(self, spec: RunSpec) -> RunResult:
        started = time.monotonic()
        container = None
        try:
            container = self._create(spec)
            with tempfile.TemporaryFile() as archive:
                workspace_tar(spec.workspace, archive)
                container.put_archive(WORKDIR, archive)
            container.start()
            timed_out = self._wait(container, spec)
            container.reload()
            return self._result(container, spec, timed_out, time.monotonic() - started)
        except (docker.errors.DockerException, OSError) as exc:
            return RunResult(
                exit_code=None,
                status="infra",
                backend=self.name,
                duration_s=round(time.monotonic() - started, 4),
                message=f"docker could not run the spec: {exc}",
            )
        finally:
            if container is not None:
                with contextlib.suppress(docker.errors.DockerException):
                    container.remove(force=True, v=True)

    def _create(self, spec: RunSpec) -> Any:
        argv = ["python3", *spec.argv[1:]] if spec.argv[0] == "python" else list(spec.argv)
        command = ["timeout", "-k", str(KILL_GRACE_S), f"{spec.timeout_s:.3f}", *argv]
        labels = {
            **spec.labels,
            LABEL_RUN: spec.labels.get(LABEL_RUN, uuid.uuid4().hex[:12]),
            LABEL_CAMPAIGN: self.campaign or "",
            LABEL_OWNER: owner_label(),
        }
        gpus = [
            docker.types.DeviceRequest(
                device_ids=[str(gpu) for gpu in spec.gpus], capabilities=[["gpu"]]
            )
        ]
        return self.client.containers.create(
            self.image,
            command=command,
            working_dir=WORKDIR,
            user=f"{SANDBOX_UID}:{SANDBOX_UID}",
            environment=sandbox_env(spec, home=WORKDIR, tmpdir="/tmp"),
            network_mode="bridge" if spec.network else "none",
            mem_limit=f"{spec.memory_mb}m",
            memswap_limit=f"{spec.memory_mb}m",
            nano_cpus=int(spec.cpus * 1e9),
            pids_limit=spec.pids,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            read_only=True,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={min(spec.memory_mb, 1024)}m"},
            mounts=[docker.types.Mount(WORKDIR, None, type="volume")],
            shm_size=f"{max(64, spec.memory_mb // 4)}m",
            init=True,
            labels=labels,
            device_requests=gpus if spec.gpus else None,
            log_config=docker.types.LogConfig(
                type="json-file", config={"max-size": "2m", "max-file": "1"}
            ),
        )

    @staticmethod
    def _wait(container: Any, spec: RunSpec) -> bool:
        """Wait for the container; kill it from the host if the inside timer failed."""
        try:
            container.wait(timeout=spec.timeout_s + KILL_GRACE_S + HOST_GRACE_S)
            return False
        except requests.exceptions.RequestException:
            container.kill()
            container.wait(timeout=30)
            return True

    def _result(self, container: Any, spec: RunSpec, host_killed: bool, took: float) -> RunResult:
        state = container.attrs["State"]
        code = state["ExitCode"]
        stdout = _tail(container.logs(stdout=True, stderr=False, tail=4000))
        stderr = _tail(container.logs(stdout=False, stderr=True, tail=4000))
        killed = host_killed or code == 124 or (code == 137 and took >= spec.timeout_s)
        status, message = _classify(code, state["OOMKilled"], killed, stderr, spec)
        output_dir, note = None, ""
        if spec.output_dir is not None:
            output_dir = spec.output_dir
            output_dir.mkdir(parents=True, exist_ok=True)
            note = self._collect(container, spec)
        return RunResult(
            exit_code=code,
            status=status,
            stdout_tail=stdout,
            stderr_tail=stderr,
            duration_s=round(took, 4),
            output_dir=output_dir,
            backend=self.name,
            network_isolated=not spec.network,
            message="; ".join(part for part in (message, note) if part),
        )

    def _collect(self, container: Any, spec: RunSpec) -> str:
        assert spec.output_dir is not None
        try:
            chunks, _ = container.get_archive(f"{WORKDIR}/{spec.output_subdir.strip('/')}")
        except docker.errors.NotFound:
            return f"no output folder '{spec.output_subdir}' was written"
        return extract_capped(chunks, spec.output_dir, self.output_cap_bytes)


def _tail(raw: bytes) -> str:
    text = raw[-TAIL_BYTES:].decode("utf-8", errors="replace")
    return f"[... earlier output dropped ...]\n{text}" if len(raw) > TAIL_BYTES else text


def _classify(
    code: int, oom_killed: bool, timed_out: bool, stderr: str, spec: RunSpec
) -> tuple[RunStatus, str]:
    if oom_killed or (code != 0 and memory_message(stderr)):
        return "oom", f"ran out of its {spec.memory_mb} MB memory limit (exit {code})"
    if timed_out:
        return "timeout", f"killed after the {spec.timeout_s:g} s time limit"
    if code == 0:
        return "ok", ""
    return "error", f"exited with code {code}"


def remove_orphans(
    client: Any, *, everything: bool = False, campaign: str | None = None
) -> list[str]:
    """Remove labelled containers whose owning process (on this host) is gone, or all of
    them with `everything`; only `campaign`'s when given. Returns the names removed."""
    host = socket.gethostname()
    labels = [LABEL_RUN] + ([f"{LABEL_CAMPAIGN}={campaign}"] if campaign else [])
    removed = []
    for container in client.containers.list(all=True, filters={"label": labels}):
        owner_host, _, pid = container.labels.get(LABEL_OWNER, ":").partition(":")
        orphan = not pid.isdigit() or (owner_host == host and not _process_alive(int(pid)))
        if everything or orphan:
            container.remove(force=True, v=True)
            removed.append(container.name)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DockerOptions(BaseModel):
    """`[sandbox.docker]`: the image runs start from."""

    model_config = ConfigDict(extra="forbid")

    image: str | None = Field(default=None, description="default: the offline-built image")


@register_backend("docker", options=DockerOptions)
def _open_docker(config: SandboxConfig, campaign: str | None) -> DockerSandbox:
    options = cast(DockerOptions, backend_options(config, "docker"))
    sandbox = DockerSandbox(image=options.image, campaign=campaign)
    availability = sandbox.check()
    if not availability.ok:
        raise SandboxUnavailable(availability.reason, hint=availability.hint)
    return sandbox
