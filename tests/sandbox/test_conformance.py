"""The conformance suite (`scientist.sandbox.conformance`), run against every backend in
BACKENDS (conftest.py): one test per probe and backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from scientist.sandbox import Sandbox
from scientist.sandbox.conformance import PROBES, run_probe


@pytest.mark.parametrize("probe", sorted(PROBES))
def test_probe(sandbox: Sandbox, probe: str, tmp_path: Path) -> None:
    run_probe(probe, sandbox, tmp_path / "probe")
