"""CMA-ES over merge recipes: parameter space (PS) and data-flow space (DFS).

PS genome: per parameter group and per source, a weight (and a density for operators that
trim or drop). DFS genome: an indicator per slot of the repeated layer sequence of all models
(a slot is on iff its value > 0) plus a scaling matrix W[i, j] applied to the hidden state
entering layer j right after layer i (layers of different models meet there). Every candidate
is merged and scored in memory; nothing is written to disk.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cma
import numpy as np

from mergepack.merging import Recipe

Fitness = Callable[[np.ndarray], float]


@dataclass
class SearchResult:
    best: np.ndarray
    best_fitness: float
    history: list[dict[str, float]] = field(default_factory=list)
    evaluations: int = 0


def cma_search(
    fitness: Fitness,
    x0: np.ndarray,
    population: int,
    generations: int,
    seed: int,
    sigma0: float = 0.2,
    log: Callable[[str], None] = print,
    name: str = "search",
) -> SearchResult:
    """Maximise `fitness` over the unit box [0, 1]^n with CMA-ES; keep the best ever seen."""
    options = {
        "popsize": max(2, population),
        "bounds": [0.0, 1.0],
        "seed": seed + 1,
        "verbose": -9,
        "maxiter": generations,
    }
    strategy = cma.CMAEvolutionStrategy(np.clip(x0, 0.0, 1.0).tolist(), sigma0, options)
    result = SearchResult(best=np.clip(x0, 0, 1), best_fitness=fitness(np.clip(x0, 0, 1)))
    result.evaluations = 1
    for generation in range(generations):
        candidates = strategy.ask()
        scores = [fitness(np.asarray(c)) for c in candidates]
        strategy.tell(candidates, [-s for s in scores])
        result.evaluations += len(candidates)
        top = int(np.argmax(scores))
        if scores[top] > result.best_fitness:
            result.best, result.best_fitness = np.asarray(candidates[top]), scores[top]
        result.history.append(
            {
                "generation": generation + 1,
                "best": float(scores[top]),
                "mean": float(np.mean(scores)),
                "best_so_far": float(result.best_fitness),
            }
        )
        log(
            f"  {name} gen {generation + 1}/{generations} best {scores[top]:.3f} "
            f"mean {np.mean(scores):.3f} best-so-far {result.best_fitness:.3f}"
        )
    return result


@dataclass(frozen=True)
class PSGenome:
    """Maps a unit-box vector to a per-group recipe: weights and (optionally) densities."""

    method: str
    groups: Sequence[str]
    n_sources: int
    weight_bounds: tuple[float, float]
    density_bounds: tuple[float, float]

    @property
    def uses_density(self) -> bool:
        return self.method in ("ties", "dare_ties", "dare_linear")

    @property
    def size(self) -> int:
        per_group = self.n_sources * (2 if self.uses_density else 1)
        return len(self.groups) * per_group

    def _unit(self, value: float, bounds: tuple[float, float]) -> float:
        low, high = bounds
        return float(np.clip((value - low) / (high - low), 0.0, 1.0)) if high > low else 0.5

    def encode(self, weight: float, density: float) -> np.ndarray:
        """The unit vector of a uniform recipe (same weight and density everywhere)."""
        values = [self._unit(weight, self.weight_bounds)] * self.n_sources
        if self.uses_density:
            values += [self._unit(density, self.density_bounds)] * self.n_sources
        return np.array(values * len(self.groups))

    def decode(self, x: np.ndarray) -> Recipe:
        wl, wh = self.weight_bounds
        dl, dh = self.density_bounds
        per_group = self.size // len(self.groups)
        weights, densities = {}, {}
        for i, group in enumerate(self.groups):
            chunk = x[i * per_group : (i + 1) * per_group]
            weights[group] = [float(wl + (wh - wl) * v) for v in chunk[: self.n_sources]]
            if self.uses_density:
                densities[group] = [float(dl + (dh - dl) * v) for v in chunk[self.n_sources :]]
        ones = [1.0] * self.n_sources
        return Recipe(self.method, ones, ones, weights, densities)


@dataclass(frozen=True)
class DFSGenome:
    """Layer path over `layer_ids` (model, layer) repeated `repeats` times, plus W scalings."""

    layer_ids: Sequence[tuple[int, int]]
    repeats: int
    scale_bounds: tuple[float, float] = (0.0, 2.0)

    @property
    def n_slots(self) -> int:
        return len(self.layer_ids) * self.repeats

    @property
    def size(self) -> int:
        return self.n_slots + len(self.layer_ids) ** 2

    def encode(self, initial_path: Sequence[int]) -> np.ndarray:
        """Unit vector whose path is `initial_path` (slot indices) with all scalings = 1."""
        indicators = np.full(self.n_slots, 0.3)
        indicators[list(initial_path)] = 0.7
        low, high = self.scale_bounds
        scales = np.full(len(self.layer_ids) ** 2, (1.0 - low) / (high - low))
        return np.concatenate([indicators, scales])

    def decode(self, x: np.ndarray) -> tuple[list[int], list[float]]:
        """(path as indices into layer_ids, input scale for each step of the path)."""
        n = len(self.layer_ids)
        slots = [s for s in range(self.n_slots) if x[s] > 0.5]
        path = [s % n for s in slots]
        low, high = self.scale_bounds
        matrix = (low + (high - low) * x[self.n_slots :]).reshape(n, n)
        scales = [1.0] + [float(matrix[i, j]) for i, j in itertools.pairwise(path)]
        return path, scales[: len(path)]


PathFitness = Callable[[list[int], list[float]], float]


def search_layer_path(
    fitness: PathFitness,
    n_models: int,
    n_layers: int,
    initial_model: int,
    cfg: dict,
    seed: int,
    log: Callable[[str], None] = print,
) -> tuple[list[int], list[float], SearchResult]:
    """CMA-ES over layer paths through the blocks of `n_models` models of `n_layers` each.

    Path steps index the pooled layers as model * n_layers + layer; the search starts from
    `initial_model`'s own layer sequence with every scale 1. Returns (path, scales, result).
    """
    layer_ids = [(m, i) for m in range(n_models) for i in range(n_layers)]
    genome = DFSGenome(layer_ids, cfg["dfs_repeats"])
    start = [initial_model * n_layers + i for i in range(n_layers)]
    result = cma_search(
        lambda x: fitness(*genome.decode(x)),
        genome.encode(start),
        cfg["population"],
        cfg["dfs_generations"],
        seed,
        log=log,
        name="dfs",
    )
    path, scales = genome.decode(result.best)
    return path, scales, result
