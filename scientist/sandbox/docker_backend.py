"""The docker backend: one throwaway container per run, locked down.

network none; memory == memory+swap; nano_cpus; pids limit; RLIMIT_NOFILE; every
capability dropped but SETUID and SETGID, which the first process (`container_entry.py`)
uses to drop to the run's own leased uid before it loads the local backend's seccomp
program on top of the engine's and execs the experiment; no-new-privileges; read-only root
with a tmpfs /tmp; the run's disk (`disk.py`: a tmpfs of the quota as root) bind-mounted at
/workspace and /cache; a root init process the run cannot signal; GPUs pinned by device id;
bounded logs. The host enforces the time limit with its own timer; outputs are collected
from the host side once the container has stopped. The engine must run on this host (bind
mounts).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any, cast

import docker
import docker.errors
import docker.types
import requests
from pydantic import BaseModel, ConfigDict, Field

from scientist.backends import register_backend
from scientist.config import SandboxConfig
from scientist.errors import SandboxError, SandboxUnavailable
from scientist.models import RunResult, RunSpec
from scientist.sandbox import container_entry
from scientist.sandbox.base import Availability, Guarantee, backend_options
from scientist.sandbox.collect import OutputLimits, collect_outputs
from scientist.sandbox.common import (
    CACHE_MOUNT,
    TAIL_BYTES,
    WORKDIR,
    process_alive,
    run_scratch,
    run_status,
    sandbox_env,
)
from scientist.sandbox.disk import DiskWatch, RunDisk
from scientist.sandbox.image import SANDBOX_UID, default_image_tag
from scientist.sandbox.limits import OPEN_FILES
from scientist.sandbox.seccomp_filter import seccomp_program
from scientist.sandbox.uids import run_identity

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
LABEL_RUN, LABEL_CAMPAIGN, LABEL_OWNER = "scientist.run", "scientist.campaign", "scientist.owner"


DOCKER_GUARANTEES = (
    ("processes die with the run", "the container's PID namespace"),
    ("host files", "read-only image root, the workspace bind and nothing else"),
    ("network", "network_mode none"),
    ("syscall filter", "the engine's default profile + the local filter + no-new-privileges"),
    ("runs apart from each other", "a uid of its own per run (as root), no capabilities"),
    ("memory of the whole run", "memory cgroup, swap included (on cgroup v1 not TCP buffers)"),
    ("processes per run", "pids cgroup"),
    ("disk quota", "a tmpfs of the quota for workspace and cache writes (as root)"),
    ("time", "host timer kills the container"),
    ("kernel-wide resources", "AIO refused, nofile ulimit, inotify per uid (a uid per run)"),
)


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
        limits: OutputLimits | None = None,
    ) -> None:
        self.image = image or default_image_tag()
        self.campaign = campaign
        self.limits = limits or OutputLimits()
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = docker_client()
        return self._client

    @staticmethod
    def install_hint(missing: list[str], pack: Path) -> str:
        return (
            f"scientist sandbox build --offline --pack {pack}, then set [sandbox.docker] "
            "image to the tag it prints"
        )

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
        return Availability(
            ok=True,
            reason=f"engine reachable, image {self.image} present",
            guarantees=_guarantees(),
        )

    def end_orphans(self) -> list[str]:
        """Remove this campaign's containers that a killed campaign process left running."""
        return remove_orphans(self.client, campaign=self.campaign) if self.campaign else []

    def run(self, spec: RunSpec) -> RunResult:
        started = time.monotonic()
        try:
            with run_identity(SANDBOX_UID) as (leased, gid):
                uid = SANDBOX_UID if leased is None else leased
                with run_scratch(spec, uid, gid, self.campaign) as disk:
                    container = self._create(spec, disk, uid, gid)
                    try:
                        return self._run_container(container, spec, disk, started)
                    finally:
                        with contextlib.suppress(docker.errors.DockerException):
                            container.remove(force=True, v=True)
        except (
            docker.errors.DockerException,
            requests.exceptions.RequestException,
            OSError,
            SandboxError,
        ) as exc:
            return RunResult(
                exit_code=None,
                status="infra",
                backend=self.name,
                duration_s=round(time.monotonic() - started, 4),
                message=f"docker could not run the spec: {exc}",
            )

    def _run_container(
        self, container: Any, spec: RunSpec, disk: RunDisk, started: float
    ) -> RunResult:
        """Start the container, stop it at the time limit (or, without a filesystem of its
        own, past the disk quota), collect."""
        with DiskWatch(disk, lambda: _kill(container)) as watch:
            container.start()
            timed_out = self._wait(container, spec)
            disk_full = watch.filled()
        container.reload()
        took = time.monotonic() - started
        return self._result(container, spec, disk, timed_out, disk_full, took)

    def _create(self, spec: RunSpec, disk: RunDisk, uid: int, gid: int) -> Any:
        command = ["python3", *spec.argv[1:]] if spec.argv[0] == "python" else list(spec.argv)
        program, _ = seccomp_program(spec.network)
        entry = inspect.getsource(container_entry)
        command = [
            "python3",
            "-I",
            "-S",
            "-c",
            entry,
            str(uid),
            str(gid),
            (program or b"").hex(),
            *command,
        ]
        mounts = [docker.types.Mount(WORKDIR, str(disk.workspace), type="bind")]
        if disk.cache is not None:
            mounts.append(docker.types.Mount(CACHE_MOUNT, str(disk.cache), type="bind"))
        mounts += [
            docker.types.Mount(str(path), str(path), type="bind", read_only=True)
            for path in spec.read_only
        ]
        ulimits = [docker.types.Ulimit(name="nofile", soft=OPEN_FILES, hard=OPEN_FILES)]
        if not disk.own_filesystem:
            quota = spec.disk_mb * 1024 * 1024
            ulimits.append(docker.types.Ulimit(name="fsize", soft=quota, hard=quota))
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
            user="0:0",
            environment=sandbox_env(spec, home=WORKDIR, tmpdir="/tmp"),
            network_mode="bridge" if spec.network else "none",
            mem_limit=f"{spec.memory_mb}m",
            memswap_limit=f"{spec.memory_mb}m",
            nano_cpus=int(spec.cpus * 1e9),
            pids_limit=spec.pids,
            cap_drop=["ALL"],
            cap_add=["SETUID", "SETGID"],
            security_opt=["no-new-privileges"],
            read_only=True,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={min(spec.memory_mb, 1024)}m"},
            mounts=mounts,
            ulimits=ulimits,
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
        """Wait for the container on the host's own timer; True when it had to kill it."""
        try:
            container.wait(timeout=spec.timeout_s)
            return False
        except requests.exceptions.RequestException:
            _kill(container)
            container.wait(timeout=60)
            return True

    def _result(
        self,
        container: Any,
        spec: RunSpec,
        disk: RunDisk,
        timed_out: bool,
        disk_full: bool,
        took: float,
    ) -> RunResult:
        state = container.attrs["State"]
        code = state["ExitCode"]
        status, message = run_status(
            spec, code, timed_out=timed_out, oom_killed=state["OOMKilled"], disk_full=disk_full
        )
        notes = [disk.save_cache(spec.cache_dir, self.limits)]
        if spec.output_dir is not None:
            notes.append(
                collect_outputs(disk.workspace, spec.output_subdir, spec.output_dir, self.limits)
            )
        return RunResult(
            exit_code=code,
            status=status,
            stdout_tail=_tail(container.logs(stdout=True, stderr=False, tail=4000)),
            stderr_tail=_tail(container.logs(stdout=False, stderr=True, tail=4000)),
            duration_s=round(took, 4),
            output_dir=spec.output_dir,
            backend=self.name,
            network_isolated=not spec.network,
            message="; ".join(part for part in (message, *notes) if part),
        )


def _guarantees() -> list[Guarantee]:
    """DOCKER_GUARANTEES, with the syscall filter not enforced where the local filter
    cannot be compiled on this host."""
    _, no_filter = seccomp_program(False)
    return [
        Guarantee(name=name, enforced=False, how=no_filter)
        if no_filter and name == "syscall filter"
        else Guarantee(name=name, enforced=True, how=how)
        for name, how in DOCKER_GUARANTEES
    ]


def _kill(container: Any) -> None:
    """Kill the container unless it already stopped."""
    with contextlib.suppress(docker.errors.APIError):
        container.kill()


def _tail(raw: bytes) -> str:
    text = raw[-TAIL_BYTES:].decode("utf-8", errors="replace")
    return f"[... earlier output dropped ...]\n{text}" if len(raw) > TAIL_BYTES else text


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
        orphan = not pid.isdigit() or (owner_host == host and not process_alive(int(pid)))
        if everything or orphan:
            container.remove(force=True, v=True)
            removed.append(container.name)
    return removed


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
