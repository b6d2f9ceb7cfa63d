"""Runs in the real local sandbox: artifacts, idempotency, failures recorded once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scientist.config import CampaignConfig
from scientist.errors import TemplateError
from scientist.experiments.runs import execute_run, improvement, prepare_code_dir
from scientist.experiments.smoke import check_pack
from scientist.sandbox import open_sandbox
from scientist.templates import load_template


@pytest.fixture
def setup(tmp_path: Path, run_cache: Path, toy_pack: Path):
    config = CampaignConfig(template=str(toy_pack), smoke=True, seeds=[0, 1])
    template = load_template(str(toy_pack))
    code = prepare_code_dir(template, tmp_path / "code")
    return config, template, open_sandbox(config.sandbox), code


def test_run_writes_artifacts_and_is_never_repeated(setup, tmp_path: Path, run_log):
    config, template, sandbox, code = setup
    kwargs = dict(idea_id="i", index=1, code_dir=code, run_dir=tmp_path / "run_1")
    first = execute_run(sandbox, template, config, overrides={"lr": 0.1, "seeds": [0, 1]}, **kwargs)
    assert first.result.ok
    assert first.final_info is not None and first.final_info.seeds == [0, 1]
    assert first.final_info.config["lr"] == 0.1
    names = {p.name for p in (tmp_path / "run_1").iterdir()}
    records = {"result.json", "overrides.json", "code.diff", "stdout.log", "stderr.log"}
    assert names == {"outputs", *records}
    assert (tmp_path / "run_1" / "outputs" / "final_info.json").is_file()
    assert "seed 1: score" in (tmp_path / "run_1" / "stdout.log").read_text()
    again = execute_run(sandbox, template, config, overrides={"lr": 0.1, "seeds": [0, 1]}, **kwargs)
    assert again.metric("score") == first.metric("score")
    assert run_log() == [("start", "i/run_1"), ("done", "i/run_1")]


def test_code_edits_are_snapshotted_as_a_diff(setup, tmp_path: Path):
    config, template, sandbox, code = setup
    source = (code / "experiment.py").read_text()
    (code / "experiment.py").write_text(source.replace("BONUS = 0.0", "BONUS = 0.5"))
    run = execute_run(
        sandbox,
        template,
        config,
        idea_id="i",
        index=1,
        code_dir=code,
        run_dir=tmp_path / "run_1",
        overrides={"seeds": [0]},
    )
    diff = (tmp_path / "run_1" / "code.diff").read_text()
    assert "-BONUS = 0.0" in diff and "+BONUS = 0.5" in diff
    assert run.metric("score") > 1.3


def test_failed_run_is_recorded_once_with_its_error(setup, tmp_path: Path, run_cache: Path):
    config, template, sandbox, code = setup
    kwargs = dict(idea_id="i", index=1, code_dir=code, run_dir=tmp_path / "run_1")
    failed = execute_run(sandbox, template, config, overrides={"colour": "red"}, **kwargs)
    assert failed.result.status == "error" and failed.final_info is None
    assert "unknown config keys: ['colour']" in failed.result.stderr_tail
    again = execute_run(sandbox, template, config, overrides={"colour": "red"}, **kwargs)
    assert again.result.status == "error"
    assert json.loads((tmp_path / "run_1" / "overrides.json").read_text()) == {"colour": "red"}


def test_half_finished_run_is_run_again(setup, tmp_path: Path, run_cache: Path):
    config, template, sandbox, code = setup
    run_dir = tmp_path / "run_1"
    run_dir.mkdir()
    (run_dir / "stdout.log").write_text("from a crashed attempt")
    run = execute_run(
        sandbox,
        template,
        config,
        idea_id="i",
        index=1,
        code_dir=code,
        run_dir=run_dir,
        overrides={"seeds": [0]},
    )
    assert run.result.ok and "crashed" not in (run_dir / "stdout.log").read_text()


def test_pack_check_rejects_a_pack_without_its_metric(
    tmp_path: Path, run_cache: Path, toy_pack: Path
):
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("template.toml", "plot.py", "seed_ideas.json"):
        (broken / name).write_text((toy_pack / name).read_text())
    source = (toy_pack / "experiment.py").read_text()
    (broken / "experiment.py").write_text(source.replace('{"score": {', '{"accuracy": {'))
    config = CampaignConfig(template=str(broken))
    with pytest.raises(TemplateError, match="metric 'score'"):
        check_pack(load_template(str(broken)), open_sandbox(config.sandbox), config)


def test_pack_check_passes_and_is_cached_where_no_run_reaches(
    run_cache: Path, toy_pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "host-cache"))
    config = CampaignConfig(template=str(toy_pack))
    template = load_template(str(toy_pack))
    info = check_pack(template, open_sandbox(config.sandbox), config)
    assert "score" in info.metrics
    assert list((tmp_path / "host-cache" / "scientist" / "checks").iterdir())
    assert not (run_cache / "checks").exists()
    assert check_pack(template, open_sandbox(config.sandbox), config) == info


def test_improvement_is_signed_by_goal():
    assert improvement(0.9, 0.8, "maximize") == pytest.approx(0.1)
    assert improvement(0.9, 0.8, "minimize") == pytest.approx(-0.1)
    assert improvement(None, 0.8, "maximize") is None
