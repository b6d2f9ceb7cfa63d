"""The comparative sentence a paper may print, derived from the comparison alone.

The verdict comes from `Comparison.verdict` (n, spread, the paired or Welch interval when
both sides have n >= 2, exactness for a deterministic pack); every number is an evidence
macro. A claim the numbers cannot support is never printed: one run gives "a single run; no
spread".
The same sentence is handed to the model writer as the strongest claim it may make.
`overclaims` finds the phrases of a section that claim more; the idea's hypothesis, where a
section states it as given, is what the paper tests and no claim.
"""

from __future__ import annotations

from scientist.comparison import gain_claims
from scientist.writeup.evidence import Evidence


def _ref(evidence: Evidence, name: str) -> str:
    return evidence.ref(name) if evidence.has(name) else "--"


def _interval(evidence: Evidence) -> str:
    seeds = (_ref(evidence, "resBestNumSeeds"), _ref(evidence, "resBaselineNumSeeds"))
    bounds = (_ref(evidence, "resBestCiLow"), _ref(evidence, "resBestCiHigh"))
    paired = evidence.comparison is not None and evidence.comparison.test == "paired"
    test = "paired" if paired else "Welch"
    return (
        f"the {_ref(evidence, 'resCiLevel')}\\% {test} interval on the difference (idea minus "
        f"baseline, {seeds[0]} against {seeds[1]} seeds) is [{bounds[0]}, {bounds[1]}]"
    )


def claim_sentence(evidence: Evidence) -> str:
    """One or two sentences stating exactly what the comparison supports."""
    if evidence.best is None:
        return "None of the idea's runs produced a measurement of the metric."
    comparison = evidence.comparison
    if comparison is None:
        return "No baseline measurement was available, so no comparison is made."
    delta = _ref(evidence, "resBestDelta")
    verdict = comparison.verdict
    if verdict == "tie":
        return "The idea's best run has the same mean as the baseline: no difference was measured."
    if comparison.exact:
        exact = "The pack is deterministic, so one run measures each configuration exactly"
        if verdict == "improved":
            return f"{exact}: the idea improved on the baseline (a difference of {delta})."
        return f"{exact}: the idea is worse than the baseline (a difference of {delta})."
    if verdict == "improved":
        return f"The idea improved on the baseline: {_interval(evidence)}, which excludes zero."
    if verdict == "worse":
        return f"The idea is worse than the baseline: {_interval(evidence)}, which excludes zero."
    if verdict == "within_noise":
        return (
            f"The difference from the baseline ({delta}) is within seed noise: "
            f"{_interval(evidence)}, which includes zero."
        )
    if verdict == "no_spread":
        return (
            f"The difference from the baseline is {delta}, but every seed gave the same value, "
            "so the seeds did not vary the run and no claim of a difference is made."
        )
    return (
        f"The difference from the baseline is {delta}, from a single run; no spread, so no "
        "claim of a difference is made."
    )


def overclaims(text: str, evidence: Evidence, *, hypothesis: str = "") -> list[str]:
    """Phrases in `text` that claim a gain the comparison does not support (none when it
    does); a phrase under a negation ("not significant") is no claim, nor is a phrase inside
    the idea's `hypothesis` where `text` states it word for word."""
    comparison = evidence.comparison
    if comparison is not None and comparison.verdict == "improved":
        return []
    return sorted({phrase for phrase, _ in gain_claims(text, hypothesis=hypothesis)})
