"""NAMM pack: learned KV-cache eviction vs H2O, L2 and recency on a synthetic recall world.

    python experiment.py --out-dir DIR [--config overrides.json] [--smoke]
    python experiment.py --out-dir DIR --hf-model PATH --hf-prompts IDS.json [--config ...]
    python experiment.py --out-dir DIR --hf-model PATH --hf-task ruler [--config ...]

Writes DIR/final_info.json (metrics as mean/std/values over seeds), DIR/results.json
(per-seed tables, CMA-ES histories, a kept-token example), DIR/seed_<k>.json and each seed's
evolved scorers in DIR/scorers/ (grader.py evaluates them again from the pristine pack).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nammlib.settings import SettingsError, resolve

# torch and the study are imported after the configuration is checked, so a bad --config
# fails in a fraction of a second instead of after torch's import.


def cache_dir(out_dir: Path) -> Path:
    if os.environ.get("SCIENTIST_CACHE"):
        return Path(os.environ["SCIENTIST_CACHE"]) / "namm"
    return out_dir.resolve().parent / ".cache" / "namm"


def summary(values: list[float]) -> dict[str, Any]:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "std": std, "values": values}


def collect_metrics(config: dict[str, Any], per_seed: list[dict[str, Any]]) -> dict[str, Any]:
    """Flat metric names: the graded ones (`nammlib.grading.graded_metrics`: accuracy and
    retention per policy and budget), then timings and the transfer to a deeper model."""
    from nammlib.grading import graded_metrics

    series: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        series.setdefault(name, []).append(value)

    main = f"{config['main_budget']:g}"
    for seed in per_seed:
        rows = seed["budgets"][main]
        for policy, row in rows.items():
            add(f"{policy}_us_per_token", row["us_per_token"])
        for policy, row in seed["transfer"].items():
            add(f"{policy}_transfer_accuracy", row["accuracy"])
        baseline = rows["full"]["us_per_token"]
        add("eviction_overhead_us_per_token", rows["namm"]["us_per_token"] - baseline)
        add("h2o_overhead_us_per_token", rows["h2o"]["us_per_token"] - baseline)
    graded = graded_metrics(config, per_seed)
    return {name: summary(s["values"]) for name, s in graded.items()} | {
        name: summary(values) for name, values in series.items()
    }


def run_seed(config: dict[str, Any], seed: int, cache: Path, scorers: Path) -> dict[str, Any]:
    import torch
    from nammlib.study import SeedStudy

    torch.set_num_threads(1)
    return SeedStudy(config, seed, cache, scorers).run()


def run_seeds(config: dict[str, Any], cache: Path, scorers: Path) -> list[dict[str, Any]]:
    """Seeds one after another, or in `workers` processes of one thread each."""
    workers = min(config["workers"], len(config["seeds"]))
    if workers == 1:
        return [run_seed(config, seed, cache, scorers) for seed in config["seeds"]]
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        futures = [pool.submit(run_seed, config, s, cache, scorers) for s in config["seeds"]]
        return [future.result() for future in futures]


def write_final_info(out_dir: Path, final_info: dict[str, Any]) -> None:
    tmp = out_dir / "final_info.json.tmp"
    tmp.write_text(json.dumps(final_info, indent=2))
    tmp.replace(out_dir / "final_info.json")


def run_on_hf(args: argparse.Namespace, config: dict[str, Any], began: float) -> int:
    """Evolve NAMM on a local checkpoint against its own full-cache continuations."""
    from nammlib.hf_study import PromptsError, run_hf_study

    try:
        study = run_hf_study(args.hf_model, args.hf_prompts, args.hf_new_tokens, config)
    except PromptsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    metrics = study.pop("metrics")
    hf = {"model": args.hf_model, "prompts": str(args.hf_prompts), "new_tokens": args.hf_new_tokens}
    runtime = round(time.perf_counter() - began, 2)
    final_info = {"metrics": metrics, "config": config, "seeds": config["seeds"]}
    write_final_info(args.out_dir, {**final_info, "runtime_s": runtime, "hf": hf | study})
    print(f"namm: hf namm accuracy {metrics['namm_accuracy']['mean']:.3f}", flush=True)
    return 0


def run_ruler(args: argparse.Namespace, config: dict[str, Any], began: float) -> int:
    """Score the hand-designed policies on the RULER-style suite with a local checkpoint."""
    from nammlib.ruler import RulerError
    from nammlib.ruler_study import run_ruler_study

    try:
        study = run_ruler_study(args.hf_model, config)
    except RulerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    metrics = study.pop("metrics")
    runtime = round(time.perf_counter() - began, 2)
    final_info = {"metrics": metrics, "config": config, "seeds": config["seeds"]}
    hf = {"model": args.hf_model, "task": "ruler"} | study
    write_final_info(args.out_dir, {**final_info, "runtime_s": runtime, "hf": hf})
    print(f"namm: ruler runtime {runtime:.0f}s", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--config", type=Path, help="JSON object of knob -> value overrides")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: runs in seconds")
    parser.add_argument("--hf-model", help="local Hugging Face causal LM: evolve NAMM on it")
    parser.add_argument("--hf-prompts", type=Path, help="JSON list of token-id lists")
    parser.add_argument("--hf-new-tokens", type=int, default=32, help="continuation length")
    parser.add_argument("--hf-task", choices=["ruler"], help="score policies on a task suite")
    args = parser.parse_args(argv)
    if args.hf_task and not args.hf_model:
        print("error: --hf-task needs --hf-model", file=sys.stderr)
        return 2
    if args.hf_model and (args.hf_prompts is None) == (args.hf_task is None):
        print("error: --hf-model needs one of --hf-prompts and --hf-task", file=sys.stderr)
        return 2
    try:
        overrides = json.loads(args.config.read_text()) if args.config else {}
        if not isinstance(overrides, dict):
            raise SettingsError("--config must hold a JSON object of knob -> value")
        config = resolve(overrides, args.smoke)
    except (OSError, json.JSONDecodeError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(1)
    began = time.perf_counter()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    print(f"namm: config {json.dumps(config)}", flush=True)
    if args.hf_model and args.hf_task:
        return run_ruler(args, config, began)
    if args.hf_model:
        return run_on_hf(args, config, began)
    from nammlib.grading import SCORERS_DIR

    per_seed = run_seeds(config, cache_dir(args.out_dir), args.out_dir / SCORERS_DIR)
    for result in per_seed:
        (args.out_dir / f"seed_{result['seed']}.json").write_text(json.dumps(result))
    metrics = collect_metrics(config, per_seed)
    final_info = {
        "metrics": metrics,
        "config": config,
        "seeds": config["seeds"],
        "runtime_s": round(time.perf_counter() - began, 2),
        "namm_parameters": per_seed[0]["n_params"],
        "main_budget_tokens": round(config["main_budget"] * config["context"]),
        "machine": {"torch_threads": torch.get_num_threads(), "cpus": os.cpu_count()},
    }
    (args.out_dir / "results.json").write_text(json.dumps({"config": config, "seeds": per_seed}))
    write_final_info(args.out_dir, final_info)
    m = metrics
    print(
        f"namm: accuracy at budget {config['main_budget']:g}: namm {m['namm_accuracy']['mean']:.3f}"
        f" h2o {m['h2o_accuracy']['mean']:.3f} l2 {m['l2_accuracy']['mean']:.3f}"
        f" recency {m['recency_accuracy']['mean']:.3f} full {m['full_accuracy']['mean']:.3f};"
        f" runtime {final_info['runtime_s']:.0f}s",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
