"""Sanity bounds a pack declares for its metrics: a run outside them is degenerate.

A failed data preparation can leave an empty input, and the run still "succeeds" with a
token count of 0 or a loss of exactly 0. A pack states what a real run looks like, per
metric (`[sanity.<metric>]` in template.toml); every per-seed value is checked against it.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, model_validator

from scientist.models import FinalInfo


class MetricBounds(BaseModel):
    """Bounds on every per-seed value of one metric; `finite` rejects NaN and infinities."""

    model_config = ConfigDict(extra="forbid")

    finite: bool = True
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None

    @model_validator(mode="after")
    def _one_side_each(self) -> MetricBounds:
        if self.gt is not None and self.ge is not None:
            raise ValueError("give gt or ge, not both")
        if self.lt is not None and self.le is not None:
            raise ValueError("give lt or le, not both")
        return self

    def violation(self, value: float) -> str | None:
        """Why `value` is outside the bounds, or None when it is inside."""
        if not math.isfinite(value):
            return "is not finite" if self.finite else None
        checks = (
            (self.gt, value > (self.gt or 0.0), ">"),
            (self.ge, value >= (self.ge or 0.0), ">="),
            (self.lt, value < (self.lt or 0.0), "<"),
            (self.le, value <= (self.le or 0.0), "<="),
        )
        for bound, inside, sign in checks:
            if bound is not None and not inside:
                return f"breaks the bound {sign} {bound:g}"
        return None


def degenerate_reason(info: FinalInfo, primary: str, bounds: dict[str, MetricBounds]) -> str | None:
    """The first reason the run is degenerate: a bounded metric missing or out of bounds, or
    a non-finite value of the primary metric (no comparison can use it); None when sane."""
    checks = {primary: MetricBounds(), **bounds}
    for name, rule in checks.items():
        summary = info.metrics.get(name)
        if summary is None:
            if name in bounds:
                return f"metric '{name}' has sanity bounds in template.toml but was not reported"
            continue
        for seed_index, value in enumerate(summary.values):
            problem = rule.violation(value)
            if problem is not None:
                source = " (template.toml [sanity])" if name in bounds else ""
                return (
                    f"degenerate run: metric '{name}' = {value:g} (seed value {seed_index}) "
                    f"{problem}{source}"
                )
    return None
