"""Each eviction policy keeps exactly the tokens its rule names; caches stay in budget."""

from __future__ import annotations

import pytest
import torch
from namm_fixtures import kept, single_thread, view  # noqa: F401
from nammlib.inference import run_episode
from nammlib.policies import POLICIES, Namm, Policy, make_policy, select
from nammlib.scorer import ScorerSpec
from nammlib.world import ModelSpec, RecallLM, WorldSpec, make_batch


def evict(policy: Policy, v, budget: int, pairs: torch.Tensor | None = None) -> set[int]:
    pairs = pairs if pairs is not None else torch.zeros(1, 1, 2, dtype=torch.long)
    policy.start((1, 1, 1), v.end, pairs)
    return kept(select(policy.scores(v), v.alive, budget, policy.threshold))


def test_recency_keeps_sinks_and_the_newest_tokens() -> None:
    assert evict(make_policy("recency", 5, 0, sinks=2), view(10), 5) == {0, 1, 7, 8, 9}


def test_h2o_keeps_recent_window_and_heaviest_accumulated_attention() -> None:
    first = torch.zeros(1, 1, 1, 1, 10)
    first[..., [2, 5]] = torch.tensor([0.6, 0.4])
    second = torch.zeros(1, 1, 1, 1, 10)
    second[..., [5, 3]] = torch.tensor([0.5, 0.5])
    policy = make_policy("h2o", 4, 0)
    policy.start((1, 1, 1), 10, torch.zeros(1, 1, 2, dtype=torch.long))
    policy.scores(view(10, attention=first))  # accumulates: 2 -> .6, 5 -> .4
    scores = policy.scores(view(10, attention=second))  # 5 -> .9, 3 -> .5
    assert kept(select(scores, view(10).alive, 4, None)) == {5, 2, 8, 9}


def test_l2_keeps_lowest_key_norms_and_the_inverted_sign_keeps_highest() -> None:
    norms = torch.tensor([5.0, 1.0, 4.0, 0.5, 3.0, 2.0])
    keys = torch.zeros(1, 1, 1, 6, 4)
    keys[..., 0] = norms
    assert evict(make_policy("l2", 3, 0), view(6, keys=keys), 3) == {1, 3, 5}
    assert evict(make_policy("l2_inverted", 3, 0), view(6, keys=keys), 3) == {0, 2, 4}


def test_oracle_keeps_pair_tokens_then_the_most_recent() -> None:
    pairs = torch.tensor([[[1, 2], [4, 5]]])
    assert evict(make_policy("oracle", 6, 0), view(12), 6, pairs) == {1, 2, 4, 5, 10, 11}


def test_random_keeps_exactly_the_budget_and_depends_on_the_seed() -> None:
    picks = [evict(make_policy("random", 8, seed), view(40), 8) for seed in (0, 1)]
    assert all(len(p) == 8 for p in picks)
    assert picks[0] != picks[1]


def test_full_policy_keeps_everything() -> None:
    assert make_policy("full", 4, 0).scores(view(10)) is None


def test_select_with_threshold_evicts_negative_scores_and_caps_at_budget() -> None:
    scores = torch.tensor([3.0, -1.0, 0.0, 2.0, -0.5, 1.0]).view(1, 1, 1, 6)
    alive = torch.ones(1, 1, 1, 6, dtype=torch.bool)
    alive[..., 0] = False
    assert kept(select(scores, alive, 10, 0.0)) == {2, 3, 5}
    assert kept(select(scores, alive, 2, 0.0)) == {3, 5}


def test_unknown_policy_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown policy"):
        make_policy("lru", 4, 0)


@pytest.fixture(scope="module")
def tiny_world():
    torch.manual_seed(0)
    world = WorldSpec(context=48, n_pairs=4)
    model = RecallLM(world.vocab, ModelSpec(d_model=16, n_layers=2, n_heads=2)).eval()
    return model, make_batch(world, 6, torch.Generator().manual_seed(0))


def test_chunked_full_cache_matches_the_plain_forward_pass(tiny_world) -> None:
    model, batch = tiny_world
    result = run_episode(model, batch, Policy(), budget=48, n_up=8)
    with torch.no_grad():
        logits = model(batch.tokens)[:, batch.query_positions]
    torch.testing.assert_close(result.logits, logits, atol=1e-5, rtol=1e-5)
    assert result.retained == 1.0


@pytest.mark.parametrize("name", [p for p in POLICIES if p != "full"])
def test_cache_never_exceeds_the_budget(tiny_world, name: str) -> None:
    model, batch = tiny_world
    budget = 12
    spec = ScorerSpec()
    policy = (
        Namm(spec, torch.randn(spec.n_params, generator=torch.Generator().manual_seed(1)))
        if name == "namm"
        else make_policy(name, budget, 0)
    )
    result = run_episode(model, batch, policy, budget=budget, n_up=8)
    sizes = result.keep_mask.sum(-1)
    assert int(sizes.max()) <= budget
    if name != "namm":
        assert torch.all(sizes == budget)


def test_evicted_tokens_do_not_reach_the_queries(tiny_world) -> None:
    """In a one-layer model, changing tokens that were evicted leaves the query logits as they
    were, while changing a kept token moves them."""
    _, batch = tiny_world
    torch.manual_seed(1)
    model = RecallLM(WorldSpec(context=48).vocab, ModelSpec(d_model=16, n_layers=1, n_heads=2))

    def logits(tokens: torch.Tensor) -> torch.Tensor:
        altered = type(batch)(tokens, batch.pair_positions, batch.query_positions, batch.answers)
        policy = make_policy("recency", 8, 0, sinks=0)
        return run_episode(model.eval(), altered, policy, budget=8, n_up=8).logits

    reference = logits(batch.tokens)
    evicted, kept_token = batch.tokens.clone(), batch.tokens.clone()
    evicted[:, 10] = evicted[:, 11]  # position 10 (and 11's shifted input): long evicted
    kept_token[:, 44] = kept_token[:, 45]
    torch.testing.assert_close(logits(evicted), reference)
    assert not torch.allclose(logits(kept_token), reference)
