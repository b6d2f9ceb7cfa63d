"""The offline sandbox image: built with no registry at all, in two cached stages.

1. base: `debootstrap` installs a minimal Debian of the host's suite (python3 from the host's
   apt mirror) into a folder, which is `docker import`ed. Built once per suite and Python.
2. packages: the Python packages the packs need are copied with their dependency closure
   from the host's site-packages (the host Python and Debian's python3 share major.minor, so
   compiled wheels fit) into a container of the base, which is committed as the image.

Each tag carries a hash of what went into it, so a rebuild happens only on a change.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from packaging.requirements import Requirement
from pydantic import BaseModel

from scientist.errors import SandboxError, SandboxUnavailable

SANDBOX_UID = 65534

IMAGE_REPOSITORY = "scientist-sandbox"
BASE_REPOSITORY = "scientist-sandbox-base"
REQUIREMENTS_FILE = Path(__file__).resolve().parents[2] / "sandbox" / "requirements.txt"
BASE_REQUIREMENTS = ("torch", "numpy", "cma", "matplotlib")
BASE_PACKAGES = ("python3",)
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
IMAGE_SITE_PACKAGES = f"usr/local/lib/python{PYTHON_VERSION}/dist-packages"
IMAGE_CHANGES = [
    "ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1",
    "WORKDIR /workspace",
    f"USER {SANDBOX_UID}:{SANDBOX_UID}",
    'CMD ["python3"]',
]


class BuildReport(BaseModel):
    tag: str
    built: bool
    seconds: float
    packages: int
    size_mb: float


def requirements(extra: tuple[str, ...] = ()) -> list[str]:
    """sandbox/requirements.txt (or the built-in list) plus every pack's `requirements`
    (read from template.toml directly, so one pack under edit does not change the image),
    plus `extra` (the requirements of a pack outside templates/)."""
    from scientist.templates import TEMPLATES_ROOT

    names = list(BASE_REQUIREMENTS)
    if REQUIREMENTS_FILE.is_file():
        lines = REQUIREMENTS_FILE.read_text().splitlines()
        names = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for manifest in sorted(TEMPLATES_ROOT.glob("*/template.toml")):
        with contextlib.suppress(tomllib.TOMLDecodeError):
            names.extend(tomllib.loads(manifest.read_text()).get("requirements", []))
    names.extend(extra)
    return sorted({Requirement(name).name.lower() for name in names})


def closure(names: list[str]) -> list[metadata.Distribution]:
    """The installed host distributions for `names` and everything they require."""
    found: dict[str, metadata.Distribution] = {}
    pending = list(names)
    while pending:
        name = re.sub(r"[-_.]+", "-", pending.pop()).lower()
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise SandboxError(
                f"package '{name}' is not installed on the host, so it cannot be copied",
                hint=f"pip install {name}",
            ) from None
        found[name] = dist
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return sorted(found.values(), key=lambda dist: dist.metadata["Name"].lower())


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def base_image_tag() -> str:
    suite, mirror = host_suite()
    return f"{BASE_REPOSITORY}:{suite}-py{PYTHON_VERSION}-{_digest(mirror, *BASE_PACKAGES)}"


@cache
def default_image_tag(extra: tuple[str, ...] = ()) -> str:
    """`scientist-sandbox:offline-<hash>` of the base, the packages and the image settings."""
    pins = [f"{dist.metadata['Name']}=={dist.version}" for dist in closure(requirements(extra))]
    digest = _digest(base_image_tag(), IMAGE_SITE_PACKAGES, *IMAGE_CHANGES, *pins)
    return f"{IMAGE_REPOSITORY}:offline-{digest}"


def host_suite() -> tuple[str, str]:
    """The host's Debian suite and main mirror, as apt is configured here."""
    release = Path("/etc/os-release").read_text()
    match = re.search(r"^VERSION_CODENAME=(\w+)", release, re.MULTILINE)
    if match is None:
        raise SandboxUnavailable("the offline build needs a Debian host", hint="use Dockerfile")
    mirror = "http://deb.debian.org/debian"
    sources = sorted(Path("/etc/apt").glob("sources.list*")) + sorted(
        Path("/etc/apt/sources.list.d").glob("*")
    )
    for source in sources:
        if source.is_file():
            for uri in re.findall(r"(?:URIs:|^deb)\s+(\S+/debian)\b", source.read_text(), re.M):
                return match.group(1), uri
    return match.group(1), mirror


def _exists(client: Any, tag: str) -> bool:
    import docker.errors

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _unmount_under(folder: Path) -> None:
    """Detach what an interrupted debootstrap left mounted (/proc, /sys) before cleanup."""
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mount_point in sorted((m for m in mounts if m.startswith(f"{folder}/")), reverse=True):
        subprocess.run(["umount", "--lazy", mount_point], check=False)


def build_base(client: Any) -> str:
    """debootstrap the host's suite and import it (skipped when the base tag exists)."""
    tag = base_image_tag()
    if _exists(client, tag):
        return tag
    if shutil.which("debootstrap") is None:
        raise SandboxUnavailable("debootstrap is not installed", hint="apt-get install debootstrap")
    suite, mirror = host_suite()
    with tempfile.TemporaryDirectory(prefix="scientist-image-", dir="/var/tmp") as scratch:
        rootfs = Path(scratch) / "rootfs"
        include = f"--include={','.join(BASE_PACKAGES)}"
        command = ["debootstrap", "--variant=minbase", include, suite, str(rootfs), mirror]
        try:
            done = subprocess.run(command, capture_output=True, text=True)
        finally:
            _unmount_under(rootfs)
        if done.returncode != 0:
            raise SandboxError(f"debootstrap failed: {done.stdout[-800:]}{done.stderr[-800:]}")
        if not (rootfs / f"usr/bin/python{PYTHON_VERSION}").exists():
            raise SandboxError(
                f"{suite}'s python3 is not {PYTHON_VERSION}, so host packages do not fit",
                hint="build from sandbox/Dockerfile instead",
            )
        for cache_dir in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(rootfs / cache_dir, ignore_errors=True)
        archive = Path(scratch) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(rootfs, arcname=".")
        repository, _, version = tag.partition(":")
        client.api.import_image(src=str(archive), repository=repository, tag=version)
    return tag


def packages_tar(distributions: list[metadata.Distribution], into: IO[bytes]) -> None:
    """A tar, rooted at /, of the distributions' installed files and the /workspace folder."""
    with tarfile.open(fileobj=into, mode="w") as tar:
        workspace = tarfile.TarInfo("workspace")
        workspace.type, workspace.mode = tarfile.DIRTYPE, 0o755
        workspace.uid = workspace.gid = SANDBOX_UID
        tar.addfile(workspace)
        for dist in distributions:
            root = Path(dist.locate_file("")).resolve()
            for file in dist.files or []:
                source = Path(dist.locate_file(file)).resolve()
                if source.is_relative_to(root) and source.is_file():
                    arcname = f"{IMAGE_SITE_PACKAGES}/{source.relative_to(root)}"
                    tar.add(source, arcname=arcname, recursive=False)
    into.seek(0)


def build_offline(client: Any, *, force: bool = False, extra: tuple[str, ...] = ()) -> BuildReport:
    """Build (or find) the offline image with the docker SDK `client`; `extra` requirements
    (a pack's) are copied in too and change the tag."""
    tag = default_image_tag(extra)
    started = time.monotonic()
    if not force and _exists(client, tag):
        return BuildReport(tag=tag, built=False, seconds=0.0, packages=0, size_mb=0.0)
    base = build_base(client)
    distributions = closure(requirements(extra))
    repository, _, version = tag.partition(":")
    with tempfile.TemporaryFile(dir="/var/tmp") as archive:
        packages_tar(distributions, archive)
        size_mb = archive.seek(0, 2) / 2**20
        archive.seek(0)
        container = client.containers.create(base, ["true"])
        try:
            container.put_archive("/", archive)
            container.commit(repository=repository, tag=version, changes=IMAGE_CHANGES)
        finally:
            container.remove(force=True)
    return BuildReport(
        tag=tag,
        built=True,
        seconds=round(time.monotonic() - started, 1),
        packages=len(distributions),
        size_mb=round(size_mb, 1),
    )
