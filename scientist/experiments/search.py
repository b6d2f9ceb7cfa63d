"""Adaptive-branching tree search (AB-MCTS, via treequest) over scored states.

The search is generic: each *arm* is a function `draft(parent) -> (state, score)` with the
score in [0, 1]. `draft(None)` goes wider (a fresh attempt from scratch); `draft(state)`
goes deeper (improves or repairs that state). With several arms, typically one per model,
AB-MCTS also learns which arm to ask: Thompson sampling over each arm's observed scores.
`search_code.py` builds the arms for experiment code from the research loop's functions.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

import numpy as np

from scientist.errors import ConfigError

if TYPE_CHECKING:
    import treequest

S = TypeVar("S")
Draft = Callable[[S | None], tuple[S, float]]
SearchAlgorithm = Literal["abmcts-a", "abmcts-m"]


@dataclass(frozen=True)
class SearchNode(Generic[S]):
    """One expansion: the state an arm produced, its score, and where it hangs in the tree."""

    index: int
    state: S
    score: float
    arm: str
    parent: int | None = None


@dataclass
class SearchOutcome(Generic[S]):
    """Every node in expansion order; `best` is the highest-scoring one (earliest on ties)."""

    nodes: list[SearchNode[S]] = field(default_factory=list)

    @property
    def best(self) -> SearchNode[S]:
        if not self.nodes:
            raise ValueError("the search expanded no nodes")
        return max(self.nodes, key=lambda node: (node.score, -node.index))

    def expansions_by_arm(self) -> dict[str, int]:
        return dict(Counter(node.arm for node in self.nodes))


def _make_algorithm(algorithm: SearchAlgorithm) -> treequest.Algorithm:
    import treequest  # imported on first use: it takes seconds (scipy and friends)

    if algorithm == "abmcts-a":
        return treequest.ABMCTSA()
    if algorithm == "abmcts-m":
        try:
            return treequest.ABMCTSM()
        except ImportError:
            raise ConfigError(
                "the abmcts-m search needs jax, numpyro and pymc",
                hint="pip install 'treequest[abmcts-m]==0.3.3', or use abmcts-a",
            ) from None
    raise ConfigError(f"unknown search algorithm '{algorithm}': use abmcts-a or abmcts-m")


class _NumpyStream:
    """treequest samples from numpy's global generator. Each search gets its own seeded stream,
    swapped in only while treequest chooses the next expansions, so concurrent searches (and
    the experiments running meanwhile) neither disturb nor depend on each other's draws."""

    _swap = threading.Lock()

    def __init__(self, seed: int) -> None:
        self._state = np.random.RandomState(seed).get_state()

    @contextmanager
    def active(self) -> Iterator[None]:
        with self._swap:
            saved = np.random.get_state()
            np.random.set_state(self._state)
            try:
                yield
            finally:
                self._state = np.random.get_state()
                np.random.set_state(saved)


def _checked(score: float, arm: str) -> float:
    if not (math.isfinite(score) and 0.0 <= score <= 1.0):
        raise ValueError(f"arm '{arm}' returned score {score!r}; scores must lie in [0, 1]")
    return float(score)


def tree_search(
    arms: Mapping[str, Draft[S]],
    budget: int,
    *,
    parallel: int = 1,
    algorithm: SearchAlgorithm = "abmcts-a",
    seed: int = 0,
) -> SearchOutcome[S]:
    """Expand `budget` nodes with AB-MCTS and return them all.

    With `parallel > 1`, up to that many expansions are chosen at once (treequest's
    `ask_batch`) and their drafts run in threads, so the arms must be thread-safe.
    Exceptions raised by an arm propagate (after the running batch finishes).
    """
    if not arms:
        raise ConfigError("tree search needs at least one arm (a model in the 'code' role)")
    if budget < 1 or parallel < 1:
        raise ConfigError("tree search needs budget >= 1 and parallel >= 1")
    searcher = _make_algorithm(algorithm)
    actions = list(arms)
    outcome: SearchOutcome[S] = SearchOutcome()
    stream = _NumpyStream(seed)
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        tree = searcher.init_tree()
        while len(outcome.nodes) < budget:
            batch = min(parallel, budget - len(outcome.nodes))
            with stream.active():
                tree, trials = searcher.ask_batch(tree, batch, actions)
            futures = [pool.submit(arms[trial.action], trial.parent_state) for trial in trials]
            results = [future.result() for future in futures]
            for trial, (state, score) in zip(trials, results, strict=True):
                score = _checked(score, trial.action)
                tree = searcher.tell(tree, trial.trial_id, (state, score))
                # Every tell adds one node, so our index equals treequest's expand_idx
                # (the root is -1).
                parent = trial.node_to_expand if trial.node_to_expand >= 0 else None
                outcome.nodes.append(
                    SearchNode(len(outcome.nodes), state, score, trial.action, parent)
                )
    return outcome
