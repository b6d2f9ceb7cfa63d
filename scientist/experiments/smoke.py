"""The pack check every campaign starts with: manifest valid, requirements import, smoke run
valid, before any spend.

A passing check is remembered in the host's own cache (never shared with a run), keyed by
the pack's content hash and the sandbox kind, so an unchanged pack is not smoke-run again.
A pack with `smoke_timeout_s` (one with no smaller setting, such as an imported AI Scientist
template) passes when its smoke run is still going without an error at that limit; its
final_info.json is then not checked.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from scientist.atomic_files import atomic_write_text
from scientist.config import CampaignConfig
from scientist.errors import TemplateError
from scientist.experiments.requirements import check_requirements, install_requirements
from scientist.experiments.runs import execute_run, host_cache_dir, prepare_code_dir
from scientist.models import FinalInfo
from scientist.sandbox import Sandbox
from scientist.templates import Template


def check_pack(
    template: Template, sandbox: Sandbox, config: CampaignConfig, *, use_cache: bool = True
) -> FinalInfo | None:
    """Smoke-run the pack's baseline in `sandbox` and validate its final_info.json (None: the
    run reached the pack's `smoke_timeout_s` without an error)."""
    marker = (
        host_cache_dir()
        / "checks"
        / f"{template.name}-{template.content_hash()}-{config.sandbox.kind}.json"
    )
    if config.install_requirements:
        install_requirements(template)
    if use_cache and marker.is_file():
        return FinalInfo.model_validate_json(marker.read_text(encoding="utf-8"))
    check_requirements(template, sandbox, config)
    smoke = config.model_copy(update={"smoke": True, "seeds": config.seeds[:1]})
    with tempfile.TemporaryDirectory(prefix="scientist-check-") as scratch:
        root = Path(scratch)
        run = execute_run(
            sandbox,
            template,
            smoke,
            idea_id="check",
            index=0,
            code_dir=prepare_code_dir(template, root / "code"),
            run_dir=root / "run",
            overrides={**template.manifest.baseline, "seeds": smoke.seeds},
        )
        if run.result.status == "timeout" and template.manifest.smoke_timeout_s is not None:
            return None
        if not run.result.ok or run.final_info is None:
            raise TemplateError(
                f"the smoke run of pack '{template.name}' failed ({run.result.status}): "
                f"{run.result.failure(tail_lines=3)}",
                hint=f"try it by hand: cd {template.root} && "
                f"{' '.join(template.run_argv('/tmp/out', None, smoke=True))}",
            )
        if run.grade == "score_mismatch":
            raise TemplateError(
                f"the smoke run of pack '{template.name}' reports scores its own grader "
                f"refutes: {'; '.join(run.mismatches)}",
                hint="the experiment must report its metrics with the grader's held-out "
                "evaluation, so that the unedited pack's claim and grade agree",
            )
        info = run.final_info
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(marker, info.model_dump_json())
    except OSError:
        pass
    return info
