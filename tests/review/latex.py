"""Real pdflatex for the review tests: a `.tex` file compiled beside itself."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def compile_tex(tex: Path) -> Path:
    """Compile `tex` with pdflatex (the test is skipped without TeX Live); its PDF."""
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (TeX Live)")
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tex.parent,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return tex.with_suffix(".pdf")
