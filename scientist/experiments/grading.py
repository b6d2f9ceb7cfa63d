"""The pack's grader: the metrics a campaign trusts, measured by the pack's own frozen code.

A run's experiment computes and reports its metrics itself, in code the code model may have
edited. A pack with a `[grader]` has them measured again after the run succeeded, as a
sandbox step of its own: the grader's command runs in a copy of the *pristine* pack (never
the idea's edited copy), sees the run's folder read-only and a cache of its own (never shared
with an experiment), and writes only `grade.json`. The grade's metrics replace the run's;
the run's own numbers are kept as its claim, and a claim that disagrees with the grade
beyond the pack's tolerance makes the run a `score_mismatch`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from scientist.config import CampaignConfig
from scientist.errors import TemplateError
from scientist.experiments.requirements import pack_env, pack_paths
from scientist.manifest import Grader
from scientist.models import (
    FinalInfo,
    Grade,
    GradeStatus,
    MetricSummary,
    Record,
    RunResult,
    RunSpec,
)
from scientist.sanity import degenerate_reason
from scientist.templates import Template

GRADE = "grade.json"
GRADE_DIR = "grade"
GRADER_CACHE = "grader-cache"
GRADER_INPUT = "grade_input"
CONFIG = "overrides.json"


class GradeRecord(Record):
    """The grading step of a run, in its `result.json`: the grader's sandbox result and the
    hash of the `grade/grade.json` the host accepted (None: grading failed)."""

    result: RunResult
    grade_sha256: str | None = None


def grade_spec(
    template: Template,
    config: CampaignConfig,
    run_dir: Path,
    *,
    cache_dir: Path,
    gpus: list[int],
    labels: dict[str, str],
) -> RunSpec:
    """The grader's sandbox run over the run in `run_dir`: its outputs and the host's copy of
    its overrides are seen read-only at their own paths."""
    manifest = template.manifest
    grader = manifest.grader
    if grader is None:
        raise TemplateError(f"pack '{template.name}' has no [grader]")
    outputs = run_dir / "outputs"
    given = _grader_input(run_dir)
    argv = template.grade_argv(str(outputs), str(given / CONFIG), smoke=config.smoke)
    return RunSpec(
        workspace=template.root,
        argv=argv,
        timeout_s=grader.timeout_s,
        cpus=max(config.sandbox.cpus, manifest.resources.cpus),
        memory_mb=max(config.sandbox.memory_mb, int(manifest.resources.memory_gb * 1024)),
        pids=config.sandbox.pids,
        gpus=gpus,
        env=pack_env(template, config),
        read_only=[*pack_paths(template, config), outputs, given],
        output_subdir="out",
        output_dir=run_dir / GRADE_DIR,
        cache_dir=cache_dir,
        labels={**labels, "step": "grade"},
    )


def _grader_input(run_dir: Path) -> Path:
    """The host's inputs to the grader, readable by the sandbox's user: a copy of the run's
    overrides as the host wrote them."""
    folder = run_dir / GRADER_INPUT
    folder.mkdir(mode=0o755, exist_ok=True)
    target = folder / CONFIG
    target.write_bytes((run_dir / CONFIG).read_bytes())
    target.chmod(0o644)
    return folder


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
