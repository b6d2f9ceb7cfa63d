"""`search = "abmcts"`: develop an idea by multi-LLM AB-MCTS instead of one edit-run-debug chain.

A drop-in for `coder.develop_with_model` when the code role has a model. Every node of the tree
is a code version in its own folder, `ideas/<id>/search/node_<k>/`, edited by one model and
run once as `ideas/<id>/runs/run_<k>` (the usual idempotent run, with its `code.diff`), and
recorded in `search/tree.jsonl` with its parent, model and score as soon as it is scored. A
fresh draft starts from the pack's code, a deeper node from its parent's folder. After
`search_budget` expansions the idea concludes on its runs like the linear path does: the best
successful run is the idea's result. Run numbers continue after any runs already on disk, so
an interrupted search that starts again never overwrites a finished run.
"""

from __future__ import annotations

import itertools
import shutil
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from scientist.context import Context
from scientist.errors import LLMError, TemplateError
from scientist.experiments.editing import apply_blocks, parse_blocks, render_files
from scientist.experiments.outcome import Outcome, conclude, run_overrides
from scientist.experiments.runs import execute_run
from scientist.experiments.search_code import CodeVersion, normalised_score, search_experiment
from scientist.llm import Message, RoleModel
from scientist.models import ArchiveEntry, ExperimentRun, SearchNodeRecord
from scientist.prompts import render_prompt


class ModelEdit(NamedTuple):
    applied: bool
    call_ids: tuple[str, ...]


CodeEdit = Callable[[Path, ExperimentRun | None, str], ModelEdit]
"""`edit(code_dir, parent_run, model)`: ask `model` (pinned, not drawn from the pool) to edit
the code in `code_dir` in place: implement the idea when `parent_run` is None, else improve
the code given that run, or fix it when that run failed. `applied` is False when the model
gave no edit that applies (or answered DONE); an `LLMError` may propagate."""

MISMATCH_ROUNDS = 2
STDERR_CHARS = 3000


def model_editor(
    ctx: Context, code_model: RoleModel, entry: ArchiveEntry, baseline: ExperimentRun
) -> CodeEdit:
    """The code role's edit step for one tree node, with the code prompts of the linear path:
    `implement` with the parent's result as history, plus `debug` when the parent failed."""
    metric, manifest = ctx.template.metric, ctx.template.manifest
    files = [manifest.entrypoint]

    def edit(code_dir: Path, parent_run: ExperimentRun | None, model: str) -> ModelEdit:
        history = "No runs yet."
        if parent_run is not None:
            value = parent_run.metric(metric.name)
            shown = (
                f"{metric.name} = {value:.4g}" if value is not None else parent_run.result.status
            )
            history = f"- run_{parent_run.index} (the code below): {shown}"
        request = render_prompt(
            "code/implement",
            title=entry.idea.title,
            hypothesis=entry.idea.hypothesis,
            plan=entry.idea.plan,
            overrides=run_overrides(ctx, entry),
            metric=metric.name,
            goal=metric.goal,
            baseline_metric=baseline.metric(metric.name),
            run=1,
            max_runs=1,
            files=render_files(code_dir, files),
            history=history,
        )
        if parent_run is not None and not parent_run.result.ok:
            stderr = parent_run.result.stderr_tail[-STDERR_CHARS:]
            run, status = parent_run.index, parent_run.result.status
            request += "\n\n" + render_prompt(
                "code/debug", run=run, status=status, stderr=stderr, attempts_left=1
            )
        messages = [
            Message(role="system", content=render_prompt("code/system")),
            Message(role="user", content=request),
        ]
        call_ids: list[str] = []
        for _ in range(MISMATCH_ROUNDS + 1):
            completion = code_model.complete(messages, model=model)
            call_ids.append(completion.call_id)
            blocks = parse_blocks(completion.text)
            if not blocks or completion.text.strip().upper().startswith("DONE"):
                break  # nothing to change: this expansion adds no new version
            report = apply_blocks(code_dir, blocks)
            if report.ok:
                return ModelEdit(True, tuple(call_ids))
            failures = "\n".join(f"- {failure}" for failure in report.failures)
            messages += [
                Message(role="assistant", content=completion.text),
                Message(
                    role="user",
                    content=render_prompt(
                        "code/mismatch", failures=failures, files=render_files(code_dir, files)
                    ),
                ),
            ]
        return ModelEdit(False, tuple(call_ids))

    return edit


def next_run_index(ctx: Context, idea_id: str) -> int:
    """One past the highest run number already in the idea's folder (1 when none)."""
    runs = ctx.campaign.idea_dir(idea_id) / "runs"
    taken = [int(p.name[4:]) for p in runs.glob("run_*") if p.name[4:].isdigit()]
    return max(taken, default=0) + 1


def develop_by_search(
    ctx: Context,
    code_model: RoleModel,
    entry: ArchiveEntry,
    baseline: ExperimentRun,
    gpus: list[int],
    edit: CodeEdit | None = None,
) -> Outcome:
    """Take a selected idea to `done` or `failed` by AB-MCTS over code versions; each model
    in the `code` role is one arm, rewarded in the model pool by its runs' outcomes."""
    edit = edit or model_editor(ctx, code_model, entry, baseline)
    metric = ctx.template.metric
    reference = baseline.metric(metric.name)
    if reference is None:
        raise TemplateError(f"the baseline run has no '{metric.name}' to score the search against")
    numbers = itertools.count(next_run_index(ctx, entry.id))
    runs: list[ExperimentRun] = []
    node_numbers: dict[Path, int] = {}
    lock = threading.Lock()

    def record(index: int, parent: CodeVersion | None, version: CodeVersion) -> CodeVersion:
        node = SearchNodeRecord(
            node=index,
            parent=None if parent is None else node_numbers[parent.code_dir],
            model=version.model,
            score=normalised_score(version.run, metric=metric, baseline=reference),
            ran=version.run is not None,
            note=version.note,
        )
        with lock:
            node_numbers[version.code_dir] = index
            ctx.campaign.record_search_node(entry.id, node)
        return version

    def attempt(parent: CodeVersion | None, model: str) -> CodeVersion:
        with lock:
            index = next(numbers)
        code_dir = ctx.campaign.search_dir(entry.id) / f"node_{index}"
        shutil.rmtree(code_dir, ignore_errors=True)  # a half-made node of an interrupted search
        source = ctx.template.root if parent is None else parent.code_dir
        shutil.copytree(source, code_dir, ignore=shutil.ignore_patterns("__pycache__"))
        try:
            applied, call_ids = edit(code_dir, None if parent is None else parent.run, model)
        except LLMError as exc:  # the model pool has already counted it as a loss
            failed = CodeVersion(code_dir, None, model, note=f"no usable edit: {exc}")
            return record(index, parent, failed)
        if not applied:
            unchanged = CodeVersion(code_dir, None, model, call_ids, note="no edit applied")
            return record(index, parent, unchanged)
        run = execute_run(
            ctx.sandbox,
            ctx.template,
            ctx.config,
            idea_id=entry.id,
            index=index,
            code_dir=code_dir,
            run_dir=ctx.campaign.run_dir(entry.id, index),
            overrides=run_overrides(ctx, entry),
            gpus=gpus,
        )
        with lock:
            runs.append(run)
        return record(index, parent, CodeVersion(code_dir, run, model, call_ids))

    search_experiment(
        attempt,
        models=code_model.models,
        budget=ctx.config.search_budget,
        metric=metric,
        baseline=reference,
        llm=code_model,
        seed=zlib.crc32(entry.id.encode()),
    )
    runs.sort(key=lambda run: run.index)
    return Outcome(entry=conclude(ctx, entry, runs, baseline), runs=runs)
