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

import torch

SAMPLE = 1 << 16  # magnitudes drawn to bracket the threshold; smaller tensors are solved exactly
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


def exact_bracket(magnitudes: torch.Tensor, keep: int) -> Bracket:
    """The bracket [t, t] at the exact k-th largest magnitude t."""
    threshold = float(torch.kthvalue(magnitudes.reshape(-1), magnitudes.numel() - keep + 1).values)
    return Bracket(keep, threshold, threshold)


def sample_index(numel: int) -> torch.Tensor | None:
    """Flat indices whose magnitudes bracket the threshold: None (all of them) for a tensor
    of at most SAMPLE entries, else SAMPLE ascending indices, one drawn uniformly from each
    of SAMPLE equal strata (read in order; their count above any value varies no more than
    a uniform sample's)."""
    if numel <= SAMPLE:
        return None
    generator = torch.Generator().manual_seed(_SAMPLER_SEED)
    position = torch.arange(SAMPLE, dtype=torch.float64) + torch.rand(
        SAMPLE, dtype=torch.float64, generator=generator
    )
    return (position * (numel / SAMPLE)).long().clamp_(max=numel - 1)


def sorted_magnitudes(magnitudes: torch.Tensor) -> torch.Tensor:
    """A 1-d tensor of non-negative float32 magnitudes in ascending order, sorted as their
    int32 bits (which order them as the floats do, and sort faster than floats)."""
    return torch.sort(magnitudes.reshape(-1).view(torch.int32)).values.view(torch.float32)


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
    expected = keep / numel * SAMPLE  # sampled entries at or above the threshold, on average
    margin = SPREAD * math.sqrt(expected * (1 - keep / numel)) + 1
    above, at_or_above = math.floor(expected - margin), math.ceil(expected + margin)
    high = math.inf if above < 1 else float(ordered[SAMPLE - above])
    low = -math.inf if at_or_above > SAMPLE else float(ordered[SAMPLE - at_or_above])
    return Bracket(keep, low, high)


def settle(bracket: Bracket, above: int, values: torch.Tensor) -> torch.Tensor | None:
    """Which of some entries are kept (a bool mask over them), or None when the bracket
    missed.

    `values` are the magnitudes of entries in ascending flat-index order that include every
    entry in [low, high], and may include others; `above` counts the entries of the whole
    tensor above `high`.
    """
    over = values > bracket.high
    candidates = int((values >= bracket.low).sum()) - int(over.sum())
    need = bracket.keep - above
    if need < 0 or need > candidates:
        return None
    if need == 0:
        return over
    inside = values[(values >= bracket.low) & ~over]
    threshold = torch.kthvalue(inside, candidates - need + 1).values
    kept = values > threshold
    ties = torch.nonzero(values == threshold).reshape(-1)  # the lowest flat indices first
    kept[ties[: bracket.keep - above - (int(kept.sum()) - int(over.sum()))]] = True
    return kept


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
