"""A pack's requirements: checked in the sandbox, named in one line, installed only when asked."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scientist.config import CampaignConfig, load_config
from scientist.errors import ConfigError
from scientist.sandbox import image
from tests.conftest import TOY_PACK

PROBE_PACKAGE = "scientistprobe"


def pack_requiring(root: Path, requirement: str, *, imports: str | None = None) -> Path:
    """The toy pack, requiring `requirement` (and importing `imports` in its experiment)."""
    shutil.copytree(TOY_PACK, root)
    manifest = (root / "template.toml").read_text()
    (root / "template.toml").write_text(
        manifest.replace('plot = "plot.py"', f'plot = "plot.py"\nrequirements = ["{requirement}"]')
    )
    if imports:
        experiment = root / "experiment.py"
        experiment.write_text(f"import {imports}  # noqa\n" + experiment.read_text())
    root.chmod(0o755)
    return root


def write_wheel(folder: Path, name: str, version: str = "0.1") -> None:
    """A minimal pure-Python wheel, so pip can install `name` with no index at all."""
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": "VALUE = 7\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)


def check(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "scientist", "templates", "check", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_an_absent_requirement_fails_the_check_in_one_line(tmp_path: Path, run_cache) -> None:
    pack = pack_requiring(tmp_path / "needs_absent", "scientist-absent-package>=1.0")
    result = check(str(pack))
    assert result.returncode == 2
    first, *rest = result.stderr.strip().splitlines()
    assert "requires scientist-absent-package, which do(es) not import in the local" in first
    assert "Traceback" not in result.stderr
    assert rest and "pip install scientist-absent-package" in rest[0]
    assert "--install-requirements" in rest[0]


def test_install_requirements_makes_a_per_pack_environment(
    tmp_path: Path, run_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_wheel(tmp_path / "wheels", PROBE_PACKAGE)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "wheels"))
    monkeypatch.setenv("SCIENTIST_ENVS", str(run_cache / "envs"))
    pack = pack_requiring(tmp_path / "needs_probe", PROBE_PACKAGE, imports=PROBE_PACKAGE)

    assert check(str(pack)).returncode == 2  # never installed silently
    assert not (run_cache / "envs").exists()

    installed = check(str(pack), "--install-requirements")
    assert installed.returncode == 0, installed.stderr
    assert "ok: toy: manifest, 2 seed ideas, smoke run score =" in installed.stdout
    [env] = (run_cache / "envs").iterdir()
    assert env.name.startswith("toy-") and list(env.glob(f"lib/*/site-packages/{PROBE_PACKAGE}"))


def test_install_requirements_is_for_the_local_sandbox_only() -> None:
    with pytest.raises(ConfigError, match="put the requirements into its image"):
        load_config(
            None,
            {"template": str(TOY_PACK), "sandbox.kind": "docker", "install_requirements": True},
        )
    assert CampaignConfig(template="toy", install_requirements=True).install_requirements


def test_the_offline_image_takes_a_pack_s_requirements() -> None:
    names = image.requirements(("Einops>=0.7",))
    assert "einops" in names and set(image.requirements()) < set(names)


def test_install_requirements_installs_only_what_does_not_import_here(
    tmp_path: Path, run_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A requirement that imports in scientist's interpreter (numpy; a module installed from
    source, which no index has) is never given to pip; the rest install from a local wheel."""
    from scientist.experiments.requirements import install_requirements, not_importable_here
    from scientist.templates import load_template

    source = tmp_path / "from_source"
    (source / "npeetlike").mkdir(parents=True)
    (source / "npeetlike" / "__init__.py").write_text("VALUE = 3\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(source), *sys.path[1:]]))
    monkeypatch.setattr(sys, "path", [sys.path[0], str(source), *sys.path[1:]])  # PYTHONPATH
    write_wheel(tmp_path / "wheels", PROBE_PACKAGE)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "wheels"))
    monkeypatch.setenv("SCIENTIST_ENVS", str(run_cache / "envs"))
    pack = pack_requiring(tmp_path / "mixed", "numpy>=1")
    manifest = pack / "template.toml"
    manifest.write_text(
        manifest.read_text().replace(
            'requirements = ["numpy>=1"]',
            f'requirements = ["numpy>=1", "npeetlike", "{PROBE_PACKAGE}"]',
        )
    )
    template = load_template(str(pack))
    assert not_importable_here(template) == [PROBE_PACKAGE]

    env = install_requirements(template)
    assert json.loads((env / "requirements.json").read_text()) == [PROBE_PACKAGE]
    site = next(env.glob("lib/*/site-packages"))
    assert (site / PROBE_PACKAGE).is_dir()
    assert not list(site.glob("numpy*")) and not list(site.glob("npeetlike*"))
    layered = subprocess.run(
        [str(env / "bin" / "python"), "-c", "import npeetlike, numpy, scientistprobe"],
        capture_output=True, text=True, env={"PATH": os.environ["PATH"]},
    )  # fmt: skip
    assert layered.returncode == 0, layered.stderr  # the environment sees this interpreter's


def test_requirements_that_all_import_here_make_no_environment(
    tmp_path: Path, run_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scientist.experiments.requirements import install_requirements
    from scientist.templates import load_template

    monkeypatch.setenv("PIP_NO_INDEX", "1")  # a pip call could not succeed
    monkeypatch.setenv("SCIENTIST_ENVS", str(run_cache / "envs"))
    template = load_template(str(pack_requiring(tmp_path / "numpy_only", "numpy")))
    env = install_requirements(template)
    assert json.loads((env / "requirements.json").read_text()) == []
    assert not (env / "bin").exists()  # no virtual environment, no pip
