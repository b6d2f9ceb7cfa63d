"""Fixtures for the LLM layer's tests: fast retries, no real keys, a campaign."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from scientist.campaign import Campaign
from scientist.config import CampaignConfig, ModelsConfig
from scientist.llm import RetryPolicy, open_llm
from scientist.llm.replay_server import ReplayServer
from scientist.llm.router import LLM

FAST_RETRY = RetryPolicy(max_retries=2, base_delay_s=0.001, max_delay_s=0.01)


class Verdict(BaseModel):
    """A small schema with only required fields (OpenAI strict mode applies)."""

    label: str
    score: int


@pytest.fixture(autouse=True)
def _no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def campaign(tmp_path: Path) -> Campaign:
    return Campaign.create(tmp_path / "campaign", CampaignConfig(template="merge"))


def openai_llm(server: ReplayServer, **kwargs) -> LLM:
    models = ModelsConfig(
        default="openai:gpt-4o", base_url=f"{server.url}/v1", **kwargs.pop("models", {})
    )
    return open_llm(models, retry=kwargs.pop("retry", FAST_RETRY), **kwargs)


def anthropic_llm(server: ReplayServer, **kwargs) -> LLM:
    models = ModelsConfig(default="anthropic:claude-haiku-4-5", base_url=server.url)
    return open_llm(models, retry=FAST_RETRY, **kwargs)
