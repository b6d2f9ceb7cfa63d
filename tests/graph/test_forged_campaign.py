"""A campaign on a pack that forges its records: the idea keeps its genuine metric, after
`scientist run` and after a `scientist resume` of a campaign killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from tests.fixtures.hostile import FORGED_SCORE, hostile_pack

pytestmark = pytest.mark.slow

SCIENTIST = [sys.executable, "-m", "scientist"]
CONFIG = "[writeup]\nenabled = false\n\n[review]\nenabled = false\n"


def _campaign(tmp_path: Path, name: str) -> tuple[list[str], Path]:
    root = tmp_path / name
    pack = hostile_pack(
        tmp_path / f"{name}-pack", fail=False, targets=[root, root / "baseline" / "run_0"]
    )
    config = tmp_path / f"{name}.toml"
    config.write_text(CONFIG)
    options = ["--template", str(pack), "--llm", "none", "--ideas", "1", "--smoke"]
    argv = [*SCIENTIST, "run", *options, "--campaign", str(root), "--config", str(config)]
    return [*argv, "--quiet"], root


def _assert_genuine(root: Path) -> None:
    campaign = Campaign.open(root)
    entries = campaign.archive()
    assert [entry.status for entry in entries] == ["done"]
    for entry in entries:
        outputs = campaign.run_dir(entry.id, 1) / "outputs"
        genuine = json.loads((outputs / "final_info.json").read_text())["metrics"]["score"]
        assert entry.metric == genuine["mean"] != FORGED_SCORE
        assert entry.improvement is not None and abs(entry.improvement) < 1


def test_a_forging_pack_keeps_its_genuine_metric_after_run(tmp_path: Path) -> None:
    argv, root = _campaign(tmp_path, "straight")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    _assert_genuine(root)


def test_a_forging_pack_keeps_its_genuine_metric_after_resume(tmp_path: Path) -> None:
    argv, root = _campaign(tmp_path, "killed")
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 180
    while not list(root.glob("ideas/*/runs/run_1")):
        assert process.poll() is None and time.monotonic() < deadline, "no idea run started"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    resumed = subprocess.run(
        [*SCIENTIST, "resume", str(root), "--quiet"], capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    _assert_genuine(root)
