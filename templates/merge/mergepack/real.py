"""The real-model study: merge two fine-tuned specialists of one pretrained causal LM.

Specialists (`real_finetune`): a word cipher ("language 2") and word reversal, each a full
fine-tune of the base on its own skill. The target, reversal answered in language 2, is
trained by no model (`real_tasks`). On the target's held-out items the study scores the base,
both specialists and the hand-set merges (linear, task arithmetic, TIES, DARE-TIES,
DARE-linear at `hand_weight` / `hand_density`), then, per seed, the evolved parameter-space
merge (PS), layer path (DFS) and PS+DFS, with `mergepack/hf.py`'s searches. Search fitness
is dev exact match plus `soft_weight` x the mean answer-token probability; dev and test word
lists are disjoint, and neither was trained on. Each model's test exact match (the metric
`target_accuracy_*`) is reported with its answer-token accuracy (`target_token_accuracy_*`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from mergepack.grading import summary
from mergepack.hf import evolve_path, evolve_ps, load_states
from mergepack.merging import Recipe, merge_state_dicts
from mergepack.real_finetune import specialist
from mergepack.real_tasks import SkillWorld, answer_scores, encode
from mergepack.settings import UsageError

SKILLS = ("cipher", "reverse")
HAND = ("linear", "task_arithmetic", "ties", "dare_ties", "dare_linear")
SEARCHED = ("ps", "dfs", "ps_dfs")


def model_folder(name: str) -> Path:
    """`smollm2` (the shipped SmolLM2-135M-Instruct, converted once) or a local folder."""
    if name == "smollm2":
        try:
            from scientist.errors import ConfigError
            from scientist.model_source import model_folder as shipped
        except ImportError:
            raise UsageError(
                "--real smollm2 needs the scientist package to find the model; "
                "pass the folder of a saved model instead"
            ) from None

        try:
            return shipped(name)
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
    folder = Path(name).expanduser()
    if not (folder / "config.json").is_file():
        raise UsageError(f"--real {name}: not 'smollm2' nor a folder saved with save_pretrained")
    return folder


def wilson(accuracy: float, n: int, z: float = 1.96) -> list[float]:
    """95% Wilson interval of an accuracy measured on n items."""
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]


class TargetScorer:
    """Scores a model on the target task: dev fitness (exact match plus soft_weight x answer
    probability) or test exact match; keeps the last call's answer-token accuracy and counts
    evaluations and their seconds."""

    def __init__(self, tokenizer, world: SkillWorld, soft_weight: float) -> None:
        self.batches = {s: encode(tokenizer, world.items("target", s)) for s in ("dev", "test")}
        self.soft_weight, self.calls, self.seconds = soft_weight, 0, 0.0
        self.last_token_accuracy = 0.0

    def __call__(self, model: torch.nn.Module, split: str) -> float:
        started = time.time()
        hits, probability, tokens = answer_scores(model, self.batches[split])
        self.last_token_accuracy = tokens.mean().item()
        self.calls, self.seconds = self.calls + 1, self.seconds + time.time() - started
        accuracy = hits.float().mean().item()
        return (
            accuracy if split == "test" else accuracy + self.soft_weight * probability.mean().item()
        )


def study_seed(model, states, scorer, cfg, seed, log) -> dict[str, Any]:
    """Hand-set merges (DARE seeded by `seed`) and the three searches of one seed."""
    started = time.time()
    cipher, reverse, base = states
    sources = [cipher, reverse]
    resident = model.state_dict()  # shares the parameters' storage: merges land in the model

    def score_recipe(recipe: Recipe, split: str) -> float:
        merge_state_dicts(recipe, base, sources, seed=seed, out=resident)
        return scorer(model, split)

    scores, tokens, detail = {}, {}, {}
    for method in HAND:
        recipe = Recipe(method, [cfg["hand_weight"]] * 2, [cfg["hand_density"]] * 2)
        scores[method] = score_recipe(recipe, "test")
        tokens[method] = scorer.last_token_accuracy
    log(f"seed {seed}: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    recipe, detail["ps_recipe"], detail["ps_history"] = evolve_ps(
        score_recipe, sources, cfg, log, seed
    )
    scores["ps"] = score_recipe(recipe, "test")
    tokens["ps"] = scorer.last_token_accuracy
    ps_state = merge_state_dicts(recipe, base, sources, seed=seed)
    scores["dfs"], detail["dfs_path"], detail["dfs_history"] = evolve_path(
        model, sources, ["cipher", "reverse"], scorer, cfg, log, seed
    )
    tokens["dfs"] = scorer.last_token_accuracy
    scores["ps_dfs"], detail["ps_dfs_path"], detail["ps_dfs_history"] = evolve_path(
        model, [ps_state, *sources], ["ps", "cipher", "reverse"], scorer, cfg, log, seed
    )
    tokens["ps_dfs"] = scorer.last_token_accuracy
    log(f"seed {seed}: " + ", ".join(f"{m} {scores[m]:.3f}" for m in SEARCHED))
    return {
        "seed": seed,
        "scores": scores,
        "token_scores": tokens,
        "seconds": time.time() - started,
        **detail,
    }


def run_real(
    name: str, cfg: dict[str, Any], out_dir: Path, cache: Path, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Build or load the specialists, run every seed, return final_info."""
    from transformers import AutoTokenizer

    folder = model_folder(name)
    started = time.time()
    try:
        world = SkillWorld(
            cfg["real_seed"], cfg["words_per_item"], cfg["dev_size"], cfg["test_size"]
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    tokenizer = AutoTokenizer.from_pretrained(folder)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    trained = {
        skill: specialist(folder, tokenizer, world, skill, cfg, cache, log, device)
        for skill in SKILLS
    }
    ready_s = time.time() - started
    model, states = load_states(
        [str(trained[s][0]) for s in SKILLS] + [str(folder)], device, torch.float32
    )
    scorer = TargetScorer(tokenizer, world, cfg["soft_weight"])
    fixed, fixed_tokens = {}, {}
    for label, state in zip(("source_cipher", "source_reverse", "base"), states, strict=True):
        model.load_state_dict(state)
        fixed[label] = scorer(model, "test")
        fixed_tokens[label] = scorer.last_token_accuracy
    log("fixed models: " + ", ".join(f"{k} {v:.3f}" for k, v in fixed.items()))
    runs = [study_seed(model, states, scorer, cfg, seed, log) for seed in cfg["seeds"]]
    exact = [{**fixed, **run["scores"]} for run in runs]
    tokens = [{**fixed_tokens, **run["token_scores"]} for run in runs]
    metrics, intervals = {}, {}
    for label in (*fixed, *HAND, *SEARCHED):
        key = "target_accuracy" if label == "ps_dfs" else f"target_accuracy_{label}"
        metrics[key] = summary([scores[label] for scores in exact])
        metrics[f"target_token_accuracy_{label}"] = summary([scores[label] for scores in tokens])
        intervals[label] = wilson(metrics[key]["mean"], cfg["test_size"])
    return {
        "metrics": metrics,
        "real": {
            "model": str(folder),
            "device": device,
            "specialists": {s: {"folder": str(trained[s][0]), **trained[s][1]} for s in SKILLS},
            "specialists_ready_s": ready_s,
            "ci95_items": intervals,
            "seconds_per_evaluation": scorer.seconds / max(1, scorer.calls),
            "evaluations": scorer.calls,
            "runs": runs,
        },
    }
