"""The model-provider registry: which spec kinds exist (`openai:`, `local:`, ...) and their
factories, like the sandbox backends' (`scientist.backends`).

A provider is one module that calls `register_provider(kind)` on its factory, and one entry
point in the `scientist.llm_providers` group naming that module (`<kind> = "<module>"`).
Only the providers a configuration names are imported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from scientist.config import ModelsConfig
from scientist.errors import ConfigError
from scientist.llm.base import Provider
from scientist.llm.capabilities import ModelCapabilities

ENTRY_POINTS = "scientist.llm_providers"

ProviderFactory = Callable[[str, ModelsConfig, ModelCapabilities], Provider]
"""`factory(name, config, capabilities) -> Provider` for the spec `<kind>:<name>`."""


@dataclass(frozen=True)
class ProviderKind:
    kind: str
    factory: ProviderFactory
    paid: bool


_PROVIDERS: dict[str, ProviderKind] = {}


def register_provider(kind: str, *, paid: bool) -> Callable[[ProviderFactory], ProviderFactory]:
    """Decorator: make `<kind>:<name>` specs open the decorated factory; `paid` providers
    need a price for a campaign with a budget."""

    def decorate(factory: ProviderFactory) -> ProviderFactory:
        _PROVIDERS[kind] = ProviderKind(kind, factory, paid)
        return factory

    return decorate


def known_kinds() -> list[str]:
    """Every provider that is registered or named by an installed entry point."""
    return sorted({*_PROVIDERS, *(ep.name for ep in entry_points(group=ENTRY_POINTS))})


def provider_kind(kind: str) -> ProviderKind:
    """The registered provider `kind`, importing its module on first use."""
    if kind not in _PROVIDERS:
        named = [ep for ep in entry_points(group=ENTRY_POINTS) if ep.name == kind]
        if not named:
            raise ConfigError(
                f"unknown model kind '{kind}'",
                hint=f"use {', '.join(f'{k}:<model>' for k in known_kinds())} or none",
            )
        named[0].load()
    if kind not in _PROVIDERS:
        raise ConfigError(f"model kind '{kind}': its module registers no provider")
    return _PROVIDERS[kind]


def split_spec(spec: str) -> tuple[str, str]:
    """`kind:name` of a known provider; anything else is a ConfigError."""
    kind, sep, name = spec.partition(":")
    if not sep or not name or kind not in known_kinds():
        raise ConfigError(
            f"unknown model '{spec}'",
            hint=f"use {', '.join(f'{k}:<model>' for k in known_kinds())} or none",
        )
    return kind, name
