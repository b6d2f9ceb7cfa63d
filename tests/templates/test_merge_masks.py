"""The fast TIES trim and DARE drop masks against straightforward references kept here.

Float32 merges on the CPU run in `fused`'s compiled loop; the `path` fixture runs them
through `masked`'s eager blocks as well (the CUDA path, and the CPU path for other dtypes).

TIES: the reference keeps the first k entries of a stable descending sort of the
magnitudes (ties at the threshold: lowest flat index first). DARE: the reference hashes
each index with the lowbias32 finaliser in numpy's unsigned 32-bit arithmetic. Inputs are
quantised so that many entries tie at the threshold; every count of differences must be 0.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from merge_fixtures import PACK  # noqa: F401  (puts the pack on sys.path)
from mergepack import fused, masked, selection
from mergepack.dropout import DRAW_LEVELS, DropStream, keep_levels
from mergepack.merging import Recipe, merge_state_dicts
from mergepack.selection import magnitude_mask

DTYPES = (torch.float32, torch.bfloat16)
DENSITIES = (0.01, 0.3, 0.5, 0.9)


@pytest.fixture(params=["compiled", "eager"])
def path(request, monkeypatch) -> str:
    if request.param == "eager":
        monkeypatch.setattr(fused, "AVAILABLE", False)
    else:
        assert fused.AVAILABLE, "numba is a requirement of the merge pack"
    return request.param


def reference_trim(delta: torch.Tensor, density: float) -> torch.Tensor:
    magnitudes = delta.abs().reshape(-1).float()
    keep = (
        0
        if density <= 0
        else len(magnitudes)
        if density >= 1
        else max(1, int(density * len(magnitudes)))
    )
    order = torch.sort(magnitudes, descending=True, stable=True).indices
    mask = torch.zeros(len(magnitudes), dtype=torch.bool)
    mask[order[:keep]] = True
    return mask.reshape(delta.shape)


def reference_draws(offset: int, multiplier: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """High and low 16 bits of lowbias32(offset + i * multiplier), i < count."""
    with np.errstate(over="ignore"):
        x = np.uint32(offset) + np.arange(count, dtype=np.uint32) * np.uint32(multiplier)
        x ^= x >> np.uint32(16)
        x *= np.uint32(0x7FEB352D)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x846CA68B)
        x ^= x >> np.uint32(16)
    return x >> np.uint32(16), x & np.uint32(0xFFFF)


def reference_merge(method, base, sources, weights, densities, masks) -> torch.Tensor:
    """The operator's definition, entry by entry in float32, given the masks."""
    scales = (
        weights
        if method == "ties"
        else [w / d if 0 < d < 1 else w for w, d in zip(weights, densities, strict=True)]
    )
    weighted = torch.stack(
        [(s.float() - base.float()) * m * c for s, m, c in zip(sources, masks, scales, strict=True)]
    )
    if method == "dare_linear":
        return (base.float() + weighted.sum(0)).to(base.dtype)
    elected = torch.where(weighted.sum(0) >= 0, 1.0, -1.0)
    agree = weighted.sign() == elected
    w = torch.tensor(weights).reshape(-1, *([1] * base.dim()))
    divisor = (w * agree).sum(0)
    divisor[divisor == 0] = 1
    return (base.float() + (weighted * agree).sum(0) / divisor).to(base.dtype)


def tied_family(shape, dtype, seed: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """A base and two sources whose task vectors take few distinct values (many ties)."""
    generator = torch.Generator().manual_seed(seed)
    base = torch.randn(shape, generator=generator).to(dtype)
    sources = [
        (base.float() + torch.randint(-6, 7, shape, generator=generator) / 64).to(dtype)
        for _ in range(2)
    ]
    return base, sources


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("numel", [1000, 300_007])  # solved exactly / bracketed by a sample
def test_trim_masks_equal_the_sorting_reference(dtype, numel):
    base, sources = tied_family((numel,), dtype, seed=numel)
    differences = 0
    for density in DENSITIES:
        delta = sources[0].float() - base.float()
        differences += int((magnitude_mask(delta, density) != reference_trim(delta, density)).sum())
    assert differences == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weights", [[0.7, 0.4], [1.0, -1.0], [0.5, 0.5]])
def test_ties_merge_equals_the_reference_with_reference_masks(dtype, weights, path):
    base, sources = tied_family((3, 70_001), dtype, seed=1)
    differences = 0
    for densities in ([0.5, 0.5], [0.1, 0.9], [1.0, 0.2], [0.0, 0.7]):
        merged = merge_state_dicts(
            Recipe("ties", weights, densities), {"w": base}, [{"w": s} for s in sources]
        )
        masks = [
            reference_trim(s.float() - base.float(), d)
            for s, d in zip(sources, densities, strict=True)
        ]
        expected = reference_merge("ties", base, sources, weights, densities, masks)
        differences += int((merged["w"] != expected).sum())
    assert differences == 0


def test_a_sample_that_misses_the_threshold_falls_back_to_the_exact_one(monkeypatch, path):
    monkeypatch.setattr(selection, "SPREAD", -8.0)  # brackets that exclude the threshold
    base, sources = tied_family((200_003,), torch.float32, seed=2)
    delta = sources[1] - base
    assert torch.equal(magnitude_mask(delta, 0.4), reference_trim(delta, 0.4))
    merged = merge_state_dicts(
        Recipe("ties", [0.6, 0.9], [0.4, 0.7]), {"w": base}, [{"w": s} for s in sources]
    )
    masks = [reference_trim(s - base, d) for s, d in zip(sources, (0.4, 0.7), strict=True)]
    expected = reference_merge("ties", base, sources, [0.6, 0.9], [0.4, 0.7], masks)
    assert int((merged["w"] != expected).sum()) == 0


def test_drop_masks_equal_the_hash_reference_in_every_block():
    densities = [0.3, 0.75, 0.5]  # three sources: two hash pairs, the second one half used
    stream = DropStream(densities, torch.Generator().manual_seed(5), 4096, torch.device("cpu"))
    levels = keep_levels(densities)
    assert levels == [round(d * DRAW_LEVELS) for d in densities]
    numel, start = 10_000, 0
    draws = [
        reference_draws(o, m, numel)
        for o, m in zip(stream.offsets, stream.multipliers, strict=True)
    ]
    expected = (
        np.stack([draws[0][0], draws[0][1], draws[1][0]])
        < np.array(levels, dtype=np.uint32)[:, None]
    )
    differences = 0
    while start < numel:
        size = min(4096, numel - start)
        keep = stream.keep(start, torch.empty(3, size, dtype=torch.int32)).numpy().astype(bool)
        differences += int((keep != expected[:, start : start + size]).sum())
        start += size
    assert differences == 0
    assert abs(expected.mean(1) - np.array(densities)).max() < 0.02


@pytest.mark.parametrize("weights", [[0.8, -0.3], [0.6, 0.9]])  # a negative weight, or none
@pytest.mark.parametrize("method", ["dare_ties", "dare_linear"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dare_merges_equal_the_reference_with_reference_masks(method, dtype, weights, path):
    base, sources = tied_family((2, 50_001), dtype, seed=3)
    densities = [0.35, 0.6]
    merged = merge_state_dicts(
        Recipe(method, weights, densities), {"w": base}, [{"w": s} for s in sources], seed=7
    )
    offset, multiplier = torch.randint(
        0, 1 << 32, (1, 2), generator=torch.Generator().manual_seed(7)
    )[0].tolist()
    high, low = reference_draws(offset, multiplier | 1, base.numel())
    masks = [
        torch.from_numpy((draw < level).reshape(base.shape))
        for draw, level in zip((high, low), keep_levels(densities), strict=True)
    ]
    expected = reference_merge(method, base, sources, weights, densities, masks)
    assert int((merged["w"] != expected).sum()) == 0


@pytest.mark.parametrize("method", ["ties", "dare_ties", "dare_linear"])
def test_the_block_size_does_not_change_the_merge(method, monkeypatch):
    monkeypatch.setattr(fused, "AVAILABLE", False)  # the eager blocks
    base, sources = tied_family((123_457,), torch.float32, seed=4)
    recipe = Recipe(method, [0.7, 0.5], [0.4, 0.6])
    states = ({"w": base}, [{"w": s} for s in sources])
    whole = merge_state_dicts(recipe, *states, seed=1)["w"]
    monkeypatch.setattr(masked, "BLOCK", 1000)
    assert torch.equal(merge_state_dicts(recipe, *states, seed=1)["w"], whole)


@pytest.mark.parametrize("method", ["ties", "dare_ties", "dare_linear"])
@pytest.mark.parametrize("sources", [1, 3, 4])
def test_the_compiled_loop_and_the_eager_blocks_merge_alike(method, sources, monkeypatch):
    """Any number of sources, a negative weight, densities of 0 and 1: bit for bit."""
    generator = torch.Generator().manual_seed(sources)
    base = torch.randn(2, 40_009, generator=generator)
    tensors = [
        base + torch.randint(-6, 7, base.shape, generator=generator) / 64 for _ in range(sources)
    ]
    weights = [0.9, -0.4, 0.5, 0.3][:sources]
    densities = [0.45, 1.0, 0.0, 0.7][:sources]
    recipe = Recipe(method, weights, densities)
    states = ({"w": base}, [{"w": t} for t in tensors])
    assert fused.applies(base, tensors, base)
    compiled = merge_state_dicts(recipe, *states, seed=11)["w"]
    monkeypatch.setattr(fused, "AVAILABLE", False)
    assert not fused.applies(base, tensors, base)
    eager = merge_state_dicts(recipe, *states, seed=11)["w"]
    assert torch.equal(compiled.view(torch.int32), eager.view(torch.int32))
