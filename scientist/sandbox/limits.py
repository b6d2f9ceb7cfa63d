"""Per-process limits every backend sets on a run's processes (soft == hard, so the run
cannot raise them)."""

from __future__ import annotations

OPEN_FILES = 4096
