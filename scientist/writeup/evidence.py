"""Evidence macros: every reported number becomes a `\\newcommand` generated from results.

`results.tex` holds one macro per number (means, stds, deltas against the baseline, seed
counts, runtimes); tables and prose use the macros, never literals, so each number in a
paper traces back to a run's `final_info.json`. `results.tex` defines every macro, but a
writer is shown only those it may cite (`Evidence.citable`): the macros of no single metric
and those of the metrics it discusses, not one per metric of a pack that reports dozens.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from scientist.comparison import Comparison, Goal, compare
from scientist.models import ExperimentRun, FinalInfo
from scientist.stats import difference_interval, number

_DIGIT_WORDS = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"]
PREFIX = "res"
CI_LEVEL = 95  # percent
MAX_TABLE_METRICS = 4


def macro_stem(text: str) -> str:
    """`top1_acc` -> `TopOneAcc`: letters only (digits spelled out), CamelCase."""
    spelled = re.sub(r"\d", lambda m: f" {_DIGIT_WORDS[int(m.group())]} ", text)
    words = re.split(r"[^A-Za-z]+", spelled)
    return "".join(word[:1].upper() + word[1:] for word in words if word) or "X"


def run_label(index: int) -> str:
    """The macro infix of an idea's run (the baseline's is `Baseline`)."""
    return f"Run{macro_stem(str(index))}"


def format_number(value: float, *, signed: bool = False) -> str:
    """Three significant decimals for small values, fewer for large ones."""
    if not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    decimals = 3 if magnitude < 10 else 2 if magnitude < 1000 else 1
    text = number(value, f"+.{decimals}f" if signed else f".{decimals}f")
    return text.replace("-", "$-$")


@dataclass
class Evidence:
    """Macros (name without backslash -> LaTeX value) and per-run summaries."""

    metric: str
    goal: str
    macros: dict[str, str] = field(default_factory=dict)
    metric_of: dict[str, str] = field(default_factory=dict)
    """The metric a macro reports on (a mean, std or delta of one run); counts, seeds,
    runtimes and the best run's summary belong to no single metric."""
    baseline: ExperimentRun | None = None
    runs: list[ExperimentRun] = field(default_factory=list)
    best: ExperimentRun | None = None
    comparison: Comparison | None = None

    def ref(self, name: str) -> str:
        """The LaTeX that prints macro `name` (which must exist)."""
        if name not in self.macros:
            raise KeyError(f"no evidence macro {name}")
        return f"\\{name}{{}}"

    def has(self, name: str) -> bool:
        return name in self.macros

    def metric_names(self) -> list[str]:
        names: list[str] = []
        for run in [self.baseline, *self.runs] if self.baseline else self.runs:
            for key in run.final_info.metrics if run.final_info else {}:
                if key not in names:
                    names.append(key)
        return names

    def table_metrics(self) -> list[str]:
        """The metrics of the results table: the primary one first, at most
        `MAX_TABLE_METRICS`."""
        names = self.metric_names()
        metrics = [self.metric] if self.metric in names else []
        return [*metrics, *(m for m in names if m != self.metric)][:MAX_TABLE_METRICS]

    def citable(self, metrics: Iterable[str]) -> dict[str, str]:
        """The macros a text about `metrics` may cite: those of these metrics and those of
        no single metric."""
        wanted = set(metrics)
        return {
            name: value
            for name, value in self.macros.items()
            if name not in self.metric_of or self.metric_of[name] in wanted
        }

    def results_tex(self) -> str:
        lines = ["% Generated from the runs' final_info.json files; do not edit by hand."]
        lines += [f"\\newcommand{{\\{name}}}{{{value}}}" for name, value in self.macros.items()]
        return "\n".join(lines) + "\n"

    def add(self, name: str, value: str, metric: str | None = None) -> None:
        self.macros[name] = value
        if metric is not None:
            self.metric_of[name] = metric


def macro_values(macros: dict[str, str]) -> list[float]:
    """The numeric values behind `macros` (for the verifier)."""
    numbers: list[float] = []
    for value in macros.values():
        cleaned = value.replace("$-$", "-").replace("+", "")
        try:
            numbers.append(float(cleaned))
        except ValueError:
            continue
    return numbers


def _add_metric(evidence: Evidence, label: str, name: str, info: FinalInfo) -> None:
    summary = info.metrics[name]
    stem = f"{PREFIX}{label}{macro_stem(name)}"
    evidence.add(f"{stem}Mean", format_number(summary.mean), name)
    evidence.add(f"{stem}Std", format_number(summary.std), name)


def build_evidence(
    metric: str,
    goal: Goal,
    baseline: ExperimentRun | None,
    runs: list[ExperimentRun],
    *,
    deterministic: bool = False,
) -> Evidence:
    """Macros for the baseline and every run that produced a `final_info.json`, and the
    comparison of the best run with the baseline (its interval as macros too)."""
    measured = [run for run in runs if run.final_info is not None]
    base_info = baseline.final_info if baseline else None
    evidence = Evidence(metric=metric, goal=goal, runs=measured)
    evidence.baseline = baseline if base_info is not None else None
    macros = evidence.macros
    macros[f"{PREFIX}NumRuns"] = str(len(measured))
    macros[f"{PREFIX}NumFailedRuns"] = str(len(runs) - len(measured))
    if base_info is not None:
        macros[f"{PREFIX}BaselineNumSeeds"] = str(len(base_info.seeds))
        for name in base_info.metrics:
            _add_metric(evidence, "Baseline", name, base_info)
    for run in measured:
        info = run.final_info
        assert info is not None
        label = run_label(run.index)
        macros[f"{PREFIX}{label}Index"] = str(run.index)
        macros[f"{PREFIX}{label}NumSeeds"] = str(len(info.seeds))
        macros[f"{PREFIX}{label}RuntimeMinutes"] = format_number(info.runtime_s / 60)
        for name in info.metrics:
            _add_metric(evidence, label, name, info)
            if base_info is None or name not in base_info.metrics:
                continue
            before = base_info.metrics[name].mean
            delta = info.metrics[name].mean - before
            stem = f"{PREFIX}{label}{macro_stem(name)}"
            evidence.add(f"{stem}Delta", format_number(delta, signed=True), name)
            if before != 0:
                percent = format_number(100 * delta / abs(before), signed=True)
                evidence.add(f"{stem}DeltaPct", percent, name)
    scored = [run for run in measured if metric in run.final_info.metrics]  # type: ignore[union-attr]
    if scored:
        sign = 1 if goal == "maximize" else -1
        best = max(scored, key=lambda run: sign * (run.metric(metric) or 0.0))
        evidence.best = best
        stem = f"{PREFIX}{run_label(best.index)}{macro_stem(metric)}"
        macros[f"{PREFIX}BestIndex"] = str(best.index)
        macros[f"{PREFIX}BestMean"] = macros[f"{stem}Mean"]
        macros[f"{PREFIX}BestStd"] = macros[f"{stem}Std"]
        macros[f"{PREFIX}BestNumSeeds"] = macros[f"{PREFIX}{run_label(best.index)}NumSeeds"]
        if f"{stem}Delta" in macros:
            macros[f"{PREFIX}BestDelta"] = macros[f"{stem}Delta"]
            if f"{stem}DeltaPct" in macros:
                macros[f"{PREFIX}BestDeltaPct"] = macros[f"{stem}DeltaPct"]
    evidence.comparison = compare(
        measured, evidence.baseline, metric, goal, deterministic=deterministic
    )
    _add_interval(evidence)
    return evidence


def _add_interval(evidence: Evidence) -> None:
    """The interval on the best run minus the baseline (signed as the Delta macros): paired
    over shared seeds, else Welch's (`scientist.stats.difference_interval`)."""
    best, baseline = evidence.best, evidence.baseline
    if evidence.comparison is None or best is None or baseline is None:
        return
    assert best.final_info is not None and baseline.final_info is not None
    interval, _ = difference_interval(
        best.final_info.metrics[evidence.metric].values,
        best.final_info.seeds,
        baseline.final_info.metrics[evidence.metric].values,
        baseline.final_info.seeds,
        level=CI_LEVEL / 100,
    )
    if interval is not None:
        evidence.macros[f"{PREFIX}CiLevel"] = str(CI_LEVEL)
        evidence.macros[f"{PREFIX}BestCiLow"] = format_number(interval[0], signed=True)
        evidence.macros[f"{PREFIX}BestCiHigh"] = format_number(interval[1], signed=True)
