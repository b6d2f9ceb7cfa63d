"""The run's disk: its usage walk and its filesystem of the quota's size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scientist.sandbox.disk import disk_usage

SWAPPER = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
folder, link = (os.fsencode(path) for path in sys.argv[1:])
AT_FDCWD, RENAME_EXCHANGE = -100, 2
while True:
    libc.renameat2(AT_FDCWD, folder, AT_FDCWD, link, RENAME_EXCHANGE)
"""


def test_the_disk_watch_never_follows_a_folder_swapped_for_a_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    for index in range(20):
        (outside / f"block_{index}").write_bytes(b"x" * 1024 * 1024)
    root = tmp_path / "run"
    (root / "swap").mkdir(parents=True)
    (tmp_path / "link").symlink_to(outside)
    swapper = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, str(root / "swap"), str(tmp_path / "link")]
    )
    try:
        while not (root / "swap").is_symlink():
            pass
        largest = max(disk_usage(root) for _ in range(3000))
    finally:
        swapper.kill()
        swapper.wait()
    assert largest < 1024 * 1024
