"""Sandboxes: run untrusted experiment code under limits enforced from outside.

`open_sandbox(config)` gives a `Sandbox`; `sandbox.run(RunSpec(...))` gives a `RunResult`.
Backends register with `register_backend(kind, options=...)` (`scientist.backends`) in their
own module, named by an entry point in the `scientist.sandboxes` group.
"""

from scientist.backends import known_kinds, register_backend
from scientist.models import RunResult, RunSpec
from scientist.sandbox.base import (
    Availability,
    Sandbox,
    backend_options,
    declared_gpus,
    end_orphans,
    install_hint,
    open_sandbox,
)

__all__ = [
    "Availability",
    "RunResult",
    "RunSpec",
    "Sandbox",
    "backend_options",
    "declared_gpus",
    "end_orphans",
    "install_hint",
    "known_kinds",
    "open_sandbox",
    "register_backend",
]
