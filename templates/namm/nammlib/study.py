"""One seed of the study: train two models, evolve NAMM, evaluate every policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from nammlib.evolve import evolve_scorer, recall_fitness
from nammlib.grading import (
    HAND_DESIGNED,
    Scorers,
    budget_tokens,
    evaluate_seed,
    row,
    save_scorers,
    test_prompts,
    trained_model,
)
from nammlib.inference import run_episode
from nammlib.policies import Namm, Policy, make_policy
from nammlib.scorer import ScorerSpec
from nammlib.settings import ABLATIONS
from nammlib.world import Batch, RecallLM, WorldSpec, make_batch


def scorer_spec(config: dict[str, Any], **changes: Any) -> ScorerSpec:
    fields = {
        "n_fft": config["n_fft"],
        "hop": config["hop"],
        "gamma": float(config["ema_gamma"]),
        "hidden": config["hidden"],
        "age_dims": config["age_dims"],
        "use_stft": config["use_stft"],
        "counter_causal": config["counter_causal"],
    }
    return ScorerSpec(**{**fields, **changes})


class SeedStudy:
    """One seed; its evolved scorers are saved in `scorers_dir` for the pack's grader."""

    def __init__(
        self, config: dict[str, Any], seed: int, cache_dir: Path, scorers_dir: Path
    ) -> None:
        self.config, self.seed, self.cache_dir = config, seed, cache_dir
        self.scorers_dir = scorers_dir
        self.world = WorldSpec(context=config["context"], n_pairs=config["n_pairs"])
        self.budget_tokens = budget_tokens(config)
        self.main = self.budget_tokens[config["main_budget"]]

    def model(self, n_layers: int, seed: int) -> RecallLM:
        return trained_model(self.config, n_layers, seed, self.cache_dir)

    def prompts(self, count: int, stream: int) -> Batch:
        return make_batch(self.world, count, torch.Generator().manual_seed(stream + self.seed))

    def evaluate(self, model: RecallLM, batch: Batch, policy: Policy, budget: int) -> dict:
        return row(run_episode(model, batch, policy, budget, self.config["n_up"]))

    def run(self) -> dict[str, Any]:
        config, seed = self.config, self.seed
        print(f"[seed {seed}] model: {config['n_layers']} layers", flush=True)
        model = self.model(config["n_layers"], seed)
        train, test = self.prompts(config["train_prompts"], 10_000), test_prompts(config, seed)
        evolved: Scorers = {}
        histories: dict[str, list] = {}
        variants = {"namm": {}} | {f"namm_{a}": ABLATIONS[a] for a in config["ablations"]}
        for name, changes in variants.items():
            spec = scorer_spec(config, **changes)
            fitness = recall_fitness(model, train, spec, self.main, config["n_up"])
            result = evolve_scorer(fitness, spec, config, seed, f"[seed {seed}] {name}")
            evolved[name] = (spec, result.params)
            histories[name] = result.history
            took = f"{spec.n_params} params, {result.seconds:.0f}s"
            print(f"[seed {seed}] {name}: {took}", flush=True)
        save_scorers(self.scorers_dir, seed, evolved)
        graded = evaluate_seed(config, seed, model, test, evolved)
        table, adaptive = graded["budgets"], graded["namm_adaptive"]
        for fraction, rows in table.items():
            summary = " ".join(f"{k} {v['accuracy']:.3f}" for k, v in rows.items())
            print(f"[seed {seed}] budget {fraction}: {summary}", flush=True)
        spec, params = evolved["namm"]
        keep = run_episode(model, test, Namm(spec, params), self.main, config["n_up"]).keep_mask
        print(f"[seed {seed}] transfer model: {config['transfer_layers']} layers", flush=True)
        other = self.model(config["transfer_layers"], seed + 1000)
        transfer = {"full": self.evaluate(other, test, Policy(), config["context"])}
        for name in HAND_DESIGNED:
            policy = make_policy(name, self.main, seed, sinks=config["sinks"])
            transfer[name] = self.evaluate(other, test, policy, self.main)
        transfer["namm"] = self.evaluate(other, test, Namm(spec, params), self.main)
        print(
            f"[seed {seed}] transfer: "
            + " ".join(f"{k} {v['accuracy']:.3f}" for k, v in transfer.items()),
            flush=True,
        )
        return {
            "seed": seed,
            "budgets": table,
            "namm_adaptive": adaptive,
            "transfer": transfer,
            "evolution": histories,
            "namm_params": {name: p.tolist() for name, (_, p) in evolved.items()},
            "n_params": spec.n_params,
            "example": {
                "tokens": test.tokens[0].tolist(),
                "pair_positions": test.pair_positions[0].tolist(),
                "keep": keep[0].to(torch.int8).tolist(),
            },
        }
