"""Eviction policies on a Hugging Face causal LM over the RULER-style suite (`nammlib.ruler`).

Every policy is scored on held-out instances (index `HELD_OUT` onwards; lower indices are
left for evolving a scorer) at each budget, a fraction of the instance's prompt tokens, with
two metrics per instance:

* `exact`: 1 when greedy decoding under the evicted cache writes the answer's digits;
* `loglik`: the mean log-likelihood per token of the answer, teacher-forced after the prompt
  under the evicted cache (graded: higher is better, 0 is certainty).

Both come from one pass (`EvictingGenerator.answer_logits`). When `ruler_n_up` holds the
whole prompt (the published one-shot setting of SnapKV and PyramidKV), the prompt's forward
pass is run once per instance and every policy and budget evicts from that state; otherwise
each evaluation feeds the prompt itself. The full cache is scored once per instance. Metrics
are named `<task>_<length>_<policy>[_<budget>]_<metric>`.

NAMM is evolved per seed before it is scored (`ruler_train_instances` > 0): CMA-ES on the
seed's training instances (indices 0 to `ruler_train_instances` - 1 of every task, at the
shortest length), its fitness the answers' mean log-likelihood at `main_budget`. The evolved
scorer is then scored like every hand-designed policy, on that seed's held-out instances.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import torch

from nammlib.evolve import evolve_scorer
from nammlib.hf_eviction import EvictingGenerator, ReadPrompt
from nammlib.policies import Namm, Policy, per_layer
from nammlib.read_namm import FirstFeatures, read_namm
from nammlib.ruler import HELD_OUT, Instance, RulerSuite
from nammlib.scorer import ScorerSpec
from nammlib.study import scorer_spec

RULER_POLICIES = ("recency", "h2o", "l2", "snapkv", "pyramidkv")


def capacity(instance: Instance) -> int:
    return len(instance.prompt_ids) + len(instance.answer_ids)


def score(
    model: Any,
    instance: Instance,
    make: Callable[[], Policy],
    budget: int,
    n_up: int,
    read: ReadPrompt | None = None,
    runner: EvictingGenerator | None = None,
) -> dict[str, float]:
    """Exact match of the greedy answer and the answer's mean log-likelihood per token;
    `read` is the instance's prompt already read in one chunk, if it was; `runner`, the
    generator to decode with, if the caller wants to see its cache afterwards."""
    prompt = torch.tensor([instance.prompt_ids], device=model.device)
    answer = torch.tensor([instance.answer_ids], device=model.device)
    runner = runner or EvictingGenerator(model, make, budget, n_up, capacity(instance))
    logits = runner.answer_logits(prompt if read is None else read, answer)[0].float()
    log_probs = logits.log_softmax(-1).gather(-1, answer[0].unsqueeze(-1))
    exact = bool((logits.argmax(-1) == answer[0]).all())
    return {"exact": float(exact), "loglik": log_probs.mean().item()}


def read_prompt(model: Any, instance: Instance, n_up: int) -> ReadPrompt | None:
    """The prompt's forward pass, run once for every policy to evict from; None when the
    prompt is longer than one chunk of `n_up` tokens (each evaluation then feeds it)."""
    tokens = len(instance.prompt_ids)
    if tokens > n_up:
        return None
    reader = EvictingGenerator(model, Policy, tokens, tokens, capacity(instance))
    return reader.read(torch.tensor([instance.prompt_ids], device=model.device))


class RulerFitness:
    """NAMM's fitness on training instances, each prompt read once: the answers' mean
    log-likelihood per token at `fraction` of the prompt, and the share of the cache kept."""

    def __init__(
        self, model: Any, instances: list[Instance], spec: ScorerSpec, fraction: float, n_up: int
    ) -> None:
        self.model, self.spec, self.fraction, self.n_up = model, spec, fraction, n_up
        self.items = [(instance, read_prompt(model, instance, n_up), {}) for instance in instances]
        self.n_layers = model.config.num_hidden_layers

    def __call__(self, genome: torch.Tensor) -> tuple[float, float]:
        logliks, kept = [], []
        for instance, read, first in self.items:
            tokens = len(instance.prompt_ids)
            budget = max(1, round(self.fraction * tokens))
            make = namm_policies(self.spec, genome, read, first, self.n_layers)
            runner = EvictingGenerator(self.model, make, budget, self.n_up, capacity(instance))
            logliks.append(score(self.model, instance, make, budget, self.n_up, read, runner))
            kept.append(runner.cache_sizes[0] / tokens)
        return statistics.fmean(r["loglik"] for r in logliks), statistics.fmean(kept)


def namm_policies(
    spec: ScorerSpec,
    genome: torch.Tensor,
    read: ReadPrompt | None,
    first: FirstFeatures,
    n_layers: int,
) -> Callable[[], Policy]:
    """NAMM's policies for one instance: sharing the first spectrogram of its read prompt in
    `first` (`nammlib.read_namm`), or plain ones when the prompt was not read in one chunk."""
    if read is None:
        return partial(Namm, spec, genome)
    return read_namm(spec, genome, first, n_layers)


def summary(values: list[float]) -> dict[str, Any]:
    """Mean, sample std, the half-width of a normal 95 % interval of the mean, the values."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    ci95 = 1.96 * std / len(values) ** 0.5
    return {"mean": statistics.fmean(values), "std": std, "ci95": ci95, "values": values}


class RulerStudy:
    def __init__(self, model: Any, tokenizer: Any, config: dict[str, Any]) -> None:
        self.model, self.config = model, config
        self.suite = RulerSuite(tokenizer)
        self.n_layers = model.config.num_hidden_layers
        self.series: dict[str, list[float]] = {}
        self.seconds: list[float] = []
        self.reading: list[float] = []
        self.read: ReadPrompt | None = None
        self.spec = scorer_spec(config)
        self.genomes: dict[int, torch.Tensor] = {}

    def add(self, name: str, metrics: dict[str, float]) -> None:
        for metric, value in metrics.items():
            self.series.setdefault(f"{name}_{metric}", []).append(value)

    def evaluate(self, instance: Instance, make: Callable[[], Policy], budget: int) -> dict:
        began = time.perf_counter()
        n_up = self.config["ruler_n_up"]
        result = score(self.model, instance, make, budget, n_up, self.read)
        self.seconds.append(time.perf_counter() - began)
        return result

    def run_instance(self, instance: Instance) -> None:
        config, tokens = self.config, len(instance.prompt_ids)
        group = f"{instance.task}_{instance.length}"
        began = time.perf_counter()
        self.read = read_prompt(self.model, instance, config["ruler_n_up"])
        if self.read is not None:
            self.reading.append(time.perf_counter() - began)
        self.add(f"{group}_full", self.evaluate(instance, Policy, tokens))
        first: FirstFeatures = {}
        for fraction in config["ruler_budgets"]:
            budget = max(1, round(fraction * tokens))
            makers = {
                name: per_layer(name, budget, instance.seed, config["sinks"], self.n_layers)
                for name in RULER_POLICIES
            }
            if instance.seed in self.genomes:
                genome = self.genomes[instance.seed]
                makers["namm"] = namm_policies(self.spec, genome, self.read, first, self.n_layers)
            for name, make in makers.items():
                self.add(f"{group}_{name}_{fraction:g}", self.evaluate(instance, make, budget))

    def evolve(self, seed: int) -> dict[str, Any]:
        """NAMM's genome for `seed`, evolved on the seed's training instances."""
        config = self.config
        length, count = min(config["ruler_lengths"]), config["ruler_train_instances"]
        instances = [
            self.suite.instance(task, length, seed, index)
            for task in config["ruler_tasks"]
            for index in range(count)
        ]
        fitness = RulerFitness(
            self.model, instances, self.spec, config["main_budget"], config["ruler_n_up"]
        )
        label = f"[seed {seed}] ruler namm"
        result = evolve_scorer(fitness, self.spec, config, seed, label)
        self.genomes[seed] = result.params
        return {
            "params": result.params.tolist(),
            "best_fitness": result.best_fitness,
            "history": result.history,
            "seconds": result.seconds,
            "train_instances": [(i.task, i.length, i.seed, i.index) for i in instances],
        }

    def run(self) -> dict[str, Any]:
        config = self.config
        evolution = {}
        if config["ruler_train_instances"]:
            evolution = {str(seed): self.evolve(seed) for seed in config["seeds"]}
        for task in config["ruler_tasks"]:
            for length in config["ruler_lengths"]:
                for seed in config["seeds"]:
                    for offset in range(config["ruler_instances"]):
                        instance = self.suite.instance(task, length, seed, HELD_OUT + offset)
                        self.run_instance(instance)
                group = f"{task}_{length}"
                full = statistics.fmean(self.series[f"{group}_full_exact"])
                print(f"[ruler] {group}: full-cache exact match {full:.2f}", flush=True)
        return {
            "metrics": {name: summary(values) for name, values in self.series.items()},
            "seconds_per_evaluation": statistics.fmean(self.seconds),
            "seconds_per_prompt_read": statistics.fmean(self.reading) if self.reading else None,
            "evaluations": len(self.seconds),
            "policies": ["full", *RULER_POLICIES, *(["namm"] if evolution else [])],
            "namm": evolution,
        }


def run_ruler_study(model_path: str, config: dict[str, Any]) -> dict[str, Any]:
    """Evolve NAMM per seed, then score it, the full cache and every hand-designed policy of
    RULER_POLICIES on the suite's held-out instances."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, attn_implementation="eager")
    model = model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    return RulerStudy(model, tokenizer, config).run()
