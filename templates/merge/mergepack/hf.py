"""Merge and evolve Hugging Face causal LMs from local paths with the pack's operators.

The evaluation function is given as ``module:function`` (a module importable from the working
directory, or ``path/to/file.py:function``) and is called as ``function(model, split)`` with
split "dev" (search fitness) or "test" (reported); it returns a score to maximise. Merges
happen on the model's device (bf16 on a GPU, float32 on CPU) and are loaded into one resident
model in place: no candidate is written to disk. Layer paths (`dfs`, and `ps_dfs` after a PS
search) run the first model, or the PS merge, through layers of every model in the pool
(`mergepack/hf_paths.py`); the models must share one architecture.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from mergepack.evolve import PSGenome, cma_search, search_layer_path
from mergepack.hf_paths import decoder_layers, layer_path
from mergepack.merging import Recipe, StateDict, merge_state_dicts, parameter_groups
from mergepack.settings import UsageError

Evaluate = Callable[[torch.nn.Module, str], float]
HF_METHODS = (
    "ps",
    "dfs",
    "ps_dfs",
    "linear",
    "task_arithmetic",
    "ties",
    "dare_ties",
    "dare_linear",
)


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


def evolve_ps(
    score_recipe, sources, cfg, log, seed: int = 0
) -> tuple[Recipe, dict[str, Any], list]:
    """CMA-ES over per-group recipes, fitness = the dev score of the merged model."""
    genome = PSGenome(
        cfg["ps_operator"],
        parameter_groups(list(sources[0])),
        len(sources),
        (cfg["weight_low"], cfg["weight_high"]),
        (cfg["density_low"], cfg["density_high"]),
    )
    x0 = genome.encode(cfg["hand_weight"], cfg["hand_density"])
    result = cma_search(
        lambda x: score_recipe(genome.decode(x), "dev"),
        x0,
        cfg["population"],
        cfg["generations"],
        seed,
        log=log,
    )
    recipe = genome.decode(result.best)
    return recipe, {"weights": recipe.weights, "densities": recipe.densities}, result.history


def evolve_path(
    model: torch.nn.Module,
    pool: list[StateDict],
    names: list[str],
    evaluate: Evaluate,
    cfg: dict[str, Any],
    log: Callable[[str], None],
    seed: int = 0,
) -> tuple[float, dict[str, Any], list]:
    """CMA-ES over layer paths through the layers of `pool`; pool[0] hosts embeddings and
    head, and the search starts from its own layers. Returns (test score, path, history)."""
    models = []
    for state in pool:
        clone = copy.deepcopy(model)
        clone.load_state_dict(state)
        models.append(clone)
    layers = [layer for m in models for layer in decoder_layers(m)]
    n_layers = len(decoder_layers(models[0]))

    def path_score(path: list[int], scales: list[float], split: str) -> float:
        if not path:
            return float("-inf")
        steps = [layers[p] for p in path]
        with layer_path(models[0], steps, scales) as merged, torch.no_grad():
            return float(evaluate(merged, split))

    path, scales, result = search_layer_path(
        lambda p, w: path_score(p, w, "dev"), len(pool), n_layers, 0, cfg, seed, log
    )
    detail = {"path": [f"{names[p // n_layers]}.{p % n_layers}" for p in path], "scales": scales}
    return path_score(path, scales, "test"), detail, result.history


def run_hf(
    model_paths: list[str],
    base_path: str | None,
    eval_spec: str | None,
    cfg: dict[str, Any],
    out_dir: Path,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Score sources and hand-set merges, then run the configured method; return final_info."""
    method = cfg["method"]
    if method not in HF_METHODS:
        raise UsageError(f"with --hf-models, method must be one of {list(HF_METHODS)}")
    if eval_spec is None or len(model_paths) < 2:
        raise UsageError("--hf-models needs two or more paths and --eval module:function")
    if base_path is None and method not in ("linear", "dfs"):
        raise UsageError(f"method '{method}' needs --hf-base")
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

    resident = model.state_dict()  # shares the parameters' storage: merges land in the model

    def score(state: StateDict, split: str) -> float:
        model.load_state_dict(state)
        with torch.no_grad():
            return float(evaluate(model, split))

    def score_recipe(recipe: Recipe, split: str) -> float:
        merge_state_dicts(recipe, base, sources, seed=0, out=resident)
        with torch.no_grad():
            return float(evaluate(model, split))

    scores = {f"source_{k}": score(s, "test") for k, s in enumerate(sources)}
    hand = [m for m in ("linear", "task_arithmetic", "ties", "dare_ties") if base or m == "linear"]
    for hand_method in hand:
        recipe = Recipe(hand_method, [cfg["hand_weight"]] * n, [cfg["hand_density"]] * n)
        scores[hand_method] = score_recipe(recipe, "test")
    log("hf: " + ", ".join(f"{k}={v:.4f}" for k, v in scores.items()))
    history: dict[str, list] = {}
    detail: dict[str, Any] = {}
    if method in ("ps", "ps_dfs"):
        ps_recipe, detail["recipe"], history["ps"] = evolve_ps(score_recipe, sources, cfg, log)
        scores["evolved_ps"] = score_recipe(ps_recipe, "test")
    if method in ("dfs", "ps_dfs"):
        names = [f"source_{k}" for k in range(n)]
        pool = sources
        if method == "ps_dfs":
            pool = [merge_state_dicts(ps_recipe, base, sources, seed=0), *sources]
        names = ["ps", *names] if method == "ps_dfs" else names
        scores["evolved"], detail["path"], history["dfs"] = evolve_path(
            model, pool, names, evaluate, cfg, log
        )
    elif method == "ps":
        scores["evolved"] = scores.pop("evolved_ps")
    else:
        recipe = Recipe(method, [cfg["hand_weight"]] * n, [cfg["hand_density"]] * n)
        scores["evolved"] = score_recipe(recipe, "test")
    log(f"hf: {method} merge test score {scores['evolved']:.4f}")
    metrics = {
        ("target_accuracy" if name == "evolved" else f"target_accuracy_{name}"): {
            "mean": value,
            "std": 0.0,
            "values": [value],
        }
        for name, value in scores.items()
    }
    return {
        "metrics": metrics,
        "hf": {
            "models": model_paths,
            "base": base_path,
            "device": device,
            "dtype": str(dtype),
            **detail,
            "history": history,
            "merge_s": time.time() - started,
        },
    }
