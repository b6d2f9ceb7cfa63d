"""Docker-backend specifics: orphan cleanup, the container's settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scientist.models import RunSpec
from scientist.sandbox.docker_backend import (
    LABEL_CAMPAIGN,
    LABEL_OWNER,
    LABEL_RUN,
    DockerSandbox,
    remove_orphans,
)
from scientist.sandbox.image import SANDBOX_UID
from scientist.sandbox.uids import RUN_UIDS


@pytest.fixture
def docker_sandbox() -> DockerSandbox:
    sandbox = DockerSandbox()
    availability = sandbox.check()
    if not availability.ok:
        pytest.skip(f"docker sandbox unavailable here: {availability.reason}")
    return sandbox


@pytest.mark.docker
def test_cleanup_removes_only_containers_whose_owner_is_gone(
    docker_sandbox: DockerSandbox,
) -> None:
    client = docker_sandbox.client
    host = os.uname().nodename
    orphan = client.containers.create(
        docker_sandbox.image, ["true"], labels={LABEL_RUN: "orphan", LABEL_OWNER: f"{host}:999999"}
    )
    owned = client.containers.create(
        docker_sandbox.image,
        ["true"],
        labels={LABEL_RUN: "mine", LABEL_OWNER: f"{host}:{os.getpid()}"},
    )
    try:
        removed = remove_orphans(client)
        assert orphan.name in removed
        assert owned.name not in removed
        owned.reload()
    finally:
        owned.remove(force=True)


@pytest.mark.docker
def test_a_resumed_campaign_ends_only_its_own_orphans(docker_sandbox: DockerSandbox) -> None:
    client = docker_sandbox.client
    host = os.uname().nodename

    def container(campaign: str, pid: int):
        labels = {LABEL_RUN: "r", LABEL_CAMPAIGN: campaign, LABEL_OWNER: f"{host}:{pid}"}
        return client.containers.create(docker_sandbox.image, ["true"], labels=labels)

    orphan, live, other = (
        container("c1", 999999),
        container("c1", os.getpid()),
        container("c2", 999999),
    )
    try:
        ended = DockerSandbox(image=docker_sandbox.image, campaign="c1").end_orphans()
        assert ended == [orphan.name]
        live.reload()
        other.reload()
    finally:
        live.remove(force=True)
        other.remove(force=True)


@pytest.mark.docker
def test_containers_are_locked_down_and_removed(
    docker_sandbox: DockerSandbox, workspace: Path
) -> None:
    argv = ["python", "-c", "import os; print(os.getuid(), open('/proc/self/status').read())"]
    spec = RunSpec(workspace=workspace, argv=argv, timeout_s=60, labels={LABEL_RUN: "locked"})
    result = docker_sandbox.run(spec)
    assert result.ok, result
    uid = int(result.stdout_tail.split()[0])
    assert uid in RUN_UIDS if os.geteuid() == 0 else uid == SANDBOX_UID
    assert "CapEff:\t0000000000000000" in result.stdout_tail
    assert "CapPrm:\t0000000000000000" in result.stdout_tail
    assert (
        docker_sandbox.client.containers.list(all=True, filters={"label": f"{LABEL_RUN}=locked"})
        == []
    )
