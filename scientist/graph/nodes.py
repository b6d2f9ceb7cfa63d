"""The campaign graph's nodes around the scheduler: the baseline run, and the archive.

The scheduler (`scientist.graph.scheduler`) is the node in between; the per-idea steps
(experiment, write, review) it runs live in `scientist.graph.steps`.
"""

from __future__ import annotations

import logging

from scientist.context import Context
from scientist.errors import CampaignError
from scientist.experiments.controls import confirm
from scientist.experiments.runs import execute_run, prepare_code_dir
from scientist.graph.slots import slot_gpus
from scientist.graph.state import CampaignState
from scientist.models import ExperimentRun
from scientist.records.runs import finished_run
from scientist.report import best_idea, write_report

log = logging.getLogger(__name__)

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
    """Confirm the best idea on fresh seeds (unless a STOP file asks to start nothing new),
    rewrite report.md; note a STOP file so the loop ends cleanly."""
    stopping = ctx.campaign.stop_file.exists()
    baseline = state.get("baseline")
    if baseline is not None and not stopping:
        confirm_best(ctx, baseline)
    write_report(ctx.campaign, ctx.template, baseline, ctx.campaign.archive())
    if stopping and not state.get("stop_reason"):
        return {"stop_reason": "stop file"}
    return {}


def confirm_best(ctx: Context, baseline: ExperimentRun) -> None:
    """Before the headline names a best idea, it and its control run again on fresh seeds
    (`confirm_seeds`; none for a deterministic pack, which one run measures exactly)."""
    if not ctx.config.confirm_seeds or ctx.template.deterministic:
        return
    best = best_idea(ctx.campaign.archive())
    if best is None or best.confirmation is not None or best.confirmation_error:
        return
    log.info("confirming %s and its control on %d fresh seeds", best.id, ctx.config.confirm_seeds)
    ctx.campaign.record_idea(confirm(ctx, best, baseline, slot_gpus(ctx)[0]))
