"""A killed campaign leaves its runs' scratch folders in the host's temporary folder; resume
removes those of this campaign whose owner process is gone, and nothing else."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from scientist.campaign import RUN_LOCK
from scientist.graph.runner import resume_campaign
from scientist.sandbox.common import scratch_prefix

pytestmark = pytest.mark.slow

SLEEPY_PACK = Path(__file__).resolve().parent.parent / "fixtures" / "sleepy"


def _scratch(prefix: str) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"{prefix}*"))


def _wait_for_the_run_lock(lock: Path) -> None:
    """The killed group's forked children hold the lock until each of them has died."""
    deadline = time.monotonic() + 60
    with lock.open("r") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
                fcntl.flock(handle, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                assert time.monotonic() < deadline, "the killed campaign's lock was never freed"
                time.sleep(0.1)


def test_resume_removes_the_scratch_a_killed_campaign_left(tmp_path: Path, run_cache: Path):
    root = tmp_path / "killed"
    (run_cache / "sleepy_schedule.json").write_text("[30, 1, 1, 1]")
    argv = [sys.executable, "-m", "scientist", "run", "--template", str(SLEEPY_PACK)]
    argv += ["--ideas", "1", "--campaign", str(root), "--quiet"]
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    ours = scratch_prefix(root.name).removesuffix(f"{os.getpid()}-")
    deadline = time.monotonic() + 120
    while not _scratch(f"{ours}{process.pid}-"):
        assert process.poll() is None, "the campaign ended before a run started"
        assert time.monotonic() < deadline, "no run scratch named after the campaign appeared"
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    _wait_for_the_run_lock(root / RUN_LOCK)
    left = _scratch(f"{ours}{process.pid}-")
    assert left, "the kill left no scratch behind"
    live = Path(tempfile.mkdtemp(prefix=scratch_prefix(root.name)))  # owned by this process
    other = Path(tempfile.mkdtemp(prefix=scratch_prefix("another-campaign")))
    try:
        resume_campaign(root, quiet=True)
        assert not any(folder.exists() for folder in left)
        assert live.is_dir() and other.is_dir()
    finally:
        shutil.rmtree(live, ignore_errors=True)
        shutil.rmtree(other, ignore_errors=True)
