"""A campaign where every role has a model: the real openai client against a replay server in
the test process, so the server sees (and fingerprints) every request across kills and
resumes. One idea proposed by the model, a code edit that mismatches once, one run, a
model-written paper, two reviewers and an area chair. Every answer costs exactly $0.10."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import tomli_w

from scientist.review.form import REVIEWS_ROOT
from scientist.writeup.context import SECTIONS

REPO = Path(__file__).resolve().parents[2]
TOY_PACK = REPO / "tests" / "fixtures" / "toy"
SPEC = "openai:replay-model"
PRICE = (0.0, 1000.0)  # USD per 1M tokens: 100 output tokens cost $0.10
USAGE = {"input_tokens": 500, "output_tokens": 100}
CALL_USD = 0.1
RESERVE_USD = 4096 * PRICE[1] / 1e6  # the worst case of any call (default max_tokens)
BLOCK = "experiment.py\n<<<<<<< SEARCH\n{old}\n=======\n{new}\n>>>>>>> REPLACE\n"

IDEA = {
    "name": "depth_one",
    "title": "One layer is enough",
    "hypothesis": "A single layer scores higher than two.",
    "plan": "Run with depth 1.",
    "interestingness": 6,
    "feasibility": 9,
    "novelty": 4,
    "overrides": {"depth": 1},
}
REVIEW = {
    **json.loads((REVIEWS_ROOT / "examples" / "evolved_merge.json").read_text("utf-8")),
    "overall": 7,
    "decision": "accept",
}
AREA_CHAIR = {"summary": "A clean study.", "strengths": ["seeds"], "weaknesses": ["one knob"]}

# the kill points' requests, as their last user message shows them
PROPOSE = "Propose 1 new research ideas"
REFLECT = "Reflection round 1"
IMPLEMENT = "Idea: One layer is enough"
MISMATCH = "could not be applied"
REVIEWER = "(?s)Review the paper"
CHAIR = "(?s)area chair"


# the Method draft types a number without a source and the Results leave the figure without a
# reference: the two sections the critique round is asked about
DRAFTS = {"method": "Drafted method, 17 times over."}
CRITIQUED = ("method", "results")


def section_request(title: str) -> str:
    return f"Write the **{title}** section"


def critique_request(title: str) -> str:
    return f"draft of the **{title}** section"


def script() -> list[dict]:
    """Every answer of one uninterrupted campaign, each matched by its request."""
    entries = [
        {"match": PROPOSE, "json": {"ideas": [IDEA]}},
        {"match": REFLECT, "json": {"ideas": [IDEA]}},
        {"match": IMPLEMENT, "text": BLOCK.format(old="BONUS = 9.9", new="BONUS = 0.05")},
        {"match": MISMATCH, "text": BLOCK.format(old="BONUS = 0.0", new="BONUS = 0.05")},
    ]
    for key, title, _ in SECTIONS:
        entries.append(
            {"match": section_request(title), "json": {"latex": DRAFTS.get(key, f"Drafted {key}.")}}
        )
    for key, title, _ in SECTIONS:
        if key in CRITIQUED:
            entries.append({"match": critique_request(title), "json": {"latex": f"Revised {key}."}})
    entries += [{"match": REVIEWER, "json": REVIEW}] * 2 + [{"match": CHAIR, "json": AREA_CHAIR}]
    return [{**entry, "usage": USAGE} for entry in entries]


def answer_to(match: str) -> dict:
    """The script's entry for requests fitting `match` (to answer a request sent again)."""
    return next(entry for entry in script() if entry["match"] == match)


def pack_without_seeds(folder: Path) -> Path:
    """The toy pack with no seed ideas, so the first idea comes from the ideas model."""
    pack = folder / "pack"
    shutil.copytree(TOY_PACK, pack, ignore=shutil.ignore_patterns("__pycache__"))
    (pack / "seed_ideas.json").write_text("[]")
    return pack


def write_config(folder: Path, server_url: str, pack: Path, **changes: object) -> Path:
    config = {
        "template": str(pack),
        "max_ideas": 1,
        "max_runs_per_idea": 1,
        "seeds": [0, 1],
        "smoke": True,
        "literature": "off",
        "models": {"default": SPEC, "base_url": f"{server_url}/v1", "prices": {SPEC: PRICE}},
        "review": {"ensemble": 2, "reflections": 0},
        "writeup": {"fix_rounds": 1},
        **changes,
    }
    path = folder / "campaign-config.toml"
    path.write_text(tomli_w.dumps(config))
    return path


def scientist_env(cache: Path) -> dict[str, str]:
    """This checkout's code for the subprocess, a key for the replay server, the run log."""
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "OPENAI_API_KEY": "test-key",
        "SCIENTIST_CACHE": str(cache),
    }


def writable_cache(folder: Path) -> Path:
    """A run cache the sandbox's unprivileged user can write (the toy pack logs its runs)."""
    cache = folder / "cache"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)
    return cache


def start_run(server_url: str, folder: Path, env: dict[str, str]) -> tuple[subprocess.Popen, Path]:
    """`scientist run` of the scripted campaign, started in `folder/start` as `c` (relative)."""
    start = folder / "start"
    start.mkdir()
    config = write_config(folder, server_url, pack_without_seeds(folder))
    args = ["run", "--config", str(config), "--campaign", "c", "--quiet"]
    return scientist(args, start, env), start / "c"


def kill_when(process: subprocess.Popen, ready: Callable[[], bool], timeout_s: float) -> None:
    """SIGKILL the campaign and its runs as soon as `ready()` (polled; an event, not a delay)."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if process.poll() is not None:
            raise AssertionError(f"the campaign ended before the kill: {process.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError("the kill point never came")
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def resume_elsewhere(root: Path, folder: Path, env: dict[str, str]) -> subprocess.Popen:
    """`scientist resume` of `root` by a relative path, from `folder/elsewhere`."""
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir()
    return scientist(["resume", os.path.relpath(root, elsewhere), "--quiet"], elsewhere, env)


def finish(process: subprocess.Popen, timeout_s: float) -> None:
    """Wait for `process`; a failure shows its output."""
    out, err = process.communicate(timeout=timeout_s)
    if process.returncode != 0:
        raise AssertionError(err or out)


def scientist(args: list[str], cwd: Path, env: dict[str, str], **options) -> subprocess.Popen:
    """`scientist ARGS` started in `cwd`, in its own process group (to kill with its runs)."""
    return subprocess.Popen(
        [sys.executable, "-m", "scientist", *args],
        cwd=cwd,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **options,
    )


def status_of(root: Path) -> subprocess.CompletedProcess[str]:
    """`scientist status ROOT`, wide enough for its tables."""
    return subprocess.run(
        [sys.executable, "-m", "scientist", "status", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "250"},
    )
