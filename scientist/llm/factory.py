"""Model specs (`openai:gpt-4o`, `anthropic:...`, `local:<path>`, `scripted:<file>`,
`none`) turned into chat models."""

from __future__ import annotations

import random
from pathlib import Path

from scientist.config import ModelsConfig, is_offline
from scientist.errors import ConfigError
from scientist.llm.base import Provider
from scientist.llm.capabilities import capabilities_for
from scientist.llm.chat import ProviderChatModel
from scientist.llm.pricing import PriceTable
from scientist.llm.retry import RetryPolicy

KINDS = ("openai", "anthropic", "local", "scripted")


def split_spec(spec: str) -> tuple[str, str]:
    kind, sep, name = spec.partition(":")
    if not sep or kind not in KINDS or not name:
        raise ConfigError(
            f"unknown model '{spec}'",
            hint="use openai:<model>, anthropic:<model>, local:<path>, scripted:<file> or none",
        )
    return kind, name


def make_provider(spec: str, config: ModelsConfig) -> Provider:
    kind, name = split_spec(spec)
    if kind == "openai":
        from scientist.llm.providers.openai import OpenAIProvider

        return OpenAIProvider(
            name,
            base_url=config.base_url,
            timeout_s=config.timeout_s,
            token_limit_field=capabilities_for(spec, config.capabilities).token_limit_field,
        )
    if kind == "anthropic":
        from scientist.llm.providers.anthropic import AnthropicProvider

        return AnthropicProvider(name, base_url=config.base_url, timeout_s=config.timeout_s)
    if kind == "local":
        from scientist.llm.providers.local import LocalProvider

        return LocalProvider(
            name, max_new_tokens=config.local_max_tokens, context_cap=config.local_context_tokens
        )
    from scientist.llm.scripted import ScriptedProvider

    return ScriptedProvider(
        Path(name),
        timeout_s=config.timeout_s,
        token_limit_field=capabilities_for(spec, config.capabilities).token_limit_field,
    )


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
