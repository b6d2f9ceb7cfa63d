"""The pack contract: manifest, seed ideas, config handling, a smoke run and its figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from namm_fixtures import PACK, run_pack, single_thread  # noqa: F401
from nammlib.inference import run_episode
from nammlib.policies import Namm
from nammlib.settings import DEFAULTS, SMOKE_CAPS, SettingsError, resolve
from nammlib.study import scorer_spec
from nammlib.world import ModelSpec, RecallLM, WorldSpec, make_batch

from scientist.manifest import Range
from scientist.models import FinalInfo, Idea
from scientist.templates import load_template


def test_manifest_and_seed_ideas_are_valid() -> None:
    template = load_template("namm")
    assert template.manifest.metric.name == "namm_accuracy"
    assert set(template.manifest.search_space) <= set(DEFAULTS)
    ideas = [Idea.model_validate(i) for i in json.loads((PACK / "seed_ideas.json").read_text())]
    assert 3 <= len(ideas) <= 5
    for idea in ideas:
        assert idea.origin == "seed"
        resolve(idea.overrides, smoke=False)


def test_no_seed_idea_repeats_the_baseline() -> None:
    template = load_template("namm")
    assert template.seed_ideas_repeating_baseline(resolve({}, smoke=False)) == []


def test_every_search_space_extreme_is_valid_and_runs() -> None:
    """Each knob at each end of its range resolves (smoke too) and runs a NAMM episode."""
    space = load_template("namm").manifest.search_space
    world = WorldSpec(context=64, n_pairs=4)
    model = RecallLM(world.vocab, ModelSpec(d_model=16, n_layers=1, n_heads=2)).eval()
    batch = make_batch(world, 2, torch.Generator().manual_seed(0))
    for knob, choices in space.items():
        values = [choices.low, choices.high] if isinstance(choices, Range) else choices
        for value in values:
            value = int(value) if isinstance(choices, Range) and choices.integer else value
            config = resolve({knob: value}, smoke=False)
            assert config[knob] == value
            smoke = resolve({knob: value}, smoke=True)
            if knob not in {*SMOKE_CAPS, "n_up"}:
                assert smoke[knob] == value
            spec = scorer_spec(config)
            genome = torch.randn(spec.n_params, generator=torch.Generator().manual_seed(0))
            budget = round(config["main_budget"] * world.context)
            result = run_episode(model, batch, Namm(spec, genome), budget, config["n_up"])
            assert int(result.keep_mask.sum(-1).max()) <= budget


def test_smoke_caps_costs_but_keeps_other_overrides() -> None:
    config = resolve({"generations": 20, "ema_gamma": 0.7, "seeds": [3, 4]}, smoke=True)
    assert config["generations"] == 2 and config["ema_gamma"] == 0.7 and config["seeds"] == [3]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n_fft_size": 8}, "unknown config keys: n_fft_size"),
        ({"use_stft": 1}, "true or false"),
        ({"budgets": [0.0]}, "fractions"),
        ({"hop": 16, "n_fft": 8}, "hop"),
        ({"ablations": ["no_mlp"]}, "unknown ablations"),
    ],
)
def test_bad_overrides_are_refused(overrides: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        resolve(overrides, smoke=False)


def test_unknown_key_exits_2_with_one_line(tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.json"
    overrides.write_text(json.dumps({"not_a_knob": 1}))
    done = run_pack(
        "experiment.py",
        "--out-dir",
        str(tmp_path / "out"),
        "--config",
        str(overrides),
        cache=tmp_path / "cache",
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "error: unknown config keys: not_a_knob"
    assert not (tmp_path / "out" / "final_info.json").exists()


@pytest.mark.slow
def test_smoke_run_writes_valid_final_info_and_figures(tmp_path: Path) -> None:
    out = tmp_path / "run"
    overrides = tmp_path / "overrides.json"
    overrides.write_text(json.dumps({"n_up": 8, "ema_gamma": 0.8}))
    done = run_pack(
        "experiment.py",
        "--out-dir",
        str(out),
        "--smoke",
        "--config",
        str(overrides),
        cache=tmp_path / "cache",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    info = FinalInfo.model_validate_json((out / "final_info.json").read_text())
    assert info.config["n_up"] == 8 and info.config["ema_gamma"] == 0.8
    for name in ("namm", "full", "h2o", "l2", "l2_inverted", "recency", "random", "oracle"):
        assert 0.0 <= info.metrics[f"{name}_accuracy"].mean <= 1.0
        assert f"{name}_transfer_accuracy" in info.metrics
    assert info.metrics["full_retained"].mean == 1.0
    assert info.metrics["h2o_retained"].mean <= info.config["main_budget"] + 1e-9
    assert "eviction_overhead_us_per_token" in info.metrics
    assert "namm_adaptive_retained" in info.metrics
    assert list((tmp_path / "cache" / "namm").glob("recall_*.pt"))
    figures = tmp_path / "figures"
    plotted = run_pack("plot.py", "--runs", str(out), "--out-dir", str(figures), cache=tmp_path)
    assert plotted.returncode == 0, plotted.stderr[-2000:]
    for stem in ("accuracy_vs_budget", "evolution", "kept_tokens"):
        assert (figures / f"{stem}.png").stat().st_size > 1000
        assert (figures / f"{stem}.pdf").stat().st_size > 1000


def test_qk_norm_gives_every_key_one_norm_until_its_gain_is_trained() -> None:
    world = WorldSpec(context=32, n_pairs=4)
    tokens = make_batch(world, 3, torch.Generator().manual_seed(0)).tokens
    for qk_norm in (True, False):
        torch.manual_seed(0)
        model = RecallLM(world.vocab, ModelSpec(d_model=16, n_layers=1, n_heads=2, qk_norm=qk_norm))
        x = model.embed_tokens(tokens, torch.zeros(3, dtype=torch.long))
        norms = model.blocks[0].heads(x)[1].norm(dim=-1)
        assert torch.allclose(norms, torch.full_like(norms, 8**0.5), atol=1e-3) == qk_norm
