"""The grading step on a seconds-fast pack: the grade replaces the claim, a grade on disk
that no longer matches its record is not trusted, and the grader's held-out items (made in
its own cache) are out of every experiment's reach."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from scientist.config import CampaignConfig
from scientist.errors import SandboxUnavailable
from scientist.experiments.coder import run_history
from scientist.experiments.runs import execute_run, prepare_code_dir
from scientist.models import ExperimentRun, FinalInfo, Grade, MetricSummary, RunResult
from scientist.records.grades import GRADE, GRADE_DIR, GRADER_CACHE, mismatches
from scientist.records.runs import finished_run
from scientist.sandbox import Sandbox, open_sandbox
from scientist.templates import Template, load_template

MANIFEST = """\
name = "graded"
title = "Graded toy"
description = "A pack whose grader scores the run's answer on held-out items."
[metric]
name = "accuracy"
[resources]
timeout_s = 60
[grader]
command = ["python", "grader.py"]
timeout_s = 60
"""
# The experiment answers every item with 1 and claims CLAIM; it also reports how many
# held-out items it could find: in its cache, and at the grader cache's host path.
EXPERIMENT = """\
import json, os, sys
from pathlib import Path
out = Path(sys.argv[sys.argv.index("--out-dir") + 1]); out.mkdir(parents=True)
(out / "answer.json").write_text(json.dumps(1))
found = 0
for root in (os.environ.get("SCIENTIST_CACHE", "/cache"), {grader_cache!r}):
    for path in Path(root).rglob("*") if Path(root).exists() else []:
        found += path.name == "heldout.json"
claim = {claim}
metrics = {{"accuracy": {{"values": [claim]}}, "found": {{"values": [found]}}}}
info = {{"metrics": metrics, "config": {{}}, "seeds": [0], "runtime_s": 0.1}}
(out / "final_info.json").write_text(json.dumps(info))
"""
GRADER = """\
import json, os, sys
from pathlib import Path
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
cache = Path(os.environ["SCIENTIST_CACHE"])
items = [1, 0, 1, 0, 1, 1, 0, 0]
(cache / "heldout.json").write_text(json.dumps(items))
answer = json.loads((Path(args["--run-dir"]) / "answer.json").read_text())
accuracy = sum(item == answer for item in items) / len(items)
out = Path(args["--out-dir"]); out.mkdir(parents=True)
(out / "grade.json").write_text(json.dumps({"metrics": {"accuracy": {"values": [accuracy]}}}))
"""
GENUINE = 0.5  # the share of the grader's items that are 1, the experiment's answer


def graded_pack(folder: Path, *, claim: float, grader_cache: Path) -> Template:
    folder.mkdir(parents=True)
    (folder / "template.toml").write_text(MANIFEST)
    experiment = EXPERIMENT.format(claim=claim, grader_cache=str(grader_cache))
    (folder / "experiment.py").write_text(experiment)
    (folder / "plot.py").write_text("")
    (folder / "grader.py").write_text(textwrap.dedent(GRADER))
    return load_template(str(folder))


@pytest.fixture
def sandbox() -> Sandbox:
    try:
        return open_sandbox(CampaignConfig(template="toy").sandbox)
    except SandboxUnavailable as exc:
        pytest.skip(f"local sandbox unavailable here: {exc}")


def run(sandbox: Sandbox, template: Template, root: Path, index: int) -> ExperimentRun:
    config = CampaignConfig(template=str(template.root), smoke=True, seeds=[0])
    return execute_run(
        sandbox,
        template,
        config,
        idea_id="idea",
        index=index,
        code_dir=prepare_code_dir(template, root / f"code_{index}"),
        run_dir=root / "runs" / f"run_{index}",
        overrides={"seeds": [0]},
    )


def test_the_grade_is_trusted_and_the_claim_kept(tmp_path: Path, sandbox, run_cache) -> None:
    cache = tmp_path / "c" / "runs" / GRADER_CACHE
    template = graded_pack(tmp_path / "pack", claim=0.99, grader_cache=cache)
    graded = run(sandbox, template, tmp_path / "c", 1)
    assert graded.result.ok, graded.result.failure(tail_lines=5)
    assert graded.grade == "score_mismatch" and graded.grading_s > 0
    assert graded.metric("accuracy") == GENUINE and graded.claimed["accuracy"].mean == 0.99
    assert graded.mismatches == ["accuracy: claimed [0.99], graded [0.5] (tolerance 1e-09)"]
    assert "found" not in graded.final_info.metrics  # only what the grader measured counts

    grade = graded.run_dir / GRADE_DIR / GRADE
    grade.write_text(json.dumps({"metrics": {"accuracy": {"values": [0.99]}}}))
    assert finished_run(graded.run_dir, template, "idea", 1) is None  # a forged grade


def test_a_claim_that_matches_is_graded(tmp_path: Path, sandbox, run_cache) -> None:
    cache = tmp_path / "c" / "runs" / GRADER_CACHE
    template = graded_pack(tmp_path / "pack", claim=GENUINE, grader_cache=cache)
    graded = run(sandbox, template, tmp_path / "c", 1)
    assert graded.grade == "graded" and graded.mismatches == []
    assert graded.claimed["accuracy"].values == graded.final_info.metrics["accuracy"].values


def test_the_held_out_items_are_out_of_the_experiment_s_reach(
    tmp_path: Path, sandbox, run_cache
) -> None:
    cache = tmp_path / "c" / "runs" / GRADER_CACHE
    template = graded_pack(tmp_path / "pack", claim=GENUINE, grader_cache=cache)
    first = run(sandbox, template, tmp_path / "c", 1)
    assert first.result.ok and (cache / "heldout.json").is_file()  # the grader made them
    second = run(sandbox, template, tmp_path / "c", 2)  # an experiment after that grading
    assert second.result.ok, second.result.failure(tail_lines=5)
    assert second.claimed["found"].values == [0]
    assert not list(run_cache.rglob("heldout.json"))  # never in the experiments' cache


def test_a_difference_within_the_metric_s_tolerance_is_no_mismatch(tmp_path: Path) -> None:
    template = graded_pack(tmp_path / "pack", claim=0.5, grader_cache=tmp_path / "cache")
    grader = template.manifest.grader.model_copy(update={"tolerance": {"accuracy": 0.01}})
    grade = Grade(metrics={"accuracy": {"values": [0.5, 0.6]}, "extra": {"values": [1.0]}})
    close = {"accuracy": MetricSummary(values=[0.505, 0.6])}
    assert mismatches(close, grade, grader) == []
    far = {"accuracy": MetricSummary(values=[0.5, 0.62]), "extra": MetricSummary(values=[1.1])}
    assert mismatches(far, grade, grader) == [
        "accuracy: claimed [0.5, 0.62], graded [0.5, 0.6] (tolerance 0.01)",
        "extra: claimed [1.1], graded [1] (tolerance 1e-09)",
    ]
    fewer = {"accuracy": MetricSummary(values=[0.5])}
    assert mismatches(fewer, grade, grader) == ["accuracy: claimed 1 values, graded 2"]


def test_the_code_model_is_told_when_the_grader_refutes_its_run(tmp_path: Path) -> None:
    info = FinalInfo(metrics={"accuracy": {"values": [0.5]}}, seeds=[0], runtime_s=0)
    run = ExperimentRun(
        idea_id="idea",
        index=1,
        result=RunResult(exit_code=0, status="ok"),
        final_info=info,
        run_dir=tmp_path,
        grade="score_mismatch",
        mismatches=["accuracy: claimed [0.99], graded [0.5] (tolerance 1e-09)"],
    )
    history = run_history([run], "accuracy")
    assert "run_1: accuracy = 0.5" in history and "claimed [0.99]" in history
