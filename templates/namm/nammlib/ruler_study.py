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
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from nammlib.hf_eviction import EvictingGenerator, ReadPrompt
from nammlib.policies import Policy, per_layer
from nammlib.ruler import Instance, RulerSuite

RULER_POLICIES = ("recency", "h2o", "l2", "snapkv", "pyramidkv")
HELD_OUT = 10_000


def capacity(instance: Instance) -> int:
    return len(instance.prompt_ids) + len(instance.answer_ids)


def score(
    model: Any,
    instance: Instance,
    make: Callable[[], Policy],
    budget: int,
    n_up: int,
    read: ReadPrompt | None = None,
) -> dict[str, float]:
    """Exact match of the greedy answer and the answer's mean log-likelihood per token;
    `read` is the instance's prompt already read in one chunk, if it was."""
    prompt = torch.tensor([instance.prompt_ids], device=model.device)
    answer = torch.tensor([instance.answer_ids], device=model.device)
    runner = EvictingGenerator(model, make, budget, n_up, capacity(instance))
    logits = runner.answer_logits(prompt if read is None else read, answer)[0].float()
    log_probs = logits.log_softmax(-1).gather(-1, answer[0].unsqueeze(-1))
    exact = bool((logits.argmax(-1) == answer[0]).all())
    return {"exact": float(exact), "loglik": log_probs.mean().item()}


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
        self.read = None
        if tokens <= config["ruler_n_up"]:
            began = time.perf_counter()
            reader = EvictingGenerator(self.model, Policy, tokens, tokens, capacity(instance))
            prompt = torch.tensor([instance.prompt_ids], device=self.model.device)
            self.read = reader.read(prompt)
            self.reading.append(time.perf_counter() - began)
        self.add(f"{group}_full", self.evaluate(instance, Policy, tokens))
        for fraction in config["ruler_budgets"]:
            budget = max(1, round(fraction * tokens))
            for name in RULER_POLICIES:
                make = per_layer(name, budget, instance.seed, config["sinks"], self.n_layers)
                self.add(f"{group}_{name}_{fraction:g}", self.evaluate(instance, make, budget))

    def run(self) -> dict[str, Any]:
        config = self.config
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
            "policies": ["full", *RULER_POLICIES],
        }


def run_ruler_study(model_path: str, config: dict[str, Any]) -> dict[str, Any]:
    """Score the full cache and every hand-designed policy of RULER_POLICIES on the suite."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, attn_implementation="eager")
    model = model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    return RulerStudy(model, tokenizer, config).run()
