"""What every stage is given: the campaign's services, opened once per command.

The stages (`ideas/`, `experiments/`, `writeup/`, `review/`) take a `Context` and nothing
from `graph/`: the graph only sequences them. `model(role)` is the one switch between the
model-backed and the offline strategy of a step: it returns the role's `RoleModel`, or None
when the role is `none`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.literature import LiteratureClient
from scientist.llm import LLM, Role, RoleModel, open_llm
from scientist.sandbox import Sandbox, open_sandbox
from scientist.templates import Template, load_template

LITERATURE_ENV = "SCIENTIST_LITERATURE"

log = logging.getLogger(__name__)


@dataclass
class Context:
    campaign: Campaign
    template: Template
    sandbox: Sandbox
    llm: LLM
    literature: LiteratureClient
    finishing: bool = False
    """The step runs again after a budget pause held it: when the budget runs out once more,
    it finishes without the model (`offline`) instead of pausing again."""
    _offline: bool = False
    _blind_roles: set[str] = field(default_factory=set, repr=False)

    @property
    def config(self) -> CampaignConfig:
        return self.campaign.config

    def model(self, role: Role) -> RoleModel | None:
        """`role`'s model, or None offline (the step's offline strategy runs)."""
        return None if self._offline else self.llm.for_role(role)

    def offline(self) -> Context:
        """The same services with every role offline: each step's offline strategy runs."""
        return replace(self, _offline=True)

    def finishing_step(self) -> Context:
        """The context of a step a budget pause held (`finishing`)."""
        return replace(self, finishing=True)

    def vision_model(self, role: Role) -> RoleModel | None:
        """Who looks at figures for `role`'s step: the `vision` role when configured, else
        `role`'s own model when it accepts images, else None (the step's vision checks are
        skipped, said once per role in the log)."""
        looker = self.model("vision") or self.model(role)
        if looker is None:
            return None
        if looker.sees_images:
            return looker
        self._say_blind(
            role,
            looker,
            "its figure checks are skipped (set models.vision, "
            'or models.capabilities."<model>".vision = true)',
        )
        return None

    def takes_images(self, role: Role) -> bool:
        """Whether `role`'s own requests may carry figures: only when its own model accepts
        images (a `models.vision` model does not answer another role's requests); when it
        does not, said once per role in the log."""
        model = self.model(role)
        if model is None:
            return False
        if not model.sees_images:
            self._say_blind(
                role,
                model,
                "its requests carry no figures "
                '(models.capabilities."<model>".vision = true if it accepts images)',
            )
        return model.sees_images

    def _say_blind(self, role: Role, model: RoleModel, consequence: str) -> None:
        if role in self._blind_roles:
            return
        self._blind_roles.add(role)
        log.warning("%s: %s takes no images; %s", role, ", ".join(model.models), consequence)

    def close(self) -> None:
        self.llm.close()


def literature_online(config: CampaignConfig, llm: LLM) -> bool:
    """Whether the literature service may be asked over the network: only by a campaign with
    models, and never when `literature = "off"` or `SCIENTIST_LITERATURE=off`."""
    switched_off = os.environ.get(LITERATURE_ENV, "").strip().lower() == "off"
    return not llm.offline and config.literature != "off" and not switched_off


def campaign_literature(campaign: Campaign, *, online: bool) -> LiteratureClient:
    """The campaign's literature client; its cache is `<campaign>/literature`."""
    return LiteratureClient(campaign.root / "literature", offline=not online)


def open_context(
    campaign: Campaign,
    *,
    template: Template | None = None,
    sandbox: Sandbox | None = None,
    llm: LLM | None = None,
    literature: bool | None = None,
) -> Context:
    """The campaign's services; those already opened by the caller are reused, not reopened.
    `literature` forces the literature client on or off (default: `literature_online`)."""
    config = campaign.config
    template = template or load_template(config.template)
    sandbox = sandbox or open_sandbox(config.sandbox, campaign=campaign.name)
    if llm is None:
        llm = open_llm(config.models, budget_usd=config.budget_usd, seed=0)
    llm.attach(campaign)
    online = literature_online(config, llm) if literature is None else literature
    return Context(
        campaign=campaign,
        template=template,
        sandbox=sandbox,
        llm=llm,
        literature=campaign_literature(campaign, online=online),
    )
