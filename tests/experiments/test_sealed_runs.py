"""Sealed run records: the host writes them, the run's outputs live apart, and only a
record whose hash still matches its final info is trusted, on every backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.errors import SandboxUnavailable
from scientist.experiments.runs import execute_run, pack_cache, prepare_code_dir
from scientist.models import ExperimentRun
from scientist.records.runs import FINAL_INFO, OUTPUTS, RESULT, finished_run
from scientist.sandbox import open_sandbox
from scientist.templates import Template, load_template
from tests.fixtures.hostile import FORGED_SCORE, hostile_pack

BACKENDS = [
    pytest.param("local", id="local"),
    pytest.param("docker", id="docker", marks=pytest.mark.docker),
]


def _run(kind: str, tmp_path: Path, *, fail: bool) -> tuple[ExperimentRun, Template, Path]:
    run_dir = tmp_path / "campaign" / "run_1"
    pack = hostile_pack(tmp_path / "pack", fail=fail, targets=[run_dir, run_dir / OUTPUTS])
    config = CampaignConfig(template=str(pack), smoke=True, seeds=[0], sandbox={"kind": kind})
    try:
        sandbox = open_sandbox(config.sandbox)
    except SandboxUnavailable as exc:
        pytest.skip(f"{kind} sandbox unavailable here: {exc}")
    template = load_template(str(pack))
    code = prepare_code_dir(template, tmp_path / "code")
    run = execute_run(
        sandbox,
        template,
        config,
        idea_id="hostile",
        index=1,
        code_dir=code,
        run_dir=run_dir,
        overrides={"seeds": [0]},
    )
    return run, template, run_dir


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_forging_run_keeps_its_genuine_metric_and_the_hosts_records(
    kind: str, tmp_path: Path
) -> None:
    run, template, run_dir = _run(kind, tmp_path, fail=False)
    assert run.result.ok, run.result
    genuine = json.loads((run_dir / OUTPUTS / FINAL_INFO).read_text())
    assert run.metric("score") == genuine["metrics"]["score"]["mean"] != FORGED_SCORE
    assert "seed 0: score" in (run_dir / "stdout.log").read_text()
    assert (run_dir / "code.diff").read_text() == ""
    assert json.loads((run_dir / "overrides.json").read_text()) == {"seeds": [0]}
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(
        [OUTPUTS, RESULT, "overrides.json", "code.diff", "stdout.log", "stderr.log"]
    )
    assert finished_run(run_dir, template, "hostile", 1) == run


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_failing_run_that_forges_success_stays_failed(kind: str, tmp_path: Path) -> None:
    run, template, run_dir = _run(kind, tmp_path, fail=True)
    assert run.result.status == "error" and run.final_info is None
    assert json.loads((run_dir / RESULT).read_text())["final_info_sha256"] is None
    assert finished_run(run_dir, template, "hostile", 1) == run


def test_a_record_whose_final_info_changed_is_not_trusted(tmp_path: Path) -> None:
    _, template, run_dir = _run("local", tmp_path, fail=False)
    final_info = run_dir / OUTPUTS / FINAL_INFO
    forged = json.loads(final_info.read_text())
    forged["metrics"]["score"]["mean"] = FORGED_SCORE
    final_info.write_text(json.dumps(forged))
    assert finished_run(run_dir, template, "hostile", 1) is None


def test_a_record_that_is_a_link_is_not_trusted(tmp_path: Path) -> None:
    _, template, run_dir = _run("local", tmp_path, fail=False)
    (run_dir / RESULT).rename(tmp_path / "elsewhere.json")
    (run_dir / RESULT).symlink_to(tmp_path / "elsewhere.json")
    assert finished_run(run_dir, template, "hostile", 1) is None


def test_a_campaigns_runs_share_its_own_cache_unless_the_operator_shares_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SCIENTIST_CACHE", raising=False)
    campaign = tmp_path / "c"
    (campaign / "ideas" / "x" / "runs" / "run_1").mkdir(parents=True)
    (campaign / Campaign.CONFIG).write_text("")
    assert pack_cache(campaign / "ideas" / "x" / "runs" / "run_1") == campaign / "cache"
    assert pack_cache(campaign / "baseline" / "run_0") == campaign / "cache"
    assert pack_cache(tmp_path / "check" / "run") == tmp_path / "check" / "cache"
    monkeypatch.setenv("SCIENTIST_CACHE", str(tmp_path / "shared"))
    assert pack_cache(campaign / "baseline" / "run_0") == tmp_path / "shared"
