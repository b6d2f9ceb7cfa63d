"""The Sandbox protocol and the factory campaign code calls (the registry: `scientist.backends`)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from scientist.backends import backend, validate_options
from scientist.config import SandboxConfig
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


def backend_options(config: SandboxConfig, kind: str) -> BaseModel:
    """The options of backend `kind`, from the config's `[sandbox.<kind>]` table."""
    return validate_options(kind, config.backend_tables.get(kind, {}))


def open_sandbox(config: SandboxConfig, *, campaign: str | None = None) -> Sandbox:
    """The sandbox `config.kind` names. Raises SandboxUnavailable (with a one-line fix)
    when that backend cannot run here; never falls back to another backend."""
    sandbox: Sandbox = backend(config.kind).factory(config, campaign)
    return sandbox


def end_orphans(sandbox: Sandbox) -> list[str]:
    """End the runs a killed campaign left behind in `sandbox`, for backends whose runs can
    outlive the campaign process (they define `end_orphans`); the names of what was ended."""
    end = getattr(sandbox, "end_orphans", None)
    return end() if end is not None else []


def declared_gpus(sandbox: Sandbox) -> list[int]:
    """The GPUs the backend itself declares (a Ray cluster's), for backends that define
    `gpu_slots`; [] when it declares none and the config's `sandbox.gpus` decide."""
    declare = getattr(sandbox, "gpu_slots", None)
    return list(declare()) if declare is not None else []


def install_hint(sandbox: Sandbox, missing: list[str], pack: Path) -> str:
    """How to make `missing` Python packages importable in `sandbox`'s runs of `pack`, for
    backends that know (they define `install_hint`); else a generic line."""
    hint = getattr(sandbox, "install_hint", None)
    if hint is not None:
        return str(hint(missing, pack))
    return f"install {' '.join(missing)} where the {sandbox.name} sandbox runs"
