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
from scientist.experiments.agent import (
    CodeSession,
    accepted_knobs,
    changes_request,
    debug_request,
    prepare_version,
)
from scientist.experiments.coder import implement_request, needs_code, run_history, smoke_test
from scientist.experiments.outcome import Outcome, conclude, run_overrides
from scientist.experiments.pack_view import PackView
from scientist.experiments.plot_feedback import plot_feedback_request
from scientist.experiments.runs import execute_run
from scientist.experiments.search_code import CodeVersion, normalised_score, search_experiment
from scientist.llm import RoleModel
from scientist.models import ArchiveEntry, ExperimentRun, SearchNodeRecord
from scientist.safe_tree import copy_tree


class ModelEdit(NamedTuple):
    applied: bool
    call_ids: tuple[str, ...]


CodeEdit = Callable[[Path, ExperimentRun | None, str], ModelEdit]
"""`edit(code_dir, parent_run, model)`: ask `model` (pinned, not drawn from the pool) to edit
the code in `code_dir` in place: implement the idea when `parent_run` is None, else improve
the code given that run, or fix it when that run failed. `applied` is False when the model
gave no version worth a run (or answered DONE); an `LLMError` may propagate."""


def model_editor(
    ctx: Context,
    code_model: RoleModel,
    entry: ArchiveEntry,
    baseline: ExperimentRun,
    gpus: list[int],
) -> CodeEdit:
    """The code agent's edit step for one tree node (`coder`'s prompts and checks): implement
    the idea with the parent's result as history, or fix the parent when its run failed. A
    settings-only idea's NO CHANGE is a version of its own; every version passes its smoke
    test and knob check first."""
    overrides = run_overrides(ctx, entry)

    def edit(code_dir: Path, parent_run: ExperimentRun | None, model: str) -> ModelEdit:
        view = PackView(ctx.template, code_dir)
        session = CodeSession(
            code_model,
            view,
            entry.idea,
            pin=model,
            record=code_dir.parent.parent / "edits" / f"{code_dir.name}.md",
        )
        parents = [] if parent_run is None else [parent_run]
        history = run_history(parents, ctx.template.metric.name)
        request = implement_request(ctx, entry, baseline, history, run=1, max_runs=1)
        if parent_run is not None and not parent_run.result.ok:
            request += "\n\n" + debug_request(parent_run, f"Run {parent_run.index}", 1, view)
        elif parent_run is not None:  # the folder still holds the parent's code
            request += "\n\n" + changes_request(view)
            request += plot_feedback_request(ctx, entry, baseline, parent_run, code_dir)
        version = prepare_version(
            session,
            request,
            overrides=overrides,
            needs_code=needs_code(entry, baseline),
            smoke=smoke_test(ctx, entry, code_dir, code_dir.name, overrides, gpus),
            baseline_knobs=accepted_knobs(baseline),
            attempts=ctx.config.debug_attempts,
        )
        return ModelEdit(version.ready, version.call_ids)

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
    edit = edit or model_editor(ctx, code_model, entry, baseline, gpus)
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
        copy_tree(source, code_dir, skip=["__pycache__"])
        try:
            applied, call_ids = edit(code_dir, None if parent is None else parent.run, model)
        except LLMError as exc:  # the model pool has already counted it as a loss
            failed = CodeVersion(code_dir, None, model, note=f"no usable edit: {exc}")
            return record(index, parent, failed)
        if not applied:
            unusable = CodeVersion(code_dir, None, model, call_ids, note="no version worth a run")
            return record(index, parent, unusable)
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
