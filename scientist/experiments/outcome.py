"""An idea's development outcome: its runs, and the archive record they conclude to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scientist.context import Context
from scientist.experiments.runs import improvement
from scientist.models import ArchiveEntry, ExperimentRun, utc_now


@dataclass
class Outcome:
    entry: ArchiveEntry
    runs: list[ExperimentRun] = field(default_factory=list)


def run_overrides(ctx: Context, entry: ArchiveEntry) -> dict[str, Any]:
    """The overrides file of an idea: its knobs plus the seeds (one for a deterministic pack)."""
    return {**entry.idea.overrides, "seeds": ctx.template.run_seeds(ctx.config.seeds)}


def changed_settings(entry: ArchiveEntry, baseline: ExperimentRun) -> dict[str, Any]:
    """The idea's overrides that differ from the baseline's effective configuration."""
    config = baseline.final_info.config if baseline.final_info else {}
    return {k: v for k, v in entry.idea.overrides.items() if k not in config or config[k] != v}


def needs_code_model(entry: ArchiveEntry, baseline: ExperimentRun) -> ArchiveEntry | None:
    """Offline, an idea that changes no setting would rerun the baseline and report its
    numbers as the idea's: it is skipped, marked as needing a code model, never run."""
    if changed_settings(entry, baseline):
        return None
    reason = (
        "needs a code model: the idea has no settings (a free-text idea), and offline only "
        "settings can be run"
        if not entry.idea.overrides
        else "needs a code model: its settings are the baseline's, so a run would repeat it"
    )
    update = {"status": "needs_code_model", "error": reason, "runs": 0, "updated": utc_now()}
    return entry.model_copy(update=update)


def best_run(ctx: Context, runs: list[ExperimentRun]) -> ExperimentRun | None:
    """The successful run with the best mean metric (the idea's result), or None."""
    metric = ctx.template.metric
    scored = [run for run in runs if run.result.ok and run.metric(metric.name) is not None]
    if not scored:
        return None
    sign = 1 if metric.goal == "maximize" else -1
    return max(scored, key=lambda run: sign * (run.metric(metric.name) or 0.0))


def grade_fields(best: ExperimentRun, runs: list[ExperimentRun]) -> dict[str, Any]:
    """The idea's grade: `score_mismatch` when any of its runs claimed a score its grade
    disagrees with (each finding named by its run), else the best run's."""
    found = [
        f"run_{run.index}: {finding}" for run in runs if run.result.ok for finding in run.mismatches
    ]
    return {"grade": "score_mismatch" if found else best.grade, "mismatches": found}


def conclude(
    ctx: Context,
    entry: ArchiveEntry,
    runs: list[ExperimentRun],
    baseline: ExperimentRun,
    *,
    note: str | None = None,
) -> ArchiveEntry:
    """The idea's archive record after its runs: best successful run, or the last error
    (`note` says why there was no run at all)."""
    metric = ctx.template.metric
    chosen = best_run(ctx, runs)
    base = baseline.metric(metric.name)
    update: dict[str, Any] = {"runs": len(runs), "baseline_metric": base, "updated": utc_now()}
    if chosen is not None:
        best = chosen.metric(metric.name)
        update |= {
            "status": "done",
            "metric": best,
            "improvement": improvement(best, base, metric.goal),
            "error": "",
            **grade_fields(chosen, runs),
        }
    else:
        last = runs[-1].result if runs else None
        reason = (
            f"no run ({note or 'no version of the code was worth running'})"
            if last is None
            else last.failure()
        )
        update |= {"status": "failed", "error": reason}
    return entry.model_copy(update=update)
