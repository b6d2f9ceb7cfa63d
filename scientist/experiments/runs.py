"""One experiment run in the sandbox, made idempotent by its artifacts on disk.

A run directory is finished once `result.json` (the sandbox's RunResult) is written; it is
written last and atomically, so a run that crashed half-way is simply run again and a
finished one is never repeated.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from scientist.campaign import atomic_write_text
from scientist.config import CampaignConfig
from scientist.errors import TemplateError
from scientist.experiments.requirements import pack_env
from scientist.models import ExperimentRun, RunResult, RunSpec
from scientist.sandbox import Sandbox
from scientist.templates import Template

RESULT = "result.json"
OVERRIDES = "overrides.json"
CODE_DIFF = "code.diff"
CODE_SUFFIXES = {".py", ".toml", ".json", ".txt", ".md", ".yaml", ".yml"}


SHARED_CACHE = Path("/var/tmp/scientist-cache")


def cache_dir() -> Path:
    """Where packs may cache checkpoints between runs (a speedup, never required).

    `SCIENTIST_CACHE` if set; else a sticky, world-writable folder outside every home,
    because as root the local sandbox runs experiments as an unprivileged user with the
    admin's home hidden, and a cache there could not be written.
    """
    configured = os.environ.get("SCIENTIST_CACHE")
    if configured:
        return Path(configured)
    SHARED_CACHE.mkdir(parents=True, exist_ok=True)
    if SHARED_CACHE.stat().st_uid == os.getuid():
        SHARED_CACHE.chmod(0o1777)
    return SHARED_CACHE


def prepare_code_dir(template: Template, code_dir: Path) -> Path:
    """The idea's own copy of the pack (created once; later edits are kept)."""
    if not code_dir.is_dir():
        staging = code_dir.with_name(code_dir.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(template.root, staging, ignore=shutil.ignore_patterns("__pycache__"))
        staging.rename(code_dir)
    return code_dir


def finished_run(
    run_dir: Path, template: Template, idea_id: str, index: int
) -> ExperimentRun | None:
    """The run recorded in `run_dir`, or None when it never finished."""
    result_path = run_dir / RESULT
    if not result_path.is_file():
        return None
    result = RunResult.model_validate_json(result_path.read_text(encoding="utf-8"))
    overrides_path = run_dir / OVERRIDES
    overrides = json.loads(overrides_path.read_text()) if overrides_path.is_file() else {}
    info = None
    if result.ok:
        info = template.read_final_info(run_dir / "final_info.json", measured_s=result.duration_s)
    return ExperimentRun(
        idea_id=idea_id,
        index=index,
        result=result,
        final_info=info,
        run_dir=run_dir,
        code_dir=run_dir / "code",
        overrides=overrides,
    )


def run_diff(run: ExperimentRun) -> str:
    """The code change `run` tested: a unified diff against the pack ('' when unchanged).
    The one reader of a run's diff."""
    path = run.run_dir / "code.diff"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


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
    atomic_write_text(run_dir / OVERRIDES, text)
    _snapshot(template.root, code_dir, run_dir)
    manifest = template.manifest
    argv = template.run_argv("out", OVERRIDES, smoke=config.smoke)
    timeout_s = config.sandbox.timeout_s or manifest.resources.timeout_s
    if config.smoke and manifest.smoke_timeout_s is not None:
        timeout_s = manifest.smoke_timeout_s
    env = {"SCIENTIST_RUN_ID": f"{idea_id}/run_{index}"}
    if config.sandbox.kind == "local":
        env["SCIENTIST_CACHE"] = str(cache_dir())
    env |= pack_env(template, config)
    spec = RunSpec(
        workspace=code_dir,
        argv=argv,
        timeout_s=timeout_s,
        cpus=max(config.sandbox.cpus, manifest.resources.cpus),
        memory_mb=max(config.sandbox.memory_mb, int(manifest.resources.memory_gb * 1024)),
        pids=config.sandbox.pids,
        gpus=list(gpus or []),
        env=env,
        output_subdir="out",
        output_dir=run_dir,
        labels={"idea": idea_id, "run": str(index)},
    )
    result = sandbox.run(spec)
    atomic_write_text(run_dir / "stdout.log", result.stdout_tail)
    atomic_write_text(run_dir / "stderr.log", result.stderr_tail)
    if result.ok:
        try:
            template.read_final_info(run_dir / "final_info.json", measured_s=result.duration_s)
        except TemplateError as exc:
            result = result.model_copy(update={"status": "error", "message": exc.message})
    atomic_write_text(run_dir / RESULT, result.model_dump_json(indent=2))
    return finished_run(run_dir, template, idea_id, index)  # type: ignore[return-value]


def _snapshot(pack: Path, code_dir: Path, run_dir: Path) -> None:
    """Keep the code this run used: a unified diff against the pack (empty when unchanged)."""
    chunks: list[str] = []
    for path in sorted(code_dir.rglob("*")):
        if not path.is_file() or path.suffix not in CODE_SUFFIXES or path.name == OVERRIDES:
            continue
        relative = path.relative_to(code_dir)
        original = pack / relative
        before = original.read_text(errors="replace").splitlines(True) if original.is_file() else []
        after = path.read_text(errors="replace").splitlines(True)
        chunks.extend(difflib.unified_diff(before, after, f"a/{relative}", f"b/{relative}"))
    atomic_write_text(run_dir / CODE_DIFF, "".join(chunks))


def improvement(metric: float | None, baseline: float | None, goal: str) -> float | None:
    """Metric change over the baseline, signed so that positive is always better."""
    if metric is None or baseline is None:
        return None
    return metric - baseline if goal == "maximize" else baseline - metric
