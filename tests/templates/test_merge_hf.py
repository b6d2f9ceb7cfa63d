"""The real-model path: merge and evolve local Hugging Face Llama checkpoints in memory."""

from __future__ import annotations

import json
import textwrap

import pytest
import torch
from merge_fixtures import copy_pack, run_script, save_llama_family

from scientist.models import FinalInfo

EVALUATOR = textwrap.dedent(
    """
    import torch

    TOKENS = {
        "dev": torch.randint(0, 64, (4, 16), generator=torch.Generator().manual_seed(1)),
        "test": torch.randint(0, 64, (4, 16), generator=torch.Generator().manual_seed(2)),
    }

    def negative_loss(model, split):
        tokens = TOKENS[split].to(model.device)
        return -model(input_ids=tokens, labels=tokens).loss.item()
    """
)


@pytest.fixture(scope="module")
def family(tmp_path_factory):
    return save_llama_family(tmp_path_factory.mktemp("llama"))


def run_hf(tmp_path, family, overrides):
    pack = copy_pack(tmp_path)
    (pack / "lm_eval_fn.py").write_text(EVALUATOR)
    (tmp_path / "overrides.json").write_text(json.dumps(overrides))
    args = [
        "experiment.py",
        "--out-dir",
        str(tmp_path / "out"),
        "--smoke",
        "--config",
        str(tmp_path / "overrides.json"),
        "--hf-models",
        str(family["model_a"]),
        str(family["model_b"]),
        "--hf-base",
        str(family["base"]),
        "--eval",
        "lm_eval_fn:negative_loss",
    ]
    return run_script(pack, args)


@pytest.mark.slow
def test_hf_models_are_evolved_in_memory_and_reported(tmp_path, family):
    completed = run_hf(tmp_path, family, {"method": "ps", "ps_operator": "ties", "generations": 3})
    assert completed.returncode == 0, completed.stderr[-3000:]
    info = FinalInfo.model_validate_json((tmp_path / "out" / "final_info.json").read_text())
    raw = json.loads((tmp_path / "out" / "final_info.json").read_text())
    history = raw["hf"]["history"]["ps"]
    assert len(history) == 3
    assert [h["best_so_far"] for h in history] == sorted(h["best_so_far"] for h in history)
    assert set(raw["hf"]["recipe"]["weights"]) == {"embed", "block0", "block1", "head"}
    for name in ("source_0", "source_1", "linear", "ties"):
        assert f"target_accuracy_{name}" in info.metrics
    assert list((tmp_path / "out").glob("*.safetensors")) == []


@pytest.mark.slow
@pytest.mark.parametrize("method", ["dfs", "ps_dfs"])
def test_hf_layer_paths_are_evolved_across_checkpoints(tmp_path, family, method):
    budget = {"generations": 2, "dfs_generations": 3, "dfs_repeats": 2}
    completed = run_hf(tmp_path, family, {"method": method, **budget})
    assert completed.returncode == 0, completed.stderr[-3000:]
    raw = json.loads((tmp_path / "out" / "final_info.json").read_text())
    history = raw["hf"]["history"]["dfs"]
    assert len(history) == 3
    assert [h["best_so_far"] for h in history] == sorted(h["best_so_far"] for h in history)
    path = raw["hf"]["path"]
    assert len(path["path"]) == len(path["scales"]) >= 1
    pool = {"ps", "source_0", "source_1"} if method == "ps_dfs" else {"source_0", "source_1"}
    assert {step.split(".")[0] for step in path["path"]} <= pool
    assert ("ps" in raw["hf"]["history"]) == (method == "ps_dfs")
    assert "target_accuracy" in raw["metrics"]
    assert list((tmp_path / "out").glob("*.safetensors")) == []


@pytest.mark.slow
def test_hf_fixed_recipe_matches_the_operator_applied_directly(tmp_path, family):
    from transformers import AutoModelForCausalLM

    completed = run_hf(tmp_path, family, {"method": "task_arithmetic", "hand_weight": 0.5})
    assert completed.returncode == 0, completed.stderr[-3000:]
    reported = json.loads((tmp_path / "out" / "final_info.json").read_text())
    score = reported["metrics"]["target_accuracy"]["mean"]
    states = {k: AutoModelForCausalLM.from_pretrained(p).state_dict() for k, p in family.items()}
    model = AutoModelForCausalLM.from_pretrained(family["base"])
    with torch.no_grad():
        for name, param in model.state_dict().items():
            tau = states["model_a"][name] + states["model_b"][name] - 2 * states["base"][name]
            param.copy_(states["base"][name] + 0.5 * tau)
    tokens = torch.randint(0, 64, (4, 16), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = -model(input_ids=tokens, labels=tokens).loss.item()
    # on a GPU the pack merges and scores in bf16; the reference here is float32
    assert score == pytest.approx(expected, abs=5e-2 if torch.cuda.is_available() else 1e-4)


def test_hf_search_that_needs_a_base_without_one_is_a_usage_error(tmp_path, family):
    pack = copy_pack(tmp_path)
    completed = run_script(
        pack,
        [
            "experiment.py",
            "--out-dir",
            str(tmp_path / "out"),
            "--smoke",
            "--hf-models",
            str(family["model_a"]),
            str(family["model_b"]),
            "--eval",
            "nowhere:fn",
        ],
    )
    assert completed.returncode == 2 and "--hf-base" in completed.stderr
