"""Exact top-k selection of entries by magnitude, without sorting the whole tensor.

A stratified random sample of the magnitudes brackets the k-th largest one: with high probability
fewer than k entries lie above `high` and at least k at or above `low`. One pass over the
tensor then counts the entries above `high` (all kept) and lists the candidates in
[`low`, `high`]; the exact threshold and its ties are settled among the candidates alone.
Ties at the threshold are broken by position: the entries with the lowest flat indices are
kept, so exactly k entries are. When the sample misjudged (the pass shows fewer than k
entries at or above `low`, or more than k above `high`), the bracket is narrowed to the
exact threshold, found by `torch.kthvalue` over the whole tensor, and the pass repeated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch

SAMPLE = 1 << 16  # sampled magnitudes; tensors of at most this many entries are solved exactly
RUN = 256  # the sample is SAMPLE / RUN runs of RUN neighbours (1 KiB of float32, read in order)
SPREAD = 3.5  # standard deviations of the sampled rank kept on either side of the bracket
_SAMPLER_SEED = 20240321  # the sample only narrows the search: the selection does not depend on it


@dataclass(frozen=True)
class Bracket:
    keep: int  # entries to keep
    low: float  # entries below are dropped
    high: float  # entries above are kept


def keep_count(numel: int, density: float) -> int:
    """Entries that a density keeps: at least one when density > 0."""
    if density <= 0 or numel == 0:
        return 0
    if density >= 1:
        return numel
    return max(1, int(density * numel))


def kth_smallest(values: torch.Tensor | np.ndarray, k: int) -> float:
    """The k-th smallest (1-based) of 1-d float32 values; numpy's selection on the CPU
    (several times faster there than `torch.kthvalue`)."""
    if isinstance(values, torch.Tensor) and values.device.type == "cpu":
        values = values.numpy()
    if isinstance(values, np.ndarray):
        return float(np.partition(values, k - 1)[k - 1])
    return float(torch.kthvalue(values, k).values)


def exact_bracket(magnitudes: torch.Tensor, keep: int) -> Bracket:
    """The bracket [t, t] at the exact k-th largest magnitude t."""
    threshold = kth_smallest(magnitudes.reshape(-1), magnitudes.numel() - keep + 1)
    return Bracket(keep, threshold, threshold)


@cache
def sample_index(numel: int) -> torch.Tensor | None:
    """Flat indices whose magnitudes bracket the threshold: None (all of them) for a tensor
    of at most SAMPLE entries, else SAMPLE ascending indices in SAMPLE / RUN runs of RUN
    neighbours, one run drawn uniformly from each of as many equal strata. A run reads one
    cache line where as many lone entries would read as many lines; neighbours may be
    alike, which `bracket_for` measures and allows for."""
    if numel <= SAMPLE:
        return None
    runs = SAMPLE // RUN
    generator = torch.Generator().manual_seed(_SAMPLER_SEED)
    stratum = (numel - RUN) / runs
    offset = torch.rand(runs, dtype=torch.float64, generator=generator)
    start = ((torch.arange(runs, dtype=torch.float64) + offset) * stratum).long()
    return (start.reshape(-1, 1) + torch.arange(RUN)).reshape(-1)


def design_effect(sample: torch.Tensor, at: float, share: float) -> float:
    """How much more the count of sampled entries at or above `at` varies, run by run, than
    for independent entries each there with probability `share` (at least 1)."""
    if share <= 0 or share >= 1:
        return 1.0
    per_run = (sample.reshape(-1, RUN) >= at).sum(1, dtype=torch.float64)
    return max(1.0, float(per_run.var(correction=0)) / (RUN * share * (1 - share)))


def sorted_magnitudes(magnitudes: torch.Tensor) -> torch.Tensor:
    """A 1-d tensor of non-negative float32 magnitudes in ascending order: numpy's sort on
    the CPU; on CUDA sorted as their int32 bits (which order them as the floats do, and
    sort faster than floats)."""
    flat = magnitudes.reshape(-1)
    if flat.device.type == "cpu":
        return torch.from_numpy(np.sort(flat.numpy()))
    return torch.sort(flat.view(torch.int32)).values.view(torch.float32)


def bracket_for(sample: torch.Tensor, numel: int, density: float) -> Bracket:
    """A bracket of the threshold that keeps `density` of `numel` entries, from the
    magnitudes at `sample_index(numel)` (float32)."""
    keep = keep_count(numel, density)
    if keep == numel:
        return Bracket(keep, -math.inf, -math.inf)
    if keep == 0:
        return Bracket(keep, math.inf, math.inf)
    if sample.numel() == numel:
        return exact_bracket(sample, keep)
    ordered = sorted_magnitudes(sample)
    size = ordered.numel()
    share = keep / numel
    expected = share * size  # sampled entries at or above the threshold, on average
    estimate = float(ordered[min(size - 1, max(0, size - round(expected)))])
    spread = expected * (1 - share) * design_effect(sample, estimate, share)
    margin = SPREAD * math.sqrt(spread) + 1
    above, at_or_above = math.floor(expected - margin), math.ceil(expected + margin)
    high = math.inf if above < 1 else float(ordered[size - above])
    low = -math.inf if at_or_above > size else float(ordered[size - at_or_above])
    return Bracket(keep, low, high)


def settle(bracket: Bracket, above: int, values: torch.Tensor) -> torch.Tensor | None:
    """Which of some entries are kept (a bool mask over them), or None when the bracket
    missed.

    `values` are the magnitudes of entries in ascending flat-index order that include every
    entry in [low, high], and may include others; `above` counts the entries of the whole
    tensor above `high`. On the CPU the work is done in numpy (less overhead per operation
    on these short arrays); the steps are the same.
    """
    array = values.numpy() if values.device.type == "cpu" else values
    over = array > bracket.high
    candidates = int((array >= bracket.low).sum()) - int(over.sum())
    need = bracket.keep - above
    if need < 0 or need > candidates:
        return None
    if need == 0:
        return torch.as_tensor(over)
    inside = array[(array >= bracket.low) & ~over]
    threshold = kth_smallest(inside, candidates - need + 1)
    kept = array > threshold
    ties = (array == threshold).nonzero()  # the lowest flat indices first
    ties = ties[0] if isinstance(ties, tuple) else ties.reshape(-1)
    kept[ties[: bracket.keep - above - (int(kept.sum()) - int(over.sum()))]] = True
    return torch.as_tensor(kept)


def magnitude_mask(delta: torch.Tensor, density: float) -> torch.Tensor:
    """Keep the top `density` fraction of entries by magnitude (at least one if density > 0);
    ties at the threshold keep the lowest flat indices."""
    magnitudes = delta.detach().reshape(-1).abs().float()
    index = sample_index(magnitudes.numel())
    sample = magnitudes if index is None else magnitudes[index.to(magnitudes.device)]
    bracket = bracket_for(sample, magnitudes.numel(), density)
    while True:
        mask = magnitudes > bracket.high
        candidates = torch.nonzero((magnitudes >= bracket.low) & ~mask).reshape(-1)
        kept = settle(bracket, int(mask.sum()), magnitudes[candidates])
        if kept is not None:
            mask[candidates[kept]] = True
            return mask.reshape(delta.shape)
        bracket = exact_bracket(magnitudes, bracket.keep)
