"""What the graph's nodes share that is not state: the campaign, its pack, sandbox and models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.sandbox import Sandbox
from scientist.templates import Template


@dataclass
class Context:
    campaign: Campaign
    template: Template
    sandbox: Sandbox
    llm: Any = None
    """The LLM client (`scientist.llm.open_llm`), or None for a fully offline campaign."""

    @property
    def config(self) -> CampaignConfig:
        return self.campaign.config

    def uses_llm(self, role: str) -> bool:
        return self.llm is not None and not self.llm.is_offline(role)
