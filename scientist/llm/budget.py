"""The campaign budget as a hard stop, and the meter that sums one call's requests.

Before every request its worst-case cost is *reserved*; a request that would take
spent + reserved past `budget_usd` raises `BudgetExceeded` and is never sent. After the
request the reservation is replaced by the actual cost. Reservations make the stop hold
when several calls run at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from scientist.errors import BudgetExceeded
from scientist.llm.pricing import add_usage
from scientist.models import Usage


class Budget:
    """Money spent so far against an optional limit (None: no limit, only accounting)."""

    def __init__(self, limit_usd: float | None, spent_usd: float = 0.0) -> None:
        self.limit_usd = limit_usd
        self._spent = spent_usd
        self._reserved = 0.0
        self._lock = threading.Lock()

    @property
    def spent_usd(self) -> float:
        return self._spent

    def reserve(self, estimate_usd: float, *, model: str) -> None:
        with self._lock:
            committed = self._spent + self._reserved
            if self.limit_usd is not None and committed + estimate_usd > self.limit_usd:
                exceeded = BudgetExceeded(
                    f"a call to {model} could cost up to ${estimate_usd:.4f}; with "
                    f"${committed:.4f} spent or committed it would pass the budget of "
                    f"${self.limit_usd:.2f}",
                    hint="raise budget_usd, lower max_tokens, or pick a cheaper model",
                )
                exceeded.estimate_usd = estimate_usd
                raise exceeded
            self._reserved += estimate_usd

    def settle(self, estimate_usd: float, actual_usd: float) -> None:
        with self._lock:
            self._reserved = max(self._reserved - estimate_usd, 0.0)
            self._spent += actual_usd


class CallMeter:
    """Sums the usage of every request one `complete` call makes (repairs included)."""

    def __init__(self, budget: Budget | None = None) -> None:
        self.budget = budget or Budget(None)
        self.usage = Usage()
        self.requests = 0

    @contextmanager
    def request(self, model: str, estimate_usd: float) -> Iterator[Callable[[Usage], None]]:
        """Reserve `estimate_usd` for one request; the body reports its usage, or fails."""
        self.budget.reserve(estimate_usd, model=model)
        actual = 0.0

        def record(usage: Usage) -> None:
            nonlocal actual
            actual = usage.cost_usd
            self.usage = add_usage(self.usage, usage)

        try:
            self.requests += 1
            yield record
        finally:
            self.budget.settle(estimate_usd, actual)
