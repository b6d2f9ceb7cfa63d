"""Every idea against its own control, and the best idea confirmed on fresh seeds.

An idea's control differs from it only by the idea's change:
- a code idea (its best run changed the pack's code): the unchanged pack with the idea's
  settings;
- a bred idea (one with parents, no code change): its first parent's settings;
- a settings idea: the campaign baseline (run_0).
A control is a run like any other, keyed by its configuration and the pack's content, and
never run twice: the baseline, a parent's unchanged-code run or an earlier control with the
same configuration is reused, and a control's finished run on disk is reused on resume.

`attribute` measures an idea's best run against its control (`effect`) and against the
campaign baseline (`gain`), and marks an idea whose per-seed values equal its control's as
`no_effect`. `confirm` runs an idea and its control again on seeds that played no part in
selection.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scientist.comparison import measure_effect, same_values
from scientist.context import Context
from scientist.errors import TemplateError
from scientist.experiments.agent import accepted_knobs
from scientist.experiments.editing import apply_edits, parse_answer
from scientist.experiments.outcome import best_run
from scientist.experiments.runs import code_diff, execute_run, prepare_code_dir
from scientist.models import ArchiveEntry, Effect, ExperimentRun, utc_now
from scientist.records.runs import finished_run, run_diff

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class Control:
    """The run an idea is measured against, where it lives, and what it is in words."""

    run: ExperimentRun
    vs: str
    description: str


def _settings(overrides: dict[str, Any]) -> str:
    shown = {k: v for k, v in overrides.items() if k != "seeds"}
    return ", ".join(f"{k} = {v}" for k, v in sorted(shown.items())) or "the pack's defaults"


def _path(ctx: Context, run: ExperimentRun) -> str:
    root = ctx.campaign.root.resolve()
    return str(Path(run.run_dir).resolve().relative_to(root))


def control_settings(
    ctx: Context, entry: ArchiveEntry, run: ExperimentRun, baseline: ExperimentRun
) -> tuple[dict[str, Any] | None, str]:
    """The overrides of `entry`'s control for its `run` (None: the campaign baseline itself),
    and what the control is, in words."""
    if ctx.config.baseline_paper:
        return None, "the campaign baseline"
    seeds = run.overrides.get("seeds", ctx.template.run_seeds(ctx.config.seeds))
    if run_diff(run).strip():
        kept = {k: v for k, v in run.overrides.items() if _pack_accepts(ctx, baseline, k, v)}
        dropped = sorted(set(run.overrides) - set(kept))
        without = f"; without {', '.join(dropped)}, which only its code provides" if dropped else ""
        return (
            {**kept, "seeds": seeds},
            f"the unchanged pack with the idea's settings ({_settings(kept)}{without})",
        )
    parents = {e.id: e for e in ctx.campaign.archive()}
    parent = next((parents[p] for p in entry.idea.parents if p in parents), None)
    if parent is not None:
        overrides = {**parent.idea.overrides, "seeds": seeds}
        return overrides, f"its parent {parent.id}'s settings ({_settings(overrides)})"
    return None, f"the campaign baseline ({_settings(baseline.overrides)})"


def _pack_accepts(ctx: Context, baseline: ExperimentRun, knob: str, value: Any) -> bool:
    """Whether the unchanged pack takes `knob = value`: a declared choice, or a knob of its
    configuration (a value only the idea's code adds is not the pack's)."""
    space = ctx.template.manifest.search_space.get(knob)
    if isinstance(space, list):
        return value in space
    accepted = accepted_knobs(baseline)
    return accepted is None or knob in accepted


def _key(ctx: Context, overrides: dict[str, Any]) -> str:
    text = json.dumps(overrides, sort_keys=True, default=str) + ctx.template.content_hash()
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _unchanged_run(ctx: Context, overrides: dict[str, Any], ids: list[str]) -> ExperimentRun | None:
    """A finished run of the unchanged pack with exactly `overrides` among ideas `ids`."""
    for idea_id in ids:
        for folder in sorted(ctx.campaign.idea_dir(idea_id).glob("runs/run_*")):
            index = int(folder.name.removeprefix("run_"))
            run = finished_run(folder, ctx.template, idea_id, index)
            ok = run is not None and run.result.ok and run.overrides == overrides
            if ok and run is not None and not run_diff(run).strip():
                return run
    return None


def control_run(
    ctx: Context,
    overrides: dict[str, Any],
    baseline: ExperimentRun,
    gpus: list[int],
    *,
    reuse: list[str] | None = None,
) -> ExperimentRun:
    """The unchanged pack run with `overrides`: the baseline or an unchanged run of an idea
    in `reuse` when one has exactly them, else the shared control (run once, then reused)."""
    if overrides == baseline.overrides:
        return baseline
    known = _unchanged_run(ctx, overrides, reuse or [])
    if known is not None:
        return known
    key = _key(ctx, overrides)
    folder = ctx.campaign.control_dir(key)
    with _lock(key):
        return execute_run(
            ctx.sandbox,
            ctx.template,
            ctx.config,
            idea_id=f"control_{key}",
            index=0,
            code_dir=prepare_code_dir(ctx.template, folder / "code"),
            run_dir=folder / "run",
            overrides=overrides,
            gpus=gpus,
        )


def find_control(
    ctx: Context, entry: ArchiveEntry, run: ExperimentRun, baseline: ExperimentRun, gpus: list[int]
) -> Control:
    """`entry`'s control for its `run`, run now unless it already exists."""
    overrides, description = control_settings(ctx, entry, run, baseline)
    if overrides is None:
        return Control(baseline, _path(ctx, baseline), description)
    control = control_run(ctx, overrides, baseline, gpus, reuse=entry.idea.parents)
    return Control(control, _path(ctx, control), description)


def _effect(ctx: Context, run: ExperimentRun, against: ExperimentRun, vs: str) -> Effect | None:
    metric = ctx.template.metric
    return measure_effect(
        run, against, metric.name, metric.goal, vs=vs, deterministic=ctx.template.deterministic
    )


def attribute(
    ctx: Context,
    entry: ArchiveEntry,
    runs: list[ExperimentRun],
    baseline: ExperimentRun,
    gpus: list[int],
) -> tuple[ArchiveEntry, Control | None]:
    """A `done` idea's effect against its control and gain over the baseline; `no_effect`
    when its best run measured exactly what its control did. Other ideas are unchanged."""
    best = best_run(ctx, runs)
    if entry.status != "done" or best is None:
        return entry, None
    control = find_control(ctx, entry, best, baseline, gpus)
    update: dict[str, Any] = {
        "control": control.description,
        "effect": _effect(ctx, best, control.run, control.vs),
        "gain": _effect(ctx, best, baseline, _path(ctx, baseline)),
        "updated": utc_now(),
    }
    if control.run.result.ok is False:
        update["error"] = f"the control ({control.vs}) failed: {control.run.result.failure()}"
    elif (
        not ctx.config.baseline_paper
        and entry.grade != "score_mismatch"  # a misreported score is the finding: reported
        and same_values(best, control.run, ctx.template.metric.name)
    ):
        update |= {
            "status": "no_effect",
            "error": f"no effect: its per-seed {ctx.template.metric.name} equals its control's "
            f"({control.description}), so it has no paper and is never a parent",
        }
    return entry.model_copy(update=update), control


# ---------------------------------------------------------------------- confirmation


def fresh_seeds(ctx: Context) -> list[int]:
    """`confirm_seeds` seeds that no selection run used."""
    start = max(ctx.config.seeds) + 1
    return list(range(start, start + ctx.config.confirm_seeds))


def rebuild_code(ctx: Context, run: ExperimentRun, code_dir: Path) -> Path:
    """The code `run` used, rebuilt in `code_dir` from the pack and the run's `code.diff`
    (TemplateError when the diff does not reproduce itself)."""
    diff = run_diff(run)
    if not code_dir.is_dir():
        staging = code_dir.with_name(code_dir.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        prepare_code_dir(ctx.template, staging)
        blocks = parse_answer(diff).blocks
        editable = {str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file()}
        report = apply_edits(staging, blocks, editable)
        if not report.ok or code_diff(ctx.template.root, staging) != diff:
            shutil.rmtree(staging, ignore_errors=True)
            raise TemplateError(f"the code of {run.run_dir} could not be rebuilt from its diff")
        staging.rename(code_dir)
    return code_dir


def confirm(
    ctx: Context, entry: ArchiveEntry, baseline: ExperimentRun, gpus: list[int]
) -> ArchiveEntry:
    """Run `entry`'s best configuration and its control again on fresh seeds; the entry with
    the confirmation's effect (or why there is none). Finished runs on disk are reused."""
    runs = [
        run
        for k in range(1, entry.runs + 1)
        if (run := finished_run(ctx.campaign.run_dir(entry.id, k), ctx.template, entry.id, k))
    ]
    best = best_run(ctx, runs)
    if best is None:
        return entry
    seeds = ctx.template.run_seeds(fresh_seeds(ctx))
    folder = ctx.campaign.idea_dir(entry.id) / "confirm"
    try:
        code_dir = rebuild_code(ctx, best, folder / "code")
    except TemplateError as exc:
        return entry.model_copy(update={"confirmation_error": exc.message})
    rerun = execute_run(
        ctx.sandbox,
        ctx.template,
        ctx.config,
        idea_id=entry.id,
        index=0,
        code_dir=code_dir,
        run_dir=folder / "run",
        overrides={**best.overrides, "seeds": seeds},
        gpus=gpus,
    )
    overrides, _ = control_settings(ctx, entry, best, baseline)
    if overrides is None:
        overrides = baseline.overrides
    control = control_run(ctx, {**overrides, "seeds": seeds}, baseline, gpus)
    failed = next((r for r in (rerun, control) if not r.result.ok), None)
    if failed is not None:
        error = f"the confirmation run {_path(ctx, failed)} failed: {failed.result.failure()}"
        return entry.model_copy(update={"confirmation_error": error})
    effect = _effect(ctx, rerun, control, _path(ctx, control))
    return entry.model_copy(update={"confirmation": effect, "confirmation_error": ""})
