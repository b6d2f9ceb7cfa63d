"""Merge and evolve Hugging Face causal LMs from local paths with the pack's operators.

The evaluation function is given as ``module:function`` (a module importable from the working
directory, or ``path/to/file.py:function``) and is called as ``function(model, split)`` with
split "dev" (search fitness) or "test" (reported); it returns a score to maximise. Merges
happen on the model's device (bf16 on a GPU, float32 on CPU) and are loaded into one resident
model in place: no candidate is written to disk.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mergepack.evolve import PSGenome, cma_search
from mergepack.merging import Recipe, StateDict, merge_state_dicts, parameter_groups
from mergepack.settings import UsageError

Evaluate = Callable[[torch.nn.Module, str], float]
HF_METHODS = ("ps", "linear", "task_arithmetic", "ties", "dare_ties", "dare_linear")


def load_evaluator(spec: str) -> Evaluate:
    module_name, sep, function = spec.rpartition(":")
    if not sep or not module_name or not function:
        raise ValueError(f"--eval must be module:function or file.py:function, got '{spec}'")
    if module_name.endswith(".py"):
        loader = importlib.util.spec_from_file_location(Path(module_name).stem, module_name)
        if loader is None or loader.loader is None:
            raise ValueError(f"cannot import {module_name}")
        module = importlib.util.module_from_spec(loader)
        loader.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name)
    return getattr(module, function)


def load_states(paths: list[str], device: str, dtype: torch.dtype):
    from transformers import AutoModelForCausalLM

    states, model = [], None
    for path in paths:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(device).eval()
        states.append({k: v.detach().clone() for k, v in model.state_dict().items()})
    return model, states


def run_hf(
    model_paths: list[str],
    base_path: str | None,
    eval_spec: str | None,
    cfg: dict[str, Any],
    out_dir: Path,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Score sources and hand-set merges, then run the configured method; return final_info."""
    if cfg["method"] not in HF_METHODS:
        raise UsageError(f"with --hf-models, method must be one of {list(HF_METHODS)}")
    if eval_spec is None or len(model_paths) < 2:
        raise UsageError("--hf-models needs two or more paths and --eval module:function")
    if base_path is None and cfg["method"] != "linear":
        raise UsageError(f"method '{cfg['method']}' needs --hf-base")
    try:
        evaluate = load_evaluator(eval_spec)
    except (ImportError, AttributeError, ValueError) as exc:
        raise UsageError(f"cannot load --eval {eval_spec}: {exc}") from None
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    started = time.time()
    paths = [*model_paths, *([base_path] if base_path else [])]
    model, states = load_states(paths, device, dtype)
    sources, base = states[: len(model_paths)], (states[-1] if base_path else None)
    n = len(sources)

    def score(state: StateDict, split: str) -> float:
        model.load_state_dict(state)
        with torch.no_grad():
            return float(evaluate(model, split))

    scores = {f"source_{k}": score(s, "test") for k, s in enumerate(sources)}
    hand = [m for m in ("linear", "task_arithmetic", "ties", "dare_ties") if base or m == "linear"]
    for method in hand:
        recipe = Recipe(method, [cfg["hand_weight"]] * n, [cfg["hand_density"]] * n)
        scores[method] = score(merge_state_dicts(recipe, base, sources, seed=0), "test")
    log("hf: " + ", ".join(f"{k}={v:.4f}" for k, v in scores.items()))
    history: list[dict[str, float]] = []
    detail: dict[str, Any] = {}
    if cfg["method"] == "ps":
        genome = PSGenome(
            cfg["ps_operator"],
            parameter_groups(list(sources[0])),
            n,
            (cfg["weight_low"], cfg["weight_high"]),
            (cfg["density_low"], cfg["density_high"]),
        )

        def fitness(x: np.ndarray) -> float:
            return score(merge_state_dicts(genome.decode(x), base, sources, seed=0), "dev")

        x0 = genome.encode(cfg["hand_weight"], cfg["hand_density"])
        result = cma_search(fitness, x0, cfg["population"], cfg["generations"], 0, log=log)
        recipe = genome.decode(result.best)
        history = result.history
        detail = {"weights": recipe.weights, "densities": recipe.densities}
    else:
        recipe = Recipe(cfg["method"], [cfg["hand_weight"]] * n, [cfg["hand_density"]] * n)
    scores["evolved"] = score(merge_state_dicts(recipe, base, sources, seed=0), "test")
    log(f"hf: {cfg['method']} merge test score {scores['evolved']:.4f}")
    metrics = {
        "target_accuracy": {"mean": scores["evolved"], "std": 0.0, "values": [scores["evolved"]]}
    }
    for name, value in scores.items():
        if name != "evolved":
            metrics[f"target_accuracy_{name}"] = {"mean": value, "std": 0.0, "values": [value]}
    return {
        "metrics": metrics,
        "hf": {
            "models": model_paths,
            "base": base_path,
            "device": device,
            "dtype": str(dtype),
            "recipe": detail,
            "history": history,
            "merge_s": time.time() - started,
        },
    }
