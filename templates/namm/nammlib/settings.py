"""The pack's configuration: defaults, `--config` overrides, `--smoke` shrinking, checks."""

from __future__ import annotations

from typing import Any

from nammlib.ruler import HELD_OUT, TASKS

DEFAULTS: dict[str, Any] = {
    "seeds": [0, 1, 2],
    "workers": 2,
    # world and model
    "context": 128,
    "n_pairs": 8,
    "d_model": 64,
    "n_layers": 2,
    "n_heads": 4,
    "qk_norm": True,
    "train_steps": 400,
    "transfer_layers": 3,
    # cache
    "budgets": [0.125, 0.25, 0.5],
    "main_budget": 0.25,
    "n_up": 16,
    "sinks": 4,
    # NAMM features and network
    "n_fft": 8,
    "hop": 4,
    "ema_gamma": 0.9,
    "hidden": 8,
    "age_dims": 4,
    "use_stft": True,
    "counter_causal": True,
    # CMA-ES
    "population": 16,
    "generations": 10,
    "sigma0": 0.5,
    "train_prompts": 64,
    "test_prompts": 256,
    "ablations": ["no_stft", "causal_mask"],
    # RULER-style suite on a Hugging Face model (--hf-task ruler)
    "ruler_tasks": ["passkey", "multikey"],
    "ruler_lengths": [1024, 2048],
    "ruler_instances": 10,
    "ruler_train_instances": 4,
    "ruler_budgets": [0.25, 0.5, 0.75, 0.9],
    "ruler_n_up": 4096,
}

SMOKE_CAPS: dict[str, int] = {
    "context": 64,
    "n_pairs": 4,
    "train_steps": 100,
    "population": 6,
    "generations": 2,
    "train_prompts": 24,
    "test_prompts": 48,
    "ruler_instances": 2,
    "ruler_train_instances": 1,
}

ABLATIONS = {"no_stft": {"use_stft": False}, "causal_mask": {"counter_causal": False}}


class SettingsError(ValueError):
    """A configuration the pack cannot run; reported as one line, exit code 2."""


def _fraction_list(value: Any, key: str) -> list[float]:
    if not isinstance(value, list) or not value:
        raise SettingsError(f"'{key}' must be a non-empty list of fractions in (0, 1]")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float) or not 0 < item <= 1:
            raise SettingsError(f"'{key}' must hold fractions in (0, 1], got {item!r}")
    return [float(item) for item in value]


def resolve(overrides: dict[str, Any], smoke: bool) -> dict[str, Any]:
    """Defaults <- overrides, then smoke caps the cost knobs (other knobs keep their values)."""
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise SettingsError(f"unknown config keys: {', '.join(unknown)}")
    config = {**DEFAULTS, **overrides}
    if smoke:
        for key, cap in SMOKE_CAPS.items():
            config[key] = min(int(config[key]), cap)
        config["seeds"] = list(config["seeds"])[:1]
        config["workers"] = 1
        config["ablations"] = []
        config["n_up"] = min(int(config["n_up"]), config["context"] // 4)
    return check(config)


def check(config: dict[str, Any]) -> dict[str, Any]:
    for key in DEFAULTS:
        default, value = DEFAULTS[key], config[key]
        if isinstance(default, bool) and not isinstance(value, bool):
            raise SettingsError(f"'{key}' must be true or false, got {value!r}")
        if isinstance(default, int) and not isinstance(default, bool):
            if isinstance(value, float) and value.is_integer():
                config[key] = value = int(value)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SettingsError(f"'{key}' must be a non-negative integer, got {value!r}")
    seeds = config["seeds"]
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) for s in seeds):
        raise SettingsError("'seeds' must be a non-empty list of integers")
    config["budgets"] = _fraction_list(config["budgets"], "budgets")
    main = _fraction_list([config["main_budget"]], "main_budget")[0]
    config["main_budget"] = main
    config["budgets"] = sorted(set(config["budgets"]) | {main})
    if not 0.0 <= float(config["ema_gamma"]) < 1.0:
        raise SettingsError("'ema_gamma' must be in [0, 1)")
    if float(config["sigma0"]) <= 0.0:
        raise SettingsError("'sigma0' must be positive")
    positive = ("context", "n_pairs", "d_model", "n_layers", "n_heads", "train_steps", "n_up")
    sized = ("transfer_layers", "hidden", "population", "train_prompts", "workers")
    for key in (*positive, *sized):
        if config[key] < 1:
            raise SettingsError(f"'{key}' must be at least 1")
    if config["test_prompts"] < 1 or config["population"] < 2:
        raise SettingsError("'test_prompts' must be >= 1 and 'population' >= 2")
    if config["d_model"] % config["n_heads"]:
        raise SettingsError("'d_model' must be divisible by 'n_heads'")
    if config["n_fft"] < 2 or not 1 <= config["hop"] <= config["n_fft"]:
        raise SettingsError("need n_fft >= 2 and 1 <= hop <= n_fft")
    if config["age_dims"] % 2:
        raise SettingsError("'age_dims' must be even")
    if config["context"] < 4 * config["n_pairs"]:
        raise SettingsError("'context' must be at least 4 x 'n_pairs'")
    unknown = [name for name in config["ablations"] if name not in ABLATIONS]
    if unknown:
        raise SettingsError(f"unknown ablations {unknown}; known: {sorted(ABLATIONS)}")
    return check_ruler(config)


def check_ruler(config: dict[str, Any]) -> dict[str, Any]:
    tasks, lengths = config["ruler_tasks"], config["ruler_lengths"]
    if not isinstance(tasks, list) or not tasks or not set(tasks) <= set(TASKS):
        raise SettingsError(f"'ruler_tasks' must be a non-empty list of {', '.join(TASKS)}")
    valid = isinstance(lengths, list) and lengths
    if not valid or not all(isinstance(n, int) and not isinstance(n, bool) for n in lengths):
        raise SettingsError("'ruler_lengths' must be a non-empty list of token counts")
    if min(lengths) < 128:
        raise SettingsError("'ruler_lengths' must be at least 128 tokens each")
    config["ruler_budgets"] = _fraction_list(config["ruler_budgets"], "ruler_budgets")
    if config["ruler_instances"] < 1 or config["ruler_n_up"] < 1:
        raise SettingsError("'ruler_instances' and 'ruler_n_up' must be at least 1")
    if config["ruler_train_instances"] > HELD_OUT:
        raise SettingsError(f"'ruler_train_instances' must be at most {HELD_OUT} (held out after)")
    return config


def grading_config(overrides: dict[str, Any], smoke: bool) -> dict[str, Any]:
    """The configuration the grader evaluates under: the run's overrides of this pack's own
    knobs (a knob an idea's code added is the run's business), resolved as a run's are."""
    return resolve({k: v for k, v in overrides.items() if k in DEFAULTS}, smoke)
