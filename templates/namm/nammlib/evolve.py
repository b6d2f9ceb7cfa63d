"""Evolve the NAMM scorer with CMA-ES, on the recall world or on any fitness of a genome."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cma
import numpy as np
import torch

from nammlib.inference import run_episode
from nammlib.policies import Namm
from nammlib.scorer import ScorerSpec
from nammlib.world import Batch, RecallLM


@dataclass
class EvolutionResult:
    params: torch.Tensor
    best_fitness: float
    history: list[dict[str, float]] = field(default_factory=list)
    evaluations: int = 0
    seconds: float = 0.0


GenomeFitness = Callable[[torch.Tensor], tuple[float, float]]


def evolve_scorer(
    fitness: GenomeFitness, spec: ScorerSpec, config: dict[str, Any], seed: int, label: str
) -> EvolutionResult:
    """CMA-ES from the zero vector (which keeps everything); the best genome seen wins.

    `fitness(genome)` returns (score to maximise, fraction of the cache retained); the
    pack's `config` gives `population`, `generations` and `sigma0`.
    """
    began = time.perf_counter()
    population, generations = config["population"], config["generations"]
    options = {
        "popsize": population,
        "seed": seed + 1,  # cma treats seed 0 as "random"
        "verbose": -9,
        "maxiter": generations,
        "CMA_diagonal": False,
    }
    strategy = cma.CMAEvolutionStrategy(np.zeros(spec.n_params), float(config["sigma0"]), options)
    history: list[dict[str, float]] = []
    best_fitness, best_params = -float("inf"), np.zeros(spec.n_params)
    for generation in range(generations):
        genomes = strategy.ask()
        fitness_values, retained = [], []
        for genome in genomes:
            value, kept = fitness(torch.from_numpy(np.asarray(genome, dtype=np.float32)))
            fitness_values.append(value)
            retained.append(kept)
        strategy.tell(genomes, [-f for f in fitness_values])
        top = int(np.argmax(fitness_values))
        if fitness_values[top] > best_fitness:
            best_fitness, best_params = fitness_values[top], np.asarray(genomes[top])
        history.append(
            {
                "generation": generation,
                "best": fitness_values[top],
                "mean": float(np.mean(fitness_values)),
                "best_so_far": best_fitness,
                "retained_of_best": retained[top],
            }
        )
        print(
            f"  {label} gen {generation:2d} best {fitness_values[top]:.3f}"
            f" mean {np.mean(fitness_values):.3f} retained {retained[top]:.3f}",
            flush=True,
        )
    return EvolutionResult(
        params=torch.from_numpy(best_params.astype(np.float32)),
        best_fitness=best_fitness,
        history=history,
        evaluations=generations * population,
        seconds=time.perf_counter() - began,
    )


def recall_fitness(
    model: RecallLM, train: Batch, spec: ScorerSpec, budget: int, n_up: int
) -> GenomeFitness:
    """The recall world's fitness: accuracy on the training prompts, and the cache kept."""

    def recall(genome: torch.Tensor) -> tuple[float, float]:
        result = run_episode(model, train, Namm(spec, genome), budget, n_up)
        return result.accuracy.mean().item(), result.retained

    return recall
