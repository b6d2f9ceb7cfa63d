"""SIGKILL a running campaign at several points; `scientist resume` must finish it with every
idea exactly once, no finished run repeated, no compiled paper rebuilt, no review written
twice, and the same artifacts as an uninterrupted run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from scientist.campaign import Campaign

pytestmark = pytest.mark.slow

IDEAS = 3
TOY_PACK = Path(__file__).resolve().parent.parent / "fixtures" / "toy"
SCIENTIST = [sys.executable, "-m", "scientist"]


def _run_argv(toy_pack: Path, root: Path) -> list[str]:
    """`scientist run` of the toy campaign, quiet."""
    options = ["--template", str(toy_pack), "--ideas", str(IDEAS), "--campaign", str(root)]
    return [*SCIENTIST, "run", *options, "--quiet"]


def _start(toy_pack: Path, root: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        _run_argv(toy_pack, root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )


def _kill_when(process: subprocess.Popen, ready: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the campaign ended before the kill point"
        assert time.monotonic() < deadline, "the kill point never came"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _artifacts(root: Path) -> Counter:
    """File counts per idea folder level, with idea ids normalised away; compile attempts
    are left out (a compile killed half-way is attempted again)."""
    names = Counter()
    for path in (root / "ideas").rglob("*"):
        parts = path.relative_to(root / "ideas").parts[1:]
        if path.is_file() and "attempts" not in parts:
            names[parts[0]] += 1
    return names


def _compiles(root: Path) -> dict[str, int]:
    """Compile attempts per idea (`paper/attempts/attempt_<k>`)."""
    return {
        idea.name: len(list(idea.glob("paper/attempts/attempt_*")))
        for idea in (root / "ideas").iterdir()
    }


def _papers(root: Path) -> int:
    return len(list(root.glob("ideas/*/paper/paper.json")))


def _compiling_papers(root: Path) -> set[str]:
    """Ideas whose paper is compiling: an attempt started, no paper finished."""
    return {
        idea.name
        for idea in (root / "ideas").glob("*")
        if (idea / "paper/attempts/attempt_01").exists()
        and not (idea / "paper/paper.json").exists()
    }


def _compiling(root: Path) -> bool:
    """A paper's first compile has started and no paper is finished yet."""
    return bool(list(root.glob("ideas/*/paper/attempts/attempt_01"))) and _papers(root) == 0


def _finish(root: Path) -> None:
    resumed = subprocess.run(
        [*SCIENTIST, "resume", str(root), "--quiet"], capture_output=True, text=True, timeout=180
    )
    assert resumed.returncode == 0, resumed.stderr


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Campaign:
    """The same campaign, never interrupted."""
    base = tmp_path_factory.mktemp("reference")
    env = {**os.environ, "SCIENTIST_CACHE": str(base / "cache")}
    process = _start(TOY_PACK, base / "c", env)
    assert process.wait(timeout=180) == 0
    return Campaign.open(base / "c")


def _unsealed(root: Path, runs: list[str]) -> set[str]:
    """Of the run ids the pack logged, those the host has not recorded as finished (no
    result.json, which is written last): a kill cuts them short, and resume runs them again
    (a run whose process ended but whose record was not yet written among them)."""

    def folder(run: str) -> Path:
        owner, index = run.split("/run_")
        if owner == "baseline":
            return root / "baseline" / f"run_{index}"
        if owner.startswith("control_"):
            return root / "controls" / owner.removeprefix("control_") / "run"
        if index == "0":
            return root / "ideas" / owner / "confirm" / "run"
        return root / "ideas" / owner / "runs" / f"run_{index}"

    return {run for run in runs if not (folder(run) / "result.json").exists()}


def _started(run_log) -> list[str]:
    return [run for event, run in run_log() if event == "start"]


def _runs_of(entries: list) -> set[str]:
    """The run ids a finished campaign started: the baseline, each idea's run, and the best
    idea's confirmation with its control on fresh seeds."""
    runs = {"baseline/run_0", *(f"{e.id}/run_1" for e in entries)}
    for entry in entries:
        if entry.confirmation is not None:
            key = entry.confirmation.vs.split("/")[1]  # controls/<key>/run
            runs |= {f"{entry.id}/run_0", f"control_{key}/run_0"}
    return runs


def _done_entries(root: Path) -> int:
    path = root / "archive.jsonl"
    return path.read_text().count('"status":"done"') if path.exists() else 0


KILL_POINTS = {
    "after the baseline run": lambda root, log: (root / "baseline/run_0/result.json").exists(),
    "during the second idea's run": lambda root, log: len(_started(log)) >= 3,
    "between recording an idea and its checkpoint": lambda root, log: _done_entries(root) >= 2,
    "during the first paper's compile": lambda root, log: _compiling(root),
    "right after the first paper is written": lambda root, log: _papers(root) >= 1,
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_resume_after_sigkill(point, tmp_path, toy_pack, run_log, reference):
    root = tmp_path / "c"
    _kill_when(_start(toy_pack, root), lambda: KILL_POINTS[point](root, run_log))
    cut_short = _compiling_papers(root)  # papers are written side by side (max_writing)
    unsealed = _unsealed(root, _started(run_log))
    time.sleep(1.5)  # a sandboxed child outlives its killed parent by at most one run
    _finish(root)

    campaign = Campaign.open(root)
    entries = campaign.archive()
    assert sorted(e.id for e in entries) == sorted(e.id for e in reference.archive())
    assert all(e.status == "done" and e.runs == 1 for e in entries)
    assert [e.metric for e in sorted(entries, key=lambda e: e.id)] == [
        e.metric for e in sorted(reference.archive(), key=lambda e: e.id)
    ]
    assert _artifacts(root) == _artifacts(reference.root)
    compiles = _compiles(root)
    assert set(compiles) == {e.id for e in entries} and all(compiles.values())
    recompiled = {idea for idea, count in compiles.items() if count > 1}
    assert recompiled <= cut_short and all(compiles[idea] == 2 for idea in recompiled)
    if point == "during the first paper's compile":
        assert cut_short
    for entry in entries:
        reviews = sorted(p.name for p in campaign.reviews_dir(entry.id).iterdir())
        assert reviews == ["meta.json", "review_0.json"] and entry.review_score is not None
    for entry in entries:
        assert sorted(p.name for p in campaign.idea_dir(entry.id).joinpath("runs").iterdir()) == [
            "run_1"
        ]
    starts = Counter(_started(run_log))
    assert set(starts) == _runs_of(entries)
    repeated = [run for run, count in starts.items() if count > 1]
    assert set(repeated) <= unsealed and all(starts[run] == 2 for run in repeated)
    if point == "during the second idea's run":
        assert len(repeated) == 1


def test_ctrl_c_keeps_the_checkpoint_and_resume_finishes(tmp_path, toy_pack, run_log, reference):
    root = tmp_path / "c"
    process = subprocess.Popen(
        _run_argv(toy_pack, root),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 90
    while len(_started(run_log)) < 2:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 130
    assert f"scientist resume {root}" in out
    _finish(root)
    entries = Campaign.open(root).archive()
    assert sorted(e.id for e in entries) == sorted(e.id for e in reference.archive())
    assert all(e.status == "done" for e in entries)


SLEEPY_PACK = TOY_PACK.parent / "sleepy"


def _sleepy_times(cache: Path) -> dict[str, list[str]]:
    """The events ('start', 'done') each run logged, in order (the pack check left out)."""
    path = cache / "sleepy_runs.log"
    events: dict[str, list[str]] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        event, run, _at = line.split()
        if not run.startswith("check/"):
            events.setdefault(run, []).append(event)
    return events


def test_resume_after_a_kill_with_ideas_at_different_steps(tmp_path, run_cache):
    """Two slots: one idea's paper is compiling while another idea's run is still running
    when the campaign is killed; resume finishes both, and the third, exactly once."""
    pack = tmp_path / "sleepy"
    shutil.copytree(SLEEPY_PACK, pack, symlinks=False)
    seeds = json.loads((pack / "seed_ideas.json").read_text())
    seeds[0]["overrides"]["sleep_s"] = 12  # long enough to outlast the other idea's paper
    (pack / "seed_ideas.json").write_text(json.dumps(seeds))
    (run_cache / "sleepy_schedule.json").write_text(json.dumps([1, 2, 2, 2]))
    root = tmp_path / "c"
    argv = [*_run_argv(pack, root), "--parallel", "2"]
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    long_run, short_run = "0_0_long_run/run_1", "0_1_short_run"

    def at_different_steps() -> bool:
        compiling = (root / "ideas" / short_run / "paper/attempts/attempt_01").exists()
        return compiling and _sleepy_times(run_cache).get(long_run) == ["start"]

    _kill_when(process, at_different_steps)
    cut_short = _unsealed(root, list(_sleepy_times(run_cache)))
    time.sleep(1.5)
    _finish(root)

    campaign = Campaign.open(root)
    entries = campaign.archive()
    assert len(entries) == 3
    assert all(e.status == "done" and e.review_score is not None for e in entries)
    events = _sleepy_times(run_cache)
    assert set(events) == _runs_of(entries)
    for run, logged in events.items():  # a run the kill cut short ran again, once
        again = [["start", "start", "done"], ["start", "done", "start", "done"]]
        assert logged in again if run in cut_short else logged == ["start", "done"]
    assert long_run in cut_short
    compiles = _compiles(root)
    assert compiles[short_run] in (1, 2)
    assert all(count == 1 for idea, count in compiles.items() if idea != short_run)
    for entry in entries:
        reviews = sorted(p.name for p in campaign.reviews_dir(entry.id).iterdir())
        assert reviews == ["meta.json", "review_0.json"]
