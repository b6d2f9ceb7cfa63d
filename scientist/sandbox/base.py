"""The Sandbox protocol, backend registry and the factory campaign code calls."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from scientist.config import SandboxConfig
from scientist.errors import ConfigError, SandboxUnavailable
from scientist.models import RunResult, RunSpec


class Guarantee(BaseModel):
    """One wall around a run, and whether this host enforces it (and how, or why not)."""

    name: str
    enforced: bool
    how: str


class Availability(BaseModel):
    """Whether a backend can run here, and why (not); what it enforces here."""

    ok: bool
    reason: str
    hint: str | None = None
    guarantees: list[Guarantee] = []


@runtime_checkable
class Sandbox(Protocol):
    """Runs one spec to completion; never raises for what happens inside the run."""

    name: str

    def run(self, spec: RunSpec) -> RunResult: ...

    def check(self) -> Availability: ...


BackendFactory = Callable[[SandboxConfig, str | None], Sandbox]

_FACTORIES: dict[str, BackendFactory] = {}
BACKEND_MODULES: dict[str, str] = {
    "local": "scientist.sandbox.local",
    "docker": "scientist.sandbox.docker_backend",
    "ray": "scientist.sandbox.ray_backend",
}


def register_backend(kind: str) -> Callable[[BackendFactory], BackendFactory]:
    """Decorator: make `open_sandbox` build `kind` with the decorated factory."""

    def decorate(factory: BackendFactory) -> BackendFactory:
        _FACTORIES[kind] = factory
        return factory

    return decorate


def backend_factory(kind: str) -> BackendFactory:
    """The factory for `kind`, importing its module on first use."""
    if kind not in _FACTORIES and kind in BACKEND_MODULES:
        try:
            importlib.import_module(BACKEND_MODULES[kind])
        except ModuleNotFoundError as exc:
            raise SandboxUnavailable(
                f"the {kind} sandbox backend cannot be loaded: {exc}",
                hint=f"install the '{kind}' extra: pip install 'scientist[{kind}]'",
            ) from None
    if kind not in _FACTORIES:
        known = ", ".join(sorted(BACKEND_MODULES))
        raise ConfigError(f"unknown sandbox kind '{kind}': use one of {known}")
    return _FACTORIES[kind]


def open_sandbox(config: SandboxConfig, *, campaign: str | None = None) -> Sandbox:
    """The sandbox `config.kind` names. Raises SandboxUnavailable (with a one-line fix)
    when that backend cannot run here; never falls back to another backend."""
    return backend_factory(config.kind)(config, campaign)
