"""One seed of the study: train two models, evolve NAMM, evaluate every policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from nammlib.evolve import evolve_scorer, recall_fitness
from nammlib.inference import EpisodeResult, run_episode
from nammlib.policies import Namm, Policy, make_policy
from nammlib.scorer import ScorerSpec
from nammlib.settings import ABLATIONS
from nammlib.world import (
    Batch,
    ModelSpec,
    RecallLM,
    TrainSpec,
    WorldSpec,
    load_or_train,
    make_batch,
)

HAND_DESIGNED = ("recency", "h2o", "l2", "l2_inverted", "random", "oracle")


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


def _row(result: EpisodeResult) -> dict[str, float]:
    tokens = result.keep_mask.shape[0] * (result.keep_mask.shape[-1])
    return {
        "accuracy": result.accuracy.mean().item(),
        "retained": result.retained,
        "us_per_token": 1e6 * result.seconds / tokens,
        "eviction_us_per_token": 1e6 * result.eviction_seconds / tokens,
    }


class SeedStudy:
    def __init__(self, config: dict[str, Any], seed: int, cache_dir: Path) -> None:
        self.config, self.seed, self.cache_dir = config, seed, cache_dir
        self.world = WorldSpec(context=config["context"], n_pairs=config["n_pairs"])
        self.budget_tokens = {b: max(1, round(b * config["context"])) for b in config["budgets"]}
        self.main = self.budget_tokens[config["main_budget"]]

    def model(self, n_layers: int, seed: int) -> RecallLM:
        config = self.config
        spec = ModelSpec(config["d_model"], n_layers, config["n_heads"], config["qk_norm"])
        train = TrainSpec(steps=config["train_steps"])
        return load_or_train(self.world, spec, train, seed, self.cache_dir)

    def prompts(self, count: int, stream: int) -> Batch:
        return make_batch(self.world, count, torch.Generator().manual_seed(stream + self.seed))

    def evaluate(self, model: RecallLM, batch: Batch, policy: Policy, budget: int) -> dict:
        return _row(run_episode(model, batch, policy, budget, self.config["n_up"]))

    def run(self) -> dict[str, Any]:
        config, seed = self.config, self.seed
        print(f"[seed {seed}] model: {config['n_layers']} layers", flush=True)
        model = self.model(config["n_layers"], seed)
        train, test = (
            self.prompts(config["train_prompts"], 10_000),
            self.prompts(config["test_prompts"], 20_000),
        )
        evolved: dict[str, tuple[ScorerSpec, torch.Tensor]] = {}
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
        table: dict[str, dict[str, dict]] = {}
        full = self.evaluate(model, test, Policy(), config["context"])
        for fraction, budget in self.budget_tokens.items():
            rows = {"full": full}
            for name in HAND_DESIGNED:
                policy = make_policy(name, budget, seed, sinks=config["sinks"])
                rows[name] = self.evaluate(model, test, policy, budget)
            for name, (spec, params) in evolved.items():
                rows[name] = self.evaluate(model, test, Namm(spec, params), budget)
            table[f"{fraction:g}"] = rows
            summary = " ".join(f"{k} {v['accuracy']:.3f}" for k, v in rows.items())
            print(f"[seed {seed}] budget {fraction:g}: {summary}", flush=True)
        spec, params = evolved["namm"]
        adaptive = self.evaluate(model, test, Namm(spec, params), config["context"])
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
