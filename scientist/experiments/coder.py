"""The code model implements an idea: SEARCH/REPLACE edits, a sandboxed run, debugging.

Every sandbox execution is a new `runs/run_<k>`; the model's answer for run k is kept in
`edits/edit_<k>.md` once its edits are applied, so a resumed campaign neither asks again
nor re-runs a finished run. Failed runs are debugged with their stderr tail for at most
`debug_attempts` fixes; at most `max_runs_per_idea` runs succeed.
"""

from __future__ import annotations

from pathlib import Path

from scientist.campaign import atomic_write_text
from scientist.context import Context
from scientist.experiments.editing import apply_blocks, parse_blocks, render_files
from scientist.experiments.outcome import Outcome, conclude, run_overrides
from scientist.experiments.runs import execute_run, finished_run
from scientist.llm import Message, RoleModel
from scientist.models import ArchiveEntry, ExperimentRun
from scientist.prompts import render_prompt

MISMATCH_ROUNDS = 2
STDERR_CHARS = 3000


def develop_with_model(
    ctx: Context,
    model: RoleModel,
    entry: ArchiveEntry,
    baseline: ExperimentRun,
    code_dir: Path,
    gpus: list[int],
) -> Outcome:
    config, template = ctx.config, ctx.template
    edits_dir = ctx.campaign.idea_dir(entry.id) / "edits"
    files = [template.manifest.entrypoint]
    overrides = run_overrides(ctx, entry)
    metric = template.metric
    messages = [Message(role="system", content=render_prompt("code/system"))]
    runs: list[ExperimentRun] = []
    successes, attempts_left = 0, config.debug_attempts
    index = 1
    while successes < config.max_runs_per_idea:
        run_dir = ctx.campaign.run_dir(entry.id, index)
        edit_path = edits_dir / f"edit_{index}.md"
        run = finished_run(run_dir, template, entry.id, index)
        call_id = None
        if run is None and not edit_path.exists():
            last = runs[-1] if runs else None
            if last is None or last.result.ok:
                request = render_prompt(
                    "code/implement",
                    title=entry.idea.title,
                    hypothesis=entry.idea.hypothesis,
                    plan=entry.idea.plan,
                    overrides=overrides,
                    metric=metric.name,
                    goal=metric.goal,
                    baseline_metric=baseline.metric(metric.name),
                    run=successes + 1,
                    max_runs=config.max_runs_per_idea,
                    files=render_files(code_dir, files),
                    history=_history(runs, metric.name),
                )
            else:
                request = render_prompt(
                    "code/debug",
                    run=index - 1,
                    status=last.result.status,
                    stderr=last.result.stderr_tail[-STDERR_CHARS:],
                    attempts_left=attempts_left,
                )
            messages.append(Message(role="user", content=request))
            answer, call_id = _edit(model, messages, code_dir, files)
            if answer is None:
                break
            atomic_write_text(edit_path, answer)
        if run is None:
            run = execute_run(
                ctx.sandbox,
                template,
                config,
                idea_id=entry.id,
                index=index,
                code_dir=code_dir,
                run_dir=run_dir,
                overrides=overrides,
                gpus=gpus,
            )
        if call_id is not None:
            model.reward(call_id, run.result.ok)
        runs.append(run)
        index += 1
        if run.result.ok:
            successes += 1
            attempts_left = config.debug_attempts
        elif attempts_left == 0:
            break
        else:
            attempts_left -= 1
    return Outcome(entry=conclude(ctx, entry, runs, baseline), runs=runs)


def _edit(
    model: RoleModel, messages: list[Message], code_dir: Path, files: list[str]
) -> tuple[str | None, str]:
    """Ask for edits until they apply (mismatches go back to the model); None means DONE."""
    for _ in range(MISMATCH_ROUNDS + 1):
        completion = model.complete(messages)
        messages.append(Message(role="assistant", content=completion.text))
        if completion.text.strip().upper().startswith("DONE"):
            return None, completion.call_id
        report = apply_blocks(code_dir, parse_blocks(completion.text))
        if report.ok:
            return completion.text, completion.call_id
        failures = "\n".join(f"- {failure}" for failure in report.failures)
        messages.append(
            Message(
                role="user",
                content=render_prompt(
                    "code/mismatch", failures=failures, files=render_files(code_dir, files)
                ),
            )
        )
    return None, completion.call_id


def _history(runs: list[ExperimentRun], metric: str) -> str:
    if not runs:
        return "No runs yet."
    lines = []
    for run in runs:
        value = run.metric(metric)
        shown = f"{metric} = {value:.4g}" if value is not None else run.result.status
        lines.append(f"- run_{run.index}: {shown}")
    return "\n".join(lines)
