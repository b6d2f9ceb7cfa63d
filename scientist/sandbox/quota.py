"""The disk quota of a run: the host measures the run's writable folder while it runs and
stops the run once it holds more than its quota.

Usage is counted in allocated blocks (a sparse file costs what it really stores) and a
file with several hard links counts once. The kernel backs this up per file: each backend
also sets the file-size limit (RLIMIT_FSIZE) to the quota, so a single file can never pass
it; many files can pass it by what the run writes in one polling interval.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

POLL_S = 0.2


def disk_usage(root: Path) -> int:
    """Bytes allocated under `root`, never following links; hard links count once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    pending = [str(root)]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            total += info.st_blocks * 512
            if stat.S_ISDIR(info.st_mode):
                pending.append(entry.path)
    return total


class DiskWatch:
    """Polls `root` from a host thread; calls `stop_run` once when it holds over `limit`."""

    def __init__(self, root: Path, limit_bytes: int, stop_run: Callable[[], None]) -> None:
        self.root = root
        self.limit_bytes = limit_bytes
        self.stop_run = stop_run
        self.exceeded = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> DiskWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(POLL_S):
            if disk_usage(self.root) > self.limit_bytes:
                self.exceeded = True
                self.stop_run()
                return

    def message(self) -> str:
        return f"stopped: wrote more than its {self.limit_bytes // (1024 * 1024)} MB disk quota"
