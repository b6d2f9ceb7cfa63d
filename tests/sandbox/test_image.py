"""The offline image builder: what goes in, how the tag is keyed, and the built image."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from scientist.models import RunSpec
from scientist.sandbox import image
from scientist.sandbox.docker_backend import DockerSandbox


def test_requirements_include_the_base_list_and_every_pack() -> None:
    names = image.requirements()
    assert {"torch", "numpy", "cma", "matplotlib"} <= set(names)
    assert names == sorted(set(names))


def test_closure_follows_dependencies_and_rejects_missing_packages() -> None:
    names = {dist.metadata["Name"].lower() for dist in image.closure(["jinja2"])}
    assert names == {"jinja2", "markupsafe"}
    with pytest.raises(image.SandboxError, match="not installed on the host"):
        image.closure(["no-such-distribution-xyz"])


def test_the_tag_changes_with_the_requirements(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    image.default_image_tag.cache_clear()
    current = image.default_image_tag()
    assert current == image.default_image_tag()
    extra = tmp_path / "requirements.txt"
    extra.write_text("numpy\npytest\n")
    monkeypatch.setattr(image, "REQUIREMENTS_FILE", extra)
    image.default_image_tag.cache_clear()
    try:
        assert image.default_image_tag() != current
    finally:
        image.default_image_tag.cache_clear()


def test_packages_tar_places_files_in_the_image_site_packages(tmp_path: Path) -> None:
    import tarfile

    with (tmp_path / "layer.tar").open("w+b") as archive:
        image.packages_tar(image.closure(["markupsafe"]), archive)
        with tarfile.open(fileobj=archive) as tar:
            members = {member.name: member for member in tar.getmembers()}
    assert members["workspace"].isdir() and members["workspace"].uid == 65534
    assert f"{image.IMAGE_SITE_PACKAGES}/markupsafe/__init__.py" in members


def test_host_suite_reads_the_apt_configuration() -> None:
    suite, mirror = image.host_suite()
    assert suite.isalpha()
    assert mirror.startswith("http")


@pytest.mark.docker
def test_the_built_image_runs_the_pack_stack_and_rebuilds_only_on_change(tmp_path: Path) -> None:
    sandbox = DockerSandbox()
    availability = sandbox.check()
    if not availability.ok:
        pytest.skip(f"docker sandbox unavailable here: {availability.reason}")
    started = time.monotonic()
    report = image.build_offline(sandbox.client)
    assert not report.built
    assert time.monotonic() - started < 5
    probe = "import torch, numpy, cma, matplotlib; print(torch.tensor([2.0]).pow(2).item())"
    result = sandbox.run(RunSpec(workspace=tmp_path, argv=["python", "-c", probe]))
    assert result.ok, result
    assert result.stdout_tail.strip() == "4.0"
