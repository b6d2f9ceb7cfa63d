"""The campaign's plots as SVG: the primary metric per idea over time, review score over
generations, model spend over time.

Figures are made with matplotlib's object API (no pyplot state); one lock serialises the
style context, which is process-wide, so the threaded server may draw from any thread. Each
plot is drawn once per distinct data (a cache keyed by the points it shows)."""

from __future__ import annotations

import functools
import io
import statistics
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scientist.models import ArchiveEntry, LedgerEntry

SIZE = (6.0, 3.2)
STYLE = {"svg.fonttype": "none", "svg.hashsalt": "scientist-view", "font.size": 9}
_STYLE_LOCK = threading.Lock()


@contextmanager
def _figure() -> Iterator[tuple[Figure, Axes]]:
    with _STYLE_LOCK, rc_context(STYLE):
        figure = Figure(figsize=SIZE)
        yield figure, figure.subplots()


def metric_over_time(
    entries: list[ArchiveEntry], metric: str, goal: str, baseline: float | None
) -> bytes:
    """Each measured idea's metric (its mean, with the 95 % interval of its gain over the
    baseline carried onto the metric) at the time of its latest record, in hours since the
    first; the baseline as a line."""
    points = tuple(
        sorted(
            (e.updated, e.metric, *_metric_errors(e, goal))
            for e in entries
            if e.metric is not None and e.status in ("done", "no_effect")
        )
    )
    return _metric_plot(points, metric, baseline)


def _metric_errors(entry: ArchiveEntry, goal: str) -> tuple[float, float]:
    """How far the metric's interval reaches below and above its mean (0 without one); the
    gain is signed so that positive is better, so a minimized metric's interval flips (an
    interval recorded that does not hold its mean, as rounding can leave one, reaches 0)."""
    gain = entry.gain
    if gain is None or gain.low is None or gain.high is None:
        return 0.0, 0.0
    below, above = max(0.0, gain.mean - gain.low), max(0.0, gain.high - gain.mean)
    return (above, below) if goal == "minimize" else (below, above)


def scores_by_generation(entries: list[ArchiveEntry]) -> bytes:
    """Each reviewed idea's score at its generation, and the mean per generation."""
    points = ((e.idea.generation, e.review_score) for e in entries if e.review_score is not None)
    return _scores_plot(tuple(sorted(points)))


def cost_over_time(ledger: list[LedgerEntry]) -> bytes:
    """Cumulative model spend (USD) against hours since the first call, in total and per
    model."""
    return _cost_plot(tuple((e.time, e.model, e.usage.cost_usd) for e in ledger))


@functools.lru_cache(maxsize=32)
def _metric_plot(
    points: tuple[tuple[str, float, float, float], ...], metric: str, baseline: float | None
) -> bytes:
    with _figure() as (figure, axes):
        if points:
            start = datetime.fromisoformat(points[0][0])
            hours = [(datetime.fromisoformat(p[0]) - start).total_seconds() / 3600 for p in points]
            errors = [[p[2] for p in points], [p[3] for p in points]]
            axes.errorbar(
                hours,
                [p[1] for p in points],
                yerr=errors,
                fmt="o",
                color="#3b528b",
                ecolor="#8da0cb",
                markersize=4,
                capsize=2,
                label="idea (mean, 95 % interval)",
            )
        else:
            _note(axes, "no idea has been measured yet")
        if baseline is not None:
            axes.axhline(baseline, color="#e45756", linestyle="--", label="baseline")
        if points or baseline is not None:
            axes.legend(loc="best", frameon=False)
        axes.set_xlabel("hours since the first measured idea (each at its latest record)")
        axes.set_ylabel(metric)
        return _svg(figure)


@functools.lru_cache(maxsize=32)
def _scores_plot(points: tuple[tuple[int, float], ...]) -> bytes:
    with _figure() as (figure, axes):
        if points:
            generations = [generation for generation, _ in points]
            scores = [score for _, score in points]
            axes.scatter(generations, scores, color="#3b528b", alpha=0.6, s=18, label="idea")
            by_generation: dict[int, list[float]] = defaultdict(list)
            for generation, score in zip(generations, scores, strict=True):
                by_generation[generation].append(score)
            ticks = sorted(by_generation)
            means = [statistics.fmean(by_generation[g]) for g in ticks]
            axes.plot(ticks, means, color="#e45756", marker="o", label="mean")
            axes.xaxis.get_major_locator().set_params(integer=True)
            axes.legend(loc="best", frameon=False)
        else:
            _note(axes, "no idea has been reviewed yet")
        axes.set_xlabel("generation")
        axes.set_ylabel("review score (1-10)")
        axes.set_ylim(0.5, 10.5)
        return _svg(figure)


@functools.lru_cache(maxsize=32)
def _cost_plot(calls: tuple[tuple[str, str, float], ...]) -> bytes:
    with _figure() as (figure, axes):
        if calls:
            ordered = sorted(calls)
            start = datetime.fromisoformat(ordered[0][0])
            series: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
            totals: dict[str, float] = defaultdict(float)
            for time, model, cost in ordered:
                hours = (datetime.fromisoformat(time) - start).total_seconds() / 3600
                for line in ("total", model):
                    totals[line] += cost
                    series[line][0].append(hours)
                    series[line][1].append(totals[line])
            for line, (hours, spent) in series.items():
                width = 2 if line == "total" else 1
                axes.step(hours, spent, where="post", label=line, linewidth=width)
            axes.legend(loc="upper left", frameon=False)
        else:
            _note(axes, "no model calls (offline campaign): $0.00")
        axes.set_xlabel("hours since the first model call")
        axes.set_ylabel("spent (USD)")
        return _svg(figure)


def _note(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color="#555555")


def _svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
