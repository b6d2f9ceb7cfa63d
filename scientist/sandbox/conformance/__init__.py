"""The sandbox conformance suite: one behaviour contract every backend must keep.

Each probe runs real (often hostile) code through a `Sandbox` and raises `ProbeFailed`
when the backend does not hold what it claims. The tests run every probe on every backend
(`tests/sandbox/test_conformance.py`); a new backend is checked with

    for name in PROBES: run_probe(name, sandbox, scratch_folder)

Probes send network traffic to loopback only: to listeners they start themselves.
"""

from scientist.sandbox.conformance import basics, kernel, outputs, statuses, walls  # noqa: F401
from scientist.sandbox.conformance.bench import PROBES, Bench, ProbeFailed, run_probe

__all__ = ["PROBES", "Bench", "ProbeFailed", "run_probe"]
