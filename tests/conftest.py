"""Fixtures shared by every area's tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import ModelsConfig
from scientist.context import Context, campaign_literature
from scientist.llm import LLM, open_llm
from scientist.llm.replay_server import ReplayServer
from scientist.sandbox import Sandbox
from scientist.templates import Template


def user_text(body: dict) -> str:
    """The text of a request body's user messages (image parts left out), in order."""
    users = [m["content"] for m in body["messages"] if m["role"] == "user"]
    return "\n".join(c if isinstance(c, str) else c[0]["text"] for c in users)


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    """A started replay server on 127.0.0.1 (free port) with an empty script.

    `replay_server.load([...])` adds entries (see `scientist.llm.replay_server`);
    `replay_server.url + "/v1"` is an OpenAI base_url, `replay_server.url` an Anthropic one;
    `replay_server.requests` lists what it received.
    """
    with ReplayServer() as server:
        yield server


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`gpu` tests run only where CUDA is available; everything else always runs."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def stage_context(
    campaign: Campaign,
    template: Template,
    *,
    sandbox: Sandbox | None = None,
    llm: LLM | None = None,
    **config_changes: object,
) -> Context:
    """A stage's context over `campaign`'s folder with its config's sections replaced by
    `config_changes` (e.g. `writeup=WriteupConfig(fix_rounds=1)`); every role offline unless
    `llm` is given; literature from the campaign's cache only."""
    view = Campaign(campaign.root, campaign.config.model_copy(update=config_changes))
    return Context(
        campaign=view,
        template=template,
        sandbox=sandbox,  # type: ignore[arg-type]
        llm=llm or open_llm(ModelsConfig()),
        literature=campaign_literature(view, online=False),
    )


TOY_PACK = Path(__file__).resolve().parent / "fixtures" / "toy"
EXPERIMENT_PRELUDE = """
import argparse, json, sys
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--out-dir", type=Path, required=True)
parser.add_argument("--config", type=Path)
parser.add_argument("--smoke", action="store_true")
args = parser.parse_args()
"""  # the pack contract's command line, for test packs written as strings


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


@pytest.fixture(scope="session")
def smollm2_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache holding SmolLM2-135M-Instruct converted from the shipped GGUF file, made
    once per test session (the conversion takes 15-50 s)."""
    from scientist.model_source import SMOLLM2, model_folder

    cache = tmp_path_factory.mktemp("models")
    model_folder(SMOLLM2, cache)
    return cache
