"""latexmk on the host, with a stand-in for latexmk (no TeX Live needed)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from scientist.writeup import compile as latex_compile


def test_output_that_is_not_utf8_is_read_with_replacements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_in = [sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'Warning: M\\xfcller')"]
    monkeypatch.setattr(latex_compile, "LATEXMK", stand_in)
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    assert latex_compile._run_host(tmp_path, timeout_s=30) == "Warning: M\ufffdller"
