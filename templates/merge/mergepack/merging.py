"""Merge operators on state dicts of one architecture (TinyLM or any `transformers` model).

Conventions follow mergekit so results can be checked against it: ``linear`` normalises by
the weight sum; ``task_arithmetic`` adds the weighted task vectors to the base; ``ties`` trims
each task vector to its top-``density`` magnitudes (ties at the threshold keep the lowest
flat indices; `selection`), elects a sign per entry from the weighted sum, and averages the
agreeing entries by their weights; ``dare_*`` drops task-vector entries at random (a seeded
counter-based stream; `dropout`) and rescales the survivors by 1/density so the merge is
unbiased in expectation (both run block by block in `masked`); ``slerp`` interpolates two
flattened tensors on the sphere and falls back to linear interpolation when they are nearly
collinear.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from mergepack.masked import masked_merge

StateDict = dict[str, torch.Tensor]
METHODS = ("linear", "task_arithmetic", "ties", "dare_ties", "dare_linear", "slerp")
_BLOCK = re.compile(r"(?:^|\.)(?:layers|blocks|h)\.(\d+)\.")


def group_of(name: str) -> str:
    """Parameter group of a tensor name: 'embed', 'block<i>' or 'head'."""
    match = _BLOCK.search(name)
    if match:
        return f"block{int(match.group(1))}"
    if "emb" in name or "wte" in name or "wpe" in name:
        return "embed"
    return "head"


def parameter_groups(names: Sequence[str]) -> list[str]:
    """Groups in network order: embed, block0, block1, ..., head."""
    present = {group_of(n) for n in names}
    blocks = sorted((g for g in present if g.startswith("block")), key=lambda g: int(g[5:]))
    return [g for g in ("embed", *blocks, "head") if g in present]


BLOCK = 1 << 16  # float32 entries per block (256 KiB): partial sums stay in the CPU cache


def weighted_sum(
    tensors: Sequence[torch.Tensor], coefficients: Sequence[float], out: torch.Tensor
) -> torch.Tensor:
    """out <- sum_k c_k t_k, accumulated in float32 whatever the dtypes.

    On a CPU the sum runs block by block through a small float32 buffer, so each input is
    read once and `out` written once (the memory-bandwidth bound), instead of re-reading a
    partial sum per input.
    """
    flat_out = out.view(-1)
    flats = [t.reshape(-1) for t in tensors]
    step = BLOCK if out.device.type == "cpu" else max(1, flat_out.numel())
    direct = out.dtype == torch.float32  # else accumulate in a float32 buffer, then cast
    buffer = None if direct else torch.empty(min(step, out.numel()), device=out.device)
    for start in range(0, flat_out.numel(), step):
        size = min(step, flat_out.numel() - start)
        block = flat_out[start : start + size] if buffer is None else buffer[:size]
        torch.mul(flats[0][start : start + size], coefficients[0], out=block)
        for flat, coefficient in zip(flats[1:], coefficients[1:], strict=True):
            block.add_(flat[start : start + size], alpha=coefficient)
        if buffer is not None:
            flat_out[start : start + size].copy_(block)
    return out


def linear(
    tensors: Sequence[torch.Tensor], weights: Sequence[float], out: torch.Tensor | None = None
) -> torch.Tensor:
    total = sum(weights)
    if abs(total) < 1e-8:
        total = 1.0
    target = torch.empty_like(tensors[0]) if out is None else out
    return weighted_sum(tensors, [w / total for w in weights], target)


def task_arithmetic(
    base: torch.Tensor,
    sources: Sequence[torch.Tensor],
    weights: Sequence[float],
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """base + sum_k w_k (source_k - base), as (1 - sum w) base + sum_k w_k source_k."""
    target = torch.empty_like(base) if out is None else out
    return weighted_sum([base, *sources], [1.0 - sum(weights), *weights], target)


def slerp(t: float, v0: torch.Tensor, v1: torch.Tensor, threshold: float = 0.9995) -> torch.Tensor:
    a, b = v0.reshape(-1).float(), v1.reshape(-1).float()
    na, nb = a.norm().clamp_min(1e-8), b.norm().clamp_min(1e-8)
    dot = float(((a / na) * (b / nb)).sum().clamp(-1, 1))
    if abs(dot) > threshold:
        out = (1 - t) * a + t * b
    else:
        theta = math.acos(dot)
        out = (math.sin((1 - t) * theta) * a + math.sin(t * theta) * b) / math.sin(theta)
    return out.reshape(v0.shape).to(v0.dtype)


def merge_tensor(
    method: str,
    base: torch.Tensor,
    sources: Sequence[torch.Tensor],
    weights: Sequence[float],
    densities: Sequence[float],
    generator: torch.Generator,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """The merged tensor; written into `out` when given (slerp copies its result in, the
    other operators write it directly)."""
    if method == "linear":
        return linear(sources, weights, out)
    if method == "task_arithmetic":
        return task_arithmetic(base, sources, weights, out)
    if method == "slerp":
        if len(sources) != 2:
            raise ValueError("slerp merges exactly two models")
        merged = slerp(weights[1], sources[0], sources[1])
        return merged if out is None else out.copy_(merged)
    if method not in ("ties", "dare_ties", "dare_linear"):
        raise ValueError(f"unknown merge method '{method}' (known: {', '.join(METHODS)})")
    target = torch.empty_like(base, memory_format=torch.contiguous_format) if out is None else out
    return masked_merge(method, base, sources, weights, densities, generator, target)


@dataclass
class Recipe:
    """A merge: method plus per-group, per-source weights and densities.

    `weights[group][k]` / `densities[group][k]` apply to source k in that group; groups not
    listed use `default_weights` / `default_densities`.
    """

    method: str
    default_weights: list[float]
    default_densities: list[float] | None = None
    weights: dict[str, list[float]] = field(default_factory=dict)
    densities: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown merge method '{self.method}' (known: {', '.join(METHODS)})")
        if self.default_densities is None:
            self.default_densities = [1.0] * len(self.default_weights)

    def weights_for(self, group: str) -> list[float]:
        return self.weights.get(group, self.default_weights)

    def densities_for(self, group: str) -> list[float]:
        return self.densities.get(group, self.default_densities or [])


@torch.no_grad()
def merge_state_dicts(
    recipe: Recipe,
    base: StateDict | None,
    sources: Sequence[StateDict],
    seed: int = 0,
    out: StateDict | None = None,
) -> StateDict:
    """Merge `sources` (task vectors against `base` where the method needs one) in memory.

    With `out` (e.g. a resident model's `state_dict()`, whose tensors share the parameters'
    storage) the merge is written into its tensors: no new model-sized allocation and no
    separate load.
    """
    needs_base = recipe.method not in ("linear", "slerp")
    if needs_base and base is None:
        raise ValueError(f"merge method '{recipe.method}' needs a base model")
    generator = torch.Generator().manual_seed(seed)
    merged: StateDict = {}
    for name in sorted(sources[0]):
        tensors = [s[name] for s in sources]
        target = None if out is None else out[name]
        if not tensors[0].is_floating_point():
            merged[name] = tensors[0].clone() if target is None else target.copy_(tensors[0])
            continue
        group = group_of(name)
        anchor = base[name] if base is not None else tensors[0]
        merged[name] = merge_tensor(
            recipe.method,
            anchor,
            tensors,
            recipe.weights_for(group),
            recipe.densities_for(group),
            generator,
            target,
        )
    return merged
