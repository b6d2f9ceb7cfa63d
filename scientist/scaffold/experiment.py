"""The pack's experiment: ridge regression fitted by gradient descent on synthetic data.

Contract with scientist (keep it when you replace the science):
  python experiment.py --out-dir DIR [--config overrides.json] [--smoke]
writes DIR/final_info.json with `metrics` (name -> its per-seed `values`; scientist
computes the mean and the sample std), the `config` it ran, the `seeds` and `runtime_s`.
`--config` holds knob overrides from template.toml's [search_space] plus "seeds"; `--smoke`
must finish in seconds.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

DEFAULTS = {"learning_rate": 0.05, "l2": 0.01, "steps": 300, "seeds": [0, 1, 2]}
SAMPLES, FEATURES, NOISE = 120, 40, 1.0


def make_data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A linear problem with noise, split in half for training and testing."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(SAMPLES, FEATURES))
    weights = rng.normal(size=FEATURES)
    y = x @ weights + NOISE * rng.normal(size=SAMPLES)
    half = SAMPLES // 2
    return x[:half], y[:half], x[half:], y[half:]


def test_r2(config: dict, seed: int, steps: int) -> float:
    """R^2 on the held-out half after `steps` of gradient descent on the ridge loss."""
    x_train, y_train, x_test, y_test = make_data(seed)
    weights = np.zeros(FEATURES)
    for _ in range(steps):
        residual = x_train @ weights - y_train
        gradient = x_train.T @ residual / len(y_train) + config["l2"] * weights
        weights -= config["learning_rate"] * gradient
    error = np.sum((x_test @ weights - y_test) ** 2)
    return float(1.0 - error / np.sum((y_test - y_test.mean()) ** 2))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--config", type=Path, help="JSON overrides of DEFAULTS")
    parser.add_argument("--smoke", action="store_true", help="a seconds-fast check run")
    args = parser.parse_args()
    config = dict(DEFAULTS)
    if args.config:
        overrides = json.loads(args.config.read_text())
        unknown = sorted(set(overrides) - set(DEFAULTS))
        if unknown:
            sys.exit(f"unknown config keys: {unknown}")
        config.update(overrides)
    steps = 20 if args.smoke else int(config["steps"])
    started = time.time()
    values = [test_r2(config, seed, steps) for seed in config["seeds"]]
    for seed, value in zip(config["seeds"], values, strict=True):
        print(f"seed {seed}: test_r2 {value:.4f}", flush=True)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    info = {
        "metrics": {"test_r2": {"values": values}},
        "config": config,
        "seeds": config["seeds"],
        "runtime_s": time.time() - started,
    }
    (args.out_dir / "final_info.json").write_text(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
