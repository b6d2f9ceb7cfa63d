"""The linear strategy: the code agent implements an idea, each version is smoke-tested and
run, failures are debugged from their stderr.

The idea's `code/` starts as a fresh copy of the pack each time this runs, and every step
depends only on that copy, the runs on disk and the model's answers, so a resumed campaign
rebuilds the same conversation. Runs are `runs/run_<k>` and smoke tests `smoke/run_<k>_<n>`;
a finished one is never repeated. The transcript is kept in `edits/conversation.md`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from scientist.context import Context
from scientist.experiments.agent import (
    CodeSession,
    SmokeTest,
    Version,
    accepted_knobs,
    changes_request,
    debug_request,
    knob_line,
    prepare_version,
    unknown_knobs,
)
from scientist.experiments.outcome import Outcome, conclude, run_overrides
from scientist.experiments.pack_view import PackView
from scientist.experiments.plot_feedback import plot_feedback_request
from scientist.experiments.runs import execute_run, prepare_code_dir
from scientist.llm import RoleModel
from scientist.models import ArchiveEntry, ExperimentRun
from scientist.prompts import render_prompt

SMOKE_FOLDER = "smoke"


def develop_with_model(
    ctx: Context,
    model: RoleModel,
    entry: ArchiveEntry,
    baseline: ExperimentRun,
    code_dir: Path,
    gpus: list[int],
) -> Outcome:
    config = ctx.config
    shutil.rmtree(code_dir)
    view = PackView(ctx.template, prepare_code_dir(ctx.template, code_dir))
    record = ctx.campaign.idea_dir(entry.id) / "edits" / "conversation.md"
    session = CodeSession(model, view, entry.idea, record=record)
    overrides = run_overrides(ctx, entry)
    runs: list[ExperimentRun] = []
    successes, attempts_left, index = 0, config.debug_attempts, 1
    request = implement_request(
        ctx, entry, baseline, run_history(runs, ctx.template.metric.name), run=1
    )
    version = Version(False, "unusable", ())
    while successes < config.max_runs_per_idea:
        version = prepare_version(
            session,
            request,
            overrides=overrides,
            needs_code=needs_code(entry, baseline),
            smoke=smoke_test(ctx, entry, view.code_dir, f"run_{index}", overrides, gpus),
            baseline_knobs=accepted_knobs(baseline),
            attempts=attempts_left,
        )
        repeat = version.kind == "unchanged" and runs and runs[-1].result.ok
        if not version.ready or repeat:
            break
        run = execute_run(
            ctx.sandbox,
            ctx.template,
            config,
            idea_id=entry.id,
            index=index,
            code_dir=view.code_dir,
            run_dir=ctx.campaign.run_dir(entry.id, index),
            overrides=overrides,
            gpus=gpus,
        )
        for call_id in version.call_ids:
            model.reward(call_id, run.result.ok)
        runs.append(run)
        index += 1
        if run.result.ok:
            successes += 1
            attempts_left = config.debug_attempts
            if successes == config.max_runs_per_idea:
                break
            request = next_run_request(ctx, entry, baseline, runs, view, run=successes + 1)
        elif attempts_left == 0:
            break
        else:
            attempts_left -= 1
            request = debug_request(run, f"Run {run.index}", attempts_left, view)
    note = None if runs else version.note or version.kind
    return Outcome(entry=conclude(ctx, entry, runs, baseline, note=note), runs=runs)


def needs_code(entry: ArchiveEntry, baseline: ExperimentRun) -> bool:
    """An idea needs code when it sets no knob, or one the pack does not have yet."""
    overrides = entry.idea.overrides
    return not overrides or bool(unknown_knobs(overrides, accepted_knobs(baseline)))


def implement_request(
    ctx: Context,
    entry: ArchiveEntry,
    baseline: ExperimentRun,
    history: str,
    *,
    run: int,
    max_runs: int | None = None,
) -> str:
    """The request to implement (or improve) the idea; the pack is in the conversation's
    first message (`agent.pack_prefix`)."""
    idea, metric = entry.idea, ctx.template.metric
    overrides = run_overrides(ctx, entry)
    return render_prompt(
        "code/implement",
        title=idea.title,
        hypothesis=idea.hypothesis,
        plan=idea.plan,
        overrides=overrides,
        knobs=knob_line(idea.overrides, accepted_knobs(baseline)),
        metric=metric.name,
        goal=metric.goal,
        baseline_metric=baseline.metric(metric.name),
        history=history,
        task=task_request(ctx, run=run, max_runs=max_runs),
    )


def next_run_request(
    ctx: Context,
    entry: ArchiveEntry,
    baseline: ExperimentRun,
    runs: list[ExperimentRun],
    view: PackView,
    *,
    run: int,
) -> str:
    """After a successful run, in the same conversation: what changed since the pack (the
    runs, the diff, the last run's figures), never the pack or the idea again."""
    return render_prompt(
        "code/next_run",
        title=entry.idea.title,
        run=run,
        history=run_history(runs, ctx.template.metric.name),
        changes=changes_request(view),
        feedback=plot_feedback_request(ctx, entry, baseline, runs[-1], view.code_dir),
        task=task_request(ctx, run=run),
    )


def task_request(ctx: Context, *, run: int, max_runs: int | None = None) -> str:
    return render_prompt("code/task", run=run, max_runs=max_runs or ctx.config.max_runs_per_idea)


def smoke_test(
    ctx: Context,
    entry: ArchiveEntry,
    code_dir: Path,
    label: str,
    overrides: dict[str, Any],
    gpus: list[int],
) -> SmokeTest | None:
    """The smoke runs of the version in `code_dir` (None when full runs are smoke-sized)."""
    if ctx.config.smoke:
        return None
    smoke = ctx.config.model_copy(update={"smoke": True, "seeds": ctx.config.seeds[:1]})
    folder = ctx.campaign.idea_dir(entry.id) / SMOKE_FOLDER

    def run(attempt: int) -> ExperimentRun:
        return execute_run(
            ctx.sandbox,
            ctx.template,
            smoke,
            idea_id=entry.id,
            index=attempt,
            code_dir=code_dir,
            run_dir=folder / f"{label}_{attempt}",
            overrides={**overrides, "seeds": smoke.seeds},
            gpus=gpus,
        )

    return run


def run_history(runs: list[ExperimentRun], metric: str) -> str:
    """The runs so far, one line each with its (graded) metric or its failure, and where a
    run's own report disagreed with the pack's grader."""
    if not runs:
        return "No runs yet."
    lines = []
    for run in runs:
        value = run.metric(metric)
        shown = f"{metric} = {value:.4g}" if value is not None else run.result.status
        lines.append(f"- run_{run.index}: {shown}")
        lines += [
            f"  score_mismatch (the grader refutes the run's report): {m}" for m in run.mismatches
        ]
    return "\n".join(lines)
