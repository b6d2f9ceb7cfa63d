"""The `scientist` command as a user runs it, for the authoring tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def scientist(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scientist", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )
