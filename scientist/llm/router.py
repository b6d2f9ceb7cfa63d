"""`LLM`: the campaign's model router (`open_llm`), and `RoleModel`, what a stage holds.

The router routes a role to its model (a pool when the role lists several), enforces the
budget, writes every call to the campaign ledger, and learns from rewards. A stage never sees
the router: it asks its context for `model(role)`, a `RoleModel` bound to that role, or None
when the role has no model (`none`), which is the one switch between online and offline.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel

from scientist.campaign import Campaign
from scientist.config import ROLES, ModelsConfig, is_offline
from scientist.errors import ConfigError, LLMFormatError
from scientist.llm.base import DEFAULT_MAX_TOKENS, Completion, MessageLike, as_messages
from scientist.llm.budget import Budget, CallMeter
from scientist.llm.chat import ProviderChatModel, new_call_id
from scientist.llm.factory import open_chat_model
from scientist.llm.journal import Journal
from scientist.llm.pool import ModelPool, ModelStats
from scientist.llm.retry import RetryPolicy
from scientist.models import LedgerEntry


class LLM:
    def __init__(
        self,
        config: ModelsConfig,
        *,
        campaign: Campaign | None = None,
        budget_usd: float | None = None,
        seed: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.config = config
        self._seed = seed
        self.campaign: Campaign | None = None
        self.journal: Journal | None = None
        self.budget = Budget(budget_usd, 0.0)
        self.pool = ModelPool(None, seed=seed)
        if campaign is not None:
            self.attach(campaign)
        self._models: dict[str, ProviderChatModel] = {}
        specs = {spec for role in ROLES for spec in config.for_role(role)}
        for spec in sorted(spec for spec in specs if not is_offline(spec)):
            self._models[spec] = open_chat_model(spec, config, retry=retry, seed=seed)

    def attach(self, campaign: Campaign) -> None:
        """Record calls in `campaign`'s ledger and pool from now on, its spending counted
        against the budget (a router is opened before a new campaign's folder exists).

        Calls a kill cut short before their ledger line (journaled, not ledgered) are added
        to the ledger first, so that the budget counts them."""
        self.campaign = campaign
        self.journal = Journal(campaign.journal_path)
        ledgered = {entry.call_id for entry in campaign.ledger()}
        for entry in self.journal.unledgered(ledgered):
            campaign.record_call(entry)
        self.budget = Budget(self.budget.limit_usd, campaign.spent_usd())
        self.pool = ModelPool(campaign.root / "pool.json", seed=self._seed)

    @property
    def offline(self) -> bool:
        """True when no role has a model."""
        return all(self.for_role(role) is None for role in ROLES)

    def for_role(self, role: str) -> RoleModel | None:
        """`role`'s model, or None when the role is `none` (its offline strategy runs)."""
        return RoleModel(self, role) if self.models(role) else None

    def models(self, role: str) -> list[str]:
        """The role's model specs, `none` left out; a role outside ROLES (e.g. a CLI check)
        uses the default."""
        specs = self.config.for_role(role if role in ROLES else "default")
        return [spec for spec in specs if not is_offline(spec)]

    def complete(
        self,
        role: str,
        messages: Iterable[MessageLike],
        schema: type[BaseModel] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        model: str | None = None,
        seed: int | None = None,
    ) -> Completion:
        """Ask `role`'s model; raises BudgetExceeded before a call that could pass the budget.

        With a pool, the model is chosen by Thompson sampling unless `model` pins one of the
        role's models (a tree search whose arms are models asks each arm's own). `seed` is
        sent only to a model whose API takes one.
        """
        specs = self.models(role)
        if not specs:
            raise ConfigError(
                f"role '{role}' has no model (it is 'none')",
                hint="use the offline strategy when llm.for_role(role) is None",
            )
        if model is not None and model not in specs:
            raise ConfigError(
                f"model '{model}' is not one of role '{role}''s models: {', '.join(specs)}"
            )
        conversation = as_messages(messages)
        call_id = new_call_id()
        journal = self.journal.call(role, call_id, model) if self.journal else None
        recorded = None
        if journal is not None:  # a resumed call is answered by the model that answered it
            limit = max_tokens or DEFAULT_MAX_TOKENS
            key = journal.key(conversation, schema, temperature, limit, seed)
            recorded = self.journal.recorded_model(key)  # type: ignore[union-attr]
        spec = model or (recorded if recorded in specs else None) or self.pool.choose(role, specs)
        meter = CallMeter(self.budget)
        started = time.perf_counter()
        try:
            completion = self._models[spec].complete(
                conversation,
                schema,
                temperature=temperature,
                max_tokens=max_tokens,
                seed=seed,
                meter=meter,
                call_id=call_id,
                journal=journal,
            )
        except Exception as exc:
            if meter.requests:
                self._record(call_id, role, spec, meter, started, error=exc)
            if isinstance(exc, LLMFormatError):  # an outage is no fault of the model
                self.pool.record_failure(role, spec, meter.usage.cost_usd)
            raise
        if meter.requests:  # else every request was answered from the journal: paid before
            self._record(call_id, role, spec, meter, started)
            self.pool.record_call(completion.call_id, role, spec, meter.usage.cost_usd)
        return completion

    def check_models(self) -> None:
        """One cheap round trip per configured model (key, URL, model name), before any
        sandbox work; the first failure is raised as one line naming model and URL."""
        for chat_model in self._models.values():
            chat_model.check()

    def reward(self, call_id: str, success: bool) -> None:
        """Credit (or debit) the model that made `call_id`; unknown ids are ignored.

        A call made before a resume is no longer pending in memory: its model is found in
        the campaign's ledger instead, so rewards that arrive late still count.
        """
        if self.pool.reward(call_id, success) or self.campaign is None:
            return
        for entry in self.campaign.ledger():
            if entry.call_id == call_id and entry.ok:
                self.pool.reward_model(entry.role, entry.model, success)
                return

    def takes_temperature(self, spec: str) -> bool:
        """Whether model `spec` accepts a non-default sampling temperature."""
        return self._models[spec].capabilities.temperature

    def sees_images(self, spec: str) -> bool:
        """Whether model `spec` accepts images in a message."""
        return self._models[spec].capabilities.vision

    def takes_seed(self, spec: str) -> bool:
        """Whether model `spec`'s API takes a sampling seed."""
        return self._models[spec].capabilities.seed

    def context_tokens(self, spec: str) -> int | None:
        """Model `spec`'s context window where it is known (its family's, or a local model's)."""
        return self._models[spec].context_tokens

    def stats(self) -> list[ModelStats]:
        return self.pool.stats()

    @property
    def spent_usd(self) -> float:
        return self.budget.spent_usd

    def close(self) -> None:
        for model in self._models.values():
            model.close()

    def __enter__(self) -> LLM:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _record(
        self,
        call_id: str,
        role: str,
        spec: str,
        meter: CallMeter,
        started: float,
        error: Exception | None = None,
    ) -> None:
        if self.campaign is None:
            return
        self.campaign.record_call(
            LedgerEntry(
                call_id=call_id,
                role=role,
                model=spec,
                usage=meter.usage,
                latency_s=time.perf_counter() - started,
                ok=error is None,
                error="" if error is None else f"{type(error).__name__}: {error}"[:500],
            )
        )


@dataclass(frozen=True)
class RoleModel:
    """One role's model (or pool) in the campaign's LLM layer: what a stage asks and rewards."""

    llm: LLM
    role: str

    @property
    def models(self) -> list[str]:
        """The role's model specs (several for a pool)."""
        return self.llm.models(self.role)

    @property
    def context_tokens(self) -> int | None:
        """The smallest context window among the role's models that state one (the family
        table's, or a local model's own config); None when none does."""
        windows = [self.llm.context_tokens(spec) for spec in self.models]
        return min((window for window in windows if window is not None), default=None)

    @property
    def takes_temperature(self) -> bool:
        """Whether every model of the role accepts a sampling temperature (reasoning models
        do not: vary the model instead)."""
        return all(self.llm.takes_temperature(spec) for spec in self.models)

    @property
    def sees_images(self) -> bool:
        """Whether every model of the role accepts images (a pool answers with any of them)."""
        return all(self.llm.sees_images(spec) for spec in self.models)

    @property
    def takes_seed(self) -> bool:
        """Whether every model of the role takes a sampling seed (OpenAI's API does,
        Anthropic's does not)."""
        return all(self.llm.takes_seed(spec) for spec in self.models)

    def complete(
        self,
        messages: Iterable[MessageLike],
        schema: type[BaseModel] | None = None,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        model: str | None = None,
        seed: int | None = None,
    ) -> Completion:
        """`LLM.complete` for this role: budgeted, ledgered, chosen from the pool."""
        return self.llm.complete(
            self.role,
            messages,
            schema,
            temperature=temperature,
            max_tokens=max_tokens,
            model=model,
            seed=seed,
        )

    def reward(self, call_id: str, success: bool) -> None:
        """Credit (or debit) the model that made `call_id` (any role's call)."""
        self.llm.reward(call_id, success)


def open_llm(
    config: ModelsConfig,
    *,
    campaign: Campaign | None = None,
    budget_usd: float | None = None,
    seed: int | None = None,
    retry: RetryPolicy | None = None,
) -> LLM:
    """The LLM facade for a campaign (or a standalone use when `campaign` is None)."""
    return LLM(config, campaign=campaign, budget_usd=budget_usd, seed=seed, retry=retry)
