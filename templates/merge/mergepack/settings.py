"""The pack's configuration: defaults, smoke sizes, JSON overrides and their validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mergepack.merging import METHODS

# the evolutionary searches (`lab.run_seed`); every other method is a hand-set merge
SEARCHES = ("ps", "dfs", "ps_dfs")

DEFAULTS: dict[str, Any] = {
    "method": "ps",
    "ps_operator": "task_arithmetic",
    "population": 12,
    "generations": 25,
    "dfs_generations": 15,
    "dfs_repeats": 2,
    "weight_low": -0.5,
    "weight_high": 2.0,
    "density_low": 0.1,
    "density_high": 1.0,
    "hand_weight": 1.0,
    "hand_density": 0.5,
    "soft_weight": 0.5,
    "seeds": [0, 1, 2],
    "digits": 3,
    "d_model": 64,
    "n_layers": 2,
    "n_heads": 4,
    "pretrain_steps": 800,
    "finetune_steps": 150,
    "batch_size": 64,
    "lr": 3e-3,
    "finetune_lr": 1e-3,
    "dev_size": 256,
    "test_size": 512,
}
SMOKE = {
    "pretrain_steps": 300,
    "finetune_steps": 50,
    "population": 8,
    "generations": 12,
    "dfs_generations": 5,
    "dev_size": 64,
    "test_size": 128,
}
# the real-model study (`--real`, `mergepack/real.py`): its own knobs, and smaller budgets
REAL = {
    "real_seed": 0,
    "words_per_item": 3,
    "real_finetune_steps": 60,
    "real_batch_size": 8,
    "real_lr": 1e-4,
    "population": 8,
    "generations": 8,
    "dfs_generations": 5,
    "dfs_repeats": 1,
    "dev_size": 32,
    "test_size": 64,
}
REAL_COUNTS = {"words_per_item", "real_finetune_steps", "real_batch_size"}
CHOICES = {
    "method": (*SEARCHES, *METHODS),
    "ps_operator": ("task_arithmetic", "ties", "dare_ties", "dare_linear"),
}


class UsageError(Exception):
    """A bad command line or configuration: reported on one line, exit code 2."""


def load_config(path: Path | None, smoke: bool, real: bool = False) -> dict[str, Any]:
    """Defaults (with the real-model study's on top when `real`), then the overrides file;
    --smoke caps every budget at its smoke size (the seeds stay: a smoke run on 3 seeds
    still has a confidence interval)."""
    defaults = {**DEFAULTS, **REAL} if real else DEFAULTS
    cfg = dict(defaults)
    if path is not None:
        cfg.update(read_overrides(path, defaults))
    if smoke:
        for key, cap in SMOKE.items():
            cfg[key] = min(cfg[key], cap)
    return validate(cfg)


def grading_config(path: Path, smoke: bool) -> dict[str, Any]:
    """The configuration the grader evaluates under: the defaults, the run's overrides of
    this pack's own knobs (a knob an idea's code added is the run's business) and the smoke
    caps."""
    overrides = _json_object(path)
    cfg = {**DEFAULTS, **{k: v for k, v in overrides.items() if k in DEFAULTS}}
    if smoke:
        for key, cap in SMOKE.items():
            cfg[key] = min(cfg[key], cap)
    return cfg


def _json_object(path: Path) -> dict[str, Any]:
    """The overrides file as a JSON object of knob -> value (UsageError otherwise)."""
    try:
        overrides = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read config {path}: {exc}") from None
    if not isinstance(overrides, dict):
        raise UsageError(f"config {path} must be a JSON object of knob -> value")
    return overrides


def read_overrides(path: Path, defaults: dict[str, Any] = DEFAULTS) -> dict[str, Any]:
    overrides = _json_object(path)
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise UsageError(f"unknown config keys {unknown}; known: {sorted(defaults)}")
    for key, value in overrides.items():
        default = defaults[key]
        numeric = isinstance(default, float) and isinstance(value, int | float)
        if not numeric and (isinstance(value, bool) or not isinstance(value, type(default))):
            raise UsageError(f"config key '{key}' must be {type(default).__name__}, got {value!r}")
    return overrides


def validate(cfg: dict[str, Any]) -> dict[str, Any]:
    for key, allowed in CHOICES.items():
        if cfg[key] not in allowed:
            raise UsageError(f"'{key}' must be one of {list(allowed)}, got {cfg[key]!r}")
    if cfg["method"] == "slerp":
        raise UsageError("slerp is a two-model operator without a base; use it via mergepack")
    if not cfg["seeds"] or not all(isinstance(s, int) for s in cfg["seeds"]):
        raise UsageError("'seeds' must be a non-empty list of integers")
    if not cfg["weight_low"] < cfg["weight_high"]:
        raise UsageError("weight_low must be below weight_high")
    if not 0 < cfg["density_low"] <= cfg["density_high"] <= 1:
        raise UsageError("densities need 0 < density_low <= density_high <= 1")
    for key in (
        "population",
        "generations",
        "dfs_generations",
        "dfs_repeats",
        "digits",
        "n_layers",
        "pretrain_steps",
        "finetune_steps",
        "batch_size",
        "dev_size",
        "test_size",
        "n_heads",
        "d_model",
        *REAL_COUNTS.intersection(cfg),
    ):
        if cfg[key] < 1:
            raise UsageError(f"'{key}' must be >= 1")
    if cfg["d_model"] % cfg["n_heads"]:
        raise UsageError("d_model must be divisible by n_heads")
    return cfg
