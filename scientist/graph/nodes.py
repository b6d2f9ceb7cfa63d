"""The campaign graph's nodes around the scheduler: the baseline run, and the archive.

The scheduler (`scientist.graph.scheduler`) is the node in between; the per-idea steps
(experiment, write, review) it runs live in `scientist.graph.steps`.
"""

from __future__ import annotations

from scientist.context import Context
from scientist.errors import CampaignError
from scientist.experiments.runs import execute_run, finished_run, prepare_code_dir
from scientist.graph.state import CampaignState
from scientist.report import write_report

BASELINE_ID = "baseline"


def baseline(ctx: Context, state: CampaignState) -> CampaignState:
    """Run the pack's baseline once per campaign (run_0)."""
    if state.get("baseline") is not None:
        return {}
    campaign, template = ctx.campaign, ctx.template
    run_dir = campaign.baseline_dir
    previous = finished_run(run_dir, template, BASELINE_ID, 0)
    if previous is not None and not previous.result.ok:
        (run_dir / "result.json").unlink()
    code_dir = campaign.root / "baseline" / "code"
    run = execute_run(
        ctx.sandbox,
        template,
        ctx.config,
        idea_id=BASELINE_ID,
        index=0,
        code_dir=prepare_code_dir(template, code_dir),
        run_dir=run_dir,
        overrides={**template.manifest.baseline, "seeds": template.run_seeds(ctx.config.seeds)},
    )
    if not run.result.ok:
        raise CampaignError(
            f"the baseline run of pack '{template.name}' failed ({run.result.status}): "
            f"{run.result.failure()}",
            hint=f"logs in {run_dir}; fix the pack, then: scientist resume {campaign.root}",
        )
    return {"baseline": run}


def archive(ctx: Context, state: CampaignState) -> CampaignState:
    """Rewrite report.md; note a STOP file so the loop ends cleanly."""
    write_report(ctx.campaign, ctx.template, state.get("baseline"), ctx.campaign.archive())
    if ctx.campaign.stop_file.exists() and not state.get("stop_reason"):
        return {"stop_reason": "stop file"}
    return {}
