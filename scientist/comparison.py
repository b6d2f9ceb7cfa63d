"""The best run of an idea against the baseline: the one comparison papers and reviews use;
and `measure_effect`, the archive's record of one run against another.

What may be claimed follows from it alone (`Comparison.verdict`): with n >= 2 seeds on both
sides, the 95 % interval on the effect decides (paired over shared seeds, else Welch's); a
deterministic pack (declared in its manifest, and with no spread in its values) is measured
exactly by one run; otherwise a
single run has no spread and supports no claim of a difference, and neither do seeds of a
stochastic pack whose values are identical on both sides (the seeds did not vary the run).
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pylatex.utils import escape_latex

from scientist.models import Effect, ExperimentRun
from scientist.stats import difference_interval, mean_std

Goal = Literal["maximize", "minimize"]
ClaimOutcome = Literal["supported", "unsupported", "contradicted"]

_GAIN = re.compile(
    r"\b(significant(?:ly)?|outperform(?:s|ed|ing)?|improve(?:s|d)?\s+(?:on|over|upon)|"
    r"better\s+than|beats?|superior\s+to|surpass(?:es|ed)?)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:not|no|never|nor|without|neither)\b[\w\s-]{0,20}$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
Verdict = Literal["improved", "worse", "tie", "within_noise", "single_run", "no_spread"]


class Comparison(BaseModel):
    """The best run against the baseline; `effect` is signed so that positive means better."""

    model_config = ConfigDict(frozen=True)

    run_index: int
    mean: float
    std: float
    n: int
    baseline_mean: float
    baseline_std: float
    baseline_n: int
    effect: float
    relative: float | None
    ci_low: float | None
    ci_high: float | None
    test: Literal["paired", "welch"] = "welch"
    deterministic: bool = False

    @property
    def exact(self) -> bool:
        """A deterministic pack whose values show no spread: one run measures exactly."""
        return self.deterministic and self._spreadless

    @property
    def no_spread(self) -> bool:
        """Several seeds of a stochastic pack, all identical on both sides: a zero-width
        interval that measures nothing about noise."""
        return not self.deterministic and self._spreadless and self.ci_low is not None

    @property
    def _spreadless(self) -> bool:
        """No spread on either side, up to float rounding of equal values."""
        scale = max(1.0, abs(self.mean), abs(self.baseline_mean))
        return max(self.std, self.baseline_std) <= 1e-9 * scale

    @property
    def tie(self) -> bool:
        return math.isclose(self.mean, self.baseline_mean, rel_tol=1e-9, abs_tol=1e-12)

    @property
    def significant(self) -> bool:
        """Better beyond doubt: exactly (deterministic) or by an interval above zero."""
        if self.exact:
            return self.effect > 0 and not self.tie
        return not self.no_spread and self.ci_low is not None and self.ci_low > 0

    @property
    def significantly_worse(self) -> bool:
        if self.exact:
            return self.effect < 0 and not self.tie
        return not self.no_spread and self.ci_high is not None and self.ci_high < 0

    @property
    def verdict(self) -> Verdict:
        """The strongest statement the numbers support."""
        if self.tie:
            return "tie"
        if self.significant:
            return "improved"
        if self.significantly_worse:
            return "worse"
        if self.no_spread:
            return "no_spread"
        return "single_run" if self.ci_low is None else "within_noise"


def compare(
    runs: list[ExperimentRun],
    baseline: ExperimentRun | None,
    metric: str,
    goal: Goal,
    *,
    deterministic: bool = False,
) -> Comparison | None:
    """The finished run with the best mean `metric`, against the baseline's per-seed values."""
    if baseline is None or baseline.final_info is None:
        return None
    base = baseline.final_info.metrics.get(metric)
    scored = [
        (run, run.final_info.metrics[metric].values)
        for run in runs
        if run.result.ok and run.final_info is not None and metric in run.final_info.metrics
    ]
    if base is None or not scored:
        return None
    sign = 1.0 if goal == "maximize" else -1.0
    best, values = max(scored, key=lambda pair: sign * mean_std(pair[1])[0])
    (mean, std), (base_mean, base_std) = mean_std(values), mean_std(base.values)
    effect = sign * (mean - base_mean)
    assert best.final_info is not None
    interval, test = difference_interval(
        values, best.final_info.seeds, base.values, baseline.final_info.seeds
    )
    low, high = (None, None) if interval is None else sorted(sign * bound for bound in interval)
    return Comparison(
        run_index=best.index,
        mean=mean,
        std=std,
        n=len(values),
        baseline_mean=base_mean,
        baseline_std=base_std,
        baseline_n=len(base.values),
        effect=effect,
        relative=effect / abs(base_mean) if base_mean else None,
        ci_low=low,
        ci_high=high,
        test=test,
        deterministic=deterministic,
    )


def _seeded_values(run: ExperimentRun, metric: str) -> tuple[list[float], list[int]] | None:
    info = run.final_info
    if not run.result.ok or info is None or metric not in info.metrics:
        return None
    return info.metrics[metric].values, info.seeds


def same_values(run: ExperimentRun, other: ExperimentRun, metric: str) -> bool:
    """Whether two runs measured `metric` identically, seed by seed (a change without effect)."""
    first, second = _seeded_values(run, metric), _seeded_values(other, metric)
    return first is not None and first == second


def measure_effect(
    run: ExperimentRun,
    control: ExperimentRun,
    metric: str,
    goal: Goal,
    *,
    vs: str,
    deterministic: bool = False,
) -> Effect | None:
    """`run` against `control` on `metric`, signed so that positive is better: a paired
    interval when both ran the same seeds, Welch's otherwise, exact for a deterministic pack
    measured once a side. None when either side has no value."""
    treated, base = _seeded_values(run, metric), _seeded_values(control, metric)
    if treated is None or base is None:
        return None
    (values, seeds), (base_values, base_seeds) = treated, base
    sign = 1.0 if goal == "maximize" else -1.0
    mean = sign * (mean_std(values)[0] - mean_std(base_values)[0])
    n = [len(values), len(base_values)]
    if deterministic and len(values) == len(base_values) == 1:
        return Effect(vs=vs, metric=metric, mean=mean, low=mean, high=mean, n=n, test="exact")
    interval, test = difference_interval(values, seeds, base_values, base_seeds)
    if interval is None:
        return Effect(vs=vs, metric=metric, mean=mean, n=n, test="none")
    low, high = sorted(sign * bound for bound in interval)
    return Effect(vs=vs, metric=metric, mean=mean, low=low, high=high, n=n, test=test)


def gain_claims(text: str, *, hypothesis: str = "") -> list[tuple[str, str]]:
    """Each phrase of `text` that claims a gain ("outperforms", "significantly", ...), with
    the sentence it stands in. A phrase under a negation ("not significant") is no claim,
    nor is a phrase inside the idea's `hypothesis` where `text` states it word for word:
    that is what the paper tests."""
    statement = _statement(hypothesis)
    parts = statement.split(text) if statement else [text]
    claims = []
    for sentence in (s for part in parts for s in _SENTENCE_END.split(part)):
        for match in _GAIN.finditer(sentence):
            if not _NEGATION.search(sentence[max(0, match.start() - 40) : match.start()]):
                claims.append((match.group(0).lower(), " ".join(sentence.split())))
    return claims


def _statement(hypothesis: str) -> re.Pattern[str] | None:
    """The hypothesis as a text states it: its words in order, as plain text or escaped for
    LaTeX, in any case and line breaking, with or without its final full stop (None for an
    empty hypothesis)."""
    text = hypothesis.strip().rstrip(".")
    if not text:
        return None
    forms = dict.fromkeys(
        r"\s+".join(map(re.escape, form.split())) for form in (text, escape_latex(text))
    )
    return re.compile("|".join(forms), re.IGNORECASE)


def claim_outcome(comparison: Comparison | None) -> ClaimOutcome:
    """What the comparison makes of a claimed gain: supported by an improvement, contradicted
    by a tie or a measured loss, unsupported otherwise (noise, one run, no spread)."""
    if comparison is None:
        return "unsupported"
    verdict = comparison.verdict
    if verdict == "improved":
        return "supported"
    return "contradicted" if verdict in ("tie", "worse") else "unsupported"
