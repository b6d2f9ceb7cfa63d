"""The offline sandbox image: built with no registry at all.

`debootstrap` installs a minimal Debian of the host's suite (python3 from the host's apt
mirror) into a folder; the Python packages the packs need are copied, with their
dependency closure, from the host's site-packages (the host Python and Debian's python3 must
share major.minor, so compiled wheels fit); the folder is `docker import`ed as one layer.
The tag carries a hash of the builder, the requirements and their host versions, so a
rebuild happens only when one of those changes.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from functools import cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from pydantic import BaseModel

from scientist.errors import SandboxError, SandboxUnavailable, TemplateError

IMAGE_REPOSITORY = "scientist-sandbox"
REQUIREMENTS_FILE = Path(__file__).resolve().parents[2] / "sandbox" / "requirements.txt"
BASE_REQUIREMENTS = ("torch", "numpy", "cma", "matplotlib")
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
IMAGE_SITE_PACKAGES = f"usr/local/lib/python{PYTHON_VERSION}/dist-packages"
IMAGE_CHANGES = [
    "ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1",
    "WORKDIR /workspace",
    "USER 65534:65534",
    'CMD ["python3"]',
]


class BuildReport(BaseModel):
    tag: str
    built: bool
    seconds: float
    packages: int
    size_mb: float


def requirements() -> list[str]:
    """sandbox/requirements.txt (or the built-in list) plus every pack's requirements."""
    from scientist.templates import list_templates

    names = list(BASE_REQUIREMENTS)
    if REQUIREMENTS_FILE.is_file():
        lines = REQUIREMENTS_FILE.read_text().splitlines()
        names = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    try:
        for template in list_templates():
            names.extend(template.manifest.requirements)
    except TemplateError:
        pass
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


@cache
def default_image_tag() -> str:
    """`scientist-sandbox:offline-<hash>` for the current builder and requirements."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for dist in closure(requirements()):
        digest.update(f"{dist.metadata['Name']}=={dist.version}\n".encode())
    return f"{IMAGE_REPOSITORY}:offline-{digest.hexdigest()[:12]}"


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


def _copy_distribution(dist: metadata.Distribution, site_packages: Path) -> None:
    root = Path(dist.locate_file("")).resolve()
    for file in dist.files or []:
        source = Path(dist.locate_file(file)).resolve()
        if not source.is_relative_to(root) or not source.is_file():
            continue
        target = site_packages / source.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def build_offline(client: object, *, force: bool = False) -> BuildReport:
    """Build (or find) the offline image with the docker SDK `client`."""
    import docker.errors

    tag = default_image_tag()
    started = time.monotonic()
    if not force:
        try:
            client.images.get(tag)  # type: ignore[attr-defined]
            return BuildReport(tag=tag, built=False, seconds=0.0, packages=0, size_mb=0.0)
        except docker.errors.ImageNotFound:
            pass
    if shutil.which("debootstrap") is None:
        raise SandboxUnavailable("debootstrap is not installed", hint="apt-get install debootstrap")
    distributions = closure(requirements())
    suite, mirror = host_suite()
    with tempfile.TemporaryDirectory(prefix="scientist-image-", dir="/var/tmp") as scratch:
        rootfs = Path(scratch) / "rootfs"
        command = ["debootstrap", "--variant=minbase", "--include=python3", suite, str(rootfs)]
        done = subprocess.run([*command, mirror], capture_output=True, text=True)
        if done.returncode != 0:
            raise SandboxError(f"debootstrap failed: {done.stdout[-800:]}{done.stderr[-800:]}")
        if not (rootfs / f"usr/bin/python{PYTHON_VERSION}").exists():
            raise SandboxError(
                f"{suite}'s python3 is not {PYTHON_VERSION}, so host packages do not fit",
                hint="build from sandbox/Dockerfile instead",
            )
        site_packages = rootfs / IMAGE_SITE_PACKAGES
        for dist in distributions:
            _copy_distribution(dist, site_packages)
        (rootfs / "workspace").mkdir(mode=0o755)
        shutil.chown(rootfs / "workspace", 65534, 65534)
        for cache_dir in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(rootfs / cache_dir, ignore_errors=True)
        archive = Path(scratch) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(rootfs, arcname=".")
        size_mb = archive.stat().st_size / 2**20
        repository, _, version = tag.partition(":")
        client.api.import_image(  # type: ignore[attr-defined]
            src=str(archive), repository=repository, tag=version, changes=IMAGE_CHANGES
        )
    return BuildReport(
        tag=tag,
        built=True,
        seconds=round(time.monotonic() - started, 1),
        packages=len(distributions),
        size_mb=round(size_mb, 1),
    )
