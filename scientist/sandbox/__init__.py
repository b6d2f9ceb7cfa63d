"""Sandboxes: run untrusted experiment code under limits enforced from outside.

`open_sandbox(config)` gives a `Sandbox`; `sandbox.run(RunSpec(...))` gives a `RunResult`.
"""

from scientist.models import RunResult, RunSpec
from scientist.sandbox.base import Availability, Sandbox, open_sandbox, register_backend

__all__ = ["Availability", "RunResult", "RunSpec", "Sandbox", "open_sandbox", "register_backend"]
