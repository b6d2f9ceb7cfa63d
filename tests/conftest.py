"""Fixtures shared by every area's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scientist.llm.replay_server import ReplayServer


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
