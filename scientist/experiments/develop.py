"""Implement and run one idea: the unit a tree search (`search = "abmcts"`) can replace.

Offline, the idea is its overrides file and one run. With a code model, the model edits the
idea's copy of the pack before each run, sees failures for up to `debug_attempts` fixes, and
may use up to `max_runs_per_idea` runs. Finished runs on disk are never repeated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scientist.experiments.runs import execute_run, improvement, prepare_code_dir
from scientist.graph.context import Context
from scientist.models import ArchiveEntry, ExperimentRun, utc_now


@dataclass
class Outcome:
    entry: ArchiveEntry
    runs: list[ExperimentRun] = field(default_factory=list)
    stop_reason: str | None = None


def run_overrides(ctx: Context, entry: ArchiveEntry) -> dict[str, Any]:
    """The overrides file of an idea: its knobs plus the campaign's seeds."""
    return {**entry.idea.overrides, "seeds": list(ctx.config.seeds)}


def develop_idea(
    ctx: Context, entry: ArchiveEntry, baseline: ExperimentRun, gpus: list[int]
) -> Outcome:
    """Take a selected idea to `done` (a successful run) or `failed` (none succeeded)."""
    code_dir = prepare_code_dir(ctx.template, ctx.campaign.idea_dir(entry.id) / "code")
    if ctx.uses_llm("code") and ctx.config.search == "abmcts":
        from scientist.experiments.search_develop import develop_by_search

        return develop_by_search(ctx, entry, baseline, gpus)
    if ctx.uses_llm("code"):
        from scientist.experiments.coder import develop_with_model

        return develop_with_model(ctx, entry, baseline, code_dir, gpus)
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


def conclude(
    ctx: Context, entry: ArchiveEntry, runs: list[ExperimentRun], baseline: ExperimentRun
) -> ArchiveEntry:
    """The idea's archive record after its runs: best successful run, or the last error."""
    metric = ctx.template.metric
    scored = [(run.metric(metric.name), run) for run in runs if run.result.ok]
    scored = [(value, run) for value, run in scored if value is not None]
    base = baseline.metric(metric.name)
    update: dict[str, Any] = {"runs": len(runs), "baseline_metric": base, "updated": utc_now()}
    if scored:
        sign = 1 if metric.goal == "maximize" else -1
        best, _ = max(scored, key=lambda pair: sign * pair[0])
        update |= {
            "status": "done",
            "metric": best,
            "improvement": improvement(best, base, metric.goal),
            "error": "",
        }
    else:
        last = runs[-1].result if runs else None
        reason = (
            "no run (the edits never applied, or the model answered DONE)"
            if last is None
            else (last.message or last.status)
        )
        tail = last.stderr_tail.strip().splitlines()[-1:] if last else []
        update |= {"status": "failed", "error": "; ".join([reason, *tail])}
    return entry.model_copy(update=update)
