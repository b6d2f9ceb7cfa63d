"""The one statistics rule every report, paper and review uses.

A metric's spread is the *sample* standard deviation of its per-seed values (n - 1 in the
denominator; 0 for a single value). Packs report the values; the framework computes the
mean and the spread from them (`MetricSummary`), so a paper's "±" and its review agree.
Differences between two sets of values get a paired t interval when both were measured on
the same seeds, and Welch's t interval (unequal variances) otherwise.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Literal

REL_TOLERANCE = 1e-6
ABS_TOLERANCE = 1e-9


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """The mean and the sample standard deviation (0 for one value; NaN when a value is not
    finite, which the pack's sanity bounds then reject)."""
    if not values:
        raise ValueError("no values to summarise")
    mean = statistics.fmean(values)
    if not all(math.isfinite(value) for value in values):
        return mean, math.nan
    return mean, statistics.stdev(values, mean) if len(values) > 1 else 0.0


def agrees(reported: float, computed: float) -> bool:
    """Whether a reported summary equals the computed one, up to float rounding (a NaN
    agrees with a NaN: non-finite values are the sanity bounds' business, not this rule's)."""
    if math.isnan(reported) and math.isnan(computed):
        return True
    return math.isclose(reported, computed, rel_tol=REL_TOLERANCE, abs_tol=ABS_TOLERANCE)


def welch_interval(
    treated: Sequence[float], control: Sequence[float], level: float = 0.95
) -> tuple[float, float] | None:
    """Welch's t interval for mean(treated) - mean(control); None with fewer than 2 of either."""
    from scipy.special import stdtrit  # imported here: scipy costs seconds at CLI start-up

    if len(treated) < 2 or len(control) < 2:
        return None
    (m1, s1), (m2, s2) = mean_std(treated), mean_std(control)
    v1, v2 = s1**2 / len(treated), s2**2 / len(control)
    diff = m1 - m2
    if v1 + v2 == 0:
        return diff, diff
    df = (v1 + v2) ** 2 / (v1**2 / (len(treated) - 1) + v2**2 / (len(control) - 1))
    half = float(stdtrit(df, 0.5 + level / 2)) * math.sqrt(v1 + v2)
    return diff - half, diff + half


def paired_interval(
    treated: Sequence[float], control: Sequence[float], level: float = 0.95
) -> tuple[float, float] | None:
    """The t interval for the mean of the per-seed differences treated - control (the two
    measured on the same seeds, in the same order); None with fewer than 2 pairs."""
    from scipy.special import stdtrit

    if len(treated) != len(control):
        raise ValueError("paired values need the same seeds on both sides")
    if len(treated) < 2:
        return None
    mean, std = mean_std([t - c for t, c in zip(treated, control, strict=True)])
    half = float(stdtrit(len(treated) - 1, 0.5 + level / 2)) * std / math.sqrt(len(treated))
    return mean - half, mean + half


def difference_interval(
    treated: Sequence[float],
    treated_seeds: Sequence[int],
    control: Sequence[float],
    control_seeds: Sequence[int],
    level: float = 0.95,
) -> tuple[tuple[float, float] | None, Literal["paired", "welch"]]:
    """The interval for mean(treated) - mean(control), and which test made it: paired when
    both sides ran the same seeds (one value a seed), Welch's otherwise."""
    paired = list(treated_seeds) == list(control_seeds) and len(treated) == len(control) == len(
        treated_seeds
    )
    if paired:
        return paired_interval(treated, control, level), "paired"
    return welch_interval(treated, control, level), "welch"


def number(value: float, spec: str) -> str:
    """`value` formatted with `spec`; a value that prints as zero prints unsigned ('-0',
    '+0.00' and '-0.0%' are '0', '0.00' and '0.0%')."""
    text = format(value, spec)
    try:
        zero = float(text.rstrip("%")) == 0
    except ValueError:
        return text
    return text.lstrip("+-") if zero else text
