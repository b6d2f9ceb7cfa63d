"""Sandbox fixtures: `sandbox` is parametrised over every backend the conformance suite covers.

Adding a backend to the suite is one line in BACKENDS.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scientist.config import SandboxConfig
from scientist.errors import SandboxUnavailable
from scientist.sandbox import Sandbox, open_sandbox
from scientist.sandbox.conformance.bench import write_workspace

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
    return write_workspace(tmp_path / "workspace")
