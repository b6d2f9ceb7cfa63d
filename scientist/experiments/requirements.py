"""A pack's `requirements`: checked in the chosen sandbox, installed only when asked.

`check_requirements` runs `requirement_probe.py` in the sandbox and names, in one line, every
requirement that does not import there, with the fix for that sandbox. With
`install_requirements = true` (`--install-requirements`, local sandbox only) the ones that do
not import in the interpreter scientist runs in are installed into a per-pack environment
(`envs_root()`): a virtual environment layered on that interpreter (it sees every folder the
interpreter imports from, so pip never fetches what already imports), whose site-packages
reach the runs through `PYTHONPATH`. Nothing is ever installed without that flag.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from scientist.config import CampaignConfig
from scientist.errors import TemplateError
from scientist.models import RunSpec
from scientist.sandbox import Sandbox, install_hint
from scientist.templates import Template

PROBE = Path(__file__).with_name("requirement_probe.py")
PYTHON_DIR = f"python{sys.version_info.major}.{sys.version_info.minor}"
INSTALLED_MARKER = "requirements.json"
DEFAULT_ENVS = Path("/var/tmp/scientist-envs")


def requirement_names(template: Template) -> list[str]:
    """The distribution names of the pack's `requirements` (versions and markers dropped)."""
    names = []
    for entry in template.manifest.requirements:
        try:
            names.append(Requirement(entry).name)
        except InvalidRequirement:
            raise TemplateError(
                f"{template.root / 'template.toml'}: requirement '{entry}' is not a valid "
                "requirement specifier"
            ) from None
    return names


def envs_root() -> Path:
    """Where per-pack environments live: `SCIENTIST_ENVS`, else a folder outside every home
    (runs may execute as an unprivileged user that cannot read the admin's home)."""
    return Path(os.environ.get("SCIENTIST_ENVS") or DEFAULT_ENVS)


def env_dir(template: Template) -> Path:
    """The pack's own environment, keyed by its name and requirements."""
    digest = hashlib.sha256("\n".join(sorted(template.manifest.requirements)).encode())
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", template.name)
    return envs_root() / f"{safe}-{digest.hexdigest()[:12]}"


def _site_packages(folder: Path) -> Path:
    return folder / "lib" / PYTHON_DIR / "site-packages"


def pack_env(template: Template, config: CampaignConfig) -> dict[str, str]:
    """Variables a run needs to see the pack's installed requirements ({} unless asked)."""
    if not pack_paths(template, config):
        return {}
    return {"PYTHONPATH": str(_site_packages(env_dir(template)))}


def pack_paths(template: Template, config: CampaignConfig) -> list[Path]:
    """Host folders a run sees read-only: the pack's environment, when one is asked for."""
    if not config.install_requirements or not template.manifest.requirements:
        return []
    return [env_dir(template)]


def not_importable_here(template: Template) -> list[str]:
    """The pack's requirement entries (as written) that do not import in the interpreter
    scientist runs in: the ones an environment layered on it has to install."""
    names = requirement_names(template)
    if not names:
        return []
    with tempfile.TemporaryDirectory(prefix="scientist-requirements-") as scratch:
        done = subprocess.run(
            [sys.executable, str(PROBE), *names], capture_output=True, text=True, cwd=scratch
        )
    try:
        missing = set(json.loads(done.stdout.strip().splitlines()[-1])["missing"])
    except (IndexError, ValueError, KeyError, TypeError):
        raise TemplateError(
            f"the requirements of pack '{template.name}' could not be probed: "
            f"{(done.stderr.strip().splitlines() or ['no output'])[-1]}"
        ) from None
    entries = template.manifest.requirements
    return [entry for entry, name in zip(entries, names, strict=True) if name in missing]


def _layer_on_this_interpreter(folder: Path) -> None:
    """Make the environment at `folder` import from every folder this interpreter imports
    from (its own virtual environment, user site, source installs), after its own; not the
    folder scientist was started from (`sys.path[0]`)."""
    here = [entry for entry in sys.path[1:] if entry and Path(entry).is_dir()]
    line = f"import site; list(map(site.addsitedir, {here!r}))\n"
    (_site_packages(folder) / "scientist-host.pth").write_text(line, encoding="utf-8")


def install_requirements(template: Template) -> Path:
    """Install the pack's requirements that do not import here into its environment (once;
    pip's last line on failure). The marker file lists what was installed."""
    folder = env_dir(template)
    marker = folder / INSTALLED_MARKER
    if marker.is_file() or not template.manifest.requirements:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    wanted = not_importable_here(template)
    if wanted:
        _install(template, folder, wanted)
    folder.mkdir(exist_ok=True)
    marker.write_text(json.dumps(wanted))
    return folder


def _install(template: Template, folder: Path, wanted: list[str]) -> None:
    venv = [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(folder)]
    _step(template, folder, wanted, venv)
    _layer_on_this_interpreter(folder)
    _step(template, folder, wanted, [
        sys.executable, "-m", "pip", "--python", str(folder / "bin" / "python"), "install",
        "--quiet", "--disable-pip-version-check", *wanted,
    ])  # fmt: skip


def _step(template: Template, folder: Path, wanted: list[str], argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise TemplateError(
            f"installing the requirements of pack '{template.name}' failed: {last[0]}",
            hint=f"try: pip install {' '.join(wanted)}",
        )


def missing_requirements(
    template: Template, sandbox: Sandbox, config: CampaignConfig | None = None
) -> list[str]:
    """The pack's requirements that do not import in `sandbox` (with the pack's own
    environment when `config` asks for one)."""
    names = requirement_names(template)
    if not names:
        return []
    with tempfile.TemporaryDirectory(prefix="scientist-requirements-") as scratch:
        workspace = Path(scratch)
        shutil.copy(PROBE, workspace / PROBE.name)
        spec = RunSpec(
            workspace=workspace,
            argv=["python", PROBE.name, *names],
            timeout_s=max(120.0, template.manifest.resources.timeout_s),
            memory_mb=max(2048, int(template.manifest.resources.memory_gb * 1024)),
            env=pack_env(template, config) if config else {},
            read_only=pack_paths(template, config) if config else [],
            labels={"scientist.step": "requirements"},
        )
        result = sandbox.run(spec)
    lines = result.stdout_tail.strip().splitlines()
    try:
        return list(json.loads(lines[-1])["missing"])
    except (IndexError, ValueError, KeyError, TypeError):
        raise TemplateError(
            f"the requirements check of pack '{template.name}' did not run "
            f"({result.status}): {result.failure()}"
        ) from None


def check_requirements(template: Template, sandbox: Sandbox, config: CampaignConfig) -> None:
    """Fail in one line on any requirement that does not import in the sandbox (with the
    pack's own environment when `install_requirements` is set)."""
    missing = missing_requirements(template, sandbox, config)
    if missing:
        raise TemplateError(
            f"pack '{template.name}' requires {', '.join(missing)}, which do(es) not import "
            f"in the {sandbox.name} sandbox",
            hint=install_hint(sandbox, missing, template.root),
        )
