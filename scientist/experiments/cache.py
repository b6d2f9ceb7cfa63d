"""The cache folder packs and checks share between runs (a speedup, never required)."""

from __future__ import annotations

import os
from pathlib import Path

SHARED_CACHE = Path("/var/tmp/scientist-cache")


def cache_dir() -> Path:
    """Where packs may cache checkpoints between runs (a speedup, never required).

    `SCIENTIST_CACHE` if set; else a sticky, world-writable folder outside every home,
    because as root the local sandbox runs experiments as an unprivileged user with the
    admin's home hidden, and a cache there could not be written.
    """
    configured = os.environ.get("SCIENTIST_CACHE")
    if configured:
        return Path(configured)
    SHARED_CACHE.mkdir(parents=True, exist_ok=True)
    if SHARED_CACHE.stat().st_uid == os.getuid():
        SHARED_CACHE.chmod(0o1777)
    return SHARED_CACHE
