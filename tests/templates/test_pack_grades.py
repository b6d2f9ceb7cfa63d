"""On the unmodified shipped packs the grade equals the claim, seed by seed: the experiment
reports its numbers with the same held-out evaluation that the grader runs again, from the
pristine pack in a separate sandbox step (smoke size, one seed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scientist.config import CampaignConfig
from scientist.errors import SandboxUnavailable
from scientist.experiments.runs import execute_run, prepare_code_dir
from scientist.sandbox import open_sandbox
from scientist.templates import load_template

pytestmark = [pytest.mark.slow]


@pytest.mark.parametrize(
    ("pack", "metric"), [("merge", "target_accuracy"), ("namm", "namm_accuracy")]
)
def test_the_unmodified_pack_s_claim_is_its_grade(pack, metric, tmp_path: Path, run_cache) -> None:
    template = load_template(pack)
    assert template.manifest.grader is not None
    config = CampaignConfig(template=pack, smoke=True, seeds=[0])
    try:
        sandbox = open_sandbox(config.sandbox)
    except SandboxUnavailable as exc:
        pytest.skip(f"local sandbox unavailable here: {exc}")
    run = execute_run(
        sandbox,
        template,
        config,
        idea_id="check",
        index=1,
        code_dir=prepare_code_dir(template, tmp_path / "code"),
        run_dir=tmp_path / "runs" / "run_1",
        overrides={**template.manifest.baseline, "seeds": [0]},
    )
    assert run.result.ok, run.result.failure(tail_lines=5)
    assert run.grade == "graded" and run.mismatches == []
    graded = run.final_info.metrics
    assert metric in graded and len(graded) > 5
    for name, summary in graded.items():
        assert run.claimed[name].values == summary.values, name


@pytest.mark.parametrize("pack", ["merge", "namm", "circle_packing"])
def test_a_grader_imports_only_what_grading_needs(pack: str) -> None:
    """Every run is graded in a fresh process: a grader that pulled in the searches (CMA-ES,
    scipy) or the plotting stack would pay for them on every run."""
    root = load_template(pack).root
    probe = (
        "import sys, runpy; sys.argv = ['grader.py', '--help']\n"
        "try:\n    runpy.run_path('grader.py', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'cma', 'scipy', 'matplotlib'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
