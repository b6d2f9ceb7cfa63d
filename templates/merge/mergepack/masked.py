"""TIES, DARE-TIES and DARE-linear of one tensor in one pass over its inputs.

Every input is read once and the merge written once. TIES trims by magnitude with
`selection`'s bracket: entries above `high` are kept during the pass, candidates in
[low, high] are listed, and once the exact threshold is known the entries of the listed
candidates are merged again and written over. DARE's masks come from `dropout`'s
counter-based stream, so they need no second look.

The pass itself runs in one of two ways with the same result, bit for bit: float32 tensors on
the CPU go through `fused`'s compiled loop (one read of each input and one write per
entry); other dtypes, CUDA tensors, and a CPU without numba go through the eager blocks
here, each block of the task vectors (float32, [sources, block]) masked, weighted and
combined while it sits in the cache (on CUDA one block is 2**24 entries).

The arithmetic is that of the straightforward definition, operation for operation in
float32: x_k = w_k * mask_k * delta_k; TIES elects sign(sum_k x_k) (>= 0 counts as +),
keeps the agreeing x_k and divides their sum by the sum of their weights (1 when that is 0).
DARE scales a kept entry by w_k / density_k.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from mergepack import fused
from mergepack.dropout import DropStream, keep_levels, stream_keys
from mergepack.selection import Bracket, bracket_for, exact_bracket, sample_index, settle

BLOCK = 1 << 15  # entries per source per block: the block's buffers stay in a CPU's L2 cache
CUDA_BLOCK = 1 << 24
_SIGN_BIT = -(1 << 31)


class _Inputs:
    """Flat views of a tensor's base and sources, with float32 task vectors at any indices."""

    def __init__(self, base: torch.Tensor, sources: Sequence[torch.Tensor], compiled: bool) -> None:
        self.base = base.reshape(-1)
        self.sources = [s.reshape(-1) for s in sources]
        self.compiled = compiled

    def deltas(self, index: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The float32 base and task vectors ([sources, len(index)]) at flat indices `index`
        (all for None)."""
        if index is not None and self.compiled:
            return fused.gather(self.base, self.sources, index)
        if index is None:
            base, sources = self.base, self.sources
        else:
            index = index.to(self.base.device)
            base = self.base.index_select(0, index)
            sources = [source.index_select(0, index) for source in self.sources]
        base = base.float()
        return base, torch.stack([source.float() - base for source in sources])


class _Scratch:
    """Float32 buffers of one block: [sources, size] task vectors, masks and work, [size]
    base, sum, divisor and spare."""

    def __init__(self, sources: int, size: int, device: torch.device) -> None:
        self.size = size
        self.delta, self.mask, self.work = (
            torch.empty(sources, size, device=device) for _ in range(3)
        )
        self.base, self.total, self.divisor, self.spare = (
            torch.empty(size, device=device) for _ in range(4)
        )

    def cut(self, size: int) -> _Scratch:
        view = object.__new__(_Scratch)
        view.size = size
        for name in ("delta", "mask", "work", "base", "total", "divisor", "spare"):
            setattr(view, name, getattr(self, name)[..., :size])
        return view


def _blocks(numel: int, scratch: _Scratch) -> Iterator[tuple[int, _Scratch]]:
    """(first flat index, scratch of the block's size) of each block."""
    for start in range(0, numel, scratch.size):
        size = min(scratch.size, numel - start)
        yield start, scratch if size == scratch.size else scratch.cut(size)


def _load(inputs: _Inputs, start: int, scratch: _Scratch) -> torch.Tensor:
    """The block's task vectors into scratch.delta; returns its float32 base."""
    end = start + scratch.size
    base = inputs.base[start:end]
    if base.dtype != torch.float32:
        base = scratch.base.copy_(base)
    for k, source in enumerate(inputs.sources):
        torch.sub(source[start:end], base, out=scratch.delta[k])
    return base


def _sum_rows(rows: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """The sum of `rows` ([sources, size]) into `out`, added in row order."""
    if rows.shape[0] == 1:
        out.copy_(rows[0])
    else:
        torch.add(rows[0], rows[1], out=out)
    for row in rows[2:]:
        out.add_(row)
    return out


def _combine(
    method: str, weighted: torch.Tensor, weights: Sequence[float], scratch: _Scratch
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Numerator and divisor (None for DARE-linear) of the merged task vector, from masked,
    weighted task vectors x_k ([sources, size], overwritten). `weights` are the plain
    per-source weights that TIES divides by."""
    total = scratch.total
    _sum_rows(weighted, total)
    if method == "dare_linear":
        return total, None
    # x_k agrees when it is not 0 and has the sign bit of the sum (a sum of -0 has only
    # zero terms, which agree with no sign), i.e. when x_k xor sign(sum) > 0
    elected = torch.bitwise_and(
        total.view(torch.int32), _SIGN_BIT, out=scratch.spare.view(torch.int32)
    )
    agree = scratch.mask.view(torch.int32)  # the masks are spent once the x_k are
    torch.bitwise_xor(weighted.view(torch.int32), elected, out=agree)
    agree = torch.gt(agree.view(torch.float32), 0, out=scratch.mask)
    weighted.mul_(agree)
    divisor = torch.mul(agree[0], weights[0], out=scratch.divisor)
    for agrees, weight in zip(agree[1:], weights[1:], strict=True):
        divisor.add_(agrees, alpha=weight)
    if min(weights) > 0:
        # a sum of positive weights is 0 only where none agrees, where the numerator is 0
        # too: any positive divisor, such as the smallest weight, leaves the base as it is
        divisor.clamp_(min=min(weights))
    else:
        divisor.add_(torch.eq(divisor, 0, out=scratch.spare))  # 1 where no weight agrees
    _sum_rows(weighted, total)
    return total, divisor


def _write(
    target: torch.Tensor,
    base: torch.Tensor,
    numerator: torch.Tensor,
    divisor: torch.Tensor | None,
    scratch: _Scratch,
) -> None:
    """target <- base + numerator / divisor, rounded to target's dtype."""
    result = target if target.dtype == torch.float32 else scratch.spare
    if divisor is None:
        torch.add(base, numerator, out=result)
    else:
        torch.addcdiv(base, numerator, divisor, out=result)
    if result is not target:
        target.copy_(result)


def _scales(method: str, weights: Sequence[float], densities: Sequence[float]) -> list[float]:
    """Per-source factors of a kept entry: w_k, or w_k / density_k for DARE."""
    if method == "ties":
        return list(weights)
    return [w / d if 0 < d < 1 else w for w, d in zip(weights, densities, strict=True)]


def masked_merge(
    method: str,
    base: torch.Tensor,
    sources: Sequence[torch.Tensor],
    weights: Sequence[float],
    densities: Sequence[float],
    generator: torch.Generator,
    out: torch.Tensor,
) -> torch.Tensor:
    """`out` <- the TIES / DARE-TIES / DARE-linear merge of `sources` onto `base`."""
    numel = base.numel()
    if numel == 0:
        return out
    device = base.device
    factors = _scales(method, weights, densities)
    compiled = fused.applies(base, sources, out)
    if compiled and method != "ties":
        keys = stream_keys(len(sources), generator)
        fused.dare(method, base, sources, keys, keep_levels(densities), weights, factors, out)
        return out
    inputs = _Inputs(base, sources, compiled)
    target = out.view(-1)
    size = min(numel, BLOCK if device.type == "cpu" else CUDA_BLOCK)
    scratch = None if compiled else _Scratch(len(sources), size, device)
    scales = torch.tensor(factors, device=device).reshape(-1, 1)
    if method == "ties":
        _ties(inputs, densities, scales, weights, scratch, target)
        return out
    stream = DropStream(densities, generator, scratch.size, device)
    for start, block in _blocks(numel, scratch):
        base_block = _load(inputs, start, block)
        keep = stream.keep(start, block.mask.view(torch.int32))
        block.delta.view(torch.int32).bitwise_and_(keep)  # dropped entries become +0
        weighted = block.delta.mul_(scales)
        numerator, divisor = _combine(method, weighted, weights, block)
        _write(target[start : start + block.size], base_block, numerator, divisor, block)
    return out


@dataclass
class _Candidates:
    """Entries that lie inside some source's bracket, in ascending flat-index order: their
    indices, float32 base values and task vectors ([sources, count])."""

    index: torch.Tensor
    base: torch.Tensor
    deltas: torch.Tensor


def _ties(
    inputs: _Inputs,
    densities: Sequence[float],
    scales: torch.Tensor,
    weights: Sequence[float],
    scratch: _Scratch | None,
    target: torch.Tensor,
) -> None:
    """TIES into `target`: by the compiled pass when `scratch` is None, else in eager blocks."""
    numel = target.numel()
    sample = inputs.deltas(sample_index(numel))[1].abs_()
    brackets = [bracket_for(row, numel, d) for row, d in zip(sample, densities, strict=True)]
    while True:
        if scratch is None:
            above, listed = fused.ties_pass(inputs.base, inputs.sources, brackets, weights, target)
            candidates = _Candidates(*listed)
        else:
            above, index = _trimmed_pass(inputs, brackets, scales, weights, scratch, target)
            candidates = _Candidates(index, *inputs.deltas(index))
        magnitudes = candidates.deltas.abs()
        kept = [
            settle(b, a, values) for b, a, values in zip(brackets, above, magnitudes, strict=True)
        ]
        missed = [k for k, chosen in enumerate(kept) if chosen is None]
        if not missed:
            break
        exact = inputs.deltas(None)[1].abs_()
        for k in missed:
            brackets[k] = exact_bracket(exact[k], brackets[k].keep)
    if scratch is None:
        fused.ties_rewrite(
            candidates.base, candidates.deltas, candidates.index, torch.stack(kept), weights, target
        )
    else:
        _rewrite(candidates, torch.stack(kept), scales, weights, target)


def _column(values: list[float], device: torch.device) -> torch.Tensor:
    return torch.tensor(values, device=device).reshape(-1, 1)


def _trimmed_pass(
    inputs: _Inputs,
    brackets: list[Bracket],
    scales: torch.Tensor,
    weights: Sequence[float],
    scratch: _Scratch,
    target: torch.Tensor,
) -> tuple[list[int], torch.Tensor]:
    """TIES with every candidate dropped, into target; per source, the count of entries
    above `high`; and the candidates' flat indices (entries inside any source's bracket,
    flagged in one bool per entry during the pass), ascending."""
    highs = _column([b.high for b in brackets], target.device)
    lows = _column([b.low for b in brackets], target.device)
    above = torch.zeros(len(brackets), dtype=torch.float64, device=target.device)
    counts = torch.empty(len(brackets), device=target.device)
    inside_any = torch.empty(target.numel(), dtype=torch.bool, device=target.device)
    for start, block in _blocks(target.numel(), scratch):
        base_block = _load(inputs, start, block)
        magnitude = torch.abs(block.delta, out=block.work)
        mask = torch.gt(magnitude, highs, out=block.mask)
        above.add_(torch.sum(mask, 1, out=counts))
        # a candidate is at or above some source's low but not above its high
        at_or_above_low = _sum_rows(torch.ge(magnitude, lows, out=magnitude), block.spare)
        torch.gt(
            at_or_above_low,
            _sum_rows(mask, block.total),
            out=inside_any[start : start + block.size],
        )
        weighted = block.delta.mul_(mask).mul_(scales)
        numerator, divisor = _combine("ties", weighted, weights, block)
        _write(target[start : start + block.size], base_block, numerator, divisor, block)
    return [int(count) for count in above.tolist()], torch.nonzero(inside_any).reshape(-1)


def _rewrite(
    candidates: _Candidates,
    kept: torch.Tensor,
    scales: torch.Tensor,
    weights: Sequence[float],
    target: torch.Tensor,
) -> None:
    """Merge the candidates again with the exact masks `kept` ([sources, count])."""
    count = candidates.index.numel()
    if count == 0:
        return
    scratch = _Scratch(len(kept), count, target.device)
    weighted = candidates.deltas.mul_(kept).mul_(scales)
    numerator, divisor = _combine("ties", weighted, weights, scratch)
    merged = torch.empty(count, dtype=target.dtype, device=target.device)
    _write(merged, candidates.base, numerator, divisor, scratch)
    target.index_copy_(0, candidates.index, merged)
