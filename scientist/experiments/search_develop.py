"""`search = "abmcts"`: develop an idea by multi-LLM AB-MCTS instead of one edit-run-debug chain.

A drop-in for `develop.develop_idea` when the code role has a model. Every node of the tree
is a code version in its own folder, `ideas/<id>/search/node_<k>/`, edited by one model and
run once as `ideas/<id>/runs/run_<k>` (the usual idempotent run, with its `code.diff`). A
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
from collections.abc import Callable, Sequence
from pathlib import Path

from scientist.errors import ConfigError, LLMError, TemplateError
from scientist.experiments.develop import Outcome, conclude, run_overrides
from scientist.experiments.runs import execute_run
from scientist.experiments.search_code import CodeVersion, search_experiment
from scientist.graph.context import Context
from scientist.models import ArchiveEntry, ExperimentRun

CodeEdit = Callable[[Path, ExperimentRun | None, str], Sequence[str]]
"""`edit(code_dir, parent_run, model)`: ask `model` (pinned, not drawn from the pool) to edit
the code in `code_dir` in place: implement the idea when `parent_run` is None, else improve
the code given that run, or fix it when that run failed. Returns the call ids it made; raises
an `LLMError` when no usable edit came back."""

SEARCH_FOLDER = "search"


def next_run_index(ctx: Context, idea_id: str) -> int:
    """One past the highest run number already in the idea's folder (1 when none)."""
    runs = ctx.campaign.idea_dir(idea_id) / "runs"
    taken = [int(p.name[4:]) for p in runs.glob("run_*") if p.name[4:].isdigit()]
    return max(taken, default=0) + 1


def develop_by_search(
    ctx: Context,
    entry: ArchiveEntry,
    baseline: ExperimentRun,
    gpus: list[int],
    edit: CodeEdit,
) -> Outcome:
    """Take a selected idea to `done` or `failed` by AB-MCTS over code versions; each model
    in the `code` role is one arm, rewarded in the model pool by its runs' outcomes."""
    if not ctx.uses_llm("code"):
        raise ConfigError(
            "search = 'abmcts' needs a model in the 'code' role",
            hint="set models.code (several models make a multi-LLM search), or search = 'linear'",
        )
    metric = ctx.template.metric
    reference = baseline.metric(metric.name)
    if reference is None:
        raise TemplateError(f"the baseline run has no '{metric.name}' to score the search against")
    numbers = itertools.count(next_run_index(ctx, entry.id))
    runs: list[ExperimentRun] = []
    lock = threading.Lock()

    def attempt(parent: CodeVersion | None, model: str) -> CodeVersion:
        with lock:
            index = next(numbers)
        code_dir = ctx.campaign.idea_dir(entry.id) / SEARCH_FOLDER / f"node_{index}"
        shutil.rmtree(code_dir, ignore_errors=True)  # a half-made node of an interrupted search
        source = ctx.template.root if parent is None else parent.code_dir
        shutil.copytree(source, code_dir, ignore=shutil.ignore_patterns("__pycache__"))
        try:
            call_ids = tuple(edit(code_dir, None if parent is None else parent.run, model))
        except LLMError as exc:
            return CodeVersion(code_dir, None, model, note=f"no usable edit: {exc}")
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
        return CodeVersion(code_dir, run, model, call_ids)

    search_experiment(
        attempt,
        models=[model for model in ctx.config.models.for_role("code") if model != "none"],
        budget=ctx.config.search_budget,
        metric=metric,
        baseline=reference,
        llm=ctx.llm,
        seed=zlib.crc32(entry.id.encode()),
    )
    runs.sort(key=lambda run: run.index)
    return Outcome(entry=conclude(ctx, entry, runs, baseline), runs=runs)
