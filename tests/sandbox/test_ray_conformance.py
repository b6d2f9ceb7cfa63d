"""The sandbox conformance suite, run against the ray backend (a local Ray, local node backend).

The suite's test functions are collected here again; the module-level `sandbox` fixture
below replaces the parametrised one from conftest.py for this module only.
"""

from __future__ import annotations

import pytest

pytest.importorskip("ray")

import test_conformance

from scientist.config import SandboxConfig
from scientist.sandbox import Sandbox, open_sandbox

pytestmark = pytest.mark.slow

globals().update(
    {name: test for name, test in vars(test_conformance).items() if name.startswith("test_")}
)


@pytest.fixture
def sandbox() -> Sandbox:
    opened = open_sandbox(SandboxConfig(kind="ray"), campaign="conformance")
    availability = opened.check()
    assert availability.ok, availability
    return opened
