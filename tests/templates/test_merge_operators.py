"""Defining properties of the merge operators and genomes of the merge pack."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from merge_fixtures import PACK  # noqa: F401  (puts the pack on sys.path)
from mergepack.dropout import dare
from mergepack.evolve import DFSGenome, PSGenome
from mergepack.merging import (
    Recipe,
    group_of,
    linear,
    merge_state_dicts,
    parameter_groups,
    slerp,
)
from mergepack.model import ModelConfig, TinyLM
from mergepack.selection import magnitude_mask


@pytest.mark.parametrize("density", [0.1, 0.25, 0.5, 0.9])
def test_ties_trim_keeps_exactly_density_of_the_largest_entries(density):
    delta = torch.randn(37, 11, generator=torch.Generator().manual_seed(1))
    mask = magnitude_mask(delta, density)
    assert mask.sum().item() == int(density * delta.numel())
    assert delta[mask].abs().min() >= delta[~mask].abs().max()


def test_ties_elects_the_sign_of_the_weighted_sum_and_averages_agreeing_entries():
    base = {"w": torch.zeros(4)}
    sources = [
        {"w": torch.tensor([1.0, -2.0, 3.0, 2.0])},
        {"w": torch.tensor([-3.0, -1.0, 1.0, -2.0])},
    ]
    merged = merge_state_dicts(Recipe("ties", [1.0, 1.0], [1.0, 1.0]), base, sources)
    # entry 0: sum -2 -> negative wins, only -3 agrees; entry 1: both negative -> mean;
    # entry 3: the sum is 0, which elects +
    assert torch.equal(merged["w"], torch.tensor([-3.0, -1.5, 2.0, 2.0]))


def test_ties_with_one_source_adds_its_trimmed_task_vector():
    base = {"w": torch.zeros(100)}
    source = {"w": torch.linspace(-1, 1, 100)}
    merged = merge_state_dicts(Recipe("ties", [0.7], [0.3]), base, [source])
    kept = merged["w"] != 0
    assert kept.sum() == 30
    assert torch.allclose(merged["w"][kept], source["w"][kept])


def test_dare_is_unbiased_in_expectation_and_drops_the_right_fraction():
    delta = torch.randn(2000, generator=torch.Generator().manual_seed(0))
    generator = torch.Generator().manual_seed(1)
    draws = torch.stack([dare(delta, 0.3, generator) for _ in range(400)])
    assert abs((draws[0] == 0).float().mean().item() - 0.7) < 0.04
    standard_error = delta.abs() * math.sqrt((1 / 0.3 - 1) / len(draws))
    assert ((draws.mean(0) - delta).abs() <= 5 * standard_error + 1e-6).all()


def test_dare_with_a_fixed_seed_is_deterministic():
    delta = torch.randn(500)
    first = dare(delta, 0.5, torch.Generator().manual_seed(3))
    second = dare(delta, 0.5, torch.Generator().manual_seed(3))
    assert torch.equal(first, second)


def test_slerp_endpoints_norm_and_collinear_fallback():
    v0, v1 = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    assert torch.allclose(slerp(0.0, v0, v1), v0)
    assert torch.allclose(slerp(1.0, v0, v1), v1)
    middle = slerp(0.5, v0, v1)
    assert math.isclose(middle.norm().item(), 1.0, rel_tol=1e-6)
    assert torch.allclose(middle, torch.tensor([1.0, 1.0, 0.0]) / math.sqrt(2))
    assert torch.allclose(slerp(0.25, v0, 3 * v0), 0.75 * v0 + 0.25 * 3 * v0)


def test_linear_normalises_by_the_weight_sum():
    a, b = torch.full((4,), 2.0), torch.full((4,), 6.0)
    assert torch.allclose(linear([a, b], [1.0, 1.0]), torch.full((4,), 4.0))
    assert torch.allclose(linear([a, b], [3.0, 3.0]), torch.full((4,), 4.0))
    assert torch.allclose(linear([a, b], [3.0, 1.0]), torch.full((4,), 3.0))


def test_task_arithmetic_adds_weighted_task_vectors_to_the_base():
    base, a, b = {"w": torch.ones(3)}, {"w": torch.full((3,), 2.0)}, {"w": torch.full((3,), 4.0)}
    merged = merge_state_dicts(Recipe("task_arithmetic", [0.5, -1.0]), base, [a, b])
    assert torch.allclose(merged["w"], torch.full((3,), 1 + 0.5 * 1 - 1.0 * 3))


def test_per_group_weights_apply_only_to_their_group():
    base = {"blocks.0.fc.weight": torch.zeros(2), "head_concept": torch.zeros(2)}
    source = {"blocks.0.fc.weight": torch.ones(2), "head_concept": torch.ones(2)}
    recipe = Recipe("task_arithmetic", [1.0], weights={"block0": [2.0]})
    merged = merge_state_dicts(recipe, base, [source])
    assert merged["blocks.0.fc.weight"].tolist() == [2.0, 2.0]
    assert merged["head_concept"].tolist() == [1.0, 1.0]


def test_parameter_groups_of_tiny_lm_and_llama_names():
    names = list(TinyLM(ModelConfig(n_layers=3)).state_dict())
    assert parameter_groups(names) == ["embed", "block0", "block1", "block2", "head"]
    assert group_of("model.layers.11.self_attn.q_proj.weight") == "block11"
    assert group_of("model.embed_tokens.weight") == "embed"
    assert group_of("lm_head.weight") == "head"
    assert group_of("model.norm.weight") == "head"


def test_merging_identical_models_returns_the_model_for_every_method():
    state = TinyLM(ModelConfig()).state_dict()
    base = TinyLM(ModelConfig()).state_dict()
    for method in ("linear", "ties", "dare_ties", "slerp"):
        merged = merge_state_dicts(Recipe(method, [0.5, 0.5], [1.0, 1.0]), base, [state, state])
        for name, tensor in state.items():
            assert torch.allclose(merged[name], tensor, atol=1e-6), (method, name)


def test_ps_genome_round_trips_a_uniform_recipe_within_bounds():
    genome = PSGenome("dare_ties", ["embed", "block0", "head"], 2, (-0.5, 2.0), (0.1, 1.0))
    recipe = genome.decode(genome.encode(1.0, 0.5))
    assert genome.size == 12
    assert all(np.allclose(w, [1.0, 1.0]) for w in recipe.weights.values())
    assert all(np.allclose(d, [0.5, 0.5]) for d in recipe.densities.values())
    low = genome.decode(np.zeros(genome.size))
    assert low.weights["embed"] == [-0.5, -0.5] and low.densities["head"] == [0.1, 0.1]


def test_dfs_genome_starts_on_the_initial_path_with_unit_scales():
    genome = DFSGenome([(0, 0), (0, 1), (1, 0), (1, 1)], repeats=2)
    path, scales = genome.decode(genome.encode([2, 3]))
    assert path == [2, 3] and np.allclose(scales, [1.0, 1.0])
    x = genome.encode([0, 3, 5])
    x[genome.n_slots + 0 * 4 + 3] = 0.25  # W[0 -> 3]: crossing from model 0 to model 1
    path, scales = genome.decode(x)
    assert path == [0, 3, 1] and np.allclose(scales, [1.0, 0.5, 1.0])


@pytest.mark.parametrize("method", ["linear", "task_arithmetic", "ties", "dare_ties"])
def test_merging_into_existing_tensors_equals_a_fresh_merge(method):
    generator = torch.Generator().manual_seed(4)
    states = [{"w": torch.randn(2, 40_000, generator=generator)} for _ in range(3)]  # 2 blocks
    recipe = Recipe(method, [0.7, 0.4], [0.5, 0.5])
    fresh = merge_state_dicts(recipe, states[0], states[1:], seed=2)
    target = {"w": torch.zeros(2, 40_000)}
    storage = target["w"].data_ptr()
    merged = merge_state_dicts(recipe, states[0], states[1:], seed=2, out=target)
    assert torch.allclose(merged["w"], fresh["w"], atol=1e-6)
    assert target["w"].data_ptr() == storage and torch.equal(target["w"], merged["w"])
