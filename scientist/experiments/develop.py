"""Implement and run one idea: the unit the campaign graph calls, dispatched by strategy.

Offline, the idea is its overrides file and one run (none when it names a knob the pack
lacks). With a code model, either the linear
edit-run-debug chain (`coder`) or, with `search = "abmcts"`, the multi-model tree search
(`search_develop`) edits the idea's copy of the pack. Finished runs on disk are never repeated.
"""

from __future__ import annotations

from scientist.context import Context
from scientist.experiments.agent import accepted_knobs, unknown_knobs
from scientist.experiments.coder import develop_with_model
from scientist.experiments.outcome import Outcome, conclude, run_overrides
from scientist.experiments.runs import execute_run, prepare_code_dir
from scientist.experiments.search_develop import develop_by_search
from scientist.models import ArchiveEntry, ExperimentRun


def develop_idea(
    ctx: Context, entry: ArchiveEntry, baseline: ExperimentRun, gpus: list[int]
) -> Outcome:
    """Take a selected idea to `done` (a successful run) or `failed` (none succeeded)."""
    code_dir = prepare_code_dir(ctx.template, ctx.campaign.idea_dir(entry.id) / "code")
    model = ctx.model("code")
    if model is not None and ctx.config.search == "abmcts":
        return develop_by_search(ctx, model, entry, baseline, gpus)
    if model is not None:
        return develop_with_model(ctx, model, entry, baseline, code_dir, gpus)
    unknown = unknown_knobs(entry.idea.overrides, accepted_knobs(baseline))
    if unknown:
        note = f"the pack has no knob {', '.join(unknown)} (only a code model can add one)"
        return Outcome(entry=conclude(ctx, entry, [], baseline, note=note))
    run = execute_run(
        ctx.sandbox,
        ctx.template,
        ctx.config,
        idea_id=entry.id,
        index=1,
        code_dir=code_dir,
        run_dir=ctx.campaign.run_dir(entry.id, 1),
        overrides=run_overrides(ctx, entry),
        gpus=gpus,
    )
    return Outcome(entry=conclude(ctx, entry, [run], baseline), runs=[run])
