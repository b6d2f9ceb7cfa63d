"""The campaign graph's nodes: thin calls into ideas/ and experiments/ returning updates.

The per-idea steps (experiment, write, review) live in `scientist.graph.idea`.
"""

from __future__ import annotations

from scientist.context import Context
from scientist.errors import CampaignError
from scientist.experiments.runs import execute_run, finished_run, prepare_code_dir
from scientist.graph.state import CampaignState, IdeaTask, finished_ids
from scientist.ideas.proposals import propose_ideas
from scientist.ideas.selection import rank_proposed
from scientist.pause import paused_at
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


def ideate(ctx: Context, state: CampaignState) -> CampaignState:
    """Propose the next generation of ideas unless enough proposed ones are waiting."""
    entries = state.get("entries") or {}
    remaining = ctx.config.max_ideas - len(finished_ids(state))
    waiting = [e for e in entries.values() if e.status == "proposed"]
    if len(waiting) >= min(remaining, ctx.config.max_parallel):
        return {}
    generation = state.get("generation", 0)
    with paused_at(f"ideas of generation {generation}"):
        new = propose_ideas(ctx, list(entries.values()), state["baseline"], generation, remaining)
    return {"entries": {e.id: e for e in new}, "generation": generation + 1}


def select(ctx: Context, state: CampaignState) -> CampaignState:
    """Pick the ideas to run now (at most `max_parallel`, one GPU each when the pack uses one)."""
    remaining = ctx.config.max_ideas - len(finished_ids(state))
    width = min(remaining, ctx.config.max_parallel)
    gpus = ctx.config.sandbox.gpus if ctx.template.manifest.resources.gpu != "none" else []
    if gpus:
        width = min(width, len(gpus))
    chosen = rank_proposed(list((state.get("entries") or {}).values()))[: max(width, 0)]
    batch, updates = [], {}
    for slot, entry in enumerate(chosen):
        selected = entry.model_copy(update={"status": "selected"})
        ctx.campaign.record_idea(selected)
        updates[entry.id] = selected
        batch.append(IdeaTask(idea_id=entry.id, gpus=[gpus[slot]] if gpus else []))
    return {"entries": updates, "batch": batch}


def archive(ctx: Context, state: CampaignState) -> CampaignState:
    """Rewrite report.md; note a STOP file so the loop ends cleanly."""
    write_report(ctx.campaign, ctx.template, state.get("baseline"), ctx.campaign.archive())
    if ctx.campaign.stop_file.exists() and not state.get("stop_reason"):
        return {"stop_reason": "stop file"}
    return {}


def should_continue(ctx: Context, state: CampaignState) -> str:
    """After `archive`: loop to `ideate` until max_ideas, the budget, or a STOP file."""
    if state.get("stop_reason"):
        return "end"
    if len(finished_ids(state)) >= ctx.config.max_ideas:
        return "end"
    return "ideate"
