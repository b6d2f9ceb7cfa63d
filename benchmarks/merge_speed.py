"""Time per merge candidate: the merge pack's in-memory merge vs mergekit via disk.

`--family tiny` (default): each candidate is a TIES merge of two tiny Llama fine-tunes onto
their base, followed by one evaluation forward pass. "in memory" merges state dicts and
loads them into one resident model; "mergekit run_merge" calls mergekit's Python API (writes
safetensors) and loads the result with transformers; "mergekit-yaml" also pays the CLI
start-up, as mergekit-evolve's default does.

`--family 124m`: a base and two fine-tunes of a 126M-parameter Llama (GPT-2-small size,
float32). Per operator, a candidate is the merge loaded into a model: ours merges straight
into the resident model's tensors, against mergekit's run_merge + from_pretrained. Ours is
also compared with the memory-bandwidth bound: the bytes a candidate must read (each input
once) and write (the model's tensors once) divided by the copy bandwidth measured here
(one thread, as the pack runs).

`--family 1b --device cuda`: the same for a 1.1B-parameter Llama (TinyLlama's shape,
float32) built in GPU memory, against the bound from the GPU's copy bandwidth; mergekit
is left out (it merges through the disk).
Usage: python benchmarks/merge_speed.py [--family tiny|124m|1b] [--device cpu|cuda]
[--repeats N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import torch
import transformers
from machine import describe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "templates" / "merge"))
sys.path.insert(0, str(ROOT / "tests" / "templates"))

from merge_fixtures import save_llama_family  # noqa: E402
from mergepack.hf import load_states  # noqa: E402
from mergepack.merging import Recipe, merge_state_dicts  # noqa: E402

CONFIG = """merge_method: ties
base_model: {base}
models:
  - model: {a}
    parameters: {{weight: {wa}, density: 0.5}}
  - model: {b}
    parameters: {{weight: 0.5, density: 0.5}}
dtype: float32
"""


def evaluate(model, tokens) -> float:
    with torch.no_grad():
        return -model(input_ids=tokens, labels=tokens).loss.item()


def time_ours(paths, tokens, repeats: int) -> list[float]:
    from transformers import AutoModelForCausalLM

    states = {k: AutoModelForCausalLM.from_pretrained(p).state_dict() for k, p in paths.items()}
    model = AutoModelForCausalLM.from_pretrained(paths["base"]).eval()
    times = []
    for k in range(repeats):
        start = time.perf_counter()
        recipe = Recipe("ties", [0.3 + 0.01 * k, 0.5], [0.5, 0.5])
        merged = merge_state_dicts(recipe, states["base"], [states["model_a"], states["model_b"]])
        model.load_state_dict(merged)
        evaluate(model, tokens)
        times.append(time.perf_counter() - start)
    return times


def time_mergekit(paths, tokens, repeats: int, cli: bool, work: Path) -> list[float]:
    import yaml
    from mergekit.config import MergeConfiguration
    from mergekit.merge import MergeOptions, run_merge
    from transformers import AutoModelForCausalLM

    options = MergeOptions(copy_tokenizer=False, write_model_card=False, quiet=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    times = []
    for k in range(repeats):
        text = CONFIG.format(
            base=paths["base"], a=paths["model_a"], b=paths["model_b"], wa=0.3 + 0.01 * k
        )
        out = work / f"candidate_{int(cli)}_{k}"
        start = time.perf_counter()
        if cli:
            config = work / "merge.yml"
            config.write_text(text)
            subprocess.run(
                [
                    shutil.which("mergekit-yaml"),
                    str(config),
                    str(out),
                    "--no-cuda",
                    "--quiet",
                    "--no-copy-tokenizer",
                    "--no-write-model-card",
                ],
                env=env,
                check=True,
                capture_output=True,
            )
        else:
            run_merge(MergeConfiguration.model_validate(yaml.safe_load(text)), str(out), options)
        evaluate(AutoModelForCausalLM.from_pretrained(out).eval(), tokens)
        times.append(time.perf_counter() - start)
        shutil.rmtree(out)
    return times


GPT2_SMALL_LLAMA = {
    "vocab_size": 8192,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "num_key_value_heads": 12,
    "max_position_embeddings": 1024,
    "tie_word_embeddings": False,
}
TINYLLAMA_1B = {
    "vocab_size": 32000,
    "hidden_size": 2048,
    "intermediate_size": 5632,
    "num_hidden_layers": 22,
    "num_attention_heads": 32,
    "num_key_value_heads": 4,
    "max_position_embeddings": 2048,
    "tie_word_embeddings": False,
}
OPERATORS = ("linear", "task_arithmetic", "ties", "dare_ties", "dare_linear")


def save_124m_family(root: Path) -> dict[str, Path]:
    """A random 126M Llama base and two 'fine-tunes' (base + small distinct perturbations)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    base = LlamaForCausalLM(LlamaConfig(**GPT2_SMALL_LLAMA))
    paths = {"base": root / "base"}
    base.save_pretrained(paths["base"])
    state = {k: v.clone() for k, v in base.state_dict().items()}
    for k, name in enumerate(("model_a", "model_b")):
        generator = torch.Generator().manual_seed(k + 1)
        with torch.no_grad():
            for key, param in base.state_dict().items():
                param.copy_(state[key] + 0.01 * torch.randn(param.shape, generator=generator))
        paths[name] = root / name
        base.save_pretrained(paths[name])
    return paths


def copy_bandwidth(device: str = "cpu", numel: int = 1 << 26, repeats: int = 5) -> float:
    """Bytes moved per second (read + write) by the best of `repeats` float32 copies."""
    source, target = torch.rand(numel, device=device), torch.empty(numel, device=device)
    best = min(_timed(lambda: target.copy_(source), device) for _ in range(repeats))
    return 2 * 4 * numel / best


def _timed(action, device: str = "cpu") -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    action()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def mergekit_candidate(method: str, paths: dict[str, Path], out: Path) -> float:
    import yaml
    from mergekit.config import MergeConfiguration
    from mergekit.merge import MergeOptions, run_merge
    from transformers import AutoModelForCausalLM

    options = MergeOptions(copy_tokenizer=False, write_model_card=False, quiet=True)
    sources = "".join(
        f"  - model: {paths[name]}\n    parameters: {{weight: 0.5, density: 0.5}}\n"
        for name in ("model_a", "model_b")
    )
    base = "" if method == "linear" else f"base_model: {paths['base']}\n"
    text = f"merge_method: {method}\n{base}models:\n{sources}dtype: float32\n"
    start = time.perf_counter()
    run_merge(MergeConfiguration.model_validate(yaml.safe_load(text)), str(out), options)
    AutoModelForCausalLM.from_pretrained(out)
    seconds = time.perf_counter() - start
    shutil.rmtree(out)
    return seconds


def table_124m(repeats: int) -> None:
    bandwidth = copy_bandwidth()
    with tempfile.TemporaryDirectory() as tmp:
        paths = save_124m_family(Path(tmp))
        names = ("base", "model_a", "model_b")
        model, loaded = load_states([str(paths[name]) for name in names], "cpu", torch.float32)
        states = dict(zip(names, loaded, strict=True))
        n_params = sum(v.numel() for v in states["base"].values())
        resident = model.state_dict()
        rows = []
        for method in OPERATORS:
            recipe = Recipe(method, [0.5, 0.5], [0.5, 0.5])
            base = None if method == "linear" else states["base"]
            sources = [states["model_a"], states["model_b"]]
            merge_state_dicts(recipe, base, sources, out=resident)  # first touch of the pages
            ours = statistics.median(
                _timed(partial(merge_state_dicts, recipe, base, sources, out=resident))
                for _ in range(repeats)
            )
            kit = [mergekit_candidate(method, paths, Path(tmp) / "out") for _ in range(repeats)]
            inputs = 2 if base is None else 3
            bound = (inputs + 1) * 4 * n_params / bandwidth
            rows.append((method, ours, statistics.median(kit), bound))
    print(f"machine: {describe()}; torch {torch.__version__}, 1 thread")
    print(
        f"model: Llama {n_params / 1e6:.0f}M parameters (hidden 768, 12 layers, vocab 8192), "
        f"float32; 2 fine-tunes + base; copy bandwidth {bandwidth / 1e9:.2f} GB/s; "
        f"median of {repeats}"
    )
    header = ("operator", "ours s", "mergekit s", "x faster", "bound s", "% of bound")
    print("".join(f"{h:>12}" if k else f"{h:<16}" for k, h in enumerate(header)))
    for method, ours, kit, bound in rows:
        print(
            f"{method:<16}{ours:>12.3f}{kit:>12.3f}{kit / ours:>12.1f}{bound:>12.3f}"
            f"{100 * bound / ours:>11.0f}%"
        )


def table_1b(repeats: int, device: str) -> None:
    """Ours against the bound for a 1.1B Llama family held in `device` memory."""
    from transformers import LlamaConfig, LlamaForCausalLM

    bandwidth = copy_bandwidth(device)
    torch.manual_seed(0)
    with torch.device(device):
        base = LlamaForCausalLM(LlamaConfig(**TINYLLAMA_1B)).state_dict()
    sources = [{k: v + 0.01 * torch.randn_like(v) for k, v in base.items()} for _ in range(2)]
    resident = {k: torch.empty_like(v) for k, v in base.items()}
    n_params = sum(v.numel() for v in base.values())
    rows = []
    for method in OPERATORS:
        recipe = Recipe(method, [0.5, 0.5], [0.5, 0.5])
        anchor = None if method == "linear" else base
        merge = partial(merge_state_dicts, recipe, anchor, sources, out=resident)
        merge()
        ours = statistics.median(_timed(merge, device) for _ in range(repeats))
        inputs = 2 if anchor is None else 3
        rows.append((method, ours, (inputs + 1) * 4 * n_params / bandwidth))
    print(f"machine: {describe()}; {torch.cuda.get_device_name() if device == 'cuda' else 'CPU'}")
    print(
        f"model: Llama {n_params / 1e9:.2f}B parameters (TinyLlama shape), float32, on {device}; "
        f"2 fine-tunes + base; copy bandwidth {bandwidth / 1e9:.0f} GB/s; median of {repeats}"
    )
    print(f"{'operator':<16}{'ours s':>12}{'bound s':>12}{'% of bound':>12}")
    for method, ours, bound in rows:
        print(f"{method:<16}{ours:>12.3f}{bound:>12.3f}{100 * bound / ours:>11.0f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--family", choices=("tiny", "124m", "1b"), default="tiny")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--cli-repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    transformers.utils.logging.disable_progress_bar()
    if args.family == "124m":
        table_124m(args.repeats)
        return
    if args.family == "1b":
        table_1b(args.repeats, args.device)
        return
    tokens = torch.randint(0, 64, (4, 16), generator=torch.Generator().manual_seed(0))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        paths = save_llama_family(work)
        rows = [("in memory (this pack)", time_ours(paths, tokens, args.repeats))]
        if shutil.which("mergekit-yaml"):
            rows.append(
                (
                    "mergekit run_merge + load",
                    time_mergekit(paths, tokens, args.repeats, False, work),
                )
            )
            rows.append(
                (
                    "mergekit-yaml CLI + load",
                    time_mergekit(paths, tokens, args.cli_repeats, True, work),
                )
            )
    print(f"machine: {describe()}; torch {torch.__version__}, 1 thread")
    print("model: tiny Llama (hidden 32, 2 layers, vocab 64), TIES of two fine-tunes + 1 eval")
    print(f"{'method':<28}{'n':>4}{'median s':>12}{'mean s':>10}{'x ours':>10}")
    ours = statistics.median(rows[0][1])
    for name, times in rows:
        median = statistics.median(times)
        print(
            f"{name:<28}{len(times):>4}{median:>12.4f}{statistics.mean(times):>10.4f}"
            f"{median / ours:>10.1f}"
        )


if __name__ == "__main__":
    main()
