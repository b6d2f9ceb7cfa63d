"""Model specs (`<kind>:<name>` of a registered provider, or `none`) turned into chat
models."""

from __future__ import annotations

import random

from scientist.config import ModelsConfig, is_offline
from scientist.errors import ConfigError
from scientist.llm.base import Provider
from scientist.llm.capabilities import capabilities_for
from scientist.llm.chat import ProviderChatModel
from scientist.llm.pricing import PriceTable
from scientist.llm.registry import provider_kind, split_spec
from scientist.llm.retry import RetryPolicy


def make_provider(spec: str, config: ModelsConfig) -> Provider:
    kind, name = split_spec(spec)
    return provider_kind(kind).factory(name, config, capabilities_for(spec, config.capabilities))


def open_chat_model(
    spec: str,
    config: ModelsConfig | None = None,
    *,
    retry: RetryPolicy | None = None,
    seed: int | None = None,
) -> ProviderChatModel:
    """A `ChatModel` for `spec` with the config's retries, repair rounds and prices."""
    config = config or ModelsConfig()
    if is_offline(spec):
        raise ConfigError("model 'none' cannot answer", hint="check is_offline(role) first")
    return ProviderChatModel(
        spec,
        make_provider(spec, config),
        prices=PriceTable(config.prices),
        retry=retry or RetryPolicy(max_retries=config.max_retries),
        format_retries=config.format_retries,
        rng=random.Random(seed),
        capabilities=capabilities_for(spec, config.capabilities),
    )
