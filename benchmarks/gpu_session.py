"""Helpers for benchmarks/gpu_session.sh: environment report, offline wheels, HF fixtures and
the summary tables of the packs' final_info.json files.

    python benchmarks/gpu_session.py env
    python benchmarks/gpu_session.py wheels DIR            # wheels in DIR whose module is missing
    python benchmarks/gpu_session.py hf-fixtures DIR --size small|medium
    python benchmarks/gpu_session.py merge-seeds OUT DIR... # one final_info from per-seed runs
    python benchmarks/gpu_session.py summary WORK
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import statistics
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

# module -> distribution (wheel name prefix), in install order
MODULES = {
    "torch": "torch",
    "numpy": "numpy",
    "cma": "cma",
    "matplotlib": "matplotlib",
    "transformers": "transformers",
    "scipy": "scipy",
    "pytest": "pytest",
    "pytest_timeout": "pytest_timeout",
    "typing_extensions": "typing_extensions",
    "annotated_types": "annotated_types",
    "typing_inspection": "typing_inspection",
    "pydantic_core": "pydantic_core",
    "pydantic": "pydantic",
    "langgraph": "langgraph",
}
MIN_VERSIONS = {"typing_extensions": (4, 14, 1)}  # pydantic 2.13's floor


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def importable(module: str) -> str | None:
    """The module's version if it imports (and meets its floor), else None."""
    try:
        imported = importlib.import_module(module)
    except Exception:
        return None
    version = getattr(imported, "__version__", None)
    if version is None:
        try:
            version = importlib.metadata.version(MODULES.get(module, module).replace("_", "-"))
        except importlib.metadata.PackageNotFoundError:
            version = "?"
    floor = MIN_VERSIONS.get(module)
    if floor and version != "?" and _version_tuple(str(version)) < floor:
        return None
    return str(version)


def cmd_env(_: argparse.Namespace) -> int:
    print(f"python {sys.version.split()[0]} at {sys.executable}")
    for module in MODULES:
        version = importable(module)
        print(f"  {module:<18} {version or 'MISSING'}")
    try:
        import torch

        cuda = torch.cuda.is_available()
        print(f"torch {torch.__version__}, cuda available: {cuda}, cuda {torch.version.cuda}")
        if cuda:
            props = torch.cuda.get_device_properties(0)
            print(
                f"device 0: {props.name}, {props.total_memory / 2**30:.0f} GiB, "
                f"{props.multi_processor_count} SMs"
            )
    except Exception as exc:
        print(f"torch does not import: {exc}")
    return 0


def cmd_wheels(args: argparse.Namespace) -> int:
    """Print the wheels in DIR whose module does not import (or is too old), one a line."""
    wheels = sorted(Path(args.dir).glob("*.whl"))
    for module, dist in MODULES.items():
        if importable(module) is not None:
            continue
        for wheel in wheels:
            if wheel.name.lower().startswith(dist.lower() + "-"):
                print(wheel)
    return 0


EVAL_FN = textwrap.dedent(
    """
    import torch

    _TOKENS = {}

    def negative_loss(model, split):
        if split not in _TOKENS:
            seed = {"dev": 1, "test": 2}[split]
            generator = torch.Generator().manual_seed(seed)
            vocab = model.config.vocab_size
            _TOKENS[split] = torch.randint(0, vocab, (8, 128), generator=generator)
        tokens = _TOKENS[split].to(model.device)
        return -model(input_ids=tokens, labels=tokens).loss.item()
    """
)
SIZES = {
    "small": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "heads": 4},
    "medium": {
        "hidden_size": 1024,
        "intermediate_size": 2816,
        "num_hidden_layers": 16,
        "heads": 16,
    },
}


def cmd_hf_fixtures(args: argparse.Namespace) -> int:
    """A random Llama base, two 'fine-tunes' (base + distinct perturbations), an evaluator
    (negative loss on fixed random tokens) and a prompts file, all under DIR."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    root = Path(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    size = SIZES[args.size]
    vocab = 32000 if args.size == "medium" else 96
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=size["hidden_size"],
        intermediate_size=size["intermediate_size"],
        num_hidden_layers=size["num_hidden_layers"],
        num_attention_heads=size["heads"],
        num_key_value_heads=size["heads"] // 2,
        max_position_embeddings=1024,
        tie_word_embeddings=False,
    )
    device = "cuda" if torch.cuda.is_available() else "cpu"
    began = time.perf_counter()
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(config)
    model = model.to(torch.bfloat16) if device == "cuda" else model
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model.save_pretrained(root / "base")
    for k, name in enumerate(("model_a", "model_b")):
        generator = torch.Generator(device=device).manual_seed(k + 1)
        with torch.no_grad():
            for key, param in model.state_dict().items():
                noise = torch.randn(param.shape, generator=generator, device=device)
                param.copy_(state[key] + 0.02 * param.float().std() * noise.to(param.dtype))
        model.save_pretrained(root / name)
    (root / "lm_eval_fn.py").write_text(EVAL_FN)
    prompts = torch.randint(0, vocab, (args.prompts, args.prompt_len))
    (root / "prompts.json").write_text(json.dumps(prompts.tolist()))
    n_params = sum(v.numel() for v in state.values())
    print(
        f"hf fixtures: Llama {n_params / 1e6:.1f}M parameters ({args.size}), "
        f"{args.prompts} prompts x {args.prompt_len} tokens, on {device}, "
        f"{time.perf_counter() - began:.1f}s"
    )
    return 0


def _summary(values: list[float]) -> dict[str, Any]:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "std": std, "values": values}


def cmd_merge_seeds(args: argparse.Namespace) -> int:
    """Join per-seed merge runs (one final_info.json each) into one, metrics over seeds."""
    infos = []
    for run in args.runs:
        path = Path(run) / "final_info.json"
        if path.exists():
            infos.append(json.loads(path.read_text()))
        else:
            print(f"merge: no final_info.json in {run} (seed run failed or timed out)")
    if not infos:
        return 1
    metrics = {}
    for name in infos[0]["metrics"]:
        values = [v for info in infos for v in info["metrics"][name]["values"]]
        metrics[name] = _summary(values)
    joined = {
        "metrics": metrics,
        "seeds": [s for info in infos for s in info["seeds"]],
        "best_hand": [b for info in infos for b in info.get("best_hand", [])],
        "runtime_s": max(info["runtime_s"] for info in infos),
        "config": infos[0]["config"],
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "final_info.json").write_text(json.dumps(joined, indent=2))
    return 0


def _cell(metric: dict[str, Any] | None) -> str:
    if metric is None:
        return "-"
    if len(metric["values"]) > 1:
        return f"{metric['mean']:.3f} ± {metric['std']:.3f}"
    return f"{metric['mean']:.3f}"


def _table(title: str, rows: list[tuple[str, list[str]]], header: list[str]) -> list[str]:
    widths = [max(len(h), *(len(r[1][k]) for r in rows)) for k, h in enumerate(header)]
    first = max(12, *(len(r[0]) for r in rows))
    lines = [
        title,
        f"| {'':<{first}} | "
        + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
        + " |",
    ]
    for name, cells in rows:
        lines.append(
            f"| {name:<{first}} | "
            + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
            + " |"
        )
    return lines


def namm_table(label: str, info: dict[str, Any]) -> list[str]:
    m = info["metrics"]
    config = info["config"]
    budgets = [round(float(b) * 100) for b in config.get("budgets", [config["main_budget"]])]
    main = round(float(config["main_budget"]) * 100)
    policies = [
        p
        for p in (
            "full",
            "oracle",
            "namm",
            "namm_no_stft",
            "namm_causal_mask",
            "h2o",
            "recency",
            "random",
            "l2",
            "l2_inverted",
        )
        if f"{p}_accuracy" in m
    ]
    hf = "hf" in info
    header = ["accuracy (main)", "retained"] if hf else [f"{b} %" for b in budgets]
    if not hf and any(f"{p}_transfer_accuracy" in m for p in policies):
        header.append("transfer")
    rows = []
    for p in policies:
        if hf:
            cells = [_cell(m.get(f"{p}_accuracy")), _cell(m.get(f"{p}_retained"))]
        else:
            cells = [_cell(m.get(f"{p}_accuracy_b{b}")) for b in budgets]
            if "transfer" in header:
                cells.append(_cell(m.get(f"{p}_transfer_accuracy")))
        rows.append((p, cells))
    seeds = info.get("seeds")
    title = (
        f"{label}: held-out accuracy, main budget {main} %, seeds {seeds}, "
        f"runtime {info.get('runtime_s', 0):.0f}s"
    )
    lines = _table(title, rows, header)
    if "eviction_overhead_us_per_token" in m:
        lines.append(
            "eviction overhead (namm - full): "
            f"{_cell(m['eviction_overhead_us_per_token'])} µs/token"
        )
    return lines


def ruler_table(label: str, info: dict[str, Any]) -> list[str]:
    """One table per task and length of the namm pack's RULER-style suite: exact match /
    mean log-likelihood ± the 95 % half-width, per policy and budget."""
    m, config, hf = info["metrics"], info["config"], info["hf"]
    budgets = [f"{float(b):g}" for b in config["ruler_budgets"]]
    lines = [
        f"{label}: {hf['model']}, seeds {info['seeds']}, runtime {info['runtime_s']:.0f}s, "
        f"{hf['seconds_per_prompt_read'] or 0:.2f}s per prompt read, "
        f"{hf['seconds_per_evaluation']:.2f}s per policy evaluation"
    ]

    def cell(name: str) -> str:
        if f"{name}_exact" not in m:
            return "-"
        loglik = m[f"{name}_loglik"]
        return f"{m[f'{name}_exact']['mean']:.2f} / {loglik['mean']:.2f} ± {loglik['ci95']:.2f}"

    for task in config["ruler_tasks"]:
        for length in config["ruler_lengths"]:
            group = f"{task}_{length}"
            n = len(m[f"{group}_full_exact"]["values"])
            rows = [("full", [cell(f"{group}_full")] * len(budgets))]
            rows += [(p, [cell(f"{group}_{p}_{b}") for b in budgets]) for p in hf["policies"][1:]]
            title = f"{group}, n = {n}: exact / loglik ± 95 % half-width"
            lines += _table(title, rows, [f"{float(b) * 100:g} %" for b in budgets])
    for seed, evolved in hf.get("namm", {}).items():
        lines.append(
            f"NAMM seed {seed}: training fitness {evolved['best_fitness']:.3f} after "
            f"{len(evolved['history'])} generations, {evolved['seconds']:.0f}s"
        )
    return lines


def merge_table(label: str, info: dict[str, Any]) -> list[str]:
    m = info["metrics"]
    names = [
        ("evolved", "target_accuracy"),
        ("source A", "target_accuracy_source_a"),
        ("source B", "target_accuracy_source_b"),
        ("base", "target_accuracy_base"),
    ]
    names += [
        (k.removeprefix("target_accuracy_"), k) for k in m if k.startswith("target_accuracy_")
    ]
    tokens = any(k.startswith("target_token_accuracy_") for k in m)  # the real-model study
    seen, rows = set(), []
    for name, key in names:
        if key in m and key not in seen:
            seen.add(key)
            token_key = f"target_token_accuracy_{'ps_dfs' if name == 'evolved' else name}"
            rows.append((name, [_cell(m[key])] + ([_cell(m.get(token_key))] if tokens else [])))
    for key in ("gain_over_best_rival", "skill_a_accuracy", "skill_b_accuracy"):
        if key in m:
            rows.append((key, [_cell(m[key])] + (["-"] if tokens else [])))
    title = (
        f"{label}: test score on the target, method {info['config'].get('method')}, "
        f"seeds {info.get('seeds')}, runtime {info.get('runtime_s', 0):.0f}s"
    )
    lines = _table(title, rows, ["score", "answer tokens"] if tokens else ["score"])
    hf = info.get("hf")
    if hf:
        history = hf.get("history", {})
        evaluations = sum(len(h) for h in history.values())
        lines.append(
            f"device {hf.get('device')} {hf.get('dtype')}; {evaluations} generations; "
            f"merge+search {hf.get('merge_s', 0):.1f}s"
        )
    return lines


def cmd_summary(args: argparse.Namespace) -> int:
    work = Path(args.work)
    lines: list[str] = []
    for info_path in sorted(work.glob("*/final_info.json")):
        label = info_path.parent.name
        try:
            info = json.loads(info_path.read_text())
            table = namm_table if label.startswith("namm") else merge_table
            if info.get("hf", {}).get("task") == "ruler":
                table = ruler_table
            lines += [*table(label, info), ""]
        except Exception as exc:  # a partial or unexpected file: say so, keep going
            lines += [f"{label}: cannot summarise ({type(exc).__name__}: {exc})", ""]
    if not lines:
        lines = ["no final_info.json under " + str(work)]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("env").set_defaults(run=cmd_env)
    wheels = sub.add_parser("wheels")
    wheels.add_argument("dir")
    wheels.set_defaults(run=cmd_wheels)
    fixtures = sub.add_parser("hf-fixtures")
    fixtures.add_argument("dir")
    fixtures.add_argument("--size", choices=sorted(SIZES), default="small")
    fixtures.add_argument("--prompts", type=int, default=16)
    fixtures.add_argument("--prompt-len", type=int, default=256)
    fixtures.set_defaults(run=cmd_hf_fixtures)
    seeds = sub.add_parser("merge-seeds")
    seeds.add_argument("out")
    seeds.add_argument("runs", nargs="+")
    seeds.set_defaults(run=cmd_merge_seeds)
    summary = sub.add_parser("summary")
    summary.add_argument("work")
    summary.add_argument("--out")
    summary.set_defaults(run=cmd_summary)
    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
