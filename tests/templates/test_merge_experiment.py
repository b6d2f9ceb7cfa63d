"""The merge pack honours the experiment-pack contract, run as a sandbox would run it."""

from __future__ import annotations

import json

import pytest
from merge_fixtures import copy_pack, run_script

from scientist.models import FinalInfo, Idea
from scientist.templates import load_template

TINY = {"seeds": [0], "pretrain_steps": 150, "finetune_steps": 30, "generations": 3}


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return copy_pack(tmp_path_factory.mktemp("workspace"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def test_manifest_and_seed_ideas_are_valid_and_use_known_knobs(pack):
    template = load_template(str(pack))
    assert template.manifest.metric.name == "target_accuracy"
    ideas = [Idea.model_validate(i) for i in json.loads((pack / "seed_ideas.json").read_text())]
    assert 3 <= len(ideas) <= 5
    for idea in ideas:
        assert set(idea.overrides) <= set(template.manifest.search_space)


def test_the_baseline_is_a_hand_merge_that_no_seed_idea_repeats(pack):
    from mergepack.settings import load_config

    template = load_template(str(pack))
    assert template.manifest.baseline == {"method": "task_arithmetic"}
    baseline = {**load_config(None, smoke=False), **template.manifest.baseline}
    assert template.seed_ideas_repeating_baseline(baseline) == []


def test_unknown_config_key_is_a_one_line_error(pack, tmp_path):
    config = tmp_path / "overrides.json"
    config.write_text(json.dumps({"populaton": 8}))
    completed = run_script(
        pack,
        ["experiment.py", "--out-dir", str(tmp_path / "o"), "--config", str(config), "--smoke"],
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0
    assert "populaton" in completed.stderr


def test_out_of_range_value_is_rejected(pack, tmp_path):
    config = tmp_path / "overrides.json"
    config.write_text(json.dumps({"method": "evolve_everything"}))
    completed = run_script(
        pack, ["experiment.py", "--out-dir", str(tmp_path / "o"), "--config", str(config)]
    )
    assert completed.returncode == 2 and "method" in completed.stderr


@pytest.mark.slow
@pytest.mark.parametrize("overrides", [{}, {"method": "ps_dfs", "ps_operator": "dare_ties"}])
def test_smoke_run_writes_valid_final_info_and_figures(pack, cache, tmp_path, overrides):
    (tmp_path / "overrides.json").write_text(json.dumps({**overrides, **TINY}))
    args = ["experiment.py", "--out-dir", str(tmp_path / "run"), "--smoke"]
    args += ["--config", str(tmp_path / "overrides.json")]
    completed = run_script(pack, args, cache=cache)
    assert completed.returncode == 0, completed.stderr[-3000:]
    info = FinalInfo.model_validate_json((tmp_path / "run" / "final_info.json").read_text())
    assert "target_accuracy" in info.metrics
    assert info.config["method"] == overrides.get("method", "ps")
    assert info.seeds == [0]
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    run = results["runs"][0]
    for model in ("A", "B", "linear", "task_arithmetic", "ties", "dare_ties", "evolved"):
        assert set(run["models"][model]) == {"A", "B", "C"}
    assert run["history"]["ps"], "the parameter-space search recorded no generation"
    if overrides:
        assert run["path"]["path"] and run["history"]["dfs"]
        assert run["recipe"]["densities"], "dare_ties evolves densities"
    plotted = run_script(
        pack, ["plot.py", "--runs", str(tmp_path / "run"), "--out-dir", str(tmp_path / "figures")]
    )
    assert plotted.returncode == 0, plotted.stderr[-3000:]
    names = {p.name for p in (tmp_path / "figures").iterdir()}
    assert {"fitness.png", "fitness.pdf", "accuracy.png", "recipe.pdf"} <= names
    if overrides:
        assert "layer_path.png" in names


def test_smoke_caps_the_budgets_of_overrides_and_keeps_their_choices(tmp_path):
    from mergepack.settings import DEFAULTS, load_config

    config = tmp_path / "overrides.json"
    config.write_text(json.dumps({"generations": 60, "seeds": [3, 4], "method": "dfs"}))
    smoke = load_config(config, smoke=True)
    assert (smoke["generations"], smoke["seeds"], smoke["method"]) == (12, [3, 4], "dfs")
    full = load_config(config, smoke=False)
    assert (full["generations"], full["seeds"]) == (60, [3, 4])
    assert load_config(None, smoke=False) == DEFAULTS
