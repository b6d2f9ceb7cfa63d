"""SnapKV and PyramidKV: scores from the observation window, pooling, per-layer budgets."""

from __future__ import annotations

import pytest
import torch
from namm_fixtures import kept, single_thread, tiny_llama, view  # noqa: F401
from nammlib.hf_eviction import EvictingGenerator
from nammlib.policies import SnapKV, make_policy, per_layer, pyramid_budgets, select


def window_attention(end: int, queries: int, targets: dict[int, float]) -> torch.Tensor:
    """(1, 1, 1, queries, end): every query spreads 0.01 over all tokens, the last four put
    `targets`' weights on their tokens, and the first (outside the window) puts 5 on token 0."""
    attention = torch.full((1, 1, 1, queries, end), 0.01)
    for token, weight in targets.items():
        attention[..., -4:, token] = weight
    attention[..., 0, 0] = 5.0
    return attention


def test_snapkv_keeps_the_window_and_the_pooled_neighbours_of_what_it_attends() -> None:
    attention = window_attention(20, 8, {5: 0.5, 12: 0.3})
    policy = SnapKV(window=4, kernel=3)
    scores = policy.scores(view(20, attention=attention))
    window = {16, 17, 18, 19}
    # avg pooling over 3 keys: tokens 4, 5, 6 all share token 5's weight, above 11..13
    assert kept(select(scores, view(20).alive, 7, None)) == window | {4, 5, 6}
    assert kept(select(scores, view(20).alive, 10, None)) == window | {4, 5, 6, 11, 12, 13}
    # without pooling only the attended tokens stand out; query 0's 5.0 is outside the window
    unpooled = SnapKV(window=4, kernel=1).scores(view(20, attention=attention))
    assert kept(select(unpooled, view(20).alive, 6, None)) == window | {5, 12}


def test_snapkv_max_pooling_takes_the_largest_neighbour() -> None:
    attention = window_attention(20, 8, {5: 0.5, 7: 0.4})
    scores = SnapKV(window=4, kernel=3, pooling="max").scores(view(20, attention=attention))
    assert scores[0, 0, 0, 6].item() == pytest.approx(4 * 0.5)  # max(a5, a6, a7) over 4 queries
    assert scores[0, 0, 0, 8].item() == pytest.approx(4 * 0.4)
    with pytest.raises(ValueError, match="odd kernel"):
        SnapKV(kernel=4)


def test_pyramid_budgets_fall_linearly_and_keep_the_uniform_total() -> None:
    budgets = pyramid_budgets(100, 30)
    assert sum(budgets) == 30 * 100
    assert budgets == sorted(budgets, reverse=True) and budgets[0] > 100 > budgets[-1]
    steps = {budgets[k] - budgets[k + 1] for k in range(1, 29)}
    assert max(steps) - min(steps) <= 1  # linear up to rounding
    assert pyramid_budgets(50, 1) == [50]
    assert sum(pyramid_budgets(7, 4)) == 28


def test_pyramidkv_cuts_each_layer_of_a_real_cache_to_its_own_budget() -> None:
    llama = tiny_llama()
    prompt = torch.randint(96, (1, 40), generator=torch.Generator().manual_seed(0))
    make = per_layer("pyramidkv", 16, 0, 4, n_layers=2)
    runner = EvictingGenerator(llama, make, 16, n_up=64, capacity=41)
    runner.generate(prompt, 1)
    lengths = [layer.keys.shape[-2] for layer in runner.cache.layers]
    assert lengths == pyramid_budgets(16, 2) == [30, 2]
    # the factory starts again at the lowest layer for the next prompt
    runner.generate(prompt, 1)
    assert [layer.keys.shape[-2] for layer in runner.cache.layers] == [30, 2]
    assert make_policy("pyramidkv", 16, 0, layer=1, n_layers=2).layer_budget == 2
