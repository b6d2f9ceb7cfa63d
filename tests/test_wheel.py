"""The package as users get it: `pip wheel .` installed into a fresh virtual environment.

The venv sees the system's site-packages for the heavy dependencies (torch, ...) but its own
`scientist` must be the wheel's, not this checkout; everything runs from a folder outside
the checkout with no PYTHONPATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.latex]

CHECKOUT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "scientist", "templates", "reviews")


def run(*argv: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SCIENTIST_PACKS")}
    result = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{argv}: {result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def venv() -> Iterator[Path]:
    """A venv with the wheel built from a copy of this checkout's sources installed; outside
    pytest's private tmp folder, as the local sandbox runs its python as another user."""
    root = Path(tempfile.mkdtemp(prefix="scientist-wheel-"))
    root.chmod(0o755)
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        origin = CHECKOUT / name
        if origin.is_dir():
            shutil.copytree(
                origin,
                source / name,
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
            )
        else:
            shutil.copy2(origin, source / name)
    pip = (sys.executable, "-m", "pip")
    run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", root / "dist", source, cwd=root)
    (wheel,) = (root / "dist").glob("scientist-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in (
        "scientist/packs/merge/template.toml",
        "scientist/packs/namm/nammlib/__init__.py",
        "scientist/review_form/form.toml",
        "scientist/scaffold/experiment.py",
        "scientist/evolve_adapter/grade_program.py",
        "scientist/packs/circle_packing/packing_check.py",
        "scientist/prompts/review/reviewer.md",
    ):
        assert shipped in names
    assert not [name for name in names if "__pycache__" in name]
    # Without pip of its own (Debian's python may lack ensurepip): this pip installs into it.
    run(
        sys.executable,
        "-m",
        "venv",
        "--system-site-packages",
        "--without-pip",
        root / "venv",
        cwd=root,
    )
    run(*pip, "--python", root / "venv/bin/python", "install", "-q", "--no-deps", wheel, cwd=root)
    yield root / "venv"
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def test_the_installed_scientist_is_the_wheels(venv: Path, outside: Path):
    code = "import scientist, scientist.templates as t; print(scientist.__file__, t.TEMPLATES_ROOT)"
    module, packs = run(venv / "bin/python", "-c", code, cwd=outside).stdout.split()
    assert Path(module).is_relative_to(venv) and Path(packs).is_relative_to(venv)
    assert not Path(module).resolve().is_relative_to(CHECKOUT)


def test_templates_list_and_new_pack_from_the_wheel(venv: Path, outside: Path, run_cache):
    listed = run(venv / "bin/scientist", "templates", "list", cwd=outside).stdout
    assert "merge" in listed and "namm" in listed and "shipped" in listed
    run(venv / "bin/scientist", "templates", "new", "fresh", cwd=outside)
    checked = run(venv / "bin/scientist", "templates", "check", "fresh", cwd=outside).stdout
    assert checked.startswith("ok: fresh:")


def test_the_demo_campaign_and_a_review_run_from_the_wheel(venv: Path, outside: Path, run_cache):
    demo = ("run", "--template", "merge", "--llm", "none", "--ideas", "1", "--smoke", "--quiet")
    ran = run(venv / "bin/scientist", *demo, "--campaign", "demo", cwd=outside)
    assert "report:" in ran.stdout
    campaign = outside / "demo"
    assert (campaign / "baseline" / "run_0" / "outputs" / "final_info.json").is_file()
    (paper,) = campaign.glob("ideas/*/paper/paper.pdf")
    assert list(campaign.glob("ideas/*/reviews/meta.json"))
    reviewed = run(venv / "bin/scientist", "review", paper, cwd=outside).stdout
    assert "overall" in reviewed and ("ACCEPT" in reviewed or "REJECT" in reviewed)
