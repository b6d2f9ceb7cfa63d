"""AB-MCTS experiment search on synthetic scored generators (no sandbox, no model)."""

from __future__ import annotations

import importlib.util
import random
import statistics
import threading

import numpy as np
import pytest

from scientist.errors import ConfigError
from scientist.experiments.search import Draft, tree_search

Attempt = tuple[float, float]  # (quality of the approach, polish of the details)


def two_model_world(seed: int) -> dict[str, Draft[Attempt]]:
    """Two simulated code models. The score of an attempt is approach x details.

    `strong` drafts a good approach 35 % of the time and polishes reliably; `weak` rarely
    finds a good approach and breaks the code 40 % of the time it edits it. Polishing never
    changes the approach, so a chain that starts from a poor approach stays poor.
    """
    rng = random.Random(seed)

    def approach(good_rate: float) -> float:
        return rng.uniform(0.8, 1.0) if rng.random() < good_rate else rng.uniform(0.1, 0.5)

    def strong(parent: Attempt | None) -> tuple[Attempt, float]:
        if parent is None:
            quality, polish = approach(0.35), 0.5
        else:
            quality, polish = parent[0], min(1.0, parent[1] + rng.uniform(0.1, 0.3))
        return (quality, polish), quality * polish

    def weak(parent: Attempt | None) -> tuple[Attempt, float]:
        if parent is None:
            quality, polish = approach(0.1), 0.4
        elif rng.random() < 0.4:
            quality, polish = parent[0], 0.0
        else:
            quality, polish = parent[0], min(1.0, parent[1] + rng.uniform(0.0, 0.1))
        return (quality, polish), quality * polish

    return {"strong": strong, "weak": weak}


def sequential_refinement(draft: Draft[Attempt], budget: int) -> float:
    """The linear baseline: one draft, then refine the latest attempt; best score seen."""
    state, best = draft(None)
    for _ in range(budget - 1):
        state, score = draft(state)
        best = max(best, score)
    return best


def test_abmcts_learns_the_better_model_and_beats_sequential_refinement() -> None:
    budget, problems = 32, 40
    tree_scores, chain_scores, strong_shares = [], [], []
    for problem in range(problems):
        outcome = tree_search(two_model_world(problem), budget, seed=problem)
        assert len(outcome.nodes) == budget
        tree_scores.append(outcome.best.score)
        strong_shares.append(outcome.expansions_by_arm().get("strong", 0) / budget)
        chain_scores.append(sequential_refinement(two_model_world(problem)["strong"], budget))

    # The better model gets most expansions, on average and on most problems.
    assert statistics.mean(strong_shares) > 0.65
    assert sum(share > 0.5 for share in strong_shares) >= 0.8 * problems
    # Tree search beats refining one chain with the better model, by a clear margin.
    gains = [tree - chain for tree, chain in zip(tree_scores, chain_scores, strict=True)]
    standard_error = statistics.stdev(gains) / problems**0.5
    assert statistics.mean(gains) > 3 * standard_error
    assert statistics.mean(gains) > 0.1
    assert sum(gain > 0 for gain in gains) > problems / 2


def test_nodes_record_arm_parent_and_the_state_each_arm_received() -> None:
    received: list[tuple[str, tuple[int, ...] | None]] = []

    def arm(name: str) -> Draft[tuple[int, ...]]:
        counter = iter(range(1000))

        def draft(parent: tuple[int, ...] | None) -> tuple[tuple[int, ...], float]:
            received.append((name, parent))
            state = (*(parent or ()), next(counter))
            return state, min(1.0, 0.2 * len(state))

        return draft

    outcome = tree_search({"a": arm("a"), "b": arm("b")}, 12, seed=3)
    assert [node.index for node in outcome.nodes] == list(range(12))
    for node, (arm_name, parent_state) in zip(outcome.nodes, received, strict=True):
        assert node.arm == arm_name
        if node.parent is None:
            assert parent_state is None
        else:
            assert node.parent < node.index
            assert parent_state == outcome.nodes[node.parent].state
    assert outcome.best.score == max(node.score for node in outcome.nodes)


def test_same_seed_same_search_whatever_the_arms_draw_from_numpy() -> None:
    def run(seed: int) -> list[tuple[str, int | None, tuple[float, float]]]:
        world = two_model_world(7)
        noisy = {name: noisy_draft(draft) for name, draft in world.items()}
        outcome = tree_search(noisy, 16, seed=seed)
        return [(node.arm, node.parent, node.state) for node in outcome.nodes]

    def noisy_draft(draft: Draft[Attempt]) -> Draft[Attempt]:
        def wrapped(parent: Attempt | None) -> tuple[Attempt, float]:
            np.random.random(int(np.random.randint(1, 5)))  # an experiment using numpy
            return draft(parent)

        return wrapped

    np.random.seed(123)
    expected_next = np.random.random()
    np.random.seed(123)
    tree_search(two_model_world(7), 16, seed=11)
    assert np.random.random() == expected_next  # the search's own draws leave numpy alone
    first = run(seed=11)
    assert run(seed=11) == first
    assert run(seed=12) != first
    np.random.seed(123)
    run(seed=11)
    assert np.random.random() != expected_next  # the arms' own draws still advance numpy


def test_parallel_expansions_run_concurrently_and_respect_the_budget() -> None:
    barrier = threading.Barrier(2, timeout=10)
    calls = []
    lock = threading.Lock()

    def draft(parent: int | None) -> tuple[int, float]:
        with lock:
            calls.append(parent)
            first_two = len(calls) <= 2
        if first_two:
            barrier.wait()  # raises BrokenBarrierError unless two drafts run at once
        return (parent or 0) + 1, 0.5

    outcome = tree_search({"only": draft}, 5, parallel=2, seed=0)
    assert len(outcome.nodes) == 5
    assert len(calls) == 5


def test_scores_outside_the_unit_interval_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"arm 'bad' returned score 1\.5"):
        tree_search({"bad": lambda parent: ("state", 1.5)}, 3)
    with pytest.raises(ValueError, match="nan"):
        tree_search({"bad": lambda parent: ("state", float("nan"))}, 3)


def test_an_arm_exception_propagates() -> None:
    def broken(parent: object) -> tuple[object, float]:
        raise RuntimeError("model unavailable")

    with pytest.raises(RuntimeError, match="model unavailable"):
        tree_search({"broken": broken}, 2)


def test_invalid_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="at least one arm"):
        tree_search({}, 3)
    with pytest.raises(ConfigError, match="budget"):
        tree_search({"a": lambda parent: (1, 0.5)}, 0)
    with pytest.raises(ConfigError, match="unknown search algorithm"):
        tree_search({"a": lambda parent: (1, 0.5)}, 1, algorithm="beam")  # type: ignore[arg-type]


@pytest.mark.skipif(importlib.util.find_spec("numpyro") is not None, reason="abmcts-m installed")
def test_abmcts_m_without_its_extra_says_how_to_install_it() -> None:
    with pytest.raises(ConfigError, match=r"treequest\[abmcts-m\]"):
        tree_search({"a": lambda parent: (1, 0.5)}, 1, algorithm="abmcts-m")
