"""One seed of the synthetic study: train sources, score hand-set merges, evolve a merge.

Every model a seed reports is scored on the held-out test items by `mergepack.grading`
(the claim) and saved for the pack's grader, which scores it again from the pristine pack.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mergepack.evolve import PSGenome, SearchResult, cma_search, search_layer_path
from mergepack.grading import (
    HAND_SET,
    SKILLS,
    best_hand,
    path_accuracy,
    save_models,
    state_accuracy,
    test_batches,
)
from mergepack.merging import Recipe, StateDict, merge_state_dicts, parameter_groups
from mergepack.model import ModelConfig, TinyLM, forward_path, score
from mergepack.train import TrainConfig, build_models
from mergepack.world import Batch, World


class Scorer:
    """Scores state dicts and layer paths on fixed evaluation batches, in memory: the dev
    batch (the searches' fitness) and the held-out test batches (reported only)."""

    def __init__(self, world: World, model_cfg: ModelConfig, cfg: dict[str, Any], seed: int):
        self.model_cfg = model_cfg
        self.model = TinyLM(model_cfg).eval()
        self.soft_weight = cfg["soft_weight"]
        self.dev = world.eval_batch(SKILLS["C"], "dev", cfg["dev_size"], 1000 + seed)
        self.test = test_batches(world, cfg["test_size"], seed)

    @torch.no_grad()
    def _logits(self, state: StateDict, batch: Batch) -> torch.Tensor:
        self.model.load_state_dict(state)
        return self.model(batch.tokens)

    def fitness(self, state: StateDict) -> float:
        exact, soft = score(self._logits(state, self.dev), self.dev)
        return exact + self.soft_weight * soft

    def report(self, state: StateDict) -> dict[str, float]:
        return state_accuracy(self.model_cfg, state, self.test)

    def modules(self, states: list[StateDict]) -> list[TinyLM]:
        models = [TinyLM(self.model_cfg).eval() for _ in states]
        for model, state in zip(models, states, strict=True):
            model.load_state_dict(state)
        return models

    @torch.no_grad()
    def path_scores(
        self, host: TinyLM, layers: list[nn.Module], scales: list[float], batches: dict[str, Batch]
    ) -> dict[str, tuple[float, float]]:
        return {
            k: score(forward_path(host, layers, scales, b.tokens), b) for k, b in batches.items()
        }


def _recipe(method: str, cfg: dict[str, Any]) -> Recipe:
    weights = [cfg["hand_weight"]] * 2
    return Recipe(method, weights, [cfg["hand_density"]] * 2)


def _ps(scorer, states, cfg, seed, log) -> tuple[StateDict, SearchResult, dict[str, Any]]:
    genome = PSGenome(
        cfg["ps_operator"],
        parameter_groups(list(states["A"])),
        2,
        (cfg["weight_low"], cfg["weight_high"]),
        (cfg["density_low"], cfg["density_high"]),
    )
    sources = [states["A"], states["B"]]

    def merged(x: np.ndarray) -> StateDict:
        return merge_state_dicts(genome.decode(x), states["base"], sources, seed=seed)

    x0 = genome.encode(cfg["hand_weight"], cfg["hand_density"])
    result = cma_search(
        lambda x: scorer.fitness(merged(x)),
        x0,
        cfg["population"],
        cfg["generations"],
        seed,
        log=log,
        name="ps",
    )
    recipe = genome.decode(result.best)
    detail = {
        "groups": list(genome.groups),
        "weights": recipe.weights,
        "densities": recipe.densities,
        "operator": cfg["ps_operator"],
    }
    return merged(result.best), result, detail


def _dfs(scorer, pool: list[StateDict], names: list[str], initial: int, cfg, seed, log):
    """Search a layer path over the blocks of `pool`; the host pool[0] gives embedding + head.
    Returns the path's test scores, the search, its description and its saved form."""
    models = scorer.modules(pool)
    n_layers = scorer.model_cfg.n_layers
    blocks = [block for model in models for block in model.blocks]

    def fitness(path: list[int], scales: list[float]) -> float:
        layers = [blocks[p] for p in path]
        exact, soft = scorer.path_scores(models[0], layers, scales, {"dev": scorer.dev})["dev"]
        return exact + scorer.soft_weight * soft

    path, scales, result = search_layer_path(fitness, len(pool), n_layers, initial, cfg, seed, log)
    scores = path_accuracy(scorer.model_cfg, pool, path, scales, scorer.test)
    detail = {"path": [f"{names[p // n_layers]}.{p % n_layers}" for p in path], "scales": scales}
    saved = {"path": {"pool": names, "steps": list(path), "scales": list(scales)}}
    return scores, result, detail, saved


def run_seed(
    cfg: dict[str, Any],
    seed: int,
    cache_dir: Path | None,
    log: Callable[[str], None],
    models_dir: Path,
) -> dict[str, Any]:
    """Run one seed; every model it reports is saved in `models_dir` for the grader."""
    started = time.time()
    torch.manual_seed(seed)
    world = World(cfg["digits"])
    model_cfg = ModelConfig(cfg["d_model"], cfg["n_layers"], cfg["n_heads"], 4 * cfg["digits"] + 2)
    train_cfg = TrainConfig(
        cfg["pretrain_steps"],
        cfg["finetune_steps"],
        cfg["batch_size"],
        cfg["lr"],
        cfg["finetune_lr"],
    )
    states = build_models(world, model_cfg, train_cfg, seed, cache_dir, log)
    scorer = Scorer(world, model_cfg, cfg, seed)
    models = {name: scorer.report(states[name]) for name in ("base", "A", "B")}
    sources = [states["A"], states["B"]]
    saved = {name: states[name] for name in ("base", "A", "B")}
    for method in HAND_SET:
        merged = merge_state_dicts(_recipe(method, cfg), states["base"], sources, seed=seed)
        models[method] = scorer.report(merged)
        saved[method] = merged
    hand = best_hand(models)
    log(
        f"seed {seed}: sources and hand-set merges scored: "
        + ", ".join(f"{k} C={v['C']:.3f}" for k, v in models.items())
    )
    out: dict[str, Any] = {"seed": seed, "best_hand": hand, "history": {}}
    method = cfg["method"]
    evolved: dict[str, Any] = {"state": "evolved"}
    if method in ("ps", "ps_dfs"):
        ps_state, result, out["recipe"] = _ps(scorer, states, cfg, seed, log)
        out["history"]["ps"] = result.history
        models["evolved_ps"] = scorer.report(ps_state)
        saved["PS"] = ps_state
    if method == "dfs":
        models["evolved"], result, out["path"], evolved = _dfs(
            scorer, [states["B"], states["A"]], ["B", "A"], 1, cfg, seed, log
        )
        out["history"]["dfs"] = result.history
    elif method == "ps_dfs":
        models["evolved"], result, out["path"], evolved = _dfs(
            scorer, [ps_state, states["A"], states["B"]], ["PS", "A", "B"], 0, cfg, seed, log
        )
        out["history"]["dfs"] = result.history
    elif method == "ps":
        models["evolved"] = models["evolved_ps"]
        evolved = {"state": "PS"}
    elif method in HAND_SET:
        models["evolved"] = models[method]
        evolved = {"state": method}
        result = SearchResult(best=np.zeros(0), best_fitness=scorer.fitness(saved[method]))
    else:
        merged = merge_state_dicts(_recipe(method, cfg), states["base"], sources, seed=seed)
        models["evolved"] = scorer.report(merged)
        saved["evolved"] = merged
        result = SearchResult(best=np.zeros(0), best_fitness=scorer.fitness(merged))
    save_models(models_dir, seed, model_cfg, saved, evolved)
    out["dev_fitness"] = result.best_fitness
    out["models"] = models
    out["runtime_s"] = time.time() - started
    log(
        f"seed {seed}: evolved ({method}) A={models['evolved']['A']:.3f} "
        f"B={models['evolved']['B']:.3f} C={models['evolved']['C']:.3f} "
        f"in {out['runtime_s']:.1f}s"
    )
    return out
