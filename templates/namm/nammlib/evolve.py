"""Evolve the NAMM scorer with CMA-ES: fitness = recall accuracy on training prompts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

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


def evolve_namm(
    model: RecallLM,
    train: Batch,
    spec: ScorerSpec,
    *,
    budget: int,
    n_up: int,
    population: int,
    generations: int,
    sigma0: float,
    seed: int,
    label: str = "namm",
) -> EvolutionResult:
    """CMA-ES from the zero vector (which keeps everything); the best genome seen wins."""
    began = time.perf_counter()
    options = {
        "popsize": population,
        "seed": seed + 1,  # cma treats seed 0 as "random"
        "verbose": -9,
        "maxiter": generations,
        "CMA_diagonal": False,
    }
    strategy = cma.CMAEvolutionStrategy(np.zeros(spec.n_params), sigma0, options)
    history: list[dict[str, float]] = []
    best_fitness, best_params = -1.0, np.zeros(spec.n_params)
    for generation in range(generations):
        genomes = strategy.ask()
        fitness, retained = [], []
        for genome in genomes:
            policy = Namm(spec, torch.from_numpy(np.asarray(genome, dtype=np.float32)))
            result = run_episode(model, train, policy, budget, n_up)
            fitness.append(result.accuracy.mean().item())
            retained.append(result.retained)
        strategy.tell(genomes, [-f for f in fitness])
        top = int(np.argmax(fitness))
        if fitness[top] > best_fitness:
            best_fitness, best_params = fitness[top], np.asarray(genomes[top])
        history.append(
            {
                "generation": generation,
                "best": fitness[top],
                "mean": float(np.mean(fitness)),
                "best_so_far": best_fitness,
                "retained_of_best": retained[top],
            }
        )
        print(
            f"  {label} gen {generation:2d} best {fitness[top]:.3f} mean {np.mean(fitness):.3f}"
            f" retained {retained[top]:.3f}",
            flush=True,
        )
    return EvolutionResult(
        params=torch.from_numpy(best_params.astype(np.float32)),
        best_fitness=best_fitness,
        history=history,
        evaluations=generations * population,
        seconds=time.perf_counter() - began,
    )
