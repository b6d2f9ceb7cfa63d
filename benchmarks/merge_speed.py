"""Time per evaluated merge candidate: the merge pack's in-memory merge vs mergekit via disk.

Each candidate is a TIES merge of two tiny Llama fine-tunes onto their base, followed by one
evaluation forward pass. "in memory" merges state dicts and loads them into one resident
model; "mergekit run_merge" calls mergekit's Python API (writes safetensors) and loads the
result with transformers; "mergekit-yaml" also pays the CLI start-up, as mergekit-evolve's
default does. Usage: python benchmarks/merge_speed.py [--repeats N] [--hidden 64]
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
from pathlib import Path

import torch
import transformers
from machine import describe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "templates" / "merge"))
sys.path.insert(0, str(ROOT / "tests" / "templates"))

from merge_fixtures import save_llama_family  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--cli-repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    transformers.utils.logging.disable_progress_bar()
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
