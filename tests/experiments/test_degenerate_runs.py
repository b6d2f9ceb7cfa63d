"""A run's final_info.json: validation errors come first, and sanity bounds fail degenerate runs."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scientist.errors import TemplateError
from scientist.models import RunResult
from scientist.templates import load_template
from tests.conftest import EXPERIMENT_PRELUDE, TOY_PACK

NO_METRICS = (
    EXPERIMENT_PRELUDE
    + """
args.out_dir.mkdir(parents=True, exist_ok=True)
(args.out_dir / "final_info.json").write_text(json.dumps({"seeds": [0], "runtime_s": 1.0}))
print("UserWarning: TypedStorage is deprecated", file=sys.stderr)
"""
)


def failed_check(pack: Path) -> str:
    """The first stderr line of `scientist templates check PACK`, which must exit 2."""
    command = [sys.executable, "-m", "scientist", "templates", "check", str(pack)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stdout
    return result.stderr.strip().splitlines()[0]


def test_a_final_info_without_metrics_reports_that_first(tmp_path: Path, run_cache) -> None:
    pack = tmp_path / "no_metrics"
    shutil.copytree(TOY_PACK, pack)
    (pack / "experiment.py").write_text(NO_METRICS)
    first = failed_check(pack)
    assert "field 'metrics': Field required" in first
    assert first.index("field 'metrics'") < first.index("UserWarning")


def test_the_failure_line_puts_the_message_before_stderr() -> None:
    result = RunResult(
        exit_code=0, status="error", message="final_info.json: field 'metrics': Field required",
        stderr_tail="Traceback\nUserWarning: harmless\n",
    )  # fmt: skip
    assert result.failure() == (
        "final_info.json: field 'metrics': Field required | UserWarning: harmless"
    )


def write_info(path: Path, metrics: dict[str, list[float]]) -> Path:
    info = {"metrics": {k: {"values": v} for k, v in metrics.items()}, "seeds": [0, 1]}
    path.write_text(json.dumps({**info, "runtime_s": 1.0}))
    return path


@pytest.fixture
def bounded(tmp_path: Path):
    pack = tmp_path / "bounded"
    shutil.copytree(TOY_PACK, pack)
    manifest = (pack / "template.toml").read_text()
    manifest += "\n[sanity.train_loss]\ngt = 0\n\n[sanity.tokens]\ngt = 0\n"
    (pack / "template.toml").write_text(manifest)
    return load_template(str(pack))


def test_values_outside_the_sanity_bounds_fail_the_run(bounded, tmp_path: Path) -> None:
    good = {"score": [0.8, 0.81], "train_loss": [0.3, 0.2], "tokens": [1e6, 1e6]}
    assert bounded.read_final_info(write_info(tmp_path / "ok.json", good))

    empty_data = {**good, "tokens": [0.0, 0.0]}
    with pytest.raises(TemplateError, match=r"metric 'tokens' = 0 \(seed value 0\) breaks the "):
        bounded.read_final_info(write_info(tmp_path / "empty.json", empty_data))

    diverged = {**good, "train_loss": [0.3, math.inf]}
    with pytest.raises(TemplateError, match=r"'train_loss' = inf .* is not finite"):
        bounded.read_final_info(write_info(tmp_path / "nan.json", diverged))

    missing = {"score": [0.8, 0.81], "train_loss": [0.3, 0.2]}
    with pytest.raises(TemplateError, match=r"'tokens' has sanity bounds .* not reported"):
        bounded.read_final_info(write_info(tmp_path / "missing.json", missing))


def test_the_primary_metric_must_be_finite_without_any_bounds(tmp_path: Path) -> None:
    template = load_template(str(TOY_PACK))
    path = tmp_path / "final_info.json"
    path.write_text('{"metrics": {"score": {"values": [NaN, 1]}}, "seeds": [0], "runtime_s": 1}')
    with pytest.raises(TemplateError, match="degenerate run: metric 'score' = nan"):
        template.read_final_info(path)


def test_bounds_are_validated_in_the_manifest(bounded) -> None:
    root = bounded.root
    manifest = (root / "template.toml").read_text().replace("gt = 0\n", "gt = 0\nge = 1\n", 1)
    (root / "template.toml").write_text(manifest)
    with pytest.raises(TemplateError, match="give gt or ge, not both"):
        load_template(str(root))


def test_a_degenerate_smoke_run_fails_the_check_with_its_reason(tmp_path: Path, run_cache) -> None:
    pack = tmp_path / "too_good"
    shutil.copytree(TOY_PACK, pack)
    manifest = (pack / "template.toml").read_text() + "\n[sanity.score]\nlt = 0.01\n"
    (pack / "template.toml").write_text(manifest)
    first = failed_check(pack)
    assert "degenerate run: metric 'score' =" in first
    assert "breaks the bound < 0.01 (template.toml [sanity])" in first
