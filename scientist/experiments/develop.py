"""Implement and run one idea: the unit the campaign graph calls, dispatched by strategy.

Offline, the idea is its overrides file and one run; an idea that changes no setting is
skipped as needing a code model (a run would only repeat the baseline), and one that names a
knob the pack lacks fails without a run. With a code model, either the linear
edit-run-debug chain (`coder`) or, with `search = "abmcts"`, the multi-model tree search
(`search_develop`) edits the idea's copy of the pack. Finished runs on disk are never
repeated.
"""

from __future__ import annotations

from scientist.context import Context
from scientist.experiments.agent import accepted_knobs, unknown_knobs
from scientist.experiments.coder import develop_with_model
from scientist.experiments.outcome import Outcome, conclude, needs_code_model, run_overrides
from scientist.experiments.runs import execute_run, prepare_code_dir
from scientist.experiments.search_develop import develop_by_search
from scientist.models import ArchiveEntry, ExperimentRun


def develop_idea(
    ctx: Context, entry: ArchiveEntry, baseline: ExperimentRun, gpus: list[int]
) -> Outcome:
    """Take a selected idea to `done` (a successful run), `failed` (none succeeded) or, offline,
    `needs_code_model` (it changes no setting)."""
    code_dir = prepare_code_dir(ctx.template, ctx.campaign.idea_dir(entry.id) / "code")
    model = ctx.model("code")
    if model is not None and ctx.config.search == "abmcts":
        return develop_by_search(ctx, model, entry, baseline, gpus)
    if model is not None:
        return develop_with_model(ctx, model, entry, baseline, code_dir, gpus)
    skipped = None if ctx.config.baseline_paper else needs_code_model(entry, baseline)
    if skipped is not None:  # (a baseline paper reruns the unchanged pack on purpose)
        return Outcome(entry=skipped)
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
