"""What the graph's nodes share that is not state: the campaign, its pack, sandbox and models."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.literature import LiteratureClient
from scientist.sandbox import Sandbox
from scientist.templates import Template

LITERATURE_ENV = "SCIENTIST_LITERATURE"


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

    @property
    def literature_online(self) -> bool:
        """Whether the literature service may be asked over the network: only by a campaign
        with models, and never when `literature = "off"` or `SCIENTIST_LITERATURE=off`."""
        switched_off = os.environ.get(LITERATURE_ENV, "").strip().lower() == "off"
        return self.llm is not None and self.config.literature != "off" and not switched_off

    @cached_property
    def literature(self) -> LiteratureClient:
        """The campaign's literature client (cache in `<campaign>/literature`), answering from
        its cache only when `literature_online` is false."""
        return LiteratureClient(
            self.campaign.root / "literature", offline=not self.literature_online
        )
