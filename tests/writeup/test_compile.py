"""latexmk on the host, with a stand-in for latexmk (no TeX Live needed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scientist.writeup import compile as latex_compile

PYTHON = "/usr/bin/python3"
"""An interpreter the compile's unprivileged uid may run (the test's own may be private)."""


def test_output_that_is_not_utf8_is_read_with_replacements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_in = [PYTHON, "-c", "import sys; sys.stdout.buffer.write(b'Warning: M\\xfcller')"]
    monkeypatch.setattr(latex_compile, "LATEXMK", stand_in)
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    assert latex_compile._run_host(tmp_path, timeout_s=30) == "Warning: M\ufffdller"
