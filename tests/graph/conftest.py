"""Fixtures for loop tests: the toy pack and a run cache its runs can write to."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TOY_PACK = Path(__file__).resolve().parent.parent / "fixtures" / "toy"


@pytest.fixture
def toy_pack() -> Path:
    """A seconds-fast pack (tests/fixtures/toy): 1 s per run, 0.1 s with --smoke."""
    return TOY_PACK


@pytest.fixture
def run_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """SCIENTIST_CACHE for this test, reachable by the sandbox's unprivileged user (pytest's
    tmp_path is private to its owner); the toy pack appends `start|done <idea>/run_<k>` to
    `toy_runs.log` in it."""
    cache = Path(tempfile.mkdtemp(prefix="scientist-test-cache-"))
    cache.chmod(0o777)
    monkeypatch.setenv("SCIENTIST_CACHE", str(cache))
    yield cache
    shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture
def run_log(run_cache: Path) -> Callable[[], list[tuple[str, str]]]:
    """Reads the (event, run id) pairs the toy pack logged so far, pack checks left out."""

    def read() -> list[tuple[str, str]]:
        path = run_cache / "toy_runs.log"
        if not path.exists():
            return []
        rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
        return [(event, run) for event, run in rows if not run.startswith("check/")]

    return read
