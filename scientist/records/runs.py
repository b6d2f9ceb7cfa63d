"""A sealed run as the host reads it back.

A run folder holds what the run wrote in `outputs/` (untrusted) and the host's records
beside it; `result.json`, written last, holds the sandbox's RunResult and the sha256 of the
`outputs/final_info.json` (and of the grade) the host accepted. A run is finished once a
valid `result.json` is there and, for an ok run, those files still have those hashes;
anything else (a crash half-way, a tampered or forged file) reads as a run never finished.
The writing half is `scientist.experiments.runs`.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scientist.errors import TemplateError
from scientist.models import ExperimentRun, FinalInfo, Record, RunResult
from scientist.records.grades import GRADE, GRADE_DIR, GradeRecord, graded_info, read_grade
from scientist.templates import Template

RESULT = "result.json"


OVERRIDES = "overrides.json"


CODE_DIFF = "code.diff"


OUTPUTS = "outputs"


FINAL_INFO = "final_info.json"


class RunRecord(Record):
    """`result.json`: what the sandbox reported, and the hash of the final info accepted."""

    result: RunResult
    final_info_sha256: str | None = None
    grading: GradeRecord | None = None


def file_sha256(path: Path) -> str | None:
    """The hash of a regular file (never through a link), or None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return hashlib.file_digest(handle, "sha256").hexdigest()


def read_record(run_dir: Path) -> RunRecord | None:
    path = run_dir / RESULT
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return RunRecord.model_validate_json(path.read_bytes())
    except ValidationError:
        return None


def finished_run(
    run_dir: Path, template: Template, idea_id: str, index: int
) -> ExperimentRun | None:
    """The run recorded in `run_dir`, or None when it never finished or its record does not
    hold (then it is to be run again)."""
    record = read_record(run_dir)
    if record is None:
        return None
    overrides_path = run_dir / OVERRIDES
    overrides = json.loads(overrides_path.read_text()) if overrides_path.is_file() else {}
    info = None
    if record.result.ok:
        final_info = run_dir / OUTPUTS / FINAL_INFO
        if record.final_info_sha256 is None or file_sha256(final_info) != record.final_info_sha256:
            return None
        try:
            info = template.read_final_info(final_info, measured_s=record.result.duration_s)
        except TemplateError:
            return None
        if template.manifest.ai_scientist is not None:
            info = info.model_copy(update={"config": template.v1_config(overrides)})
    fields: dict[str, Any] = {"final_info": info}
    if info is not None and template.manifest.grader is not None:
        fields = _graded_fields(run_dir, template, record, info)
        if not fields:
            return None
    return ExperimentRun(
        idea_id=idea_id,
        index=index,
        result=record.result,
        run_dir=run_dir,
        code_dir=run_dir / "code",
        overrides=overrides,
        **fields,
    )


def _graded_fields(
    run_dir: Path, template: Template, record: RunRecord, info: FinalInfo
) -> dict[str, Any]:
    """The graded run's fields (its metrics the grade's, its own kept as the claim), or {}
    when the record holds no grade or the grade on disk is not the one it holds."""
    grading, grader = record.grading, template.manifest.grader
    path = run_dir / GRADE_DIR / GRADE
    if grader is None or grading is None or grading.grade_sha256 is None:
        return {}
    if file_sha256(path) != grading.grade_sha256:
        return {}
    try:
        grade = read_grade(path, template)
    except TemplateError:
        return {}
    final_info, status, found = graded_info(info, grade, grader)
    return {
        "final_info": final_info,
        "grade": status,
        "claimed": info.metrics,
        "mismatches": found,
        "grading_s": grading.result.duration_s,
    }


def run_diff(run: ExperimentRun) -> str:
    """The code change `run` tested: a unified diff against the pack ('' when unchanged)."""
    return diff_in(run.run_dir)


def changed_code(run_dir: Path) -> bool:
    """Whether the run in `run_dir` ran code other than the pack's (a non-empty diff)."""
    path = run_dir / CODE_DIFF
    return path.is_file() and path.stat().st_size > 0


def diff_in(run_dir: Path) -> str:
    """The code change of the run in `run_dir`, finished or not ('' when unchanged or not
    written yet; characters that are not UTF-8 replaced). The one reader of a run's diff."""
    path = run_dir / CODE_DIFF
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
