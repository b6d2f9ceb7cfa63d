"""`scientist templates import` on program-search tasks, in OpenEvolve's format
(tests/fixtures/openevolve/spread_points) and ShinkaEvolve's (tests/fixtures/shinka/root_two),
both written for these tests: the pack passes `templates check`, its grader is the task's
evaluator run from the unedited pack, and a scripted-model campaign is scored by it."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scientist.authoring.program_search import EvolveImportRequest
from scientist.authoring.task_formats import import_evolve_task, task_format
from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign
from scientist.review.form import REVIEWS_ROOT
from tests.authoring.cli import scientist

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OPENEVOLVE = FIXTURES / "openevolve" / "spread_points"
SHINKA = FIXTURES / "shinka" / "root_two"
BLOCK = "{file}\n<<<<<<< SEARCH\n{old}\n=======\n{new}\n>>>>>>> REPLACE\n"
# (task folder, program, its line to change, the better line)
TASKS = {
    "openevolve": (
        OPENEVOLVE,
        "initial_program.py",
        "    return [0.0, 0.1, 0.2, 0.3, 0.4]",
        "    return [0.0, 0.25, 0.5, 0.75, 1.0]",
    ),
    "shinka": (SHINKA, "initial.py", "    return 3, 2", "    return 99, 70"),
}


def evaluator_score(fmt: str, program: Path, scratch: Path) -> float:
    """The task's own evaluator on `program`, called as its framework calls it."""
    if fmt == "openevolve":
        spec = importlib.util.spec_from_file_location("evaluator", OPENEVOLVE / "evaluator.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.evaluate(str(program))["combined_score"]
    argv = [sys.executable, SHINKA / "evaluate.py", "--program_path", program]
    subprocess.run([*argv, "--results_dir", scratch], check=True)
    return json.loads((scratch / "metrics.json").read_text())["combined_score"]


def imported(fmt: str, into: Path) -> Path:
    source = TASKS[fmt][0]
    request = EvolveImportRequest(source=source, into=into)
    return import_evolve_task(request, task_format(source)).root


@pytest.mark.parametrize("fmt", sorted(TASKS))
def test_a_task_imports_unchanged_and_passes_check_graded_by_its_evaluator(
    tmp_path, run_cache, fmt
):
    source, program = TASKS[fmt][:2]
    before = {p.name: p.read_bytes() for p in source.iterdir() if p.is_file()}
    created = scientist("templates", "import", source, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert "metric combined_score, scored by its evaluator" in created.stdout
    pack = tmp_path / source.name
    assert {name: (pack / name).read_bytes() for name in before} == before

    checked = scientist("templates", "check", pack, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    expected = evaluator_score(fmt, source / program, tmp_path / "scratch")
    assert f"smoke run combined_score = {expected:.4g} in " in checked.stdout
    assert "(graded)" in checked.stdout


def test_the_manifest_takes_the_task_from_its_files_never_from_the_models_prompt(tmp_path):
    from scientist.templates import load_template

    template = load_template(str(imported("openevolve", tmp_path)))
    manifest = template.manifest
    assert manifest.description.startswith("Place five points in the unit interval")
    assert "geometer" not in manifest.description  # config.yaml's prompt for a model
    assert "EVOLVE-BLOCK-START" in manifest.description
    assert manifest.metric.name == "combined_score" and manifest.metric.goal == "maximize"
    assert manifest.search_space == {} and manifest.smoke_args == ["--smoke"]
    assert manifest.agent.editable == ["initial_program.py"]
    assert {"evaluator.py", "evolve_task.py", "grade_program.py"} <= set(template.protected)

    shinka = load_template(str(imported("shinka", tmp_path))).manifest
    assert shinka.description.startswith("A fraction p/q close to the square root of two")
    assert shinka.title == "Root two (a ShinkaEvolve task)"


def test_a_config_naming_another_metric_makes_it_the_packs(tmp_path):
    source = tmp_path / "task"
    shutil.copytree(OPENEVOLVE, source)
    (source / "config.yaml").write_text("early_stopping_metric: min_gap\n")
    pack = import_evolve_task(EvolveImportRequest(source=source, into=tmp_path / "p"), "openevolve")
    assert pack.metric.name == "min_gap"


def test_a_folder_of_no_known_format_is_one_line_error(tmp_path):
    folder = tmp_path / "loose"
    folder.mkdir()
    (folder / "evaluator.py").write_text("def evaluate(path):\n    return {}\n")
    refused = scientist("templates", "import", folder, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[0] == (
        f"error: {folder} is not a task folder scientist can import"
    )
    assert "Traceback" not in refused.stderr and not (tmp_path / "loose" / "template.toml").exists()


def test_flags_of_the_v1_format_are_refused_for_a_program_search_task(tmp_path):
    refused = scientist("templates", "import", SHINKA, "--dataset", "x", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[0] == (
        f"error: --dataset: for AI Scientist templates only; {SHINKA} is a task in "
        "ShinkaEvolve's format"
    )
    assert not (tmp_path / "root_two").exists()


def run_and_grade(pack: Path, edited: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The pack's run in the edited copy `edited`, then its grader from the pristine pack."""
    config = tmp_path / "overrides.json"
    config.write_text(json.dumps({"seeds": [0]}))
    run = ["run_program.py", "--out-dir", tmp_path / "out", "--config", config]
    subprocess.run([sys.executable, *map(str, run)], cwd=edited, check=True)
    grade = ["grade_program.py", "--run-dir", tmp_path / "out", "--config", config]
    return subprocess.run(
        [sys.executable, *map(str, grade), "--out-dir", tmp_path / "grade"],
        cwd=pack,
        capture_output=True,
        text=True,
    )


def test_the_grader_refuses_a_program_changed_outside_its_evolve_block(tmp_path):
    pack = imported("openevolve", tmp_path / "packs")
    edited = tmp_path / "edited"
    shutil.copytree(pack, edited)
    program = edited / "initial_program.py"
    program.write_text(
        program.read_text().replace("return place_points()", "return [0.0, 0.25, 0.5, 0.75, 1.0]")
    )
    graded = run_and_grade(pack, edited, tmp_path)
    assert graded.returncode != 0
    assert "initial_program.py was changed outside its EVOLVE-BLOCK-START/END lines" in (
        graded.stderr
    )
    assert not (tmp_path / "grade" / "grade.json").exists()


def test_inside_the_block_the_grade_is_the_evaluators_score_of_the_runs_program(tmp_path):
    _, program, old, new = TASKS["shinka"]
    pack = imported("shinka", tmp_path / "packs")
    edited = tmp_path / "edited"
    shutil.copytree(pack, edited)
    (edited / program).write_text((edited / program).read_text().replace(old, new))
    graded = run_and_grade(pack, edited, tmp_path)
    assert graded.returncode == 0, graded.stderr
    grade = json.loads((tmp_path / "grade" / "grade.json").read_text())
    expected = evaluator_score("shinka", edited / program, tmp_path / "scratch")
    assert grade["metrics"]["combined_score"]["values"] == [expected]


REVIEW = json.loads((REVIEWS_ROOT / "examples" / "evolved_merge.json").read_text("utf-8"))


@pytest.mark.latex
@pytest.mark.parametrize("fmt", sorted(TASKS))
def test_a_scripted_campaign_is_scored_by_the_tasks_evaluator(tmp_path, run_cache, fmt):
    """One idea proposed by the ideas model, implemented by the code model inside the evolve
    block; the campaign's metric of its run is what the task's evaluator computes."""
    _, program, old, new = TASKS[fmt]
    pack = imported(fmt, tmp_path / "packs")
    idea = {
        "name": "better_program",
        "title": "A better program",
        "hypothesis": "Changing the evolve block raises the evaluator's score.",
        "plan": "Rewrite the returned value.",
        "interestingness": 5,
        "feasibility": 9,
        "novelty": 3,
        "overrides": {},
    }
    script = [
        {"match": "Propose 1 new research ideas", "json": {"ideas": [idea]}},
        {"match": "Reflection round 1", "json": {"ideas": [idea]}},
        {"match": "Idea: A better program", "text": BLOCK.format(file=program, old=old, new=new)},
        *[{"match": "(?s)Review the paper", "json": {**REVIEW, "overall": 6}}] * 2,
        {"match": "(?s)area chair", "json": {"summary": "s", "strengths": [], "weaknesses": []}},
    ]
    (tmp_path / "script.json").write_text(json.dumps(script))
    config = CampaignConfig(
        template=str(pack),
        smoke=True,
        max_ideas=1,
        max_runs_per_idea=1,
        campaign_dir=tmp_path / "c",
        models={"default": f"scripted:{tmp_path / 'script.json'}", "write": "none"},
        review={"ensemble": 2, "reflections": 0},
        literature="off",
    )
    campaign = start_campaign(config, quiet=True)
    (entry,) = campaign.archive()
    assert entry.status == "done", entry
    run = campaign.run_dir(entry.id, 1)
    edited = run / "outputs" / program
    assert f"+{new}" in (run / "code.diff").read_text()
    expected = evaluator_score(fmt, edited, tmp_path / "scratch")
    grade = json.loads((run / "grade" / "grade.json").read_text())
    assert grade["metrics"]["combined_score"]["values"] == [expected]
    baseline = evaluator_score(fmt, pack / program, tmp_path / "scratch0")
    assert entry.improvement == pytest.approx(expected - baseline)
    assert (campaign.paper_dir(entry.id) / "paper.pdf").is_file()


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("return 3, 2", "return 3, 0", "the evaluator found the program incorrect"),
        ("return 3, 2", "return 3 / 0", "evaluate.py exited with code 1: ZeroDivisionError"),
    ],
    ids=["incorrect", "crashed"],
)
def test_a_program_the_evaluator_rejects_fails_its_run_with_the_reason(tmp_path, old, new, said):
    pack = imported("shinka", tmp_path / "packs")
    program = pack / "initial.py"
    program.write_text(program.read_text().replace(old, new))
    run = subprocess.run(
        [sys.executable, "run_program.py", "--out-dir", str(tmp_path / "out")],
        cwd=pack,
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    assert said in run.stderr.splitlines()[-1]
    assert not (tmp_path / "out" / "final_info.json").exists()
