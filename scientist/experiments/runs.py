"""One experiment run in the sandbox, sealed by records only the host writes.

The run folder holds the run's outputs in `outputs/` (what the run wrote, copied back by
the sandbox's collector: untrusted) and the host's records beside them, written after the
run, each atomically: `overrides.json`, `code.diff`, `stdout.log`, `stderr.log` and, last,
`result.json`: the sandbox's RunResult and the sha256 of the `outputs/final_info.json` the
host accepted. A pack with a grader has an ok run graded before the seal (`grading`): its
grader's `grade/grade.json` is hashed into the same record, and its metrics are the run's.
Reading a sealed run back (and refusing one whose files no longer hold) is
`scientist.records.runs`.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scientist.atomic_files import atomic_write_text
from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.errors import ScientistError, TemplateError
from scientist.experiments.grading import grade_spec
from scientist.experiments.requirements import pack_env, pack_paths
from scientist.models import ExperimentRun, RunResult, RunSpec
from scientist.records.grades import GRADE, GRADE_DIR, GRADER_CACHE, GradeRecord, read_grade
from scientist.records.runs import (
    CODE_DIFF,
    FINAL_INFO,
    OUTPUTS,
    OVERRIDES,
    RESULT,
    RunRecord,
    file_sha256,
    finished_run,
)
from scientist.safe_tree import copy_tree, is_regular_file, read_text, walk_files
from scientist.sandbox import Sandbox
from scientist.templates import Template

CACHE = "cache"
CODE_SUFFIXES = {".py", ".toml", ".json", ".txt", ".md", ".yaml", ".yml"}


def host_cache_dir() -> Path:
    """The host's own cache (pack-check markers): never shared with a run."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scientist"


def pack_cache(run_dir: Path) -> Path:
    """The folder a run's pack may cache in: `SCIENTIST_CACHE` when the operator shares one
    on purpose, else the `cache/` of the campaign holding `run_dir` (or of its parent)."""
    configured = os.environ.get("SCIENTIST_CACHE")
    if configured:
        return Path(configured)
    owner = next((p for p in run_dir.parents if (p / Campaign.CONFIG).is_file()), run_dir.parent)
    return owner / CACHE


def grader_cache(run_dir: Path) -> Path:
    """The folder the pack's grader may cache in: `grader-cache/` of the campaign holding
    `run_dir` (or of its parent), never shared with an experiment's run."""
    owner = next((p for p in run_dir.parents if (p / Campaign.CONFIG).is_file()), run_dir.parent)
    return owner / GRADER_CACHE


def prepare_code_dir(template: Template, code_dir: Path) -> Path:
    """The idea's own copy of the pack (created once; later edits are kept)."""
    if not code_dir.is_dir():
        staging = code_dir.with_name(code_dir.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        copy_tree(template.root, staging, skip=["__pycache__"])
        staging.rename(code_dir)
    return code_dir


def execute_run(
    sandbox: Sandbox,
    template: Template,
    config: CampaignConfig,
    *,
    idea_id: str,
    index: int,
    code_dir: Path,
    run_dir: Path,
    overrides: dict[str, Any],
    gpus: list[int] | None = None,
) -> ExperimentRun:
    """Run the pack in `code_dir` with `overrides`, or return the run already finished there."""
    done = finished_run(run_dir, template, idea_id, index)
    if done is not None:
        return done
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    text = json.dumps(overrides, indent=2, sort_keys=True)
    atomic_write_text(code_dir / OVERRIDES, text)
    manifest = template.manifest
    argv = template.run_argv("out", OVERRIDES, smoke=config.smoke)
    timeout_s = config.sandbox.timeout_s or manifest.resources.timeout_s
    if config.smoke and manifest.smoke_timeout_s is not None:
        timeout_s = manifest.smoke_timeout_s
    spec = RunSpec(
        workspace=code_dir,
        argv=argv,
        timeout_s=timeout_s,
        cpus=max(config.sandbox.cpus, manifest.resources.cpus),
        memory_mb=max(config.sandbox.memory_mb, int(manifest.resources.memory_gb * 1024)),
        pids=config.sandbox.pids,
        gpus=list(gpus or []),
        env={"SCIENTIST_RUN_ID": f"{idea_id}/run_{index}", **pack_env(template, config)},
        read_only=pack_paths(template, config),
        output_subdir="out",
        output_dir=run_dir / OUTPUTS,
        cache_dir=pack_cache(run_dir),
        cache_shared=bool(os.environ.get("SCIENTIST_CACHE")),
        labels={"idea": idea_id, "run": str(index)},
    )
    result = _run_sandboxed(sandbox, spec, "this run")
    atomic_write_text(run_dir / OVERRIDES, text)
    _snapshot(template.root, code_dir, run_dir)

    def grade() -> RunResult:
        cache = grader_cache(run_dir)
        grading = grade_spec(
            template, config, run_dir, cache_dir=cache, gpus=spec.gpus, labels=spec.labels
        )
        return _run_sandboxed(sandbox, grading, "the grader")

    record = seal_run(run_dir, template, result, grade if manifest.grader else None)
    return finished_run(run_dir, template, idea_id, index) or ExperimentRun(
        idea_id=idea_id, index=index, result=record.result, run_dir=run_dir, overrides=overrides
    )


def _run_sandboxed(sandbox: Sandbox, spec: RunSpec, what: str) -> RunResult:
    """The sandbox's result; a sandbox that broke on `what` is a failed run, not a crash."""
    try:
        return sandbox.run(spec)
    except (OSError, ScientistError) as exc:
        message = f"the sandbox broke on {what}: {exc}"
        return RunResult(exit_code=None, status="infra", backend=sandbox.name, message=message)


def seal_run(
    run_dir: Path,
    template: Template,
    result: RunResult,
    grade: Callable[[], RunResult] | None = None,
) -> RunRecord:
    """Seal a run whose outputs are in `run_dir/outputs`: write its logs, then `result.json`,
    which keeps an ok status only with a valid final info and then holds its hash. With
    `grade` (the pack's grader, run into `run_dir/grade`), an ok run is graded first and
    stays ok only with a valid grade, whose hash the record holds too."""
    atomic_write_text(run_dir / "stdout.log", result.stdout_tail)
    atomic_write_text(run_dir / "stderr.log", result.stderr_tail)
    record = _judged(run_dir, template, result)
    if grade is not None and record.final_info_sha256 is not None:
        record = _with_grade(run_dir, template, record, grade())
    atomic_write_text(run_dir / RESULT, record.model_dump_json(indent=2))
    return record


def _with_grade(
    run_dir: Path, template: Template, record: RunRecord, graded: RunResult
) -> RunRecord:
    """The record of an ok run after its grader's run `graded`: ok only with a valid grade."""
    atomic_write_text(run_dir / "grader_stdout.log", graded.stdout_tail)
    atomic_write_text(run_dir / "grader_stderr.log", graded.stderr_tail)
    path = run_dir / GRADE_DIR / GRADE
    digest = file_sha256(path)
    try:
        if not graded.ok:
            raise TemplateError(f"the grader failed ({graded.failure(tail_lines=3)})")
        if digest is None:
            raise TemplateError(f"{GRADE} was not written as a regular file")
        read_grade(path, template)
    except TemplateError as exc:
        message = f"grading: {exc.message}"
        failed = record.result.model_copy(update={"status": "error", "message": message})
        return RunRecord(result=failed, grading=GradeRecord(result=graded))
    return record.model_copy(update={"grading": GradeRecord(result=graded, grade_sha256=digest)})


def _judged(run_dir: Path, template: Template, result: RunResult) -> RunRecord:
    """An ok run stays ok only with a valid final info, whose hash the record then holds."""
    if not result.ok:
        return RunRecord(result=result)
    final_info = run_dir / OUTPUTS / FINAL_INFO
    digest = file_sha256(final_info)
    try:
        if digest is None:
            raise TemplateError(f"{FINAL_INFO} was not written as a regular file")
        template.read_final_info(final_info, measured_s=result.duration_s)
    except TemplateError as exc:
        failed = result.model_copy(update={"status": "error", "message": exc.message})
        return RunRecord(result=failed)
    return RunRecord(result=result, final_info_sha256=digest)


def _snapshot(pack: Path, code_dir: Path, run_dir: Path) -> None:
    """Keep the code this run used: a unified diff against the pack (empty when unchanged)."""
    atomic_write_text(run_dir / CODE_DIFF, code_diff(pack, code_dir))


def code_diff(pack: Path, code_dir: Path) -> str:
    """The code files of `code_dir` as a unified diff against `pack` ('' when unchanged)."""
    chunks: list[str] = []
    for relative in walk_files(code_dir):
        if relative.suffix not in CODE_SUFFIXES or relative.name == OVERRIDES:
            continue
        in_pack = is_regular_file(pack, relative)
        before = read_text(pack, relative).splitlines(True) if in_pack else []
        after = read_text(code_dir, relative).splitlines(True)
        chunks.extend(difflib.unified_diff(before, after, f"a/{relative}", f"b/{relative}"))
    return "".join(chunks)


def improvement(metric: float | None, baseline: float | None, goal: str) -> float | None:
    """Metric change over the baseline, signed so that positive is always better."""
    if metric is None or baseline is None:
        return None
    return metric - baseline if goal == "maximize" else baseline - metric
