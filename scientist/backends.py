"""The sandbox backend registry: which kinds exist, their options, and their factories.

A backend is one module that calls `register_backend(kind, options=...)` on its factory, and
one entry point in the `scientist.sandboxes` group naming that module (`<kind> = "<module>"`).
Only the backends a configuration names are imported. This module sits below the config, so
`SandboxConfig` is validated against the registry when it is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from scientist.errors import ConfigError, SandboxUnavailable

ENTRY_POINTS = "scientist.sandboxes"

BackendFactory = Callable[..., Any]
"""`factory(config: SandboxConfig, campaign: str | None) -> Sandbox` (`scientist.sandbox`),
raising SandboxUnavailable when the backend cannot run here."""


class NoOptions(BaseModel):
    """A backend with no options of its own."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Backend:
    kind: str
    factory: BackendFactory
    options: type[BaseModel]


_BACKENDS: dict[str, Backend] = {}


def register_backend(
    kind: str, *, options: type[BaseModel] = NoOptions
) -> Callable[[BackendFactory], BackendFactory]:
    """Decorator: make `open_sandbox` build `kind` with the decorated factory; `options` is
    the model of the backend's own table in the config (`[sandbox.<kind>]`)."""

    def decorate(factory: BackendFactory) -> BackendFactory:
        _BACKENDS[kind] = Backend(kind, factory, options)
        return factory

    return decorate


def known_kinds() -> list[str]:
    """Every backend that is registered or named by an installed entry point."""
    return sorted({*_BACKENDS, *(ep.name for ep in entry_points(group=ENTRY_POINTS))})


def backend(kind: str) -> Backend:
    """The registered backend `kind`, importing its module on first use."""
    if kind not in _BACKENDS:
        named = [ep for ep in entry_points(group=ENTRY_POINTS) if ep.name == kind]
        if not named:
            known = ", ".join(known_kinds())
            raise ConfigError(f"unknown sandbox kind '{kind}': use one of {known}")
        try:
            named[0].load()
        except ModuleNotFoundError as exc:
            raise SandboxUnavailable(
                f"the {kind} sandbox backend cannot be loaded: {exc}",
                hint=f"install the '{kind}' extra: pip install 'scientist[{kind}]'",
            ) from None
    if kind not in _BACKENDS:
        raise ConfigError(f"sandbox kind '{kind}': its module registers no backend")
    return _BACKENDS[kind]


def validate_options(kind: str, table: Mapping[str, Any]) -> BaseModel:
    """Backend `kind`'s options from its config table; a bad one is a ConfigError."""
    model = backend(kind).options
    try:
        return model.model_validate(table)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"sandbox.{kind}.{field}: {first['msg']}",
            hint=f"the {kind} backend takes: {', '.join(model.model_fields) or 'no options'}",
        ) from None
