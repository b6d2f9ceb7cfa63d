"""The pack's grader: the metrics a campaign trusts, measured by the pack's own frozen code.

A run's experiment computes and reports its metrics itself, in code the code model may have
edited. A pack with a `[grader]` has them measured again after the run succeeded, as a
sandbox step of its own: the grader's command runs in a copy of the *pristine* pack (never
the idea's edited copy), sees the run's folder read-only and a cache of its own (never shared
with an experiment), and writes only `grade.json`, which `scientist.records.grades` reads.
"""

from __future__ import annotations

from pathlib import Path

from scientist.config import CampaignConfig
from scientist.errors import TemplateError
from scientist.experiments.requirements import pack_env, pack_paths
from scientist.models import RunSpec
from scientist.records.grades import GRADE_DIR
from scientist.templates import Template

GRADER_INPUT = "grade_input"
CONFIG = "overrides.json"


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
