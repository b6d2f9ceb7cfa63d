"""`benchmarks/scheduler_scale.py` on a tiny grid: the simulated campaign is cut off, resumed
and finished with every idea reviewed once, and the table has its columns."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "scheduler_scale.py"
COLUMNS = [
    "slots",
    "ideas",
    "events",
    "overhead median ms",
    "overhead p95 ms",
    "kB/event",
    "last kB",
    "total MB",
    "resume s",
    "reviewed",
    "wall s",
]


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@pytest.mark.slow
def test_a_tiny_grid_runs_to_completion_through_a_kill_and_a_resume() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--slots", "4", "--ideas", "10"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    header, rule, row, machine = result.stdout.splitlines()
    assert cells(header) == COLUMNS
    assert set(cells(rule)) == {"---"}
    values = dict(zip(COLUMNS, cells(row), strict=True))
    assert (values["slots"], values["ideas"], values["reviewed"]) == ("4", "10", "10")
    assert int(values["events"]) > 27  # past the kill at event 27, then to the end
    assert float(values["kB/event"]) > 0 and float(values["total MB"]) > 0
    assert machine.startswith("machine: ")
