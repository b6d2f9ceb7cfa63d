"""The one-line machine description every benchmark prints above its table."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def describe() -> str:
    """CPU, cores, load average now, OS and Python: enough to compare two tables."""
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, "
        f"{platform.platform()}, Python {platform.python_version()}"
    )
