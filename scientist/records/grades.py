"""A run's grade as the host reads it: `grade/grade.json`, validated against the pack, and
the grade's metrics set beside the run's own claim (a claim that disagrees beyond the
grader's tolerance is a `score_mismatch`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from scientist.errors import TemplateError
from scientist.manifest import Grader
from scientist.models import FinalInfo, Grade, GradeStatus, MetricSummary, Record, RunResult
from scientist.sanity import degenerate_reason
from scientist.templates import Template

GRADE = "grade.json"


GRADE_DIR = "grade"


GRADER_CACHE = "grader-cache"


class GradeRecord(Record):
    """The grading step of a run, in its `result.json`: the grader's sandbox result and the
    hash of the `grade/grade.json` the host accepted (None: grading failed)."""

    result: RunResult
    grade_sha256: str | None = None


def read_grade(path: Path, template: Template) -> Grade:
    """Validate a grader's `grade.json`: metrics in the schema of final_info.json's, the
    pack's metric present, every metric inside the pack's sanity bounds."""
    if path.is_symlink() or not path.is_file():
        raise TemplateError(f"the grader wrote no {GRADE}")
    try:
        grade = Grade.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise TemplateError(f"{GRADE}: field '{field}': {first['msg']}") from None
    metric = template.metric.name
    if metric not in grade.metrics:
        raise TemplateError(f"{GRADE}: metric '{metric}' (from template.toml) is missing")
    as_info = FinalInfo(metrics=grade.metrics, seeds=[0], runtime_s=0)
    bounds = {k: v for k, v in template.manifest.sanity.items() if k in grade.metrics}
    reason = degenerate_reason(as_info, metric, bounds)
    if reason is not None:
        raise TemplateError(f"{GRADE}: {reason}")
    return grade


def mismatches(claimed: dict[str, MetricSummary], grade: Grade, grader: Grader) -> list[str]:
    """Where the run's claim disagrees with the grade: each metric both report whose
    per-seed values differ by more than the grader's tolerance for it, or in number."""
    found = []
    for name, graded in sorted(grade.metrics.items()):
        claim = claimed.get(name)
        if claim is None:
            continue
        tolerance = grader.tolerance_of(name)
        if len(claim.values) != len(graded.values):
            found.append(f"{name}: claimed {len(claim.values)} values, graded {len(graded.values)}")
            continue
        gaps = [abs(c - g) for c, g in zip(claim.values, graded.values, strict=True)]
        if max(gaps) > tolerance:
            found.append(
                f"{name}: claimed {_values(claim)}, graded {_values(graded)} "
                f"(tolerance {tolerance:g})"
            )
    return found


def graded_info(
    info: FinalInfo, grade: Grade, grader: Grader
) -> tuple[FinalInfo, GradeStatus, list[str]]:
    """The run's final info with the grade's metrics, its status and its mismatches."""
    found = mismatches(info.metrics, grade, grader)
    status: GradeStatus = "score_mismatch" if found else "graded"
    return info.model_copy(update={"metrics": dict(grade.metrics)}), status, found


def _values(summary: MetricSummary) -> str:
    return "[" + ", ".join(f"{v:.6g}" for v in summary.values) + "]"
