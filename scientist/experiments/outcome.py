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
    stop_reason: str | None = None


def run_overrides(ctx: Context, entry: ArchiveEntry) -> dict[str, Any]:
    """The overrides file of an idea: its knobs plus the campaign's seeds."""
    return {**entry.idea.overrides, "seeds": list(ctx.config.seeds)}


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
            f"no run ({note or 'no version of the code was worth running'})"
            if last is None
            else (last.message or last.status)
        )
        tail = last.stderr_tail.strip().splitlines()[-1:] if last else []
        update |= {"status": "failed", "error": "; ".join([reason, *tail])}
    return entry.model_copy(update=update)
