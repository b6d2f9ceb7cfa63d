"""Sandbox fixtures: `sandbox` is parametrised over every backend the conformance suite covers.

Adding a backend to the suite is one line in BACKENDS.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from scientist.config import SandboxConfig
from scientist.errors import SandboxUnavailable
from scientist.sandbox import Sandbox, open_sandbox

BACKENDS = [
    pytest.param("local", id="local"),
    pytest.param("docker", id="docker", marks=pytest.mark.docker),
]


@pytest.fixture(params=BACKENDS)
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    kind = request.param
    try:
        opened = open_sandbox(SandboxConfig(kind=kind), campaign="conformance")
    except SandboxUnavailable as exc:
        pytest.skip(f"{kind} sandbox unavailable here: {exc}")
    availability = opened.check()
    if not availability.ok:
        pytest.skip(f"{kind} sandbox unavailable here: {availability.reason} ({availability.hint})")
    return opened


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A small experiment folder: `main.py` writes a result into out/ and prints a line."""
    folder = tmp_path / "workspace"
    folder.mkdir()
    (folder / "main.py").write_text(
        "import json, os, sys\n"
        "os.makedirs('out', exist_ok=True)\n"
        "json.dump({'argv': sys.argv[1:]}, open('out/result.json', 'w'))\n"
        "open('input.txt', 'a').write('changed inside')\n"
        "print('experiment done')\n"
    )
    (folder / "input.txt").write_text("original")
    return folder


@pytest.fixture
def script(workspace: Path) -> Callable[[str], list[str]]:
    """`script(source)` puts `source` into the workspace as probe.py and returns its argv."""

    def write(source: str) -> list[str]:
        (workspace / "probe.py").write_text(textwrap.dedent(source))
        return ["python", "probe.py"]

    return write
